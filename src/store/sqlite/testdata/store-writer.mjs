// A separate OS process writing a vault through the SqliteStore adapter (transpiled from
// src/ by sqlite-store.process.test.ts), for the multi-process and kill -9 tests.
//
// Usage: node store-writer.mjs <adapter module URL> <vault file> <writes | "forever">
// Each write increments a counter kept in a secret row's currentVersion and appends the
// audit entry head + 1, in one transaction. After each write that resolved it prints
// "committed <counter>" on stdout; at the end, one JSON line {"ok": n, "errors": {code: n}}.
import { setImmediate as tick } from "node:timers/promises";

const [moduleUrl, file, writes] = process.argv.slice(2);
const { SqliteStore } = await import(moduleUrl);
const COUNTER = "test/COUNTER";
const bytes = (n, fill) => new Uint8Array(n).fill(fill);

async function increment(tx) {
  const row = await tx.getSecret(COUNTER);
  await tick();
  const head = await tx.auditHead();
  const next = (row?.currentVersion ?? 0) + 1;
  await tx.putSecret({
    path: COUNTER, namespace: "test", type: "password", tier: "standard", description: "", tags: "[]",
    expiresAt: null, currentVersion: next, deletedAt: null, createdAt: 1, updatedAt: Date.now(), mac: bytes(32, next & 0xff), listing: `counter ${next}`,
  });
  await tx.putVersion({
    path: COUNTER, version: next, type: "password", tier: "standard", sealed: bytes(2048, next & 0xff),
    wrappedDek: bytes(60, 7), createdAt: Date.now(), actor: `pid:${process.pid}`,
  });
  await tx.appendAudit({
    seq: (head?.seq ?? 0) + 1, ts: Date.now(), actor: `pid:${process.pid}`, action: "secret.write", resource: COUNTER,
    outcome: "success", details: "{}", prevHash: bytes(32, 1), hash: bytes(32, 2), mac: bytes(32, 3),
  });
  return next;
}

const store = SqliteStore.open(file);
let ok = 0;
const errors = {};
for (let i = 0; writes === "forever" || i < Number(writes); i++) {
  try {
    const value = await store.write(increment);
    ok++;
    process.stdout.write(`committed ${value}\n`);
  } catch (e) {
    const key = e?.name === "AuthyError" ? e.code : `raw ${e?.code ?? e?.message ?? e}`;
    errors[key] = (errors[key] ?? 0) + 1;
  }
}
await store.close();
process.stdout.write(`${JSON.stringify({ ok, errors })}\n`);
