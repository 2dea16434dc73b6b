import { AuthyError } from "../errors.js";
import { AGENT_KEY_PREFIX } from "../vault/agents.js";
import { MEMBER_KEY_PREFIX } from "../vault/members.js";
import { presentedTokenId, TOKEN_PREFIX, type TokenInfo } from "../vault/tokens.js";
import type { Actor } from "../vault/types.js";
import type { Vault } from "../vault/vault.js";
import { ApiError } from "./http-status.js";
import type { Refusal } from "./refusal-log.js";

/**
 * Who is calling. `Authorization: Bearer <credential>`, where the credential is one of
 * - the owner session secret (checked by the daemon, in constant time) → the owner;
 * - a token `authy_tk_…` → the token, acting within its scope (a use is spent per request);
 * - an agent key `authy_ak_…` → the agent, which exchanges its key for a token (on a team
 *   server that lets agent keys act directly, ApiOptions.agentKeysDirect, it also acts
 *   within its own scope);
 * - a member key `authy_mk_…` (a team server's people) → the member: an admin, or a member
 *   acting within its scope.
 * Every refused credential gets the same 401 body, whatever the reason.
 */
export type ActorKind = Actor["kind"];

export interface Caller {
  actor: Actor;
  /** The vault acting as the caller; null only for the owner while the vault is locked. */
  vault: Vault | null;
  /** The token presented, when the caller is a token. */
  token?: TokenInfo;
  /**
   * For a token with a number of uses (its own or its family's): spends one use (false when
   * none is left by now), and gives it back when the request released nothing.
   */
  uses?: { spend(): Promise<boolean>; refund(): Promise<void> };
  /** How the owner was recognised: its terminal session, or the proof of an exported session. */
  via?: "terminal" | "session";
}

interface Authenticator {
  vault(): Vault | null;
  instance: string;
  isOwnerSession(bearer: string, peer: unknown): boolean;
  processTokens?: { admit(tokenId: string, peer: unknown): boolean };
  /** Set on a team server (`authy serve`), which has no owner terminal: its refusals say what to send instead. */
  serverName?: string;
}

const TOKEN_ID = /^authy_tk_([a-z2-7]+)_/;

/** Longest credential looked at; anything longer is refused without touching the vault. */
const MAX_CREDENTIAL_LENGTH = 512;

/** What a team server asks for: it has no owner terminal, only credentials. */
const SERVER_CREDENTIALS_HINT = "send a member key (`authy login`), a token (AUTHY_TOKEN) or an agent key (AUTHY_AGENT_KEY)";

/** One body for unknown, expired, revoked, exhausted and malformed credentials alike. */
export function badCredentials(onServer = false): ApiError {
  return new ApiError(401, "ACCESS_DENIED", "invalid or expired credentials", {
    hint: onServer ? SERVER_CREDENTIALS_HINT : "use a valid token (AUTHY_TOKEN), or work from the terminal that ran `authy unlock`",
  });
}

export function missingCredentials(onServer = false): ApiError {
  if (onServer) return new ApiError(401, "ACCESS_DENIED", "no credentials given", { hint: SERVER_CREDENTIALS_HINT });
  return new ApiError(401, "ACCESS_DENIED", "no credentials given, and this process is not in the terminal session that unlocked the vault", {
    hint: "the owner works from the terminal that ran `authy unlock`; agents send a token (AUTHY_TOKEN)",
  });
}

export function lockedError(): AuthyError {
  return new AuthyError("LOCKED", "the vault is locked", { hint: "unlock it with `authy unlock`" });
}

/** The credential from an Authorization header, or undefined when none is given. */
export function bearerOf(header: string | undefined): string | undefined {
  if (header === undefined || header === "") return undefined;
  const m = /^Bearer +(\S+) *$/i.exec(header);
  if (!m) throw badCredentials();
  return m[1]!;
}

/** The prefix of owner sessions (src/daemon/session.ts): a wrong one is a guessed owner session. */
const OWNER_SESSION_PREFIX = "authy_os_";

/**
 * Who the bearer is, or the one 401. Every refusal is noted (`refused`, bounded by the
 * caller: src/api/refusal-log.ts) under a name that is never text from the request: a
 * credential nobody issued is `token:unknown`, `agent-key:unknown`, `session:unknown` or
 * `bearer:unknown`. With `spend`, one use of a limited token is spent here; the API spends
 * it later instead (app.ts), once the route is known to be for the caller.
 */
