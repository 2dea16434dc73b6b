import { AuthyError } from "../errors.js";
import { actorName, actsAsOwner } from "../vault/types.js";
import type { SlotInfo } from "../vault/key-slots.js";
import { op } from "./operation.js";
import { MAX_TEXT, shapes } from "./shapes.js";

/** The vault as a whole: doctor, owner events, key slots, and what only direct mode does. */

/** Operations that exist only in direct mode, answered with a pointer there rather than a 404. */
function directOnly(what: string, command: string, why: string): never {
  throw new AuthyError("INVALID_INPUT", `${what} is only possible in direct mode`, {
    hint: `lock the daemon (\`authy lock\`) and run \`${command}\`: ${why}`,
  });
}

/** The plan `GET /v1/me` names: there is no subscription on a server of one's own. */
const PLAN = "self-hosted";

export const vaultOperations = [
  op({
    // The Agent Secret Store's account summary (`ass login`, `ass whoami`): who the key
    // belongs to, the server's name as the tenant, and what the caller can see of the vault
    // (the secrets it may list, the agents it is or may manage). Nothing is spent or audited.
    name: "listSecretPaths",
    compat: true,
    method: "GET",
    path: "/v1/me",
    callers: ["owner", "token", "agent"],
    free: true,
    decode: async ({ vault: vaultOf, caller, server: { opts } }) => {
      const vault = vaultOf();
      const a = caller.actor;
      const who = actorName(a);
      // A member is named as added (`authy members add ana@example.com`); an agent, or a token of one, by the agent.
      const name = a.kind === "member" || a.kind === "agent" ? a.name : a.kind === "token" ? (a.agent ?? who) : who;
      const agents = actsAsOwner(a)
        ? (await vault.listAgents()).filter((g) => g.revokedAt === null).length
        : a.kind === "agent" || (a.kind === "token" && a.agent)
          ? 1
          : 0;
      const tenant = opts.serverName ?? "authy";
      return {
        id: a.kind === "member" || a.kind === "agent" ? a.id : who,
        email: a.kind === "member" ? a.name : who,
        name,
        kind: a.kind,
        role: actsAsOwner(a) ? "admin" : a.kind === "member" ? a.role : a.kind,
        plan: PLAN,
        subscription_status: "active",
        secret_count: (await vault.listSecretPaths()).length,
        agent_count: agents,
        tenant: { id: vault.vaultId, name: tenant, plan: PLAN },
        tenant_id: vault.vaultId,
        tenant_name: tenant,
      };
    },
  }),
  op({
    // Checks every authenticated row and the audit chain (doctor).
    name: "verify",
    method: "POST",
    path: "/v1/verify",
    callers: ["owner"],
    decode: async ({ vault }) => vault().verify(),
  }),
  op({
    // The core decides which events a token may record (its sandbox's refused hosts, its MCP tool calls).
    name: "recordEvent",
    method: "POST",
    path: "/v1/events",
    callers: ["owner", "token"],
    body: (z) =>
      z.strictObject({
        /** An audit action name such as `vault.backup` or `run.start`. */
        action: z
          .string()
          .regex(/^[a-z][a-z0-9_-]*(?:\.[a-z][a-z0-9_-]*)+$/, "must look like noun.verb")
          .max(64),
        resource: shapes(z).text,
        details: shapes(z).details.optional(),
      }),
    what: "event",
    encode: (action, resource, details) => ({ body: { action, resource, details } }),
    result: () => undefined,
    decode: async ({ vault, body: b }) => {
      await vault().recordEvent(b.action, b.resource, b.details);
      return { recorded: true };
    },
  }),
  op({
    name: "listKeys",
    method: "GET",
    path: "/v1/keys",
    callers: ["owner"],
    result: (json: { items: SlotInfo[] }) => json.items,
    decode: async ({ vault }) => ({ items: await vault().listKeys() }),
  }),
  op({
    name: "addRecipient",
    method: "POST",
    path: "/v1/keys",
    callers: ["owner"],
    created: true,
    body: (z) => z.strictObject({ recipient: z.string().max(MAX_TEXT), label: shapes(z).text.optional() }),
    what: "key",
    encode: (recipient, label) => ({ body: { recipient, label } }),
    decode: async ({ vault, body }) => vault().addRecipient(body.recipient, body.label),
  }),
  op({
    // By id or recipient.
    name: "removeKey",
    method: "DELETE",
    path: "/v1/keys/:id",
    callers: ["owner"],
    encode: (id) => ({ params: { id } }),
    decode: async ({ vault, params }) => vault().removeKey(params.id!),
  }),
  op({
    // A passphrase never travels over the API: the route only says where to go. Nothing is sent.
    name: "changePassphrase",
    method: "POST",
    path: "/v1/passwd",
    callers: ["owner"],
    encode: () => ({}),
    decode: async () => directOnly("changing the passphrase", "authy passwd", "a passphrase never travels over the API"),
  }),
  op({
    // Every value at once never travels over the API: the route only says where to go.
    name: "exportAll",
    method: "POST",
    path: "/v1/export",
    callers: ["owner"],
    encode: (namespace) => ({ body: { namespace } }),
    decode: async () => directOnly("exporting the whole vault", "authy export", "every value at once never travels over the API"),
  }),
] as const;
