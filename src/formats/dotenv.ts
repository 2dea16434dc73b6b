/**
 * The dotenv format, as read by `authy env import` and `authy run --env-file`, and written by
 * `authy env export --format dotenv`.
 *
 * Grammar (one entry per logical line; a quoted value may span lines):
 *
 *   line    = ws* ( "#" any* | [ "export" ws+ ] KEY ws* "=" ws* value ws* [ "#" any* ] )? EOL
 *   KEY     = [A-Za-z_][A-Za-z0-9_.-]*              (see KEY_PATTERN)
 *   value   = '"' double-quoted '"'                 escapes \n \r \t \" \\ \$; may span lines
 *           | "'" literal "'"                       no escapes at all; may span lines
 *           | "`" literal "`"                       no escapes at all; may span lines
 *           | unquoted                              rest of the line, see below
 *   ws      = space or tab
 *
 * - Line endings: CRLF and lone CR are read as LF, so a quoted multi-line value always holds
 *   "\n" between its lines, whatever the file used. A UTF-8 byte order mark is ignored.
 * - Unquoted values run to the end of the line and are trimmed of spaces and tabs (only those:
 *   a no-break space is part of the value). A "#" preceded by a space or tab starts a comment
 *   (docker compose's rule), so `URL=https://x/#frag` keeps its "#", while `A=b # note` is "b".
 *   `A= # note` is the empty string.
 * - Double-quoted escapes: \n \r \t \" \\ \$ are replaced; any other backslash sequence is
 *   kept as written, backslash included (`"C:\dir"` is `C:\dir`), which is what a person who
 *   did not think about escapes meant. A literal backslash before a quote must be `\\`.
 * - No variable expansion: `${HOME}` and `$HOME` stay literal in every quoting style. An
 *   import stores exactly the bytes in the file; interpolating from the importer's
 *   environment would silently store the wrong secret.
 * - A duplicate key is an error naming both lines, not "last one wins": for a secrets import a
 *   duplicate is almost always a mistake, and silently dropping one value loses a secret.
 * - A NUL character anywhere is an error (it is a binary file, not a dotenv file).
 *
 * Errors are AuthyError("INVALID_INPUT", "<source>:<line>: <what>") and never contain any
 * part of the line that could be a value: a line without "=" may be a pasted secret, and the
 * text before a stray "=" may be a base64 secret with padding, so even an invalid key is not
 * echoed. Only a valid key of a complete entry is ever named.
 */
import { utf8Lines } from "./utf8-lines.js";
import { AuthyError } from "../errors.js";

export interface DotenvEntry {
  key: string;
  value: string;
  /** 1-based line of the key in the source text. */
  line: number;
}

interface ParseDotenvOptions {
  /** Shown in error messages, usually the file name. Default "dotenv". */
  source?: string;
}

/** A dotenv key. Dots and dashes are allowed (compose, dotenvx); a leading digit is not. */
export const KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const KEY_RULE = "[A-Za-z_][A-Za-z0-9_.-]*";

