import { AuthyError } from "../../errors.js";
import { STAR, sequenceContained, sequenceMatches, sequencesIntersect, type Token } from "./wildcard.js";

// Path patterns, as written in policies: `production/*`, `staging/**`, `prod/*_KEY`.
//
// - A pattern is `/`-separated segments, like a path. Each segment uses the path alphabet
//   `[A-Za-z0-9._-]` plus `*`, or is exactly `**`.
// - `*` matches zero or more characters within one segment, never `/`. Because a path has no
//   empty segments, a whole-segment `*` matches exactly one segment; `*_KEY` matches `_KEY`
//   and `DB_KEY` but not `KEY`.
// - `**` (a whole segment only) matches zero or more whole segments: `prod/**` matches
//   `prod/a` and `prod/a/b` but not `prodX/a`; `prod/**/KEY` matches `prod/KEY`.
//   (`prod/**` would also match `prod` alone, but that is never a path: every path has a
//   namespace and a key.)
// - Matching is case-sensitive and literal: `?`, `[`, `{`, `\` and anything else outside the
//   alphabet are rejected, never treated as metacharacters or escaped.
// - A pattern without `**` must have at least two segments, or it could never match a path
//   (`production` alone is almost certainly meant as `production/*` or `production/**`).

/** Longest pattern accepted: generous for a 255-byte path, small enough to bound the work. */
const MAX_PATTERN_BYTES = 1024;

const SEGMENT_CHAR = /^[A-Za-z0-9._*-]$/;

/** One segment of a pattern: characters and `*`s. */
interface SegmentGlob {
  readonly source: string;
  readonly tokens: readonly Token<string>[];
  readonly literal: boolean;
}

/** `**`, or a segment glob. */
type PatternToken = Token<SegmentGlob>;

interface CompiledPattern {
  readonly source: string;
  readonly tokens: readonly PatternToken[];
  /** Whether the pattern matches this path (taken as given: validate it first). */
  matches(path: string): boolean;
}

function describe(value: string): string {
  return JSON.stringify(value.length > 64 ? value.slice(0, 64) + "…" : value);
}

/** What is wrong with a pattern, or undefined if it is valid. The message never throws. */
export function patternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return "pattern is empty";
  if (pattern.length > MAX_PATTERN_BYTES) return `pattern is longer than ${MAX_PATTERN_BYTES} bytes`;
  if (pattern.startsWith("/") || pattern.endsWith("/")) {
    return `pattern ${describe(pattern)} must not start or end with /`;
  }
  const segments = pattern.split("/");
  let globstar = false;
  for (const segment of segments) {
    if (segment === "") return `pattern ${describe(pattern)} has an empty segment`;
    if (segment === "." || segment === "..") return `pattern ${describe(pattern)} has a "${segment}" segment`;
    for (const ch of segment) {
      if (!SEGMENT_CHAR.test(ch)) {
        return `pattern ${describe(pattern)} contains ${describe(ch)}: only letters, digits, ".", "_", "-", * and ** are allowed`;
      }
    }
    if (segment === "**") globstar = true;
    else if (segment.includes("**")) {
      return `pattern ${describe(pattern)} uses ** inside a segment: ** must be a whole segment (a/**/b), * works within one`;
    }
  }
  if (!globstar && segments.length < 2) {
    return `pattern ${describe(pattern)} can never match: paths are namespace/KEY (did you mean ${pattern}/* or ${pattern}/**?)`;
  }
  return undefined;
}

/** Throws INVALID_INPUT unless `pattern` is a valid pattern; returns it unchanged. */
export function validatePattern(pattern: string): string {
  const problem = patternProblem(pattern);
  if (problem !== undefined) {
    throw new AuthyError("INVALID_INPUT", `invalid ${problem}`, {
      hint: "patterns look like prod/*, prod/**, prod/*_KEY; * stays within a segment, ** spans segments",
    });
  }
  return pattern;
}

function compileSegment(segment: string): SegmentGlob {
  const tokens: Token<string>[] = [];
  for (const ch of segment) tokens.push(ch === "*" ? STAR : ch);
  return { source: segment, tokens, literal: !segment.includes("*") };
}

