/**
 * Every route, as the owner, against a real vault on SQLite, called in-process (app.inject).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateIdentity, identityToRecipient } from "../crypto/index.js";
import { b64, harness, START, type Harness } from "./api.test-helpers.js";
import { HTTP_STATUS } from "./http-status.js";
import { withoutAss } from "../operations/ass.js";
import { VERSION } from "../version.js";

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

const put = (path: string, body: unknown) => h.req("PUT", `/v1/secrets/${path}`, { body });

describe("health and status", () => {
  it("answers health without credentials", async () => {
    const r = await h.req("GET", "/v1/health", { bearer: null });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: "ok", locked: false, version: VERSION });
  });

  it("merges the daemon's status into /v1/status and counts activity", async () => {
    const before = h.activity.count;
    const r = await h.req("GET", "/v1/status");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ daemon: true, pid: 4242, locked: false, actor: "owner", vaultId: h.vault.vaultId });
    expect(h.activity.count).toBe(before + 1);
  });

  it("marks every response no-store", async () => {
    expect((await h.req("GET", "/v1/health", { bearer: null })).headers["cache-control"]).toBe("no-store");
  });
});

describe("secrets", () => {
  it("writes and reads a text value with its metadata", async () => {
    const w = await put("prod%2Fopenai/API_KEY", {
      value: "sk-123",
      type: "api_key",
      tier: "sensitive",
      description: "d",
      tags: ["a"],
      expiresAt: START + 1e9,
    });
    expect(w.status).toBe(200);
    // authy's own fields exactly; the Agent Secret Store's beside them are pinned in ass-routes.test.ts.
    expect(withoutAss(w.body)).toEqual({
      path: "prod/openai/API_KEY",
      namespace: "prod/openai",
      key: "API_KEY",
      type: "api_key",
      tier: "sensitive",
      description: "d",
      tags: ["a"],
      expiresAt: START + 1e9,
      version: 1,
      deletedAt: null,
      createdAt: START,
      updatedAt: START,
    });
    const r = await h.req("GET", "/v1/secrets/prod%2Fopenai/API_KEY");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ...w.body, value: "sk-123" });
    expect((await h.audit("secret.read")).map((a) => a.resource)).toEqual(["prod/openai/API_KEY"]);
  });

  it("keeps binary values byte for byte, as valueBase64", async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect((await put("bin/BLOB", { valueBase64: b64(bytes) })).status).toBe(200);
    const r = await h.req("GET", "/v1/secrets/bin/BLOB");
    expect(r.body.value).toBeUndefined();
    expect(Buffer.from(r.body.valueBase64, "base64")).toEqual(Buffer.from(bytes));
    const text = await put("bin/TEXT", { value: "\ufeffhé" });
    expect(text.status).toBe(200);
    expect((await h.req("GET", "/v1/secrets/bin/TEXT")).body.value).toBe("\ufeffhé");
    expect((await h.req("GET", "/v1/secrets/bin/TEXT?encoding=base64")).body.valueBase64).toBe(b64("\ufeffhé"));
  });

  it("refuses both or neither of value and valueBase64, bad base64 and lone surrogates", async () => {
    for (const body of [{}, { value: "a", valueBase64: "YQ==" }, { valueBase64: "not base64!" }, { value: "\ud800" }]) {
      const r = await put("a/B", body);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("INVALID_INPUT");
    }
  });

  it("lists a namespace, recursively, with deleted ones, and in Agent Secret Store's query form", async () => {
    await put("prod/A", { value: "1" });
    await put("prod%2Fdb/B", { value: "2" });
    await put("staging/C", { value: "3" });
    await h.req("DELETE", "/v1/secrets/prod/A");
    const names = (r: { body: { items: { path: string }[] } }) => r.body.items.map((i) => i.path);
    expect(names(await h.req("GET", "/v1/secrets/prod"))).toEqual([]);
    expect(names(await h.req("GET", "/v1/secrets/prod?recursive=1"))).toEqual(["prod/db/B"]);
    expect(names(await h.req("GET", "/v1/secrets/prod?recursive=1&deleted=1"))).toEqual(["prod/A", "prod/db/B"]);
    expect(names(await h.req("GET", "/v1/secrets/prod%2Fdb"))).toEqual(["prod/db/B"]);
    expect(names(await h.req("GET", "/v1/secrets?namespace=prod%2Fdb"))).toEqual(["prod/db/B"]);
    expect(names(await h.req("GET", "/v1/secrets"))).toEqual(["prod/db/B", "staging/C"]);
    expect((await h.req("GET", "/v1/secrets/prod%2Fdb")).body.namespace).toBe("prod/db");
  });

  it("describes, deletes, restores, purges", async () => {
    await put("p/K", { value: "v" });
    const meta = await h.req("GET", "/v1/secrets/p/K/meta");
    expect(meta.body).toMatchObject({ path: "p/K", version: 1 });
    expect(meta.body.value).toBeUndefined();
    h.clock.t += 10;
    const del = await h.req("DELETE", "/v1/secrets/p/K");
    expect(del.body.deletedAt).toBe(START + 10);
    const gone = await h.req("GET", "/v1/secrets/p/K");
    expect(gone.status).toBe(404);
    expect(gone.body.error).toMatchObject({ code: "NOT_FOUND", message: "secret p/K is deleted" });
    expect((await h.req("GET", "/v1/secrets/p/K/meta")).body.deletedAt).toBe(START + 10);
    expect((await h.req("POST", "/v1/secrets/p/K/restore")).body.deletedAt).toBeNull();
    expect((await h.req("GET", "/v1/secrets/p/K")).body.value).toBe("v");
    const purged = await h.req("DELETE", "/v1/secrets/p/K?purge=1");
    expect(purged.status).toBe(200);
    expect((await h.req("GET", "/v1/secrets/p/K/meta")).status).toBe(404);
  });

  it("keeps history, rolls back and rotates as new versions", async () => {
    await put("p/K", { value: "one" });
    await put("p/K", { value: "two" });
    const rot = await h.req("POST", "/v1/secrets/p/K/rotate", { body: { value: "three" } });
    expect(rot.body.version).toBe(3);
    const rb = await h.req("POST", "/v1/secrets/p/K/rollback", { body: { version: 1 } });
    expect(rb.body.version).toBe(4);
    expect((await h.req("GET", "/v1/secrets/p/K")).body.value).toBe("one");
    expect((await h.req("GET", "/v1/secrets/p/K?version=2")).body.value).toBe("two");
    const hist = await h.req("GET", "/v1/secrets/p/K/history");
    expect(hist.body.meta.version).toBe(4);
    expect(hist.body.versions.map((v: { version: number; current: boolean }) => [v.version, v.current])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
    ]);
    const same = await h.req("POST", "/v1/secrets/p/K/rollback", { body: { version: 4 } });
    expect(same.status).toBe(400);
    expect(same.body.error.message).toBe("version 4 is already current");
  });

  it("reads an expired secret only when asked", async () => {
    await put("p/E", { value: "v", expiresAt: START + 5 });
    h.clock.t = START + 5;
    expect((await h.req("GET", "/v1/secrets/p/E")).status).toBe(404);
    expect((await h.req("GET", "/v1/secrets/p/E?allowExpired=1")).body.value).toBe("v");
  });

  it("refuses a key segment holding a slash and names that are not canonical", async () => {
    expect((await h.req("GET", "/v1/secrets/prod/a%2FB")).status).toBe(400);
    for (const url of [
      "/v1/secrets/prod%2F%2Fx/K",
      "/v1/secrets/%2Fprod/K",
      "/v1/secrets/pr%20od/K",
      "/v1/secrets/prod/K%00",
      `/v1/secrets/prod/${"A".repeat(4096)}`,
    ]) {
      const r = await h.req("GET", url);
      expect(r.status, url).toBe(400);
      expect(r.body.error.code).toBe("INVALID_INPUT");
    }
  });
});

describe("env", () => {
  it("imports (dry run, then for real) and exports, with ?keys", async () => {
    const entries = [
      { key: "A", value: "1" },
      { key: "B", value: "2" },
    ];
    const dry = await h.req("POST", "/v1/env/import", { body: { namespace: "app", entries, dryRun: true } });
    expect(dry.body.counts).toEqual({ create: 2, update: 0, unchanged: 0, skip: 0 });
    expect((await h.req("GET", "/v1/secrets/app")).body.items).toEqual([]);
    const real = await h.req("POST", "/v1/env/import", { body: { namespace: "app", entries, tier: "sensitive" } });
    expect(real.body.items.map((i: { path: string; action: string }) => `${i.path}:${i.action}`)).toEqual(["app/A:create", "app/B:create"]);
    expect((await h.req("GET", "/v1/env/app")).body).toEqual({ namespace: "app", entries });
    expect((await h.req("GET", "/v1/env/app?keys=B")).body.entries).toEqual([{ key: "B", value: "2" }]);
    expect((await h.req("GET", "/v1/env/app?keys=")).body.entries).toEqual([]);
    const missing = await h.req("GET", "/v1/env/app?keys=A,Z");
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe("no secret app/Z");
  });
});

describe("policy and dispatch", () => {
  const yaml =
    'scopes:\n  deploy:\n    description: d\n    allow:\n      - { path: "prod/*", capabilities: [read, list] }\n    deny:\n      - { path: "prod/ROOT_*" }\n';

  it("applies, shows and tests the policy", async () => {
    const applied = await h.req("PUT", "/v1/policy", { body: { yaml, source: "policy.yaml" } });
    expect(applied.status).toBe(200);
    expect(applied.body.scopes.deploy.allow).toEqual([{ path: "prod/*", capabilities: ["read", "list"] }]);
    expect((await h.req("GET", "/v1/policy")).body).toEqual(applied.body);
    const t = await h.req("POST", "/v1/policy/test", { body: { scope: "deploy", path: "prod/ROOT_KEY", capability: "read" } });
    expect(t.body).toEqual({ scope: "deploy", allowed: false, rule: { kind: "deny", path: "prod/ROOT_*", index: 0 } });
    const bad = await h.req("PUT", "/v1/policy", { body: { yaml: "scopes: [", source: "x.yaml" } });
    expect(bad.status).toBe(400);
  });

  it("dispatches a scope's secrets and audits run.start", async () => {
    await h.req("PUT", "/v1/policy", { body: { yaml, source: "p.yaml" } });
    await put("prod/DB_URL", { value: "postgres://" });
    await put("prod/ROOT_PW", { value: "root" });
    const d = await h.req("POST", "/v1/dispatch", { body: { scope: "deploy", command: "deploy.sh", details: { pid: 7 } } });
    expect(d.status).toBe(200);
    expect(d.body).toEqual({
      scope: "deploy",
      secrets: [{ name: "DB_URL", path: "prod/DB_URL", value: "postgres://" }],
      run: expect.stringMatching(/^run_/),
      ticket: expect.any(String),
    });
    const [entry] = await h.audit("run.start");
    expect(JSON.parse(entry!.details)).toMatchObject({ command: "deploy.sh", pid: 7, run: d.body.run, secrets: [{ name: "DB_URL", path: "prod/DB_URL" }] });
  });

  it("records run.end once per run, with the ticket's actor and resource whatever the caller sends; a forged ticket is refused and audited", async () => {
    await h.req("PUT", "/v1/policy", { body: { yaml, source: "p.yaml" } });
    const d = await h.req("POST", "/v1/dispatch", { body: { scope: "deploy", command: "deploy.sh" } });
    const end = { ticket: d.body.ticket, exitCode: 3, signal: null, durationMs: 12 };
    const r = await h.req("POST", "/v1/runs/end", { body: end, bearer: null });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await h.req("POST", "/v1/runs/end", { body: end, bearer: null })).status).toBe(400);
    const [entry] = await h.audit("run.end");
    expect(entry).toMatchObject({ actor: "owner", resource: "deploy", outcome: "ok" });
    expect(JSON.parse(entry!.details)).toMatchObject({ run: d.body.run, command: "deploy.sh", exitCode: 3 });
    const [body, mac] = (d.body.ticket as string).split(".");
    const forged = Buffer.from(JSON.stringify([d.body.run, "owner", "forged", "rm -rf", 1])).toString("base64url");
    for (const ticket of [`${forged}.${mac}`, `${body}.${mac}x`, "nonsense"]) {
      expect((await h.req("POST", "/v1/runs/end", { body: { ...end, ticket }, bearer: null })).status).toBe(403);
    }
    expect(await h.audit("run.end")).toHaveLength(1);
    expect(await h.audit("run.end.denied")).toHaveLength(1); // three forgeries in one window: one entry
  });

  it("does not let dispatch details overwrite what the audit entry says was given out", async () => {
    const r = await h.req("POST", "/v1/dispatch", { body: { command: "x", details: { secrets: [] } } });
    expect(r.status).toBe(400);
  });
});

describe("agents, tokens, keys", () => {
  it("creates, lists and revokes agents", async () => {
    const c = await h.req("POST", "/v1/agents", { body: { name: "deploy-bot", scope: "secrets:read:prod/*", description: "ci" } });
    expect(c.status).toBe(201);
    expect(c.body.key).toMatch(/^authy_ak_/);
    expect(c.body.agent).toMatchObject({ name: "deploy-bot", scope: "secrets:read:prod/*", revokedAt: null });
    expect((await h.req("GET", "/v1/agents")).body.items).toEqual([c.body.agent]);
    const dup = await h.req("POST", "/v1/agents", { body: { name: "deploy-bot", scope: "secrets:read:prod/*" } });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe("ALREADY_EXISTS");
    const r = await h.req("DELETE", "/v1/agents/deploy-bot");
    expect(r.body.revokedAt).toBe(START);
  });

  it("issues, lists and revokes tokens", async () => {
    const t = await h.req("POST", "/v1/tokens", { body: { scope: "secrets:read:prod/*", ttl: 60, uses: 3, label: "l" } });
    expect(t.status).toBe(201);
    expect(t.body).toMatchObject({
      scope: "secrets:read:prod/*",
      expiresAt: START + 60_000,
      expires_at: new Date(START + 60_000).toISOString(),
      maxUses: 3,
      notices: [],
    });
    const list = await h.req("GET", "/v1/tokens");
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ id: t.body.id, label: "l", scope: { name: "secrets:read:prod/*" } });
    expect((await h.req("DELETE", `/v1/tokens/${t.body.id}`)).body.revokedAt).toBe(START);
    expect((await h.req("DELETE", "/v1/tokens/nope")).status).toBe(404);
  });

  it("requires the owner to name a scope, or an agent whose scope to use", async () => {
    const none = await h.req("POST", "/v1/tokens", { body: {} });
    expect(none.status).toBe(400);
    expect(none.body.error.message).toBe("a token needs a scope");
    await h.req("POST", "/v1/agents", { body: { name: "bot", scope: "secrets:read:prod/*" } });
    const forAgent = await h.req("POST", "/v1/tokens", { body: { agent: "bot" } });
    expect(forAgent.status).toBe(201);
    expect(forAgent.body).toMatchObject({ scope: "secrets:read:prod/*", agent: "bot" });
  });

  it("lists, adds and removes key slots", async () => {
    const recipient = await identityToRecipient(await generateIdentity());
    const added = await h.req("POST", "/v1/keys", { body: { recipient, label: "laptop" } });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ kind: "x25519", recipient, label: "laptop" });
    // Slots sort by creation time, then id: with a fixed clock the order is the ids'.
    expect((await h.req("GET", "/v1/keys")).body.items.map((s: { kind: string }) => s.kind).sort()).toEqual(["passphrase", "x25519"]);
    expect((await h.req("DELETE", `/v1/keys/${recipient}`)).body.id).toBe(added.body.id);
    const last = await h.req("GET", "/v1/keys");
    const only = await h.req("DELETE", `/v1/keys/${last.body.items[0].id}`);
    expect(only.status).toBe(400);
  });
});

describe("the vault as a whole", () => {
  it("verifies (doctor) and records owner events", async () => {
    await put("p/K", { value: "v" });
    const v = await h.req("POST", "/v1/verify");
    expect(v.body).toMatchObject({ secrets: 1, versions: 1, problems: [] });
    const e = await h.req("POST", "/v1/events", { body: { action: "vault.backup", resource: "vault", details: { to: "/tmp/x" } } });
    expect(e.body).toEqual({ recorded: true });
    const [row] = await h.audit("vault.backup");
    expect(row).toMatchObject({ actor: "owner", resource: "vault", outcome: "ok" });
    expect((await h.req("POST", "/v1/events", { body: { action: "Not An Action", resource: "x" } })).status).toBe(400);
  });

  it("serves the audit log: query, export, checkpoint, verify", async () => {
    await put("p/K", { value: "v" });
    const q = await h.req("GET", "/v1/audit?action=secret.write&namespace=p");
    expect(q.body.entries.map((e: { action: string; resource: string }) => `${e.action} ${e.resource}`)).toEqual(["secret.write p/K"]);
    expect((await h.req("GET", "/v1/audit?limit=0")).status).toBe(400);
    const page = await h.req("GET", "/v1/audit/export?afterSeq=0&limit=1");
    expect(page.body.entries).toHaveLength(1);
    expect((await h.req("GET", "/v1/audit/export")).status).toBe(400);
    const cp = await h.req("POST", "/v1/audit/checkpoint");
    const v = await h.req("POST", "/v1/audit/verify", { body: { checkpoint: cp.body } });
    expect(v.body).toMatchObject({ ok: true, checkpoint: { ok: true } });
    const bad = await h.req("POST", "/v1/audit/verify", { body: { checkpoint: { format: "nope" } } });
    expect(bad.status).toBe(400);
  });

  it("keeps passphrase changes and whole-vault exports in direct mode", async () => {
    for (const url of ["/v1/passwd", "/v1/export"]) {
      const r = await h.req("POST", url, { body: { passphrase: "new" } });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("INVALID_INPUT");
      expect(r.body.error.hint).toMatch(/authy lock/);
    }
  });

  it("locks: the owner session then gets LOCKED (423), health says so", async () => {
    expect((await h.req("POST", "/v1/lock")).body).toEqual({ locked: true });
    expect(h.locked()).toBe(true);
    const r = await h.req("GET", "/v1/secrets/p/K");
    expect(r.status).toBe(423);
    expect(r.body.error).toEqual({ code: "LOCKED", message: "the vault is locked", hint: "unlock it with `authy unlock`" });
    expect((await h.req("GET", "/v1/health", { bearer: null })).body.locked).toBe(true);
    expect((await h.req("GET", "/v1/status")).body).toMatchObject({ locked: true, vaultId: null });
  });

  it("answers unknown routes with NOT_FOUND and refuses missing credentials with 401", async () => {
    const r = await h.req("GET", "/v1/nothing");
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("NOT_FOUND");
    expect((await h.req("HEAD", "/v1/secrets/p/K")).status).toBe(404);
    const anon = await h.req("GET", "/v1/secrets", { bearer: null });
    expect(anon.status).toBe(401);
    expect(anon.body.error.code).toBe("ACCESS_DENIED");
    expect(anon.headers["www-authenticate"]).toMatch(/^Bearer/);
  });

  it("maps every error code to one status", () => {
    expect(HTTP_STATUS).toMatchObject({ INVALID_INPUT: 400, NOT_FOUND: 404, ACCESS_DENIED: 403, LOCKED: 423, INTEGRITY: 500, UNAVAILABLE: 503 });
  });
});
