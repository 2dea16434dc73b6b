/**
 * The proxy of a sandbox run with `--allow-host`: authy runs it outside the sandbox on a Unix
 * socket bound into it (the sandbox has no network of its own; a relay inside exposes the
 * socket on its loopback). It speaks both protocols that the child's HTTPS_PROXY, HTTP_PROXY
 * and ALL_PROXY point at, told apart by the first byte:
 *
 * - SOCKS5 (RFC 1928), no authentication, CONNECT only: a refused host gets reply 0x02,
 *   "connection not allowed by ruleset";
 * - HTTP: CONNECT tunnels, and plain requests in absolute form (`GET http://host/ HTTP/1.1`);
 *   a refused host gets 403 with a one-line reason.
 *
 * Names are resolved here, outside, so the allow-list is checked on the name the child asked
 * for. Every refusal is reported through onRefused (the CLI audits it). Hand-written and
 * small: the npm SOCKS servers are client libraries, unmaintained, or cannot share a socket
 * with an HTTP proxy.
 */
import http from "node:http";
import net from "node:net";
import { hostAllowed, type AllowedHost } from "../formats/allowed-host.js";

/** A client that has not finished its SOCKS greeting and request in this long is dropped. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** How long to wait for the real host to accept a connection. */
const CONNECT_TIMEOUT_MS = 30_000;

interface ProxyOptions {
  socketPath: string;
  allow: readonly AllowedHost[];
  onRefused(host: string, port: number, protocol: "socks5" | "http"): void;
}

export interface SandboxProxy {
  close(): Promise<void>;
}

