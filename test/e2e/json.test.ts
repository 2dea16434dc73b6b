/**
 * docs/json.md is the contract of `--json`: this file runs every command of the built CLI that
 * prints JSON and checks what it printed against the shape the page documents (its ```json
 * shape=NAME blocks, read here; test/e2e/json-shape.ts). It also fails for a command of the
 * CLI that the page does not name, and for a documented shape that no case here checks.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/program.js";
import { authy, baseEnv, CLI, finished, PASSPHRASE, ROOT, tempHome, TEST_WORK_FACTOR, withPass, type Result } from "./cli.js";
import { stopDaemons, vaultHome } from "./daemon-helpers.js";
import { check, referencesOf, shapesOf, type Shape } from "./json-shape.js";

const DOC = readFileSync(path.join(ROOT, "docs/json.md"), "utf8");
const shapes = shapesOf(DOC);

interface Case {
  /** What runs, as the test's title says it. */
  args: () => string[];
  /** The shape its output must have: `@name` of docs/json.md, or a shape made of them. */
  shape: Shape;
  env?: () => Record<string, string | undefined>;
  input?: string | Buffer;
  cwd?: () => string;
  /** The exit code it must end with (default 0). */
  code?: number;
  /**
   * One document per line, checked line by line: `ends` for a command that ends by itself,
   * `follows` for one that runs until stopped (it is, with Ctrl-C, once its first line is out).
   */
  lines?: "ends" | "follows";
  /** Where the document is printed: stdout, or stderr for an error. */
  on?: "stdout" | "stderr";
  /** More to check, and what to remember for the next cases. */
  then?: (doc: unknown) => void;
}

const t = tempHome();
let home = "";
const file = (name: string) => path.join(t.dir, name);
const state = { recipient: "", slot: "", approvals: [] as string[], token: "", tokenId: "", agentKey: "" };

