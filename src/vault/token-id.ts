/** A whole token: `authy_tk_<id>_<secret>` (tokens.ts issues them). */
export const TOKEN_FORM = /^authy_tk_([a-z2-7]+)_([A-Za-z0-9_-]+)$/;

/**
 * The id a token is named by, given its id or the whole token (what a user pastes): the
 * secret part is dropped here, so that it is never sent, audited or echoed in an error.
 * A module of its own, with no imports, so that the CLI can use it without the core.
 */
export function tokenIdOf(given: string): string {
  return TOKEN_FORM.exec(given)?.[1] ?? given;
}
