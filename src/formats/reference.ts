/**
 * `authy://namespace/KEY` references, as used by `authy read`, `authy run --env`, env files
 * holding references, and `{{ authy://… }}` templates.
 *
 * This module checks only the reference syntax. The path after the scheme is returned exactly
 * as written so that the vault's path validator, the one place that knows the path rules,
 * accepts or rejects it: nothing is normalized here (no trailing-slash trimming, no decoding
 * of %xx), because two spellings of one path must never both work.
 */
import { AuthyError } from "../errors.js";

export const REFERENCE_SCHEME = "authy://";

interface Reference {
  path: string;
}

/** Longest reference echoed in an error message; beyond that it is cut with "…". */
const MAX_ECHO = 120;

export function isReference(value: string): boolean {
  return value.startsWith(REFERENCE_SCHEME);
}

export function parseReference(ref: string): Reference {
  const fail = (what: string): never => {
    throw new AuthyError("INVALID_INPUT", `invalid reference ${echo(ref)}: ${what}`, {
      hint: "references look like authy://namespace/KEY",
    });
  };
  if (!isReference(ref)) fail(`it must start with ${REFERENCE_SCHEME}`);
  const path = ref.slice(REFERENCE_SCHEME.length);
  if (path === "") fail("the path is empty");
  if (/\s/u.test(path) || hasControlCharacter(path)) fail("it contains whitespace or a control character");
  if (path.includes("?")) fail("query strings (?) are not supported");
  if (path.includes("#")) fail("fragments (#) are not supported");
  return { path };
}

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function echo(ref: string): string {
  const cut = ref.length > MAX_ECHO ? ref.slice(0, MAX_ECHO) + "…" : ref;
  return JSON.stringify(cut);
}