/** The cases, in the order they run: each may build on the state the ones before left. */
const cases: Case[] = [
  { args: () => ["init", "--work-factor", TEST_WORK_FACTOR, "--home", file("fresh")], shape: "@init" },
  { args: () => ["status"], shape: "@status", then: (d) => expect(d).toMatchObject({ locked: true, daemon: null }) },
  { args: () => ["passwd", "--new-passphrase-file", file("passphrase.txt"), "--work-factor", TEST_WORK_FACTOR], shape: "@passwd" },
  { args: () => ["backup", file("backup.db")], shape: "@backup" },
  { args: () => ["restore", file("backup.db"), "--yes"], shape: "@restore" },
  // From here a daemon holds the vault, unlocked from this test's session: its commands are the
  // owner's, and go to it (doctor, export and scan unlock in their own process all the same).
  { args: () => ["unlock"], shape: "@unlock" },
  { args: () => ["status"], shape: "@status", then: (d) => expect(d).toMatchObject({ locked: false }) },
  { args: () => ["secrets", "set", "production/OPENAI_API_KEY", "--type", "api_key"], input: "sk-proj-123456", shape: "@secret-written" },
  { args: () => ["secrets", "set", "production/OPENAI_API_KEY", "--type", "api_key", "--tag", "ai"], input: "sk-proj-654321", shape: "@secret-written" },
  { args: () => ["secrets", "set", "production/DB_PASSWORD", "--tier", "sensitive", "--expires", "30d"], input: "db-pw-123456", shape: "@secret-written" },
  { args: () => ["secrets", "set", "production/STRIPE_KEY", "--tier", "sensitive"], input: "sk_live_123456", shape: "@secret-written" },
  {
    args: () => ["secrets", "set", "production/TLS_CERT", "--tier", "critical", "--type", "certificate"],
    input: "-----BEGIN CERTIFICATE-----",
    shape: "@secret-written",
  },
  { args: () => ["secrets", "set", "production/BLOB", "--from-file", file("blob.bin")], shape: "@secret-written" },
  { args: () => ["secrets", "generate", "production/GEN", "--print"], shape: "@secrets-generate-print" },
  {
    args: () => ["secrets", "get", "production/OPENAI_API_KEY"],
    shape: "@secrets-get",
    then: (d) =>
      expect(d).toMatchObject({ key: "OPENAI_API_KEY", namespace: "production", value: "sk-proj-654321", secret_type: "api_key", access_tier: "standard" }),
  },
  {
    args: () => ["read", "authy://production/BLOB"],
    shape: "@secrets-get",
    then: (d) => expect(d).toMatchObject({ valueBase64: Buffer.from([0, 255, 1, 254]).toString("base64") }),
  },
  { args: () => ["secrets", "list", "production"], shape: "@secrets-list" },
  { args: () => ["secrets", "list"], shape: "@secrets-list", then: (d) => expect(d).toMatchObject({ namespace: null }) },
  { args: () => ["secrets", "history", "production/OPENAI_API_KEY"], shape: "@secrets-history" },
  { args: () => ["secrets", "rollback", "production/OPENAI_API_KEY", "1"], shape: "@secret-written" },
  { args: () => ["secrets", "rotate", "production/GEN"], shape: "@secrets-rotate" },
  {
    args: () => ["secrets", "rotate", "production/GEN", "--show"],
    shape: "@secrets-rotate",
    then: (d) => expect(d).toMatchObject({ value: expect.any(String) }),
  },
  {
    args: () => ["secrets", "cp", "production/GEN", "production/GEN_COPY"],
    shape: "@secrets-transfer",
    then: (d) => expect(d).toMatchObject({ path: "production/GEN_COPY", from: "production/GEN" }),
  },
  { args: () => ["secrets", "mv", "production/GEN_COPY", "production/GEN_MOVED"], shape: "@secrets-transfer" },
  {
    args: () => ["secrets", "edit", "production/GEN_MOVED"],
    env: () => ({ ...withPass, EDITOR: "true" }),
    shape: "@secrets-edit-unchanged",
    then: (d) => expect(d).toEqual({ path: "production/GEN_MOVED", changed: false }),
  },
  {
    args: () => ["secrets", "edit", "production/GEN_MOVED"],
    env: () => ({ ...withPass, EDITOR: "sed -i s/^/x/" }),
    shape: "@secrets-edit-changed",
    then: (d) => expect(d).toMatchObject({ changed: true }),
  },
  { args: () => ["secrets", "delete", "production/GEN", "--yes"], shape: "@secrets-delete" },
  { args: () => ["secrets", "restore", "production/GEN"], shape: "@secret-written" },
  { args: () => ["env", "import", file("app.env"), "--namespace", "app"], shape: "@env-import" },
  { args: () => ["env", "export", "app"], shape: "@env-export" },
  { args: () => ["env", "export", "app", "--out", file("out.env")], shape: "@env-export-out" },
  { args: () => ["import", "json", file("flat.json"), "--namespace", "imported"], shape: "@import" },
  { args: () => ["keys", "generate"], shape: "@keys-generate" },
  {
    args: () => ["keys", "generate", "--out", file("identity.txt")],
    shape: "@keys-generate",
    then: (d) => (state.recipient = (d as { recipient: string }).recipient),
  },
  { args: () => ["keys", "add", state.recipient], shape: "@key-slot", then: (d) => (state.slot = (d as { id: string }).id) },
  { args: () => ["keys", "list"], shape: "@keys-list" },
  { args: () => ["export", "--to", state.recipient, "--out", file("export.age")], shape: "@export" },
  { args: () => ["keys", "remove", state.slot], shape: "@key-slot" },
  { args: () => ["config", "set", "notify.desktop", "false"], shape: "@config-list" },
  { args: () => ["config", "get", "notify.desktop"], shape: "@setting" },
  { args: () => ["config", "unset", "notify.desktop"], shape: "@config-list" },
  { args: () => ["config", "list"], shape: "@config-list" },
  { args: () => ["policy", "apply", file("policy.yaml")], shape: "@policy-apply" },
  { args: () => ["policy", "show"], shape: "@policy-show" },
  { args: () => ["policy", "test", "deploy", "production/OPENAI_API_KEY", "read"], shape: "@policy-test" },
  { args: () => ["policy", "test", "deploy", "production/ROOT_KEY", "read"], shape: "@policy-test", code: 4 },
  { args: () => ["doctor"], shape: "@doctor" },
  { args: () => ["scan", file("notes.txt")], shape: "@scan", code: 1 },
  { args: () => ["scan", "--install-hook"], shape: "@scan-hook", cwd: () => file("repo") },
  { args: () => ["agents", "create", "deploy-bot", "--scope", "deploy"], shape: "@agents-create", then: (d) => (state.agentKey = (d as { key: string }).key) },
  { args: () => ["agents", "create", "old-bot", "--scope", "deploy"], shape: "@agents-create" },
  { args: () => ["agents", "list"], shape: "@agents-list" },
  { args: () => ["agents", "revoke", "old-bot"], shape: "@agent" },
  { args: () => ["whoami"], shape: "@whoami" },
  { args: () => ["members", "add", "alice", "--role", "admin"], shape: "@members-add" },
  { args: () => ["members", "add", "bob", "--role", "member", "--scope", "secrets:read+approve:production/*"], shape: "@members-add" },
  { args: () => ["members", "rotate-key", "bob"], shape: "@members-add" },
  { args: () => ["members", "list"], shape: "@members-list" },
  { args: () => ["members", "revoke", "bob"], shape: "@member" },
  {
    args: () => ["tokens", "create", "--scopes", "secrets:read:production/*", "--ttl", "15m"],
    shape: "@tokens-create",
    then: (d) => ({ token: state.token, id: state.tokenId } = d as { token: string; id: string }),
  },
  { args: () => ["whoami"], shape: "@whoami", env: () => ({ AUTHY_TOKEN: state.token }), then: (d) => expect(d).toMatchObject({ kind: "token" }) },
  { args: () => ["whoami"], shape: "@whoami", env: () => ({ AUTHY_AGENT_KEY: state.agentKey }), then: (d) => expect(d).toMatchObject({ kind: "agent" }) },
  ...["production/DB_PASSWORD", "production/STRIPE_KEY", "production/TLS_CERT"].map((p): Case => ({
    args: () => ["secrets", "get", p, "--no-wait", "--reason", `deploy needs ${p}`],
    shape: "@approvals-pending",
    env: () => ({ AUTHY_TOKEN: state.token }),
    code: 5,
    then: (d) => state.approvals.push((d as { approvals: { id: string }[] }).approvals[0]!.id),
  })),
  { args: () => ["approvals", "watch"], shape: "@approvals-watch-line", lines: "follows", code: 130 },
  { args: () => ["approvals", "list"], shape: "@approvals-list" },
  { args: () => ["approvals", "approve", state.approvals[0]!], shape: "@approval" },
  { args: () => ["approvals", "deny", state.approvals[1]!, "--reason", "not now"], shape: "@approval" },
  { args: () => ["approvals", "approve", "--all", "--yes", "--for", "5m"], shape: "@approvals-list" },
  { args: () => ["secrets", "get", "production/DB_PASSWORD"], shape: "@secrets-get", env: () => ({ AUTHY_TOKEN: state.token }) },
  { args: () => ["secrets", "get", "staging/NOPE"], shape: "@error", env: () => ({ AUTHY_TOKEN: state.token }), code: 4, on: "stderr" },
  { args: () => ["tokens", "list"], shape: "@tokens-list" },
  { args: () => ["tokens", "revoke", state.tokenId], shape: "@token" },
  {
    args: () => ["audit"],
    shape: "@audit",
    then: (d) => {
      const { entries, events } = d as { entries: { seq: number; details: Record<string, unknown> }[]; events: { seq: number }[] };
      expect(events.map((e) => e.seq)).toEqual(entries.map((e) => e.seq).reverse());
      // Times inside details are times too (a token's expiry, an approval's window).
      expect(entries.some((e) => typeof e.details.expiresAt === "string")).toBe(true);
      expect(entries.some((e) => typeof e.details.until === "string")).toBe(true);
    },
  },
  { args: () => ["audit", "--follow"], shape: "@audit-entry", lines: "follows" },
  { args: () => ["audit", "verify"], shape: "@audit-verify" },
  { args: () => ["audit", "checkpoint", "--out", file("checkpoint.json")], shape: "@audit-checkpoint" },
  {
    args: () => ["audit", "verify", "--checkpoint", file("checkpoint.json")],
    shape: "@audit-verify",
    then: (d) => expect(d).toMatchObject({ checkpoint: { ok: true } }),
  },
  { args: () => ["audit", "export", "--format", "json"], shape: ["@audit-entry"] },
  { args: () => ["audit", "export", "--format", "jsonl"], shape: "@audit-entry", lines: "ends" },
  { args: () => ["audit", "export", "--out", file("audit.json")], shape: "@audit-export-out" },
  { args: () => ["lock"], shape: "@lock" },
];

