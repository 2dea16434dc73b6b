/**
 * `authy mcp` driven as an agent host drives it: the SDK's own Client over stdio, spawning the
 * built CLI with an agent key in its environment, against a real daemon.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { authy, baseEnv, CLI, withPass } from "./cli.js";
import { stopDaemons, unlock, vaultHome } from "./daemon-helpers.js";

afterEach(stopDaemons);

const CANARY = "sk-canary-Zq8/+mcp&value=42";
const SENSITIVE = "db-sensitive-canary-9w";

const POLICY = `
scopes:
  agent:
    allow:
      - { path: "app/**", capabilities: [read, list] }
  revealer:
    mcp: reveal
    allow:
      - { path: "app/**", capabilities: [read, list] }
`;

interface Setup {
  home: string;
  session: string;
  agentKey: string;
  revealKey: string;
}

async function setup(): Promise<Setup> {
  const home = await vaultHome();
  const run = (args: string[], input?: string) => authy(args, { home, env: withPass, input });
  for (const [p, v, tier] of [
    ["app/API_KEY", CANARY, "standard"],
    ["app/db/PASSWORD", SENSITIVE, "sensitive"],
    ["other/HIDDEN", "hidden-value-1234", "standard"],
  ] as const) {
    const r = await run(["secrets", "set", p, "--tier", tier], v);
    expect(r.code, r.stderr).toBe(0);
  }
  const policyFile = path.join(path.dirname(home), "policy.yaml");
  writeFileSync(policyFile, POLICY);
  expect((await run(["policy", "apply", policyFile])).code).toBe(0);
  const agentKey = JSON.parse((await run(["agents", "create", "bot", "--scope", "agent", "--json"])).stdout).key as string;
  const revealKey = JSON.parse((await run(["agents", "create", "rev", "--scope", "revealer", "--json"])).stdout).key as string;
  const session = (await unlock(home, ["--export-session"])).session!;
  return { home, session, agentKey, revealKey };
}

async function connect(home: string, env: Record<string, string>, args: string[] = []): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, "mcp", ...args], env: { ...baseEnv(home), ...env }, stderr: "pipe" });
  const client = new Client({ name: "authy-test-host", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

type Content = { type: string; text: string }[];
const text = (r: object) => ((r as { content?: unknown }).content as Content).map((c) => c.text).join("\n");
const call = async (c: Client, name: string, args: Record<string, unknown>) => {
  const r = await c.callTool({ name, arguments: args });
  return { isError: Boolean(r.isError), text: text(r) };
};
const json = (s: string) => JSON.parse(s) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("authy mcp", () => {
  it("lists its tools per policy: read_secret only where the scope says mcp: reveal", async () => {
    const s = await setup();
    const plain = await connect(s.home, { AUTHY_AGENT_KEY: s.agentKey });
    const revealing = await connect(s.home, { AUTHY_AGENT_KEY: s.revealKey });
    try {
      expect((await plain.listTools()).tools.map((t) => t.name).sort()).toEqual(["check_access", "list_secrets", "request_access", "run_command"]);
      expect((await revealing.listTools()).tools.map((t) => t.name).sort()).toEqual([
        "check_access",
        "list_secrets",
        "read_secret",
        "request_access",
        "run_command",
      ]);
      const read = await call(revealing, "read_secret", { path: "app/API_KEY" });
      expect(read.isError, read.text).toBe(false);
      expect(json(read.text).value).toBe(CANARY);
      // Not offered is not callable.
      const refused = await call(plain, "read_secret", { path: "app/API_KEY" });
      expect(refused.isError).toBe(true);
      expect(refused.text).toContain("no tool");
      expect(refused.text).not.toContain(CANARY);
    } finally {
      await plain.close();
      await revealing.close();
    }
  });

  it("lists names and metadata in scope, never values or names outside it, and audits every call", async () => {
    const s = await setup();
    const c = await connect(s.home, { AUTHY_AGENT_KEY: s.agentKey });
    try {
      const r = await call(c, "list_secrets", {});
      expect(r.isError, r.text).toBe(false);
      const items = json(r.text).secrets as { path: string; tier: string; type: string }[];
      expect(items.map((i) => i.path).sort()).toEqual(["app/API_KEY", "app/db/PASSWORD"]);
      expect(items.find((i) => i.path === "app/db/PASSWORD")!.tier).toBe("sensitive");
      expect(r.text).not.toContain(CANARY);
    } finally {
      await c.close();
    }
    const log = await authy(["audit", "--action", "mcp.tool", "--json"], { home: s.home, env: { AUTHY_SESSION: s.session } });
    expect(log.code, log.stderr).toBe(0);
    const entries = json(log.stdout).entries as { actor: string; details: { tool: string; outcome: string; count: number } }[];
    expect(entries).toHaveLength(1);
    expect(entries[0]!.actor).toMatch(/^token:\w+\(bot\)$/);
    expect(entries[0]!.details).toMatchObject({ tool: "list_secrets", outcome: "ok", count: 2 });
  });

  it("runs a command with a secret injected; the output is masked in plain, base64 and URL-encoded forms", async () => {
    const s = await setup();
    const c = await connect(s.home, { AUTHY_AGENT_KEY: s.agentKey });
    try {
      const script =
        'printf "plain=%s\\n" "$KEY"; printf "%s" "$KEY" | base64 -w0; echo; node -e "console.log(encodeURIComponent(process.env.KEY)); console.error(\'err:\' + process.env.KEY)"; exit 3';
      const r = await call(c, "run_command", { command: script, env: { KEY: "authy://app/API_KEY" } });
      expect(r.isError, r.text).toBe(false);
      const out = json(r.text);
      expect(out.exitCode).toBe(3);
      expect(out.stdout).toContain("plain=");
      expect(out.stderr).toContain("err:");
      for (const form of [CANARY, Buffer.from(CANARY).toString("base64"), encodeURIComponent(CANARY)]) expect(r.text).not.toContain(form);
      // Each form replaced where it stood, the rest of the output exact.
      expect(out.stdout).toBe("plain=<authy:masked>\n<authy:masked>\n<authy:masked>\n");
      expect(out.stderr).toBe("err:<authy:masked>\n");
    } finally {
      await c.close();
    }
  });

  it("cuts output at the stated size and says how much was cut", async () => {
    const s = await setup();
    const c = await connect(s.home, { AUTHY_AGENT_KEY: s.agentKey });
    try {
      const r = await call(c, "run_command", { command: ["node", "-e", "process.stdout.write('x'.repeat(100000))"], env: { KEY: "authy://app/API_KEY" } });
      expect(r.isError, r.text).toBe(false);
      const out = json(r.text);
      expect(out.stdout.length).toBe(16 * 1024);
      expect(out.truncatedBytes.stdout).toBe(100000 - 16 * 1024);
    } finally {
      await c.close();
    }
  });

  it("files an approval for a sensitive secret, and the command runs once the owner approves", async () => {
    const s = await setup();
    const c = await connect(s.home, { AUTHY_AGENT_KEY: s.agentKey });
    try {
      const before = await call(c, "run_command", { command: 'test -n "$PW" && echo ran', env: { PW: "authy://app/db/PASSWORD" } });
      expect(before.isError).toBe(true);
      expect(before.text).toMatch(/^needs approval apr_\w+/);

      const asked = await call(c, "request_access", { path: "app/db/PASSWORD", capability: "read", reason: "run the migration" });
      expect(asked.isError, asked.text).toBe(false);
      const { id, status } = json(asked.text);
      expect(id).toMatch(/^apr_/);
      expect(status).toBe("pending");
      expect(json((await call(c, "check_access", { id })).text).status).toBe("pending");

      const ok = await authy(["approvals", "approve", id, "--reason", "go"], { home: s.home, env: { AUTHY_SESSION: s.session } });
      expect(ok.code, ok.stderr).toBe(0);
      expect(json((await call(c, "check_access", { id })).text).status).toBe("approved");

      const after = await call(c, "run_command", { command: 'test -n "$PW" && echo ran', env: { PW: "authy://app/db/PASSWORD" } });
      expect(after.isError, after.text).toBe(false);
      expect(json(after.text)).toMatchObject({ exitCode: 0, stdout: "ran\n" });
      expect(after.text).not.toContain(SENSITIVE);
    } finally {
      await c.close();
    }
  });

  it("refuses out-of-scope paths and bad arguments with readable tool errors, and keeps serving", async () => {
    const s = await setup();
    const c = await connect(s.home, { AUTHY_AGENT_KEY: s.revealKey });
    try {
      const cases: [string, Record<string, unknown>, RegExp][] = [
        ["read_secret", { path: "other/HIDDEN" }, /access_denied|not_found/],
        ["run_command", { command: "env", env: { X: "authy://other/HIDDEN" } }, /access_denied|not_found/],
        ["read_secret", { path: "../etc/passwd" }, /invalid/],
        ["read_secret", {}, /path/],
        ["run_command", { command: 42 }, /command/],
        ["run_command", { command: "true", env: { "BAD NAME": "authy://app/API_KEY" } }, /invalid environment variable name/],
        ["run_command", { command: "true", env: { X: "not-a-reference" } }, /authy:\/\//],
        ["check_access", { id: "nope" }, /id/],
        ["check_access", { id: "apr_doesnotexist" }, /not_found/],
        ["request_access", { path: "app/API_KEY", capability: "delete", reason: "x" }, /capability/],
        ["no_such_tool", {}, /no tool/],
      ];
      for (const [tool, args, message] of cases) {
        const r = await call(c, tool, args);
        expect(r.isError, `${tool} ${JSON.stringify(args)}: ${r.text}`).toBe(true);
        expect(r.text).toMatch(message);
        expect(r.text).not.toMatch(/\n\s+at /);
        expect(r.text).not.toContain("hidden-value-1234");
      }
      // Still serving after all of that.
      expect(json((await call(c, "read_secret", { path: "app/API_KEY" })).text).value).toBe(CANARY);
    } finally {
      await c.close();
    }
  });

  it("--scope narrows what the agent's key allows, and an owner session needs --scope", async () => {
    const s = await setup();
    const narrow = await connect(s.home, { AUTHY_AGENT_KEY: s.agentKey }, ["--scope", "secrets:read:app/*,secrets:list:app/*"]);
    try {
      expect(json((await call(narrow, "list_secrets", {})).text).secrets.map((i: { path: string }) => i.path)).toEqual(["app/API_KEY"]);
      const r = await call(narrow, "run_command", { command: "true", env: { PW: "authy://app/db/PASSWORD" } });
      expect(r.isError).toBe(true);
      // No references: the scope's own secrets, named by key, masked on the way back.
      const scoped = await call(narrow, "run_command", { command: 'printf "%s|%s" "$API_KEY" "${PASSWORD:-none}"' });
      expect(scoped.isError, scoped.text).toBe(false);
      expect(json(scoped.text).stdout).toBe("<authy:masked>|none");
    } finally {
      await narrow.close();
    }
    const r = await authy(["mcp"], { home: s.home, env: { AUTHY_SESSION: s.session } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("needs --scope");
    const none = await authy(["mcp"], { home: s.home });
    expect(none.code).toBe(4);
  });
});
