/**
 * The HTTP client against the real API on a real Unix socket: every VaultClient method
 * returns exactly what the direct client returns over the same vault, and errors come back
 * as the same AuthyError (code, message, hint).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { harness, SESSION, START, type Harness } from "../api/api.test-helpers.js";
import { buildApi } from "../api/app.js";
import { generateIdentity, identityToRecipient } from "../crypto/index.js";
import { AuthyError } from "../errors.js";
import { directClient } from "./direct-client.js";
import { createHttpClient } from "./http-client.js";
import type { VaultClient } from "./vault-client.js";

let h: Harness;
let socketPath: string;
let direct: VaultClient;
let http: VaultClient;
const text = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));
const POLICY =
  'scopes:\n  deploy:\n    description: ci\n    allow:\n      - { path: "prod/**", capabilities: [read, list] }\n    deny:\n      - { path: "prod/ROOT_*" }\n';

beforeAll(async () => {
  h = await harness();
  socketPath = path.join(h.dir, "daemon.sock");
  await h.app.listen({ path: socketPath });
  direct = directClient(h.vault);
  http = createHttpClient({ socketPath, bearer: SESSION, mode: "daemon" });
  await direct.applyPolicy(POLICY, "policy.yaml");
  await direct.setSecret("prod/API_KEY", text("sk-live"), { type: "api_key", tier: "sensitive", description: "d", tags: ["t1", "t2"], expiresAt: START + 1e9 });
  await direct.setSecret("prod/API_KEY", text("sk-live-2"));
  await direct.setSecret("prod/db/URL", text("postgres://u@h/db"));
  await direct.setSecret("prod/ROOT_PW", text("root"));
  await direct.setSecret(
    "bin/BLOB",
    Uint8Array.from({ length: 256 }, (_, i) => i),
  );
  await direct.setSecret("gone/OLD", text("old"));
  await direct.deleteSecret("gone/OLD");
  await direct.createAgent("reader", { scope: "deploy", description: "r" });
});

afterAll(async () => {
  await http.close();
  await h.close();
});

/** Replaces every string starting with `from` by the same with `to`, deep: mirrored results compare equal. */
function renamed<T>(x: T, from: string, to: string): T {
  if (typeof x === "string") return (x.startsWith(from) ? to + x.slice(from.length) : x) as T;
  if (Array.isArray(x)) return x.map((v) => renamed(v, from, to)) as T;
  if (x && typeof x === "object" && !(x instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, renamed(v, from, to)])) as T;
  }
  return x;
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; hint: string | undefined }> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AuthyError);
    const a = e as AuthyError;
    return { code: a.code, message: a.message, hint: a.hint };
  }
  throw new Error("expected a failure");
}

