import { AuthyError } from "../errors.js";
import type { AgentInfo } from "../vault/agents.js";
import type { ApprovalInfo } from "../vault/approval-info.js";
import type { AuditEntry } from "../vault/audit-query.js";
import type { Capability } from "../vault/policy/capability.js";
import type { Rule, Scope } from "../vault/policy/scope.js";
import { validateNamespace } from "../vault/path.js";
import type { SecretMeta, SecretSummary } from "../vault/types.js";

/**
 * The Agent Secret Store's side of the shared routes (its `ass` CLI 1.0.0 and its REST API):
 * the snake_case fields with ISO times that its clients read, added next to authy's own
 * (camelCase, epoch ms) in the same response, and its scope words mapped onto authy's
 * capabilities. authy's own client drops these fields again (`withoutAss`), so that what the
 * CLI prints does not change.
 */

/** Every field this module adds; none of them is ever an authy field (authy's are camelCase). */
const ASS_FIELDS = new Set([
  "secret_type",
  "access_tier",
  "created_at",
  "updated_at",
  "metadata",
  "rotation_pending",
  "api_key",
  "api_key_prefix",
  "active",
  "last_active_at",
  "allowed_namespaces",
  "allowed_scopes",
  "agent_id",
  "requested_scopes",
  "expires_at",
  "event_type",
  "actor_id",
  "resource_type",
  "resource_id",
  "scopes",
]);

