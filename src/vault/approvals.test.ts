/**
 * Approvals, in-process: the tier table enforced for tokens (never for the owner), requests
 * created or joined, decided, spent and lapsed, each step audited. Time moves by an injected
 * clock, never by sleeping; two Vault views share one store: the owner and `vault.as(token)`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isAuthyError } from "../errors.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import type { ApprovalInfo } from "./approval-rows.js";
import { APPROVAL_MAX_GRANT_MS, APPROVAL_PENDING_TTL_MS, APPROVAL_USE_WINDOW_MS, type ApprovalNotifier } from "./approvals.js";
import type { Clock } from "./clock.js";
import type { Actor } from "./types.js";
import { Vault } from "./vault.js";

const T0 = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;
const SCOPE = "secrets:read:prod/*,secrets:list:prod/*,secrets:write:prod/*";
const utf8 = (s: string) => Buffer.from(s, "utf8");
const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

let dir: string;
let now: number;
const clock: Clock = { now: () => now };
let store: SqliteStore;
let owner: Vault;
let notified: ApprovalInfo[];

async function tokenFor(agent: string | null, id: string, spec = SCOPE): Promise<Vault> {
  const scope = await owner.resolveScope(spec);
  const actor: Actor = { kind: "token", id, scope, expiresAt: T0 + 365 * 24 * 60 * MINUTE };
  if (agent !== null) Object.assign(actor, { agent, agentId: `${agent}-id` });
  return owner.as(actor);
}

/** The error code a call failed with, or "ok". */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (isAuthyError(e)) return e.code;
    throw e;
  }
}

/** The request an APPROVAL_REQUIRED error names (fails the test on any other outcome). */
async function requested(p: Promise<unknown>): Promise<{ id: string; approvals: { id: string; path: string; status: string }[]; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isAuthyError(e) && e.code === "APPROVAL_REQUIRED") {
      const d = e.details as { approvalId: string; approvals: { id: string; path: string; status: string }[] };
      return { id: d.approvalId, approvals: d.approvals, message: e.message };
    }
    throw e;
  }
  throw new Error("expected APPROVAL_REQUIRED, but it succeeded");
}

