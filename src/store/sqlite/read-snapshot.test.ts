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

describe("reads that share a snapshot per callback of the event loop (sharedReads, as the daemon and the server open the vault)", () => {
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

  it("see another process's write from the next callback of the event loop, not within the one that read first", async () => {
    const store = open(true);
    expect(await buckets(store)).toEqual([]);
    editByHand("a");
    // The same callback (its promise continuations): the snapshot of the first read.
    expect(await buckets(store)).toEqual([]);
    await nextTurn();
    expect(await buckets(store)).toEqual(["a"]);
  });

  it("see a write of this store as soon as it commits, though their callback has not ended", async () => {
    const store = open(true);
    // A read in the callback that commits (the group commit's): its snapshot is older than the commit.
    await store.write(async (tx) => {
      expect(await buckets(store)).toEqual([]);
      await tx.putStateDigest("b", new Uint8Array(32));
    });
    expect(await buckets(store)).toEqual(["b"]);
  });

  it("see a write of another store of this process as soon as it commits", async () => {
    const reader = open(true);
    const writer = open(false);
    await writer.write(async (tx) => {
      expect(await buckets(reader)).toEqual([]);
      await tx.putStateDigest("c", new Uint8Array(32));
    });
    expect(await buckets(reader)).toEqual(["c"]);
  });

  it("never outlive their callback: a read begun in one does not hold its snapshot into the next", async () => {
    const store = open(true);
    // A timer's callback, run before the setImmediate callbacks of the event loop's next turn.
    const nextTimer = await new Promise<Promise<unknown>>((resolve) =>
      // A read in a setImmediate callback (as after a group commit), then another process's write.
      setImmediate(() => {
        void buckets(store);
        editByHand("f");
        const timer = new Promise((fired) => setTimeout(fired, 0));
        const due = Date.now() + 5;
        while (Date.now() < due); // the timer is due when the loop comes round to timers
        resolve(timer);
      }),
    );
    await nextTimer;
    expect(await buckets(store)).toEqual(["f"]);
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
