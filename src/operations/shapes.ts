import { SECRET_TYPES, TIERS } from "../vault/types.js";
import type { Zod } from "./operation.js";

/**
 * The pieces that several operations' input schemas share. These check only types and sizes;
 * what the values mean (paths, scopes, versions, lifetimes) is checked by the core, so that a
 * mistake gets the same message in direct mode and through the API. Unknown fields are
 * refused rather than ignored: a misspelled `expiresAt` or an `ip_allowlist` we do not
 * enforce must not pass silently.
 */

/** Longest free-text field (descriptions, labels, audit resources). */
export const MAX_TEXT = 4096;
/** Most items in one list field (tags, refs, keys). */
export const MAX_ITEMS = 10_000;

const ONE_VALUE = { message: "give exactly one of value and valueBase64" };
function oneValue(v: { value?: string | undefined; valueBase64?: string | undefined }): boolean {
  return (v.value === undefined) !== (v.valueBase64 === undefined);
}

function build(z: Zod) {
  const text = z.string().max(MAX_TEXT);
  const base64 = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, "must be standard base64");
  /** A value as UTF-8 text (`value`) or as bytes (`valueBase64`): exactly one of the two. */
  const valueFields = { value: z.string().optional(), valueBase64: base64.optional() };
  return {
    text,
    /** A query flag (see isSet). */
    flag: z.enum(["1", "0", "true", "false", ""]).optional(),
    /** A number in a query string; the core checks its range with its own message. */
    numeric: z.string().max(32).optional(),
    details: z.record(z.string(), z.unknown()),
    secretWrite: z
      .strictObject({
        ...valueFields,
        type: z.enum(SECRET_TYPES).optional(),
        tier: z.enum(TIERS).optional(),
        /** The Agent Secret Store's names for type and tier (one spelling of each). */
        secret_type: z.enum(SECRET_TYPES).optional(),
        access_tier: z.enum(TIERS).optional(),
        description: text.optional(),
        tags: z.array(z.string().max(256)).max(256).optional(),
        expiresAt: z.number().nullable().optional(),
        /** Why, for the owner, when the write needs an approval. */
        reason: text.optional(),
        /** How the value was generated, remembered for `secrets rotate` (null forgets it). */
        generator: z
          .strictObject({ length: z.number().int(), charset: z.string().max(MAX_TEXT) })
          .nullable()
          .optional(),
      })
      .refine(oneValue, ONE_VALUE),
    secretRotate: z.strictObject(valueFields).refine(oneValue, ONE_VALUE),
  };
}

const built = new WeakMap<Zod, ReturnType<typeof build>>();

/** The shared pieces, built once per zod. */
export function shapes(z: Zod): ReturnType<typeof build> {
  let s = built.get(z);
  if (!s) built.set(z, (s = build(z)));
  return s;
}
