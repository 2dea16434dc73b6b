import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, execFile, execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { promisify } from "node:util";
import { buildChildEnv } from "./env.js";
import { createMasker, MASK_PLACEHOLDER as P } from "./masker.js";
import { runChild, type RunChildOptions } from "./child.js";
import { loadNodePty, type PtyModule, type PtySpawnOptions } from "./pty.js";
import { WATCHDOG_GRACE_MS } from "./watchdog.js";
import { compileRunModule, HARNESS } from "./run.test-helpers.js";

const nodePty = ((): PtyModule | null => {
  try {
    return loadNodePty() as PtyModule; // an optional dependency
  } catch {
    return null;
  }
})();

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "authy-child-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function collector() {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

/** Runs a command with output collected in memory. */
async function run(command: string, args: string[], extra: Partial<RunChildOptions> = {}) {
  const out = collector();
  const err = collector();
  const diagnostics: string[] = [];
  const result = await runChild({
    command,
    args,
    env: buildChildEnv(process.env, {}),
    stdin: "ignore",
    stdout: out.stream,
    stderr: err.stream,
    onDiagnostic: (m) => diagnostics.push(m),
    ...extra,
  });
  return { result, stdout: out.text(), stderr: err.text(), diagnostics };
}

/** A node child that writes `data` in pieces of the given sizes, pausing between them. */
function slowWriter(data: Buffer, sizes: number[], pauseMs: number): [string, string[]] {
  const script = `
    const data = Buffer.from(process.argv[1], "base64");
    const sizes = JSON.parse(process.argv[2]);
    let at = 0, i = 0;
    const next = () => {
      if (at >= data.length) return;
      const n = Math.max(1, sizes[i++ % sizes.length]);
      process.stdout.write(data.subarray(at, at + n), () => setTimeout(next, ${pauseMs}));
      at += n;
    };
    next();`;
  return [process.execPath, ["-e", script, data.toString("base64"), JSON.stringify(sizes)]];
}

function isGone(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8")); // a zombie is dead
  } catch {
    return true;
  }
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

describe("runChild: exit status", () => {
  for (const code of [0, 1, 2, 255]) {
    it(`mirrors exit code ${code}`, async () => {
      const { result } = await run("sh", ["-c", `exit ${code}`]);
      expect(result).toMatchObject({ exitCode: code, signal: null, stdoutClosed: false });
      expect(result.durationMs).toBeGreaterThanOrEqual(0);
    });
  }

  it("returns 128+N for a child killed by signal N", async () => {
    expect((await run("sh", ["-c", "kill -TERM $$"])).result).toMatchObject({ exitCode: 143, signal: "SIGTERM" });
    expect((await run("sh", ["-c", "kill -KILL $$"])).result).toMatchObject({ exitCode: 137, signal: "SIGKILL" });
  });

  it("returns 127 with a one-line message for a command not found", async () => {
    const { result, diagnostics } = await run("authy-no-such-command", []);
    expect(result).toMatchObject({ exitCode: 127, failure: "not-found" });
    expect(diagnostics).toEqual(["authy-no-such-command: command not found"]);
    expect((await run("./no/such/file", [])).result.exitCode).toBe(127);
  });

  it("returns 126 for a file that is not executable, or a directory", async () => {
    const file = join(dir, "not-executable.sh");
    writeFileSync(file, "#!/bin/sh\necho hi\n");
    chmodSync(file, 0o644);
    const { result, diagnostics } = await run(file, []);
    expect(result).toMatchObject({ exitCode: 126, failure: "not-executable" });
    expect(diagnostics).toEqual([`${file}: permission denied`]);
    expect((await run(dir, [])).result.exitCode).toBe(126);
  });

  it("returns 127 for a script whose interpreter is missing", async () => {
    const file = join(dir, "bad-interpreter.sh");
    writeFileSync(file, "#!/no/such/interpreter\n");
    chmodSync(file, 0o755);
    const { result, diagnostics } = await run(file, []);
    expect(result.exitCode).toBe(127);
    expect(diagnostics[0]).toContain("required file not found");
  });

  it("finds commands on the child's PATH and keeps argv[0] as typed", async () => {
    const { stdout } = await run("sh", ["-c", 'echo "$0"']);
    expect(stdout).toBe("sh\n");
  });

  it("tells onStart the pid, and kills the child if onStart throws", async () => {
    let pid = 0;
    await expect(
      run("sleep", ["30"], {
        onStart: (p) => {
          pid = p;
          throw new Error("audit failed");
        },
      }),
    ).rejects.toThrow("audit failed");
    expect(pid).toBeGreaterThan(0);
    expect(isGone(pid)).toBe(true);
  });
});

