/**
 * The formats of `authy env export --format …`. Each writer either produces text that its
 * reader turns back into exactly the given keys and values, or throws INVALID_INPUT naming the
 * key it cannot represent. None of them ever drops or alters a value silently.
 *
 * - dotenv      see dotenv.ts.
 * - json        `{ "KEY": "value" }` in the given order, 2-space indent, trailing newline.
 * - yaml        a mapping with every value double-quoted, so `yes`, `0123`, `null` and `~`
 *               stay strings for YAML 1.1 readers (PyYAML, go-yaml v2) as well as 1.2 ones;
 *               keys are plain unless either version would read them as something else.
 * - shell       `export KEY='value'` lines for `eval`/`source` in any POSIX shell.
 * - docker-env  `docker run --env-file`: `KEY=value` taken literally, no quoting and no
 *               multi-line values, so a value with a line break cannot be written. (docker
 *               compose's `env_file:` uses a dotenv parser instead; give it --format dotenv.)
 */
import { createRequire } from "node:module";
import type { YAMLMap } from "yaml";
import { AuthyError } from "../errors.js";
import { serializeDotenv } from "./dotenv.js";
import { EXPORT_FORMATS, type ExportFormat } from "./export-format-names.js";

export { EXPORT_FORMATS, type ExportFormat };

export interface EnvEntry {
  key: string;
  value: string;
}

/** A POSIX shell variable name (XBD 3.235). */
const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function serializeEnv(entries: readonly EnvEntry[], format: ExportFormat): string {
  switch (format) {
    case "dotenv":
      return serializeDotenv(entries);
    case "json":
      return serializeJson(checkUnique(entries));
    case "yaml":
      return serializeYaml(checkUnique(entries));
    case "shell":
      return serializeShell(checkUnique(entries));
    case "docker-env":
      return serializeDockerEnv(checkUnique(entries));
    default:
      throw new AuthyError("INVALID_INPUT", `unknown export format ${JSON.stringify(format)}`, {
        hint: `use one of: ${EXPORT_FORMATS.join(", ")}`,
      });
  }
}

/** Every reader below keeps one value per key, so a duplicate would silently lose a secret. */
function checkUnique(entries: readonly EnvEntry[]): readonly EnvEntry[] {
  const seen = new Set<string>();
  for (const { key } of entries) {
    if (key === "") throw new AuthyError("INVALID_INPUT", "empty key");
    if (seen.has(key)) throw new AuthyError("INVALID_INPUT", `${JSON.stringify(key)}: duplicate key`);
    seen.add(key);
  }
  return entries;
}

function serializeJson(entries: readonly EnvEntry[]): string {
  if (entries.length === 0) return "{}\n";
  // Written by hand rather than through an object so that the given order survives: a JS
  // object would move integer-like keys such as "1" to the front.
  const lines = entries.map(({ key, value }) => `  ${JSON.stringify(key)}: ${JSON.stringify(value)}`);
  return `{\n${lines.join(",\n")}\n}\n`;
}

/** The yaml package, loaded when YAML is asked for: every other format, and start-up, go without it. */
function yamlLibrary(): typeof import("yaml") {
  return createRequire(import.meta.url)("yaml") as typeof import("yaml");
}

function serializeYaml(entries: readonly EnvEntry[]): string {
  if (entries.length === 0) return "{}\n";
  const { Document, YAMLMap } = yamlLibrary();
  const doc = new Document(new YAMLMap(), { compat: "yaml-1.1" });
  const map = doc.contents as YAMLMap;
  for (const { key, value } of entries) map.add(doc.createPair(key, value));
  return doc.toString({
    defaultStringType: "QUOTE_DOUBLE",
    defaultKeyType: "PLAIN",
    // Never fold long values (tokens, PEM blocks) across lines.
    lineWidth: 0,
  });
}

function serializeShell(entries: readonly EnvEntry[]): string {
  return entries
    .map(({ key, value }) => {
      if (!SHELL_NAME.test(key)) {
        throw new AuthyError("INVALID_INPUT", `${JSON.stringify(key)}: not a valid shell variable name`, {
          hint: "shell names must match [A-Za-z_][A-Za-z0-9_]*; use --format dotenv or json",
        });
      }
      if (value.includes("\0")) {
        throw new AuthyError("INVALID_INPUT", `${key}: shell cannot represent a value containing a NUL character`, {
          hint: "use --format json",
        });
      }
      // Inside single quotes nothing is special but the quote itself, which is closed,
      // escaped and reopened.
      return `export ${key}='${value.replaceAll("'", `'\\''`)}'\n`;
    })
    .join("");
}

function serializeDockerEnv(entries: readonly EnvEntry[]): string {
  return entries
    .map(({ key, value }) => {
      // docker reads the name up to the first "=", refuses whitespace in it, and treats a line
      // starting with "#" as a comment.
      if (/[=\s\0]/.test(key) || key.startsWith("#")) {
        throw new AuthyError("INVALID_INPUT", `${JSON.stringify(key)}: not a valid docker-env variable name`, {
          hint: "use --format dotenv or json",
        });
      }
      const bad = value.includes("\n") ? "a newline" : value.includes("\r") ? "a carriage return" : value.includes("\0") ? "a NUL character" : undefined;
      if (bad !== undefined) {
        throw new AuthyError("INVALID_INPUT", `${key}: docker-env cannot represent a value containing ${bad}`, {
          hint: "use --format dotenv or json",
        });
      }
      return `${key}=${value}\n`;
    })
    .join("");
}
