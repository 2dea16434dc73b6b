/**
 * Tokens and agent keys through the API: scope, expiry, revocation, single use, narrowing,
 * and the one 401 that every refused credential gets.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TOKEN_MAX_TTL_MS } from "../vault/tokens.js";
import { MemoryWindowCounts, WindowedAuthLimiter } from "./auth-limit.js";
import { harness, START, type Harness } from "./api.test-helpers.js";

let h: Harness;
beforeEach(async () => {
  h = await harness();
  for (const [path, value] of [
    ["prod/API_KEY", "p1"],
    ["prod/ROOT_PW", "r1"],
    ["staging/API_KEY", "s1"],
    ["prod%2Fdb/URL", "u1"],
  ]) {
    expect((await h.req("PUT", `/v1/secrets/${path}`, { body: { value } })).status).toBe(200);
  }
});
afterEach(async () => {
  await h.close();
});

async function token(
  body: Record<string, unknown>,
  bearer?: string,
): Promise<{ token: string; id: string; expiresAt: number; notices: string[]; scope: string }> {
  const r = await h.req("POST", "/v1/tokens", { body, ...(bearer === undefined ? {} : { bearer }) });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

const INVALID = {
  error: {
    code: "ACCESS_DENIED",
    message: "invalid or expired credentials",
    hint: "use a valid token (AUTHY_TOKEN), or work from the terminal that ran `authy unlock`",
  },
};

describe("tokens", () => {
  it("reads within scope, and an out-of-scope read is 403 and audited as secret.read.denied", async () => {
    const t = await token({ scope: "secrets:read+list:prod/*", ttl: "15m" });
    const ok = await h.req("GET", "/v1/secrets/prod/API_KEY", { bearer: t.token });
    expect(ok.status).toBe(200);
    expect(ok.body.value).toBe("p1");
    const denied = await h.req("GET", "/v1/secrets/staging/API_KEY", { bearer: t.token });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toEqual({ code: "ACCESS_DENIED", message: "not allowed to read staging/API_KEY", hint: "the token's scope does not allow it" });
    expect(denied.raw).not.toContain("s1");
    const [entry] = await h.audit("secret.read.denied");
    expect(entry).toMatchObject({ resource: "staging/API_KEY", outcome: "denied", actor: `token:${t.id}` });
    // `*` stays within one segment: prod/db/URL is not prod/*.
    expect((await h.req("GET", "/v1/secrets/prod%2Fdb/URL", { bearer: t.token })).status).toBe(403);
  });

  it("works one millisecond before expiry and fails one millisecond after", async () => {
    const t = await token({ scope: "secrets:read:prod/*", ttl: 60 });
    expect(t.expiresAt).toBe(START + 60_000);
    h.clock.t = t.expiresAt - 1;
    expect((await h.req("GET", "/v1/secrets/prod/API_KEY", { bearer: t.token })).status).toBe(200);
    h.clock.t = t.expiresAt + 1;
    const r = await h.req("GET", "/v1/secrets/prod/API_KEY", { bearer: t.token });
    expect(r.status).toBe(401);
    expect(r.body).toEqual(INVALID);
  });

  it("gives unknown, expired, revoked, exhausted and malformed credentials the identical 401", async () => {
    const expired = await token({ scope: "secrets:read:prod/*", ttl: 1 });
    const revoked = await token({ scope: "secrets:read:prod/*" });
    const exhausted = await token({ scope: "secrets:read:prod/*", uses: 1 });
    await h.req("DELETE", `/v1/tokens/${revoked.id}`);
    await h.req("GET", "/v1/secrets/prod/API_KEY", { bearer: exhausted.token });
    h.clock.t += 2000;
    const unknown = revoked.token.replace(/_[^_]+$/, "_" + "A".repeat(43));
    const bodies = [];
    for (const bearer of [
      expired.token,
      revoked.token,
      exhausted.token,
      unknown,
      "authy_tk_zzzz_yyyy",
      "authy_tk_",
      "garbage",
      "authy_ak_abc_def",
      "x".repeat(5000),
    ]) {
      const r = await h.req("GET", "/v1/secrets/prod/API_KEY", { bearer });
      expect(r.status, bearer.slice(0, 40)).toBe(401);
      expect(r.headers["www-authenticate"]).toBe('Bearer realm="authy"');
      bodies.push(r.raw);
    }
    expect(new Set(bodies).size).toBe(1);
    expect(JSON.parse(bodies[0]!)).toEqual(INVALID);
    const reasons = (await h.audit("token.use.denied")).map((a) => JSON.parse(a.details).reason);
    expect(reasons).toEqual(expect.arrayContaining(["expired", "revoked", "exhausted", "unknown"]));
  });

  it("fails at once after being revoked", async () => {
    const t = await token({ scope: "secrets:read:prod/*" });
    expect((await h.req("GET", "/v1/secrets/prod/API_KEY", { bearer: t.token })).status).toBe(200);
    expect((await h.req("DELETE", `/v1/tokens/${t.id}`)).status).toBe(200);
    expect((await h.req("GET", "/v1/secrets/prod/API_KEY", { bearer: t.token })).status).toBe(401);
  });

  it("may revoke itself, but not another token", async () => {
    const a = await token({ scope: "secrets:read:prod/*" });
    const b = await token({ scope: "secrets:read:prod/*" });
    expect((await h.req("DELETE", `/v1/tokens/${b.id}`, { bearer: a.token })).status).toBe(403);
    expect((await h.req("DELETE", `/v1/tokens/${a.id}`, { bearer: a.token })).status).toBe(200);
    expect((await h.req("GET", "/v1/secrets/prod/API_KEY", { bearer: a.token })).status).toBe(401);
  });

  it("succeeds exactly once when a single-use token is used 100 times at once", async () => {
    const t = await token({ scope: "secrets:read:prod/*", uses: 1 });
    const results = await Promise.all(Array.from({ length: 100 }, () => h.req("GET", "/v1/secrets/prod/API_KEY", { bearer: t.token })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(99);
  });

  it("cannot mint a wider-scoped token, nor one that outlives it", async () => {
    const parent = await token({ scope: "secrets:read+list:prod/*", ttl: "10m" });
    const wider = await h.req("POST", "/v1/tokens", { bearer: parent.token, body: { scope: "secrets:read:staging/*" } });
    expect(wider.status).toBe(403);
    expect(wider.body.error.code).toBe("ACCESS_DENIED");
    const more = await h.req("POST", "/v1/tokens", { bearer: parent.token, body: { scope: "secrets:read+write:prod/*" } });
    expect(more.status).toBe(403);
    const child = await token({ scope: "secrets:read:prod/*", ttl: "1h" }, parent.token);
    expect(child.expiresAt).toBe(parent.expiresAt);
    expect(child.notices).toContain("lifetime clamped to the issuing token's");
    const own = await token({}, parent.token); // no scope: its own
    expect(own.scope).toBe("secrets:read+list:prod/*");
    // Revoking the parent revokes what it issued.
    await h.req("DELETE", `/v1/tokens/${parent.id}`);
    expect((await h.req("GET", "/v1/secrets/prod/API_KEY", { bearer: child.token })).status).toBe(401);
  });

  it("refuses a zero or negative lifetime and clamps one above 24 h, saying so", async () => {
    for (const ttl of [0, -5, "0s"]) {
      const r = await h.req("POST", "/v1/tokens", { body: { scope: "secrets:read:prod/*", ttl } });
      expect(r.status, String(ttl)).toBe(400);
      expect(r.body.error.code).toBe("INVALID_INPUT");
    }
    const long = await token({ scope: "secrets:read:prod/*", ttl: "48h" });
    expect(long.expiresAt).toBe(START + TOKEN_MAX_TTL_MS);
    expect(long.notices).toEqual(["lifetime clamped to the 24h maximum"]);
    expect((await h.req("POST", "/v1/tokens", { body: { scope: "secrets:read:prod/*", ttl: "soon" } })).status).toBe(400);
  });

  it("accepts Agent Secret Store's request shape: scopes, ttl string, max_uses, description", async () => {
    const t = await token({ scopes: ["secrets:read:prod/*", "secrets:list:prod/*"], ttl: "1h", max_uses: 10, description: "inference" });
    expect(t.scope).toBe("secrets:read:prod/*,secrets:list:prod/*");
    expect(t).toMatchObject({ maxUses: 10, expires_at: new Date(START + 3_600_000).toISOString() });
    const unknownField = await h.req("POST", "/v1/tokens", { body: { scopes: ["secrets:read:prod/*"], ip_allowlist: ["10.0.0.1"] } });
    expect(unknownField.status).toBe(400);
  });

  it("hides from a listing the names the token may not list", async () => {
    await h.req("PUT", "/v1/policy", {
      body: {
        yaml: 'scopes:\n  ci:\n    allow:\n      - { path: "prod/**", capabilities: [list, read] }\n    deny:\n      - { path: "prod/ROOT_*" }\n',
        source: "p",
      },
    });
    const t = await token({ scope: "ci" });
    const all = await h.req("GET", "/v1/secrets?recursive=1", { bearer: t.token });
    expect(all.body.items.map((i: { path: string }) => i.path)).toEqual(["prod/API_KEY", "prod/db/URL"]);
    const prod = await h.req("GET", "/v1/secrets/prod", { bearer: t.token });
    expect(prod.body.items.map((i: { path: string }) => i.path)).toEqual(["prod/API_KEY"]);
    expect((await h.req("GET", "/v1/secrets/staging", { bearer: t.token })).body.items).toEqual([]);
  });

  it("is refused by owner-only routes and by status while the vault is locked", async () => {
    const t = await token({ scope: "secrets:read:prod/*" });
    for (const [method, url] of [
      ["GET", "/v1/policy"],
      ["GET", "/v1/agents"],
      ["GET", "/v1/tokens"],
      ["GET", "/v1/keys"],
      ["POST", "/v1/verify"],
      ["POST", "/v1/lock"],
      ["GET", "/v1/audit"],
      ["POST", "/v1/audit/checkpoint"],
    ]) {
      const r = await h.req(method!, url!, { bearer: t.token });
      expect(r.status, url).toBe(403);
      expect(r.body.error.message).toBe("only the owner can do this");
    }
    const status = await h.req("GET", "/v1/status", { bearer: t.token });
    expect(status.body).toMatchObject({ actor: `token:${t.id}`, token: { id: t.id, scope: "secrets:read:prod/*" } });
    await h.req("POST", "/v1/lock");
    const locked = await h.req("GET", "/v1/secrets/prod/API_KEY", { bearer: t.token });
    expect(locked.status).toBe(423);
  });

  it("dispatches only what its scope reads", async () => {
    const t = await token({ scope: "secrets:read+list:prod/*" });
    const ok = await h.req("POST", "/v1/dispatch", { bearer: t.token, body: { command: "run", refs: [{ name: "K", path: "prod/API_KEY", source: "--env" }] } });
    expect(ok.body.secrets).toEqual([{ name: "K", path: "prod/API_KEY", value: "p1" }]);
    const no = await h.req("POST", "/v1/dispatch", {
      bearer: t.token,
      body: { command: "run", refs: [{ name: "K", path: "staging/API_KEY", source: "--env" }] },
    });
    // 404 today: the core's dispatch only sees secrets the token may *list* (see the report).
    expect([403, 404]).toContain(no.status);
    expect(no.raw).not.toContain("s1");
  });
});

describe("agent keys", () => {
  async function agent(scope = "secrets:read+list:prod/*"): Promise<string> {
    const r = await h.req("POST", "/v1/agents", { body: { name: "bot", scope } });
    return r.body.key;
  }

  it("cannot read directly: 403, audited", async () => {
    const key = await agent();
    const r = await h.req("GET", "/v1/secrets/prod/API_KEY", { bearer: key });
    expect(r.status).toBe(403);
    expect(r.body.error.message).toBe("an agent key can only be exchanged for a token");
    expect(r.raw).not.toContain("p1");
    expect(await h.audit("secret.read.denied")).toEqual([expect.objectContaining({ actor: "agent:bot", resource: "prod/API_KEY" })]);
    for (const [method, url] of [
      ["GET", "/v1/secrets"],
      ["GET", "/v1/agents"],
      ["GET", "/v1/policy"],
      ["POST", "/v1/dispatch"],
    ]) {
      const other = await h.req(method!, url!, { bearer: key, body: method === "POST" ? { command: "x" } : undefined });
      expect(other.status, url).toBe(403);
      expect(other.body.error.message).toBe("an agent key can only be exchanged for a token");
    }
  });

  it("exchanges for a token within its scope, bound to the agent", async () => {
    const key = await agent();
    const t = await token({ ttl: "5m" }, key);
    expect(t.scope).toBe("secrets:read+list:prod/*");
    expect((await h.req("GET", "/v1/secrets/prod/API_KEY", { bearer: t.token })).body.value).toBe("p1");
    const narrower = await token({ scope: "secrets:read:prod/API_KEY" }, key);
    expect((await h.req("GET", "/v1/secrets/prod/API_KEY", { bearer: narrower.token })).status).toBe(200);
    const wider = await h.req("POST", "/v1/tokens", { bearer: key, body: { scope: "secrets:read:staging/*" } });
    expect(wider.status).toBe(403);
    const listed = (await h.req("GET", "/v1/tokens")).body.items;
    expect(listed.every((x: { agent: string }) => x.agent === "bot")).toBe(true);
    const other = await h.req("POST", "/v1/tokens", { bearer: key, body: { agent: "someone-else" } });
    expect(other.status).toBe(403);
  });

  it("revoking the agent kills its key and every token it holds", async () => {
    const key = await agent();
    const t = await token({}, key);
    expect((await h.req("DELETE", "/v1/agents/bot")).status).toBe(200);
    expect((await h.req("GET", "/v1/secrets/prod/API_KEY", { bearer: t.token })).body).toEqual(INVALID);
    expect((await h.req("POST", "/v1/tokens", { bearer: key, body: {} })).body).toEqual(INVALID);
  });

  it("is refused with the same 401 when wrong", async () => {
    const key = await agent();
    const wrong = key.replace(/.$/, (c) => (c === "A" ? "B" : "A"));
    expect((await h.req("POST", "/v1/tokens", { bearer: wrong, body: {} })).body).toEqual(INVALID);
  });
});

describe("on a team server (authy serve), which has no owner terminal", () => {
  it("answers every refused or missing credential with what a server takes instead", async () => {
    const server = await harness({ serverName: "vault.example" });
    try {
      const hint = "send a member key (`authy login`), a token (AUTHY_TOKEN) or an agent key (AUTHY_AGENT_KEY)";
      const bodies = [];
      for (const headers of [{ authorization: "Bearer authy_tk_zzzz_yyyy" }, { authorization: "Bearer garbage" }, { authorization: "Basic abc" }]) {
        const r = await server.req("GET", "/v1/secrets/prod/API_KEY", { bearer: null, headers });
        expect(r.status).toBe(401);
        bodies.push(r.raw);
      }
      expect(new Set(bodies).size).toBe(1);
      expect(JSON.parse(bodies[0]!)).toEqual({ error: { code: "ACCESS_DENIED", message: "invalid or expired credentials", hint } });
      const none = await server.req("GET", "/v1/secrets/prod/API_KEY", { bearer: null });
      expect(none.status).toBe(401);
      expect(none.body).toEqual({ error: { code: "ACCESS_DENIED", message: "no credentials given", hint } });
    } finally {
      await server.close();
    }
  });

  it("counts failed attempts per client behind a trusted proxy (--trust-proxy), not per proxy", async () => {
    const server = await harness({
      serverName: "vault.example",
      trustProxy: ["127.0.0.1"],
      authLimiter: new WindowedAuthLimiter(new MemoryWindowCounts(), () => 1_700_000_000_000),
    }); // one window: no turn of a minute splits the count
    try {
      await server.req("PUT", "/v1/secrets/prod/API_KEY", { body: { value: "p1" } });
      const t = await server.req("POST", "/v1/tokens", { body: { scope: "secrets:read:prod/*" } });
      const from = (client: string, bearer: string) => server.req("GET", "/v1/secrets/prod/API_KEY", { bearer, headers: { "x-forwarded-for": client } });
      const statuses = [];
      for (let i = 0; i < 31; i++) statuses.push((await from("198.51.100.1", `authy_tk_guess${i}aa_x`)).status);
      expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
      expect(statuses[30]).toBe(429);
      // Another client behind the same proxy is not the guesser.
      expect((await from("198.51.100.2", t.body.token as string)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("refuses what only its admins may do as an admin's, for a token and for an agent key acting directly", async () => {
    const server = await harness({ serverName: "vault.example", agentKeysDirect: true });
    try {
      const t = await server.req("POST", "/v1/tokens", { body: { scope: "secrets:read:prod/*" } });
      const a = await server.req("POST", "/v1/agents", { body: { name: "ci", scope: "secrets:read:prod/*" } });
      expect([t.status, a.status]).toEqual([201, 201]);
      for (const bearer of [t.body.token as string, a.body.key as string]) {
        const r = await server.req("GET", "/v1/audit", { bearer });
        expect(r.status).toBe(403);
        expect(r.body.error).toEqual({
          code: "ACCESS_DENIED",
          message: "only an admin can do this",
          hint: "ask an admin of this server, or log in with an admin's key (`authy login`)",
        });
      }
    } finally {
      await server.close();
    }
  });
});
