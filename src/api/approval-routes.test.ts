/**
 * Approvals through the API: a token's sensitive read answered 409 with the request, the
 * owner deciding over HTTP, the waiting token polling its own request (and no one else's).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { APPROVAL_PENDING_TTL_MS } from "../vault/approvals.js";
import { harness, START, type Harness } from "./api.test-helpers.js";

let h: Harness;
let bot: string;
let lone: string;

beforeEach(async () => {
  h = await harness();
  const put = async (path: string, value: string, tier: string) =>
    expect((await h.req("PUT", `/v1/secrets/${path}`, { body: { value, tier } })).status).toBe(200);
  await put("prod/PLAIN", "plain-1", "standard");
  await put("prod/DB", "db-secret-1", "sensitive");
  await put("prod/ROOT", "root-secret-1", "critical");
  expect((await h.req("POST", "/v1/agents", { body: { name: "deploy-bot", scope: "secrets:read+list+write:prod/*" } })).status).toBe(201);
  bot = (await h.req("POST", "/v1/tokens", { body: { agent: "deploy-bot", ttl: "1h" } })).body.token;
  lone = (await h.req("POST", "/v1/tokens", { body: { scope: "secrets:read:prod/*", ttl: "1h" } })).body.token;
});
afterEach(async () => {
  await h.close();
});

describe("approvals over HTTP", () => {
  it("answers a sensitive read with 409 and the request, never the value; the owner approves it; the read then succeeds", async () => {
    const r = await h.req("GET", "/v1/secrets/prod/DB?reason=nightly%20backup", { bearer: bot });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("APPROVAL_REQUIRED");
    expect(r.raw).not.toContain("db-secret-1");
    const id = r.body.error.details.approvalId as string;
    expect(r.body.error.details.approvals[0]).toMatchObject({
      id,
      agent: "deploy-bot",
      action: "secret.read",
      path: "prod/DB",
      tier: "sensitive",
      reason: "nightly backup",
      status: "pending",
      expiresAt: START + APPROVAL_PENDING_TTL_MS,
    });

    const polled = await h.req("GET", `/v1/approvals/${id}`, { bearer: bot });
    expect(polled.status).toBe(200);
    expect(polled.body.status).toBe("pending");
    expect((await h.req("GET", `/v1/approvals/${id}`, { bearer: lone })).status).toBe(404);
    expect((await h.req("GET", "/v1/approvals", { bearer: bot })).status).toBe(403);
    expect((await h.req("POST", `/v1/approvals/${id}/approve`, { bearer: bot, body: {} })).status).toBe(403);

    const listed = await h.req("GET", "/v1/approvals?status=pending");
    expect(listed.body.items.map((a: { id: string }) => a.id)).toEqual([id]);
    const approved = await h.req("POST", `/v1/approvals/${id}/approve`, { body: { reason: "ok", for: "15m" } });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: "approved", grant: "window", grantUntil: START + 15 * 60_000, decisionReason: "ok" });

    for (let i = 0; i < 2; i++) {
      const ok = await h.req("GET", "/v1/secrets/prod/DB", { bearer: bot });
      expect(ok.status).toBe(200);
      expect(ok.body.value).toBe("db-secret-1");
    }
    expect((await h.audit("approval.use")).length).toBe(2);
  });

  it("approves without a body (single use), and denies only with a reason", async () => {
    const a = (await h.req("GET", "/v1/secrets/prod/DB", { bearer: bot })).body.error.details.approvalId as string;
    const b = (await h.req("GET", "/v1/secrets/prod/ROOT", { bearer: bot })).body.error.details.approvalId as string;
    expect((await h.req("POST", `/v1/approvals/${a}/approve`)).body).toMatchObject({ status: "approved", grant: "once" });
    expect((await h.req("POST", `/v1/approvals/${b}/deny`, { body: {} })).status).toBe(400);
    const denied = await h.req("POST", `/v1/approvals/${b}/deny`, { body: { reason: "not today" } });
    expect(denied.body).toMatchObject({ status: "denied", decisionReason: "not today" });
    expect((await h.req("GET", `/v1/approvals/${b}`, { bearer: bot })).body).toMatchObject({ status: "denied", decisionReason: "not today" });
    expect((await h.req("GET", "/v1/secrets/prod/DB", { bearer: bot })).status).toBe(200);
    expect((await h.req("GET", "/v1/secrets/prod/DB", { bearer: bot })).status).toBe(409);
    expect((await h.req("POST", "/v1/approvals/apr_nope/approve")).status).toBe(404);
    expect((await h.req("GET", "/v1/approvals?status=nonsense")).status).toBe(400);
  });

  it("asks for critical writes and for run/inject dispatch, carrying the reason; approve-all decides them together", async () => {
    const w = await h.req("PUT", "/v1/secrets/prod/ROOT", { bearer: bot, body: { value: "new-root", reason: "rotation" } });
    expect(w.status).toBe(409);
    expect(w.body.error.details.approvals[0]).toMatchObject({ action: "secret.write", reason: "rotation" });
    const refs = [
      { name: "DB", path: "prod/DB", source: "--env" },
      { name: "P", path: "prod/PLAIN", source: "--env" },
    ];
    const d = await h.req("POST", "/v1/dispatch", { bearer: bot, body: { command: "deploy", refs, reason: "release" } });
    expect(d.status).toBe(409);
    expect(d.body.error.details.approvals.map((a: { path: string; reason: string }) => [a.path, a.reason])).toEqual([["prod/DB", "release"]]);
    const all = await h.req("POST", "/v1/approvals/approve-all", { body: { reason: "batch" } });
    expect(all.body.items).toHaveLength(2);
    expect((await h.req("PUT", "/v1/secrets/prod/ROOT", { bearer: bot, body: { value: "new-root" } })).status).toBe(200);
    const ok = await h.req("POST", "/v1/dispatch", { bearer: bot, body: { command: "deploy", refs } });
    expect(ok.status).toBe(200);
    expect(ok.body.secrets.map((s: { name: string }) => s.name)).toEqual(["DB", "P"]);
  });
});
