import { expect } from "vitest";
import { AuthyError } from "./errors.js";

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
