/**
 * Pipe mode: the child's stdout and stderr are pipes that authy reads, masks and writes on;
 * or, with no masking, authy's own descriptors, handed over.
 */
import type { ChildProcess } from "node:child_process";
import { closeSync } from "node:fs";
import net from "node:net";
import type { Readable, Writable } from "node:stream";
import { AuthyError } from "../errors.js";
import { native, type SpawnStdio } from "../os/native.js";
import type { Launch, Started } from "./launch.js";
import { OutputSink } from "./output.js";
import { killGroup } from "./process-group.js";
import { nodeSpawn, spawnNatively } from "./spawn.js";

/**
 * The child writes its output into a real pipe of this size, which authy reads. Node.js's own
 * stdio "pipe" is a socket pair: moving 100 MiB through one cost authy 300–440 ms of CPU (and
 * `cat` many waits), through a 1 MiB pipe 60–85 ms, as `cat | cat` spends about 60 (measured
 * with the machine's load at 17–20). Where the pipe cannot be made, the socket pair.
 */
const OUTPUT_PIPE_BYTES = 1 << 20;

interface OutputPipe {
  read: number;
  write: number;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed.
  }
}

export async function startOnPipes({ path, options, cwd, stdout, stderr, diagnose }: Launch): Promise<Started> {
  const masker = options.masker ?? null;
  const stdin = options.stdin ?? "inherit";
  // Without masking, authy's own descriptors are handed over and it stays out of the way.
  const direct = (dest: Writable) => masker === null && (dest === process.stdout || dest === process.stderr);
  const pipes: (OutputPipe | null)[] = [stdout, stderr].map((dest) => (direct(dest) ? null : (native()?.pipe(OUTPUT_PIPE_BYTES) ?? null)));
  const closePipes = (end: "read" | "write") => {
    for (const p of pipes) if (p) closeQuietly(p[end]);
  };
  const stdioOf = (dest: Writable, pipe: OutputPipe | null) => (direct(dest) ? "inherit" : (pipe?.write ?? "pipe"));
  const stdio = [typeof stdin === "string" ? stdin : "pipe", stdioOf(stdout, pipes[0]!), stdioOf(stderr, pipes[1]!)] as const;
  let started: StartedChild;
  try {
    started = startChild(path, options, cwd, stdio);
  } catch (e) {
    closePipes("read");
    throw e;
  } finally {
    // The child has its copies (or none): ours would keep the pipes from ever reaching EOF.
    closePipes("write");
  }
  if ("failed" in started) {
    closePipes("read");
    return started.failed;
  }
  const { pid, child } = started;
  if (child && typeof stdin !== "string" && child.stdin) {
    child.stdin.on("error", () => {}); // the child may exit without reading all of it
    stdin.pipe(child.stdin);
  }
  const exited = started.exited;
  let stdoutSink: OutputSink | undefined;
  const outputs: Promise<void>[] = [];
  const sides: [OutputPipe | null, Readable | null, Writable][] = [
    [pipes[0] ?? null, child?.stdout ?? null, stdout],
    [pipes[1] ?? null, child?.stderr ?? null, stderr],
  ];
  for (const [pipe, own, dest] of sides) {
    if (pipe === null && own === null) continue;
    let source: Readable | null = null;
    const sink = new OutputSink(dest, masker?.session() ?? null, (e) => {
      // The reader is gone. Writing to it directly, the child would get SIGPIPE; it writes to
      // a pipe of ours instead (or a socket pair, whose closing it would see as ECONNRESET and
      // complain about). So: SIGPIPE first, as the kernel would have sent it, then close our end.
      killGroup(pid, "SIGPIPE");
      source?.destroy();
      if (e.code !== "EPIPE") diagnose(`cannot write the command's output: ${e.message}`);
    });
    if (dest === stdout) stdoutSink ??= sink;
    if (pipe && (dest === process.stdout || dest === process.stderr)) {
      const reader = readPipe(pipe.read, sink);
      source = reader.source;
      outputs.push(reader.done);
    } else {
      // The read end of a pipe of ours as a stream (a net.Socket over the descriptor, as
      // Node.js reads process.stdin when it is a pipe), or Node.js's own.
      source = pipe ? new net.Socket({ fd: pipe.read, readable: true, writable: false }) : own!;
      outputs.push(pump(source, sink));
    }
  }
  return {
    pid,
    done: Promise.all([exited, ...outputs]).then(([status]) => status),
    stdoutClosed: () => stdoutSink?.closed ?? false,
    restore: () => {
      if (child && typeof stdin !== "string" && child.stdin) stdin.unpipe(child.stdin);
    },
  };
}

