/**
 * Approvals end to end: an agent's token reads through the daemon (on its socket) and is told
 * to wait; the owner decides with the built CLI in another process; the token's next read
 * gets the value. Also the owner commands' exit codes and `approvals watch` as a JSON stream.
 */
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { authy, PASSPHRASE, withPass } from "./cli.js";
import { request, socketOf, stopDaemons, unlock, vaultHome } from "./daemon-helpers.js";
import { hasTmux, Terminal } from "./terminal.js";

afterEach(stopDaemons);

const json = (s: string) => JSON.parse(s) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A vault with a sensitive secret, a daemon, and a token of agent deploy-bot. */
async function agentSetup(): Promise<{ home: string; socket: string; token: string }> {
  const home = await vaultHome();
  for (const [p, v, tier] of [
    ["prod/DB", "db-canary-7f3a", "sensitive"],
    ["prod/PLAIN", "plain-1", "standard"],
  ] as const) {
    const r = await authy(["secrets", "set", p, "--tier", tier], { home, env: withPass, input: v });
    expect(r.code, r.stderr).toBe(0);
  }
  await unlock(home); // this test process is now the owner, by its session
  const socket = await socketOf(home);
  expect((await request(socket, "POST", "/v1/agents", { body: JSON.stringify({ name: "deploy-bot", scope: "secrets:read:prod/*" }) })).status).toBe(201);
  const t = await request(socket, "POST", "/v1/tokens", { body: JSON.stringify({ agent: "deploy-bot", ttl: "1h" }) });
  expect(t.status, t.body).toBe(201);
  return { home, socket, token: json(t.body).token as string };
}

describe("authy approvals", () => {
  it("lists nothing, approves nothing, and refuses bad usage with the documented exit codes", async () => {
    const home = await vaultHome();
    const list = await authy(["approvals", "list", "--json"], { home, env: withPass });
    expect(list.code, list.stderr).toBe(0);
    expect(json(list.stdout)).toEqual({ items: [] });
    const all = await authy(["approvals", "approve", "--all"], { home, env: withPass });
    expect(all.code).toBe(0);
    expect(all.stderr).toContain("nothing was pending");
    expect((await authy(["approvals", "approve"], { home, env: withPass })).code).toBe(2);
    expect((await authy(["approvals", "approve", "apr_nope"], { home, env: withPass })).code).toBe(3);
    expect((await authy(["approvals", "deny", "apr_nope"], { home, env: withPass })).code).toBe(2);
    expect((await authy(["approvals", "approve", "apr_nope", "--for", "2d"], { home, env: withPass })).code).toBe(2);
    expect((await authy(["approvals", "list", "--status", "maybe"], { home, env: withPass })).code).toBe(2);
  });

  it("an agent's sensitive read waits for the owner, who approves it from the CLI for 15 minutes", async () => {
    const { home, socket, token } = await agentSetup();
    const plain = await request(socket, "GET", "/v1/secrets/prod/PLAIN", { bearer: token });
    expect(plain.status).toBe(200);
    const asked = await request(socket, "GET", "/v1/secrets/prod/DB?reason=nightly%20backup", { bearer: token });
    expect(asked.status).toBe(409);
    expect(asked.body).not.toContain("db-canary-7f3a");
    const id = json(asked.body).error.details.approvalId as string;

    const listed = await authy(["approvals", "list", "--status", "pending", "--json"], { home, env: withPass });
    expect(listed.code, listed.stderr).toBe(0);
    expect(json(listed.stdout).items).toMatchObject([
      { id, agent: "deploy-bot", action: "secret.read", path: "prod/DB", tier: "sensitive", reason: "nightly backup", status: "pending" },
    ]);
    const table = await authy(["approvals", "list"], { home, env: withPass });
    expect(table.stdout).toMatch(new RegExp(`${id}\\s+pending\\s+deploy-bot\\s+read\\s+prod/DB\\s+sensitive`));

    const approved = await authy(["approvals", "approve", id, "--for", "15m", "--reason", "ok for tonight"], { home, env: withPass });
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stderr).toContain(`approved ${id} until`);
    for (let i = 0; i < 2; i++) {
      const r = await request(socket, "GET", "/v1/secrets/prod/DB", { bearer: token });
      expect(r.status).toBe(200);
      expect(json(r.body).value).toBe("db-canary-7f3a");
    }
    const status = await request(socket, "GET", `/v1/approvals/${id}`, { bearer: token });
    expect(json(status.body)).toMatchObject({ status: "approved", grant: "window", decisionReason: "ok for tonight" });
  });

  it("a denial reaches the waiting agent with its reason, and cannot be turned into an approval afterwards", async () => {
    const { home, socket, token } = await agentSetup();
    const id = json((await request(socket, "GET", "/v1/secrets/prod/DB", { bearer: token })).body).error.details.approvalId as string;
    const denied = await authy(["approvals", "deny", id, "--reason", "not during the freeze", "--json"], { home, env: withPass });
    expect(denied.code, denied.stderr).toBe(0);
    expect(json(denied.stdout)).toMatchObject({ id, status: "denied", decisionReason: "not during the freeze" });
    const seen = await request(socket, "GET", `/v1/approvals/${id}`, { bearer: token });
    expect(json(seen.body)).toMatchObject({ status: "denied", decisionReason: "not during the freeze" });
    expect((await authy(["approvals", "approve", id], { home, env: withPass })).code).toBe(2);
  });

  it("watch prints one JSON line per pending request when not on a terminal", async () => {
    const { home, socket, token } = await agentSetup();
    const a = json((await request(socket, "GET", "/v1/secrets/prod/DB", { bearer: token })).body).error.details.approvalId as string;
    const w = await authy(["approvals", "watch"], { home, env: withPass, timeoutMs: 4000 });
    const lines = w.stdout.trim().split("\n").map(json);
    expect(lines).toEqual([expect.objectContaining({ event: "approval.request", id: a, agent: "deploy-bot", path: "prod/DB", status: "pending" })]);
  });
});

