/**
 * Conformance: the vault row, key slots, secrets, versions and the listing text. Every row
 * must come back exactly as written, and every order is UTF-8 byte order.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SecretRow, Store } from "../store.js";
import {
  byteOrder,
  everyByte,
  expectBytes,
  expectedListing,
  expectRow,
  expectRows,
  MIB,
  noise,
  secretRow,
  slotRow,
  vaultRow,
  versionRow,
} from "./store-fixtures.js";

const MAX = Number.MAX_SAFE_INTEGER;

/** Paths whose byte order differs from a naive or case-insensitive sort, or from UTF-16 order. */
const TRICKY_PATHS = ["a", "B", "A", "ns/a/b", "ns-b", "ns/a", "ns0", "ns", "é", "\uFFFD", "😀", "~", "ns/😀", "ns/\uFFFD", "Z"];

/** Names that break string-built SQL: each must be nothing but a name. */
const SQL_NAMES = [
  "x'; DROP TABLE secrets; --",
  "' OR '1'='1",
  "%",
  "_",
  "a%b",
  "a_b",
  "back\\slash",
  'dq"uote',
  "semi;colon",
  "--",
  "/* c */",
  "$1",
  "?",
  ":name",
];

export function rowConformance(store: () => Store): void {
  describe("vault row", () => {
    it("is null on an empty store", async () => {
      expect(await store().getVault()).toBeNull();
    });

    it("round-trips every byte of the vault id and MACs", async () => {
      const row = vaultRow({ vaultId: everyByte(), listingMac: noise(32, 5), mac: everyByte().reverse(), createdAt: MAX });
      await store().write((tx) => tx.putVault(row));
      expectRow(await store().getVault(), row);
    });

    it("keeps a null listing MAC null and an empty one empty", async () => {
      await store().write((tx) => tx.putVault(vaultRow({ listingMac: null })));
      expect((await store().getVault())!.listingMac).toBeNull();
      await store().write((tx) => tx.setListingMac(new Uint8Array(0)));
      expectBytes((await store().getVault())!.listingMac, new Uint8Array(0));
    });

    it("replaces the vault row on a second put, and setListingMac changes only the listing MAC", async () => {
      await store().write((tx) => tx.putVault(vaultRow()));
      const second = vaultRow({ vaultId: noise(16, 9), format: 2, createdAt: 0 });
      await store().write((tx) => tx.putVault(second));
      expectRow(await store().getVault(), second);
      const mac = everyByte();
      await store().write((tx) => tx.setListingMac(mac));
      expectRow(await store().getVault(), { ...second, listingMac: mac });
    });
  });

  describe("key slots", () => {
    it("lists nothing on an empty store", async () => {
      expect(await store().listSlots()).toEqual([]);
    });

    it("round-trips a slot byte for byte, keeping a null recipient apart from an empty one", async () => {
      const a = slotRow("a", { slot: everyByte(), recipient: null, label: "ラベル 🔑" });
      const b = slotRow("b", { kind: "x25519", slot: noise(MIB, 3), recipient: "", createdAt: MAX });
      const c = slotRow("c", { kind: "x25519", recipient: "age1qqqq", slot: new Uint8Array(0) });
      await store().write(async (tx) => {
        await tx.putSlot(a);
        await tx.putSlot(b);
        await tx.putSlot(c);
      });
      expectRows(await store().listSlots(), [a, c, b]);
    });

    it("lists slots by creation time, then by id", async () => {
      const rows = [slotRow("z", { createdAt: 1 }), slotRow("b", { createdAt: 2 }), slotRow("a", { createdAt: 2 }), slotRow("m", { createdAt: 0 })];
      await store().write(async (tx) => {
        for (const r of rows) await tx.putSlot(r);
      });
      expect((await store().listSlots()).map((s) => s.id)).toEqual(["m", "z", "a", "b"]);
    });

    it("replaces a slot with the same id and deletes only the one named", async () => {
      await store().write(async (tx) => {
        await tx.putSlot(slotRow("one"));
        await tx.putSlot(slotRow("two"));
      });
      const rewrapped = slotRow("one", { slot: noise(300, 77), label: "rewrapped" });
      await store().write((tx) => tx.putSlot(rewrapped));
      await store().write((tx) => tx.deleteSlot("two"));
      await store().write((tx) => tx.deleteSlot("never-existed"));
      expectRows(await store().listSlots(), [rewrapped]);
    });
  });

  describe("secrets", () => {
    it("returns null for a path never written", async () => {
      expect(await store().getSecret("prod/NOPE")).toBeNull();
      expect(await store().listSecrets()).toEqual([]);
      expect(await store().listSecretsIn("prod")).toEqual([]);
    });

    it("round-trips every field, with unicode text and timestamps up to MAX_SAFE_INTEGER", async () => {
      const row = secretRow("ключ/😀 KEY", {
        description: "multi\nline\ttext, \u0001 \u007f controls, é, 中文, 😀, \u001f, \\",
        tags: '["ü","😀","a,b"]',
        expiresAt: MAX,
        currentVersion: MAX,
        deletedAt: MAX - 1,
        createdAt: MAX - 2,
        updatedAt: MAX,
        mac: everyByte(),
      });
      await store().write((tx) => tx.putSecret(row));
      expectRow(await store().getSecret(row.path), row);
    });

    it("keeps null, 0 and the empty string apart", async () => {
      const nulls = secretRow("t/NULLS", { expiresAt: null, deletedAt: null, description: "", tags: "[]" });
      const zeros = secretRow("t/ZEROS", { expiresAt: 0, deletedAt: 0, currentVersion: 0, createdAt: 0, updatedAt: 0, mac: new Uint8Array(0) });
      await store().write(async (tx) => {
        await tx.putSecret(nulls);
        await tx.putSecret(zeros);
      });
      expectRow(await store().getSecret(nulls.path), nulls);
      expectRow(await store().getSecret(zeros.path), zeros);
    });

    it("replaces a secret on put, including setting a field back to null", async () => {
      await store().write((tx) => tx.putSecret(secretRow("p/K", { expiresAt: 5, deletedAt: 6, description: "old" })));
      const next = secretRow("p/K", { expiresAt: null, deletedAt: null, description: "new", currentVersion: 2, tier: "critical" });
      await store().write((tx) => tx.putSecret(next));
      expectRows(await store().listSecrets(), [next]);
    });

    it("lists every secret (deleted ones too) in UTF-8 byte order of path", async () => {
      const rows = TRICKY_PATHS.map((p, i) => secretRow(p, { deletedAt: i % 3 === 0 ? 1000 + i : null }));
      await store().write(async (tx) => {
        for (const r of rows) await tx.putSecret(r);
      });
      const sorted = [...rows].sort((a, b) => byteOrder(a.path, b.path));
      expect(sorted.slice(0, 3).map((r) => r.path)).toEqual(["A", "B", "Z"]);
      expectRows(await store().listSecrets(), sorted);
    });

    it("lists only the direct children of a namespace", async () => {
      const paths = ["prod/B", "prod/A", "prodX/A", "prod/sub/A", "production/A", "Prod/A", "pro/A", "prod-x/A", "prod/sub/deeper/A"];
      await store().write(async (tx) => {
        for (const p of paths) await tx.putSecret(secretRow(p));
      });
      expect((await store().listSecretsIn("prod")).map((r) => r.path)).toEqual(["prod/A", "prod/B"]);
      expect((await store().listSecretsIn("prod/sub")).map((r) => r.path)).toEqual(["prod/sub/A"]);
      expect(await store().listSecretsIn("pr")).toEqual([]);
      expect(await store().listSecretsIn("prod/")).toEqual([]);
    });

    it("stores many rows with one putSecrets call, the same as one putSecret each, later rows replacing earlier ones", async () => {
      const rows = TRICKY_PATHS.map((p, i) => secretRow(p, { currentVersion: i + 1, mac: everyByte() }));
      const replaced = secretRow(TRICKY_PATHS[0]!, { currentVersion: 99, description: "second" });
      await store().write((tx) => tx.putSecrets([...rows, replaced]));
      const expected = [replaced, ...rows.slice(1)].sort((a, b) => byteOrder(a.path, b.path));
      expectRows(await store().listSecrets(), expected);
      await store().write((tx) => tx.putSecrets([]));
      expectRows(await store().listSecrets(), expected);
    });

    it("returns the full row from listSecretsIn", async () => {
      const row = secretRow("ns/K", { mac: everyByte(), expiresAt: 0 });
      await store().write((tx) => tx.putSecret(row));
      expectRows(await store().listSecretsIn("ns"), [row]);
    });
  });

  describe("listing text", () => {
    it("is the empty string on an empty store", async () => {
      expect(await store().listingText()).toBe("");
    });

    it("has one exact line per secret, in byte order, with byte-length-prefixed paths", async () => {
      const rows: SecretRow[] = [
        secretRow("prod/DB_URL", { currentVersion: 3, updatedAt: 1_700_000_000_123 }),
        secretRow("prod/API", { deletedAt: 0, expiresAt: 0, updatedAt: 0 }),
        secretRow("Z/K", { deletedAt: MAX, expiresAt: MAX, updatedAt: MAX, currentVersion: MAX, type: "api_key", tier: "critical" }),
        secretRow("ключ/😀", { expiresAt: 1 }),
        secretRow("odd/a:b\n\u001fc", { description: "fields inside the path cannot move a boundary" }),
      ];
      await store().write(async (tx) => {
        for (const r of rows) await tx.putSecret(r);
      });
      const text = await store().listingText();
      expect(text).toBe(expectedListing(rows));
      expect(text.split("\n")[0]).toBe(`3:Z/K\u001fapi_key\u001fcritical\u001f${MAX}\u001f${MAX}\u001f${MAX}\u001f${MAX}`);
      expect(text.split("\n").at(-1)).toBe("13:ключ/😀\u001fpassword\u001fstandard\u001f1\u001f\u001f1700000000003\u001f1");
      expect(text).toContain("\n8:prod/API\u001fpassword\u001fstandard\u001f1\u001f0\u001f0\u001f0\n");
    });

    it("is the listing each row was given, byte for byte: the store never builds or checks it", async () => {
      const rows = [
        secretRow("b/K", { listing: "" }),
        secretRow("a/K", { listing: "any text: ' ; -- % _ \\ \u001f é 😀" }),
        secretRow("c/K", { listing: "not the row's fields" }),
      ];
      await store().write((tx) => tx.putSecrets(rows));
      expect(await store().listingText()).toBe("any text: ' ; -- % _ \\ \u001f é 😀\n\nnot the row's fields");
      expectRow(await store().getSecret("a/K"), rows[1]!);
    });

    it("follows replaced and purged secrets", async () => {
      await store().write(async (tx) => {
        await tx.putSecret(secretRow("a/ONE"));
        await tx.putSecret(secretRow("a/TWO"));
      });
      const replaced = secretRow("a/ONE", { currentVersion: 2, deletedAt: 99 });
      await store().write(async (tx) => {
        await tx.putSecret(replaced);
        await tx.deleteSecret("a/TWO");
      });
      expect(await store().listingText()).toBe(expectedListing([replaced]));
      await store().write((tx) => tx.deleteSecret("a/ONE"));
      expect(await store().listingText()).toBe("");
    });

    it("matches the independent computation for arbitrary paths and numbers (property)", async () => {
      const row = fc.record({
        path: fc.string({ unit: "binary", minLength: 1, maxLength: 12 }).filter((p) => !p.includes("\u0000")),
        currentVersion: fc.nat(),
        deletedAt: fc.option(fc.maxSafeNat()),
        updatedAt: fc.maxSafeNat(),
        expiresAt: fc.option(fc.maxSafeNat()),
      });
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(row, { selector: (r) => r.path, maxLength: 8 }), async (specs) => {
          const rows = specs.map((s) => secretRow(s.path, s));
          await store().write(async (tx) => {
            for (const r of await tx.listSecrets()) await tx.deleteSecret(r.path);
            for (const r of rows) await tx.putSecret(r);
          });
          expect(await store().listingText()).toBe(expectedListing(rows));
          expect((await store().listSecrets()).map((r) => r.path)).toEqual(rows.map((r) => r.path).sort(byteOrder));
        }),
        { numRuns: 40 },
      );
    });
  });

  describe("versions", () => {
    it("returns null for a version never written", async () => {
      await store().write((tx) => tx.putVersion(versionRow("a/K", 1)));
      expect(await store().getVersion("a/K", 2)).toBeNull();
      expect(await store().getVersion("a/OTHER", 1)).toBeNull();
      expect(await store().listVersions("a/OTHER")).toEqual([]);
    });

    it("lists every path that has versions, once each in byte order, with their count", async () => {
      expect(await store().listVersionPaths()).toEqual([]);
      await store().write((tx) => tx.putVersions([versionRow("p/b", 1), versionRow("p/B", 1), versionRow("p/B", 2), versionRow("p/ORPHAN", 7)]));
      expect(await store().listVersionPaths()).toEqual([
        { path: "p/B", versions: 2 },
        { path: "p/ORPHAN", versions: 1 },
        { path: "p/b", versions: 1 },
      ]);
    });

    it("round-trips sealed values with every byte value, empty, and 1 MiB", async () => {
      const rows = [
        versionRow("v/K", 1, { sealed: everyByte(), wrappedDek: everyByte().reverse() }),
        versionRow("v/K", 2, { sealed: new Uint8Array(0), wrappedDek: new Uint8Array(0), actor: "" }),
        versionRow("v/K", 3, { sealed: noise(MIB, 99), createdAt: MAX, actor: "agent:ci-😀" }),
      ];
      await store().write(async (tx) => {
        for (const r of rows) await tx.putVersion(r);
      });
      for (const r of rows) expectRow(await store().getVersion("v/K", r.version), r);
      expectRows(await store().listVersions("v/K"), rows);
    });

    it("stores what the bytes were at put time: neither input nor output is aliased", async () => {
      const sealed = noise(100, 1);
      const copy = Uint8Array.from(sealed);
      await store().write((tx) => tx.putVersion(versionRow("v/K", 1, { sealed })));
      sealed.fill(0);
      const first = (await store().getVersion("v/K", 1))!;
      expectBytes(first.sealed, copy);
      first.sealed.fill(1);
      expectBytes((await store().getVersion("v/K", 1))!.sealed, copy);
    });

    it("stores exactly the bytes of a view into a larger buffer", async () => {
      const backing = noise(1000, 8);
      const view = backing.subarray(100, 150);
      await store().write((tx) => tx.putVersion(versionRow("v/K", 1, { sealed: view, wrappedDek: Buffer.from(backing.buffer, 10, 20) })));
      const got = (await store().getVersion("v/K", 1))!;
      expectBytes(got.sealed, backing.slice(100, 150));
      expectBytes(got.wrappedDek, backing.slice(10, 30));
    });

    it("stores many versions with one putVersions call, each (path, version) once, the last put winning", async () => {
      const rows = [versionRow("m/A", 1), versionRow("m/A", 2, { sealed: everyByte() }), versionRow("m/B", 1, { actor: "agent:x" })];
      const rewrapped = versionRow("m/A", 1, { wrappedDek: everyByte().reverse() });
      await store().write((tx) => tx.putVersions([...rows, rewrapped]));
      expectRows(await store().listVersions("m/A"), [rewrapped, rows[1]!]);
      expectRows(await store().listVersions("m/B"), [rows[2]!]);
      await store().write((tx) => tx.putVersions([]));
      expectRows(await store().listVersions("m/A"), [rewrapped, rows[1]!]);
    });

    it("reads many secrets with their current versions at once, in the order asked, skipping unknown paths", async () => {
      const a = secretRow("r/A", { currentVersion: 2 });
      const b = secretRow("r/B");
      const orphan = secretRow("r/NO_VERSION", { currentVersion: 7 });
      const versions = [
        versionRow("r/A", 1),
        versionRow("r/A", 2, { sealed: everyByte() }),
        versionRow("r/B", 1, { actor: "" }),
        versionRow("r/NO_VERSION", 6),
      ];
      await store().write(async (tx) => {
        for (const r of [a, b, orphan]) await tx.putSecret(r);
        for (const v of versions) await tx.putVersion(v);
      });
      const got = await store().readCurrent(["r/B", "nobody/X", "r/NO_VERSION", "r/A", "r/a"]);
      expect(got.map((g) => g.secret.path)).toEqual(["r/B", "r/NO_VERSION", "r/A"]);
      expectRow(got[0]!.secret, b);
      expectRow(got[0]!.version, versions[2]!);
      expect(got[1]!.version).toBeNull();
      expectRow(got[2]!.secret, a);
      expectRow(got[2]!.version, versions[1]!);
      expect(await store().readCurrent([])).toEqual([]);
    });

    it("reads the secrets of one namespace with their current versions, in path order", async () => {
      const rows = [
        secretRow("n/B", { currentVersion: 2 }),
        secretRow("n/A"),
        secretRow("n/sub/C"),
        secretRow("nX/D"),
        secretRow("n/NO_VERSION", { currentVersion: 4 }),
      ];
      const versions = [
        versionRow("n/A", 1),
        versionRow("n/B", 1),
        versionRow("n/B", 2, { sealed: everyByte() }),
        versionRow("n/sub/C", 1),
        versionRow("nX/D", 1),
      ];
      await store().write(async (tx) => {
        await tx.putSecrets(rows);
        await tx.putVersions(versions);
      });
      const got = await store().readCurrentIn("n");
      expect(got.map((g) => g.secret.path)).toEqual(["n/A", "n/B", "n/NO_VERSION"]);
      expectRow(got[0]!.secret, rows[1]!);
      expectRow(got[0]!.version, versions[0]!);
      expectRow(got[1]!.version, versions[2]!);
      expect(got[2]!.version).toBeNull();
      expect(await store().readCurrentIn("n/sub")).toHaveLength(1);
      expect(await store().readCurrentIn("nobody")).toEqual([]);
    });

    it("reads paths that look like SQL or JSON as plain text", async () => {
      const odd = ["q/it's", 'q/"x"', "q/%", "q/_", "q/\\", "q/ü"];
      await store().write(async (tx) => {
        for (const p of odd) {
          await tx.putSecret(secretRow(p));
          await tx.putVersion(versionRow(p, 1));
        }
      });
      expect((await store().readCurrent(odd)).map((g) => g.secret.path)).toEqual(odd);
      expect(await store().readCurrent(["q/*", "q/%25"])).toEqual([]);
    });

    it("lists the versions of one path only, in numeric order", async () => {
      await store().write(async (tx) => {
        for (const v of [10, 2, 1, 100, 9]) await tx.putVersion(versionRow("a/K", v));
        await tx.putVersion(versionRow("a/K2", 1));
        await tx.putVersion(versionRow("a/K/x", 3));
        await tx.putVersion(versionRow("a/k", 4));
      });
      expect((await store().listVersions("a/K")).map((v) => v.version)).toEqual([1, 2, 9, 10, 100]);
    });

    it("replaces a version with the same path and number (a rewrapped data key)", async () => {
      await store().write((tx) => tx.putVersion(versionRow("a/K", 1)));
      const rewrapped = versionRow("a/K", 1, { wrappedDek: noise(60, 1234) });
      await store().write((tx) => tx.putVersion(rewrapped));
      expectRows(await store().listVersions("a/K"), [rewrapped]);
    });

    it("deleteSecret purges the secret and all its versions, and nothing else", async () => {
      await store().write(async (tx) => {
        for (const p of ["a/K", "a/K2", "a/K/x", "a/k"]) {
          await tx.putSecret(secretRow(p));
          await tx.putVersion(versionRow(p, 1));
          await tx.putVersion(versionRow(p, 2));
        }
      });
      await store().write((tx) => tx.deleteSecret("a/K"));
      await store().write((tx) => tx.deleteSecret("never/existed"));
      expect(await store().getSecret("a/K")).toBeNull();
      expect(await store().listVersions("a/K")).toEqual([]);
      expect(await store().getVersion("a/K", 1)).toBeNull();
      expect((await store().listSecrets()).map((s) => s.path)).toEqual(["a/K/x", "a/K2", "a/k"]);
      for (const p of ["a/K2", "a/K/x", "a/k"]) expect(await store().listVersions(p)).toHaveLength(2);
    });
  });

  describe("policy", () => {
    it("is null until written, then round-trips and is replaced by the next put", async () => {
      expect(await store().getPolicy()).toBeNull();
      const first = { document: '{"rules":[{"allow":"prod/*","note":"é 😀 \' ; --"}]}', updatedAt: MAX, mac: everyByte() };
      await store().write((tx) => tx.putPolicy(first));
      expectRow(await store().getPolicy(), first);
      const second = { document: "", updatedAt: 0, mac: new Uint8Array(0) };
      await store().write((tx) => tx.putPolicy(second));
      expectRow(await store().getPolicy(), second);
    });
  });

  describe("names are just names", () => {
    it("stores, finds and filters SQL-looking names literally", async () => {
      const paths = SQL_NAMES.flatMap((n) => [`${n}/KEY`, `ns/${n}`]);
      await store().write(async (tx) => {
        for (const p of paths) {
          await tx.putSecret(secretRow(p));
          await tx.putVersion(versionRow(p, 1, { actor: p }));
        }
        for (const n of SQL_NAMES) await tx.putSlot(slotRow(n, { label: n }));
      });
      for (const p of paths) {
        expect((await store().getSecret(p))?.path).toBe(p);
        expect((await store().listVersions(p)).map((v) => v.actor)).toEqual([p]);
      }
      for (const n of SQL_NAMES) expect((await store().listSecretsIn(n)).map((r) => r.path)).toEqual([`${n}/KEY`]);
      expect(await store().listSecrets()).toHaveLength(paths.length);
      expect(await store().listingText()).toBe(expectedListing(paths.map((p) => secretRow(p))));
      expect((await store().listSlots()).map((s) => s.id).sort()).toEqual([...SQL_NAMES].sort());
      await store().write((tx) => tx.deleteSecret("%/KEY"));
      await store().write((tx) => tx.deleteSlot("%"));
      expect(await store().listSecrets()).toHaveLength(paths.length - 1);
      expect(await store().listSlots()).toHaveLength(SQL_NAMES.length - 1);
      expect(await store().getSecret("_/KEY")).not.toBeNull();
    });
  });
}
