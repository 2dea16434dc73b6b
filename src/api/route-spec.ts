import type { FastifyReply, FastifyRequest } from "fastify";
import type { Vault } from "../vault/vault.js";
import type { ActorKind, Caller } from "./auth.js";
import { lockedError } from "./auth.js";
import type { ApiLimits } from "./limits.js";
import type { AuthFailureLimiter } from "./auth-limit.js";
import type { RefusalLog } from "./refusal-log.js";

/**
 * What the HTTP application (app.ts) is given, and what a route is. It knows nothing of listeners, sockets or idle timers; the caller
 * gives it the vault (or null while locked) and a way to recognise the owner session.
 */
export interface ApiOptions {
  /** The unlocked vault (owner actor), or null while locked. */
  vault(): Vault | null;
  /** Token instance id: tokens are honoured only by the instance that issued them. */
  instance: string;
  /**
   * Whether a bearer proves the owner session (the daemon: an exported session's proof, bound
   * to the peer process). `peer` is what `peer()` said about the connection.
   */
  isOwnerSession(bearer: string, peer: unknown): boolean;
  /** The process at the other end of a request's connection (the daemon: SO_PEERCRED), or null. */
  peer?(req: FastifyRequest): unknown;
  /** Whether a caller with no credential is the owner by the process it is (the daemon: its terminal session). */
  isOwnerPeer?(peer: unknown): boolean;
  /**
   * An agent key may be used directly on routes for tokens, within the agent's scope and
   * audited as the agent (a CI job that holds only `ASS_AGENT_KEY`). The team server (`authy
   * serve`) turns it on; the daemon leaves it off: locally a running agent holds a token
   * (`authy run`), never its key, and the key's only use is the exchange.
   */
  agentKeysDirect?: boolean;
  /** The server's name: the tenant in `GET /v1/me` (default "authy"; `authy serve` gives its host name). */
  serverName?: string;
  /** Tokens bound to one process tree (`run --pass-token`); only the daemon has them. */
  processTokens?: ProcessTokenPolicy;
  /** Told about a refusal on a route that audits its refusals (`authy lock` by a non-owner). */
  onRefused?(action: string, peer: unknown, error: unknown): Promise<void>;
  /** Called on each authenticated request (the daemon's idle timer). */
  onActivity?(): void;
  /** `POST /v1/lock`. Without it the route answers UNAVAILABLE. */
  lock?(): Promise<void>;
  /** Merged into `GET /v1/status`. */
  status(): Record<string, unknown>;
  limits?: Partial<ApiLimits>;
  /** Told about unexpected failures (answered as INTERNAL, without detail), for the daemon's log. */
  onInternalError?(error: unknown): void;
  /** The team server's listener: TLS (certificate and key, PEM) instead of plain HTTP. */
  https?: { cert: Buffer; key: Buffer };
  /** Options of fastify's logger (pino); none by default (the daemon writes its own log). */
  logger?: Record<string, unknown>;
  /**
   * The reverse proxies (IPs, CIDRs, `loopback`) whose X-Forwarded-For names the client, so
   * that limits count per client rather than per proxy (fastify's trustProxy). None by default.
   */
  trustProxy?: string[];
  /** Failed authentication limited per identity and per client address (the team server). */
  authLimiter?: AuthFailureLimiter;
  /**
   * Every refused credential is answered no sooner than this after the request arrived, so that
   * an unknown one and a wrong one take the same time (their lookups differ by a few ms).
   */
  authFailureFloorMs?: number;
  /** `GET /v1/ready`: resolves when the store answers, throws (UNAVAILABLE) when it does not. Without it, ready means unlocked. */
  ready?(): Promise<void>;
}

export interface ProcessTokenPolicy {
  track(tokenId: string, anchorPid: number, opts?: { relayed?: boolean }): void;
  bind(tokenId: string, childPid: number, caller: unknown): void;
  admit(tokenId: string, peer: unknown): boolean;
}

export type Method = "GET" | "PUT" | "POST" | "DELETE";

/** One route: who may call it, and what it does. Handlers return the JSON body. */
export interface RouteSpec {
  method: Method;
  url: string;
  /** The kinds of caller allowed; empty means no authentication at all (health). */
  callers: readonly ActorKind[];
  /** Checking on an approval or the status spends none of a limited token's uses. */
  free?: boolean;
  /** An audit action recorded when a caller is refused here (a refused lock is worth knowing about). */
  refusal?: string;
  bodyLimit?: number;
  handler(req: FastifyRequest, caller: Caller, reply: FastifyReply): Promise<unknown>;
}

export interface RouteDeps {
  opts: ApiOptions;
  limits: ApiLimits;
  /** Where refusals outside the core are written, bounded (refusal-log.ts). */
  refusals: RefusalLog;
}

/** The vault acting as the caller; LOCKED while there is none. */
export function vaultOf(caller: Caller): Vault {
  if (!caller.vault) throw lockedError();
  return caller.vault;
}
