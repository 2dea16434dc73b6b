import { AuthyError } from "../errors.js";
import { validateNamespace, validatePath } from "../vault/path.js";
import { SECRET_TYPES, TIERS, type SecretMeta, type SetOptions } from "../vault/types.js";
import { decodeValue, encodeValue, pathOf } from "../api/wire.js";
import { flag, given, isSet, num, op, type Zod } from "./operation.js";
import { shapes } from "./shapes.js";

/**
 * Secrets: list, read, write, delete, restore, history, rollback, rotate, move, copy.
 *
 * Item routes take agent keys too, so that the core refuses them and audits the attempt.
 * Paths are validated by the client before a URL is built from them (the core's own message,
 * and never "normalized" by a URL parser into another name), and by the core on the server.
 */
const ANYONE = ["owner", "token", "agent"] as const;

/** `secrets mv` / `secrets cp`: the destination path (validated by the core). */
const transfer = (z: Zod) => z.strictObject({ to: z.string().max(4096), force: z.boolean().optional(), reason: shapes(z).text.optional() });
const ITEM = "/v1/secrets/:namespace/:key";

/** `namespace` and `key` of a validated path, for the item routes. */
function item(path: string): { namespace: string; key: string } {
  const p = validatePath(path);
  return { namespace: p.namespace, key: p.key };
}

/** The SecretMeta fields of a secret body (which may also carry the value). */
function metaOf(b: SecretMeta): SecretMeta {
  return {
    path: b.path,
    namespace: b.namespace,
    key: b.key,
    type: b.type,
    tier: b.tier,
    description: b.description,
    tags: b.tags,
    expiresAt: b.expiresAt,
    version: b.version,
    deletedAt: b.deletedAt,
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
    ...(b.generator === undefined ? {} : { generator: b.generator }),
  };
}

/** `?tags=["a","b"]`: a JSON array of strings, or INVALID_INPUT. */
function tagsOf(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  let tags: unknown;
  try {
    tags = JSON.parse(text);
  } catch {
    tags = null;
  }
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === "string"))
    throw new AuthyError("INVALID_INPUT", "invalid query: tags must be a JSON array of strings");
  return tags;
}

function base64Of(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
}

type WriteBody = { value?: string | undefined; valueBase64?: string | undefined } & { [K in keyof SetOptions]?: SetOptions[K] | undefined };

/** Writes a new version; the value buffer is wiped once the core has sealed it. */
async function write(
  vault: { setSecret(path: string, value: Uint8Array, o: SetOptions): Promise<SecretMeta> },
  path: string,
  b: WriteBody,
): Promise<SecretMeta> {
  const value = decodeValue(b);
  try {
    return await vault.setSecret(
      path,
      value,
      given({ type: b.type, tier: b.tier, description: b.description, tags: b.tags, expiresAt: b.expiresAt, reason: b.reason, generator: b.generator }),
    );
  } finally {
    value.fill(0);
  }
}

