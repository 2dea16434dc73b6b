// Made format-2-vault.db with the dist/ built at 7f0a48f (run it there): a vault from before schema 9.
import { rmSync } from "node:fs";
import { Vault } from "../../../../dist/index.js";
import { SqliteStore } from "../../../../dist/store/sqlite/sqlite-store.js";
const file = process.argv[2];
rmSync(file, { force: true });
let t = 1_767_225_600_000; // 2026-01-01
const clock = { now: () => (t += 1000) };
const store = SqliteStore.open(file, { create: true });
const v = await Vault.init({ store, clock }, { passphrase: "format-2 fixture", workFactor: 15 });
const enc = { encode: (s) => Buffer.from(s) };
for (const ns of ["prod", "prod/db", "staging", "ci"]) {
  for (let i = 0; i < 12; i++) await v.setSecret(`${ns}/KEY_${i}`, enc.encode(`${ns} value ${i}`), { tags: ["t"], description: `d ${i}` });
}
await v.setSecret("prod/ROTATED", enc.encode("one"), { type: "api_key" });
await v.setSecret("prod/ROTATED", enc.encode("two"), { expiresAt: 1_893_456_000_000 });
await v.setSecret("prod/SENSITIVE", enc.encode("s"), { tier: "sensitive" });
await v.setSecret("prod/BIN", new Uint8Array([0, 1, 2, 255]), { type: "custom", tier: "critical" });
await v.deleteSecret("staging/KEY_3");
await v.applyPolicy("scopes:\n  deploy:\n    allow:\n      - { path: \"prod/*\", capabilities: [read, list] }\n", "policy.yaml");
await v.setSetting("approvals.expiry", "10m").catch((e) => console.error("setting:", e.message));
const { agent } = await v.createAgent("ci-bot", { scope: "deploy", description: "ci" });
const { token } = await v.createToken({ scope: await v.resolveScope("deploy"), agent: "ci-bot", instance: "fixture", label: "t1", uses: 3, ttlMs: 3_600_000 });
await v.createToken({ scope: await v.resolveScope("deploy"), instance: "fixture", label: "t2", ttlMs: 3_600_000 });
const tokenActor = { kind: "token", id: token.id, agent: "ci-bot", agentId: agent.id, scope: await v.resolveScope("deploy"), expiresAt: t + 3_600_000 };
await v.as(tokenActor).getSecret("prod/SENSITIVE").catch((e) => console.error("approval:", e.code));
const [apr] = await v.listApprovals({ status: "pending" });
if (apr) await v.approve(apr.id, { reason: "ok" });
await v.as(tokenActor).getSecret("prod/KEY_1");
console.log(JSON.stringify({ report: await v.verify(), audit: await v.verifyAudit() }).slice(0, 600));
await v.close();
