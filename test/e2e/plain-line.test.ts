/**
 * In direct mode, `authy run --scope S -- CMD…` and `authy env export NS` go to their commands'
 * handlers without commander (src/cli/plain-line.ts). They must print and exit exactly as the
 * CLI does (a global flag in front sends the same line through commander). A copy of the
 * executable whose cli.js only says that it was loaded shows which path a command took.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authy, tempHome } from "./cli.js";
import { CLI_LOADED, cliStandIn } from "./cli-stand-in.js";

let noCli: string;
let standIn: ReturnType<typeof cliStandIn>;
let t: ReturnType<typeof tempHome>;
let identity: Record<string, string>;

beforeAll(async () => {
  standIn = cliStandIn("plain-test");
  noCli = standIn.cli;

  t = tempHome();
  const idFile = path.join(t.dir, "identity.txt");
  const recipient = (await authy(["keys", "generate", "--out", idFile], { home: t.home })).stdout.trim();
  expect((await authy(["init", "--no-passphrase", "--recipient", recipient], { home: t.home })).code).toBe(0);
  identity = { AUTHY_IDENTITY: idFile };
  const dotenv = "API_KEY=sk-plain-line-0123456789\nDB_URL='postgres://u:p@db/app'\n";
  expect((await authy(["env", "import", "-", "--namespace", "app"], { home: t.home, env: identity, input: dotenv })).code).toBe(0);
  expect((await authy(["secrets", "set", "short/PIN"], { home: t.home, env: identity, input: "ab" })).code).toBe(0);
});
afterAll(() => {
  standIn.remove();
  t.cleanup();
});

/** The line without the CLI, and through commander (the global --no-color in front changes nothing here). */
async function bothWays(args: string[]) {
  const plain = await authy(args, { home: t.home, env: identity, cli: noCli });
  const cli = await authy(["--no-color", ...args], { home: t.home, env: identity });
  return { plain, cli };
}

describe("plain command lines in direct mode", () => {
  it("env export NS prints what the CLI prints, without loading it", async () => {
    const { plain, cli } = await bothWays(["env", "export", "app"]);
    expect(plain).toEqual(cli);
    expect(plain.stdout).toContain("API_KEY=");
  });

  it("env export of a namespace that does not exist fails as in the CLI", async () => {
    const { plain, cli } = await bothWays(["env", "export", "nosuch"]);
    expect(plain).toEqual(cli);
    expect(plain.code).toBe(3);
  });

  it("run gives the command its secrets, masked, and its exit status, as the CLI does", async () => {
    const { plain, cli } = await bothWays(["run", "--scope", "secrets:read:app/*", "--", "sh", "-c", 'echo "$API_KEY ${#DB_URL}"; exit 3']);
    expect(plain).toEqual(cli);
    expect([plain.code, plain.stdout]).toEqual([3, "<authy:masked> 21\n"]);
  });

  it("run warns and refuses as the CLI does", async () => {
    const short = await bothWays(["run", "--scope", "secrets:read:short/*", "--", "true"]);
    expect(short.plain).toEqual(short.cli);
    expect(short.plain.stderr).toBe("warning: too short to mask safely, not masked: PIN\n");
    const missing = await bothWays(["run", "--scope", "no-such-scope", "--", "true"]);
    expect(missing.plain).toEqual(missing.cli);
    expect(missing.plain.code).toBe(3);
  });

  it("leaves other lines to the CLI", async () => {
    for (const args of [
      ["env", "export", "app", "--format", "json"],
      ["run", "--scope", "secrets:read:app/*", "--only", "API_KEY", "--", "true"],
      ["--quiet", "env", "export", "app"],
    ]) {
      const r = await authy(args, { home: t.home, env: identity, cli: noCli });
      expect([r.code, r.stderr], args.join(" ")).toEqual([CLI_LOADED, "cli.js loaded\n"]);
    }
  });
});
