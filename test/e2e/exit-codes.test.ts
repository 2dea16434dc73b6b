/**
 * The CLI exits only with the codes of its table (DESIGN.md section 5), whatever its
 * environment holds: never Node.js's own exit 9, never a death by signal, never a stack trace.
 * Here every authy variable, and the environment as a whole, is as large as exec allows.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authy, initVault, tempHome, withPass, type Result } from "./cli.js";

const TABLE = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 130]);
/** One "NAME=value" string at exec is at most 128 KiB (MAX_ARG_STRLEN); stay just under it. */
const HUGE = "a".repeat(128 * 1024 - 64);

let t: ReturnType<typeof tempHome>;
beforeAll(async () => {
  t = tempHome();
  await initVault(t.home);
  expect((await authy(["secrets", "set", "ns/KEY"], { home: t.home, env: withPass, input: "a-value-long-enough" })).code).toBe(0);
});
afterAll(() => t.cleanup());

function expectInTable(r: Result, what: string): void {
  expect(TABLE.has(r.code), `${what}: exit ${r.code}, stderr: ${r.stderr.slice(0, 300)}`).toBe(true);
  expect(r.stderr, what).not.toMatch(/\n\s+at /);
  expect(r.stderr, what).not.toMatch(/^node:/m);
  // One line, and a short one: an error never echoes 128 KiB back.
  if (r.code !== 0) expect(r.stderr.split("\n")[0]!.length, what).toBeLessThan(1024);
}

const VARIABLES = ["AUTHY_HOME", "AUTHY_PASSPHRASE", "AUTHY_PASSPHRASE_FILE", "AUTHY_IDENTITY", "AUTHY_SESSION", "AUTHY_TOKEN", "AUTHY_AGENT_KEY"];
const COMMANDS = [["status"], ["secrets", "list"], ["run", "--env", "X=authy://ns/KEY", "--", "true"]];

describe("exit codes under oversized environment variables", () => {
  it.each(VARIABLES)("%s of 128 KiB", async (name) => {
    for (const args of COMMANDS) {
      const env: Record<string, string | undefined> = { ...withPass, [name]: HUGE };
      if (name === "AUTHY_HOME") env.AUTHY_HOME = HUGE;
      const r = await authy(args, { home: name === "AUTHY_HOME" ? HUGE : t.home, env });
      expectInTable(r, `${name} ${args.join(" ")}`);
    }
  });

  it("a file name too long is invalid input (exit 2), shown shortened", async () => {
    const r = await authy(["secrets", "list"], { home: t.home, env: { AUTHY_IDENTITY: `/tmp/${HUGE}` } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^authy: file name too long: \/tmp\/a{100,}…\n/);
  });

  it("an environment as large as exec allows", async () => {
    const env: Record<string, string | undefined> = { ...withPass };
    for (let i = 0; i < 14; i++) env[`BIG_${i}`] = HUGE;
    for (const args of COMMANDS) expectInTable(await authy(args, { home: t.home, env }), args.join(" "));
    // A secret that no longer fits beside it: a clear refusal, not E2BIG or a signal.
    const big = "v".repeat(100 * 1024);
    expect((await authy(["secrets", "set", "ns/BIG"], { home: t.home, env: withPass, input: big })).code).toBe(0);
    const r = await authy(["run", "--env", "X=authy://ns/BIG", "--", "true"], { home: t.home, env: { ...env, PAD: "p".repeat(120 * 1024) } });
    expectInTable(r, "run with a large secret");
  });
});
