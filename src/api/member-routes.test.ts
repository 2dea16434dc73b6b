/**
 * Member keys over the API (fastify inject, a real vault on SQLite): an admin is admitted
 * where the owner is, a member where a token is and on its own key's rotation; unknown, wrong
 * and revoked member keys get the one 401 body, each refusal audited under a name that is
 * never text from the request; bad bodies are JSON errors.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { b64, harness, type Harness } from "./api.test-helpers.js";

let h: Harness;
let adminKey: string;
let bobKey: string;

beforeAll(async () => {
  h = await harness();
  await h.req("PUT", "/v1/secrets/prod/K", { body: { valueBase64: b64("prod-v") } });
  await h.req("PUT", "/v1/secrets/staging/K", { body: { valueBase64: b64("staging-v") } });
  adminKey = (await h.req("POST", "/v1/members", { body: { name: "alice", role: "admin" } })).body.key;
  bobKey = (await h.req("POST", "/v1/members", { body: { name: "bob", role: "member", scope: "secrets:read:staging/*" } })).body.key;
});
afterAll(() => h.close());

describe("member keys on the API", () => {
  it("admits an admin on owner routes, audited as the member", async () => {
    const r = await h.req("POST", "/v1/agents", { bearer: adminKey, body: { name: "ci", scope: "secrets:read:prod/*" } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect((await h.audit("agent.create")).map((e) => e.actor)).toEqual(["member:alice"]);
    expect((await h.req("GET", "/v1/whoami", { bearer: adminKey })).body).toMatchObject({ kind: "member", member: "alice", role: "admin", via: "member-key" });
  });

  it("holds a member to its scope and out of owner routes", async () => {
    expect((await h.req("GET", "/v1/secrets/staging/K", { bearer: bobKey })).status).toBe(200);
    const denied = await h.req("GET", "/v1/secrets/prod/K", { bearer: bobKey });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: "ACCESS_DENIED", message: "not allowed to read prod/K" });
    const owner = await h.req("GET", "/v1/members", { bearer: bobKey });
    expect(owner.status).toBe(403);
    expect(owner.body.error.message).toBe("only an admin can do this");
  });

  it("answers unknown, wrong and revoked member keys with the same 401", async () => {
    const carol = (await h.req("POST", "/v1/members", { body: { name: "carol", role: "member", scope: "secrets:read:staging/*" } })).body.key as string;
    await h.req("DELETE", "/v1/members/carol");
    const bodies = [];
    for (const bearer of ["authy_mk_aaaaaaaa_wrong", `${bobKey.slice(0, -3)}xyz`, carol, "authy_mk_'; DROP TABLE members; --"]) {
      const r = await h.req("GET", "/v1/secrets/staging/K", { bearer });
      expect(r.status).toBe(401);
      bodies.push(JSON.stringify(r.body));
    }
    expect(new Set(bodies).size).toBe(1);
    const refused = (await h.audit()).filter((e) => e.action === "member.auth.denied").map((e) => e.actor);
    expect(refused).toEqual(expect.arrayContaining(["member-key:unknown", "member:bob", "member:carol"]));
  });

  it("lets a member rotate its own key and nobody else's; the old key is refused at once", async () => {
    const dave = (await h.req("POST", "/v1/members", { body: { name: "dave", role: "member", scope: "secrets:read:staging/*" } })).body.key as string;
    expect((await h.req("POST", "/v1/members/key", { bearer: dave, body: { name: "bob" } })).status).toBe(403);
    const r = await h.req("POST", "/v1/members/key", { bearer: dave, body: {} });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ member: { name: "dave" } });
    expect((await h.req("GET", "/v1/secrets/staging/K", { bearer: dave })).status).toBe(401);
    expect((await h.req("GET", "/v1/secrets/staging/K", { bearer: r.body.key })).status).toBe(200);
  });

  it("refuses bad member bodies with a JSON error", async () => {
    for (const body of [
      { name: "x", role: "root" },
      { name: "bad name", role: "admin" },
      { name: "y", role: "member" },
      { name: "z", role: "admin", extra: 1 },
      { name: 5, role: "admin" },
    ]) {
      const r = await h.req("POST", "/v1/members", { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe("INVALID_INPUT");
    }
    expect((await h.req("DELETE", "/v1/members/nobody")).status).toBe(404);
  });
});
