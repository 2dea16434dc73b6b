/**
 * Templates for `authy inject`: any text in which `{{ authy://namespace/KEY }}` (spaces or
 * tabs inside the braces optional) is replaced by the secret's value.
 *
 * Only a `{{` followed by `authy://` is special. Every other `{{…}}` is ordinary text, so Go,
 * Jinja, Handlebars or Helm templates pass through untouched and can be rendered by their own
 * tool afterwards. There is no escape syntax and there are no filters; a reference must be on
 * one line (a `{{ authy://` with no `}}` before the end of its line is an error, rather than a
 * reference that silently swallows the rest of the file).
 *
 * Rendering happens in two steps so that `inject` can report every unknown or forbidden
 * reference before writing anything: the caller resolves templateReferences(parts) first,
 * then renderTemplate substitutes. renderTemplate itself never fails but through `resolve`.
 *
 * Positions are 1-based; columns count Unicode code points. CRLF, LF and lone CR all end a
 * line, and the text parts keep the line endings exactly as given.
 */
import { utf8Lines } from "./utf8-lines.js";
import { AuthyError, isAuthyError } from "../errors.js";
import { parseReference, REFERENCE_SCHEME } from "./reference.js";

type TemplatePart =
  | { kind: "text"; text: string }
  | {
      kind: "ref";
      /** The path after `authy://`, as written; the vault validates it. */
      path: string;
      /** Where the `{{` is, for error messages such as "unknown secret". */
      line: number;
      column: number;
    };

interface ParseTemplateOptions {
  /** Shown in error messages, usually the file name. Default "template". */
  source?: string;
}

const OPENING = /\{\{[ \t]*authy:\/\//y;
const LINE_BREAK = /[\r\n]/;

/**
 * A template's bytes as text, or INVALID_INPUT naming the first line that is not UTF-8:
 * decoding would turn each bad byte into U+FFFD, and the output would silently differ from
 * the template outside its references.
 */
export function templateText(bytes: Buffer, source: string): string {
  return utf8Lines(bytes, source, "templates are UTF-8 text; convert it first, e.g. `iconv -f LATIN1 -t UTF-8`");
}

export function parseTemplate(text: string, opts: ParseTemplateOptions = {}): TemplatePart[] {
  const source = opts.source ?? "template";
  const parts: TemplatePart[] = [];

  // Line and column are tracked incrementally, so a template with many references on one
  // long line stays linear.
  let line = 1;
  let column = 1;
  let counted = 0;
  const advanceTo = (to: number): void => {
    for (let k = counted; k < to; k++) {
      const c = text.charCodeAt(k);
      if (c === 0x0a || (c === 0x0d && text.charCodeAt(k + 1) !== 0x0a)) {
        line++;
        column = 1;
      } else if (c !== 0x0d && (c < 0xdc00 || c > 0xdfff)) {
        column++; // a low surrogate belongs to the code point already counted
      }
    }
    counted = to;
  };

  let textStart = 0;
  let search = 0;
  for (;;) {
    const open = text.indexOf("{{", search);
    if (open === -1) break;
    OPENING.lastIndex = open;
    if (!OPENING.test(text)) {
      search = open + 1;
      continue;
    }
    const pathStart = OPENING.lastIndex;
    const close = text.indexOf("}}", pathStart);
    advanceTo(open);
    if (close === -1 || LINE_BREAK.test(text.slice(pathStart, close))) {
      throw new AuthyError("INVALID_INPUT", `${source}:${line}:${column}: unterminated {{ ${REFERENCE_SCHEME}… }} reference`, {
        hint: "close it with }} on the same line",
        details: { source, line, column },
      });
    }
    const ref = text.slice(pathStart - REFERENCE_SCHEME.length, close).replace(/[ \t]+$/, "");
    let path: string;
    try {
      path = parseReference(ref).path;
    } catch (e) {
      if (!isAuthyError(e)) throw e;
      throw new AuthyError("INVALID_INPUT", `${source}:${line}:${column}: ${e.message}`, {
        hint: e.hint,
        details: { source, line, column },
      });
    }
    if (open > textStart) parts.push({ kind: "text", text: text.slice(textStart, open) });
    parts.push({ kind: "ref", path, line, column });
    textStart = close + 2;
    search = textStart;
  }
  if (textStart < text.length) parts.push({ kind: "text", text: text.slice(textStart) });
  return parts;
}

/** The distinct paths referenced, in order of first appearance. */
export function templateReferences(parts: readonly TemplatePart[]): string[] {
  const paths = new Set<string>();
  for (const part of parts) if (part.kind === "ref") paths.add(part.path);
  return [...paths];
}

/** Substitutes each reference with resolve(path). Resolve every reference first (see above). */
export function renderTemplate(parts: readonly TemplatePart[], resolve: (path: string) => string): string {
  return parts.map((part) => (part.kind === "text" ? part.text : resolve(part.path))).join("");
}
