import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthyError } from "../errors.js";
import { removeMountFile, writeMountFile } from "./mount.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "authy-mount-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("mount files", () => {
  it("writes the content with mode 0600", () => {
    const path = join(dir, ".env");
    writeMountFile(path, "API_KEY=abc\n");
    expect(readFileSync(path, "utf8")).toBe("API_KEY=abc\n");
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("refuses a symbolic link planted at the path and leaves its target alone", () => {
    const target = join(dir, "target");
    writeFileSync(target, "original");
    const path = join(dir, ".env");
    symlinkSync(target, path);
    let error: unknown;
    try {
      writeMountFile(path, "API_KEY=abc\n");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuthyError);
    expect((error as AuthyError).code).toBe("ALREADY_EXISTS");
    expect((error as AuthyError).message).toContain("symbolic link");
    expect(readFileSync(target, "utf8")).toBe("original");
  });

  it("refuses a dangling symbolic link without creating its target", () => {
    const target = join(dir, "would-be-created");
    const path = join(dir, ".env");
    symlinkSync(target, path);
    expect(() => writeMountFile(path, "X=1\n")).toThrow(AuthyError);
    expect(existsSync(target)).toBe(false);
  });

  it("refuses an existing file and does not truncate it", () => {
    const path = join(dir, ".env");
    writeFileSync(path, "keep me");
    expect(() => writeMountFile(path, "X=1\n")).toThrow(/already exists/);
    expect(readFileSync(path, "utf8")).toBe("keep me");
  });

  it("reports a missing directory as invalid input", () => {
    let error: unknown;
    try {
      writeMountFile(join(dir, "nope", ".env"), "X=1\n");
    } catch (e) {
      error = e;
    }
    expect((error as AuthyError).code).toBe("INVALID_INPUT");
  });

  it("removes the file, and a file already gone is fine", () => {
    const path = join(dir, ".env");
    writeMountFile(path, "X=1\n");
    removeMountFile(path);
    expect(existsSync(path)).toBe(false);
    expect(() => removeMountFile(path)).not.toThrow();
  });

  it("removes a symbolic link that replaced the file, not its target", () => {
    const target = join(dir, "target");
    writeFileSync(target, "original");
    const path = join(dir, ".env");
    writeMountFile(path, "X=1\n");
    rmSync(path);
    symlinkSync(target, path);
    removeMountFile(path);
    expect(() => lstatSync(path)).toThrow();
    expect(readFileSync(target, "utf8")).toBe("original");
  });
});