export async function startSandboxProxy(options: ProxyOptions): Promise<SandboxProxy> {
  const web = http.createServer((req, res) => forwardRequest(options, req, res));
  web.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => tunnel(options, req, socket, head));
  web.on("clientError", (_e, socket) => socket.destroy());
  const sockets = new Set<net.Socket>();
  const server = net.createServer((conn) => {
    sockets.add(conn);
    conn.on("close", () => sockets.delete(conn));
    conn.on("error", () => conn.destroy());
    conn.setTimeout(HANDSHAKE_TIMEOUT_MS, () => conn.destroy());
    conn.once("readable", () => {
      const first = conn.read(1) as Buffer | null;
      if (first === null) return void conn.destroy();
      conn.unshift(first);
      if (first[0] === 5) return void socks(options, conn);
      conn.setTimeout(0); // the HTTP server's own header and request timeouts take over
      web.emit("connection", conn);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.socketPath, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Connects to an allowed host, or says why not; pipes the two ends once connected. */
function open(host: string, port: number, onOpen: (upstream: net.Socket) => void, onFail: (e: NodeJS.ErrnoException) => void): void {
  const upstream = net.connect({ host, port });
  upstream.setTimeout(CONNECT_TIMEOUT_MS, () => upstream.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
  upstream.once("error", onFail);
  upstream.once("connect", () => {
    upstream.setTimeout(0);
    upstream.off("error", onFail);
    onOpen(upstream);
  });
}

function splice(a: net.Socket, b: net.Socket): void {
  a.setTimeout(0);
  a.on("error", () => b.destroy());
  b.on("error", () => a.destroy());
  a.pipe(b).pipe(a);
}

function tunnel(options: ProxyOptions, req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
  const target = parseAuthority(req.url ?? "");
  if (target === null) return void socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
  if (!hostAllowed(options.allow, target.host, target.port)) {
    options.onRefused(target.host, target.port, "http");
    return void socket.end(refusal(target.host, target.port));
  }
  open(
    target.host,
    target.port,
    (upstream) => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      splice(socket, upstream);
    },
    (e) => socket.end(`HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\nauthy: cannot reach ${target.host}:${target.port}: ${e.code ?? e.message}\n`),
  );
}

function forwardRequest(options: ProxyOptions, req: http.IncomingMessage, res: http.ServerResponse): void {
  let url: URL;
  try {
    url = new URL(req.url ?? "");
  } catch {
    res.writeHead(400, { connection: "close" }).end("authy: the proxy takes absolute http:// URLs\n");
    return;
  }
  const port = Number(url.port || 80);
  if (url.protocol !== "http:") return void res.writeHead(400, { connection: "close" }).end("authy: only http:// URLs (use CONNECT for https)\n");
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!hostAllowed(options.allow, host, port)) {
    options.onRefused(host, port, "http");
    res.writeHead(403, { "content-type": "text/plain", connection: "close" }).end(refusalText(host, port));
    return;
  }
  const headers = { ...req.headers };
  delete headers["proxy-connection"];
  delete headers["proxy-authorization"];
  const upstream = http.request({ host, port, method: req.method, path: `${url.pathname}${url.search}`, headers, timeout: CONNECT_TIMEOUT_MS }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  upstream.on("timeout", () => upstream.destroy());
  upstream.on("error", (e: NodeJS.ErrnoException) => {
    if (!res.headersSent) res.writeHead(502, { connection: "close" }).end(`authy: cannot reach ${host}:${port}: ${e.code ?? e.message}\n`);
    else res.destroy();
  });
  req.pipe(upstream);
}

function refusalText(host: string, port: number): string {
  return `authy: ${host}:${port} is not an allowed host of this sandbox (--allow-host)\n`;
}

function refusal(host: string, port: number): string {
  const body = refusalText(host, port);
  return `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** `host:port` or `[v6]:port` of a CONNECT request. */
function parseAuthority(authority: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(authority);
  if (!m) return null;
  const port = Number(m[3]);
  return port >= 1 && port <= 65_535 ? { host: (m[1] ?? m[2])!, port } : null;
}

// SOCKS5 replies (RFC 1928 section 6).
const SOCKS_OK = 0x00;
const SOCKS_FAILURE = 0x01;
const SOCKS_NOT_ALLOWED = 0x02;
const SOCKS_UNREACHABLE = 0x04;
const SOCKS_REFUSED = 0x05;
const SOCKS_BAD_COMMAND = 0x07;
const SOCKS_BAD_ADDRESS = 0x08;

/** A SOCKS handshake is at most 3 + 255 + 262 bytes; a client that sends far more is not one. */
const MAX_HANDSHAKE_BYTES = 64 * 1024;

/** Exact byte counts off a socket for the handshake; what follows it is handed back. */
class HandshakeReader {
  private buffered = Buffer.alloc(0);
  private waiting: { n: number; resolve(bytes: Buffer | null): void } | null = null;
  private ended = false;
  private readonly onData = (d: Buffer) => {
    this.buffered = Buffer.concat([this.buffered, d]);
    if (this.buffered.length > MAX_HANDSHAKE_BYTES) this.conn.destroy();
    this.settle();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.settle();
  };

  constructor(private readonly conn: net.Socket) {
    conn.on("data", this.onData);
    conn.on("end", this.onEnd);
    conn.on("close", this.onEnd);
    conn.resume();
  }

  /** The next n bytes, or null if the connection ends first. */
  take(n: number): Promise<Buffer | null> {
    return new Promise((resolve) => {
      this.waiting = { n, resolve };
      this.settle();
    });
  }

  /** Stops reading; bytes already read past the handshake go back to the socket. */
  release(): void {
    this.conn.off("data", this.onData);
    this.conn.off("end", this.onEnd);
    this.conn.off("close", this.onEnd);
    this.conn.pause();
    if (this.buffered.length > 0) this.conn.unshift(this.buffered);
  }

  private settle(): void {
    const w = this.waiting;
    if (w === null) return;
    if (this.buffered.length >= w.n) {
      this.waiting = null;
      const bytes = this.buffered.subarray(0, w.n);
      this.buffered = this.buffered.subarray(w.n);
      w.resolve(bytes);
    } else if (this.ended) {
      this.waiting = null;
      w.resolve(null);
    }
  }
}

function reply(conn: net.Socket, code: number): void {
  conn.write(Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]));
}

async function socks(options: ProxyOptions, conn: net.Socket): Promise<void> {
  const reader = new HandshakeReader(conn);
  const greeting = await reader.take(2);
  if (greeting === null || greeting[1] === 0) return void conn.destroy();
  const methods = await reader.take(greeting[1]!);
  if (methods === null) return void conn.destroy();
  if (!methods.includes(0)) return void conn.end(Buffer.from([5, 0xff])); // we offer no authentication
  conn.write(Buffer.from([5, 0]));
  const head = await reader.take(4);
  if (head === null || head[0] !== 5) return void conn.destroy();
  if (head[1] !== 1) return void (reply(conn, SOCKS_BAD_COMMAND), conn.end());
  let host: string;
  if (head[3] === 1) {
    const a = await reader.take(4);
    if (a === null) return void conn.destroy();
    host = [...a].join(".");
  } else if (head[3] === 3) {
    const len = await reader.take(1);
    const name = len && (await reader.take(len[0]!));
    if (!name) return void conn.destroy();
    host = name.toString("latin1");
  } else if (head[3] === 4) {
    const a = await reader.take(16);
    if (a === null) return void conn.destroy();
    host = (a.toString("hex").match(/.{4}/g) ?? []).join(":");
  } else {
    return void (reply(conn, SOCKS_BAD_ADDRESS), conn.end());
  }
  const portBytes = await reader.take(2);
  if (portBytes === null) return void conn.destroy();
  const port = portBytes.readUInt16BE(0);
  if (!hostAllowed(options.allow, host, port)) {
    options.onRefused(host, port, "socks5");
    return void (reply(conn, SOCKS_NOT_ALLOWED), conn.end());
  }
  open(
    host,
    port,
    (upstream) => {
      reply(conn, SOCKS_OK);
      reader.release();
      splice(conn, upstream);
    },
    (e) => {
      reply(conn, e.code === "ECONNREFUSED" ? SOCKS_REFUSED : e.code === "ENOTFOUND" || e.code === "EHOSTUNREACH" ? SOCKS_UNREACHABLE : SOCKS_FAILURE);
      conn.end();
    },
  );
}