async function auditActions(): Promise<{ action: string; actor: string; resource: string; outcome: string; details: Record<string, unknown> }[]> {
  return (await store.listAudit({})).map((r) => ({
    action: r.action,
    actor: r.actor,
    resource: r.resource,
    outcome: r.outcome,
    details: JSON.parse(r.details) as Record<string, unknown>,
  }));
}

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "authy-approvals-"));
  now = T0;
  notified = [];
  const notifier: ApprovalNotifier = { requested: (a) => notified.push(a) };
  store = SqliteStore.open(path.join(dir, "vault.db"), { create: true });
  owner = await Vault.init({ store, clock, approvals: { notifier } }, { passphrase: "pw", workFactor: 15 });
  await owner.setSecret("prod/PLAIN", utf8("plain-value"));
  await owner.setSecret("prod/DB", utf8("db-value"), { tier: "sensitive" });
  await owner.setSecret("prod/ROOT", utf8("root-value"), { tier: "critical" });
  await owner.setSecret("prod/OTHER", utf8("other-value"), { tier: "sensitive" });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the tier table, for tokens", () => {
  it("reads a standard secret by scope alone, asking nobody", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    expect(text((await bot.getSecret("prod/PLAIN")).value)).toBe("plain-value");
    expect(await owner.listApprovals()).toEqual([]);
  });

  it("asks for a sensitive read: exit 5 with a pending request naming agent, action, path, tier, reason and expiry", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    const r = await requested(bot.getSecret("prod/DB", { reason: "nightly migration" }));
    expect(r.id).toMatch(/^apr_[a-z2-7]+$/);
    expect(r.message).toContain("read prod/DB (sensitive)");
    const [a, ...rest] = await owner.listApprovals();
    expect(rest).toEqual([]);
    expect(a).toMatchObject({
      id: r.id,
      principal: "agent:deploy-bot#deploy-bot-id",
      agent: "deploy-bot",
      token: "t1",
      action: "secret.read",
      path: "prod/DB",
      tier: "sensitive",
      reason: "nightly migration",
      status: "pending",
      createdAt: T0,
      expiresAt: T0 + APPROVAL_PENDING_TTL_MS,
      grant: null,
      grantUntil: null,
    });
    const entry = (await auditActions()).find((e) => e.action === "approval.request")!;
    expect(entry).toMatchObject({
      actor: "token:t1(deploy-bot)",
      resource: "prod/DB",
      outcome: "pending",
      details: { id: r.id, action: "secret.read", tier: "sensitive", reason: "nightly migration" },
    });
    expect((await auditActions()).some((e) => e.action === "secret.read" && e.actor.startsWith("token:"))).toBe(false);
  });

  it("asks for a critical read too", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    expect((await requested(bot.getSecret("prod/ROOT"))).message).toContain("read prod/ROOT (critical)");
  });

  it("never asks the owner, whatever the tier", async () => {
    expect(text((await owner.getSecret("prod/ROOT")).value)).toBe("root-value");
    await owner.setSecret("prod/ROOT", utf8("root-2"));
    expect((await owner.dispatch({ command: "x", refs: [{ name: "R", path: "prod/ROOT", source: "--env" }] })).secrets[0]!.value).toBe("root-2");
    expect(await owner.listApprovals()).toEqual([]);
  });

  it("writes a sensitive secret by scope alone, but asks for a critical write and writes nothing", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    expect((await bot.setSecret("prod/DB", utf8("db-2"))).version).toBe(2);
    const r = await requested(bot.setSecret("prod/ROOT", utf8("evil"), { reason: "rotate" }));
    expect(r.message).toContain("write prod/ROOT (critical)");
    expect((await owner.describeSecret("prod/ROOT")).version).toBe(1);
    expect(text((await owner.getSecret("prod/ROOT")).value)).toBe("root-value");
  });

  it("cannot lower a critical secret's tier, roll it back or create a critical one without asking", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    await requested(bot.setSecret("prod/ROOT", utf8("x"), { tier: "standard" }));
    await owner.setSecret("prod/ROOT", utf8("root-2"));
    await requested(bot.rollback("prod/ROOT", 1));
    await requested(bot.setSecret("prod/NEW", utf8("x"), { tier: "critical" }));
    expect((await owner.describeSecret("prod/ROOT")).tier).toBe("critical");
    expect(await outcome(owner.describeSecret("prod/NEW"))).toBe("NOT_FOUND");
  });

  it("asks for a critical rollback with the reason given, and rolls back once approved", async () => {
    await owner.setSecret("prod/ROOT", utf8("root-2"));
    const bot = await tokenFor("deploy-bot", "t1");
    const r = await requested(bot.rollback("prod/ROOT", 1, { reason: "undo a bad deploy" }));
    expect(r.message).toContain("write prod/ROOT (critical)");
    expect(await owner.listApprovals()).toMatchObject([{ id: r.id, action: "secret.write", path: "prod/ROOT", reason: "undo a bad deploy" }]);
    expect((await owner.describeSecret("prod/ROOT")).version).toBe(2);
    await owner.approve(r.id);
    expect((await bot.rollback("prod/ROOT", 1)).version).toBe(3);
    expect(text((await owner.getSecret("prod/ROOT")).value)).toBe("root-value");
  });

  it("asks once per critical secret an import writes, with the reason given, and imports all of it once every request is approved", async () => {
    await owner.setSecret("prod/SIGNING", utf8("signing-value"), { tier: "critical" });
    const bot = await tokenFor("deploy-bot", "t1");
    const entries = [
      { key: "ROOT", value: "root-2" },
      { key: "SIGNING", value: "signing-2" },
      { key: "PLAIN", value: "plain-2" },
    ];
    const r = await requested(bot.importEnv(entries, { namespace: "prod", reason: "sync from staging" }));
    expect(r.approvals.map((a) => a.path).sort()).toEqual(["prod/ROOT", "prod/SIGNING"]);
    const asked = await owner.listApprovals();
    expect(asked.map((a) => [a.path, a.action, a.reason]).sort()).toEqual([
      ["prod/ROOT", "secret.write", "sync from staging"],
      ["prod/SIGNING", "secret.write", "sync from staging"],
    ]);
    // All or nothing: one approved request is not enough, and nothing is written meanwhile.
    await owner.approve(r.approvals[0]!.id);
    await requested(bot.importEnv(entries, { namespace: "prod" }));
    expect(text((await owner.getSecret("prod/PLAIN")).value)).toBe("plain-value");
    await owner.approve(r.approvals[1]!.id);
    expect((await bot.importEnv(entries, { namespace: "prod" })).counts).toMatchObject({ update: 3 });
    expect(text((await owner.getSecret("prod/ROOT")).value)).toBe("root-2");
    expect(text((await owner.getSecret("prod/SIGNING")).value)).toBe("signing-2");
    expect((await owner.listApprovals()).map((a) => a.status)).toEqual(["used", "used"]);
  });

  it("cannot open a sensitive value by lowering the tier and rolling back: the value comes back sensitive", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    expect((await bot.setSecret("prod/DB", utf8("junk"), { tier: "standard" })).tier).toBe("standard");
    const rolled = await bot.rollback("prod/DB", 1);
    expect(rolled.tier).toBe("sensitive");
    expect((await requested(bot.getSecret("prod/DB"))).message).toContain("read prod/DB (sensitive)");
    expect(text((await owner.getSecret("prod/DB")).value)).toBe("db-value");
  });

  it("keeps the owner's rollback at the current tier", async () => {
    await owner.setSecret("prod/DB", utf8("db-2"), { tier: "standard" });
    expect((await owner.rollback("prod/DB", 1)).tier).toBe("standard");
  });

  it("judges an older version by the stricter of its tier and the current one", async () => {
    await owner.setSecret("prod/ROOT", utf8("now-harmless"), { tier: "standard" });
    const bot = await tokenFor("deploy-bot", "t1");
    expect(text((await bot.getSecret("prod/ROOT")).value)).toBe("now-harmless");
    expect((await requested(bot.getSecret("prod/ROOT", { version: 1 }))).message).toContain("(critical)");
  });

  it("asks for env export and import the same way", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    const r = await requested(bot.exportEnv("prod"));
    expect(r.approvals.map((a) => a.path).sort()).toEqual(["prod/DB", "prod/OTHER", "prod/ROOT"]);
    await requested(bot.importEnv([{ key: "ROOT", value: "x" }], { namespace: "prod" }));
    expect(text((await owner.getSecret("prod/ROOT")).value)).toBe("root-value");
  });
});