/** Compiled patterns, by source. Bounded: policies are small, but patterns may come from tokens. */
const CACHE_LIMIT = 4096;
const cache = new Map<string, CompiledPattern>();

/** Validates (INVALID_INPUT) and compiles a pattern into a matcher that runs in O(|pattern|·|path|). */
export function compilePattern(pattern: string): CompiledPattern {
  const cached = cache.get(pattern);
  if (cached !== undefined) return cached;
  validatePattern(pattern);
  const tokens: PatternToken[] = pattern.split("/").map((s) => (s === "**" ? STAR : compileSegment(s)));
  const compiled: CompiledPattern = { source: pattern, tokens, matches: quickMatcher(pattern) ?? generalMatcher(tokens) };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}

function generalMatcher(tokens: readonly PatternToken[]): (path: string) => boolean {
  return (path) => sequenceMatches(tokens, path.split("/"), segmentMatches);
}

/**
 * The shapes nearly every policy and token uses, matched without splitting the path: literal
 * segments (`prod/API_KEY`), then a whole-segment `*` (`prod/*`) or `**` (`prod/**`). `authy
 * run` decides a scope for every stored secret, and the general matcher cost it about 1.7 ms
 * for 1,000 of them. Same answers as generalMatcher (pattern.test.ts holds them to it), for
 * valid paths, which is all a matcher is given. Null for any other shape.
 */
function quickMatcher(pattern: string): ((path: string) => boolean) | null {
  const cut = pattern.lastIndexOf("/");
  const head = pattern.slice(0, cut);
  const last = pattern.slice(cut + 1);
  if (!pattern.includes("*")) return (path) => path === pattern;
  if (cut < 0 || head.includes("*")) return null;
  const prefix = `${head}/`;
  // One more segment, and no `/` after the prefix: a valid path has no empty segment.
  if (last === "*") return (path) => path.length > prefix.length && path.startsWith(prefix) && !path.includes("/", prefix.length);
  // Zero or more segments after the literal ones: the head itself, or anything under it.
  if (last === "**") return (path) => path.startsWith(prefix) || path === head;
  return null;
}

function segmentMatches(glob: SegmentGlob, segment: string): boolean {
  if (glob.literal) return glob.source === segment;
  return sequenceMatches(glob.tokens, segment, (a: string, b: string) => a === b);
}

/** @internal The general matcher alone, for the tests that hold the quick one to it. */
export function matchGenerally(pattern: string, path: string): boolean {
  return generalMatcher(compilePattern(pattern).tokens)(path);
}

/** Whether `pattern` matches `path`. Throws INVALID_INPUT on an invalid pattern. */
export function matchPattern(pattern: string, path: string): boolean {
  return compilePattern(pattern).matches(path);
}

const sameChar = (a: string, b: string): boolean => a === b;

function segmentCovered(child: SegmentGlob, parent: SegmentGlob): boolean {
  if (parent.literal) return child.literal && child.source === parent.source;
  return sequenceContained(child.tokens, parent.tokens, sameChar);
}

function segmentsIntersect(a: SegmentGlob, b: SegmentGlob): boolean {
  if (a.literal && b.literal) return a.source === b.source;
  return sequencesIntersect(a.tokens, b.tokens, sameChar);
}

/**
 * Whether every path `child` matches is also matched by `parent`. Sound but conservative:
 * true is a proof (`prod/a` ⊆ `prod/*` ⊆ `prod/**`, `prod/*_KEY` ⊆ `prod/*`); false means
 * "not proven", which is how the answer must be read when a token asks for a narrower token.
 */
export function patternCovers(parent: string, child: string): boolean {
  return sequenceContained(compilePattern(child).tokens, compilePattern(parent).tokens, segmentCovered);
}

/**
 * Whether some path might match both patterns. Conservative the other way: false is a proof
 * that no path matches both; true may be claimed for overlaps that only contain strings that
 * are not valid paths (a single segment, `.`, longer than 255 bytes).
 */
export function mayIntersect(a: string, b: string): boolean {
  return sequencesIntersect(compilePattern(a).tokens, compilePattern(b).tokens, segmentsIntersect);
}
