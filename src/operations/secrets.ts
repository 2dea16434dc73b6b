import { AuthyError, isAuthyError } from "../errors.js";
import { validateNamespace, validatePath } from "../vault/path.js";
import { SECRET_TYPES, TIERS, type SecretMeta, type SetOptions } from "../vault/types.js";
import { ApiError } from "../api/http-status.js";
import { decodeValue, encodeValue, pathOf } from "../api/wire.js";
import { assSecret, withoutAss } from "./ass.js";
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

/** A secret's metadata with the Agent Secret Store's spelling of it alongside (ass.ts). */
function both(m: SecretMeta) {
  return { ...m, ...assSecret(m) };
}

/** Who can show only text: the Agent Secret Store's CLI (it prints `value`), or a client asking `?encoding=utf8`. */
function textOnly(encoding: string | undefined, userAgent: string | string[] | undefined): boolean {
  return encoding === "utf8" || (encoding === undefined && typeof userAgent === "string" && userAgent.startsWith("ass-cli"));
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

/** The Agent Secret Store's `secret_type` and `access_tier` as authy's `type` and `tier` (only one spelling of each). */
function authyWrite(b: WriteBody & { secret_type?: SetOptions["type"] | undefined; access_tier?: SetOptions["tier"] | undefined }): WriteBody {
  const { secret_type, access_tier, ...rest } = b;
  if ((secret_type !== undefined && b.type !== undefined) || (access_tier !== undefined && b.tier !== undefined))
    throw new AuthyError("INVALID_INPUT", "give type or secret_type, tier or access_tier, not both");
  return { ...rest, ...given({ type: b.type ?? secret_type, tier: b.tier ?? access_tier }) };
}

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
        /** Mark secrets whose rotation is pending (always on for one namespace, as `ass secrets list` asks). */
        rotation: shapes(z).flag,
      }),
    encode: (o = {}) => ({
      params: { namespace: o.namespace === undefined || o.namespace === "" ? undefined : validateNamespace(o.namespace) },
      query: {
        recursive: flag(o.recursive),
        deleted: flag(o.includeDeleted),
        type: o.type,
        tier: o.tier,
        tags: o.tags?.length ? JSON.stringify(o.tags) : undefined,
        rotation: flag(o.rotation),
      },
    }),
    result: (json: { items: never[] }) => json.items.map(withoutAss),
    decode: async ({ vault, params, query }) => {
      if (params.namespace !== undefined && query.namespace !== undefined) {
        throw new AuthyError("INVALID_INPUT", "give the namespace in the path or as ?namespace=, not both");
      }
      const ns = params.namespace ?? query.namespace;
      const tags = tagsOf(query.tags);
      const recursive = isSet(query.recursive);
      const rotation = isSet(query.rotation) || (ns !== undefined && !recursive);
      const items = await vault().listSecrets({
        namespace: ns,
        recursive,
        includeDeleted: isSet(query.deleted),
        ...given({ type: query.type, tier: query.tier, tags }),
        ...(rotation ? { rotation } : {}),
      });
      return { namespace: ns ?? null, items: items.map((i) => ({ ...i, ...assSecret(i, rotation ? (i.rotationPending?.at ?? null) : undefined) })) };
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
    decode: async ({ vault, params, query, headers }) => {
      const read = vault().getSecret(
        pathOf(params),
        given({
          version: query.version === undefined ? undefined : Number(query.version),
          allowExpired: isSet(query.allowExpired) ? true : undefined,
          reason: query.reason,
          textOnly: textOnly(query.encoding, headers["user-agent"]) ? true : undefined,
        }),
      );
      // The core refused a binary value before releasing it (textOnly): 422, as the Agent Secret Store answers.
      const { meta, value } = await read.catch((e: unknown) => {
        if (isAuthyError(e) && e.details?.notText === true) throw new ApiError(422, e.code, e.message, { hint: e.hint });
        throw e;
      });
      try {
        const encoded = encodeValue(value, query.encoding === "base64");
        return { ...both(meta), ...encoded };
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
    decode: async ({ vault, params, body }) => both(await write(vault(), pathOf(params), authyWrite(body))),
  }),
  op({
    name: "deleteSecret",
    method: "DELETE",
    path: ITEM,
    callers: ANYONE,
    // `reason` is shown to the owner when deleting a critical secret needs an approval.
    query: (z) => z.strictObject({ purge: shapes(z).flag, reason: shapes(z).text.optional() }),
    encode: (path, o = {}) => ({ params: item(path), query: { purge: flag(o.purge), reason: o.reason } }),
    result: metaOf,
    decode: async ({ vault, params, query }) =>
      both(await vault().deleteSecret(pathOf(params), { purge: isSet(query.purge), ...given({ reason: query.reason }) })),
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
    body: (z) => z.strictObject({ version: z.number(), reason: shapes(z).text.optional() }),
    what: "rollback",
    encode: (path, version, o = {}) => ({ params: item(path), body: { version, reason: o.reason } }),
    decode: async ({ vault, params, body }) => vault().rollback(pathOf(params), body.version, given({ reason: body.reason })),
  }),
  op({
    // `{ generate: true, … }` is authy's rotation: the core makes the value from the secret's
    // generator (`rotate` capability, audited as `secret.rotate`) and returns it only when
    // shown. A given value (Agent Secret Store's `POST …/rotate {value}`) is a write,
    // authorized and audited as one. No body at all (`ass secrets rotate`): a secret with a
    // generator gets a new value, returned when the caller may read it; one without is
    // flagged rotation-pending and the owner notified (src/vault/rotation-request.ts).
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
        z.strictObject({}),
      ]),
    what: "rotation",
    encode: (path, o = {}) => ({
      params: item(path),
      body: { generate: true, length: o.generator?.length, charset: o.generator?.charset, show: o.reveal, reason: o.reason },
    }),
    result: (b: SecretMeta & { value?: string }) => (b.value === undefined ? { meta: metaOf(b) } : { meta: metaOf(b), value: b.value }),
    decode: async ({ vault, params, body }) => {
      if (!("generate" in body) && !("value" in body) && !("valueBase64" in body)) {
        const { meta, value } = await vault().rotateSecret(pathOf(params), { reveal: "if-allowed", orRequest: true });
        const pending = meta.rotationPending !== undefined;
        return {
          ...both(meta),
          ...(value === undefined ? {} : { value }),
          rotation_pending: pending,
          message: pending
            ? `${meta.path} has no generator: its rotation is pending and the owner has been notified`
            : `${meta.path} rotated to version ${meta.version}`,
        };
      }
      if (!("generate" in body)) return both(await write(vault(), pathOf(params), body));
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
