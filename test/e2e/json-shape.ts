/**
 * The shape language of docs/json.md, and a checker for it. docs/json.md is the one source of
 * truth for what `--json` prints: its ```json shape=NAME blocks are parsed here, and
 * test/e2e/json.test.ts checks the built CLI's output against them.
 *
 * A shape is JSON:
 * - a string is a type: `string`, `integer`, `number`, `boolean`, `null`, `time` (ISO 8601,
 *   UTC, with milliseconds), `any`, a literal `'api_key'`, or `@name` (another shape);
 *   alternatives are joined with ` | `;
 * - `[X]` is an array whose every element is X;
 * - an object lists its keys exactly: `"key?"` may be absent, `"*"` stands for any key (a
 *   map), and `"...": "@name"` takes in every key of that object shape.
 */

export type Shape = string | Shape[] | { [key: string]: Shape };

/** ISO 8601 in UTC with milliseconds, as `new Date().toISOString()` writes it. */
export const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Every ```json shape=NAME block of a markdown text, parsed. */
export function shapesOf(markdown: string): Map<string, Shape> {
  const shapes = new Map<string, Shape>();
  for (const m of markdown.matchAll(/^```json shape=([a-z0-9-]+)\n([\s\S]*?)^```$/gm)) {
    const [, name, body] = m;
    if (shapes.has(name!)) throw new Error(`docs/json.md: shape ${name} is defined twice`);
    try {
      shapes.set(name!, JSON.parse(body!) as Shape);
    } catch (e) {
      throw new Error(`docs/json.md: shape ${name} is not JSON: ${(e as Error).message}`);
    }
  }
  return shapes;
}

/** Every `@name` a shape refers to. */
export function referencesOf(shape: Shape): string[] {
  if (typeof shape === "string")
    return shape
      .split(" | ")
      .filter((t) => t.startsWith("@"))
      .map((t) => t.slice(1));
  if (Array.isArray(shape)) return shape.flatMap(referencesOf);
  return Object.values(shape).flatMap(referencesOf);
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** The problems of `value` against `shape`, each with its JSON path; empty when it fits. */
export function check(value: unknown, shape: Shape, shapes: Map<string, Shape>, at = "$"): string[] {
  const resolve = (name: string): Shape => {
    const s = shapes.get(name);
    if (s === undefined) throw new Error(`docs/json.md: no shape named ${name} (used at ${at})`);
    return s;
  };
  if (typeof shape === "string") {
    const alternatives = shape.split(" | ");
    for (const t of alternatives) if (check1(value, t)) return [];
    // A single named shape: say what inside it is wrong rather than only "does not match".
    const named = alternatives.filter((t) => t.startsWith("@"));
    if (named.length === 1 && !(value === null && alternatives.includes("null"))) {
      const inner = check(value, resolve(named[0]!.slice(1)), shapes, at);
      if (inner.length > 0) return inner;
    }
    return [`${at}: ${describe(value)} is not ${shape}`];
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${at}: ${describe(value)} is not an array`];
    return value.flatMap((v, i) => check(v, shape[0]!, shapes, `${at}[${i}]`));
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [`${at}: ${describe(value)} is not an object`];
  const fields = expand(shape, resolve);
  const got = value as Record<string, unknown>;
  const problems: string[] = [];
  if ("*" in fields) {
    for (const [k, v] of Object.entries(got)) problems.push(...check(v, fields["*"], shapes, `${at}.${k}`));
    return problems;
  }
  for (const [k, s] of Object.entries(fields)) {
    const optional = k.endsWith("?");
    const key = optional ? k.slice(0, -1) : k;
    if (!(key in got)) {
      if (!optional) problems.push(`${at}.${key}: missing`);
      continue;
    }
    problems.push(...check(got[key], s, shapes, `${at}.${key}`));
  }
  const known = new Set(Object.keys(fields).map((k) => k.replace(/\?$/, "")));
  for (const k of Object.keys(got)) if (!known.has(k)) problems.push(`${at}.${k}: not in docs/json.md`);
  return problems;

  function check1(v: unknown, t: string): boolean {
    switch (t) {
      case "string":
        return typeof v === "string";
      case "integer":
        return typeof v === "number" && Number.isSafeInteger(v);
      case "number":
        return typeof v === "number" && Number.isFinite(v);
      case "boolean":
        return typeof v === "boolean";
      case "null":
        return v === null;
      case "time":
        return typeof v === "string" && ISO_TIME.test(v) && new Date(v).toISOString() === v;
      case "any":
        return true;
    }
    if (/^'[^']*'$/.test(t)) return v === t.slice(1, -1);
    if (t.startsWith("@")) return check(v, resolve(t.slice(1)), shapes, at).length === 0;
    throw new Error(`docs/json.md: unknown type ${JSON.stringify(t)} at ${at}`);
  }
}

/** An object shape with its `"...": "@name"` taken in. */
function expand(shape: { [key: string]: Shape }, resolve: (name: string) => Shape): { [key: string]: Shape } {
  const spread = shape["..."];
  if (spread === undefined) return shape;
  if (typeof spread !== "string" || !spread.startsWith("@")) throw new Error(`docs/json.md: "..." takes "@name", not ${JSON.stringify(spread)}`);
  const base = resolve(spread.slice(1));
  if (typeof base !== "object" || Array.isArray(base)) throw new Error(`docs/json.md: "..." needs an object shape, and ${spread} is not one`);
  const { "...": _, ...own } = shape;
  return { ...expand(base, resolve), ...own };
}