type Stdio = readonly ["inherit" | "ignore" | "pipe", "inherit" | "pipe" | number, "inherit" | "pipe" | number];

/** A started child: its pid, its exit, and the ChildProcess with its streams when Node.js started it; or why it did not start. */
type StartedChild =
  { pid: number; child: ChildProcess | null; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } | { failed: Promise<Started> };

/**
 * Starts the child with posix_spawn() where its descriptors allow (spawn.ts says why), else
 * with Node.js's spawn(), whose failures are reported as they always were: thrown, or (the
 * program vanished or cannot be run after all) as `failed`.
 */
function startChild(path: string, options: Launch["options"], cwd: string, stdio: Stdio): StartedChild {
  const fds = [stdio[0] === "inherit" ? "inherit" : stdio[0] === "ignore" ? "null" : null, ...stdio.slice(1).map((io) => (io === "pipe" ? null : io))];
  if (fds.every((io) => io !== null)) {
    const spawned = spawnNatively(path, [options.command, ...options.args], options.env, { cwd, stdio: fds as [SpawnStdio, SpawnStdio, SpawnStdio] });
    if (spawned) return { pid: spawned.pid, child: null, exited: spawned.exited() };
  }
  let child: ChildProcess;
  try {
    child = nodeSpawn(path, options.args, { argv0: options.command, cwd, env: options.env, detached: true, stdio: [...stdio] });
  } catch (e) {
    throw spawnError(options.command, e);
  }
  if (child.pid === undefined) {
    // The only errors Node reports asynchronously: the file vanished or is not executable
    // after all, or its interpreter (#!) is missing.
    return {
      failed: new Promise((resolve) =>
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
      ),
    };
  }
  child.on("error", () => {}); // once started, errors could only come from child.kill(), unused
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { pid: child.pid, child, exited };
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

/**
 * Copies an output pipe of ours into a sink whose destination is authy's own stdout or stderr,
 * with net.Socket's `onread`: each read fills one buffer the size of the pipe, reused for
 * every read, and goes to the sink with no stream in between. A stream reads 64 KiB at a time
 * into a new Buffer and pushes each through 'data' events: 100 MiB of masked output (50
 * secrets, `cat` of a file) took authy 190–197 ms that way, 123–140 ms this way (medians of
 * 9, start-up subtracted).
 * The sink borrows the buffer (OutputSink.writeBorrowed): reading pauses while the
 * destination still holds a reference to it.
 */
function readPipe(fd: number, sink: OutputSink): { source: net.Socket; done: Promise<void> } {
  const onread: net.OnReadOpts = {
    buffer: Buffer.alloc(OUTPUT_PIPE_BYTES),
    callback: (n, buffer) => {
      if (sink.writeBorrowed(buffer.subarray(0, n), resume)) return true;
      source.pause(); // so that resume() starts reading again: returning false only stops the handle
      return false;
    },
  };
  // `onread` is documented for net.connect(); the constructor takes it too (lib/net.js).
  const source = new net.Socket({ fd, readable: true, writable: false, onread } as net.SocketConstructorOpts);
  const resume = () => source.resume();
  return { source, done: ended(source, sink) };
}

/** Resolves once `source` has closed and the sink has written all it holds; a read error ends the output like EOF. */
function ended(source: Readable, sink: OutputSink): Promise<void> {
  return new Promise((resolve) => {
    source.on("error", () => {});
    source.once("close", () => void sink.end().then(resolve));
  });
}

/** Copies a child's output pipe into a sink, pausing the pipe while the sink is full. */
function pump(source: Readable, sink: OutputSink): Promise<void> {
  source.on("data", (chunk: Buffer) => {
    if (!sink.write(chunk, () => source.resume())) source.pause();
  });
  return ended(source, sink);
}