describe("reads return exactly what the direct client returns", () => {
  it("getSecret: text, binary, older versions, expired on request", async () => {
    for (const [p, o] of [
      ["prod/API_KEY", {}],
      ["prod/API_KEY", { version: 1 }],
      ["bin/BLOB", {}],
      ["prod/db/URL", { allowExpired: true }],
    ] as const) {
      const a = await direct.getSecret(p, o);
      const b = await http.getSecret(p, o);
      expect(b).toStrictEqual(a);
    }
    expect([...(await http.getSecret("bin/BLOB")).value]).toEqual(Array.from({ length: 256 }, (_, i) => i));
  });

  it("describeSecret, history, listSecrets in every form", async () => {
    for (const p of ["prod/API_KEY", "gone/OLD"]) {
      expect(await http.describeSecret(p)).toStrictEqual(await direct.describeSecret(p));
      expect(await http.history(p)).toStrictEqual(await direct.history(p));
    }
    for (const o of [
      undefined,
      {},
      { namespace: "prod" },
      { namespace: "prod", recursive: true },
      { namespace: "prod/db" },
      { includeDeleted: true },
      { namespace: "" },
      { namespace: "gone", includeDeleted: true },
    ]) {
      expect(await http.listSecrets(o), JSON.stringify(o)).toStrictEqual(await direct.listSecrets(o));
    }
  });

  it("exportEnv, dispatch, policy, testPolicy, listAgents, listKeys, verify", async () => {
    expect(await http.exportEnv("prod")).toStrictEqual(await direct.exportEnv("prod"));
    expect(await http.exportEnv("prod", { keys: ["API_KEY"] })).toStrictEqual(await direct.exportEnv("prod", { keys: ["API_KEY"] }));
    expect(await http.exportEnv("prod", { keys: [] })).toStrictEqual(await direct.exportEnv("prod", { keys: [] }));
    const req = { scope: "deploy", command: "deploy.sh", refs: [{ name: "DB", path: "prod/db/URL", source: "--env" }], details: { pid: 1 } };
    // Each dispatch is a run of its own, with its own id and ticket; the rest is the same.
    const sameRun = ({ run: _run, ticket: _ticket, ...rest }: Awaited<ReturnType<typeof http.dispatch>>) => rest;
    expect(sameRun(await http.dispatch(req))).toStrictEqual(sameRun(await direct.dispatch(req)));
    expect(await http.policy()).toStrictEqual(await direct.policy());
    expect(Object.getPrototypeOf((await http.policy()).scopes)).toBeNull();
    const tests: [string, string, "read" | "list" | "write"][] = [
      ["deploy", "prod/ROOT_PW", "read"],
      ["deploy", "prod/db/URL", "list"],
      ["secrets:write:a/*", "a/B", "write"],
    ];
    for (const [scope, p, cap] of tests) {
      expect(await http.testPolicy(scope, p, cap)).toStrictEqual(await direct.testPolicy(scope, p, cap));
    }
    expect(await http.listAgents()).toStrictEqual(await direct.listAgents());
    expect(await http.listKeys()).toStrictEqual(await direct.listKeys());
    expect(await http.verify()).toStrictEqual(await direct.verify());
  });
});

describe("writes return exactly what the direct client returns", () => {
  it("setSecret, deleteSecret, restoreSecret, rollback (mirrored on two namespaces)", async () => {
    const opts = { type: "db_credential" as const, tier: "critical" as const, description: "x", tags: ["a"], expiresAt: null };
    const bytes = Uint8Array.from([0, 1, 2, 0xff, 0xfe, 0]);
    const view = new Uint8Array([9, 9, ...bytes, 9]).subarray(2, 2 + bytes.length); // a view with an offset
    const d = await direct.setSecret("dd/K", bytes, opts);
    const hh = await http.setSecret("hh/K", view, opts);
    expect(renamed(hh, "hh", "dd")).toStrictEqual(d);
    expect((await http.getSecret("hh/K")).value).toStrictEqual(bytes);
    await direct.setSecret("dd/K", text("second"));
    await http.setSecret("hh/K", text("second"));
    expect(renamed(await http.rollback("hh/K", 1), "hh", "dd")).toStrictEqual(await direct.rollback("dd/K", 1));
    expect(renamed(await http.deleteSecret("hh/K"), "hh", "dd")).toStrictEqual(await direct.deleteSecret("dd/K"));
    expect(renamed(await http.restoreSecret("hh/K"), "hh", "dd")).toStrictEqual(await direct.restoreSecret("dd/K"));
    expect(renamed(await http.deleteSecret("hh/K", { purge: true }), "hh", "dd")).toStrictEqual(await direct.deleteSecret("dd/K", { purge: true }));
  });

  it("importEnv (dry run and real, with progress), applyPolicy, recordEvent", async () => {
    const entries = [
      { key: "A", value: "1" },
      { key: "B", value: "2" },
    ];
    const progress: [number, number][][] = [[], []];
    for (const dryRun of [true, false]) {
      const d = await direct.importEnv(entries, { namespace: "envd", dryRun, onProgress: (...a) => progress[0]!.push(a) });
      const hh = await http.importEnv(entries, { namespace: "envh", dryRun, onProgress: (...a) => progress[1]!.push(a) });
      expect(renamed(hh, "envh", "envd")).toStrictEqual(d);
    }
    expect(progress[1]).toEqual(progress[0]);
    expect(await http.applyPolicy(POLICY, "p.yaml")).toStrictEqual(await direct.applyPolicy(POLICY, "p.yaml"));
    await expect(http.recordEvent("vault.backup", "vault", { to: "x" })).resolves.toBeUndefined();
    await expect(direct.recordEvent("vault.backup", "vault", { to: "x" })).resolves.toBeUndefined();
  });

  it("createAgent, revokeAgent, addRecipient, removeKey", async () => {
    const d = await direct.createAgent("agent-d", { scope: "deploy" });
    const hh = await http.createAgent("agent-h", { scope: "deploy" });
    const shape = (r: { agent: { id: string; name: string }; key: string }) => ({
      ...r,
      agent: { ...r.agent, id: "", name: "" },
      key: r.key.replace(/^(authy_ak_)[a-z2-7]+_.+$/, "$1…"),
    });
    expect(shape(hh)).toStrictEqual(shape(d));
    expect({ ...(await http.revokeAgent("agent-h")), id: "", name: "" }).toStrictEqual({ ...(await direct.revokeAgent("agent-d")), id: "", name: "" });
    const [r1, r2] = [await identityToRecipient(await generateIdentity()), await identityToRecipient(await generateIdentity())];
    const sd = await direct.addRecipient(r1, "l");
    const sh = await http.addRecipient(r2, "l");
    expect({ ...sh, id: "", recipient: "" }).toStrictEqual({ ...sd, id: "", recipient: "" });
    expect(await http.removeKey(sh.id)).toStrictEqual(sh);
    expect(await http.removeKey(r1)).toStrictEqual(sd);
  });
});

