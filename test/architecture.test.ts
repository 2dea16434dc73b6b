/**
 * The architecture (DESIGN.md section 6) is checked, not remembered: the import rules of
 * eslint.config.js fail lint on a planted violation of each, the same rules hold for import()
 * and require() (which lint does not see), and no module of src/ imports itself round a cycle.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ESLint } from "eslint";
import tseslint from "typescript-eslint";
import ts from "typescript";
import { describe, expect, it } from "vitest";
// @ts-expect-error eslint.config.js is plain JavaScript, without declarations (its rules are typed as Rule below)
import { ARCHITECTURE } from "../eslint.config.js";

const ROOT = path.resolve(import.meta.dirname, "..");

interface Rule {
  why: string;
  inside?: string[];
  outside?: string[];
  paths?: string[];
  regex?: string;
}
const RULES = ARCHITECTURE as Rule[];

/** Every shipped source file of src/ (tests, test helpers and the conformance suite excluded), relative to the root. */
function sourceFiles(dir = "src"): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) {
      if (e.name !== "testdata" && e.name !== "conformance") out.push(...sourceFiles(rel));
    } else if (e.name.endsWith(".ts") && !/\.test(-helpers)?\.ts$/.test(e.name) && !e.name.endsWith(".d.ts")) {
      out.push(rel);
    }
  }
  return out;
}

/** What a file imports: static, type-only, re-exports, import() and require(), as written. */
function specifiers(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** The module a relative specifier names, as a path from the root (`.js` written for `.ts`). */
function resolve(from: string, spec: string): string {
  return path.posix.normalize(path.posix.join(path.posix.dirname(from), spec.replace(/\.js$/, ".ts")));
}

/** Each cycle of the graph (a strongly connected component of more than one module), sorted. */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

function graphOf(files: Record<string, string>): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [file, text] of Object.entries(files)) {
    graph.set(
      file,
      specifiers(text)
        .filter((s) => s.startsWith("."))
        .map((s) => resolve(file, s)),
    );
  }
  return graph;
}

/** The rules that hold in `file`, and which of them `spec` breaks. */
function broken(file: string, spec: string): string[] {
  const within = (dir: string) => file.startsWith(`${dir}/`);
  return RULES.filter((r) => (r.inside ? r.inside.some(within) : !r.outside!.some(within)))
    .filter((r) => r.paths?.includes(spec) || (r.regex !== undefined && new RegExp(r.regex).test(spec)))
    .map((r) => r.why);
}

const planted: [file: string, source: string, why: string][] = [
  ["src/cli/planted.ts", 'import { randomBytes } from "node:crypto";\nexport const x = randomBytes;\n', "only src/crypto imports node:crypto"],
  ["src/vault/planted.ts", 'import { Decrypter } from "age-encryption";\nexport const x = Decrypter;\n', "only src/crypto imports node:crypto"],
  ["src/vault/planted.ts", 'import Database from "better-sqlite3";\nexport const x = Database;\n', "only src/store/sqlite imports better-sqlite3"],
  ["src/store/sqlite/planted.ts", 'import pg from "pg";\nexport const x = pg;\n', "only src/store/postgres imports pg"],
  ["src/run/planted.ts", 'import { validatePath } from "../vault/path.js";\nexport const x = validatePath;\n', "src/run knows nothing of the vault"],
  ["src/run/planted.ts", 'import type { Store } from "../store/store.js";\nexport type X = Store;\n', "src/run knows nothing of the vault"],
  ["src/run/planted.ts", 'export { buildApi } from "../api/index.js";\n', "src/run knows nothing of the vault"],
  ["src/vault/planted.ts", 'import { KNOWN_COMMANDS } from "../cli/program.js";\nexport const x = KNOWN_COMMANDS;\n', "the core knows nothing of"],
  ["src/vault/policy/planted.ts", 'import { daemonSocket } from "../../daemon/paths.js";\nexport const x = daemonSocket;\n', "the core knows nothing of"],
  [
    "src/api/routes/planted.ts",
    'import { daemonSocket } from "../../daemon/paths.js";\nexport const x = daemonSocket;\n',
    "the API knows nothing of the CLI or the daemon",
  ],
  [
    "src/api/planted.ts",
    'import type { CliContext } from "../cli/context.js";\nexport type X = CliContext;\n',
    "the API knows nothing of the CLI or the daemon",
  ],
];

describe("the import rules", () => {
  // Planted files are outside the TypeScript program, so they are linted untyped: the import
  // rules need no types.
  const eslint = new ESLint({ cwd: ROOT, overrideConfig: [{ files: ["**/planted.ts"], ...tseslint.configs.disableTypeChecked }] });

  it.each(planted)("lint fails on a planted violation in %s", async (file, source, why) => {
    const [result] = await eslint.lintText(source, { filePath: path.join(ROOT, file) });
    const refusals = result!.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
    expect(refusals.join("\n")).toContain(why);
  });

  it("let the allowed imports through", async () => {
    const allowed: [string, string][] = [
      ["src/crypto/planted.ts", 'import { randomBytes } from "node:crypto";\nexport const x = randomBytes;\n'],
      ["src/store/sqlite/planted.ts", 'import Database from "better-sqlite3";\nexport const x = Database;\n'],
      ["src/cli/planted.ts", 'import { validatePath } from "../vault/path.js";\nexport const x = validatePath;\n'],
      ["src/run/planted.ts", 'import { AuthyError } from "../errors.js";\nexport const x = AuthyError;\n'],
    ];
    for (const [file, source] of allowed) {
      const [result] = await eslint.lintText(source, { filePath: path.join(ROOT, file) });
      expect(result!.messages, file).toEqual([]);
    }
  });

  it("hold for import() and require() too, which lint does not see", () => {
    const breaches: string[] = [];
    for (const file of sourceFiles()) {
      for (const spec of specifiers(readFileSync(path.join(ROOT, file), "utf8"))) {
        for (const why of broken(file, spec)) breaches.push(`${file} imports ${spec}: ${why}`);
      }
    }
    expect(breaches).toEqual([]);
    // The same check, on planted import() calls.
    expect(broken("src/run/planted.ts", "../vault/vault.js")).toHaveLength(1);
    expect(specifiers('const v = () => import("../vault/vault.js");')).toEqual(["../vault/vault.js"]);
    expect(broken("src/vault/planted.ts", "node:crypto")).toHaveLength(1);
  });
});

describe("the import graph of src/", () => {
  it("has no cycle, dynamic and type-only imports included", () => {
    const files = Object.fromEntries(sourceFiles().map((f) => [f, readFileSync(path.join(ROOT, f), "utf8")]));
    expect(Object.keys(files).length).toBeGreaterThan(100);
    expect(cycles(graphOf(files))).toEqual([]);
  });

  it("finds a planted cycle, through a type-only import and an import()", () => {
    const graph = graphOf({
      "src/a/one.ts": 'import type { Two } from "./two.js";\nexport type One = Two;\n',
      "src/a/two.ts": 'export const three = () => import("../b/three.js");\n',
      "src/b/three.ts": 'import { x } from "../a/one.js";\n',
      "src/b/leaf.ts": 'import { x } from "../a/one.js";\n',
    });
    expect(cycles(graph)).toEqual([["src/a/one.ts", "src/a/two.ts", "src/b/three.ts"]]);
  });
});
