import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteStore } from "./sqlite-store.js";

/** The buckets a store's listStateDigests() reads, which the tests edit around. */
async function buckets(store: SqliteStore): Promise<string[]> {
  return (await store.listStateDigests()).map((d) => d.bucket);
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("reads that share a snapshot per turn (sharedReads, as the daemon and the server open the vault)", () => {
  let dir: string;
  let file: string;
  const stores: SqliteStore[] = [];

  function open(sharedReads: boolean): SqliteStore {
    const store = SqliteStore.open(file, { create: true, sharedReads });
    stores.push(store);
    return store;
  }

  /** Another process's write: a connection of its own, outside authy. */
  function editByHand(bucket: string): void {
    const db = new Database(file);
    try {
      db.prepare("INSERT INTO state_digests (bucket, digest) VALUES (?, zeroblob(32))").run(bucket);
    } finally {
      db.close();
    }
  }

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "authy-snapshot-"));
    file = path.join(dir, "vault.db");
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("see another process's write from the next turn of the event loop, not within the turn", async () => {
    const store = open(true);
    expect(await buckets(store)).toEqual([]);
    editByHand("a");
    // The same turn: the snapshot of the first read.
    expect(await buckets(store)).toEqual([]);
    await nextTurn();
    expect(await buckets(store)).toEqual(["a"]);
  });

  it("see a write of this store as soon as it commits, before their turn ends", async () => {
    const store = open(true);
    // The write commits a turn later (group commit); this read's snapshot began before it.
    const written = store.write((tx) => tx.putStateDigest("b", new Uint8Array(32)));
    expect(await buckets(store)).toEqual([]);
    await written;
    expect(await buckets(store)).toEqual(["b"]);
  });

  it("see a write of another store of this process as soon as it commits", async () => {
    const reader = open(true);
    const writer = open(false);
    const written = writer.write((tx) => tx.putStateDigest("c", new Uint8Array(32)));
    expect(await buckets(reader)).toEqual([]);
    await written;
    expect(await buckets(reader)).toEqual(["c"]);
  });

  it("are off by default: each read sees every write committed before it", async () => {
    const store = open(false);
    expect(await buckets(store)).toEqual([]);
    editByHand("d");
    expect(await buckets(store)).toEqual(["d"]);
  });

  it("end with the store: closing with a snapshot open leaves nothing to fail later", async () => {
    const store = open(true);
    expect(await buckets(store)).toEqual([]);
    await store.close();
    await nextTurn();
    // The file is whole and free: another connection writes to it.
    editByHand("e");
    expect(await buckets(open(true))).toEqual(["e"]);
  });
});