describe("the audit log reads the same either way", () => {
  it("queryAudit, exportAudit, auditCheckpoint, verifyAudit (with a checkpoint and progress)", async () => {
    for (const f of [
      undefined,
      {},
      { action: "secret.read" },
      { namespace: "prod", limit: 3 },
      { afterSeq: 2, limit: 5 },
      { since: START, until: START + 1 },
    ]) {
      expect(await http.queryAudit(f), JSON.stringify(f)).toStrictEqual(await direct.queryAudit(f));
    }
    expect(await http.exportAudit({ afterSeq: 0, limit: 4 })).toStrictEqual(await direct.exportAudit({ afterSeq: 0, limit: 4 }));
    const cp = await http.auditCheckpoint();
    expect(cp).toStrictEqual(await direct.auditCheckpoint());
    const seen: number[][] = [];
    const report = await http.verifyAudit({ checkpoint: cp, onProgress: (...a) => seen.push(a) });
    expect(report).toStrictEqual(await direct.verifyAudit({ checkpoint: cp }));
    expect(report.ok).toBe(true);
    expect(seen).toEqual([[report.entries, report.entries]]);
    for (const bad of [{ limit: 0 }, { since: 5, until: 1 }, { namespace: "a//b" }]) {
      expect(await failure(http.queryAudit(bad))).toStrictEqual(await failure(direct.queryAudit(bad)));
    }
    const forged = { ...cp, mac: "0".repeat(64) };
    expect(await failure(http.verifyAudit({ checkpoint: forged }))).toStrictEqual(await failure(direct.verifyAudit({ checkpoint: forged })));
  });
});