describe("deletes of critical secrets: a delete is a write", () => {
  const DELETER = "secrets:read+list+write+delete:prod/*";
  const versions = async (p: string) => (await owner.history(p)).versions.map((v) => v.version);

  it("a token with delete cannot soft-delete or purge a critical secret without asking: value and history stay", async () => {
    await owner.setSecret("prod/ROOT", utf8("root-2"));
    const bot = await tokenFor("deploy-bot", "t1", DELETER);
    const soft = await requested(bot.deleteSecret("prod/ROOT", { reason: "key retired" }));
    expect(soft.message).toContain("delete prod/ROOT (critical)");
    now++; // listed oldest first
    const purge = await requested(bot.deleteSecret("prod/ROOT", { purge: true, reason: "key retired" }));
    expect(purge.message).toContain("purge prod/ROOT (critical)");
    expect(purge.id).not.toBe(soft.id);
    expect((await owner.listApprovals()).map((a) => [a.id, a.action, a.path, a.tier, a.reason, a.status])).toEqual([
      [soft.id, "secret.delete", "prod/ROOT", "critical", "key retired", "pending"],
      [purge.id, "secret.purge", "prod/ROOT", "critical", "key retired", "pending"],
    ]);
    expect(notified.map((a) => a.action)).toEqual(["secret.delete", "secret.purge"]);
    expect((await owner.describeSecret("prod/ROOT")).deletedAt).toBeNull();
    expect(text((await owner.getSecret("prod/ROOT")).value)).toBe("root-2");
    expect(await versions("prod/ROOT")).toEqual([1, 2]);
    const asked = (await auditActions()).filter((e) => e.action === "approval.request").map((e) => e.details.action);
    expect(asked).toEqual(["secret.delete", "secret.purge"]);
    expect((await auditActions()).some((e) => (e.action === "secret.delete" || e.action === "secret.purge") && e.outcome === "ok")).toBe(false);
  });

  it("deletes once the owner approves, single use; a delete grant does not purge and a purge needs its own", async () => {
    const bot = await tokenFor("deploy-bot", "t1", DELETER);
    const soft = await requested(bot.deleteSecret("prod/ROOT"));
    await owner.approve(soft.id);
    expect(await outcome(bot.deleteSecret("prod/ROOT", { purge: true }))).toBe("APPROVAL_REQUIRED");
    expect((await owner.describeSecret("prod/ROOT")).deletedAt).toBeNull();
    expect((await bot.deleteSecret("prod/ROOT")).deletedAt).toBe(now);
    expect((await owner.getApproval(soft.id)).status).toBe("used");
    await owner.restoreSecret("prod/ROOT");
    expect((await requested(bot.deleteSecret("prod/ROOT"))).id).not.toBe(soft.id);

    const purge = (await owner.listApprovals({ status: "pending" })).find((a) => a.action === "secret.purge")!;
    await owner.approve(purge.id);
    expect((await bot.deleteSecret("prod/ROOT", { purge: true })).path).toBe("prod/ROOT");
    expect(await outcome(owner.describeSecret("prod/ROOT"))).toBe("NOT_FOUND");
    const trail = (await auditActions()).filter((e) => e.actor === "token:t1(deploy-bot)" && e.outcome === "ok").map((e) => [e.action, e.details.action]);
    expect(trail).toEqual([
      ["approval.use", "secret.delete"],
      ["secret.delete", undefined],
      ["approval.use", "secret.purge"],
      ["secret.purge", undefined],
    ]);
  });

  it("asks to purge a critical secret that is already soft-deleted (by the owner)", async () => {
    await owner.deleteSecret("prod/ROOT");
    const bot = await tokenFor("deploy-bot", "t1", DELETER);
    expect((await requested(bot.deleteSecret("prod/ROOT", { purge: true }))).message).toContain("purge prod/ROOT (critical)");
    expect(await versions("prod/ROOT")).toEqual([1]);
  });

  it("asks to purge a secret whose older versions were written critical, whatever its current tier", async () => {
    await owner.setSecret("prod/ROOT", utf8("now-harmless"), { tier: "standard" });
    const bot = await tokenFor("deploy-bot", "t1", DELETER);
    expect((await requested(bot.deleteSecret("prod/ROOT", { purge: true }))).message).toContain("purge prod/ROOT (critical)");
    // Its soft delete is judged by the current tier (nothing is erased, restore undoes it).
    expect((await bot.deleteSecret("prod/ROOT")).deletedAt).toBe(now);
  });

  it("deletes and purges standard and sensitive secrets by scope alone", async () => {
    const bot = await tokenFor("deploy-bot", "t1", DELETER);
    expect((await bot.deleteSecret("prod/PLAIN")).deletedAt).toBe(now);
    await bot.deleteSecret("prod/PLAIN", { purge: true });
    expect((await bot.deleteSecret("prod/DB")).deletedAt).toBe(now);
    await bot.deleteSecret("prod/OTHER", { purge: true });
    expect(await outcome(owner.describeSecret("prod/PLAIN"))).toBe("NOT_FOUND");
    expect(await outcome(owner.describeSecret("prod/OTHER"))).toBe("NOT_FOUND");
    expect(await owner.listApprovals()).toEqual([]);
  });

  it("never asks the owner", async () => {
    expect((await owner.deleteSecret("prod/ROOT")).deletedAt).toBe(now);
    await owner.deleteSecret("prod/ROOT", { purge: true });
    expect(await outcome(owner.describeSecret("prod/ROOT"))).toBe("NOT_FOUND");
    expect(await owner.listApprovals()).toEqual([]);
  });

  it("refuses a token without delete as before, asking nothing", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    const refusals = await Promise.all(
      ["prod/ROOT", "prod/PLAIN", "prod/NOPE"].map((p) =>
        bot.deleteSecret(p).then(
          () => null,
          (e: unknown) => e,
        ),
      ),
    );
    expect(refusals.map((e) => (isAuthyError(e) ? e.code : "ok"))).toEqual(["ACCESS_DENIED", "ACCESS_DENIED", "ACCESS_DENIED"]);
    expect(new Set(refusals.map((e) => (isAuthyError(e) ? `${e.message} ${e.hint ?? ""}`.replaceAll(/prod\/\w+/g, "NAME") : ""))).size).toBe(1);
    expect(await owner.listApprovals()).toEqual([]);
  });

  it("a move away from a critical secret asks to delete it as well as to write the new path; over one (--force), to purge it", async () => {
    const bot = await tokenFor("deploy-bot", "t1", DELETER);
    const moved = await requested(bot.moveSecret("prod/ROOT", "prod/MOVED", { reason: "rename" }));
    expect(moved.message).toContain("write prod/MOVED (critical), delete prod/ROOT (critical)");
    const over = await requested(bot.moveSecret("prod/PLAIN", "prod/ROOT", { force: true }));
    expect(over.message).toContain("purge prod/ROOT (critical)");
    expect(await versions("prod/ROOT")).toEqual([1]);
    expect(text((await owner.getSecret("prod/ROOT")).value)).toBe("root-value");
    expect(await outcome(owner.describeSecret("prod/MOVED"))).toBe("NOT_FOUND");
    // Only with both of the first move's requests approved does it go through.
    await owner.approve(moved.approvals[0]!.id);
    expect(await outcome(bot.moveSecret("prod/ROOT", "prod/MOVED"))).toBe("APPROVAL_REQUIRED");
    await owner.approve(moved.approvals[1]!.id);
    expect((await bot.moveSecret("prod/ROOT", "prod/MOVED")).tier).toBe("critical");
    expect(text((await owner.getSecret("prod/MOVED")).value)).toBe("root-value");
    // A standard secret moves by scope alone; a copy of a critical one deletes nothing, so asks only to write.
    expect((await bot.moveSecret("prod/PLAIN", "prod/PLAIN2")).path).toBe("prod/PLAIN2");
    const copied = await requested(bot.copySecret("prod/MOVED", "prod/COPY"));
    expect(copied.approvals.map((a) => a.path)).toEqual(["prod/COPY"]);
    expect(copied.message).toContain("write prod/COPY (critical)");
  });
});

