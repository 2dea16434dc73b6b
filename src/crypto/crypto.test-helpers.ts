/** Shared assertions for the crypto tests. Not part of the build. */
import { expect } from "vitest";
import { AuthyError, type ErrorCode } from "../errors.js";

/** The AuthyError thrown by `fn` (sync or async); fails the test if it returns instead. */
export async function caught(fn: () => unknown): Promise<AuthyError> {
  let result: unknown;
  try {
    result = await fn();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(AuthyError);
    return e as AuthyError;
  }
  throw new Error(`expected an AuthyError, got a result: ${String(result).slice(0, 80)}`);
}

export async function expectCode(fn: () => unknown, ...codes: ErrorCode[]): Promise<AuthyError> {
  const e = await caught(fn);
  expect(codes).toContain(e.code);
  return e;
}

export function expectCodeSync(fn: () => unknown, code: ErrorCode, message?: RegExp | string): AuthyError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(AuthyError);
  expect((error as AuthyError).code).toBe(code);
  if (message !== undefined) expect((error as AuthyError).message).toMatch(message);
  return error as AuthyError;
}

/** A copy of `bytes` with bit `bit` of byte `index` flipped. */
export function flipBit(bytes: Uint8Array, index: number, bit: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[index]! ^= 1 << bit;
  return out;
}

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
