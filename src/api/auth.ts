import { AuthyError } from "../errors.js";
import { AGENT_KEY_PREFIX } from "../vault/agents.js";
import { TOKEN_PREFIX, type TokenInfo } from "../vault/tokens.js";
import type { Actor } from "../vault/types.js";
import type { Vault } from "../vault/vault.js";
import { ApiError } from "./http-status.js";

/**
 * Who is calling. `Authorization: Bearer <credential>`, where the credential is one of
 * - the owner session secret (checked by the daemon, in constant time) → the owner;
 * - a token `authy_tk_…` → the token, acting within its scope (a use is spent per request);
 * - an agent key `authy_ak_…` → the agent, which may only exchange its key for a token.
 * Every refused credential gets the same 401 body, whatever the reason.
 */
export type ActorKind = Actor["kind"];

export interface Caller {
  actor: Actor;
  /** The vault acting as the caller; null only for the owner while the vault is locked. */
  vault: Vault | null;
  /** The token presented, when the caller is a token. */
  token?: TokenInfo;
  /** How the owner was recognised: its terminal session, or the proof of an exported session. */
  via?: "terminal" | "session";
}

export interface Authenticator {
  vault(): Vault | null;
  instance: string;
  isOwnerSession(bearer: string, peer: unknown): boolean;
  processTokens?: { admit(tokenId: string, peer: unknown): boolean };
}

const TOKEN_ID = /^authy_tk_([a-z2-7]+)_/;

/** Longest credential looked at; anything longer is refused without touching the vault. */
const MAX_CREDENTIAL_LENGTH = 512;

/** One body for unknown, expired, revoked, exhausted and malformed credentials alike. */
export function badCredentials(): ApiError {
  return new ApiError(401, "ACCESS_DENIED", "invalid or expired credentials", {
    hint: "use a valid token (AUTHY_TOKEN), or work from the terminal that ran `authy unlock`",
  });
}

export function missingCredentials(): ApiError {
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

export async function authenticate(auth: Authenticator, bearer: string, opts: { spend?: boolean; peer?: unknown } = {}): Promise<Caller> {
  if (bearer.length > MAX_CREDENTIAL_LENGTH) throw badCredentials();
  if (auth.isOwnerSession(bearer, opts.peer ?? null)) {
    const vault = auth.vault();
    return { actor: vault ? vault.actor : { kind: "owner" }, vault, via: "session" };
  }
  const isToken = bearer.startsWith(TOKEN_PREFIX);
  if (!isToken && !bearer.startsWith(AGENT_KEY_PREFIX)) throw badCredentials();
  const owner = auth.vault();
  if (!owner) throw lockedError(); // tokens and keys can only be checked with the vault key
  if (isToken) {
    // A token bound to a process tree (`run --pass-token`) is refused elsewhere before a use is spent.
    const id = TOKEN_ID.exec(bearer)?.[1];
    if (id !== undefined && auth.processTokens && !auth.processTokens.admit(id, opts.peer ?? null)) throw badCredentials();
    const check = await owner.useToken(bearer, auth.instance, { spend: opts.spend ?? true });
    if (!check.ok) throw badCredentials();
    const t = check.token;
    const actor: Actor = { kind: "token", id: t.id, scope: t.scope, expiresAt: t.expiresAt };
    if (t.agent !== null) actor.agent = t.agent;
    return { actor, vault: owner.as(actor), token: t };
  }
  const agent = await owner.verifyAgentKey(bearer);
  if (!agent) throw badCredentials();
  let scope;
  try {
    scope = await owner.resolveScope(agent.scope);
  } catch (e) {
    if (!(e instanceof AuthyError) || e.code !== "NOT_FOUND") throw e;
    throw new AuthyError("ACCESS_DENIED", `agent ${agent.name}'s scope ${JSON.stringify(agent.scope)} no longer exists`, {
      hint: "the owner can restore it in the policy (`authy policy apply`) or recreate the agent",
    });
  }
  const actor: Actor = { kind: "agent", name: agent.name, scope };
  return { actor, vault: owner.as(actor) };
}

/** The refusal for a known caller on a route that is not for its kind. */
export function notForCaller(kind: ActorKind): AuthyError {
  if (kind === "agent") {
    return new AuthyError("ACCESS_DENIED", "an agent key can only be exchanged for a token", {
      hint: "create a token with `authy tokens create` (POST /v1/tokens) and use AUTHY_TOKEN",
    });
  }
  return new AuthyError("ACCESS_DENIED", "only the owner can do this", {
    hint: "work from the terminal that ran `authy unlock`, or give the passphrase",
  });
}
