/**
 * The Agent Secret Store's side of the shared routes, in-process (the real `ass` CLI runs
 * against `authy serve` in test/e2e/ass-cli.test.ts): both spellings in one response, an
 * empty JSON body as no body, binary values refused to a text-only client, and agent keys
 * used directly only where the server allows it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { withoutAss } from "../operations/ass.js";
import { b64, harness, type Harness } from "./api.test-helpers.js";

let h: Harness;
afterEach(() => h.close());

const ASS_CLI = { "user-agent": "ass-cli/1.0.0", "content-type": "application/json" };

describe("the Agent Secret Store's routes", () => {
  it("answers a secret in both spellings, and takes secret_type and access_tier on a write", async () => {
    h = await harness();
    const w = await h.req("PUT", "/v1/secrets/staging%2Fopenai/API_KEY", { body: { value: "sk-1", secret_type: "api_key", access_tier: "sensitive" } });
    expect(w.status).toBe(200);
    expect(w.body).toMatchObject({ type: "api_key", tier: "sensitive", secret_type: "api_key", access_tier: "sensitive", namespace: "staging/openai" });
    expect(w.body.updated_at).toBe(new Date(w.body.updatedAt as number).toISOString());
    const both = await h.req("PUT", "/v1/secrets/a/B", { body: { value: "x", type: "api_key", secret_type: "custom" } });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toMatch(/not both/);
    const list = await h.req("GET", "/v1/secrets/staging%2Fopenai");
    expect(list.body.items[0]).toMatchObject({ key: "API_KEY", access_tier: "sensitive", rotation_pending: false });
    expect(Object.keys(withoutAss(list.body.items[0] as object)).every((k) => !k.includes("_"))).toBe(true);
  });

  it("takes an empty body under a JSON content type as no body (approve, rotate)", async () => {
    h = await harness();
    await h.vault.setSecret("p/GEN", Buffer.from("x"), { generator: { length: 12, charset: "hex" } });
    const r = await h.req("POST", "/v1/secrets/p/GEN/rotate", { raw: "", headers: { "content-type": "application/json" } });
    expect(r.status).toBe(200);
    expect(r.body.value).toMatch(/^[0-9a-f]{12}$/);
    expect(r.body).toMatchObject({ rotation_pending: false, version: 2 });
    // A body that is there but broken is still refused.
    expect((await h.req("POST", "/v1/secrets/p/GEN/rotate", { raw: "{" })).status).toBe(400);
  });

  it("refuses a binary value to a client that can show only text, with 422; authy's own reads are unchanged", async () => {
    h = await harness();
    await h.req("PUT", "/v1/secrets/bin/BLOB", { body: { valueBase64: b64(Uint8Array.of(0, 255, 1)) } });
    const ass = await h.req("GET", "/v1/secrets/bin/BLOB", { headers: ASS_CLI });
    expect(ass.status).toBe(422);
    expect(ass.body.error).toMatchObject({ code: "INVALID_INPUT", message: "bin/BLOB holds bytes that are not UTF-8 text, which this client cannot show" });
    expect((await h.req("GET", "/v1/secrets/bin/BLOB?encoding=utf8")).status).toBe(422);
    expect((await h.req("GET", "/v1/secrets/bin/BLOB")).body.valueBase64).toBe(b64(Uint8Array.of(0, 255, 1)));
    // Refused before release: written down as a failed read (no approval spent), the one read that released it as ok.
    const reads = (await h.audit("secret.read")).map((e) => [e.outcome, JSON.parse(e.details) as Record<string, unknown>]);
    expect(reads).toEqual([
      ["error", { error: "not text" }],
      ["error", { error: "not text" }],
      ["ok", { version: 1 }],
    ]);
  });

  it("lets an agent key act directly only where the server allows it (authy serve), never on the daemon", async () => {
    for (const direct of [false, true]) {
      h = await harness(direct ? { agentKeysDirect: true } : {});
      await h.req("PUT", "/v1/secrets/prod/K", { body: { value: "v" } });
      const { key } = (await h.req("POST", "/v1/agents", { body: { name: "ci", allowed_namespaces: ["prod"], allowed_scopes: ["read:secrets"] } })).body;
      const read = await h.req("GET", "/v1/secrets/prod/K", { bearer: key });
      const list = await h.req("GET", "/v1/secrets/prod", { bearer: key });
      const reads = (await h.audit()).filter((e) => e.action.startsWith("secret.read"));
      if (direct) {
        expect([read.status, read.body.value, list.status]).toEqual([200, "v", 200]);
        expect(reads.map((e) => [e.actor, e.action, e.outcome])).toEqual([["agent:ci", "secret.read", "ok"]]);
      } else {
        expect([read.status, list.status]).toEqual([403, 403]);
        expect(read.body.error.message).toBe("an agent key can only be exchanged for a token");
        expect(reads.map((e) => [e.actor, e.action])).toEqual([["agent:ci", "secret.read.denied"]]);
      }
      await h.close();
    }
    h = await harness();
  });

  it("pages the audit log newest first in `events`, keeping authy's `entries` oldest first", async () => {
    h = await harness();
    for (const k of ["A", "B", "C", "D"]) {
      h.clock.t += 1000;
      await h.req("PUT", `/v1/secrets/p/${k}`, { body: { value: "v" } });
    }
    const first = (await h.req("GET", "/v1/audit?page=1&limit=2")).body;
    const second = (await h.req("GET", "/v1/audit?page=2&limit=2")).body;
    expect(first.events.map((e: { resource_id: string }) => e.resource_id)).toEqual(["p/D", "p/C"]);
    expect(first.entries.map((e: { resource: string }) => e.resource)).toEqual(["p/C", "p/D"]);
    expect(second.events.map((e: { resource_id: string }) => e.resource_id)).toEqual(["p/B", "p/A"]);
    expect((await h.req("GET", "/v1/audit?page=0&limit=2")).status).toBe(400);
  });

  it("issues a token from scope words, and names an unknown word among them rather than a known one", async () => {
    h = await harness();
    const ok = await h.req("POST", "/v1/tokens", { body: { scopes: ["read:secrets"], ttl: 300 } });
    expect([ok.status, ok.body.scopes]).toEqual([201, ["read:secrets"]]);
    const mixed = await h.req("POST", "/v1/tokens", { body: { scopes: ["read:secrets", "fly:rockets"], ttl: 300 } });
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.message).toBe('unknown scope word "fly:rockets"');
    expect(mixed.body.error.hint).toMatch(/^use read:secrets, write:secrets, rotate:secrets, import:secrets, manage:agents, or authy's scopes/);
  });

  it("takes an agent's namespaces as namespaces: a comma or a glob cannot add rules of its own", async () => {
    h = await harness();
    for (const ns of ["prod,secrets:read:**", "**", "prod/*"]) {
      const r = await h.req("POST", "/v1/agents", { body: { name: "ci", allowed_namespaces: [ns], allowed_scopes: ["read:secrets"] } });
      expect(r.status, ns).toBe(400);
      expect(r.body.error.code).toBe("INVALID_INPUT");
    }
  });
});