export async function authenticate(
  auth: Authenticator,
  bearer: string,
  opts: { spend?: boolean; peer?: unknown; refused?: (r: Refusal) => Promise<void>; resource?: string } = {},
): Promise<Caller> {
  const resource = opts.resource ?? "api";
  const onServer = auth.serverName !== undefined;
  const refuse = async (actor: string, action: string, reason: string): Promise<never> => {
    await opts.refused?.({ actor, action, resource, reason });
    throw badCredentials(onServer);
  };
  if (bearer.length > MAX_CREDENTIAL_LENGTH) return refuse("bearer:unknown", "auth.denied", "too long");
  if (auth.isOwnerSession(bearer, opts.peer ?? null)) {
    const vault = auth.vault();
    return { actor: vault ? vault.actor : { kind: "owner" }, vault, via: "session" };
  }
  if (bearer.startsWith(OWNER_SESSION_PREFIX)) return refuse("session:unknown", "auth.denied", "not the owner session");
  const isToken = bearer.startsWith(TOKEN_PREFIX);
  const isMember = bearer.startsWith(MEMBER_KEY_PREFIX);
  if (!isToken && !isMember && !bearer.startsWith(AGENT_KEY_PREFIX)) return refuse("bearer:unknown", "auth.denied", "no known kind of credential");
  const owner = auth.vault();
  if (!owner) throw lockedError(); // tokens and keys can only be checked with the vault key
  if (isToken) {
    // A token bound to a process tree (`run --pass-token`) is refused elsewhere before a use is spent.
    const id = TOKEN_ID.exec(bearer)?.[1];
    if (id !== undefined && auth.processTokens && !auth.processTokens.admit(id, opts.peer ?? null)) throw badCredentials(onServer);
    const check = await owner.useToken(bearer, auth.instance, { spend: opts.spend ?? true });
    if (!check.ok) {
      // A token that exists (its secret matched) is named; any other is "unknown".
      const id = check.reason === "unknown" ? null : presentedTokenId(bearer);
      return refuse(id ? `token:${id}` : "token:unknown", "token.use.denied", check.reason);
    }
    const t = check.token;
    const actor: Actor = { kind: "token", id: t.id, scope: t.scope, expiresAt: t.expiresAt };
    if (t.agent !== null) actor.agent = t.agent;
    if (t.agentId !== null) actor.agentId = t.agentId;
    const caller: Caller = { actor, vault: owner.as(actor), token: t };
    if (check.limited) {
      caller.uses = {
        spend: async () => {
          const spent = await owner.useToken(bearer, auth.instance, { spend: true });
          if (!spent.ok) await opts.refused?.({ actor: `token:${t.id}`, action: "token.use.denied", resource, reason: spent.reason });
          return spent.ok;
        },
        refund: () => owner.refundUse(t.id),
      };
    }
    return caller;
  }
  if (isMember) return authenticateMember(owner, bearer, refuse);
  const check = await owner.verifyAgentKey(bearer);
  if (!check.ok) return refuse(check.who, "agent.auth.denied", check.reason);
  const agent = check.agent;
  let scope;
  try {
    scope = await owner.resolveScope(agent.scope);
  } catch (e) {
    if (!(e instanceof AuthyError) || e.code !== "NOT_FOUND") throw e;
    throw new AuthyError("ACCESS_DENIED", `agent ${agent.name}'s scope ${JSON.stringify(agent.scope)} no longer exists`, {
      hint: "the owner can restore it in the policy (`authy policy apply`) or recreate the agent",
    });
  }
  const actor: Actor = { kind: "agent", name: agent.name, id: agent.id, scope };
  return { actor, vault: owner.as(actor) };
}

async function authenticateMember(owner: Vault, bearer: string, refuse: (actor: string, action: string, reason: string) => Promise<never>): Promise<Caller> {
  const check = await owner.verifyMemberKey(bearer);
  if (!check.ok) return refuse(check.who, "member.auth.denied", check.reason);
  const m = check.member;
  if (m.role === "admin") {
    const actor: Actor = { kind: "member", name: m.name, id: m.id, role: "admin" };
    return { actor, vault: owner.as(actor) };
  }
  let scope;
  try {
    scope = await owner.resolveScope(m.scope);
  } catch (e) {
    if (!(e instanceof AuthyError) || e.code !== "NOT_FOUND") throw e;
    throw new AuthyError("ACCESS_DENIED", `member ${m.name}'s scope ${JSON.stringify(m.scope)} no longer exists`, {
      hint: "an admin can restore it in the policy (`authy policy apply`) or add the member again",
    });
  }
  const actor: Actor = { kind: "member", name: m.name, id: m.id, role: "member", scope };
  return { actor, vault: owner.as(actor) };
}

/**
 * Whether a route open to `callers` admits this actor: an admin member wherever the owner is;
 * a member of role member where members are listed or wherever a token is (within its scope).
 */
export function admits(callers: readonly ActorKind[], actor: Actor): boolean {
  if (actor.kind === "agent" && actor.direct) return callers.includes("agent") || callers.includes("token");
  if (actor.kind === "member") return callers.includes(actor.role === "admin" ? "owner" : "member") || (actor.role === "member" && callers.includes("token"));
  return callers.includes(actor.kind);
}

/** The refusal for a known caller on a route that is not for its kind. */
export function notForCaller(kind: ActorKind, onServer = false): AuthyError {
  if (kind === "agent" && !onServer) {
    return new AuthyError("ACCESS_DENIED", "an agent key can only be exchanged for a token", {
      hint: "create a token with `authy tokens create` (POST /v1/tokens) and use AUTHY_TOKEN",
    });
  }
  // A server has no owner terminal, and agent keys act directly there: what the owner does, its admins do.
  if (kind === "member" || onServer) {
    return new AuthyError("ACCESS_DENIED", "only an admin can do this", {
      hint: kind === "member" ? "ask an admin of this server" : "ask an admin of this server, or log in with an admin's key (`authy login`)",
    });
  }
  return new AuthyError("ACCESS_DENIED", "only the owner can do this", {
    hint: "work from the terminal that ran `authy unlock`, or give the passphrase",
  });
}
