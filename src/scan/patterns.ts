/**
 * What `authy scan` looks for: every stored value in every form masking knows (the value,
 * hex, base64, base64url, URL-encoded, JSON-escaped, each line of a multi-line value), with
 * the masker's own multi-pattern search. Each pattern remembers the secret and the form it
 * stands for, so a finding can name both and never show the value.
 */
import { MASK_MIN_LENGTH, patternSearch, type PatternSearch } from "../run/masker.js";
import { base64Cores, secretForms } from "../run/secret-forms.js";

type Form = "plain" | "hex" | "base64" | "base64url" | "url" | "json" | "line";

interface PatternInfo {
  path: string;
  form: Form;
  length: number;
}

export interface ScanPatterns {
  /**
   * The search over the forms below, built on first use from the forms found here: a masker
   * built from the values would work every form out a second time (20 ms for 1,000 secrets),
   * and build the partial-match table masking needs and scanning does not (10 ms).
   */
  search(): PatternSearch;
  /** Pattern bytes (as latin1 text) → the secret and form they stand for. */
  byBytes: Map<string, PatternInfo>;
  /** Secrets too short to look for without drowning in false hits. */
  tooShort: string[];
}

export function buildPatterns(secrets: readonly { path: string; value: Uint8Array }[]): ScanPatterns {
  const byBytes = new Map<string, PatternInfo>();
  const forms: Uint8Array[] = [];
  const tooShort: string[] = [];
  for (const s of secrets) {
    const raw = Buffer.from(s.value.buffer, s.value.byteOffset, s.value.byteLength);
    if (raw.length === 0) continue;
    if (raw.length < MASK_MIN_LENGTH) {
      tooShort.push(s.path);
      continue;
    }
    for (const form of secretForms(raw, MASK_MIN_LENGTH)) {
      const key = Buffer.from(form).toString("latin1");
      // The first secret to claim a pattern names it (two secrets with one value are one finding).
      if (byBytes.has(key)) continue;
      byBytes.set(key, { path: s.path, form: formOf(raw, Buffer.from(form)), length: form.length });
      forms.push(form);
    }
  }
  let search: PatternSearch | undefined;
  return { search: () => (search ??= patternSearch(forms)), byBytes, tooShort };
}

/** Which of secretForms' encodings `form` is. */
function formOf(raw: Buffer, form: Buffer): Form {
  if (form.equals(raw)) return "plain";
  const text = form.toString("latin1");
  const hex = raw.toString("hex");
  if (text === hex || text === hex.toUpperCase()) return "hex";
  if (base64Cores(raw, "base64").includes(text)) return "base64";
  if (base64Cores(raw, "base64url").includes(text)) return "base64url";
  if (text.includes("\\")) return "json";
  if (/%[0-9A-F]{2}|\+/.test(text)) return "url";
  return "line";
}
