import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const root = resolve(import.meta.dirname, "../..");

/** Path of the harness that runs runChild in a process of its own. */
export const HARNESS = join(import.meta.dirname, "testdata", "harness.mjs");

/**
 * Compiles src/run (and what it imports) to a temporary directory, for scripts that run
 * outside vitest: Node 20 cannot load TypeScript, and dist/ may not be built. Returns the
 * path of the compiled run/index.js, and how to remove the build.
 */
export async function compileRunModule(): Promise<{ modulePath: string; remove: () => void }> {
  // Inside the checkout, so that the compiled code finds node_modules (koffi) as the built CLI
  // does: from a temporary directory elsewhere, authy's native calls were missing, and the
  // harness ran the fallback paths (Node.js's spawn()) instead of posix_spawn() and our pipes.
  const cache = join(root, "node_modules", ".cache");
  mkdirSync(cache, { recursive: true });
  const outDir = mkdtempSync(join(cache, "authy-run-build-"));
  writeFileSync(join(outDir, "package.json"), '{ "type": "module" }\n');
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const flags = ["--outDir", outDir, "--rootDir", "src", "--module", "NodeNext", "--moduleResolution", "NodeNext"];
  flags.push("--target", "ES2022", "--lib", "ES2023", "--types", "node", "--skipLibCheck", "--noCheck");
  await promisify(execFile)(process.execPath, [tsc, ...flags, "src/run/index.ts"], { cwd: root });
  return { modulePath: join(outDir, "run", "index.js"), remove: () => rmSync(outDir, { recursive: true, force: true }) };
}