describe("runChild: environment", () => {
  it("gives the child the secrets and none of authy's credentials", async () => {
    const parent = { PATH: process.env.PATH, HOME: "/home/x", AUTHY_SESSION: "s", AUTHY_PASSPHRASE: "p", AUTHY_IDENTITY: "i", AUTHY_HOME: "/h" };
    const env = buildChildEnv(parent, { OPENAI_API_KEY: "sk-test-123456" });
    const { stdout } = await run("env", [], { env });
    const seen = Object.fromEntries(
      stdout
        .trim()
        .split("\n")
        .map((line) => line.split(/=(.*)/s).slice(0, 2)),
    );
    expect(seen.OPENAI_API_KEY).toBe("sk-test-123456");
    expect(seen.HOME).toBe("/home/x");
    expect(Object.keys(seen).filter((name) => name.startsWith("AUTHY_"))).toEqual([]);
  });

  it.runIf(existsSync("/proc/self/cmdline"))("puts no secret in any process's argv", async () => {
    const secret = "argv-canary-7f3a9c";
    const env = buildChildEnv(process.env, { CANARY: secret });
    const list = 'sleep 0.2; for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < "$f" 2>/dev/null; echo; done';
    const { stdout } = await run("sh", ["-c", list], { env });
    // Booleans, so that a failure does not print every command line on the machine.
    expect(stdout.includes("authy-watchdog")).toBe(true); // the watchdog was running, and listed
    expect(stdout.includes(secret)).toBe(false);
  });
});

