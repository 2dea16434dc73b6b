/**
 * The built executable (scripts/bundle.mjs, src/bin/boot.ts): four bundles, each with a V8
 * code cache written at build time. A cache is only ever a shortcut: missing, from another
 * build, or garbage, the same commands give the same results; and running never writes one.
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authy, ROOT, tempHome } from "./cli.js";

const BIN = path.join(ROOT, "dist/bin");
const BUNDLES = ["cli", "engine", "libs", "fast", "fast-run", "plain"];
let copy: string;
const h = tempHome();

beforeAll(() => {
  // Inside the project, so that the copy finds node_modules (better-sqlite3) as the original does.
  copy = path.join(ROOT, "dist", `bin-test-${process.pid}`);
  cpSync(BIN, copy, { recursive: true });
});
afterAll(() => {
  rmSync(copy, { recursive: true, force: true });
  h.cleanup();
});

/** init, set, get, a policy (libs.js) and a scoped run: every bundle is loaded. */
async function workout(cli: string, home: string): Promise<string[]> {
  const identity = path.join(path.dirname(home), `id-${path.basename(home)}.txt`);
  const recipient = (await authy(["keys", "generate", "--out", identity], { home, cli })).stdout.trim();
  const env = { AUTHY_IDENTITY: identity };
  const steps = [
    await authy(["init", "--no-passphrase", "--recipient", recipient], { home, cli }),
    await authy(["secrets", "set", "app/TOKEN"], { home, cli, env, input: "s3cr3t-value" }),
    await authy(["secrets", "get", "app/TOKEN"], { home, cli, env }),
  ];
  const policy = path.join(path.dirname(home), `policy-${path.basename(home)}.yaml`);
  writeFileSync(policy, 'scopes:\n  app:\n    allow:\n      - { path: "app/*", capabilities: [read] }\n');
  steps.push(await authy(["policy", "apply", policy], { home, cli, env }));
  steps.push(await authy(["run", "--scope", "app", "--no-mask", "--", "sh", "-c", 'printf %s "$TOKEN"'], { home, cli, env }));
  for (const s of steps) expect(s.stderr).not.toMatch(/Error|at .*\.js/);
  return steps.map((s) => `${s.code} ${s.stdout}`);
}

describe("the code caches", () => {
  it("exist for every bundle, each starting with its bundle's build id", () => {
    for (const name of BUNDLES) {
      const id = /authy-build=([0-9a-f]{32})\s*$/.exec(readFileSync(path.join(BIN, `${name}.js`), "utf8"))?.[1];
      expect(id, name).toBeDefined();
      expect(
        readFileSync(path.join(BIN, `${name}.js.cache`))
          .subarray(0, 16)
          .toString("hex"),
        name,
      ).toBe(id);
    }
  });

  it("are shortcuts only: missing, from another build or garbage, the results are the same", async () => {
    const expected = await workout(path.join(BIN, "authy.js"), path.join(h.dir, "original"));
    expect(expected[2]).toBe("0 s3cr3t-value");
    expect(expected[4]).toBe("0 s3cr3t-value");
    const variants: Record<string, (name: string) => void> = {
      missing: (name) => rmSync(path.join(copy, `${name}.js.cache`), { force: true }),
      "another build": (name) =>
        writeFileSync(path.join(copy, `${name}.js.cache`), Buffer.concat([Buffer.alloc(16, 7), readFileSync(path.join(BIN, `${name}.js.cache`)).subarray(16)])),
      garbage: (name) => {
        const id = readFileSync(path.join(BIN, `${name}.js.cache`)).subarray(0, 16);
        writeFileSync(path.join(copy, `${name}.js.cache`), Buffer.concat([id, Buffer.alloc(200_000, 0xa5)]));
      },
    };
    for (const [variant, spoil] of Object.entries(variants)) {
      for (const name of BUNDLES) spoil(name);
      expect(await workout(path.join(copy, "authy.js"), path.join(h.dir, variant.replace(" ", "-"))), variant).toEqual(expected);
    }
  });

  it("are never written by a command (only by the build)", async () => {
    const before = readdirSync(BIN).map((f) => `${f} ${statSync(path.join(BIN, f)).mtimeMs}`);
    await workout(path.join(BIN, "authy.js"), path.join(h.dir, "again"));
    expect(readdirSync(BIN).map((f) => `${f} ${statSync(path.join(BIN, f)).mtimeMs}`)).toEqual(before);
    expect(existsSync(path.join(BIN, "cli.js.cache"))).toBe(true);
  });
});

describe("the split of the bundles (src/bin/bundles.json)", () => {
  const split = JSON.parse(readFileSync(path.join(ROOT, "src/bin/bundles.json"), "utf8")) as { engine: string[]; libs: string[] };
  /** What the build put in each bundle (scripts/bundle.mjs writes it from esbuild's metafile). */
  const inputs = JSON.parse(readFileSync(path.join(BIN, "bundles.json"), "utf8")) as Record<string, string[]>;
  /**
   * crypto/index.ts is in cli.js too: keys, export and the daemon session import it directly.
   * It stays an engine module so that what the CLI import()s for the vault (identities) comes
   * from the engine's copy, the one the vault's code checks them against.
   */
  const ALSO_IN_CLI = new Set(["src/crypto/index.ts"]);

  /** Whether a bundle holds a module's own code (not the stub that loads it from another bundle). */
  const holds = (bundle: string, module: string) => inputs[bundle]!.includes(module) || inputs[bundle]!.some((i) => i.startsWith(`node_modules/${module}/`));

  it("keeps every engine and libs module out of cli.js, which only loads them", () => {
    expect(inputs.cli!.length).toBeGreaterThan(50);
    for (const m of split.engine.filter((m) => !ALSO_IN_CLI.has(m))) {
      expect(holds("cli", m), m).toBe(false);
      expect(holds("engine", m), m).toBe(true);
      expect(inputs.cli).toContain(`authy-engine:${m}`);
    }
    for (const lib of [...split.libs, "better-sqlite3", "fastify"]) expect(holds("cli", lib), lib).toBe(false);
    for (const lib of split.libs) expect(holds("libs", lib), lib).toBe(true);
  });

  it("would see a planted engine module in cli.js", () => {
    inputs.cli!.push("src/vault/vault.ts");
    try {
      expect(holds("cli", "src/vault/vault.ts")).toBe(true);
    } finally {
      inputs.cli!.pop();
    }
  });
});
