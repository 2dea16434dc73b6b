/** The nouns of the core, as the rest of authy sees them. */

export const SECRET_TYPES = ["api_key", "oauth_token", "db_credential", "ssh_key", "certificate", "custom"] as const;
export type SecretType = (typeof SECRET_TYPES)[number];

/** The largest value authy stores: enough for certificates and keys, small enough to keep in memory. */
export const MAX_VALUE_BYTES = 1024 * 1024;

export const TIERS = ["standard", "sensitive", "critical"] as const;
export type Tier = (typeof TIERS)[number];

import type { Scope } from "./policy/scope.js";
import type { Generator, RotationPending } from "./secret-attributes.js";

/**
 * Who is acting: the owner (passphrase, identity or owner session), an agent presenting its
 * key (only to obtain tokens, except `direct` on a team server), or a token, which carries
 * the scope it was limited to.
 * An agent is known by its id (`agentId`): its name is for people, and a name can be given
 * again to a new agent, which must not inherit anything of the old one.
 */
export type Actor =
  | { kind: "owner" }
  | AdminMember
  | { kind: "member"; name: string; id: string; role: "member"; scope: Scope }
  /** `direct`: its key was presented to a route of a server that lets agent keys act within their scope (ApiOptions.agentKeysDirect). */
  | { kind: "agent"; name: string; id: string; scope: Scope; direct?: true }
  | { kind: "token"; id: string; agent?: string; agentId?: string; scope: Scope; expiresAt: number };

/**
 * A member of a team server (src/vault/members.ts) with the admin role: the owner's rights,
 * under a name of its own in the audit log. A member of role `member` acts within its scope.
 */
interface AdminMember {
  kind: "member";
  name: string;
  id: string;
  role: "admin";
}

/** Whether the actor holds the owner's rights: the owner itself, or an admin member of a server. */
export function actsAsOwner(actor: Actor): actor is { kind: "owner" } | AdminMember {
  return actor.kind === "owner" || (actor.kind === "member" && actor.role === "admin");
}

export function actorName(actor: Actor): string {
  switch (actor.kind) {
    case "owner":
      return "owner";
    case "member":
      return `member:${actor.name}`;
    case "agent":
      return `agent:${actor.name}`;
    case "token":
      return actor.agent ? `token:${actor.id}(${actor.agent})` : `token:${actor.id}`;
  }
}

/** What authy knows about a secret, never its value. */
export interface SecretMeta {
  path: string;
  namespace: string;
  key: string;
  type: SecretType;
  tier: Tier;
  description: string;
  tags: string[];
  expiresAt: number | null;
  version: number;
  deletedAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** How `secrets rotate` makes a new value; absent for a secret set by hand. */
  generator?: Generator;
  /** A rotation asked for (bodyless rotate over the API) of a secret without a generator; gone with the next version. */
  rotationPending?: RotationPending;
}

/** One line of `secrets list`: what the authenticated listing holds. */
export interface SecretSummary {
  path: string;
  namespace: string;
  key: string;
  type: SecretType;
  tier: Tier;
  version: number;
  deletedAt: number | null;
  updatedAt: number;
  expiresAt: number | null;
  /** Only when asked for (ListOptions.rotation) and a rotation is pending. */
  rotationPending?: RotationPending;
}

export interface VersionInfo {
  version: number;
  type: SecretType;
  tier: Tier;
  createdAt: number;
  actor: string;
  current: boolean;
}

export interface SetOptions {
  type?: SecretType;
  tier?: Tier;
  description?: string;
  tags?: string[];
  /** Epoch ms; null clears an expiry; undefined keeps the current one. */
  expiresAt?: number | null;
  /** Why, shown to the owner when the write needs an approval (not stored with the secret). */
  reason?: string;
  /** Remember how this value was generated (null forgets it); undefined keeps what is stored. */
  generator?: Generator | null;
}

export function isSecretType(s: string): s is SecretType {
  return (SECRET_TYPES as readonly string[]).includes(s);
}

export function isTier(s: string): s is Tier {
  return (TIERS as readonly string[]).includes(s);
}