describe("errors come back as the same AuthyError", () => {
  it("for not found, invalid input, already exists and access denied", async () => {
    const cases: ((c: VaultClient) => Promise<unknown>)[] = [
      (c) => c.getSecret("nope/X"),
      (c) => c.getSecret("gone/OLD"),
      (c) => c.getSecret("prod/API_KEY", { version: 99 }),
      (c) => c.getSecret("bad path"),
      (c) => c.getSecret("a/../b"),
      (c) => c.getSecret("%2e%2e/KEY"),
      (c) => c.getSecret(`ns/${"A".repeat(4096)}`),
      (c) => c.getSecret("noNamespace"),
      (c) => c.setSecret("x/Y", new Uint8Array(1024 * 1024 + 1)),
      (c) => c.listSecrets({ namespace: "a//b" }),
      (c) => c.rollback("prod/API_KEY", 2),
      (c) => c.restoreSecret("prod/API_KEY"),
      (c) => c.deleteSecret("gone/OLD"),
      (c) =>
        c.importEnv(
          [
            { key: "A", value: "1" },
            { key: "A", value: "2" },
          ],
          { namespace: "dup" },
        ),
      (c) => c.exportEnv("prod", { keys: ["MISSING"] }),
      (c) => c.exportEnv("bin"),
      (c) => c.testPolicy("no-such-scope", "a/B", "read"),
      (c) => c.applyPolicy("scopes:\n  x: [", "bad.yaml"),
      (c) => c.dispatch({ command: "x", refs: [{ name: "A", path: "nope/A", source: "--env" }] }),
      (c) => c.createAgent("reader", { scope: "deploy" }),
      (c) => c.createAgent("bad name!", { scope: "deploy" }),
      (c) => c.createAgent("ok-name", { scope: "no-such-scope" }),
      (c) => c.revokeAgent("nobody"),
      (c) => c.addRecipient("age1notarecipient"),
      (c) => c.removeKey("slot_nope"),
    ];
    for (const [i, call] of cases.entries()) {
      const [a, b] = [await failure(call(direct)), await failure(call(http))];
      expect(b, `case ${i}: ${a.message}`).toStrictEqual(a);
    }
  });

  it("keeps passphrase changes and vault export in direct mode", async () => {
    const e = await failure(http.exportAll());
    expect(e).toMatchObject({ code: "INVALID_INPUT", message: "exporting the whole vault is only possible in direct mode" });
    expect((await failure(http.changePassphrase("new passphrase"))).code).toBe("INVALID_INPUT");
  });

  it("says the daemon is not running when there is no socket", async () => {
    const dead = createHttpClient({ socketPath: path.join(h.dir, "nobody.sock"), bearer: SESSION, mode: "daemon" });
    expect(await failure(dead.listSecrets())).toStrictEqual({
      code: "UNAVAILABLE",
      message: "the daemon is not running",
      hint: "start it with `authy unlock`",
    });
    await dead.close();
  });

  it("refuses bad credentials with ACCESS_DENIED", async () => {
    const bad = createHttpClient({ socketPath, bearer: "authy_tk_abc_def", mode: "daemon" });
    expect((await failure(bad.listSecrets())).message).toBe("invalid or expired credentials");
    await bad.close();
  });
});

describe("tokens", () => {
  it("issues, lists and revokes over HTTP; direct mode has none", async () => {
    expect((await failure(direct.issueToken({ scope: "deploy" }))).code).toBe("UNAVAILABLE");
    const t = await http.issueToken({ scope: "secrets:read:prod/**", ttlMs: 90_000, uses: 5, label: "ci" });
    expect(Object.keys(t).sort()).toEqual(["expiresAt", "id", "notices", "scope", "token"]);
    expect(t).toMatchObject({ scope: "secrets:read:prod/**", expiresAt: START + 90_000, notices: [] });
    expect((await http.listTokens()).map((x) => x.id)).toContain(t.id);

    const asToken = createHttpClient({ socketPath, bearer: t.token, mode: "daemon" });
    expect((await asToken.getSecret("prod/db/URL")).value).toStrictEqual(text("postgres://u@h/db"));
    expect(await failure(asToken.getSecret("bin/BLOB"))).toStrictEqual({
      code: "ACCESS_DENIED",
      message: "not allowed to read bin/BLOB",
      hint: "the token's scope does not allow it",
    });
    const child = await asToken.issueToken({ ttlMs: 10 * 86_400_000 });
    expect(child.notices).toEqual([
      "lifetime clamped to the 24h maximum",
      "lifetime clamped to the issuing token's",
      "uses clamped to the 4 left to the issuing token",
    ]); // 5 uses, 1 spent by the one read that released a value (a refused read and issuing spend none)
    expect((await http.revokeToken(t.id)).revokedAt).toBe(START);
    expect((await failure(asToken.getSecret("prod/db/URL"))).message).toBe("invalid or expired credentials");
    await asToken.close();
  });
});

