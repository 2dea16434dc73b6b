/**
 * One HTTP/1.1 request to the daemon over its Unix socket, on node:net alone.
 *
 * node:http would do, but loading it costs a command about 10 ms of start-up: a third of
 * what `authy secrets get` through the daemon may take in all (bench: daemon-get). The other
 * end is always our daemon (fastify on node:http), so this speaks the small part of HTTP/1.1
 * it needs: one request per connection (`Connection: close`), a response delimited by
 * Content-Length, by chunked encoding, or by the close. Team servers over TCP keep node:http.
 */
import net from "node:net";

export interface UnixRequest {
  method: string;
  /** The request target: path and query, already encoded. */
  path: string;
  headers: Record<string, string | number>;
  body?: Buffer;
  timeoutMs: number;
  /** A larger response is refused (its error has code AUTHY_TOO_LARGE). */
  maxBytes: number;
  /** Checks the process at the other end once connected, before anything is sent; throws to refuse it. */
  checkPeer?: (socket: net.Socket, socketPath: string) => void;
}

interface UnixResponse {
  status: number;
  body: Buffer;
}

const HEADER_END = Buffer.from("\r\n\r\n");

/** Errors carry a code like Node's own: ENOENT, ECONNREFUSED, …, or AUTHY_TIMEOUT, AUTHY_TOO_LARGE, AUTHY_BAD_RESPONSE. */
function failure(code: string, message: string): NodeJS.ErrnoException {
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

export function unixRequest(socketPath: string, req: UnixRequest): Promise<UnixResponse> {
  return new Promise((resolve, reject) => {
    let head: string;
    try {
      head = requestText(req);
    } catch (e) {
      reject(e);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const socket = net.connect(socketPath);
    const settle = (error: Error | null, response?: UnixResponse) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (error) reject(error);
      else resolve(response!);
    };
    /** The response, once all of it is here (or, at the close, whatever there is). */
    const complete = (closed: boolean): UnixResponse | null => {
      const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      chunks.length = 0;
      chunks.push(data);
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
    };
    const check = (closed: boolean) => {
      try {
        const response = complete(closed);
        if (response) settle(null, response);
      } catch (e) {
        settle(e as Error);
      }
    };
    socket.setTimeout(req.timeoutMs, () => settle(failure("AUTHY_TIMEOUT", "timeout")));
    socket.on("connect", () => {
      try {
        req.checkPeer?.(socket, socketPath);
      } catch (e) {
        settle(e as Error);
        return;
      }
      socket.write(req.body ? Buffer.concat([Buffer.from(head, "latin1"), req.body]) : head);
    });
    socket.on("data", (c: Buffer) => {
      size += c.length;
      if (size > req.maxBytes) {
        settle(failure("AUTHY_TOO_LARGE", `a response larger than ${req.maxBytes} bytes`));
        return;
      }
      chunks.push(c);
      check(false);
    });
    socket.on("end", () => check(true));
    socket.on("close", () => check(true));
    socket.on("error", (e) => settle(e));
  });
}
