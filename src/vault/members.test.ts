/**
 * Members of a team server, in-process on SQLite: keys shown once and checked like agent keys,
 * an admin with the owner's rights, a member held to its scope (approve included), revocation
 * and rotation taking effect at once, every step audited under the member's name, and a member
 * row edited or put back by hand refused.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isAuthyError } from "../errors.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import type { Actor } from "./types.js";
import { Vault } from "./vault.js";

const T0 = Date.UTC(2030, 0, 1);
let dir: string;
let file: string;
let now: number;
let owner: Vault;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "authy-members-"));
  file = path.join(dir, "vault.db");
  now = T0;
  owner = await Vault.init({ store: SqliteStore.open(file, { create: true }), clock: { now: () => now } }, { passphrase: "pw", workFactor: 15 });
  await owner.setSecret("prod/DB", Buffer.from("db"), { tier: "sensitive" });
  await owner.setSecret("staging/DB", Buffer.from("st"));
});
afterEach(async () => {
  await owner.close();
  rmSync(dir, { recursive: true, force: true });
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (isAuthyError(e)) return e.code;
    throw e;
  }
}

/** The vault as the member whose key this is (what the API does with a member key). */
async function as(key: string): Promise<Vault> {
  const check = await owner.verifyMemberKey(key);
  if (!check.ok) throw new Error(`key refused: ${check.reason}`);
  const m = check.member;
  const actor: Actor =
    m.role === "admin"
      ? { kind: "member", name: m.name, id: m.id, role: "admin" }
      : { kind: "member", name: m.name, id: m.id, role: "member", scope: await owner.resolveScope(m.scope) };
  return owner.as(actor);
}

async function actions(): Promise<{ actor: string; action: string; resource: string; outcome: string }[]> {
  return (await owner.queryAudit({ limit: 1000 })).entries.map((e) => ({ actor: e.actor, action: e.action, resource: e.resource, outcome: e.outcome }));
}

describe("member keys", () => {
  it("shows a key once, in the authy_mk_ form, stores only its hash, and checks it", async () => {
    const { member, key } = await owner.addMember("alice", { role: "admin" });
    expect(key).toMatch(/^authy_mk_[a-z2-7]+_[A-Za-z0-9_-]{40,}$/);
    expect(member).toMatchObject({ name: "alice", role: "admin", scope: "", revokedAt: null });
    const db = new Database(file, { readonly: true });
    const stored = JSON.stringify(db.prepare("SELECT * FROM members").all());
    db.close();
    expect(stored).not.toContain(key.slice(-20));
    expect(await owner.verifyMemberKey(key)).toMatchObject({ ok: true, member: { name: "alice" } });
    expect(await owner.verifyMemberKey(key.slice(0, -2) + "xx")).toEqual({ ok: false, reason: "unknown", who: "member:alice" });
    expect(await owner.verifyMemberKey("authy_mk_aaaa_bbbb")).toEqual({ ok: false, reason: "unknown", who: "member-key:unknown" });
    expect((await actions()).at(-1)).toEqual({ actor: "owner", action: "member.add", resource: "member:alice", outcome: "ok" });
  });

  it("refuses bad names, roles and scopes with INVALID_INPUT, and a second active member of one name", async () => {
    expect(await code(owner.addMember("bad name", { role: "admin" }))).toBe("INVALID_INPUT");
    expect(await code(owner.addMember("bob", { role: "root" }))).toBe("INVALID_INPUT");
    expect(await code(owner.addMember("bob", { role: "member" }))).toBe("INVALID_INPUT");
    expect(await code(owner.addMember("bob", { role: "admin", scope: "secrets:read:x/*" }))).toBe("INVALID_INPUT");
    expect(await code(owner.addMember("bob", { role: "member", scope: "no-such-scope" }))).toBe("NOT_FOUND");
    await owner.addMember("bob", { role: "member", scope: "secrets:read:x/*" });
    expect(await code(owner.addMember("bob", { role: "admin" }))).toBe("ALREADY_EXISTS");
  });

  it("stops a revoked member's key at once, and keeps the last admin", async () => {
    const a = await owner.addMember("alice", { role: "admin" });
    const b = await owner.addMember("bob", { role: "member", scope: "secrets:read:staging/*" });
    await owner.revokeMember("bob");
    expect(await owner.verifyMemberKey(b.key)).toEqual({ ok: false, reason: "revoked", who: "member:bob" });
    expect(await code(owner.revokeMember("alice"))).toBe("INVALID_INPUT");
    expect(await code(owner.revokeMember("nobody"))).toBe("NOT_FOUND");
    expect((await as(a.key)).actor).toMatchObject({ kind: "member", role: "admin" });
    expect((await actions()).filter((e) => e.action === "member.revoke")).toEqual([
      { actor: "owner", action: "member.revoke", resource: "member:bob", outcome: "ok" },
    ]);
  });

  it("lets a member rotate its own key (the old one stops), and only an admin rotate another's", async () => {
    const b = await owner.addMember("bob", { role: "member", scope: "secrets:read:staging/*" });
    const c = await owner.addMember("carol", { role: "member", scope: "secrets:read:staging/*" });
    const bob = await as(b.key);
    const rotated = await bob.rotateMemberKey();
    expect(rotated.key).not.toBe(b.key);
    expect(rotated.key.startsWith(`authy_mk_${b.member.id}_`)).toBe(true);
    expect((await owner.verifyMemberKey(b.key)).ok).toBe(false);
    expect((await owner.verifyMemberKey(rotated.key)).ok).toBe(true);
    expect(await code(bob.rotateMemberKey("carol"))).toBe("ACCESS_DENIED");
    expect((await owner.verifyMemberKey(c.key)).ok).toBe(true);
    expect((await actions()).filter((e) => e.action === "member.key.rotate.denied")).toEqual([
      { actor: "member:bob", action: "member.key.rotate.denied", resource: "member:carol", outcome: "denied" },
    ]);
    expect((await actions()).filter((e) => e.action === "member.key.rotate")).toEqual([
      { actor: "member:bob", action: "member.key.rotate", resource: "member:bob", outcome: "ok" },
    ]);
  });
});

