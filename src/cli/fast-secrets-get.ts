/**
 * `authy secrets get PATH` as the owner, through the daemon, without loading the CLI. It is
 * the command scripts and agents' wrappers run hundreds of times a day, and DESIGN.md gives it
 * 1.3x the start-up of `node -e 0` (bench: daemon-get). Through the CLI it took 1.45-1.51x:
 * reading and compiling cli.js from its code cache, commander and the program's declarations,
 * node:net, process.stdout and a garbage collection cost about 35 ms more than this path does.
 *
 * Taken only for exactly `authy secrets get PATH` (src/bin/boot.ts), with no credential or
 * server named in the environment, no stored login, a daemon running for this home and this
 * process in the terminal session that unlocked it; the checks are the CLI's own (the same
 * modules, see context.ts's connect). Anything else runs the CLI. So does every answer but a
 * value: a refusal, a missing secret or an approval to wait for is handed to the CLI already
 * answered (http-wire.ts), so that the request is sent once and reported as always.
 */
import fs from "node:fs";
import { CLIENT_TIMEOUT_MS, MAX_RESPONSE_BYTES, handOver, requestText, type UnixRequest, type UnixResponse } from "../client/http-wire.js";
import { unixRequestSync } from "../client/unix-http-sync.js";
import { runningDaemon } from "../daemon/paths.js";
import { checkDaemonPeer, inDaemonTerminal } from "../daemon/terminal.js";
import { native, protectProcess } from "../os/native.js";
import { validatePath } from "../vault/path.js";
import { vaultHome } from "./home.js";
import { DEFAULT_PROFILE, readProfile } from "./profiles.js";

/** Any of these, even empty, sends the command elsewhere (or to an error the CLI names). */
const ELSEWHERE_ENV = ["AUTHY_TOKEN", "AUTHY_AGENT_KEY", "AUTHY_SESSION", "AUTHY_SOCKET", "AUTHY_API_URL", "AUTHY_PROFILE"];

/** The daemon's socket and the request to send it, or null when this is the CLI's case. */
function ownersRequest(secretPath: string): { socket: string; req: UnixRequest } | null {
  if (ELSEWHERE_ENV.some((name) => process.env[name] !== undefined)) return null;
  try {
    if (readProfile(DEFAULT_PROFILE) !== null) return null;
    const { namespace, key } = validatePath(secretPath);
    const daemon = runningDaemon(vaultHome(undefined));
    if (!daemon || !inDaemonTerminal(daemon.pid)) return null;
    // What the CLI's client sends for getSecret (src/operations/secrets.ts): the value in base64.
    const req = {
      method: "GET",
      path: `/v1/secrets/${encodeURIComponent(namespace)}/${encodeURIComponent(key)}?encoding=base64`,
      headers: { accept: "application/json" },
      timeoutMs: CLIENT_TIMEOUT_MS,
      maxBytes: MAX_RESPONSE_BYTES,
      checkPeer: checkDaemonPeer,
    };
    return { socket: daemon.socket, req };
  } catch {
    return null; // a bad path, an unreadable login, a home too long: the CLI says what is wrong
  }
}

/** The value in a 200 answer, or null for anything else (the CLI reports it). */
function valueIn(res: UnixResponse): Buffer | null {
  if (res.status !== 200) return null;
  try {
    const { valueBase64 } = JSON.parse(res.body.toString("utf8")) as { valueBase64?: unknown };
    return typeof valueBase64 === "string" ? Buffer.from(valueBase64, "base64") : null;
  } catch {
    return null;
  }
}

/** Writes all of `bytes` to stdout: raw, as the CLI does, and a newline on a terminal. */
function printValue(bytes: Buffer): void {
  let done = 0;
  try {
    while (done < bytes.length) done += fs.writeSync(1, bytes, done);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EPIPE") return; // a reader that went away is not an error (main.ts)
    // EAGAIN on a non-blocking pipe, and the rest: process.stdout waits, or reports, as in the CLI.
    process.stdout.write(Buffer.from(bytes.subarray(done))); // a copy: the caller zeroes its own
    return;
  }
  if (native()?.isTerminal(1)) fs.writeSync(1, "\n");
}

export function secretsGet(secretPath: string, runCli: () => void): void {
  const route = ownersRequest(secretPath);
  if (!route) {
    runCli();
    return;
  }
  // Before a value can arrive: no other process may read this one's memory.
  protectProcess();
  let res: UnixResponse;
  try {
    res = unixRequestSync(route.socket, route.req);
  } catch {
    // Refused before anything was sent (not our daemon), or the connection failed: the CLI
    // tries again and reports it. A failure after the request left means it is sent twice.
    runCli();
    return;
  }
  const value = valueIn(res);
  if (!value) {
    handOver(route.socket, requestText(route.req), res);
    runCli();
    return;
  }
  printValue(value);
  value.fill(0);
  // As the CLI ends (exit.ts): once idle, without tearing the heap down (about 7 ms here).
  process.once("beforeExit", () => process.exit());
}
