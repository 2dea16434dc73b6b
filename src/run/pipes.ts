/**
 * Pipe mode: the child's stdout and stderr are pipes that authy reads, masks and writes on;
 * or, with no masking, authy's own descriptors, handed over.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { AuthyError } from "../errors.js";
import type { Launch, Started } from "./launch.js";
import { OutputSink } from "./output.js";
import { killGroup } from "./process-group.js";

export async function startOnPipes({ path, options, cwd, stdout, stderr, diagnose }: Launch): Promise<Started> {
  const masker = options.masker ?? null;
  const stdin = options.stdin ?? "inherit";
  // Without masking, authy's own descriptors are handed over and it stays out of the way.
  const direct = (dest: Writable) => masker === null && (dest === process.stdout || dest === process.stderr);
  let child: ChildProcess;
  try {
    child = spawn(path, options.args, {
      argv0: options.command,
      cwd,
      env: options.env,
      detached: true,
      stdio: [typeof stdin === "string" ? stdin : "pipe", direct(stdout) ? "inherit" : "pipe", direct(stderr) ? "inherit" : "pipe"],
    });
  } catch (e) {
    throw spawnError(options.command, e);
  }
  if (child.pid === undefined) {
    // The only errors Node reports asynchronously: the file vanished or is not executable
    // after all, or its interpreter (#!) is missing.
    return new Promise((resolve) =>
      child.once("error", (e: NodeJS.ErrnoException) => {
        const missing = e.code === "ENOENT";
        if (missing || e.code === "EACCES") {
          resolve({
            failure: missing ? "not-found" : "not-executable",
            exitCode: missing ? 127 : 126,
            message: `${options.command}: ${missing ? "cannot execute: required file not found" : "permission denied"}`,
          });
        } else {
          resolve({ failure: "not-executable", exitCode: 126, message: `${options.command}: ${e.message}` });
        }
      }),
    );
  }
  const pid = child.pid;
  child.on("error", () => {}); // once started, errors could only come from child.kill(), unused
  if (typeof stdin !== "string" && child.stdin) {
    child.stdin.on("error", () => {}); // the child may exit without reading all of it
    stdin.pipe(child.stdin);
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const sinks: OutputSink[] = [];
  const outputs: Promise<void>[] = [];
  for (const [source, dest] of [
    [child.stdout, stdout],
    [child.stderr, stderr],
  ] as const) {
    if (source === null) continue;
    const sink = new OutputSink(dest, masker?.session() ?? null, (e) => {
      // The reader is gone. Writing to it directly, the child would get SIGPIPE; it writes to
      // a socket pair of ours instead, whose closing it would see as ECONNRESET (and complain
      // about). So: SIGPIPE first, as the kernel would have sent it, then close our end.
      killGroup(pid, "SIGPIPE");
      source.destroy();
      if (e.code !== "EPIPE") diagnose(`cannot write the command's output: ${e.message}`);
    });
    sinks.push(sink);
    outputs.push(pump(source, sink));
  }
  const stdoutSink = child.stdout ? sinks[0] : undefined;
  return {
    pid,
    done: Promise.all([exited, ...outputs]).then(([status]) => status),
    stdoutClosed: () => stdoutSink?.closed ?? false,
    restore: () => {
      if (typeof stdin !== "string" && child.stdin) stdin.unpipe(child.stdin);
    },
  };
}

function spawnError(command: string, e: unknown): AuthyError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "E2BIG") {
    return new AuthyError("INVALID_INPUT", `cannot start ${command}: its arguments and environment are too large`, {
      hint: "pass large values through a file instead of the environment",
    });
  }
  if (code === "EAGAIN" || code === "ENOMEM" || code === "EMFILE" || code === "ENFILE") {
    return new AuthyError("UNAVAILABLE", `cannot start ${command}: the system is out of resources (${code})`, { cause: e });
  }
  return new AuthyError("INTERNAL", `cannot start ${command}: ${(e as Error).message}`, { cause: e });
}

/** Copies a child's output pipe into a sink, pausing the pipe while the sink is full. */
function pump(source: Readable, sink: OutputSink): Promise<void> {
  return new Promise((resolve) => {
    source.on("data", (chunk: Buffer) => {
      if (!sink.write(chunk, () => source.resume())) source.pause();
    });
    source.on("error", () => {}); // a read error ends the output like EOF
    source.once("close", () => void sink.end().then(resolve));
  });
}

