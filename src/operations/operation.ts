import type { z } from "zod";
import type { Caller } from "../api/auth.js";
import type { RouteDeps } from "../api/route-spec.js";
import type { TokenInfo } from "../vault/tokens.js";
import type { Vault } from "../vault/vault.js";

/**
 * What one entry of the table of operations (index.ts) says. Plain data: the route, who may
 * call it, the input's shape, and the two halves of the wire side by side: how the HTTP client
 * turns a call into a request (`encode`, then `result` for the answer), and how the server
 * turns that request back into the call (`decode`). The API registers a route per entry
 * (src/api/routes.ts), the HTTP client gets a method per entry (src/client/http-client.ts),
 * and `VaultClient` is the `Vault` picked by the entries' names (src/client/vault-client.ts).
 *
 * Schemas are functions of zod (`(z) => z.strictObject(...)`): the table is read by the CLI's
 * HTTP client on every start, which must not load zod; only the server calls them, once.
 */
export type Zod = typeof z;
export type Method = "GET" | "PUT" | "POST" | "DELETE";
/**
 * On a server, an admin member is admitted wherever the owner is, and a member of role member
 * wherever a token is (it acts within its scope) and where "member" is listed (api/auth.ts, admits).
 */
type Callers = readonly ("owner" | "member" | "token" | "agent")[];

/** The token operations, which exist only on a daemon or a server (the Vault's own take an instance). */
export interface TokenOperations {
  /** Issues a token (daemon and server only: a token means nothing in direct mode). */
  issueToken(opts: IssueTokenRequest): Promise<IssuedToken>;
  listTokens(): Promise<TokenInfo[]>;
  revokeToken(id: string): Promise<TokenInfo>;
  /** Binds a process-tree token to the caller's child (`run --pass-token`; the daemon only). */
  bindToken(id: string, childPid: number): Promise<void>;
}

export interface IssueTokenRequest {
  /** A stored scope name or compact scopes (`secrets:read:prod/*,…`); default: the caller's own. */
  scope?: string;
  ttlMs?: number;
  uses?: number;
  agent?: string;
  label?: string;
  /** Bind to a process: the daemon revokes the token when this pid is gone. */
  pid?: number;
  /** Only descendants of `pid` may use it, and after bindToken() only that child's tree. */
  processTree?: boolean;
  /** With processTree: only `pid` itself may use it (it relays for a sandboxed child). */
  relayed?: boolean;
}

export interface IssuedToken {
  token: string;
  id: string;
  expiresAt: number;
  scope: string;
  notices: string[];
}

/** Everything an operation can be named after: a method of the Vault, or a token operation. */
export type Operations = Omit<Vault, keyof TokenOperations> & TokenOperations;
type Nameable = { [K in keyof Operations]: Operations[K] extends (...args: never[]) => Promise<unknown> ? K : never }[keyof Operations];

type Args<N extends Nameable> = Parameters<Operations[N]>;
type Result<N extends Nameable> = Awaited<ReturnType<Operations[N]>>;

/** A request as the client builds it: values for the path's `:params`, the query, the body. */
export interface Wire {
  params?: Record<string, string | undefined>;
  query?: Record<string, string | undefined>;
  body?: unknown;
}

/** What the server's half gets: the request, parsed by the entry's schemas, and who sent it. */
interface Decoding<Q, B> {
  /** The vault acting as the caller (LOCKED while there is none). */
  vault: () => Vault;
  caller: Caller;
  /** The server's own vault (the owner), for what needs no caller (a run's end); LOCKED while there is none. */
  owner: () => Vault;
  params: Record<string, string>;
  query: Q;
  body: B;
  server: RouteDeps;
  /** The process at the other end (the daemon: SO_PEERCRED), for tokens bound to a process. */
  peer: () => unknown;
  /** The request's headers (a client that can show only text: src/operations/secrets.ts). */
  headers: Record<string, string | string[] | undefined>;
}

// encode, result and decode are methods, not properties: a method's parameters are compared
// bivariantly, so that each entry's own signature fits the table's element type.
export interface Operation<N extends Nameable = Nameable, Q = unknown, B = unknown> {
  name: N;
  method: Method;
  /** The route under /v1, with `:params`; the client fills them from `encode`'s params. */
  path: string;
  /** More routes for the same operation (the server serves each; the client takes the first whose params it has). */
  also?: readonly string[];
  /** A second route into an operation that has one already, for other clients (Agent Secret Store's); authy's client does not use it. */
  compat?: boolean;
  /** Who may call it; empty: anyone, with no credential at all. The core decides the rest. */
  callers: Callers;
  /** Spends none of a limited token's uses (checking on an approval, issuing a child token). */
  free?: boolean;
  /** 201 instead of 200. */
  created?: boolean;
  /** The import's larger body limit (ApiLimits.importBodyLimit). */
  largeBody?: boolean;
  query?: (z: Zod) => z.ZodType<Q>;
  body?: (z: Zod) => z.ZodType<B>;
  /** How the body is named in an error (`invalid secret: …`). */
  what?: string;
  /** Client: the call as a request. Absent: no params, query or body. */
  encode?(...args: Args<N>): Wire;
  /** Client: the call's result from the response's JSON. Absent: the JSON as it is. */
  result?(json: never, ...args: Args<N>): Result<N>;
  /** Server: the request as the call; returns the response's JSON. */
  decode(d: Decoding<Q, B>): Promise<unknown>;
}

/** One entry, typed against its operation (an identity at run time). */
export function op<N extends Nameable, Q = undefined, B = undefined>(entry: Operation<N, Q, B>): Operation<N, Q, B> {
  return entry;
}

/** A query flag: `?recursive`, `?recursive=1` and `?recursive=true` are on; absent, `0` and `false` are off. */
export function isSet(v: string | undefined): boolean {
  return v === "1" || v === "true" || v === "";
}

/** How the client sends a flag: `1`, or nothing. */
export function flag(on: boolean | undefined): string | undefined {
  return on ? "1" : undefined;
}

/** A number in a query string, or nothing. */
export function num(v: number | undefined): string | undefined {
  return v === undefined ? undefined : String(v);
}

/** Drops undefined fields, so that the core sees an option only when it was given. */
export function given<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