describe("tokens a member issued", () => {
  /** Whether a token still reads (the API's check of a bearer). */
  const works = async (token: string) => (await owner.useToken(token, "srv_test", { spend: false })).ok;
  const issue = async (v: Vault, ttlMs = 3_600_000) =>
    (await v.createToken({ scope: await owner.resolveScope("secrets:read:staging/*"), instance: "srv_test", ttlMs })).secret;

  it("go with the member when it is revoked, children included; others' tokens stay", async () => {
    const b = await owner.addMember("bob", { role: "admin" });
    const c = await owner.addMember("carol", { role: "admin" });
    const bob = await as(b.key);
    const mine = await issue(bob);
    const check = await owner.useToken(mine, "srv_test", { spend: false });
    if (!check.ok) throw new Error("token refused");
    const asToken: Actor = { kind: "token", id: check.token.id, scope: await owner.resolveScope("secrets:read:staging/*"), expiresAt: check.token.expiresAt };
    const child = (await owner.as(asToken).createToken({ scope: await owner.resolveScope("secrets:read:staging/*"), instance: "srv_test" })).secret;
    const carols = await issue(await as(c.key));
    const owners = await issue(owner);
    now += 1000;
    await owner.revokeMember("bob");
    expect([await works(mine), await works(child), await works(carols), await works(owners)]).toEqual([false, false, true, true]);
    const entry = (await owner.queryAudit({ action: "member.revoke" })).entries[0]!;
    expect((entry.details as { tokensRevoked: string[] }).tokensRevoked).toHaveLength(2);
  });

  it("go when the member's key is replaced, and a revoked member cannot issue one", async () => {
    const b = await owner.addMember("bob", { role: "member", scope: "secrets:read:staging/*" });
    const bob = await as(b.key);
    const before = await issue(bob);
    now += 1000;
    await bob.rotateMemberKey();
    expect(await works(before)).toBe(false);
    const after = await issue(await as((await owner.rotateMemberKey("bob")).key));
    expect(await works(after)).toBe(true);
    // Recognised before its revocation, issuing after it: refused in the token's own write.
    const stale = await as((await owner.rotateMemberKey("bob")).key);
    await owner.revokeMember("bob");
    expect(await code(issue(stale))).toBe("ACCESS_DENIED");
  });
});

