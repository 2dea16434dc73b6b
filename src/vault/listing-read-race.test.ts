/**
 * Readers while another connection writes: a commit landing between the reads of a listing and
 * its MAC is never taken for tampering.
 * The fixture: tamper.test-helpers.ts.
 */
import { describe, expect, it } from "vitest";
import { readListing } from "./secrets.js";
import { copyOf, ctxOf, keysFor, opened, unlock, useTemplates, utf8 } from "./tamper.test-helpers.js";

useTemplates();

describe("readers while another connection writes", () => {
  it("never calls a listing read across a commit tampering", async () => {
    // The listing and its MAC are separate reads; a commit landing between them once made
    // `list` and `env export` fail with INTEGRITY ("modified outside authy") under load.
    // Every loop is bounded: they interleave at await points, and none may starve the others.
    const file = copyOf();
    const writer = await unlock(file);
    const reader = await unlock(file);
    const readerStore = opened.at(-1)!;
    const ctx = ctxOf(readerStore, await keysFor(readerStore));
    const errors: string[] = [];
    let reads = 0;
    const attempt = async (what: string, op: () => Promise<unknown>) => {
      try {
        await op();
        reads++;
      } catch (e) {
        errors.push(`${what}: ${(e as Error).message}`);
      }
    };
    const writes = (async () => {
      for (let i = 0; i < 150; i++) {
        await writer.setSecret(i % 3 === 0 ? `race/NEW${i}` : `race/K${i % 5}`, utf8(`v${i}`));
        if (i % 15 === 0) await writer.deleteSecret(`race/NEW${i}`, { purge: true });
      }
    })();
    const listings = (async () => {
      for (let i = 0; i < 1500; i++) await attempt("readListing", () => readListing(ctx));
    })();
    const operations = (async () => {
      for (let i = 0; i < 20; i++) {
        await attempt("list", () => reader.listSecrets({ namespace: "race" }));
        await attempt("env export", () => reader.exportEnv("race"));
      }
    })();
    await Promise.all([writes, listings, operations]);
    expect(errors).toEqual([]);
    expect(reads).toBe(1540);
  });
});