const KEY_AT = /[A-Za-z_][A-Za-z0-9_.-]*/y;
const EXPORT_PREFIX = /export[ \t]+(?=[A-Za-z_])/y;
const WS = /[ \t]*/y;
/** The next character inside a double-quoted value that needs attention. */
const DQ_SPECIAL = /["\\]/g;
/** A "#" preceded by a space or tab: the start of an inline comment in an unquoted value. */
const INLINE_COMMENT = /[ \t]#/;

const DQ_ESCAPES: Record<string, string> = {
  n: "\n",
  r: "\r",
  t: "\t",
  '"': '"',
  "\\": "\\",
  $: "$",
};

const QUOTE_NAMES: Record<string, string> = {
  '"': "double-quoted",
  "'": "single-quoted",
  "`": "backtick-quoted",
};

/**
 * A dotenv file's bytes as text, or INVALID_INPUT naming the first line that is not UTF-8:
 * decoding would turn each bad byte into U+FFFD, and the value would be stored changed.
 */
export function dotenvText(bytes: Buffer, source: string): string {
  return utf8Lines(bytes, source, "binary secrets are stored with `authy secrets set PATH --from-file FILE`");
}

export function parseDotenv(text: string, opts: ParseDotenvOptions = {}): DotenvEntry[] {
  const source = opts.source ?? "dotenv";
  const fail = (line: number, what: string, hint?: string): never => {
    throw new AuthyError("INVALID_INPUT", `${source}:${line}: ${what}`, {
      hint,
      details: { source, line },
    });
  };

  let s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (s.includes("\r")) s = s.replace(/\r\n?/g, "\n");
  const nul = s.indexOf("\0");
  if (nul !== -1) fail(lineAt(s, nul), "unexpected NUL character (is this a binary file?)");

  const entries: DotenvEntry[] = [];
  const firstLine = new Map<string, number>();
  const n = s.length;
  let i = 0;
  let line = 1;

  const skipWs = (): number => {
    WS.lastIndex = i;
    WS.test(s);
    const skipped = WS.lastIndex - i;
    i = WS.lastIndex;
    return skipped;
  };
  const eolFrom = (from: number): number => {
    const e = s.indexOf("\n", from);
    return e === -1 ? n : e;
  };

  while (i < n) {
    skipWs();
    const c = s[i];
    if (c === undefined || c === "\n" || c === "#") {
      // Blank line or full-line comment.
      i = eolFrom(i) + 1;
      line++;
      continue;
    }

    const keyLine = line;
    EXPORT_PREFIX.lastIndex = i;
    if (EXPORT_PREFIX.test(s)) i = EXPORT_PREFIX.lastIndex;

    KEY_AT.lastIndex = i;
    if (!KEY_AT.test(s)) {
      const eq = s.indexOf("=", i);
      if (eq === -1 || eq > eolFrom(i)) fail(line, "expected KEY=value");
      fail(line, `invalid key name: keys must match ${KEY_RULE}`);
    }
    const key = s.slice(i, KEY_AT.lastIndex);
    i = KEY_AT.lastIndex;
    skipWs();
    if (s[i] !== "=") {
      const eq = s.indexOf("=", i);
      if (eq === -1 || eq > eolFrom(i)) fail(line, "expected KEY=value");
      fail(line, `invalid key name: keys must match ${KEY_RULE}`);
    }
    i++;
    const wsAfterEq = skipWs();

    let value: string;
    const q = s[i];
    if (q === '"' || q === "'" || q === "`") {
      const open = i;
      let close: number;
      if (q === '"') {
        const parts: string[] = [];
        let from = open + 1;
        for (;;) {
          DQ_SPECIAL.lastIndex = from;
          const m = DQ_SPECIAL.exec(s);
          if (m === null) {
            return fail(keyLine, `unterminated ${QUOTE_NAMES[q]} value`, 'add the closing "');
          }
          const at = m.index;
          if (at > from) parts.push(s.slice(from, at));
          if (m[0] === '"') {
            close = at;
            break;
          }
          const next = s[at + 1];
          if (next === undefined) {
            return fail(keyLine, `unterminated ${QUOTE_NAMES[q]} value`, 'add the closing "');
          }
          const replacement = DQ_ESCAPES[next];
          // Unknown escapes are kept as written, backslash and all.
          parts.push(replacement ?? "\\" + next);
          from = at + 2;
        }
        value = parts.join("");
      } else {
        close = s.indexOf(q, open + 1);
        if (close === -1) {
          fail(keyLine, `unterminated ${QUOTE_NAMES[q]} value`, `add the closing ${q}`);
        }
        value = s.slice(open + 1, close);
      }
      const closeLine = line + countNewlines(s, open, close);
      i = close + 1;
      skipWs();
      const after = s[i];
      if (after !== undefined && after !== "\n" && after !== "#") {
        if (closeLine === keyLine) {
          fail(keyLine, `unexpected characters after the closing quote of ${key}`);
        }
        // Most likely the quote opened here was never closed, and the value swallowed the
        // lines up to the next quote character.
        fail(
          keyLine,
          `${QUOTE_NAMES[q]} value of ${key} is not terminated properly: it closes on line ` + `${closeLine} followed by unexpected characters`,
          `check for a missing closing ${q} on line ${keyLine}`,
        );
      }
      i = eolFrom(i) + 1;
      line = closeLine + 1;
    } else {
      const eol = eolFrom(i);
      let raw = s.slice(i, eol);
      if (wsAfterEq > 0 && raw.startsWith("#")) {
        raw = "";
      } else {
        const hash = raw.search(INLINE_COMMENT);
        if (hash !== -1) raw = raw.slice(0, hash);
      }
      value = trimWs(raw);
      i = eol + 1;
      line++;
    }

    const first = firstLine.get(key);
    if (first !== undefined) {
      fail(keyLine, `duplicate key ${key} (first defined on line ${first})`, "remove one of them");
    }
    firstLine.set(key, keyLine);
    entries.push({ key, value, line: keyLine });
  }
  return entries;
}

/**
 * Writes entries so that parseDotenv reads back exactly the same keys and values, and so that
 * other dotenv readers (dotenv, dotenvx, docker compose) read the same thing where they can:
 * - plain `KEY=value` when the value is made only of characters no reader treats specially;
 * - `KEY='value'` when it has no single quote and no line break: literal everywhere, so `$`,
 *   `\` and `#` need no escaping;
 * - otherwise `KEY="value"` with \\ \" \n \r and \$ escaped (`$` is escaped because compose and
 *   dotenvx expand variables in double quotes; the original `dotenv` package does not
 *   understand `\$` and would keep the backslash).
 * Throws INVALID_INPUT for a key outside KEY_PATTERN, a duplicate key, or a value containing
 * NUL, which no dotenv reader can represent.
 */
export function serializeDotenv(entries: readonly { key: string; value: string }[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const { key, value } of entries) {
    if (!KEY_PATTERN.test(key)) {
      throw new AuthyError("INVALID_INPUT", `${JSON.stringify(key)}: not a valid dotenv key`, {
        hint: `dotenv keys must match ${KEY_RULE}`,
      });
    }
    if (seen.has(key)) throw new AuthyError("INVALID_INPUT", `${key}: duplicate key`);
    seen.add(key);
    if (value.includes("\0")) {
      throw new AuthyError("INVALID_INPUT", `${key}: dotenv cannot represent a value containing a NUL character`, {
        hint: "use --format json",
      });
    }
    out.push(`${key}=${quoteDotenvValue(value)}\n`);
  }
  return out.join("");
}

const PLAIN_SAFE = /^[A-Za-z0-9_@%+=:,./~^-]*$/;
const DQ_NEEDS_ESCAPE = /[\\"\n\r$]/g;
const DQ_ESCAPE_OF: Record<string, string> = {
  "\\": "\\\\",
  '"': '\\"',
  "\n": "\\n",
  "\r": "\\r",
  $: "\\$",
};

function quoteDotenvValue(value: string): string {
  if (PLAIN_SAFE.test(value)) return value;
  if (!/['\n\r]/.test(value)) return `'${value}'`;
  return `"${value.replace(DQ_NEEDS_ESCAPE, (ch) => DQ_ESCAPE_OF[ch] ?? ch)}"`;
}

function trimWs(v: string): string {
  let a = 0;
  let b = v.length;
  while (a < b && (v[a] === " " || v[a] === "\t")) a++;
  while (b > a && (v[b - 1] === " " || v[b - 1] === "\t")) b--;
  return v.slice(a, b);
}

function countNewlines(s: string, from: number, to: number): number {
  let count = 0;
  for (let at = s.indexOf("\n", from); at !== -1 && at < to; at = s.indexOf("\n", at + 1)) count++;
  return count;
}

function lineAt(s: string, index: number): number {
  return countNewlines(s, 0, index) + 1;
}
