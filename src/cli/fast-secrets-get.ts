/**
 * `authy secrets get PATH` without loading the CLI, in the two cases it is called most: as the
 * owner through the daemon (scripts and agents' wrappers, hundreds of times a day) and with
 * AUTHY_TOKEN against a team server (a CI job). DESIGN.md gives them 1.3x and 1.5x the
 * start-up of `node -e 0` (bench: daemon-get, server-get). Through the CLI they took 1.45-1.51x
 * and 1.52-1.60x: reading and compiling cli.js from its code cache, commander and the
 * program's declarations, node:net, process.stdout and a garbage collection cost about 35 ms
 * more than this path does.
 *
 * Taken only for exactly `authy secrets get PATH` (src/bin/boot.ts). Through the daemon: with
 * no credential or server named in the environment, no stored login, a daemon running for
 * this home and this process in the terminal session that unlocked it. To a server: with
 * AUTHY_API_URL and AUTHY_TOKEN, and no profile named. The checks are the CLI's own (the same
 * modules, see context.ts's connect and http-transport.ts). Anything else runs the CLI. So
 * does every answer but a value: a refusal, a missing secret or an approval to wait for is
 * handed to the CLI already answered (http-wire.ts), so that the request is sent once and
 * reported as always.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import {
  CLIENT_TIMEOUT_MS,
  MAX_RESPONSE_BYTES,
  handOver,
  isLoopbackHost,
  requestKey,
  requestText,
  serverRequest,
  type UnixRequest,
  type UnixResponse,
} from "../client/http-wire.js";
import { unixRequestSync } from "../client/unix-http-sync.js";
import { checkDaemonPeer } from "../daemon/terminal.js";
import { native, protectProcess } from "../os/native.js";
import { validatePath } from "../vault/path.js";
import { exitWhenIdle } from "./exit.js";
import { ownersDaemon } from "./fast-owner.js";

/** What the CLI's client asks for getSecret (src/operations/secrets.ts): the value in base64. */
function secretTarget(secretPath: string): string {
  const { namespace, key } = validatePath(secretPath);
  return `/v1/secrets/${encodeURIComponent(namespace)}/${encodeURIComponent(key)}?encoding=base64`;
}

/** The daemon's socket and the request to send it, or null when this is the CLI's case. */
function ownersRequest(secretPath: string): { socket: string; req: UnixRequest } | null {
  let path: string;
  try {
    path = secretTarget(secretPath);
  } catch {
    return null; // a bad path: the CLI says what is wrong
  }
  const daemon = ownersDaemon();
  if (!daemon) return null;
  const req = {
    method: "GET",
    path,
    headers: { accept: "application/json" },
    timeoutMs: CLIENT_TIMEOUT_MS,
    maxBytes: MAX_RESPONSE_BYTES,
    checkPeer: checkDaemonPeer,
  };
  return { socket: daemon.socket, req };
}

/** The request the CLI would send a team server for AUTHY_TOKEN, or null when this is the CLI's case. */
function tokensRequest(secretPath: string): { url: URL; target: string; bearer: string } | null {
  const api = process.env.AUTHY_API_URL;
  const token = process.env.AUTHY_TOKEN;
  if (!api || !token || process.env.AUTHY_PROFILE !== undefined) return null;
  try {
    const base = new URL(api);
    // A credential goes in clear only to loopback, or when told to (http-transport.ts says why).
    const clear = base.protocol === "http:" && (isLoopbackHost(base.hostname) || Boolean(process.env.AUTHY_INSECURE_HTTP));
    if (base.protocol !== "https:" && !clear) return null;
    const target = `${base.pathname.replace(/\/+$/, "")}${secretTarget(secretPath)}`;
    return { url: new URL(target, base.origin), target, bearer: token };
  } catch {
    return null;
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

/** Prints the value of a 200 answer; any other answer goes to the CLI, already answered. */
function finish(key: string, res: UnixResponse, runCli: () => void): void {
  const value = valueIn(res);
  if (!value) {
    handOver(key, res);
    runCli();
    return;
  }
  printValue(value);
  value.fill(0);
  exitWhenIdle(); // as the CLI ends: without tearing the heap down (about 7 ms here)
}

/** One GET to a team server, on node:http(s) as the CLI's client (loaded only here). */
function getFromServer(route: { url: URL; bearer: string }): Promise<UnixResponse> {
  const load = createRequire(import.meta.url);
  const http = (route.url.protocol === "https:" ? load("node:https") : load("node:http")) as typeof import("node:http");
  return new Promise((resolve, reject) => {
    // A token no header can carry throws here, and rejects: the CLI names the problem.
    const req = http.request(route.url, { headers: { accept: "application/json", authorization: `Bearer ${route.bearer}` }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        chunks.push(c);
        if (size > MAX_RESPONSE_BYTES) {
          reject(new Error("response too large"));
          req.destroy();
        }
      });
      res.on("error", reject);
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.setTimeout(CLIENT_TIMEOUT_MS, () => req.destroy());
    req.on("error", reject);
    req.end();
  });
}

export function secretsGet(secretPath: string, runCli: () => void): void {
  const server = tokensRequest(secretPath);
  if (server) {
    // Before a credential is used or a value can arrive: no other process may read this one's memory.
    protectProcess();
    // A failure is the CLI's to report (it sends the request again: the price of not parsing errors here).
    getFromServer(server).then((res) => finish(requestKey(server.url.origin, serverRequest("GET", server.target, server.bearer)), res, runCli), runCli);
    return;
  }
  const daemon = ownersRequest(secretPath);
  if (!daemon) {
    runCli();
    return;
  }
  protectProcess();
  let res: UnixResponse;
  try {
    res = unixRequestSync(daemon.socket, daemon.req);
  } catch {
    // Refused before anything was sent (not our daemon), or the connection failed: the CLI
    // tries again and reports it. A failure after the request left means it is sent twice.
    runCli();
    return;
  }
  finish(requestKey(daemon.socket, requestText(daemon.req)), res, runCli);
}
