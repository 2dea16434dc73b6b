import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const DIR = fileURLToPath(new URL("./", import.meta.url));

describe("the crypto door", () => {
  // Every CLI command imports index.ts; typage costs ~80 ms to load and its readAll pulls in
  // Node's fetch stack. Tests may still use it as a second implementation to check against.
  it("never loads an age library: no library module imports age-encryption", () => {
    const library = readdirSync(DIR).filter((f) => f.endsWith(".ts") && !/\.test(-helpers)?\.ts$/.test(f));
    expect(library).toContain("age-file.ts");
    for (const f of library) {
      expect(readFileSync(DIR + f, "utf8"), f).not.toMatch(/(from|import)\s*\(?\s*["']age-encryption["']/);
    }
  });
});