describe("runChild: masking", () => {
  const secret = "tok_9f8e7d6c5b4a3210";

  it.runIf(existsSync("/proc/self/fd"))("gives the child real pipes for the output it masks, not socket pairs", async () => {
    const masker = createMasker([secret]);
    const { stdout, stderr } = await run("sh", ["-c", "readlink /proc/$$/fd/1; readlink /proc/$$/fd/2 >&2"], { masker });
    expect(stdout).toMatch(/^pipe:\[\d+\]\n$/);
    expect(stderr).toMatch(/^pipe:\[\d+\]\n$/);
  });

  it("masks a secret written byte by byte with pauses, on stdout and stderr", async () => {
    const masker = createMasker([secret]);
    const data = Buffer.from(`before ${secret} after\n`);
    const [cmd, args] = slowWriter(data, [1], 5);
    expect((await run(cmd, args, { masker })).stdout).toBe(`before ${P} after\n`);
    const { stderr } = await run("sh", ["-c", `printf '%s' "x ${secret.slice(0, 7)}" >&2; sleep 0.1; printf '%s y' "${secret.slice(7)}" >&2`], { masker });
    expect(stderr).toBe(`x ${P} y`);
  });

  it("masks every encoded form split at random points with pauses", async () => {
    const masker = createMasker([secret]);
    const forms = [
      secret,
      Buffer.from(secret).toString("hex"),
      Buffer.from(secret).toString("hex").toUpperCase(),
      Buffer.from(`a${secret}`).toString("base64"),
      Buffer.from(`ab${secret}`).toString("base64url"),
      encodeURIComponent(`${secret} `),
      JSON.stringify({ secret }),
    ];
    const data = Buffer.from(forms.map((f) => `[${f}]`).join("\n") + "\n");
    const sizes = Array.from({ length: 16 }, (_, i) => 1 + ((i * 37) % 23));
    const [cmd, args] = slowWriter(data, sizes, 3);
    const { stdout } = await run(cmd, args, { masker });
    expect(stdout).toBe(masker.mask(data).toString());
    expect(stdout.split(P).length - 1).toBe(forms.length);
    expect(stdout).not.toContain(secret.slice(4, 12));
  });

  it("masks a UTF-8 secret written one byte at a time, split inside its characters", async () => {
    const utf8Secret = "pässwörd-€-𝄞-секрет";
    const masker = createMasker([utf8Secret]);
    const [cmd, args] = slowWriter(Buffer.from(`«${utf8Secret}»\n`), [1], 2);
    expect((await run(cmd, args, { masker })).stdout).toBe(`«${P}»\n`);
  });

  it("passes 1 GiB of output through the masker with bounded memory", { timeout: 120_000 }, async () => {
    const masker = createMasker(Array.from({ length: 50 }, (_, i) => `secret-${i}-${"s".repeat(20)}`));
    let bytes = 0;
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        if ((bytes & 0x3ffffff) < chunk.length) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        callback();
      },
    });
    const result = await runChild({
      command: "head",
      args: ["-c", String(1 << 30), "/dev/zero"],
      env: buildChildEnv(process.env, {}),
      stdin: "ignore",
      stdout: sink,
      masker,
    });
    expect(result.exitCode).toBe(0);
    expect(bytes).toBe(1 << 30);
    expect(rssPeak - rssBefore).toBeLessThan(100 * 1024 * 1024);
  });

  it("holds the child back when the reader is slow, instead of buffering its output", async () => {
    let bytes = 0;
    let queuedMax = 0;
    const slow: Writable = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        queuedMax = Math.max(queuedMax, slow.writableLength);
        setImmediate(callback);
      },
    });
    const { result } = await run("head", ["-c", String(32 << 20), "/dev/zero"], { stdout: slow, masker: createMasker([secret]) });
    expect(result.exitCode).toBe(0);
    expect(bytes).toBe(32 << 20);
    expect(queuedMax).toBeLessThan(256 * 1024); // the high-water mark plus a chunk or two
  });

  it("ends cleanly when the reader of stdout goes away: the child gets SIGPIPE", async () => {
    let writes = 0;
    const closed = new Writable({
      write(_chunk, _encoding, callback) {
        writes++;
        callback(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
      },
    });
    const { result, diagnostics } = await run("yes", [], { stdout: closed, masker: createMasker([secret]) });
    expect(result).toMatchObject({ exitCode: 141, signal: "SIGPIPE", stdoutClosed: true });
    expect(writes).toBe(1);
    expect(diagnostics).toEqual([]);
  });

  it("removes the cleanup files once the child has exited", async () => {
    const file = join(dir, "mounted.env");
    writeFileSync(file, "X=1\n");
    const { stdout } = await run("cat", [file], { cleanupFiles: [file] });
    expect(stdout).toBe("X=1\n");
    expect(existsSync(file)).toBe(false);
  });

  it("removes the cleanup files when the command cannot be started", async () => {
    const file = join(dir, "never-used.env");
    writeFileSync(file, "X=1\n");
    expect((await run("authy-no-such-command", [], { cleanupFiles: [file] })).result.exitCode).toBe(127);
    expect(existsSync(file)).toBe(false);
  });
});

