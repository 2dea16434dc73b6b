/**
 * Tampering with the vault file by hand, in-process: every edit of a stored byte that decides
 * what a secret is, who may read it or which key opens the vault fails closed (INTEGRITY, or
 * LOCKED where a slot no longer opens at all), and never returns a value — least of all
 * another secret's. Also: the audit chain names the first bad entry, a canary never reaches
 * the audit log, a full disk or an unwritable audit log releases nothing, and failed unlocks
 * slow down and are audited.
 *
 * Each test works on a copy of a template vault, edited with its own better-sqlite3
 * connection, then opened through SqliteStore as authy would.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { generateIdentity, identityToRecipient, randomBytes, wrapToRecipient, wrapWithPassphrase } from "../crypto/index.js";
import { AuthyError, isAuthyError } from "../errors.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import type { Store, StoreWriter } from "../store/store.js";
import { auditHash } from "./audit-chain.js";
import type { Clock } from "./clock.js";
import type { VaultContext } from "./context.js";
import { openKeys, sealSlot, type Credential } from "./key-slots.js";
import { Keyring } from "./keyring.js";
import { readListing } from "./secrets.js";
import { unlockDelayMs, Vault } from "./vault.js";
import { verifyAuditChain } from "./verify.js";

const PASSPHRASE = "correct horse battery staple";
/** The lowest work factor authy accepts: still a real scrypt, as fast as allowed. */
const WORK_FACTOR = 15;
const clock: Clock = { now: () => Date.now() };
const noSleep = async () => undefined;

const A1 = "A-version-one-0123456789abcdefgh";
const A2 = "A-version-two-0123456789abcdefgh";
const B1 = "B-version-one-0123456789abcdefgh";
const C1 = "C-version-one-0123456789abcdefgh";
const ALL_VALUES = [A1, A2, B1, C1];
const utf8 = (s: string) => Buffer.from(s, "utf8");

let dir: string;
let identity: string;
let recipient: string;
/** prod/A (2 versions), prod/B, staging/C; a passphrase slot and an identity slot. */
let template: string;
/** Another vault with the same secret names, under another key. */
let otherTemplate: string;
let counter = 0;
const opened: Store[] = [];

const byIdentity = (): Credential => ({ identities: [identity] });
const byPassphrase = (): Credential => ({ passphrase: PASSPHRASE });

async function makeVault(file: string): Promise<void> {
  const store = SqliteStore.open(file, { create: true });
  const vault = await Vault.init({ store, clock }, { passphrase: PASSPHRASE, workFactor: WORK_FACTOR, recipients: [recipient] });
  await vault.setSecret("prod/A", utf8(A1), { type: "api_key", description: "first", tags: ["x"], expiresAt: Date.now() + 365 * 86_400_000 });
  await vault.setSecret("prod/A", utf8(A2));
  await vault.setSecret("prod/B", utf8(B1), { tier: "sensitive" });
  await vault.setSecret("staging/C", utf8(C1));
  await vault.close();
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "authy-tamper-"));
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
  template = path.join(dir, "template.db");
  otherTemplate = path.join(dir, "other.db");
  await makeVault(template);
  await makeVault(otherTemplate);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

/** A fresh copy of a template vault file. */
function copyOf(from = template): string {
  const file = path.join(dir, `v${++counter}.db`);
  copyFileSync(from, file);
  return file;
}

