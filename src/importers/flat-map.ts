/**
 * Flat JSON and YAML maps, `{ "KEY": "value", … }` (what `authy env export --format json|yaml`
 * writes). Values must be strings: a number or a boolean would come back as different text
 * (`0123`, `1e3`, `yes`), so it is refused with the key named, never converted.
 */
import { AuthyError } from "../errors.js";
import { readFileChecked } from "../files/atomic-write.js";
import type { EnvEntry } from "../vault/env-transfer.js";
import { checkNames, entryText, type ImportSource } from "./source.js";

/** A map file larger than this is not one (as `env import`). */
const MAX_MAP_FILE_BYTES = 64 * 1024 * 1024;

/** What a value that is not a string is, with its article (`"PORT" is a number`), in the file's own terms. */
function valueKind(value: unknown, json: boolean): string {
  if (value === undefined) return "not a single value";
  if (value === null) return "empty";
  if (Array.isArray(value)) return json ? "an array" : "a list";
  if (value instanceof Uint8Array) return "binary data (!!binary)";
  if (value instanceof Date) return "a date";
  if (typeof value === "object") return json ? "an object" : "a map";
  if (typeof value === "bigint") return "an integer";
  const type = typeof value;
  return `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;
}

export async function readFlatMap(format: "json" | "yaml", source: string, namespace: string, text?: string): Promise<ImportSource> {
  const body = text ?? entryText(await readFileChecked(source, MAX_MAP_FILE_BYTES), source);
  const what = format === "json" ? "JSON" : "YAML";
  if (format === "json") {
    try {
      JSON.parse(body);
    } catch (e) {
      // Node's message quotes the text around the error, which may be a value: only the position.
      const at = /position (\d+)/.exec((e as Error).message)?.[1];
      const line = at === undefined ? "" : `:${body.slice(0, Number(at)).split("\n").length}`;
      throw new AuthyError("INVALID_INPUT", `${source}${line}: not valid JSON`);
    }
  }
  // The yaml library reads JSON too and, unlike JSON.parse, refuses a duplicate key.
  const { parseDocument, isMap, isScalar, isSeq } = await import("yaml");
  const doc = parseDocument(body, { uniqueKeys: true, prettyErrors: false });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0].line;
    throw new AuthyError("INVALID_INPUT", `${source}${line === undefined ? "" : `:${line}`}: not valid ${what} (${err.code.toLowerCase().replace(/_/g, " ")})`);
  }
  if (!isMap(doc.contents)) throw new AuthyError("INVALID_INPUT", `${source}: not a ${what} map of names to values`, { hint: 'e.g. { "API_KEY": "…" }' });
  const entries: EnvEntry[] = [];
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? pair.key.value : undefined;
    if (typeof key !== "string") throw new AuthyError("INVALID_INPUT", `${source}: every name must be a string (quote numeric names)`);
    const v = pair.value;
    if (!isScalar(v) || typeof v.value !== "string") {
      // Maps and lists stand in as {} and []: only their kind is named, never what they hold.
      const kind = valueKind(isScalar(v) ? v.value : isMap(v) ? {} : isSeq(v) ? [] : undefined, format === "json");
      throw new AuthyError("INVALID_INPUT", `${source}: ${JSON.stringify(key)} is ${kind}; values must be strings`, {
        hint: "quote the value; nested maps and lists are not imported (flat maps only)",
      });
    }
    entries.push({ key, value: v.value });
  }
  if (entries.length === 0) throw new AuthyError("INVALID_INPUT", `${source}: the map is empty`);
  checkNames(
    entries.map((e) => e.key),
    namespace,
    `${what} map`,
  );
  return { entries, notesDropped: 0 };
}