describe("runChild: PTY", () => {
  /** A stand-in for node-pty that runs the command on pipes and records what it was asked. */
  function fakePty() {
    const calls = { options: null as PtySpawnOptions | null, resizes: [] as [number, number][], input: "" };
    const module: PtyModule = {
      spawn(file, args, options) {
        calls.options = options;
        const child = spawn(file, args, { env: options.env, cwd: options.cwd, detached: true, stdio: ["pipe", "pipe", "pipe"] });
        return {
          pid: child.pid!,
          onData: (listener) => {
            child.stdout.on("data", listener);
            child.stderr.on("data", listener);
          },
          onExit: (listener) => child.on("close", (code, signal) => listener({ exitCode: code ?? 0, signal: signal ? constants.signals[signal] : undefined })),
          write: (data) => {
            calls.input += String(data);
            child.stdin.write(data);
          },
          resize: (cols, rows) => calls.resizes.push([cols, rows]),
          pause: () => child.stdout.pause(),
          resume: () => child.stdout.resume(),
        };
      },
    };
    return { module, calls };
  }

  function fakeTerminal() {
    const out = collector();
    const screen = Object.assign(out.stream, { isTTY: true, columns: 100, rows: 30 });
    const rawModes: boolean[] = [];
    const keyboard = Object.assign(new PassThrough(), {
      isTTY: true,
      isRaw: false,
      setRawMode(raw: boolean) {
        rawModes.push(raw);
        keyboard.isRaw = raw;
      },
    });
    return { screen, keyboard, rawModes, text: out.text };
  }

  it("masks the terminal's output, forwards input and resizes, sets and restores raw mode", async () => {
    const { module, calls } = fakePty();
    const { screen, keyboard, rawModes, text } = fakeTerminal();
    const secret = "pty-secret-value-42";
    const running = runChild({
      command: "sh",
      args: ["-c", 'echo ready; read line; echo "got $line $S"; kill -TERM $$'],
      env: buildChildEnv(process.env, { S: secret }),
      pty: true,
      loadPty: async () => module,
      masker: createMasker([secret]),
      stdin: keyboard,
      stdout: screen,
    });
    await waitFor(() => text().includes("ready"), 5_000);
    screen.columns = 120;
    screen.emit("resize");
    keyboard.write("hello\n");
    const result = await running;
    expect(result).toMatchObject({ exitCode: 143, signal: "SIGTERM" });
    expect(text()).toBe(`ready\ngot hello ${P}\n`);
    expect(calls.options).toMatchObject({ cols: 100, rows: 30, encoding: null });
    expect(calls.resizes).toEqual([[120, 30]]);
    expect(calls.input).toBe("hello\n");
    expect(rawModes).toEqual([true, false]);
    expect(keyboard.listenerCount("data")).toBe(0);
  });

  it.runIf(nodePty !== null)("runs on a real terminal with node-pty, masked, with its exit status", async () => {
    const secret = "real-pty-secret-0042";
    const masker = createMasker([secret]);
    const env = buildChildEnv(process.env, { S: secret });
    const onTerminal = await run("sh", ["-c", 'echo "x $S y"; tty; printf "%s" "$S" >&2; exit 3'], { pty: true, masker, env });
    expect(onTerminal.diagnostics).toEqual([]);
    expect(onTerminal.result.exitCode).toBe(3);
    // The terminal turns "\n" into "\r\n", and has one output: stderr arrives on stdout.
    expect(onTerminal.stdout).toMatch(new RegExp(`^x ${P} y\\r\\n/dev/pts/\\d+\\r\\n${P}$`));
    expect((await run("sh", ["-c", "kill -TERM $$"], { pty: true })).result).toMatchObject({ exitCode: 143, signal: "SIGTERM" });
  });

  it("falls back to pipes with a warning when node-pty is not available", async () => {
    const loadPty = () => {
      throw new Error("node-pty did not load: pty.node: cannot open shared object file");
    };
    const { result, stdout, diagnostics } = await run("sh", ["-c", "echo hi"], { pty: true, loadPty });
    expect(result.exitCode).toBe(0);
    expect(stdout).toBe("hi\n");
    expect(diagnostics).toEqual(["node-pty did not load: pty.node: cannot open shared object file; running the command without a terminal"]);
  });
});

