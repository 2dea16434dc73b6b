/**
 * PTY mode: the child runs on a pseudo-terminal (its controlling terminal), authy's stdin is
 * put in raw mode and copied to it, and its output is masked on the way to stdout. A terminal
 * has one output, so the child's stderr arrives on stdout too.
 *
 * node-pty is an optional native dependency, loaded only when a PTY is asked for; the rest of
 * the run machinery works, and is tested, without it (through the small interface below).
 */
import { createRequire } from "node:module";
import type { Readable } from "node:stream";
import type { WriteStream } from "node:tty";
import type { Launch, Started } from "./launch.js";
import type { PtyLoader, PtyModule } from "./pty-module.js";
import { OutputSink } from "./output.js";
import { killGroup, signalName } from "./process-group.js";

export type { PtyLoader, PtyModule, PtyProcess, PtySpawnOptions } from "./pty-module.js";

/**
 * Loads node-pty with require(): it is CommonJS, and the bundled CLI runs in a node:vm script
 * whose import() has no loader. A failure names what failed (not installed, or its compiled
 * addon did not load, and why).
 */
export const loadNodePty: PtyLoader = () => {
  let mod: Partial<PtyModule>;
  try {
    mod = createRequire(import.meta.url)("node-pty") as Partial<PtyModule>;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const missing = err.code === "MODULE_NOT_FOUND" && /['"]node-pty['"]/.test(err.message);
    throw new Error(missing ? "node-pty is not installed" : `node-pty did not load: ${firstLine(err.message)}`);
  }
  if (typeof mod.spawn !== "function") throw new Error("node-pty did not load: it has no spawn()");
  return mod as PtyModule;
};

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? text;
}

export function startOnPty(pty: PtyModule, { path, options, cwd, stdout }: Launch): Started {
  const masker = options.masker ?? null;
  const screen = stdout as Partial<WriteStream>;
  const term = pty.spawn(path, [...options.args], {
    name: options.env.TERM ?? "xterm-256color",
    cols: screen.columns ?? 80,
    rows: screen.rows ?? 24,
    cwd,
    env: options.env,
    encoding: null,
  });
  const pid = term.pid;
  // Nothing reads a PTY's output but us: when our reader goes away, hang up on the child.
  const sink = new OutputSink(stdout, masker?.session() ?? null, () => killGroup(pid, "SIGHUP"));
  term.onData((data) => {
    const chunk = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    if (!sink.write(chunk, () => term.resume())) term.pause();
  });
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    term.onExit(({ exitCode, signal }) => {
      running = false;
      const name = signal ? signalName(signal) : null;
      resolve(name ? { code: null, signal: name } : { code: signal ? 128 + signal : exitCode, signal: null });
    }),
  );

  const stdinOption = options.stdin ?? "inherit";
  const input: Readable | null = stdinOption === "ignore" ? null : stdinOption === "inherit" ? process.stdin : stdinOption;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- adds the optional TTY members a plain Readable lacks (the rule misses them)
  const tty = input as (Readable & { isTTY?: boolean; isRaw?: boolean; setRawMode?(raw: boolean): void }) | null;
  const wasRaw = tty?.isRaw ?? false;
  const raw = tty?.isTTY === true && typeof tty.setRawMode === "function";
  if (raw) tty.setRawMode!(true); // keys go to the child's terminal as typed, Ctrl-C included
  const onInput = (data: Buffer | string) => running && term.write(data);
  const onInputEnd = () => running && term.write("\x04"); // end of input: the terminal's EOF character
  input?.on("data", onInput);
  input?.once("end", onInputEnd);
  const onResize = () => term.resize(screen.columns ?? 80, screen.rows ?? 24);
  if (screen.isTTY) stdout.on("resize", onResize);

  return {
    pid,
    done: exited.then(async (status) => {
      await sink.end();
      return status;
    }),
    stdoutClosed: () => sink.closed,
    restore: () => {
      input?.off("data", onInput);
      input?.off("end", onInputEnd);
      if (raw) tty.setRawMode!(wasRaw);
      input?.pause();
      stdout.off("resize", onResize);
    },
  };
}
