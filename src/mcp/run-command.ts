/**
 * run_command: the command is run by `authy run` itself (this very executable), so that it
 * runs exactly as `authy run` runs it: the same environment rules, masking, sandboxing and
 * audit. The model gets the exit code and the masked output, cut to a stated size.
 */
import { spawn } from "node:child_process";
import { AuthyError, type ErrorCode } from "../errors.js";

/** Output returned to the model, per stream: enough for a test run's summary, not a flood of context. */
export const MAX_OUTPUT_BYTES = 16 * 1024;
/** A command's default time limit, and the most a tool call may ask for. */
export const DEFAULT_TIMEOUT_S = 120;
export const MAX_TIMEOUT_S = 600;
/** After the time limit: SIGTERM (forwarded to the command by `authy run`), then SIGKILL this much later. */
const KILL_GRACE_MS = 5_000;
/** The codes `authy run` itself exits with when it refuses (the command's own code otherwise). */
const AUTHY_REFUSALS = new Set([2, 3, 4, 5, 6, 7, 8]);

export interface RunRequest {
  argv: string[];
  scope?: string;
  refs: { name: string; path: string }[];
  timeoutS: number;
  cwd?: string;
}

export interface RunOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  truncated: { stdout: number; stderr: number };
  timedOut: boolean;
}

/** Where the `authy` being run lives, and how to reach the daemon; given by the server. */
export interface RunContext {
  executable: string[];
  env: Record<string, string>;
  token: string;
}

class Capture {
  private chunks: Buffer[] = [];
  private kept = 0;
  dropped = 0;
  push(d: Buffer): void {
    const room = MAX_OUTPUT_BYTES - this.kept;
    if (room > 0) this.chunks.push(d.subarray(0, room));
    this.kept += Math.min(room, d.length);
    this.dropped += Math.max(0, d.length - Math.max(room, 0));
  }
  text(): string {
    // A cut inside a UTF-8 sequence becomes U+FFFD, never a partial byte.
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

export function runCommand(ctx: RunContext, req: RunRequest): Promise<RunOutcome> {
  // Approvals go through request_access and check_access: a run never sits waiting for one.
  const args = ["--json", "run", "--no-tty", "--no-wait"];
  if (req.scope) args.push("--scope", req.scope);
  for (const r of req.refs) args.push("--env", `${r.name}=authy://${r.path}`);
  args.push("--", ...req.argv);
  const [exe, ...pre] = ctx.executable;
  const env = { ...ctx.env, AUTHY_TOKEN: ctx.token };
  return new Promise((resolve, reject) => {
    const child = spawn(exe!, [...pre, ...args], { env, cwd: req.cwd, stdio: ["ignore", "pipe", "pipe"] });
    const out = new Capture();
    const err = new Capture();
    const errTail: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => {
      err.push(d);
      errTail.push(d);
      if (errTail.length > 8) errTail.shift();
    });
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
    }, req.timeoutS * 1000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new AuthyError("INTERNAL", `cannot start authy run: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      const exitCode = code ?? 128 + (signal === "SIGKILL" ? 9 : 15);
      const refusal = AUTHY_REFUSALS.has(exitCode) ? authyRefusal(Buffer.concat(errTail).toString("utf8")) : null;
      if (refusal) return reject(refusal);
      resolve({ exitCode, stdout: out.text(), stderr: err.text(), truncated: { stdout: out.dropped, stderr: err.dropped }, timedOut });
    });
  });
}

/** `authy run --json` refusing (not the command failing): its error line, as the error it was. */
function authyRefusal(stderrTail: string): AuthyError | null {
  const last = stderrTail.trimEnd().split("\n").pop() ?? "";
  try {
    const e = (JSON.parse(last) as { error?: { code?: string; message?: string; hint?: string | null; details?: Record<string, unknown> } }).error;
    if (!e?.code || !e.message) return null;
    return new AuthyError(e.code as ErrorCode, e.message, { ...(e.hint ? { hint: e.hint } : {}), ...(e.details ? { details: e.details } : {}) });
  } catch {
    return null;
  }
}
