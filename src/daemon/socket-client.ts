/**
 * The few requests the CLI makes to the daemon itself (health, status, lock), over its Unix
 * socket (with the same small HTTP client as the VaultClient, client/unix-http.ts).
 */
import net from "node:net";
import type { UnixRequest } from "../client/http-wire.js";
import { unixRequest } from "../client/unix-http.js";
import { AuthyError, isAuthyError } from "../errors.js";

/** A local daemon answers health and status in milliseconds; this only bounds a hung one. */
const SOCKET_REQUEST_TIMEOUT_MS = 5_000;
/** Responses to these requests are small; a larger one is not from our daemon. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

interface SocketResponse {
  status: number;
  body: unknown;
}

export interface SocketRequestOptions {
  bearer?: string;
  checkPeer?: UnixRequest["checkPeer"];
  body?: unknown;
  timeoutMs?: number;
}

function unavailable(socket: string, e: unknown): AuthyError {
  const code = (e as NodeJS.ErrnoException).code;
  // Node's codes (ECONNREFUSED) as they are; unix-http's own (AUTHY_TIMEOUT, …) by what they mean.
  const why = code?.startsWith("AUTHY_") ? (e as Error).message : code;
  return new AuthyError("UNAVAILABLE", `the daemon is not answering on ${socket}${why ? ` (${why})` : ""}`, {
    hint: "start it with `authy unlock`; if it is stuck, `authy lock` stops it",
    cause: e,
  });
}

export async function socketRequest(socket: string, method: string, urlPath: string, opts: SocketRequestOptions = {}): Promise<SocketResponse> {
  const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
  if (payload) headers["content-type"] = "application/json";
  let res;
  try {
    res = await unixRequest(socket, {
      method,
      path: urlPath,
      headers,
      body: payload,
      timeoutMs: opts.timeoutMs ?? SOCKET_REQUEST_TIMEOUT_MS,
      maxBytes: MAX_RESPONSE_BYTES,
      checkPeer: opts.checkPeer,
    });
  } catch (e) {
    if (isAuthyError(e)) throw e;
    throw unavailable(socket, e);
  }
  const text = res.body.toString("utf8");
  let body: unknown = text;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: res.status, body };
}

/**
 * Whether something accepts connections on a socket: "live", or "refused" when the socket
 * file is left over from a daemon that died (nothing listens on it).
 */
export function probeSocket(socket: string, timeoutMs = SOCKET_REQUEST_TIMEOUT_MS): Promise<"live" | "refused"> {
  return new Promise((resolve) => {
    const conn = net.connect({ path: socket });
    const done = (r: "live" | "refused") => {
      conn.destroy();
      resolve(r);
    };
    conn.setTimeout(timeoutMs, () => done("live")); // a listener too busy to accept is still a listener
    conn.on("connect", () => done("live"));
    conn.on("error", (e: NodeJS.ErrnoException) => done(e.code === "EAGAIN" ? "live" : "refused"));
  });
}
