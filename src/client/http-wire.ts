/**
 * The small part of HTTP/1.1 that authy's clients speak to the daemon over its Unix socket:
 * one request per connection (`Connection: close`), a response delimited by Content-Length,
 * by chunked encoding, or by the close. The other end is always our daemon (fastify on
 * node:http). Two clients send it: unix-http.ts on node:net, and unix-http-sync.ts, blocking,
 * for the commands on a path of their own that send one request and have nothing else to do
 * meanwhile (src/cli/fast-secrets-get.ts, fast-run.ts). This module loads neither.
 */

export interface UnixRequest {
  method: string;
  /** The request target: path and query, already encoded. */
  path: string;
  headers: Record<string, string | number>;
  body?: Buffer;
  timeoutMs: number;
  /** A larger response is refused (its error has code AUTHY_TOO_LARGE). */
  maxBytes: number;
  /**
   * Checks the process at the other end once connected, before anything is sent, given the
   * connection's file descriptor (null if Node.js does not show it); throws to refuse it.
   */
  checkPeer?: (fd: number | null, socketPath: string) => void;
}

export interface UnixResponse {
  status: number;
  body: Buffer;
}

/** Long enough for `doctor` on a large vault; an unresponsive daemon still fails in bounded time. */
export const CLIENT_TIMEOUT_MS = 120_000;
/** The largest response read: far above any real one (a dispatch of 1 MiB values), bounded against a rogue server. */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

const HEADER_END = Buffer.from("\r\n\r\n");

/** The headers of a JSON request as the CLI's client sends it: with a bearer if any, and the body's type and length. */
export function jsonHeaders(bearer: string | undefined, payload: Buffer | undefined): Record<string, string | number> {
  const headers: Record<string, string | number> = { accept: "application/json" };
  if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
  if (payload) {
    headers["content-type"] = "application/json";
    headers["content-length"] = payload.length;
  }
  return headers;
}

/** Errors carry a code like Node's own: ENOENT, ECONNREFUSED, …, or AUTHY_TIMEOUT, AUTHY_TOO_LARGE, AUTHY_BAD_RESPONSE. */
export function failure(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

export function requestText(req: UnixRequest): string {
  const lines = [`${req.method} ${req.path} HTTP/1.1`, "host: localhost", "connection: close"];
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.toLowerCase() === "content-length") continue; // said below, from the body itself
    const v = String(value);
    // A header value from the environment (a token) must not be able to add headers.
    if (/[\r\n]/.test(v)) throw failure("AUTHY_BAD_HEADER", `invalid characters in the ${name} header`);
    lines.push(`${name}: ${v}`);
  }
  if (req.body) lines.push(`content-length: ${req.body.length}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}

interface Head {
  status: number;
  bodyStart: number;
  contentLength: number | null;
  chunked: boolean;
}

function parseHead(data: Buffer, end: number): Head {
  const lines = data.subarray(0, end).toString("latin1").split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
  if (!status) throw failure("AUTHY_BAD_RESPONSE", "not an HTTP response");
  let contentLength: number | null = null;
  let chunked = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") {
      if (!/^\d+$/.test(value)) throw failure("AUTHY_BAD_RESPONSE", "a bad Content-Length");
      contentLength = Number(value);
    } else if (name === "transfer-encoding") chunked = value.toLowerCase().includes("chunked");
  }
  return { status: Number(status[1]), bodyStart: end + HEADER_END.length, contentLength: chunked ? null : contentLength, chunked };
}

/** The body of a complete chunked message, or null while more is needed. */
function dechunk(data: Buffer, start: number): Buffer | null {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const eol = data.indexOf("\r\n", at);
    if (eol === -1) return null;
    const size = parseInt(data.subarray(at, eol).toString("latin1").split(";")[0]!, 16);
    if (!Number.isSafeInteger(size) || size < 0) throw failure("AUTHY_BAD_RESPONSE", "a bad chunk size");
    if (size === 0) return Buffer.concat(parts);
    if (data.length < eol + 2 + size + 2) return null;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/**
 * The response in `data` once all of it is there, else null; `closed`: the other end closed
 * the connection, so what is there is all there will be (and an incomplete response throws).
 */
export function responseIn(data: Buffer, closed: boolean): UnixResponse | null {
  const end = data.indexOf(HEADER_END);
  if (end === -1) {
    if (closed) throw failure("AUTHY_BAD_RESPONSE", "an incomplete response");
    return null;
  }
  const h = parseHead(data, end);
  if (h.chunked) {
    const body = dechunk(data, h.bodyStart);
    if (body === null && closed) throw failure("AUTHY_BAD_RESPONSE", "an incomplete response");
    return body === null ? null : { status: h.status, body };
  }
  if (h.contentLength !== null) {
    if (data.length - h.bodyStart >= h.contentLength) return { status: h.status, body: data.subarray(h.bodyStart, h.bodyStart + h.contentLength) };
    if (closed) throw failure("AUTHY_BAD_RESPONSE", "an incomplete response");
    return null;
  }
  return closed ? { status: h.status, body: data.subarray(h.bodyStart) } : null;
}

/**
 * localhost, 127.0.0.0/8 or ::1 (a URL's hostname keeps IPv6 in brackets). Not the server's
 * isLoopback (src/server/listen-address.ts): the client's imports are kept few (http-client.test).
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === "localhost" || h === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * An answer already received for one exact request: the fast paths of `authy secrets get` and
 * `authy run` (src/cli/fast-secrets-get.ts, fast-run.ts) hand the CLI every answer they do not
 * finish themselves, and the CLI must not send that request again (a second audit entry, a
 * second approval request). They run from separate bundles, each with its own copy of this
 * module: hence a registered symbol. A request is named by requestKey() (over a socket, of
 * socketRequest()).
 */
const ANSWERED = Symbol.for("authy.http-wire.answered");
interface Answered {
  key: string;
  response: UnixResponse;
}

/** Names a request: where it goes (a socket path or a server's origin), and all of what is sent (or, to a server, method, target and credential). */
export function requestKey(to: string, request: string): string {
  return `${to}\n${request}`;
}

/** What names a request over the daemon's socket in requestKey(): all of it, head and body. */
export function socketRequest(head: string, body: Buffer | undefined): string {
  return body ? head + body.toString("latin1") : head;
}

/** What names a request to a team server in requestKey(): method, target and credential. */
export function serverRequest(method: string, target: string, bearer: string | undefined): string {
  return `${method} ${target}\n${bearer ?? ""}`;
}

export function handOver(key: string, response: UnixResponse): void {
  (globalThis as { [ANSWERED]?: Answered })[ANSWERED] = { key, response };
}

/** The answer handed over for this request (its requestKey), once; else undefined. */
export function takeAnswered(key: string): UnixResponse | undefined {
  const g = globalThis as { [ANSWERED]?: Answered };
  const answered = g[ANSWERED];
  if (answered?.key !== key) return undefined;
  g[ANSWERED] = undefined;
  return answered.response;
}
