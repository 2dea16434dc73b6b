import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from "node:http";
import { createRequire } from "node:module";
import { AuthyError, isAuthyError, isErrorCode, type ErrorCode } from "../errors.js";
import { CLIENT_TIMEOUT_MS, isLoopbackHost, jsonHeaders, MAX_RESPONSE_BYTES, requestKey, serverRequest, takeAnswered, type UnixRequest } from "./http-wire.js";
import { unixRequest } from "./unix-http.js";

/**
 * JSON over HTTP to the daemon (Unix socket, see unix-http.ts) or a team server (TCP, node:http
 * or node:https, loaded only then). Error bodies become the same AuthyError the core threw, so
 * the CLI prints the same thing either way.
 */
export interface TransportOptions {
  socketPath?: string;
  baseUrl?: string;
  bearer?: string;
  mode: "daemon" | "server";
  /** How long a request may go without a byte from the other side. */
  timeoutMs?: number;
  /** Where the bearer came from, so that a refused one is explained in the caller's terms. */
  credential?: Credential;
  /** Refuses a daemon that is not the one expected, before anything is sent (see unix-http.ts). */
  checkPeer?: UnixRequest["checkPeer"];
}

/** The environment variable a bearer came from. */
/** `login`: the key a profile stored; `login-offer`: the key being given to `authy login`, not stored yet. */
type Credential = "AUTHY_SESSION" | "AUTHY_TOKEN" | "AUTHY_AGENT_KEY" | "login" | "login-offer";

/**
 * What a refused credential (HTTP 401) means to the one who sent it: the daemon answers the
 * same for every bad credential (so as not to tell an attacker which part was wrong), but the
 * CLI knows which variable it used.
 */
const REFUSED: Record<Credential, { code: ErrorCode; message: string; hint: string }> = {
  AUTHY_SESSION: {
    code: "LOCKED",
    message: "this shell's AUTHY_SESSION is no longer valid: the vault was locked, or the daemon restarted, since it was issued",
    hint: 'run `eval "$(authy unlock)"` again for a new session, or `unset AUTHY_SESSION` to use the passphrase',
  },
  AUTHY_TOKEN: {
    code: "ACCESS_DENIED",
    message: "AUTHY_TOKEN was refused: it is unknown, expired, used up or revoked",
    hint: "ask the owner for a new one (`authy tokens create`)",
  },
  AUTHY_AGENT_KEY: {
    code: "ACCESS_DENIED",
    message: "AUTHY_AGENT_KEY was refused: it is unknown, or its agent was revoked",
    hint: "the owner can check with `authy agents list`",
  },
  login: {
    code: "ACCESS_DENIED",
    message: "the member key stored by `authy login` was refused: it is unknown, rotated or revoked",
    hint: "log in again with a valid key (`authy login`), or ask an admin (`authy members list`)",
  },
  "login-offer": {
    code: "ACCESS_DENIED",
    message: "the server refused this member key: it is unknown, rotated or revoked; nothing was stored",
    hint: "check that the whole key was given, or ask an admin for a new one (`authy members rotate-key NAME`)",
  },
};

export type Method = "GET" | "PUT" | "POST" | "DELETE";
type Query = Record<string, string | undefined>;

/** Idle keep-alive connections kept for the next request of this process. */
const MAX_FREE_SOCKETS = 4;

type RequestFn = (options: RequestOptions, cb: (res: IncomingMessage) => void) => ClientRequest;

export class HttpTransport {
  private agent: Agent | undefined;
  private readonly base: URL | undefined;
  private requestFn: RequestFn | undefined;
  private readonly timeoutMs: number;