describe("what members may do", () => {
  it("gives an admin the owner's rights, audited under its own name", async () => {
    const admin = await as((await owner.addMember("alice", { role: "admin" })).key);
    await admin.createAgent("ci", { scope: "secrets:read:staging/*" });
    expect(Buffer.from((await admin.getSecret("prod/DB")).value).toString()).toBe("db");
    await admin.addMember("dave", { role: "member", scope: "secrets:read:staging/*" });
    expect((await admin.listMembers()).map((m) => m.name)).toEqual(["alice", "dave"]);
    const mine = (await actions()).filter((e) => e.actor === "member:alice").map((e) => e.action);
    expect(mine).toEqual(["agent.create", "secret.read", "member.add"]);
  });

  it("holds a member to its scope: reads inside, ACCESS_DENIED and an audit entry outside, no admin work", async () => {
    const bob = await as((await owner.addMember("bob", { role: "member", scope: "secrets:read+list:staging/*" })).key);
    expect(Buffer.from((await bob.getSecret("staging/DB")).value).toString()).toBe("st");
    expect(await code(bob.getSecret("prod/DB"))).toBe("ACCESS_DENIED");
    expect((await bob.listSecrets({ recursive: true })).map((s) => s.path)).toEqual(["staging/DB"]);
    expect(await code(bob.addMember("eve", { role: "admin" }))).toBe("ACCESS_DENIED");
    expect(await code(bob.listMembers())).toBe("ACCESS_DENIED");
    expect(await code(bob.createAgent("x", { scope: "secrets:read:staging/*" }))).toBe("ACCESS_DENIED");
    expect(await code(bob.setSecret("staging/NEW", Buffer.from("v")))).toBe("ACCESS_DENIED");
    expect((await actions()).filter((e) => e.actor === "member:bob" && e.outcome === "denied").map((e) => `${e.action} ${e.resource}`)).toEqual([
      "secret.read.denied prod/DB",
      "secret.write.denied staging/NEW",
    ]);
  });

  it("tells a member who names a stored scope that the refusal is about the member, not a token", async () => {
    await owner.applyPolicy('scopes:\n  ci:\n    allow:\n      - { path: "staging/*", capabilities: [read] }\n', "policy.yaml");
    const bob = await as((await owner.addMember("bob", { role: "member", scope: "secrets:read+list:staging/*" })).key);
    try {
      await bob.resolveScope("ci");
      expect.unreachable();
    } catch (e) {
      if (!isAuthyError(e)) throw e;
      expect(e.code).toBe("ACCESS_DENIED");
      expect(e.message).toBe("member bob can name only its own scope, or give a compact scope such as secrets:read:prod/*");
      expect(e.hint).toBe('member bob\'s scope is "secrets:read+list:staging/*"');
    }
    expect((await bob.resolveScope("secrets:read:staging/DB")).name).toBe("secrets:read:staging/DB");
  });

  it("lets a member decide a request only where its scope grants approve, and list only those", async () => {
    const scope = await owner.resolveScope("secrets:read:prod/*,secrets:read:staging/*");
    const bot = owner.as({ kind: "token", id: "tok1", scope, expiresAt: T0 + 3_600_000 });
    const id = await bot.getSecret("prod/DB").then(
      () => "",
      (e: unknown) => (e as { details: { approvalId: string } }).details.approvalId,
    );
    expect(id).toMatch(/^apr_/);
    const outsider = await as((await owner.addMember("bob", { role: "member", scope: "secrets:read+approve:staging/*" })).key);
    const approver = await as((await owner.addMember("ann", { role: "member", scope: "secrets:approve:prod/**" })).key);
    expect(await outsider.listApprovals()).toEqual([]);
    expect(await code(outsider.approve(id))).toBe("ACCESS_DENIED");
    expect(await code(outsider.getApproval(id))).toBe("NOT_FOUND");
    expect((await approver.listApprovals()).map((a) => a.id)).toEqual([id]);
    expect((await approver.approve(id, { reason: "ok" })).status).toBe("approved");
    expect(Buffer.from((await bot.getSecret("prod/DB")).value).toString()).toBe("db");
    const decided = (await actions()).filter((e) => e.action.startsWith("approval.approve"));
    expect(decided.map((e) => `${e.actor} ${e.action} ${e.outcome}`)).toEqual(["member:bob approval.approve.denied denied", "member:ann approval.approve ok"]);
    // Approving is not reading: the approver's scope grants no read of prod.
    expect(await code(approver.getSecret("prod/DB"))).toBe("ACCESS_DENIED");
  });
});

describe("member rows", () => {
  it("refuses a member row edited by hand (a role raised) with INTEGRITY", async () => {
    const b = await owner.addMember("bob", { role: "member", scope: "secrets:read:staging/*" });
    const db = new Database(file);
    db.prepare("UPDATE members SET role = 'admin', scope = '' WHERE name = 'bob'").run();
    db.close();
    expect(await code(owner.verifyMemberKey(b.key))).toBe("INTEGRITY");
  });

  it("refuses a revoked member's row put back from an earlier copy with INTEGRITY", async () => {
    const b = await owner.addMember("bob", { role: "member", scope: "secrets:read:staging/*" });
    const db = new Database(file);
    const before = db.prepare("SELECT * FROM members WHERE name = 'bob'").get() as Record<string, unknown>;
    await owner.revokeMember("bob");
    db.prepare("UPDATE members SET revoked_at = NULL, mac = ? WHERE name = 'bob'").run(before.mac);
    db.close();
    expect(await code(owner.verifyMemberKey(b.key))).toBe("INTEGRITY");
  });
});
