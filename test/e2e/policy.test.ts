import { writeFileSync, lstatSync, existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authy, initVault, tempHome, withPass } from "./cli.js";

const POLICY = `scopes:
  deploy:
    description: CI deploys to production
    allow:
      - { path: "production/*", capabilities: [read, list] }
      - { path: "staging/**",  capabilities: [read, list, write] }
    deny:
      - { path: "production/ROOT_*" }
`;

let t: ReturnType<typeof tempHome>;
const run = (args: string[], input?: string) => authy(args, { home: t.home, input, env: withPass });

beforeAll(async () => {
  t = tempHome();
  await initVault(t.home);
  for (const p of ["production/DB", "production/ROOT_PW", "production/sub/DEEP", "staging/a/X", "productionX/Y"]) await run(["secrets", "set", p], `v-${p}`);
  const file = path.join(t.dir, "policy.yaml");
  writeFileSync(file, POLICY);
  const r = await run(["policy", "apply", file]);
  if (r.code !== 0) throw new Error(r.stderr);
});
afterAll(() => t.cleanup());

describe("policy", () => {
  it.each([
    ["production/DB", "read", 0, /allow rule #1/],
    ["production/ROOT_PW", "read", 4, /deny rule #1/],
    ["production/ROOT_PW", "list", 4, /deny/],
    ["production/sub/DEEP", "read", 4, /default deny/],
    ["productionX/Y", "read", 4, /default deny/],
    ["staging/a/X", "write", 0, /allow rule #2/],
    ["production/DB", "write", 4, /default deny/],
  ])("test %s %s exits %i", async (p, cap, code, why) => {
    const r = await run(["policy", "test", "deploy", p, cap]);
    expect(r.code).toBe(code);
    expect(r.stdout).toMatch(why);
  });

  it("accepts the compact form wherever a scope is given", async () => {
    expect((await run(["policy", "test", "secrets:read:staging/**", "staging/a/X", "read"])).code).toBe(0);
    expect((await run(["policy", "test", "secrets:read:staging/*", "staging/a/X", "read"])).code).toBe(4);
  });

  it("shows the stored policy as YAML and JSON", async () => {
    expect((await run(["policy", "show"])).stdout).toContain("production/ROOT_*");
    expect(Object.keys(JSON.parse((await run(["policy", "show", "--json"])).stdout).scopes)).toEqual(["deploy"]);
  });

  it("reports every error in a policy file with its line number and stores nothing", async () => {
    const r = await run(
      ["policy", "apply", "-"],
      'scopes:\n  bad:\n    allow:\n      - { path: "a/*", capabilities: [raed] }\n      - { path: "a/[x]", capabilities: [read] }\n',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/stdin:4/);
    expect(r.stderr).toMatch(/stdin:5/);
    expect(Object.keys(JSON.parse((await run(["policy", "show", "--json"])).stdout).scopes)).toEqual(["deploy"]);
  });

  it("an unknown scope name is not found", async () => {
    expect((await run(["policy", "test", "nope", "a/B", "read"])).code).toBe(3);
  });
});

describe("inject", () => {
  it("fills references and writes a 0600 file", async () => {
    const tpl = path.join(t.dir, "app.tpl");
    writeFileSync(tpl, "db: {{ authy://production/DB }}\nx: {{authy://staging/a/X}}\nleft: {{ .Values.x }}\n");
    const out = path.join(t.dir, "app.conf");
    const r = await run(["inject", "-i", tpl, "-o", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(out).mode & 0o777).toBe(0o600);
    const cat = await run(["inject", "-i", tpl]);
    expect(cat.stdout).toBe("db: v-production/DB\nx: v-staging/a/X\nleft: {{ .Values.x }}\n");
  });

  it("names every unknown reference and writes nothing", async () => {
    const out = path.join(t.dir, "never.conf");
    const r = await run(["inject", "-i", "-", "-o", out], "{{ authy://nope/A }} {{ authy://nope/B }}");
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("nope/A");
    expect(r.stderr).toContain("nope/B");
    expect(existsSync(out)).toBe(false);
  });

  it("holds a scope to its rules", async () => {
    const r = await run(["inject", "-i", "-", "--scope", "deploy"], "{{ authy://production/ROOT_PW }}");
    expect(r.code).toBe(4);
    expect(r.stdout).toBe("");
  });
});