describe("requests", () => {
  it("joins the identical pending request instead of creating another, and announces only the new one", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    const first = await requested(bot.getSecret("prod/DB", { reason: "first" }));
    now += MINUTE;
    const again = await requested(bot.getSecret("prod/DB", { reason: "second" }));
    const viaOtherToken = await requested((await tokenFor("deploy-bot", "t2")).getSecret("prod/DB"));
    expect(again.id).toBe(first.id);
    expect(viaOtherToken.id).toBe(first.id);
    expect((await owner.listApprovals()).map((a) => [a.id, a.reason])).toEqual([[first.id, "first"]]);
    expect(notified.map((a) => a.id)).toEqual([first.id]);
    const joins = (await auditActions()).filter((e) => e.action === "approval.request" && e.details.joined === true);
    expect(joins).toHaveLength(2);
  });

  it("keeps apart requests that differ in agent, action or path", async () => {
    const asks: [string, (v: Vault) => Promise<unknown>][] = [
      ["deploy-bot", (v) => v.getSecret("prod/DB")],
      ["deploy-bot", (v) => v.getSecret("prod/OTHER")],
      ["other-bot", (v) => v.getSecret("prod/DB")],
      ["deploy-bot", (v) => v.setSecret("prod/ROOT", utf8("x"))],
      ["deploy-bot", (v) => v.getSecret("prod/ROOT")],
    ];
    for (const [agent, ask] of asks) {
      now++; // listed oldest first
      await requested(ask(await tokenFor(agent, "t1")));
    }
    expect((await owner.listApprovals()).map((a) => `${a.principal} ${a.action} ${a.path}`)).toEqual([
      "agent:deploy-bot#deploy-bot-id secret.read prod/DB",
      "agent:deploy-bot#deploy-bot-id secret.read prod/OTHER",
      "agent:other-bot#other-bot-id secret.read prod/DB",
      "agent:deploy-bot#deploy-bot-id secret.write prod/ROOT",
      "agent:deploy-bot#deploy-bot-id secret.read prod/ROOT",
    ]);
  });

  it("names a token without an agent by its id, and keeps its requests its own", async () => {
    const lone = await tokenFor(null, "lone1");
    const r = await requested(lone.getSecret("prod/DB"));
    const other = await requested((await tokenFor(null, "lone2")).getSecret("prod/DB"));
    expect(other.id).not.toBe(r.id);
    expect((await owner.getApproval(r.id)).principal).toBe("token:lone1");
    await owner.approve(r.id, { forMs: 15 * MINUTE });
    expect(await outcome((await tokenFor(null, "lone2")).getSecret("prod/DB"))).toBe("APPROVAL_REQUIRED");
    expect(text((await lone.getSecret("prod/DB")).value)).toBe("db-value");
  });

  it("refuses reasons that could rewrite the owner's terminal, or that are too long", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    for (const reason of ["\u001b[2Japprove me", "line\nbreak", "rtl\u202eevil", "x".repeat(501)]) {
      expect(await outcome(bot.getSecret("prod/DB", { reason })), JSON.stringify(reason)).toBe("INVALID_INPUT");
    }
    expect(await owner.listApprovals()).toEqual([]);
  });

  it("lets a request lapse after ten minutes, exactly: pending 1 ms before, expired at the mark", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    const { id } = await requested(bot.getSecret("prod/DB"));
    now = T0 + APPROVAL_PENDING_TTL_MS - 1;
    expect((await bot.getApproval(id)).status).toBe("pending");
    now = T0 + APPROVAL_PENDING_TTL_MS;
    expect((await bot.getApproval(id)).status).toBe("expired");
    expect(await outcome(owner.approve(id))).toBe("INVALID_INPUT");
    expect((await auditActions()).filter((e) => e.action === "approval.expire").map((e) => e.details)).toEqual([
      { id, principal: "agent:deploy-bot#deploy-bot-id", action: "secret.read", lapsed: "request" },
    ]);
    const next = await requested(bot.getSecret("prod/DB"));
    expect(next.id).not.toBe(id);
  });

  it("takes its pending lifetime from the settings", async () => {
    const quick = await Vault.fromKey({ store, clock, approvals: { pendingTtlMs: MINUTE } }, owner.exportKey());
    const bot = quick.as((await tokenFor("deploy-bot", "t1")).actor);
    const { id } = await requested(bot.getSecret("prod/DB"));
    expect((await owner.getApproval(id)).expiresAt).toBe(T0 + MINUTE);
  });
});