  constructor(private readonly opts: TransportOptions) {
    if (!opts.socketPath && !opts.baseUrl) throw new AuthyError("INVALID_INPUT", "no daemon socket or server URL given");
    if (opts.baseUrl) {
      try {
        this.base = new URL(opts.baseUrl);
      } catch {
        throw new AuthyError("INVALID_INPUT", "invalid server URL", { hint: "use http(s)://host:port, as in --api-url https://vault.example.com" });
      }
      if (this.base.protocol !== "http:" && this.base.protocol !== "https:") {
        throw new AuthyError("INVALID_INPUT", `unsupported server URL scheme ${this.base.protocol}`, { hint: "use http:// or https://" });
      }
      if (opts.bearer !== undefined && /[^\t\x20-\x7e\x80-\xff]/.test(opts.bearer)) {
        // Node.js would refuse it as a header (an "unexpected error"): name it as the daemon's client does.
        throw new AuthyError("INVALID_INPUT", `the credential for the authy server at ${this.base.origin} is malformed (invalid characters)`);
      }
      if (opts.bearer !== undefined && this.base.protocol === "http:" && !isLoopbackHost(this.base.hostname) && !process.env.AUTHY_INSECURE_HTTP) {
        // As `authy serve` listens in plain HTTP off loopback only when told to, a credential goes there only when told to.
        throw new AuthyError("INVALID_INPUT", `will not send a credential in clear to ${this.base.origin}`, {
          hint: "use https://, or set AUTHY_INSECURE_HTTP=1 on a network you trust (a server started with --insecure-http)",
        });
      }
    }
    this.timeoutMs = opts.timeoutMs ?? CLIENT_TIMEOUT_MS;
  }