/** The record as authy's client knows it: the Agent Secret Store's fields removed. */
export function withoutAss<T>(o: T): T {
  if (typeof o !== "object" || o === null) return o;
  return Object.fromEntries(Object.entries(o).filter(([k]) => !ASS_FIELDS.has(k))) as T;
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** A secret's fields (list item, metadata or value): never the value itself, which both spell `value`. */
export function assSecret(m: SecretSummary | SecretMeta, rotationPending?: number | null) {
  const meta = m as Partial<SecretMeta>;
  return {
    secret_type: m.type,
    access_tier: m.tier,
    ...(meta.createdAt === undefined ? {} : { created_at: iso(meta.createdAt) }),
    updated_at: iso(m.updatedAt),
    metadata: { version: m.version, description: meta.description ?? "", tags: meta.tags ?? [], expires_at: iso(m.expiresAt) },
    ...(rotationPending === undefined ? {} : { rotation_pending: rotationPending !== null }),
  };
}

/** The Agent Secret Store's words for what a key may do, as authy capabilities. */
const SCOPE_WORDS: Readonly<Record<string, readonly Capability[]>> = {
  "read:secrets": ["read", "list"],
  "write:secrets": ["write", "delete", "list"],
  "rotate:secrets": ["rotate", "list"],
  "import:secrets": ["write", "list"],
};
/** Creating and revoking agents: the owner's (an admin's) alone, never a token's or an agent's. */
const MANAGE_AGENTS = "manage:agents";

/** Whether `scopes` are all Agent Secret Store words (rather than authy's compact scopes). */
export function areScopeWords(scopes: readonly string[]): boolean {
  return scopes.length > 0 && scopes.every((s) => s === MANAGE_AGENTS || Object.hasOwn(SCOPE_WORDS, s));
}

/**
 * The scope words of a token request, null when `scopes` is authy's compact form. A two-part
 * item (`verb:noun`) is never compact (that has three), so an unknown one is named as a word.
 */
export function scopeWordsOf(scopes: readonly string[] | undefined): readonly string[] | null {
  if (scopes === undefined) return null;
  if (areScopeWords(scopes)) return scopes;
  const unknown = scopes.filter((s) => s.split(":").length === 2 && s !== MANAGE_AGENTS && !Object.hasOwn(SCOPE_WORDS, s));
  if (unknown.length > 0) {
    throw new AuthyError("INVALID_INPUT", `unknown scope word ${unknown.map((w) => JSON.stringify(w)).join(", ")}`, {
      hint: `use ${[...Object.keys(SCOPE_WORDS), MANAGE_AGENTS].join(", ")}, or authy's scopes such as secrets:read:prod/*`,
    });
  }
  return null;
}

function capabilitiesOf(words: readonly string[]): Capability[] {
  const caps = new Set<Capability>();
  for (const w of words) for (const c of SCOPE_WORDS[w] ?? []) caps.add(c);
  return [...caps];
}

/**
 * A token's scope from scope words: the caller's own scope narrowed to those capabilities
 * (its deny rules kept), or for the owner every path with them. `manage:agents` is refused:
 * agents are managed by the owner (an admin's member key), which no token ever is.
 */
export function narrowedScope(own: Scope | null, words: readonly string[]): Scope {
  if (words.includes(MANAGE_AGENTS)) {
    if (own !== null) throw new AuthyError("ACCESS_DENIED", "manage:agents is for admins only", { hint: "ask an admin to create or revoke the agent" });
    throw new AuthyError("INVALID_INPUT", "a token cannot manage agents", { hint: "manage agents with your own admin key (ass agents create / revoke)" });
  }
  const caps = capabilitiesOf(words);
  const name = words.join(",");
  if (own === null) return { name, allow: [{ path: "**", capabilities: caps }], deny: [] };
  const allow: Rule[] = own.allow
    .map((r) => ({ path: r.path, capabilities: r.capabilities.filter((c) => caps.includes(c)) }))
    .filter((r) => r.capabilities.length > 0);
  if (allow.length === 0) throw new AuthyError("ACCESS_DENIED", `your scope allows none of ${name}`, { hint: `your scope is ${JSON.stringify(own.name)}` });
  return { name: `${own.name} (${name})`, allow, deny: own.deny };
}

/** An agent's compact scope from the Agent Secret Store's namespaces and scope words: each word on every key of each namespace. */
export function agentScopeSpec(namespaces: readonly string[], words: readonly string[]): string {
  if (words.includes(MANAGE_AGENTS)) {
    throw new AuthyError("INVALID_INPUT", "an agent cannot manage agents in authy", {
      hint: "leave out manage:agents; admins manage agents with their own key",
    });
  }
  if (!areScopeWords(words)) throw new AuthyError("INVALID_INPUT", `unknown scope word; use ${Object.keys(SCOPE_WORDS).join(", ")}`);
  if (namespaces.length === 0) throw new AuthyError("INVALID_INPUT", "an agent needs at least one namespace");
  const caps = capabilitiesOf(words).join("+");
  // Each a namespace as a path names it: a comma or a glob would make rules of its own.
  return namespaces.map((ns) => `secrets:${caps}:${validateNamespace(ns)}/*`).join(",");
}

/** The namespaces and scope words an agent's rules amount to (for `ass agents list --json`). */
function wordsOf(rules: readonly Rule[] | null): { allowed_namespaces: string[]; allowed_scopes: string[] } {
  if (rules === null) return { allowed_namespaces: [], allowed_scopes: [] };
  const namespaces = new Set(rules.map((r) => r.path.replace(/\/\*\*?$/, "")));
  const caps = new Set(rules.flatMap((r) => r.capabilities));
  const words = Object.entries(SCOPE_WORDS)
    .filter(([, cs]) => cs.every((c) => caps.has(c)))
    .map(([w]) => w);
  return { allowed_namespaces: [...namespaces], allowed_scopes: words };
}

/** `keyPrefix`: agent keys' own (`authy_ak_`), passed in so that authy's client never loads the agents module. */
export function assAgent(a: AgentInfo, rules: readonly Rule[] | null, lastActive: number | null, keyPrefix: string) {
  return {
    api_key_prefix: `${keyPrefix}${a.id}`,
    active: a.revokedAt === null,
    last_active_at: iso(lastActive),
    created_at: iso(a.createdAt),
    ...wordsOf(rules),
  };
}

export function assApproval(a: ApprovalInfo) {
  return {
    agent_id: a.agent ?? a.principal,
    access_tier: a.tier,
    // A delete or purge is asked for as a write (the Agent Secret Store's write:secrets holds `delete`).
    requested_scopes: [a.action === "secret.read" ? "read:secrets" : "write:secrets"],
    created_at: iso(a.createdAt),
    expires_at: iso(a.expiresAt),
  };
}

export function assEvent(e: AuditEntry) {
  return { id: String(e.seq), created_at: iso(e.ts), event_type: e.action, actor_id: e.actor, resource_type: null, resource_id: e.resource };
}