describe("server mode over TCP", () => {
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    app = await buildApi({ vault: () => h.vault, instance: "tcp", isOwnerSession: (b) => b === SESSION, status: () => ({}) });
    url = await app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await app.close();
  });

  it("works against a base URL, with a path prefix ignored by nothing", async () => {
    const c = createHttpClient({ baseUrl: url, bearer: SESSION, mode: "server" });
    expect(await c.listSecrets({ namespace: "prod" })).toStrictEqual(await direct.listSecrets({ namespace: "prod" }));
    await c.close();
    const gone = createHttpClient({ baseUrl: "http://127.0.0.1:1", bearer: SESSION, mode: "server" });
    const e = await failure(gone.listSecrets());
    expect(e.code).toBe("UNAVAILABLE");
    expect(e.message).toMatch(/^cannot reach the authy server at http:\/\/127\.0\.0\.1:1/);
    await gone.close();
  });

  it("serves many calls at once, on kept-alive connections", async () => {
    const c = createHttpClient({ baseUrl: url, bearer: SESSION, mode: "server" });
    const results = await Promise.all(Array.from({ length: 50 }, () => c.describeSecret("prod/API_KEY")));
    expect(new Set(results.map((r) => r.version)).size).toBe(1);
    for (let i = 0; i < 20; i++) await c.listSecrets();
    await c.close();
  });
});

describe("the client is light", () => {
  /** Every module the client loads at run time (type-only imports are erased), from the sources. */
  function runtimeImports(file: string, seen = new Set<string>()): Set<string> {
    if (seen.has(file)) return seen;
    seen.add(file);
    const src = readFileSync(file, "utf8");
    for (const m of src.matchAll(/^import\s+(?!type\b)[^;]*?from\s+"([^"]+)";/gms)) {
      const spec = m[1]!;
      if (spec.startsWith(".")) runtimeImports(path.resolve(path.dirname(file), spec.replace(/\.js$/, ".ts")), seen);
      else seen.add(spec);
    }
    return seen;
  }

  it("imports node:net and a few small modules, never node:http (until a server is used), fastify, zod, SQLite or crypto", () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const deps = [...runtimeImports(path.join(here, "http-client.ts"))].map((d) => (path.isAbsolute(d) ? path.relative(path.join(here, ".."), d) : d)).sort();
    // node:module (createRequire, to load node:http only for a server) is part of Node's own start-up.
    // The table of operations comes with it (its client halves; its zod schemas are functions
    // only the server calls), and the few leaf modules of the core that its entries name.
    expect(deps).toEqual([
      "api/http-status.ts",
      "api/wire.ts",
      "client/http-client.ts",
      "client/http-transport.ts",
      "client/http-wire.ts",
      "client/unix-http.ts",
      "errors.ts",
      "formats/duration.ts",
      "node:module",
      "node:net",
      "operations/access.ts",
      "operations/approvals.ts",
      "operations/ass.ts",
      "operations/audit.ts",
      "operations/env.ts",
      "operations/index.ts",
      "operations/members.ts",
      "operations/operation.ts",
      "operations/policy.ts",
      "operations/secrets.ts",
      "operations/shapes.ts",
      "operations/vault.ts",
      "os/socket-fd.ts",
      "vault/approval-info.ts",
      "vault/checkpoint-format.ts",
      "vault/dispatch-purpose.ts",
      "vault/path.ts",
      "vault/policy/capability.ts",
      "vault/types.ts",
    ]);
  });
});