/** Runs statements on the file through a connection of its own (not authy's). */
function sql(file: string, fn: (db: Database.Database) => void): void {
  const db = new Database(file);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

function openStore(file: string): SqliteStore {
  const store = SqliteStore.open(file);
  opened.push(store);
  return store;
}

function unlock(file: string, credential: Credential = byIdentity(), store: Store = openStore(file)): Promise<Vault> {
  return Vault.unlock({ store, clock, sleep: noSleep }, credential);
}

/**
 * The error code an operation failed with. A success is returned as "resolved" (and its value
 * checked against every value in the vault first, so a swap that leaks is named as such); a
 * failure that is not an AuthyError is rethrown: a raw error on the way out is a bug too.
 */
async function outcome(p: Promise<unknown>): Promise<string> {
  let result: unknown;
  try {
    result = await p;
  } catch (e) {
    if (isAuthyError(e)) return e.code;
    throw e;
  }
  const value = (result as { value?: Uint8Array } | undefined)?.value;
  if (value) {
    const text = Buffer.from(value).toString("utf8");
    if (ALL_VALUES.includes(text)) return `resolved with the value ${text}`;
  }
  return "resolved";
}

function flipBit(bytes: Uint8Array, i: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[i] = copy[i]! ^ (1 << (i % 8));
  return copy;
}

/** The columns an INSERT or UPDATE may name: generated columns are SQLite's to compute. */
function writableColumns(db: Database.Database, table: string): string[] {
  const columns = db.prepare("SELECT name, hidden FROM pragma_table_xinfo(?)").all(table) as { name: string; hidden: number }[];
  return columns.filter((c) => c.hidden === 0).map((c) => c.name);
}

function ctxOf(store: Store, keys: Keyring): VaultContext {
  return { store, clock, keys, actor: { kind: "owner" } };
}

async function keysFor(store: Store): Promise<Keyring> {
  return (await openKeys(store, (await store.getVault())!, byIdentity())).keys;
}

/**
 * The listing line the core stores with each row (listingLine in secret-rows.ts), in SQL: what a
 * hand edit of a column in the listing must also write to keep the row and its line in step.
 */
const LISTING_SQL =
  "length(CAST(path AS BLOB)) || ':' || path || char(31) || type || char(31) || tier || char(31) || current_version || char(31) || " +
  "coalesce(deleted_at, '') || char(31) || updated_at || char(31) || coalesce(expires_at, '')";

describe("hand edits of a secret's metadata row", () => {
  // Columns in the authenticated listing, edited with the row's listing line to match, also
  // make `list` fail; the rest only the row MAC sees.
  const edits: { column: string; set: string; inListing: boolean }[] = [
    { column: "type", set: "'ssh_key'", inListing: true },
    { column: "tier", set: "'critical'", inListing: true },
    { column: "description", set: "'edited by hand'", inListing: false },
    { column: "tags", set: `'["edited"]'`, inListing: false },
    { column: "expires_at", set: "NULL", inListing: true },
    { column: "current_version", set: "1", inListing: true },
    { column: "deleted_at", set: "updated_at", inListing: true },
    { column: "created_at", set: "created_at - 1", inListing: false },
    { column: "updated_at", set: "updated_at + 1", inListing: true },
    { column: "namespace", set: "'staging'", inListing: false },
    { column: "mac", set: "randomblob(32)", inListing: false },
  ];

  it.each(edits)("refuses prod/A after secrets.$column is edited", async ({ column, set, inListing }) => {
    const file = copyOf();
    sql(file, (db) => {
      expect(db.prepare(`UPDATE secrets SET ${column} = ${set} WHERE path = 'prod/A'`).run().changes).toBe(1);
      if (inListing) db.prepare(`UPDATE secrets SET listing = ${LISTING_SQL} WHERE path = 'prod/A'`).run();
    });
    const vault = await unlock(file);
    expect(await outcome(vault.getSecret("prod/A"))).toBe("INTEGRITY");
    expect(await outcome(vault.getSecret("prod/A", { version: 1 }))).toBe("INTEGRITY");
    expect(await outcome(vault.describeSecret("prod/A"))).toBe("INTEGRITY");
    expect(await outcome(vault.history("prod/A"))).toBe("INTEGRITY");
    expect(await outcome(vault.exportEnv("prod"))).toBe("INTEGRITY");
    expect(await outcome(vault.exportAll())).toBe("INTEGRITY");
    expect(await outcome(vault.setSecret("prod/A", utf8("new")))).toBe("INTEGRITY");
    expect(await outcome(vault.deleteSecret("prod/A"))).toBe("INTEGRITY");
    if (inListing) expect(await outcome(vault.listSecrets())).toBe("INTEGRITY");
    expect((await vault.verify()).problems.length).toBeGreaterThan(0);
    // Fails closed for that secret only: the others still open. (An edit of the MAC, or a row
    // moved to another namespace, fails the state digest of its bucket, a 64th of a namespace,
    // which none of the others share: see stateShard.)
    expect(Buffer.from((await vault.getSecret("prod/B")).value).toString()).toBe(B1);
    expect(Buffer.from((await vault.getSecret("staging/C")).value).toString()).toBe(C1);
  });

  it("refuses a secret renamed by hand (path edited), under either name", async () => {
    const file = copyOf();
    sql(file, (db) => db.prepare("UPDATE secrets SET path = 'prod/Z' WHERE path = 'prod/A'").run());
    const vault = await unlock(file);
    expect(await outcome(vault.getSecret("prod/Z"))).toBe("INTEGRITY");
    // The namespace no longer matches its state digest: the old name is refused, not just missing.
    expect(await outcome(vault.getSecret("prod/A"))).toBe("INTEGRITY");
    expect(await outcome(vault.listSecrets())).toBe("INTEGRITY");
  });

  it("refuses every one-bit flip of every byte of the row (a sweep over every column)", async () => {
    const file = copyOf();
    const vault = await unlock(file);
    const db = new Database(file);
    try {
      const original = db.prepare("SELECT * FROM secrets WHERE path = 'prod/B'").get() as Record<string, unknown>;
      let variants = 0;
      for (const column of writableColumns(db, "secrets")) {
        const value = original[column];
        const forms: unknown[] = [];
        if (typeof value === "string") {
          const raw = utf8(value);
          for (let i = 0; i < raw.length; i++) forms.push(flipBit(raw, i));
        } else if (typeof value === "number") {
          for (let bit = 0; bit < 48; bit++) forms.push(Number(BigInt(value) ^ (1n << BigInt(bit))));
        } else if (value instanceof Uint8Array) {
          for (let i = 0; i < value.length; i++) forms.push(flipBit(value, i));
        } else if (value === null) {
          forms.push(0, 1, Date.now());
        }
        const cast = typeof value === "string" ? "CAST(? AS TEXT)" : "?";
        for (const form of forms) {
          db.prepare(`UPDATE secrets SET ${column} = ${cast} WHERE path = 'prod/B'`).run(form);
          variants++;
          // A flipped path renames the row: the namespace's state digest no longer matches. A
          // flipped listing line is the listing MAC's to catch; the row itself is intact.
          if (column === "listing") expect(`${column}: ${await outcome(vault.listSecrets())}`).toBe(`${column}: INTEGRITY`);
          else expect(`${column}: ${await outcome(vault.getSecret("prod/B"))}`).toBe(`${column}: INTEGRITY`);
          if (column === "path") {
            db.prepare("UPDATE secrets SET path = 'prod/B' WHERE path = CAST(? AS TEXT)").run(form);
          } else {
            db.prepare(`UPDATE secrets SET ${column} = ? WHERE path = 'prod/B'`).run(value);
          }
        }
      }
      expect(variants).toBeGreaterThan(200);
      expect(Buffer.from((await vault.getSecret("prod/B")).value).toString()).toBe(B1);
    } finally {
      db.close();
    }
  });

  it("refuses a secrets row inserted by hand: the listing no longer matches", async () => {
    const file = copyOf();
    sql(file, (db) =>
      db
        .prepare(
          "INSERT INTO secrets SELECT 'prod/FORGED', namespace, type, tier, description, tags, expires_at, current_version, deleted_at, created_at, updated_at, mac, listing FROM secrets WHERE path = 'prod/B'",
        )
        .run(),
    );
    const vault = await unlock(file);
    expect(await outcome(vault.listSecrets())).toBe("INTEGRITY");
    expect(await outcome(vault.listSecrets({ namespace: "staging" }))).toBe("INTEGRITY");
    expect(await outcome(vault.getSecret("prod/FORGED"))).toBe("INTEGRITY");
    expect(await outcome(vault.exportAll())).toBe("INTEGRITY");
  });

  it("refuses a secrets row deleted by hand: the listing no longer matches", async () => {
    const file = copyOf();
    sql(file, (db) => db.prepare("DELETE FROM secrets WHERE path = 'prod/B'").run());
    const vault = await unlock(file);
    expect(await outcome(vault.listSecrets())).toBe("INTEGRITY");
    expect(await outcome(vault.exportAll())).toBe("INTEGRITY");
    expect((await vault.verify()).problems.length).toBeGreaterThan(0);
  });

  it("refuses the owner's next write after a row was inserted or deleted by hand, so it is never laundered into the listing", async () => {
    for (const edit of [
      "INSERT INTO secrets SELECT 'prod/FORGED', namespace, type, tier, description, tags, expires_at, current_version, deleted_at, created_at, updated_at, mac, listing FROM secrets WHERE path = 'prod/B'",
      "DELETE FROM secrets WHERE path = 'prod/B'",
    ]) {
      const file = copyOf();
      sql(file, (db) => db.prepare(edit).run());
      const vault = await unlock(file);
      expect(await outcome(vault.setSecret("staging/NEW", Buffer.from("value")))).toBe("INTEGRITY");
      expect(await outcome(vault.importEnv([{ key: "K", value: "v" }], { namespace: "other" }))).toBe("INTEGRITY");
      expect(await outcome(vault.listSecrets())).toBe("INTEGRITY");
    }
  });
});

describe("hand edits of a stored version", () => {
  const edits: { column: string; set: string }[] = [
    { column: "type", set: "'ssh_key'" },
    { column: "tier", set: "'critical'" },
    { column: "sealed", set: "randomblob(length(sealed))" },
    { column: "wrapped_dek", set: "randomblob(length(wrapped_dek))" },
    { column: "created_at", set: "created_at + 1" },
    { column: "actor", set: "'agent:mallory'" },
    { column: "version", set: "3" },
  ];

  it.each(edits)("refuses the current version of prod/A after secret_versions.$column is edited", async ({ column, set }) => {
    const file = copyOf();
    sql(file, (db) => expect(db.prepare(`UPDATE secret_versions SET ${column} = ${set} WHERE path = 'prod/A' AND version = 2`).run().changes).toBe(1));
    const vault = await unlock(file);
    expect(await outcome(vault.getSecret("prod/A"))).toBe("INTEGRITY");
    expect(await outcome(vault.exportEnv("prod"))).toBe("INTEGRITY");
    expect(await outcome(vault.exportAll())).toBe("INTEGRITY");
    expect((await vault.verify()).problems.length).toBeGreaterThan(0);
    // The untouched older version still opens, and only as itself.
    expect(Buffer.from((await vault.getSecret("prod/A", { version: 1 })).value).toString()).toBe(A1);
  });

  it.each(edits.filter((e) => e.column !== "version"))(
    "refuses an older version of prod/A after secret_versions.$column is edited",
    async ({ column, set }) => {
      const file = copyOf();
      sql(file, (db) => db.prepare(`UPDATE secret_versions SET ${column} = ${set} WHERE path = 'prod/A' AND version = 1`).run());
      const vault = await unlock(file);
      expect(await outcome(vault.getSecret("prod/A", { version: 1 }))).toBe("INTEGRITY");
      expect(await outcome(vault.rollback("prod/A", 1))).toBe("INTEGRITY");
      expect(Buffer.from((await vault.getSecret("prod/A")).value).toString()).toBe(A2);
    },
  );

  it("refuses versions renumbered by hand (v1 and v2 of prod/A swapped)", async () => {
    const file = copyOf();
    sql(file, (db) => {
      db.prepare("UPDATE secret_versions SET version = 99 WHERE path = 'prod/A' AND version = 1").run();
      db.prepare("UPDATE secret_versions SET version = 1 WHERE path = 'prod/A' AND version = 2").run();
      db.prepare("UPDATE secret_versions SET version = 2 WHERE path = 'prod/A' AND version = 99").run();
    });
    const vault = await unlock(file);
    expect(await outcome(vault.getSecret("prod/A"))).toBe("INTEGRITY");
    expect(await outcome(vault.getSecret("prod/A", { version: 1 }))).toBe("INTEGRITY");
  });

  async function sweep(column: "sealed" | "wrapped_dek"): Promise<number> {
    const file = copyOf();
    const vault = await unlock(file);
    const db = new Database(file);
    try {
      const original = db.prepare(`SELECT ${column} FROM secret_versions WHERE path = 'prod/B' AND version = 1`).pluck().get() as Buffer;
      const variants: Buffer[] = [];
      for (let i = 0; i < original.length; i++) variants.push(flipBit(original, i));
      // Truncated at every length, and with garbage appended.
      for (let n = 0; n < original.length; n++) variants.push(original.subarray(0, n));
      variants.push(Buffer.concat([original, Buffer.from([0])]), Buffer.concat([original, randomBytes(16)]));
      const update = db.prepare(`UPDATE secret_versions SET ${column} = ? WHERE path = 'prod/B' AND version = 1`);
      const seen = new Map<string, number>();
      for (const variant of variants) {
        update.run(variant);
        const o = await outcome(vault.getSecret("prod/B"));
        seen.set(o, (seen.get(o) ?? 0) + 1);
      }
      update.run(original);
      expect(Object.fromEntries(seen)).toEqual({ INTEGRITY: variants.length });
      expect(Buffer.from((await vault.getSecret("prod/B")).value).toString()).toBe(B1);
      return variants.length;
    } finally {
      db.close();
    }
  }

  it("refuses every one-bit flip, truncation and extension of a sealed value", async () => {
    expect(await sweep("sealed")).toBeGreaterThan(100);
  });

  it("refuses every one-bit flip, truncation and extension of a wrapped data key", async () => {
    expect(await sweep("wrapped_dek")).toBeGreaterThan(100);
  });
});

describe("ciphertext moved to another row, version or vault", () => {
  const copyVersion = (db: Database.Database, from: [string, number], to: [string, number], columns = ["sealed", "wrapped_dek"]) =>
    db
      .prepare(
        `UPDATE secret_versions SET ${columns.map((c) => `${c} = (SELECT ${c} FROM src.secret_versions WHERE path = ? AND version = ?)`).join(", ")} WHERE path = ? AND version = ?`,
      )
      .run(...columns.flatMap(() => from), ...to);

  it("refuses A's ciphertext copied into B's row, and never shows A's value as B", async () => {
    const file = copyOf();
    sql(file, (db) => {
      db.exec(`ATTACH '${file}' AS src`);
      copyVersion(db, ["prod/A", 2], ["prod/B", 1]);
    });
    const vault = await unlock(file);
    expect(await outcome(vault.getSecret("prod/B"))).toBe("INTEGRITY");
    expect(await outcome(vault.exportEnv("prod"))).toBe("INTEGRITY");
  });

  it("refuses A's whole version row (type, tier, time and actor too) copied into B's", async () => {
    const file = copyOf();
    sql(file, (db) => {
      db.exec(`ATTACH '${file}' AS src`);
      copyVersion(db, ["prod/A", 2], ["prod/B", 1], ["type", "tier", "sealed", "wrapped_dek", "created_at", "actor"]);
      db.prepare(
        "UPDATE secrets SET type = (SELECT type FROM secrets WHERE path = 'prod/A'), tier = (SELECT tier FROM secrets WHERE path = 'prod/A') WHERE path = 'prod/B'",
      ).run();
    });
    const vault = await unlock(file);
    expect(await outcome(vault.getSecret("prod/B"))).toBe("INTEGRITY");
  });

  it("refuses A's current ciphertext copied into an older version of A", async () => {
    const file = copyOf();
    sql(file, (db) => {
      db.exec(`ATTACH '${file}' AS src`);
      copyVersion(db, ["prod/A", 2], ["prod/A", 1]);
    });
    const vault = await unlock(file);
    expect(await outcome(vault.getSecret("prod/A", { version: 1 }))).toBe("INTEGRITY");
    expect(Buffer.from((await vault.getSecret("prod/A")).value).toString()).toBe(A2);
  });

  it("refuses an older ciphertext of A copied over the current one (no silent rollback of the value)", async () => {
    const file = copyOf();
    sql(file, (db) => {
      db.exec(`ATTACH '${file}' AS src`);
      copyVersion(db, ["prod/A", 1], ["prod/A", 2], ["type", "tier", "sealed", "wrapped_dek", "created_at", "actor"]);
    });
    const vault = await unlock(file);
    expect(await outcome(vault.getSecret("prod/A"))).toBe("INTEGRITY");
  });

  it("refuses a ciphertext copied in from another vault's file, even with its whole row", async () => {
    const file = copyOf();
    sql(file, (db) => {
      db.exec(`ATTACH '${otherTemplate}' AS src`);
      copyVersion(db, ["prod/A", 2], ["prod/A", 2], ["type", "tier", "sealed", "wrapped_dek", "created_at", "actor"]);
    });
    const vault = await unlock(file);
    expect(await outcome(vault.getSecret("prod/A"))).toBe("INTEGRITY");
  });

  it("refuses another vault's secret row and versions copied in whole", async () => {
    const file = copyOf();
    sql(file, (db) => {
      db.exec(`ATTACH '${otherTemplate}' AS src`);
      db.exec("DELETE FROM secrets WHERE path = 'prod/B'; DELETE FROM secret_versions WHERE path = 'prod/B'");
      for (const table of ["secrets", "secret_versions"]) {
        const columns = writableColumns(db, table).join(", ");
        db.exec(`INSERT INTO ${table} (${columns}) SELECT ${columns} FROM src.${table} WHERE path = 'prod/B'`);
      }
    });
    const vault = await unlock(file);
    expect(await outcome(vault.getSecret("prod/B"))).toBe("INTEGRITY");
    expect(await outcome(vault.listSecrets())).toBe("INTEGRITY");
  });
});

describe("hand edits of the vault header", () => {
  const edits: { column: string; set: string }[] = [
    { column: "vault_id", set: "randomblob(16)" },
    { column: "format", set: "3" },
    { column: "created_at", set: "created_at + 1" },
    { column: "mac", set: "randomblob(32)" },
  ];

  it.each(edits)("refuses to unlock after vault.$column is edited, with the identity and with the passphrase", async ({ column, set }) => {
    const file = copyOf();
    sql(file, (db) => db.prepare(`UPDATE vault SET ${column} = ${set}`).run());
    expect(await outcome(unlock(file, byIdentity()))).toBe("INTEGRITY");
    expect(await outcome(unlock(file, byPassphrase()))).toBe("INTEGRITY");
  });

  it.each(["randomblob(32)", "NULL"])("refuses to list after vault.listing_mac is set to %s", async (set) => {
    const file = copyOf();
    sql(file, (db) => db.prepare(`UPDATE vault SET listing_mac = ${set}`).run());
    const vault = await unlock(file);
    expect(await outcome(vault.listSecrets())).toBe("INTEGRITY");
    expect(await outcome(vault.exportAll())).toBe("INTEGRITY");
    expect((await vault.verify()).problems.length).toBeGreaterThan(0);
  });
});

describe("hand edits of a key slot", () => {
  const edits: { column: string; set: string }[] = [
    // Appended, so the slot keeps its place in the slots' state text (ordered by id): the row's
    // own MAC has to catch this edit. A new id that sorted elsewhere would change the state
    // digest and refuse even the passphrase slot, like the MAC edit below.
    { column: "id", set: "id || '_forged'" },
    { column: "label", set: "'mallory'" },
    { column: "created_at", set: "created_at + 1" },
    { column: "mac", set: "randomblob(32)" },
  ];

  it.each([...edits, { column: "recipient", set: "'age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq'" }])(
    "refuses the identity slot after key_slots.$column is edited",
    async ({ column, set }) => {
      const file = copyOf();
      sql(file, (db) => expect(db.prepare(`UPDATE key_slots SET ${column} = ${set} WHERE kind = 'x25519'`).run().changes).toBe(1));
      expect(await outcome(unlock(file, byIdentity()))).toBe("INTEGRITY");
      if (column === "mac") {
        // A slot's MAC is what the slots' state digest holds: the key slots no longer match the
        // vault state, so even the intact passphrase slot is refused (fresh rows, fail closed).
        expect(await outcome(unlock(file, byPassphrase()))).toBe("INTEGRITY");
        return;
      }
      // The passphrase slot is intact and still opens, but the edited slot shows up at once.
      const vault = await unlock(file, byPassphrase());
      expect(await outcome(vault.listKeys())).toBe("INTEGRITY");
      expect((await vault.verify()).problems.join("\n")).toMatch(/key slot/);
    },
  );

  it.each(edits)("refuses the passphrase slot after key_slots.$column is edited", async ({ column, set }) => {
    const file = copyOf();
    sql(file, (db) => db.prepare(`UPDATE key_slots SET ${column} = ${set} WHERE kind = 'passphrase'`).run());
    expect(await outcome(unlock(file, byPassphrase()))).toBe("INTEGRITY");
  });

  it("treats a slot whose kind was edited as a slot that no longer opens (LOCKED), and flags it once unlocked", async () => {
    // Without the vault key nothing can tell an edited kind from a missing slot: LOCKED, like a wrong key.
    const file = copyOf();
    sql(file, (db) => db.prepare("UPDATE key_slots SET kind = 'passphrase' WHERE kind = 'x25519'").run());
    expect(await outcome(unlock(file, byIdentity()))).toBe("LOCKED");
    const vault = await unlock(file, byPassphrase());
    expect(await outcome(vault.listKeys())).toBe("INTEGRITY");
    expect((await vault.verify()).problems.length).toBeGreaterThan(0);

    const file2 = copyOf();
    sql(file2, (db) => db.prepare("UPDATE key_slots SET kind = 'x25519' WHERE kind = 'passphrase'").run());
    expect(await outcome(unlock(file2, byPassphrase()))).toBe("LOCKED");
  });

  it("refuses every one-bit flip of every byte of an identity slot (LOCKED or INTEGRITY, never unlocked)", async () => {
    const file = copyOf();
    const store = openStore(file);
    const db = new Database(file);
    try {
      const { id, slot } = db.prepare("SELECT id, slot FROM key_slots WHERE kind = 'x25519'").get() as { id: string; slot: Buffer };
      const update = db.prepare("UPDATE key_slots SET slot = ? WHERE id = ?");
      const seen = new Map<string, number>();
      for (let i = 0; i < slot.length; i++) {
        update.run(flipBit(slot, i), id);
        const o = await outcome(unlock(file, byIdentity(), store));
        seen.set(o, (seen.get(o) ?? 0) + 1);
      }
      for (let n = 0; n < slot.length; n += 7) {
        update.run(slot.subarray(0, n), id);
        const o = await outcome(unlock(file, byIdentity(), store));
        seen.set(o, (seen.get(o) ?? 0) + 1);
      }
      expect([...seen.keys()].filter((o) => o !== "LOCKED" && o !== "INTEGRITY")).toEqual([]);
      expect((seen.get("INTEGRITY") ?? 0) + (seen.get("LOCKED") ?? 0)).toBeGreaterThan(slot.length);
      update.run(slot, id);
      expect(await outcome(unlock(file, byIdentity(), store))).toBe("resolved");
    } finally {
      db.close();
    }
  });

  it("refuses one-bit flips across a passphrase slot (header, work factor, stanza, MAC, payload)", async () => {
    // Every variant that gets as far as scrypt costs a real scrypt, so the header lines that the
    // parser checks are swept whole and the rest sampled.
    const file = copyOf();
    const store = openStore(file);
    const db = new Database(file);
    try {
      const { id, slot } = db.prepare("SELECT id, slot FROM key_slots WHERE kind = 'passphrase'").get() as { id: string; slot: Buffer };
      const firstLines = slot.indexOf(0x0a, slot.indexOf(0x0a) + 1);
      const stanzaLine = slot.subarray(0, firstLines).toString("latin1");
      const salt = stanzaLine.indexOf("scrypt ") + "scrypt ".length;
      const bodyStart = firstLines + 1;
      const macLine = slot.indexOf("--- ");
      const payload = slot.indexOf(0x0a, macLine) + 1;
      const positions = new Set<number>();
      for (let i = 0; i <= firstLines; i++) if (i < salt || i > salt + 21) positions.add(i);
      for (const i of [salt, salt + 21, bodyStart, bodyStart + 20, macLine, macLine + 4, macLine + 40, payload, payload + 20, slot.length - 1])
        positions.add(i);
      const update = db.prepare("UPDATE key_slots SET slot = ? WHERE id = ?");
      const seen = new Map<string, number>();
      for (const i of positions) {
        update.run(flipBit(slot, i), id);
        const o = await outcome(unlock(file, byPassphrase(), store));
        seen.set(o, (seen.get(o) ?? 0) + 1);
      }
      expect([...seen.keys()].filter((o) => o !== "LOCKED" && o !== "INTEGRITY")).toEqual([]);
      update.run(slot, id);
      expect(await outcome(unlock(file, byPassphrase(), store))).toBe("resolved");
    } finally {
      db.close();
    }
  });
});

describe("a key slot replaced by one someone else made", () => {
  it("refuses an identity slot that wraps another key to the vault's own recipient", async () => {
    const file = copyOf();
    const forged = await wrapToRecipient(randomBytes(32), recipient);
    sql(file, (db) => db.prepare("UPDATE key_slots SET slot = ? WHERE kind = 'x25519'").run(Buffer.from(forged)));
    expect(await outcome(unlock(file, byIdentity()))).toBe("INTEGRITY");
  });

  it("refuses it even when the forger also MACs the slot with the key they chose", async () => {
    const file = copyOf();
    const fakeKey = randomBytes(32);
    const forgedSlot = await wrapToRecipient(fakeKey, recipient);
    sql(file, (db) => {
      const vaultId = new Uint8Array(db.prepare("SELECT vault_id FROM vault").pluck().get() as Buffer);
      const row = db.prepare("SELECT * FROM key_slots WHERE kind = 'x25519'").get() as Record<string, unknown>;
      const sealed = sealSlot(new Keyring(fakeKey, vaultId), {
        id: row.id as string,
        kind: "x25519",
        label: row.label as string,
        recipient,
        slot: forgedSlot,
        createdAt: row.created_at as number,
      });
      db.prepare("UPDATE key_slots SET slot = ?, mac = ? WHERE id = ?").run(Buffer.from(sealed.slot), Buffer.from(sealed.mac), sealed.id);
    });
    // The slot now verifies under the forged key, but the vault header does not.
    expect(await outcome(unlock(file, byIdentity()))).toBe("INTEGRITY");
  });

  it("refuses a passphrase slot rewrapped by someone who knows the passphrase but writes another vault key", async () => {
    const file = copyOf();
    const forged = await wrapWithPassphrase(randomBytes(32), PASSPHRASE, WORK_FACTOR);
    sql(file, (db) => db.prepare("UPDATE key_slots SET slot = ? WHERE kind = 'passphrase'").run(Buffer.from(forged)));
    expect(await outcome(unlock(file, byPassphrase()))).toBe("INTEGRITY");
    // The identity slot was not touched.
    expect(await outcome(unlock(file, byIdentity()))).toBe("resolved");
  });

  it("refuses a second, forged identity slot added for the vault's recipient", async () => {
    const file = copyOf();
    const forged = await wrapToRecipient(randomBytes(32), recipient);
    sql(file, (db) =>
      db
        .prepare(
          "INSERT INTO key_slots (id, kind, label, recipient, slot, created_at, mac) VALUES ('slot_0forged', 'x25519', 'forged', ?, ?, 0, randomblob(32))",
        )
        .run(recipient, Buffer.from(forged)),
    );
    // The forged slot sorts first (created_at 0): it opens with the identity, then fails its MAC.
    expect(await outcome(unlock(file, byIdentity()))).toBe("INTEGRITY");
  });
});

describe("SQL planted in the vault file", () => {
  it.each([
    ["drops each new audit entry", "CREATE TRIGGER hide AFTER INSERT ON audit BEGIN DELETE FROM audit WHERE seq = NEW.seq; END"],
    [
      "rewrites each new version",
      "CREATE TRIGGER swap AFTER INSERT ON secret_versions BEGIN UPDATE secret_versions SET actor = 'x' WHERE path = NEW.path; END",
    ],
  ])("refuses a vault holding a trigger that %s", async (_what, trigger) => {
    // A trigger runs inside authy's own transactions: one that deletes every audit entry as it
    // is written leaves a chain that verifies, and no checkpoint can catch what never existed.
    const file = copyOf();
    sql(file, (db) => db.exec(trigger));
    expect(await outcome((async () => unlock(file))())).toBe("INTEGRITY");
  });
});

describe("the audit log", () => {
  const count = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare("SELECT count(*) FROM audit").pluck().get() as number;
    } finally {
      db.close();
    }
  };

  it("gains an entry for every operation: set, get, list, history, delete, restore, export", async () => {
    const file = copyOf();
    const vault = await unlock(file);
    const steps: [string, () => Promise<unknown>][] = [
      ["secret.write", () => vault.setSecret("prod/NEW", utf8("v"))],
      ["secret.read", () => vault.getSecret("prod/NEW")],
      ["secret.list", () => vault.listSecrets()],
      ["secret.delete", () => vault.deleteSecret("prod/NEW")],
      ["secret.restore", () => vault.restoreSecret("prod/NEW")],
      ["secret.rollback", () => vault.rollback("prod/A", 1)],
      ["env.export", () => vault.exportEnv("prod")],
    ];
    for (const [action, step] of steps) {
      const before = count(file);
      await step();
      expect({ action, added: count(file) - before }).toEqual({ action, added: 1 });
      const db = new Database(file, { readonly: true });
      try {
        expect(db.prepare("SELECT action FROM audit ORDER BY seq DESC LIMIT 1").pluck().get()).toBe(action);
      } finally {
        db.close();
      }
    }
    expect((await verifyAuditChain(ctxOf(opened[0]!, await keysFor(opened[0]!)))).firstBad).toBeNull();
  });

  it("records a refused read (INTEGRITY) as an error entry", async () => {
    const file = copyOf();
    sql(file, (db) => db.prepare("UPDATE secret_versions SET sealed = randomblob(length(sealed)) WHERE path = 'prod/B'").run());
    const vault = await unlock(file);
    const before = count(file);
    expect(await outcome(vault.getSecret("prod/B"))).toBe("INTEGRITY");
    expect(count(file)).toBe(before + 1);
    sql(file, (db) => expect(db.prepare("SELECT outcome FROM audit ORDER BY seq DESC LIMIT 1").pluck().get()).toBe("error"));
  });

  /** A vault with a dozen audit entries, its raw rows, and a way to check the chain. */
  async function chain() {
    const file = copyOf();
    const vault = await unlock(file);
    for (let i = 0; i < 6; i++) await vault.getSecret("prod/B");
    await vault.close();
    opened.splice(0);
    const rows = () => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare("SELECT * FROM audit ORDER BY seq").all() as Record<string, unknown>[];
      } finally {
        db.close();
      }
    };
    const verify = async () => {
      const store = openStore(file);
      return verifyAuditChain(ctxOf(store, await keysFor(store)));
    };
    expect(rows().length).toBeGreaterThanOrEqual(10);
    expect((await verify()).firstBad).toBeNull();
    return { file, rows, verify };
  }

  const insert = (db: Database.Database, row: Record<string, unknown>) => {
    const columns = writableColumns(db, "audit");
    db.prepare(`INSERT INTO audit (${columns.join(", ")}) VALUES (${columns.map((k) => "@" + k).join(", ")})`).run(
      Object.fromEntries(columns.map((c) => [c, row[c]])),
    );
  };
  /** Moves entries from `seq` on up (delta 1) or down (delta -1), via negative numbers to dodge the key. */
  const shift = (db: Database.Database, from: number, delta: number) => {
    db.prepare("UPDATE audit SET seq = -seq WHERE seq >= ?").run(from);
    db.prepare("UPDATE audit SET seq = -seq + ? WHERE seq < 0").run(delta);
  };

  it.each([
    ["actor", "'agent:mallory'"],
    ["action", "'forged.action'"],
    ["resource", "'prod/A'"],
    ["outcome", "'denied'"],
    ["details", "'{}'"],
    ["ts", "ts + 1"],
    ["prev_hash", "randomblob(32)"],
    ["hash", "randomblob(32)"],
    ["mac", "randomblob(32)"],
  ])("names entry 5 when its %s is changed", async (column, set) => {
    const { file, verify } = await chain();
    sql(file, (db) => db.prepare(`UPDATE audit SET ${column} = ${set} WHERE seq = 5`).run());
    expect((await verify()).firstBad?.seq).toBe(5);
  });

  it("names the entry whose bytes were flipped, for every byte of it", async () => {
    const { file, rows } = await chain();
    const original = rows()[5]!;
    const seq = original.seq as number;
    const store = openStore(file);
    const ctx = ctxOf(store, await keysFor(store));
    const db = new Database(file);
    try {
      let variants = 0;
      for (const column of writableColumns(db, "audit")) {
        const value = original[column];
        if (column === "seq") continue;
        const forms: unknown[] = [];
        if (typeof value === "string") for (let i = 0; i < utf8(value).length; i++) forms.push(flipBit(utf8(value), i));
        else if (typeof value === "number") for (let bit = 0; bit < 48; bit++) forms.push(Number(BigInt(value) ^ (1n << BigInt(bit))));
        else if (value instanceof Uint8Array) for (let i = 0; i < value.length; i++) forms.push(flipBit(value, i));
        for (const form of forms) {
          db.prepare(`UPDATE audit SET ${column} = ${typeof value === "string" ? "CAST(? AS TEXT)" : "?"} WHERE seq = ?`).run(form, seq);
          variants++;
          expect(`${column}: ${(await verifyAuditChain(ctx)).firstBad?.seq}`).toBe(`${column}: ${seq}`);
        }
        db.prepare(`UPDATE audit SET ${column} = ? WHERE seq = ?`).run(value, seq);
      }
      expect(variants).toBeGreaterThan(150);
      expect((await verifyAuditChain(ctx)).firstBad).toBeNull();
    } finally {
      db.close();
    }
  });

  it("names the first displaced entry when two entries are swapped", async () => {
    const { file, verify } = await chain();
    sql(file, (db) => {
      db.prepare("UPDATE audit SET seq = -1 WHERE seq = 4").run();
      db.prepare("UPDATE audit SET seq = 4 WHERE seq = 7").run();
      db.prepare("UPDATE audit SET seq = 7 WHERE seq = -1").run();
    });
    expect((await verify()).firstBad?.seq).toBe(4);
  });

  it("names a duplicated entry", async () => {
    const { file, rows, verify } = await chain();
    const fifth = rows()[4]!;
    sql(file, (db) => {
      shift(db, 6, 1);
      insert(db, { ...fifth, seq: 6 });
    });
    expect((await verify()).firstBad?.seq).toBe(6);
  });

  it("names an inserted entry, even one whose hash links correctly (it lacks the MAC)", async () => {
    const { file, rows, verify } = await chain();
    const fourth = rows()[3]!;
    const store = openStore(file);
    const vaultId = (await store.getVault())!.vaultId;
    const base = {
      seq: 5,
      ts: fourth.ts as number,
      actor: "owner",
      action: "secret.read",
      resource: "prod/A",
      outcome: "ok",
      details: "{}",
      prevHash: new Uint8Array(fourth.hash as Buffer),
    };
    const hash = auditHash(vaultId, base);
    sql(file, (db) => {
      shift(db, 5, 1);
      insert(db, {
        seq: 5,
        ts: base.ts,
        actor: base.actor,
        action: base.action,
        resource: base.resource,
        outcome: base.outcome,
        details: base.details,
        prev_hash: fourth.hash,
        hash: Buffer.from(hash),
        mac: Buffer.from(randomBytes(32)),
      });
    });
    const report = await verify();
    expect(report.firstBad).toEqual({ seq: 5, reason: "was not written by this vault" });
  });

  it("names a forged entry appended at the end", async () => {
    const { file, rows, verify } = await chain();
    const last = rows().at(-1)!;
    sql(file, (db) => insert(db, { ...last, seq: (last.seq as number) + 1, prev_hash: last.hash, mac: Buffer.from(randomBytes(32)) }));
    expect((await verify()).firstBad?.seq).toBe((last.seq as number) + 1);
  });

  it("names the gap when an entry in the middle is deleted, renumbered or not", async () => {
    const a = await chain();
    sql(a.file, (db) => db.prepare("DELETE FROM audit WHERE seq = 5").run());
    expect((await a.verify()).firstBad?.seq).toBe(5);

    const b = await chain();
    sql(b.file, (db) => {
      db.prepare("DELETE FROM audit WHERE seq = 5").run();
      shift(db, 6, -1);
    });
    expect((await b.verify()).firstBad?.seq).toBe(5);
  });

  it("does not notice the newest entries deleted, without a checkpoint", async () => {
    // Truncating the tail leaves a valid, shorter chain: only `audit verify --checkpoint`
    // against a head kept elsewhere can catch it (a later issue). Pinned here so that the
    // day checkpoints arrive, this test is changed on purpose rather than by surprise.
    const { file, rows, verify } = await chain();
    const n = rows().length;
    sql(file, (db) => db.prepare("DELETE FROM audit WHERE seq > ?").run(n - 2));
    const report = await verify();
    expect(report.firstBad).toBeNull();
    expect(report.entries).toBe(n - 2);
  });

  it("never holds a secret value, raw or encoded, and neither does the vault file", async () => {
    const canary = "canary-" + Buffer.from(randomBytes(18)).toString("hex");
    const file = copyOf();
    const vault = await unlock(file);
    await vault.setSecret("prod/CANARY", utf8(canary), { description: "canary" });
    await vault.getSecret("prod/CANARY");
    await vault.setSecret("prod/CANARY", utf8(canary + "-2"));
    await vault.rollback("prod/CANARY", 1);
    await vault.importEnv([{ key: "CANARY_ENV", value: canary }], { namespace: "prod" });
    await vault.exportEnv("prod");
    await vault.exportAll();
    await vault.listSecrets();
    await vault.history("prod/CANARY");
    await vault.deleteSecret("prod/CANARY");
    await vault.restoreSecret("prod/CANARY");
    // A failed read too (its audit entry must not carry the value either).
    sql(file, (db) => db.prepare("UPDATE secret_versions SET actor = 'x' WHERE path = 'prod/CANARY' AND version = 1").run());
    expect(await outcome(vault.getSecret("prod/CANARY", { version: 1 }))).toBe("INTEGRITY");
    await vault.close();
    opened.splice(0);

    const v = utf8(canary);
    const forms = [
      canary,
      v.toString("base64"),
      v.toString("base64url"),
      v.toString("hex"),
      v.toString("hex").toUpperCase(),
      encodeURIComponent(canary),
      JSON.stringify(canary),
    ];
    // Base64 of the value at each alignment (as it would appear inside a longer encoded text).
    for (const pad of [1, 2])
      forms.push(
        Buffer.concat([Buffer.alloc(pad), v])
          .toString("base64")
          .slice(4),
      );
    const db = new Database(file, { readonly: true });
    try {
      const rows = db.prepare("SELECT * FROM audit").all() as Record<string, unknown>[];
      expect(rows.length).toBeGreaterThan(10);
      const text = rows
        .map((r) =>
          Object.values(r)
            .map((x) => (x instanceof Uint8Array ? Buffer.from(x).toString("latin1") : String(x)))
            .join("\u0000"),
        )
        .join("\n");
      for (const f of forms) expect(text.includes(f), `audit holds the canary as ${f}`).toBe(false);
      expect(db.prepare("SELECT count(*) FROM audit WHERE resource = 'prod/CANARY'").pluck().get()).toBeGreaterThan(5);
    } finally {
      db.close();
    }
    const whole = readFileSync(file).toString("latin1");
    for (const f of forms) expect(whole.includes(f), `the vault file holds the canary as ${f}`).toBe(false);
  });
});

