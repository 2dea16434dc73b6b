import { AuthyError, integrityError } from "../errors.js";
import { CHARSETS, generateValue, MAX_GENERATED_LENGTH } from "./generate.js";

/**
 * A secret's attributes as stored in its row's `tags` column (covered by the row MAC, so fresh
 * and authenticated with the rest of its metadata):
 *
 *   ["tag", …]                                              tags only (every row before generators)
 *   {"tags": ["tag", …], "generator": {"length": N, "charset": C}}   with a remembered generator
 *   {"tags": […], ["generator": {…},] "rotationPending": {"at": MS, "by": ACTOR}}   rotation asked for
 *
 * The generator is what `secrets generate` (or `secrets rotate --length/--charset`) used, so that
 * `secrets rotate` can make a new value of the same shape. It lives in the existing column so
 * that no store (SQLite, PostgreSQL) needs a new one; a secret without a generator keeps the
 * array form byte for byte.
 */
export interface Generator {
  length: number;
  /** A named charset (alnum, hex, …) or the characters to draw from. */
  charset: string;
}

/** Longest custom alphabet remembered: far more than any real one, small enough for a row. */
const MAX_CHARSET_LENGTH = 1024;

/**
 * A rotation asked for over the API (the Agent Secret Store's bodyless rotate) of a secret
 * that has no generator: someone has to issue a new value elsewhere. Kept until the next
 * version is written, which drops it (a new version is written with tags and generator only).
 */
export interface RotationPending {
  /** Epoch ms. */
  at: number;
  /** Who asked (an actor name). */
  by: string;
}

export function encodeAttributes(tags: readonly string[], generator: Generator | null, pending: RotationPending | null = null): string {
  if (generator === null && pending === null) return JSON.stringify(tags);
  return JSON.stringify({
    tags,
    ...(generator === null ? {} : { generator: { length: generator.length, charset: generator.charset } }),
    ...(pending === null ? {} : { rotationPending: { at: pending.at, by: pending.by } }),
  });
}

export function decodeAttributes(text: string, path: string): { tags: string[]; generator: Generator | null; rotationPending?: RotationPending } {
  const bad = () => integrityError(`the attributes of secret ${JSON.stringify(path)} are malformed`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad();
  }
  if (Array.isArray(parsed)) return { tags: parsed as string[], generator: null };
  if (typeof parsed !== "object" || parsed === null) throw bad();
  const { tags, generator, rotationPending } = parsed as { tags?: unknown; generator?: unknown; rotationPending?: unknown };
  if (!Array.isArray(tags)) throw bad();
  if (rotationPending === undefined) {
    if (!isGenerator(generator)) throw bad();
    return { tags: tags as string[], generator };
  }
  if (!isPending(rotationPending) || (generator !== undefined && !isGenerator(generator))) throw bad();
  return { tags: tags as string[], generator: generator ?? null, rotationPending };
}

function isPending(p: unknown): p is RotationPending {
  if (typeof p !== "object" || p === null) return false;
  const { at, by } = p as Record<string, unknown>;
  return Number.isSafeInteger(at) && typeof by === "string" && by.length > 0;
}

function isGenerator(g: unknown): g is Generator {
  if (typeof g !== "object" || g === null) return false;
  const { length, charset } = g as Record<string, unknown>;
  return (
    Number.isInteger(length) &&
    (length as number) >= 1 &&
    (length as number) <= MAX_GENERATED_LENGTH &&
    typeof charset === "string" &&
    charset.length > 0 &&
    charset.length <= MAX_CHARSET_LENGTH
  );
}

/**
 * Makes a value with a generator given by a caller (command line or API), checking it first:
 * the length and alphabet as generateValue checks them, and an alphabet short enough to store.
 */
export function generateWith(g: Generator): string {
  if (typeof g.charset !== "string" || g.charset.length > MAX_CHARSET_LENGTH) {
    throw new AuthyError(
      "INVALID_INPUT",
      `--charset must be a named charset (${Object.keys(CHARSETS).join(", ")}) or at most ${MAX_CHARSET_LENGTH} characters`,
    );
  }
  return generateValue(g.length, g.charset);
}
