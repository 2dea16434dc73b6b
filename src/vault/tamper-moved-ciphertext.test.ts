/**
 * Ciphertext moved to another row, version or vault: refused, and never shown as the value of
 * the secret it was moved into.
 * The fixture: tamper.test-helpers.ts.
 */
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { A2, copyOf, otherTemplate, outcome, sql, unlock, useTemplates, writableColumns } from "./tamper.test-helpers.js";

useTemplates();

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
