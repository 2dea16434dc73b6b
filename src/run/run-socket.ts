/**
 * The daemon's only door for a sandboxed run with `--pass-token`: a Unix socket that `authy
 * run` makes for this run alone, in a fresh 0700 directory, and that bwrap binds into the
 * sandbox (the daemon's own socket is hidden there). It relays to the daemon each HTTP request
 * that carries exactly the run's token, and answers anything else itself with a JSON 403:
 * no credential, an owner session, another token. It never relays a request without the
 * token: the daemon would see `authy run` at the other end, which may be in the owner's
 * terminal session, and take it for the owner.
 *
 * What binds the token, since the daemon cannot see the child (every relayed request comes
 * from `authy run`): the daemon honours the token only on connections from `authy run`
 * itself (daemon/process-tokens.ts, "relayed"), so the token copied out of the sandbox is
 * worth nothing at the daemon's socket; and this socket serves only the processes of the
 * sandbox. SO_PEERCRED gives the pid as seen from the receiver's pid namespace, so `authy
 * run`, outside the sandbox's namespace, sees the host's pid of whoever connects and checks
 * that it descends from bwrap (the run's child, by pid and start time): a process outside
 * the sandbox that finds the socket's host path and holds the token is refused too. The
 * socket dies with the run (closed and removed by `authy run`, by its watchdog if `authy run`
 * is killed), and the token with it (revoked by `authy run`, or by the daemon when the child
 * or `authy run` exits).
 *
 * Knows nothing of the vault: a bearer, two socket paths.
 */
import http from "node:http";
import net from "node:net";
import { constantTimeEqual } from "../crypto/hash.js";
import { native } from "../os/native.js";
import { socketFd } from "../os/socket-fd.js";
import { descendsFrom, procStat, running } from "../os/proc-stat.js";

/** A client that has not sent a whole request's headers in this long is dropped. */
const HEADERS_TIMEOUT_MS = 10_000;
/** Longer than any wait the daemon itself allows (an approval waits on the client's side, by polling). */
const REQUEST_TIMEOUT_MS = 5 * 60_000;

export type RunSocketRefusal = "not a process of the sandbox" | "no credentials" | "not this run's token";

interface RunSocketOptions {
  /** Where to listen (in a private directory: the caller makes it). */
  socketPath: string;
  /** The daemon's socket, where admitted requests go. */
  daemonSocket: string;
  /** The one bearer this socket accepts. */
  token: string;
  onRefused(reason: RunSocketRefusal): void;
}

export interface RunSocket {
  /** The sandbox is running as `pid` (bwrap): from now on its processes are served, and only they. */
  admitTree(pid: number): void;
  close(): Promise<void>;
}

interface ProcessRef {
  pid: number;
  start: string;
}

function refusalBody(message: string, hint: string): string {
  return JSON.stringify({ error: { code: "ACCESS_DENIED", message, hint } });
}

const WRONG_TOKEN = refusalBody(
  "this socket serves only the token of the run it was made for (AUTHY_TOKEN)",
  "inside `authy run --sandbox --pass-token`, leave AUTHY_TOKEN as the run set it; nothing else reaches the vault from here",
);

const NOT_IN_SANDBOX = refusalBody(
  "this socket serves only the processes of the sandboxed run it was made for",
  "use the daemon's own socket, with your own credentials",
);

/** The connecting process, read at accept time (as the daemon does), with its start time against a reused pid. */
function peerOf(conn: net.Socket): ProcessRef | null {
  const fd = socketFd(conn);
  const creds = fd === null ? null : (native()?.peerCredentials(fd) ?? null);
  if (creds === null || creds.pid <= 0) return null;
  const st = procStat(creds.pid);
  return running(st) ? { pid: creds.pid, start: st.start } : null;
}

export async function startRunSocket(options: RunSocketOptions): Promise<RunSocket> {
  const expected = Buffer.from(options.token, "utf8");
  let admitRoot: (root: ProcessRef | null) => void = () => undefined;
  const root = new Promise<ProcessRef | null>((resolve) => (admitRoot = resolve));
  const peers = new WeakMap<object, ProcessRef | null>();

  const web = http.createServer((req, res) => void relay(req, res));
  web.headersTimeout = HEADERS_TIMEOUT_MS;
  web.requestTimeout = REQUEST_TIMEOUT_MS;
  web.on("connection", (conn: net.Socket) => peers.set(conn, peerOf(conn)));
  web.on("clientError", (_e, socket) => socket.destroy());

  function refuse(res: http.ServerResponse, reason: RunSocketRefusal, body: string): void {
    options.onRefused(reason);
    res.writeHead(403, { "content-type": "application/json", connection: "close" }).end(body);
  }

  async function relay(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    req.pause(); // nothing of the body moves before the caller is known
    const tree = await root; // the sandbox may connect before authy run has its pid: wait for it
    const peer = peers.get(req.socket) ?? null;
    const now = peer && procStat(peer.pid);
    if (peer === null || tree === null || !running(now) || now.start !== peer.start || !descendsFrom(peer.pid, tree)) {
      refuse(res, "not a process of the sandbox", NOT_IN_SANDBOX);
      return;
    }
    const bearer = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? "")?.[1];
    if (bearer === undefined) {
      refuse(res, "no credentials", WRONG_TOKEN);
      return;
    }
    if (!constantTimeEqual(Buffer.from(bearer, "utf8"), expected)) {
      refuse(res, "not this run's token", WRONG_TOKEN);
      return;
    }
    const headers = { ...req.headers };
    delete headers.connection;
    const upstream = http.request({ socketPath: options.daemonSocket, method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => {
      if (res.headersSent) return void res.destroy();
      const body = JSON.stringify({
        error: { code: "UNAVAILABLE", message: "the vault's daemon is not reachable", hint: "the owner may have locked the vault" },
      });
      res.writeHead(503, { "content-type": "application/json", connection: "close" }).end(body);
    });
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  await new Promise<void>((resolve, reject) => {
    web.once("error", reject);
    web.listen(options.socketPath, () => resolve());
  });
  return {
    admitTree(pid) {
      const st = procStat(pid);
      admitRoot(running(st) ? { pid, start: st.start } : null);
    },
    close: () =>
      new Promise<void>((resolve) => {
        admitRoot(null);
        web.closeAllConnections();
        web.close(() => resolve());
      }),
  };
}