describe("decisions", () => {
  it("a single-use approval lets exactly one read through, then the next read asks again", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    const { id } = await requested(bot.getSecret("prod/DB"));
    now += MINUTE;
    const a = await owner.approve(id, { reason: "go ahead" });
    expect(a).toMatchObject({ status: "approved", grant: "once", decidedAt: now, decisionReason: "go ahead", grantUntil: now + APPROVAL_USE_WINDOW_MS });
    expect(text((await bot.getSecret("prod/DB")).value)).toBe("db-value");
    expect((await owner.getApproval(id)).status).toBe("used");
    const again = await requested(bot.getSecret("prod/DB"));
    expect(again.id).not.toBe(id);
    const trail = (await auditActions()).filter((e) => e.action.startsWith("approval.") || (e.action === "secret.read" && e.actor !== "owner"));
    expect(trail.map((e) => `${e.action} ${e.actor}`)).toEqual([
      "approval.request token:t1(deploy-bot)",
      "approval.approve owner",
      "approval.use token:t1(deploy-bot)",
      "secret.read token:t1(deploy-bot)",
      "approval.request token:t1(deploy-bot)",
    ]);
  });

  it("spends one single-use approval exactly once when ten reads race for it", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    const { id } = await requested(bot.getSecret("prod/DB"));
    await owner.approve(id);
    const results = await Promise.all(Array.from({ length: 10 }, () => outcome(bot.getSecret("prod/DB"))));
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(results.filter((r) => r === "APPROVAL_REQUIRED")).toHaveLength(9);
    expect((await auditActions()).filter((e) => e.action === "approval.use")).toHaveLength(1);
  });

  it("grants exactly the agent, action and path asked, and not the rest", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    const { id } = await requested(bot.getSecret("prod/ROOT"));
    await owner.approve(id, { forMs: 15 * MINUTE });
    expect(await outcome((await tokenFor("other-bot", "t9")).getSecret("prod/ROOT"))).toBe("APPROVAL_REQUIRED");
    expect(await outcome(bot.getSecret("prod/OTHER"))).toBe("APPROVAL_REQUIRED");
    expect(await outcome(bot.setSecret("prod/ROOT", utf8("x")))).toBe("APPROVAL_REQUIRED");
    expect(text((await bot.getSecret("prod/ROOT")).value)).toBe("root-value");
    // The agent's next token (tokens are short-lived) is the same agent.
    expect(text((await (await tokenFor("deploy-bot", "t2")).getSecret("prod/ROOT")).value)).toBe("root-value");
  });

  it("a --for grant holds for many reads until 1 ms before its end, and not at its end", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    const { id } = await requested(bot.getSecret("prod/DB"));
    now = T0 + 2 * MINUTE;
    const a = await owner.approve(id, { forMs: 15 * MINUTE });
    expect(a).toMatchObject({ grant: "window", grantUntil: now + 15 * MINUTE });
    for (let i = 0; i < 5; i++) expect(text((await bot.getSecret("prod/DB")).value)).toBe("db-value");
    now = a.grantUntil! - 1;
    expect(await outcome(bot.getSecret("prod/DB"))).toBe("ok");
    expect((await owner.getApproval(id)).status).toBe("approved");
    now = a.grantUntil!;
    expect((await owner.getApproval(id)).status).toBe("expired");
    const next = await requested(bot.getSecret("prod/DB"));
    expect(next.id).not.toBe(id);
    expect((await auditActions()).filter((e) => e.action === "approval.expire").map((e) => e.details.lapsed)).toEqual(["grant"]);
  });

  it("a single-use approval nobody comes back for lapses after the use window", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    const { id } = await requested(bot.getSecret("prod/DB"));
    await owner.approve(id);
    now = T0 + APPROVAL_USE_WINDOW_MS;
    expect(await outcome(bot.getSecret("prod/DB"))).toBe("APPROVAL_REQUIRED");
    expect((await owner.getApproval(id)).status).toBe("expired");
  });

  it("refuses --for windows that are not between 1s and 24h", async () => {
    const { id } = await requested((await tokenFor("deploy-bot", "t1")).getSecret("prod/DB"));
    for (const forMs of [0, -1, 999, APPROVAL_MAX_GRANT_MS + 1, 1.5e3 + 0.5, Number.NaN]) {
      expect(await outcome(owner.approve(id, { forMs })), String(forMs)).toBe("INVALID_INPUT");
    }
    expect((await owner.approve(id, { forMs: APPROVAL_MAX_GRANT_MS })).grantUntil).toBe(T0 + APPROVAL_MAX_GRANT_MS);
  });

  it("a denial tells the agent why, needs a reason, and the next read asks anew", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    const { id } = await requested(bot.getSecret("prod/DB"));
    expect(await outcome(owner.deny(id, "  "))).toBe("INVALID_INPUT");
    await owner.deny(id, "not during the freeze");
    expect(await bot.getApproval(id)).toMatchObject({ status: "denied", decisionReason: "not during the freeze" });
    expect(await outcome(owner.approve(id))).toBe("INVALID_INPUT");
    expect(await outcome(owner.deny(id, "twice"))).toBe("INVALID_INPUT");
    expect((await requested(bot.getSecret("prod/DB"))).id).not.toBe(id);
    const deny = (await auditActions()).find((e) => e.action === "approval.deny")!;
    expect(deny).toMatchObject({ actor: "owner", resource: "prod/DB", details: { id, reason: "not during the freeze" } });
  });

  it("approve --all approves every pending request, and none that lapsed", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    const old = await requested(bot.getSecret("prod/OTHER"));
    now = T0 + APPROVAL_PENDING_TTL_MS - MINUTE;
    const a = await requested(bot.getSecret("prod/DB"));
    const b = await requested(bot.getSecret("prod/ROOT"));
    now = T0 + APPROVAL_PENDING_TTL_MS;
    const approved = await owner.approveAll({ forMs: 5 * MINUTE, reason: "batch" });
    expect(approved.map((x) => x.id).sort()).toEqual([a.id, b.id].sort());
    expect((await owner.getApproval(old.id)).status).toBe("expired");
    expect(await owner.approveAll()).toEqual([]);
  });

  it("only the owner lists and decides; a token sees only its own principal's requests, like unknown ones", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    const other = await tokenFor("other-bot", "t2");
    const { id } = await requested(bot.getSecret("prod/DB"));
    for (const p of [bot.listApprovals(), bot.approve(id), bot.deny(id, "no"), bot.approveAll()]) expect(await outcome(p)).toBe("ACCESS_DENIED");
    expect((await bot.getApproval(id)).status).toBe("pending");
    const hidden = await other.getApproval(id).catch((e: unknown) => (e as Error).message);
    const unknown = await other.getApproval("apr_nope").catch((e: unknown) => (e as Error).message);
    expect(hidden).toBe(`no approval request ${id}`);
    expect(unknown).toBe("no approval request apr_nope");
    expect(await outcome(owner.listApprovals({ status: "bogus" }))).toBe("INVALID_INPUT");
    expect((await owner.listApprovals({ status: "pending" })).map((a) => a.id)).toEqual([id]);
    expect(await owner.listApprovals({ status: "approved" })).toEqual([]);
  });

  it("a notifier that throws does not stop the request", async () => {
    const loud = await Vault.fromKey(
      {
        store,
        clock,
        approvals: {
          notifier: {
            requested: () => {
              throw new Error("webhook down");
            },
          },
        },
      },
      owner.exportKey(),
    );
    const bot = loud.as((await tokenFor("deploy-bot", "t1")).actor);
    const { id } = await requested(bot.getSecret("prod/DB"));
    expect((await owner.getApproval(id)).status).toBe("pending");
  });
});

