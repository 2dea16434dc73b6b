/**
 * Every operation of the table, called as a token, as an agent and as a server member of role
 * member over the API (a real vault
 * on SQLite behind it): a caller the table does not list is refused before the core, and every
 * secret operation that the caller's scope does not cover is refused by the core (access.ts);
 * each refusal leaves an audit entry naming the caller.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_OPERATIONS } from "../operations/index.js";
import { b64, harness, type Harness } from "./api.test-helpers.js";

let h: Harness;
let n = 0;

beforeAll(async () => {
  h = await harness();
  await h.req("PUT", "/v1/secrets/prod/K", { body: { valueBase64: b64("v") } });
});

/**
 * A new caller for each call (repeated refusals of one caller are counted, not each written:
 * refusal-log.ts), with a scope that reaches nothing the walk touches.
 */
async function newCaller(kind: "token" | "agent" | "member"): Promise<{ bearer: string; actor: string }> {
  if (kind === "member") {
    const name = `person${++n}`;
    const m = (await h.req("POST", "/v1/members", { body: { name, role: "member", scope: "secrets:read+list+approve:elsewhere/*" } })).body;
    return { bearer: m.key, actor: `member:${name}` };
  }
  if (kind === "token") {
    const t = (await h.req("POST", "/v1/tokens", { body: { scope: "secrets:read+list:elsewhere/*", ttl: "15m" } })).body;
    return { bearer: t.token, actor: `token:${t.id}` };
  }
  const name = `bot${++n}`;
  const a = (await h.req("POST", "/v1/agents", { body: { name, scope: "secrets:read:elsewhere/*" } })).body;
  return { bearer: a.key, actor: `agent:${name}` };
}

/** A well-formed body, so that what answers is the access check, not the schema. */
const BODIES: Record<string, unknown> = {
  "PUT /v1/secrets/:namespace/:key": { valueBase64: b64("w") },
  "POST /v1/secrets/:namespace/:key/rotate": { valueBase64: b64("w") },
  "POST /v1/secrets/:namespace/:key/rollback": { version: 1 },
  "POST /v1/secrets/:namespace/:key/move": { to: "prod/K2" },
  "POST /v1/secrets/:namespace/:key/copy": { to: "prod/K2" },
};
afterAll(() => h.close());

const PARAMS: Record<string, string> = { namespace: "prod", key: "K", id: "x", name: "bot" };
const url = (path: string) => path.replace(/:(\w+)/g, (_, n: string) => PARAMS[n]!);
/** Operations on one secret, which the core authorizes against the caller's scope. */
const SECRET_ITEM = /^\/v1\/secrets\/:namespace\/:key/;

const routes = ALL_OPERATIONS.flatMap((op) => [op.path, ...(op.also ?? [])].map((path) => ({ op, path })));

/** Whether the table lets this kind in: a member wherever a token is, and where members are listed. */
const admitted = (callers: readonly string[], kind: string) => callers.includes(kind) || (kind === "member" && callers.includes("token"));
const REFUSED: Record<string, string> = {
  agent: "an agent key can only be exchanged for a token",
  token: "only the owner can do this",
  member: "only an admin can do this",
};

describe.each(["token", "agent", "member"] as const)("every operation, as a %s", (kind) => {
  it.each(routes.map((r) => [`${r.op.method} ${r.path}`, r] as const))("%s gets its documented answer", async (name, { op, path }) => {
    const { bearer, actor } = await newCaller(kind);
    const before = (await h.audit()).length;
    const r = await h.req(op.method, url(path), { bearer, ...(op.method === "GET" || op.method === "DELETE" ? {} : { body: BODIES[name] ?? {} }) });
    const written = (await h.audit()).slice(before);
    const refusals = written.filter((e) => e.outcome === "denied" && e.actor === actor);
    // An empty list of callers is anyone, with no credential at all (a run's end carries its ticket).
    if (op.callers.length > 0 && !admitted(op.callers, kind)) {
      // Not for this kind of caller: refused before the core, and noted in the refusal log.
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe("ACCESS_DENIED");
      expect(r.body.error.message).toBe(REFUSED[kind]);
      expect(refusals.map((e) => e.action)).toEqual(["request.denied"]);
    } else if (SECRET_ITEM.test(path)) {
      // The core refuses: an agent key reads nothing, a token nothing outside its scope.
      expect(r.status, JSON.stringify(r.body)).toBe(403);
      expect(refusals.length).toBe(1);
      expect(refusals[0]!.action).toMatch(/\.denied$/);
      expect(refusals[0]!.resource).toBe("prod/K");
    } else {
      // Allowed in: whatever the core answers, it is not the route's refusal.
      expect(r.body?.error?.message ?? "").not.toMatch(/^only the owner can do this$|^only an admin can do this$|^an agent key can only/);
      if (r.status === 403) expect(refusals.length).toBeGreaterThan(0);
    }
  });
});
