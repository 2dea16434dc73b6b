/**
 * Text that someone else chose (an agent's command line, a resource, a reason, a label), made
 * safe to print on the owner's terminal: what it shows is what it is, on one line, and it
 * cannot pass for something authy printed itself.
 *
 * - Control characters, terminal escapes and invisible or reordering characters are shown as
 *   escapes, as journalctl does: `\x1b`, `\n`, `\u202e`. A backslash is doubled, so an
 *   escape the caller typed literally (`\x1b`) never looks like one authy wrote.
 * - A run of two or more spaces, or any other kind of space, is shown for what it is
 *   (`[40 spaces]`, `\u00a0`): padding cannot push text onto a line of its own, where it
 *   would pass for a row of the table.
 * - Long text is cut, with a marker saying how much was left out.
 *
 * Every printer of such text goes through `visible()`; `--json` output goes through
 * `jsonVisible()`, which keeps the JSON's meaning and only writes those characters as \u escapes.
 */

/** Longest text shown in one cell: a line's worth, so that one field cannot fill the screen. */
export const MAX_VISIBLE_CHARS = 200;

/** Characters never printed as they are: controls (C0, DEL, C1), format and separator characters, surrogates. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Zs}]/u;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\" };

function escapeOf(ch: string): string {
  const named = NAMED[ch];
  if (named !== undefined) return named;
  const cp = ch.codePointAt(0)!;
  if (cp < 0x80) return `\\x${cp.toString(16).padStart(2, "0")}`;
  if (cp <= 0xffff) return `\\u${cp.toString(16).padStart(4, "0")}`;
  return `\\u{${cp.toString(16)}}`;
}

/** The pieces of the shown text, one per character or run of spaces (never cut inside one). */
function* pieces(text: string): Generator<{ shown: string; consumed: number }> {
  const chars = Array.from(text); // by code point: a lone surrogate stays one unit of its own
  for (let i = 0; i < chars.length;) {
    const ch = chars[i]!;
    if (ch === " " && chars[i + 1] === " ") {
      let n = 0;
      while (chars[i + n] === " ") n++;
      yield { shown: `[${n} spaces]`, consumed: n };
      i += n;
      continue;
    }
    yield { shown: ch === "\\" || (ch !== " " && UNPRINTABLE.test(ch)) ? escapeOf(ch) : ch, consumed: 1 };
    i++;
  }
}

/** `text` as it may be printed: escaped, spaces made visible, at most about `max` characters. */
export function visible(text: string, max: number = MAX_VISIBLE_CHARS): string {
  const total = Array.from(text).length;
  let out = "";
  let length = 0;
  let consumed = 0;
  for (const p of pieces(text)) {
    const size = Array.from(p.shown).length;
    if (length + size > max) {
      return `${out}…[+${total - consumed} chars]`;
    }
    out += p.shown;
    length += size;
    consumed += p.consumed;
  }
  return out;
}

/** Characters (DEL and beyond) that JSON.stringify leaves as they are but a terminal would act on. */
const JSON_UNSAFE = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/gu;

/** JSON text with those characters as \u escapes: the same JSON value, safe to print. */
export function jsonVisible(json: string): string {
  return json.replace(JSON_UNSAFE, (ch) => {
    const cp = ch.codePointAt(0)!;
    if (cp <= 0xffff) return `\\u${cp.toString(16).padStart(4, "0")}`;
    // Astral format characters (tags, U+E0001…): as a surrogate pair, as JSON spells them.
    return ch
      .split("")
      .map((u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, "0")}`)
      .join("");
  });
}