beforeAll(async () => {
  home = await vaultHome();
  writeFileSync(file("blob.bin"), Buffer.from([0, 255, 1, 254]));
  writeFileSync(file("app.env"), "A=1\nB=two\n");
  writeFileSync(file("flat.json"), JSON.stringify({ X: "1", Y: "2" }));
  writeFileSync(file("passphrase.txt"), `${PASSPHRASE}\n`);
  writeFileSync(
    file("policy.yaml"),
    'scopes:\n  deploy:\n    allow:\n      - { path: "production/*", capabilities: [read, list] }\n    deny:\n      - { path: "production/ROOT_*" }\n',
  );
  writeFileSync(file("notes.txt"), "the key was sk-proj-123456 yesterday\n"); // the value rolled back to
  mkdirSync(file("repo"));
  execFileSync("git", ["init", "-q", file("repo")]);
});

afterAll(async () => {
  await stopDaemons();
  t.cleanup();
});

/** A command that runs until stopped: Ctrl-C (SIGINT) once it has printed a whole line. */
function untilFirstLine(args: string[], opts: { home: string; env: Record<string, string | undefined>; cwd?: string }): Promise<Result> {
  const env = { ...baseEnv(opts.home), ...opts.env };
  const child = spawn(process.execPath, ["--", CLI, ...args], { env, cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString("utf8");
    if (out.includes("\n")) child.kill("SIGINT");
  });
  return finished(child, undefined, 60_000);
}

