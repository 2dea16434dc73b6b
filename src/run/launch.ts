import type { Readable, Writable } from "node:stream";
import type { Masker } from "./masker.js";
import type { PtyLoader } from "./pty-module.js";

/** What `runChild` is asked to do, and what each mode (pipes.ts, pty.ts) is given to do it. */
export interface RunChildOptions {
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd?: string;
  /** Masks stdout and stderr (the PTY's output in PTY mode); null or absent: no masking. */
  masker?: Masker | null;
  /** Run on a pseudo-terminal (needs node-pty; falls back to pipes with a warning). */
  pty?: boolean;
  /** What the child reads: authy's own stdin (default), nothing, or a stream. */
  stdin?: "inherit" | "ignore" | Readable;
  /** Where output goes; default process.stdout and process.stderr. */
  stdout?: Writable;
  stderr?: Writable;
  /** Files (mount files) removed once the child has exited, or by the watchdog if authy dies. */
  cleanupFiles?: readonly string[];
  /** Directories removed after cleanupFiles, when empty (the run socket's), by authy or the watchdog. */
  cleanupDirs?: readonly string[];
  /** Called (and awaited) once the child is running. If it throws, the child is killed and the error rethrown. */
  onStart?(pid: number): void | Promise<void>;
  /** One-line diagnostics (command not found, PTY fallback); default: "authy: …" on stderr. */
  onDiagnostic?: (message: string) => void;
  /** Loads node-pty; replaced in tests. */
  loadPty?: PtyLoader;
  /** Runs the resolved command inside another (the sandbox: sandbox.ts's sandboxCommand). */
  wrap?: (path: string, args: readonly string[]) => { path: string; args: string[] };
}

/** A child started by one of the modes (pipes.ts, pty.ts). */
interface Running {
  pid: number;
  /** Resolves once the child has exited and its output has been written. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdoutClosed(): boolean;
  /** Undoes what the mode changed in authy's process (raw mode, listeners). */
  restore(): void;
}

export type Started = Running | { failure: "not-found" | "not-executable"; exitCode: number; message: string };

/** What a mode needs to start the child. */
export interface Launch {
  path: string;
  options: RunChildOptions;
  cwd: string;
  stdout: Writable;
  stderr: Writable;
  diagnose: (message: string) => void;
}