describe("runChild in its own process", () => {
  let modulePath: string;
  let removeBuild = () => {};
  beforeAll(async () => {
    ({ modulePath, remove: removeBuild } = await compileRunModule());
  });
  afterAll(() => removeBuild());

  function startHarness(config: object) {
    const proc = spawn(process.execPath, [HARNESS, modulePath, JSON.stringify(config)], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => proc.on("exit", () => resolve()));
    // "close" waits for the output pipes, which the child inherits, to close too.
    const closed = new Promise<number | null>((resolve) => proc.on("close", (code) => resolve(code)));
    return { proc, exited, closed, stdout: () => stdout, stderr: () => stderr };
  }

  for (const [signal, code] of [
    ["SIGINT", 41],
    ["SIGTERM", 42],
    ["SIGHUP", 43],
  ] as const) {
    it(`forwards ${signal} to the child, which decides how to exit`, async () => {
      const name = signal.slice(3);
      const script = `trap 'echo got ${name}; exit ${code}' ${name}; echo ready; while :; do sleep 0.05; done`;
      const harness = startHarness({ command: "sh", args: ["-c", script] });
      expect(await waitFor(() => harness.stdout().includes("ready"), 10_000)).toBe(true);
      harness.proc.kill(signal);
      expect(await harness.closed).toBe(code);
      expect(harness.stdout()).toBe(`ready\ngot ${name}\n`);
    });
  }

  it("does not leave the child running, nor its files, when authy is killed with SIGKILL", async () => {
    const pids = join(dir, "pids");
    const file = join(dir, "watched.env");
    writeFileSync(file, "X=1\n");
    // A grandchild in the child's process group, and a child that ignores SIGTERM.
    const script = `sleep 60 & trap '' TERM; echo "$$ $!" > ${pids}; wait; sleep 60`;
    const harness = startHarness({ command: "sh", args: ["-c", script], cleanupFiles: [file] });
    expect(await waitFor(() => existsSync(pids) && readFileSync(pids, "utf8").includes(" "), 10_000)).toBe(true);
    const [child, grandchild] = readFileSync(pids, "utf8").trim().split(" ").map(Number) as [number, number];
    expect(isGone(child)).toBe(false);
    // The watchdog starts just after the child; kill authy only once it is watching (on a
    // loaded machine the child's script can run before the watchdog has started).
    const watching = () => {
      try {
        return execFileSync("sh", ["-c", 'for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < "$f" 2>/dev/null; echo; done'])
          .toString()
          .includes(`authy-watchdog ${child}`);
      } catch {
        return false;
      }
    };
    expect(await waitFor(watching, 10_000)).toBe(true);
    harness.proc.kill("SIGKILL");
    await harness.exited;
    // SIGTERM reaches the group at once; the child, which ignores it, gets SIGKILL after the grace.
    // (How soon is a timing matter for a loaded machine, so only the outcome is pinned here.)
    expect(await waitFor(() => isGone(grandchild), WATCHDOG_GRACE_MS + 5_000)).toBe(true);
    expect(await waitFor(() => isGone(child), WATCHDOG_GRACE_MS + 5_000)).toBe(true);
    // The watchdog removes the files once the group is gone: a moment after the test sees it gone.
    expect(await waitFor(() => !existsSync(file), 5_000)).toBe(true);
  });

  it("leaves no watchdog behind after a normal run", async () => {
    const harness = startHarness({ command: "sh", args: ["-c", "echo $$"] });
    expect(await harness.closed).toBe(0);
    const pid = harness.stdout().trim();
    const watchdogs = async () => {
      const { stdout } = await promisify(execFile)("sh", ["-c", 'for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < "$f" 2>/dev/null; echo; done']);
      return stdout.split("\n").filter((line) => line.includes(`authy-watchdog ${pid}`));
    };
    const deadline = Date.now() + 2_000;
    while ((await watchdogs()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await watchdogs()).toEqual([]);
  });

  for (const masked of [true, false]) {
    it(`handles \`run -- yes | head -1\` like a Unix tool (${masked ? "masked" : "unmasked"})`, async () => {
      const config = JSON.stringify({ command: "yes", ...(masked ? { mask: ["some-secret-value"] } : {}) });
      const script = `node "$1" "$2" "$3" | head -1; echo "status \${PIPESTATUS[0]}" >&2`;
      const { stdout, stderr } = await promisify(execFile)("bash", ["-c", script, "bash", HARNESS, modulePath, config]);
      expect(stdout).toBe("y\n");
      expect(stderr).toMatch(/^RESULT \{"exitCode":141,"signal":"SIGPIPE".*\}\nstatus 141\n$/);
    });
  }
});