function documents(r: Result, c: Case): unknown[] {
  const text = c.on === "stderr" ? r.stderr : r.stdout;
  if (!c.lines) return [JSON.parse(text)];
  const lines = text.split("\n").filter((l) => l !== "");
  expect(lines.length, `${c.args().join(" ")} printed no line`).toBeGreaterThan(0);
  return lines.map((l) => JSON.parse(l) as unknown);
}

describe("every --json output has the shape docs/json.md documents", () => {
  for (const c of cases) {
    const words = c.args().map((a: string | undefined) => (a === undefined || a === "" ? "ID" : a.startsWith("/") ? path.basename(a) : a));
    it(`authy ${words.join(" ")} --json → ${JSON.stringify(c.shape)}`, async () => {
      const opts = { home, env: c.env ? c.env() : withPass, input: c.input, cwd: c.cwd?.() };
      const r = c.lines === "follows" ? await untilFirstLine([...c.args(), "--json"], opts) : await authy([...c.args(), "--json"], opts);
      expect(r.code, r.stderr).toBe(c.code ?? 0);
      for (const doc of documents(r, c)) {
        expect(check(doc, c.shape, shapes)).toEqual([]);
        c.then?.(doc);
      }
    });
  }
});

/** Usage errors, as commander finds them, on every path a line can take (src/bin/boot.ts): `run` and `env export` have their own. */
const USAGE_ERRORS: [string[], string, string | null][] = [
  [["secrets", "get", "--json"], "missing required argument 'path'", null],
  [
    ["--json", "secrets", "list", "--tier", "bogus"],
    "option '--tier <tier>' argument 'bogus' is invalid. Allowed choices are standard, sensitive, critical.",
    null,
  ],
  [["bogus", "--json"], "unknown command 'bogus'", "did you mean logout?"],
  [["run", "--json", "--bogus", "--", "true"], "unknown option '--bogus'", null],
  [["env", "export", "--json"], "missing required argument 'namespace'", null],
];

describe("a usage error with --json", () => {
  const credentials = { "a passphrase": withPass, "no credential": {} };
  for (const [args, message, hint] of USAGE_ERRORS) {
    for (const [what, env] of Object.entries(credentials)) {
      it(`authy ${args.join(" ")} (${what}) prints the JSON error document, exit 2`, async () => {
        const r = await authy(args, { home, env });
        expect(r.code, r.stderr).toBe(2);
        expect(r.stdout).toBe("");
        expect(JSON.parse(r.stderr)).toEqual({ error: { code: "INVALID_INPUT", message, hint } });
      });
    }
  }

  it("is text without --json, the suggestion on a line of its own", async () => {
    const r = await authy(["bogus"], { home, env: withPass });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("authy: unknown command 'bogus'\n(Did you mean logout?)\n");
  });
});

/** Every command of the CLI's tree that runs something (not a group like `secrets`), hidden ones aside. */
function commandsOf(cmd: CommandUnknownOpts, prefix: string[] = []): string[] {
  return cmd.commands.flatMap((c) => {
    const name = [...prefix, c.name()];
    const hidden = (c as unknown as { _hidden: boolean })._hidden;
    const runs = (c as unknown as { _actionHandler: unknown })._actionHandler !== null;
    if (hidden) return [];
    return [...(runs ? [name.join(" ")] : []), ...commandsOf(c, name)];
  });
}

describe("docs/json.md", () => {
  it("names every command of the CLI in a heading", () => {
    const named = new Set<string>();
    for (const heading of DOC.split("\n").filter((l) => l.startsWith("### ") || l.startsWith("- `authy "))) {
      for (const m of heading.matchAll(/`authy ([^`]*)`/g)) {
        const words = m[1]!.split(" ");
        const end = words.findIndex((w) => !/^[a-z][a-z-]*$/.test(w));
        named.add(words.slice(0, end === -1 ? undefined : end).join(" "));
      }
    }
    const missing = commandsOf(buildProgram()).filter((c) => !named.has(c));
    expect(missing, "commands with no section in docs/json.md").toEqual([]);
  });

  it("has no shape that the cases above do not check", () => {
    const used = new Set<string>();
    const visit = (s: Shape) => {
      for (const name of referencesOf(s)) {
        if (used.has(name)) continue;
        used.add(name);
        visit(shapes.get(name) ?? "");
      }
    };
    for (const c of cases) visit(c.shape);
    const unchecked = [...shapes.keys()].filter((n) => !used.has(n));
    expect(unchecked, "shapes in docs/json.md that no case checks").toEqual([]);
  });
});
