import { expect } from "vitest";
import { AuthyError, isAuthyError } from "./errors.js";

/** Runs `fn`, which must throw an AuthyError, and returns that error for further checks. */
export function thrown(fn: () => unknown): AuthyError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AuthyError);
    return e as AuthyError;
  }
  throw new Error("expected an AuthyError, nothing was thrown");
}

/** "ok", or "CODE: message" of the AuthyError the promise rejects with (anything else is rethrown). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (isAuthyError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
}