export const secretOperations = [
  op({
    name: "listSecrets",
    method: "GET",
    // Agent Secret Store's form: GET /v1/secrets?namespace=production%2Fgemini (no namespace: everything).
    path: "/v1/secrets/:namespace",
    also: ["/v1/secrets"],
    callers: ["owner", "token"],
    query: (z) =>
      z.strictObject({
        namespace: z.string().optional(),
        recursive: shapes(z).flag,
        deleted: shapes(z).flag,
        type: z.enum(SECRET_TYPES).optional(),
        tier: z.enum(TIERS).optional(),
        /** A JSON array of tags, every one of which a listed secret carries. */
        tags: z.string().max(65_536).optional(),
      }),
    encode: (o = {}) => ({
      params: { namespace: o.namespace === undefined || o.namespace === "" ? undefined : validateNamespace(o.namespace) },
      query: {
        recursive: flag(o.recursive),
        deleted: flag(o.includeDeleted),
        type: o.type,
        tier: o.tier,
        tags: o.tags?.length ? JSON.stringify(o.tags) : undefined,
      },
    }),
    result: (json: { items: never }) => json.items,
    decode: async ({ vault, params, query }) => {
      if (params.namespace !== undefined && query.namespace !== undefined) {
        throw new AuthyError("INVALID_INPUT", "give the namespace in the path or as ?namespace=, not both");
      }
      const ns = params.namespace ?? query.namespace;
      const tags = tagsOf(query.tags);
      const items = await vault().listSecrets({
        namespace: ns,
        recursive: isSet(query.recursive),
        includeDeleted: isSet(query.deleted),
        ...given({ type: query.type, tier: query.tier, tags }),
      });
      return { namespace: ns ?? null, items };
    },
  }),
  op({
    name: "getSecret",
    method: "GET",
    path: ITEM,
    callers: ANYONE,
    query: (z) =>
      z.strictObject({
        version: shapes(z).numeric,
        allowExpired: shapes(z).flag,
        encoding: z.enum(["utf8", "base64"]).optional(),
        reason: shapes(z).text.optional(),
      }),
    // authy's own client always asks for base64, so that binary survives byte for byte.
    encode: (path, o = {}) => ({
      params: item(path),
      query: { encoding: "base64", version: num(o.version), allowExpired: flag(o.allowExpired), reason: o.reason },
    }),
    result: (b: SecretMeta & { value?: string; valueBase64?: string }) => {
      const bytes = b.valueBase64 !== undefined ? Buffer.from(b.valueBase64, "base64") : Buffer.from(b.value ?? "", "utf8");
      const value = new Uint8Array(bytes); // a copy of its own, not a view of Node's shared pool
      bytes.fill(0);
      return { meta: metaOf(b), value };
    },
    decode: async ({ vault, params, query }) => {
      const { meta, value } = await vault().getSecret(
        pathOf(params),
        given({
          version: query.version === undefined ? undefined : Number(query.version),
          allowExpired: isSet(query.allowExpired) ? true : undefined,
          reason: query.reason,
        }),
      );
      try {
        return { ...meta, ...encodeValue(value, query.encoding === "base64") };
      } finally {
        value.fill(0);
      }
    },
  }),
  op({
    name: "setSecret",
    method: "PUT",
    path: ITEM,
    callers: ANYONE,
    body: (z) => shapes(z).secretWrite,
    what: "secret",
    encode: (path, value, o = {}) => ({ params: item(path), body: { valueBase64: base64Of(value), ...o } }),
    result: metaOf,
    decode: async ({ vault, params, body }) => write(vault(), pathOf(params), body),
  }),
  op({
    name: "deleteSecret",
    method: "DELETE",
    path: ITEM,
    callers: ANYONE,
    query: (z) => z.strictObject({ purge: shapes(z).flag }),
    encode: (path, o = {}) => ({ params: item(path), query: { purge: flag(o.purge) } }),
    decode: async ({ vault, params, query }) => vault().deleteSecret(pathOf(params), { purge: isSet(query.purge) }),
  }),
  op({
    // Deleted secrets too; never the value.
    name: "describeSecret",
    method: "GET",
    path: `${ITEM}/meta`,
    callers: ANYONE,
    encode: (path) => ({ params: item(path) }),
    decode: async ({ vault, params }) => vault().describeSecret(pathOf(params)),
  }),
  op({
    name: "restoreSecret",
    method: "POST",
    path: `${ITEM}/restore`,
    callers: ANYONE,
    encode: (path) => ({ params: item(path) }),
    decode: async ({ vault, params }) => vault().restoreSecret(pathOf(params)),
  }),
  op({
    name: "history",
    method: "GET",
    path: `${ITEM}/history`,
    callers: ANYONE,
    encode: (path) => ({ params: item(path) }),
    decode: async ({ vault, params }) => vault().history(pathOf(params)),
  }),
  op({
    name: "rollback",
    method: "POST",
    path: `${ITEM}/rollback`,
    callers: ANYONE,
    body: (z) => z.strictObject({ version: z.number() }),
    what: "rollback",
    encode: (path, version) => ({ params: item(path), body: { version } }),
    decode: async ({ vault, params, body }) => vault().rollback(pathOf(params), body.version),
  }),
  op({
    // `{ generate: true, … }` is authy's rotation: the core makes the value from the secret's
    // generator (`rotate` capability, audited as `secret.rotate`) and returns it only when
    // shown. A given value (Agent Secret Store's `POST …/rotate {value}`) is a write,
    // authorized and audited as one.
    name: "rotateSecret",
    method: "POST",
    path: `${ITEM}/rotate`,
    callers: ANYONE,
    body: (z) =>
      z.union([
        z.strictObject({
          generate: z.literal(true),
          length: z.number().int().optional(),
          charset: z.string().max(4096).optional(),
          show: z.boolean().optional(),
          reason: shapes(z).text.optional(),
        }),
        shapes(z).secretRotate,
      ]),
    what: "rotation",
    encode: (path, o = {}) => ({
      params: item(path),
      body: { generate: true, length: o.generator?.length, charset: o.generator?.charset, show: o.reveal, reason: o.reason },
    }),
    result: (b: SecretMeta & { value?: string }) => (b.value === undefined ? { meta: metaOf(b) } : { meta: metaOf(b), value: b.value }),
    decode: async ({ vault, params, body }) => {
      if (!("generate" in body)) return write(vault(), pathOf(params), body);
      const { meta, value } = await vault().rotateSecret(pathOf(params), {
        generator: given({ length: body.length, charset: body.charset }),
        ...given({ reveal: body.show, reason: body.reason }),
      });
      return value === undefined ? meta : { ...meta, value };
    },
  }),
  op({
    name: "moveSecret",
    method: "POST",
    path: `${ITEM}/move`,
    callers: ANYONE,
    body: (z) => transfer(z),
    what: "move",
    encode: (from, to, o = {}) => ({ params: item(from), body: { to: validatePath(to).path, force: o.force, reason: o.reason } }),
    result: metaOf,
    decode: async ({ vault, params, body }) => vault().moveSecret(pathOf(params), body.to, given({ force: body.force, reason: body.reason })),
  }),
  op({
    name: "copySecret",
    method: "POST",
    path: `${ITEM}/copy`,
    callers: ANYONE,
    body: (z) => transfer(z),
    what: "copy",
    encode: (from, to, o = {}) => ({ params: item(from), body: { to: validatePath(to).path, force: o.force, reason: o.reason } }),
    result: metaOf,
    decode: async ({ vault, params, body }) => vault().copySecret(pathOf(params), body.to, given({ force: body.force, reason: body.reason })),
  }),
] as const;
