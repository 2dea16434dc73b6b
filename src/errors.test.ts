import { describe, expect, it, vi } from "vitest";
import { ApiError } from "./api/http-status.js";

describe("AuthyError across copies of its module", () => {
  it("is recognised by instanceof whichever copy made it (the CLI and engine bundles each hold one)", async () => {
    const a = await import("./errors.js");
    vi.resetModules();
    const b = await import("./errors.js");
    expect(a.AuthyError).not.toBe(b.AuthyError);
    const fromB = new b.AuthyError("NOT_FOUND", "no such secret");
    expect(fromB).toBeInstanceOf(a.AuthyError);
    expect(a.isAuthyError(fromB)).toBe(true);
    expect(new a.AuthyError("LOCKED", "x")).toBeInstanceOf(b.AuthyError);
  });

  it("is not claimed by anything else, and subclasses keep the ordinary test", async () => {
    const { AuthyError } = await import("./errors.js");
    for (const other of [new Error("x"), { code: "NOT_FOUND", message: "x" }, null, undefined, "AuthyError", 1]) {
      expect(other instanceof AuthyError).toBe(false);
    }
    expect(new AuthyError("INTERNAL", "x") instanceof ApiError).toBe(false);
    const api = new ApiError(401, "ACCESS_DENIED", "invalid or expired credentials");
    expect([api instanceof ApiError, api instanceof AuthyError]).toEqual([true, true]);
  });
});

describe("isErrorCode (an error code read from the daemon or a server)", () => {
  it("knows every code that the CLI maps to an exit status, and nothing else", async () => {
    const { isErrorCode } = await import("./errors.js");
    const { EXIT_CODES } = await import("./cli/exit-codes.js");
    for (const code of Object.keys(EXIT_CODES)) expect(isErrorCode(code), code).toBe(true);
    for (const other of ["", "integrity", "toString", "__proto__", "constructor", "hasOwnProperty", 7, null, undefined, { code: "INTERNAL" }]) {
      expect(isErrorCode(other), JSON.stringify(other)).toBe(false);
    }
  });
});
