/**
 * A vault written before the listing line and the state text moved into the core (schema 8,
 * vault format 2, made by testdata/make-format-2-vault.mjs at 7f0a48f) opens, migrates and
 * verifies byte-identically: the core's listing lines are the bytes SQLite generated, and the
 * core's bucket texts are the ones the store used to build (testdata/format-2-texts.json).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../vault/clock.js";
import { listingLine } from "../../vault/secret-rows.js";
import { bucketText, parseBucketName } from "../../vault/state-digest.js";
import { Vault } from "../../vault/vault.js";
import { SqliteStore } from "./sqlite-store.js";

const TESTDATA = path.join(import.meta.dirname, "testdata");
const TEXTS = JSON.parse(readFileSync(path.join(TESTDATA, "format-2-texts.json"), "utf8")) as { listing: string; buckets: Record<string, string> };
const PASSPHRASE = "format-2 fixture";

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "authy-format2-"));
  file = path.join(dir, "vault.db");
  copyFileSync(path.join(TESTDATA, "format-2-vault.db"), file);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("a format-2 vault from before schema 9", () => {
  it("keeps its listing text and every bucket text byte for byte", async () => {
    const store = SqliteStore.open(file);
    try {
      expect(await store.listingText()).toBe(TEXTS.listing);
      const digests = await store.listStateDigests();
      expect(digests.map((d) => d.bucket).sort()).toEqual(Object.keys(TEXTS.buckets).sort());
      for (const d of digests) {
        const b = parseBucketName(d.bucket)!;
        expect(bucketText(b, await store.stateRows(b)), d.bucket).toBe(TEXTS.buckets[d.bucket]);
      }
      // Each stored line is the one the core builds from the row's fields.
      for (const row of await store.listSecrets()) expect(row.listing).toBe(listingLine(row));
    } finally {
      await store.close();
    }
  });

  it("unlocks, passes the full check and audit verify, and takes new writes", async () => {
    const store = SqliteStore.open(file);
    try {
      const vault = await Vault.unlock({ store, clock: systemClock }, { passphrase: PASSPHRASE });
      expect((await vault.verify()).problems).toEqual([]);
      expect((await vault.verifyAudit()).ok).toBe(true);
      expect(await vault.listSecretPaths({ namespace: "prod" })).toContain("prod/ROTATED");
      expect(Buffer.from((await vault.getSecret("prod/ROTATED")).value).toString()).toBe("two");
      expect(Buffer.from((await vault.getSecret("prod/BIN")).value)).toEqual(Buffer.from([0, 1, 2, 255]));
      await vault.setSecret("prod/NEW", Buffer.from("new"));
      await vault.deleteSecret("ci/KEY_0");
      expect((await vault.listSecrets()).find((s) => s.path === "prod/NEW")?.version).toBe(1);
      expect((await vault.verify()).problems).toEqual([]);
      await vault.close();
    } finally {
      await store.close();
    }
  });
});