describe("run and inject (dispatch)", () => {
  const refs = [
    { name: "PLAIN", path: "prod/PLAIN", source: "--env" },
    { name: "DB", path: "prod/DB", source: "--env" },
    { name: "ROOT", path: "prod/ROOT", source: "--env" },
  ];

  it("asks for every sensitive and critical secret at once, and spends none until all are granted", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    const r = await requested(bot.dispatch({ command: "deploy.sh", refs, reason: "release 1.2" }));
    expect(r.approvals.map((a) => a.path)).toEqual(["prod/DB", "prod/ROOT"]);
    const [db, root] = r.approvals;
    await owner.approve(db!.id);
    const waiting = await requested(bot.dispatch({ command: "deploy.sh", refs }));
    expect(waiting.approvals.map((a) => a.id)).toEqual([root!.id]);
    expect((await owner.getApproval(db!.id)).status).toBe("approved");
    await owner.approve(root!.id);
    const d = await bot.dispatch({ command: "deploy.sh", refs });
    expect(d.secrets.map((s) => [s.name, s.value])).toEqual([
      ["DB", "db-value"],
      ["PLAIN", "plain-value"],
      ["ROOT", "root-value"],
    ]);
    expect((await owner.listApprovals()).map((a) => a.status)).toEqual(["used", "used"]);
    const runs = (await auditActions()).filter((e) => e.action === "run.start");
    expect(runs).toHaveLength(1);
    expect(await outcome(bot.dispatch({ command: "deploy.sh", refs }))).toBe("APPROVAL_REQUIRED");
  });

  it("needs nothing for standard secrets", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    expect((await bot.dispatch({ command: "x", refs: [refs[0]!] })).secrets[0]!.value).toBe("plain-value");
  });
});