  /** Sends one request and returns its parsed JSON body; throws the server's AuthyError on failure. */
  async call<T>(method: Method, path: string, options: { body?: unknown; query?: Query } = {}): Promise<T> {
    const search = queryString(options.query);
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body), "utf8");
    const headers = jsonHeaders(this.opts.bearer, payload);
    if (!this.base) return this.overSocket(this.opts.socketPath!, method, `${path}${search}`, headers, payload) as Promise<T>;
    const send = this.sender();
    const target: RequestOptions = { method, path: `${this.base.pathname.replace(/\/+$/, "")}${path}${search}`, headers, agent: this.agent };
    target.protocol = this.base.protocol;
    target.hostname = this.base.hostname.replace(/^\[|\]$/g, "");
    if (this.base.port) target.port = Number(this.base.port);
    const answered = payload ? undefined : takeAnswered(requestKey(this.base.origin, serverRequest(method, target.path!, this.opts.bearer)));
    if (answered) return this.decode(answered.status, answered.body) as T;
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.once(send, target, payload)) as T;
      } catch (e) {
        // A kept-alive socket the server closed meanwhile fails on first use: a GET is safe to resend.
        if (attempt === 0 && method === "GET" && (e as { reused?: boolean }).reused) continue;
        throw e;
      }
    }
  }

  close(): void {
    this.agent?.destroy();
  }

  private async overSocket(
    socketPath: string,
    method: Method,
    target: string,
    headers: Record<string, string | number>,
    payload: Buffer | undefined,
  ): Promise<unknown> {
    let res;
    try {
      res = await unixRequest(socketPath, {
        method,
        path: target,
        headers,
        body: payload,
        timeoutMs: this.timeoutMs,
        maxBytes: MAX_RESPONSE_BYTES,
        checkPeer: this.opts.checkPeer,
      });
    } catch (e) {
      if (isAuthyError(e)) throw e;
      const err = e as NodeJS.ErrnoException;
      if (err.code === "AUTHY_BAD_HEADER") throw new AuthyError("INVALID_INPUT", `the credential for the daemon is malformed (${err.message})`);
      if (err.code === "AUTHY_TOO_LARGE" || err.code === "AUTHY_BAD_RESPONSE") throw this.unexpected(err.message);
      throw this.connectionError(err);
    }
    return this.decode(res.status, res.body);
  }

  private sender(): RequestFn {
    if (!this.requestFn) {
      // require(), not import(): the bundled CLI runs in a node:vm script without an import() loader.
      const load = createRequire(import.meta.url);
      const http = (this.base?.protocol === "https:" ? load("node:https") : load("node:http")) as typeof import("node:http");
      this.agent = new http.Agent({ keepAlive: true, maxFreeSockets: MAX_FREE_SOCKETS });
      this.requestFn = http.request;
    }
    return this.requestFn;
  }

  private once(send: RequestFn, target: RequestOptions, payload: Buffer | undefined): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = send(target, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy();
            reject(this.unexpected(`a response larger than ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on("error", (e) => reject(this.connectionError(e)));
        res.on("end", () => {
          try {
            resolve(this.decode(res.statusCode ?? 0, Buffer.concat(chunks)));
          } catch (e) {
            reject(e);
          }
        });
      });
      req.setTimeout(this.timeoutMs, () => {
        req.destroy(Object.assign(new Error("timeout"), { code: "AUTHY_TIMEOUT" }));
      });
      req.on("error", (e: NodeJS.ErrnoException) => {
        const err = this.connectionError(e);
        if (req.reusedSocket && (e.code === "ECONNRESET" || e.code === "EPIPE")) Object.assign(err, { reused: true });
        reject(err);
      });
      req.end(payload);
    });
  }

  private decode(status: number, raw: Buffer): unknown {
    if (status === 204) return undefined;
    let body: unknown;
    try {
      body = raw.length === 0 ? undefined : JSON.parse(raw.toString("utf8"));
    } catch {
      throw this.unexpected(`a response that is not JSON (HTTP ${status})`);
    }
    if (status >= 200 && status < 300) return body;
    if (status === 401 && this.opts.credential) {
      const refused = REFUSED[this.opts.credential];
      throw new AuthyError(refused.code, refused.message, { hint: refused.hint });
    }
    const error = (body as { error?: { code?: unknown; message?: unknown; hint?: unknown; details?: unknown } } | undefined)?.error;
    if (!error || !isErrorCode(error.code) || typeof error.message !== "string") {
      throw this.unexpected(`HTTP ${status} without an authy error`);
    }
    return rethrow(error.code, error.message, error.hint, error.details);
  }

  private get peer(): string {
    return this.opts.mode === "daemon" ? "the daemon" : `the authy server at ${this.base?.origin ?? "?"}`;
  }

  private unexpected(what: string): AuthyError {
    return new AuthyError("UNAVAILABLE", `${this.peer} sent ${what}`, { hint: "is this an authy daemon or server of the same version?" });
  }

  private connectionError(e: NodeJS.ErrnoException): AuthyError {
    const code = e.code ?? "";
    if (code === "AUTHY_TIMEOUT") return new AuthyError("UNAVAILABLE", `${this.peer} did not answer within ${Math.round(this.timeoutMs / 1000)}s`);
    if (this.opts.mode === "daemon" && (code === "ENOENT" || code === "ECONNREFUSED")) {
      return new AuthyError("UNAVAILABLE", "the daemon is not running", { hint: "start it with `authy unlock`" });
    }
    if (code === "EACCES" || code === "EPERM")
      return new AuthyError("UNAVAILABLE", `not allowed to connect to ${this.peer}`, { hint: "the socket belongs to another user" });
    if (code === "ECONNRESET" || code === "EPIPE")
      return new AuthyError("UNAVAILABLE", `${this.peer} closed the connection`, { hint: "try again; if it persists, see `authy status`" });
    if (this.opts.mode === "server") {
      return new AuthyError("UNAVAILABLE", `cannot reach ${this.peer} (${code || "connection failed"})`, {
        hint: "check --api-url / AUTHY_API_URL, or `authy login`",
      });
    }
    return new AuthyError("UNAVAILABLE", `cannot talk to the daemon (${code || "connection failed"})`, {
      hint: "see `authy status`; restart it with `authy lock` then `authy unlock`",
    });
  }
}

function rethrow(code: ErrorCode, message: string, hint: unknown, details: unknown): never {
  throw new AuthyError(code, message, {
    ...(typeof hint === "string" ? { hint } : {}),
    ...(details !== null && typeof details === "object" && !Array.isArray(details) ? { details: details as Record<string, unknown> } : {}),
  });
}

function queryString(query: Query | undefined): string {
  if (!query) return "";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) if (v !== undefined) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  return parts.length === 0 ? "" : `?${parts.join("&")}`;
}
