import type { PolicyDocument, Scope } from "./scope.js";

/** Policy files are hand-written and small; this bounds parsing work on a hostile one. */
export const MAX_POLICY_BYTES = 1024 * 1024;

/** Scope names: what `--scope NAME` and `policy test NAME` accept. */
const SCOPE_NAME = /^[A-Za-z0-9._-]+$/;
/** Longest scope name: it appears in tokens, audit entries and error messages. */
const MAX_SCOPE_NAME_LENGTH = 64;

/** What is wrong with a scope name, or undefined if it is valid. */
export function scopeNameProblem(name: string): string | undefined {
  if (!SCOPE_NAME.test(name)) {
    return `scope name ${JSON.stringify(name)} may only use letters, digits, ".", "_" and "-"`;
  }
  if (name.length > MAX_SCOPE_NAME_LENGTH) return `scope name is longer than ${MAX_SCOPE_NAME_LENGTH} characters`;
  // "__proto__" is a fine string but a trap in every plain object that might ever hold it.
  if (name === "__proto__") return `scope name "__proto__" is reserved`;
  return undefined;
}

/**
 * An empty scope map with no prototype, so that looking up an unknown name such as
 * "constructor" finds nothing rather than Object.prototype's.
 */
export function emptyScopes(): Record<string, Scope> {
  return Object.create(null) as Record<string, Scope>;
}

/** The scope called `name`, if the document defines it (own properties only). */
export function getScope(doc: PolicyDocument, name: string): Scope | undefined {
  return Object.hasOwn(doc.scopes, name) ? doc.scopes[name] : undefined;
}
