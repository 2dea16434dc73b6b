import type { MemberInfo } from "../vault/members.js";
import { op } from "./operation.js";

/** Members of a team server: added, listed and revoked by an admin; each rotates its own key. */

const items = <T>(json: { items: T }): T => json.items;

export const memberOperations = [
  op({
    name: "listMembers",
    method: "GET",
    path: "/v1/members",
    callers: ["owner"],
    result: items<MemberInfo[]>,
    decode: async ({ vault }) => ({ items: await vault().listMembers() }),
  }),
  op({
    // The answer holds the new member's key, shown once.
    name: "addMember",
    method: "POST",
    path: "/v1/members",
    callers: ["owner"],
    created: true,
    body: (z) => z.strictObject({ name: z.string().max(200), role: z.string().max(40), scope: z.string().max(4096).optional() }),
    what: "member",
    encode: (name, o) => ({ body: { name, role: o.role, scope: o.scope } }),
    decode: async ({ vault, body: b }) => vault().addMember(b.name, { role: b.role, ...(b.scope === undefined ? {} : { scope: b.scope }) }),
  }),
  op({
    // Its key stops working at once, in every server process.
    name: "revokeMember",
    method: "DELETE",
    path: "/v1/members/:name",
    callers: ["owner"],
    encode: (name) => ({ params: { name } }),
    decode: async ({ vault, params }) => vault().revokeMember(params.name!),
  }),
  op({
    // A member's own key (no name), or an admin's rotation of another's.
    name: "rotateMemberKey",
    method: "POST",
    path: "/v1/members/key",
    callers: ["owner", "member"],
    body: (z) => z.strictObject({ name: z.string().max(200).optional() }),
    what: "key rotation",
    encode: (name) => ({ body: name === undefined ? {} : { name } }),
    decode: async ({ vault, body: b }) => vault().rotateMemberKey(b.name),
  }),
] as const;