/** node-pty, when it is installed (an optional dependency): the watch view needs a real terminal. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-condition, @typescript-eslint/no-unnecessary-type-assertion -- a CommonJS module may come without a default
const pty = await import("node-pty").then((m) => (m.default ?? m) as typeof import("node-pty")).catch(() => null);

describe.runIf(pty !== null)("authy approvals watch on a terminal", () => {
  it("approves the selected request with a, and denies the next with d and a typed reason", async () => {
    const { home, socket, token } = await agentSetup();
    const first = json((await request(socket, "GET", "/v1/secrets/prod/DB", { bearer: token })).body).error.details.approvalId as string;
    const { CLI, baseEnv } = await import("./cli.js");
    const term = pty!.spawn(process.execPath, [CLI, "approvals", "watch"], { cols: 160, rows: 30, env: { ...baseEnv(home), ...withPass } });
    let screen = "";
    term.onData((d) => (screen += d));
    const exited = new Promise<number>((r) => term.onExit((e) => r(e.exitCode)));
    const until = async (text: string) => {
      const start = Date.now();
      while (!screen.includes(text)) {
        if (Date.now() - start > 15_000) throw new Error(`never saw ${JSON.stringify(text)} in:\n${screen.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await until(`${first}  sensitive  agent deploy-bot wants to read prod/DB`);
      term.write("a");
      await until(`approved ${first}`);
      const second = json((await request(socket, "GET", "/v1/secrets/prod/DB", { bearer: token })).body);
      // The single-use approval was spent by that read; the next read asks again.
      expect(second.value).toBe("db-canary-7f3a");
      const third = json((await request(socket, "GET", "/v1/secrets/prod/DB", { bearer: token })).body).error.details.approvalId as string;
      await until(third);
      term.write("d");
      await until(`reason for denying ${third}`);
      term.write("not now\r");
      await until(`denied ${third}`);
      term.write("q");
      expect(await exited).toBe(0);
    } finally {
      term.kill();
    }
    const listed = json((await authy(["approvals", "list", "--json"], { home, env: withPass })).stdout).items as {
      id: string;
      status: string;
      decisionReason: string | null;
    }[];
    expect(listed.map((a) => [a.status, a.decisionReason])).toEqual([
      ["used", null],
      ["denied", "not now"],
    ]);
  });
});

describe.runIf(hasTmux)("authy approvals watch after a passphrase prompt (direct mode, tmux)", () => {
  // The watch script: the terminal's settings before and after must be the same.
  const script = 'before=$(stty -g); authy approvals watch; rc=$?; [ "$(stty -g)" = "$before" ] && echo "terminal as it was"; (exit $rc)';

  for (const [key, how] of [
    ["q", "q"],
    ["C-c", "Ctrl-C"],
  ] as const) {
    it(`takes keys after the prompt, quits on ${how}, and leaves the terminal as it was`, async () => {
      const home = await vaultHome();
      const term = new Terminal(path.dirname(home), home, script);
      try {
        await term.waitFor(/Vault passphrase/);
        term.type([PASSPHRASE], true);
        term.type(["Enter"]);
        await term.waitFor(/no pending requests; waiting/);
        term.type([key]);
        expect(await term.waitFor(/\[exit \d+\]/)).toMatch(/stopped watching\nterminal as it was\n\[exit 0\]$/);
      } finally {
        term.close();
      }
    });
  }
});