describe("tampering", () => {
  it("refuses an approval row edited by hand (a pending request turned approved)", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    const { id } = await requested(bot.getSecret("prod/DB"));
    const db = new Database(path.join(dir, "vault.db"));
    try {
      db.prepare("UPDATE approvals SET status = 'approved', grant_kind = 'window', grant_until = ? WHERE id = ?").run(T0 + 60 * MINUTE, id);
    } finally {
      db.close();
    }
    expect(await outcome(bot.getSecret("prod/DB"))).toBe("INTEGRITY");
    expect(await outcome(owner.listApprovals())).toBe("INTEGRITY");
    expect(await outcome(owner.getApproval(id))).toBe("INTEGRITY");
  });

  it("refuses an approval moved to another path or agent", async () => {
    const bot = await tokenFor("deploy-bot", "t1");
    const { id } = await requested(bot.getSecret("prod/OTHER"));
    await owner.approve(id, { forMs: 15 * MINUTE });
    const db = new Database(path.join(dir, "vault.db"));
    try {
      db.prepare("UPDATE approvals SET path = 'prod/ROOT' WHERE id = ?").run(id);
    } finally {
      db.close();
    }
    expect(await outcome(bot.getSecret("prod/ROOT"))).toBe("INTEGRITY");
  });
});
