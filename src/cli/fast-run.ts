/**
 * `authy run --scope S -- CMD…` as the owner through the daemon, without loading the CLI: the
 * way an agent's wrapper or a script starts its tools, many times a day. DESIGN.md gives it
 * 1.6x the start-up of `node -e 0` (bench: daemon-run); through the CLI it took 1.6-1.75x, of
 * which reading and compiling cli.js from its code cache, commander and the program's
 * declarations were about 30 ms (`secrets get` through the CLI and on its own path, measured
 * side by side: 146 against 116 ms, `node -e 0` 101).
 *
 * Taken only for `run`, `--scope S` and `--no-tty` (each at most once), `--`, and a command
 * (src/bin/boot.ts sends every `run` without a credential in its environment here), as the
 * owner through the daemon (fast-owner.ts), and not on a terminal unless --no-tty (the PTY is
 * the CLI's). The request is the CLI's own (run-dispatch.ts); so is everything after it: the
 * child's environment, masking, the child and its watchdog (src/run), and the run's end,
 * recorded through the CLI's client. Any answer but a plain grant goes to the CLI, already
 * answered (http-wire.ts): a refusal, an approval to wait for, a scope that gives nothing or
 * wants a sandbox, a secret too short to mask or a name the environment refuses. The CLI then
 * reports or finishes it as always, and the request is sent once.
 */
import { HttpTransport } from "../client/http-transport.js";
import {
  CLIENT_TIMEOUT_MS,
  handOver,
  jsonHeaders,
  MAX_RESPONSE_BYTES,
  requestKey,
  requestText,
  socketRequest,
  type UnixResponse,
} from "../client/http-wire.js";
import { unixRequestSync } from "../client/unix-http-sync.js";
import { checkDaemonPeer } from "../daemon/terminal.js";
import { native, protectProcess } from "../os/native.js";
import { RUN_CHILD_VAR } from "../run/env.js";
import { buildChildEnv, createMasker, runChild, type Masker } from "../run/index.js";
import type { Dispatch } from "../vault/dispatch.js";
import { ownersDaemon } from "./fast-owner.js";
import { outputFor } from "./output.js";
import { endCommand } from "./report.js";
import { plainRunLine } from "./run-line.js";
import { grantSource, runDispatch, runEnd } from "./run-dispatch.js";
import { startCommand } from "./start.js";

/** The grant in a 200 answer, when this path can carry it out; null for what the CLI must do or say. */
function plainGrant(res: UnixResponse): Dispatch | null {
  if (res.status !== 200) return null;
  let granted: Dispatch;
  try {
    granted = JSON.parse(res.body.toString("utf8")) as Dispatch;
  } catch {
    return null;
  }
  // The CLI warns of a scope that gives the command nothing, and sandboxes what the scope says must be.
  if (granted.sandbox || !Array.isArray(granted.secrets) || granted.secrets.length === 0 || typeof granted.ticket !== "string") return null;
  return granted;
}

/** The child's environment and masker, as commands/run.ts makes them; null if the CLI must refuse a name or warn. */
function childSetup(granted: Dispatch): { env: Record<string, string>; masker: Masker } | null {
  const values = new Map<string, string>();
  const sources = new Map<string, string>();
  for (const s of granted.secrets) {
    values.set(s.name, s.value);
    sources.set(s.name, grantSource(s, granted.scope));
  }
  let env: Record<string, string>;
  try {
    env = buildChildEnv(process.env, values, { passThrough: [], sources });
  } catch {
    return null;
  }
  env[RUN_CHILD_VAR] = "1";
  const masker = createMasker(granted.secrets.map((s) => s.value));
  return masker.unmasked.length > 0 ? null : { env, masker };
}

/** Runs the child and records the run's end (through the CLI's client, so that a failure reads the same); resolves with the exit status. */
async function carryOut(socket: string, granted: Dispatch, setup: { env: Record<string, string>; masker: Masker }, command: string[]): Promise<number> {
  const [program, ...args] = command as [string, ...string[]];
  const result = await runChild({
    command: program,
    args,
    env: setup.env,
    masker: setup.masker,
    pty: false,
    cleanupFiles: [],
    cleanupDirs: [],
    onDiagnostic: (m) => process.stderr.write(`authy: ${m}\n`),
  });
  const daemon = new HttpTransport({ socketPath: socket, mode: "daemon", checkPeer: checkDaemonPeer });
  // The endRun operation's request (src/operations/env.ts), as the CLI's client sends it.
  await daemon
    .call("POST", "/v1/runs/end", { body: { ticket: granted.ticket, ...runEnd(result) } })
    .catch((e: unknown) => outputFor({}).warn(`could not record run.end: ${(e as Error).message}`));
  daemon.close();
  return result.exitCode;
}

/** `authy run` for the arguments after `authy`; `runCli` loads the CLI instead (for every other case). */
export function run(argv: readonly string[], runCli: () => void): void {
  const line = plainRunLine(argv);
  const calls = native();
  const daemon = line && calls ? ownersDaemon() : null;
  if (!line || !calls || !daemon || (line.tty && calls.isTerminal(0) && calls.isTerminal(1))) {
    runCli();
    return;
  }
  startCommand();
  // Before any value arrives: the child cannot read this process's memory or environment, nor write to its descriptors.
  protectProcess();
  const dispatch = runDispatch({
    scope: line.scope,
    refs: [],
    only: undefined,
    program: line.command[0]!,
    reason: undefined,
    ownScope: false,
    sandbox: undefined,
  });
  const body = Buffer.from(JSON.stringify(dispatch), "utf8");
  const req = {
    method: "POST",
    path: "/v1/dispatch",
    headers: jsonHeaders(undefined, body),
    body,
    timeoutMs: CLIENT_TIMEOUT_MS,
    maxBytes: MAX_RESPONSE_BYTES,
    checkPeer: checkDaemonPeer,
  };
  let res: UnixResponse;
  try {
    res = unixRequestSync(daemon.socket, req);
  } catch {
    // Refused before anything was sent (not our daemon), or the connection failed: the CLI
    // tries again and reports it. A failure after the request left means it is sent twice.
    runCli();
    return;
  }
  const granted = plainGrant(res);
  const setup = granted && childSetup(granted);
  if (!granted || !setup) {
    handOver(requestKey(daemon.socket, socketRequest(requestText(req), body)), res);
    runCli();
    return;
  }
  res.body.fill(0); // it held the values, now in `granted` alone
  endCommand(carryOut(daemon.socket, granted, setup, line.command));
}