/** The store's own write connection (SQLite limits such as max_page_count are per connection). */
function writeConnection(store: SqliteStore): Database.Database {
  const s = store as unknown as { writer?: { db: Database.Database }; db?: Database.Database };
  const db = s.writer?.db ?? s.db;
  if (!db) throw new Error("cannot find SqliteStore's write connection: update writeConnection() in this test");
  return db;
}

describe("storage faults", () => {
  /** A store whose audit appends fail, as when the disk fills between the read and the audit entry. */
  function auditFails(inner: SqliteStore): Store {
    const failingTx = (tx: StoreWriter): StoreWriter =>
      new Proxy(tx, {
        get(target, prop) {
          if (prop === "appendAudit")
            return async () => {
              throw new AuthyError("UNAVAILABLE", "the disk is full (writing the audit log); nothing was written");
            };
          const v = Reflect.get(target, prop) as unknown;
          return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    return new Proxy(inner, {
      get(target, prop) {
        if (prop === "write") return <T>(fn: (tx: StoreWriter) => Promise<T>) => target.write((tx) => fn(failingTx(tx)));
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  it("releases no value when the audit entry cannot be written, and writes nothing", async () => {
    const file = copyOf();
    const vault = await unlock(file, byIdentity(), auditFails(openStore(file)));
    expect(await outcome(vault.getSecret("prod/B"))).toBe("UNAVAILABLE");
    expect(await outcome(vault.getSecret("prod/A", { version: 1 }))).toBe("UNAVAILABLE");
    expect(await outcome(vault.exportEnv("prod"))).toBe("UNAVAILABLE");
    expect(await outcome(vault.exportAll())).toBe("UNAVAILABLE");
    expect(await outcome(vault.setSecret("prod/B", utf8("lost")))).toBe("UNAVAILABLE");
    expect(
      await outcome(
        vault.importEnv(
          [
            { key: "B", value: "lost" },
            { key: "NEW", value: "lost" },
          ],
          { namespace: "prod" },
        ),
      ),
    ).toBe("UNAVAILABLE");
    expect(await outcome(vault.deleteSecret("prod/B"))).toBe("UNAVAILABLE");
    // Nothing of the failed writes stuck.
    const healthy = await unlock(file);
    expect((await healthy.history("prod/B")).versions).toHaveLength(1);
    expect(await outcome(healthy.getSecret("prod/NEW"))).toBe("NOT_FOUND");
    expect(Buffer.from((await healthy.getSecret("prod/B")).value).toString()).toBe(B1);
    expect((await healthy.verify()).problems).toEqual([]);
  });

  it("fails a write cleanly when the database cannot grow (disk full), and works again once it can", async () => {
    const file = copyOf();
    const store = openStore(file);
    const vault = await unlock(file, byIdentity(), store);
    const auditBefore = (await store.listAudit({})).length;
    // SQLite's own cap stands in for a full disk: the next page it needs is refused with SQLITE_FULL.
    const db = writeConnection(store);
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const big = randomBytes(256 * 1024);
    const err = await vault.setSecret("prod/BIG", big).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuthyError);
    expect((err as AuthyError).code).toBe("UNAVAILABLE");
    expect((err as AuthyError).message).toMatch(/disk is full/);
    expect(await outcome(vault.setSecret("prod/A", big))).toBe("UNAVAILABLE");
    // Nothing half-written: no audit entry, no version, no row, the listing still verifies.
    expect((await store.listAudit({})).length).toBe(auditBefore);
    expect(await outcome(vault.history("prod/BIG"))).toBe("NOT_FOUND");
    expect((await vault.history("prod/A")).versions).toHaveLength(2);
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    // Space is back.
    db.pragma("max_page_count = 1073741823");
    await vault.setSecret("prod/BIG", big);
    expect(Buffer.from((await vault.getSecret("prod/BIG")).value).equals(Buffer.from(big))).toBe(true);
    for (const [p, v] of [
      ["prod/A", A2],
      ["prod/B", B1],
      ["staging/C", C1],
    ] as const) {
      expect(Buffer.from((await vault.getSecret(p)).value).toString()).toBe(v);
    }
    expect((await vault.verify()).problems).toEqual([]);
  });
});

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

describe("failed unlocks", () => {
  it("waits longer after each failure past the free ones, and audits every failure at the next unlock", async () => {
    const file = copyOf();
    const store = openStore(file);
    const delays: number[] = [];
    const deps = { store, clock, sleep: async (ms: number) => void delays.push(ms) };
    const errors: string[] = [];
    for (let i = 0; i < 5; i++) {
      const e = await Vault.unlock(deps, { passphrase: `wrong ${i}` }).then(
        () => null,
        (x: unknown) => x as AuthyError,
      );
      expect(e?.code).toBe("LOCKED");
      errors.push(JSON.stringify({ message: e?.message, hint: e?.hint }));
    }
    // A wrong identity gets exactly the same answer as a wrong passphrase.
    const stranger = await generateIdentity();
    const e = await Vault.unlock(deps, { identities: [stranger] }).then(
      () => null,
      (x: unknown) => x as AuthyError,
    );
    expect(e?.code).toBe("LOCKED");
    errors.push(JSON.stringify({ message: e?.message, hint: e?.hint }));
    expect(new Set(errors).size).toBe(1);
    // Failures 0–2 are free; then 1 s, 2 s, 4 s …
    expect(delays).toEqual([unlockDelayMs(3), unlockDelayMs(4), unlockDelayMs(5)]);
    expect(delays).toEqual([1000, 2000, 4000]);

    const vault = await Vault.unlock(deps, byIdentity());
    expect(delays.at(-1)).toBe(unlockDelayMs(6));
    const failed = await store.listAudit({ action: "vault.unlock.failed" });
    expect(failed.map((f) => [f.outcome, JSON.parse(f.details).method])).toEqual([
      ...Array.from({ length: 5 }, () => ["denied", "passphrase"]),
      ["denied", "identity"],
    ]);
    expect(await store.listUnlockFailures()).toEqual([]);
    expect((await vault.verify()).problems).toEqual([]);
    // The slate is clean: the next unlock does not wait.
    const before = delays.length;
    await Vault.unlock(deps, byIdentity());
    expect(delays.length).toBe(before);
  });

  it("caps the wait", () => {
    expect(unlockDelayMs(100)).toBe(30_000);
    expect(unlockDelayMs(2)).toBe(0);
  });
});
