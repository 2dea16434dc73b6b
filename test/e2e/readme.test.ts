/**
 * The README, executed: every ```sh block, in order, in one bash session, as a new user would
 * paste them, so that the README cannot drift from the CLI. It runs in a throwaway directory
 * (HOME, TMPDIR and the working directory all inside it) with the built CLI on PATH as
 * `authy`, and AUTHY_PASSPHRASE set wherever a block would prompt. Blocks that must not run
 * are fenced ```text.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { authy, baseEnv, CLI, PASSPHRASE, ROOT } from "./cli.js";
import { daemonPids } from "./daemon-helpers.js";

/**
 * The whole README: a dozen unlocks at the default work factor (18), daemons, and whatever
 * else the 2 shared cores run at the time (it took over 3 minutes alongside the whole suite).
 */
const README_TIMEOUT_MS = 600_000;

/** The ```sh blocks of a Markdown text, with the line each starts on. */
export function shellBlocks(markdown: string): { line: number; code: string }[] {
  const blocks: { line: number; code: string }[] = [];
  for (const m of markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    blocks.push({ line: markdown.slice(0, m.index).split("\n").length, code: m[1]! });
  }
  return blocks;
}

/** One bash script: each block announced on stderr (so a failure names it), stopping at the first failing command. */
function script(blocks: { line: number; code: string }[]): string {
  const parts = ["set -eo pipefail", "shopt -s expand_aliases"];
  for (const b of blocks) parts.push(`echo "### README.md block at line ${b.line}" >&2`, b.code);
  return parts.join("\n") + "\n";
}

/** Every vault home under `dir` (the README makes its own with mktemp). */
function homesUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 4) return;
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (name === "vault.db") found.push(d);
      else if (!name.startsWith(".") || name === ".authy") {
        try {
          if (statSync(p).isDirectory() && !p.includes("node_modules")) walk(p, depth + 1);
        } catch {
          // vanished or unreadable: not a home
        }
      }
    }
  };
  walk(dir, 0);
  return found;
}

describe("the README", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "authy-readme-"));
  afterAll(async () => {
    for (const home of homesUnder(dir)) {
      await authy(["lock"], { home }).catch(() => undefined);
      for (const pid of daemonPids(home)) process.kill(pid, "SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    "runs every ```sh block, in order, as written",
    async () => {
      const blocks = shellBlocks(readFileSync(path.join(ROOT, "README.md"), "utf8"));
      expect(blocks.length).toBeGreaterThan(3);
      const bin = path.join(dir, "bin");
      const work = path.join(dir, "work");
      const home = path.join(dir, "home");
      for (const d of [bin, work, home]) mkdirSync(d);
      writeFileSync(path.join(bin, "authy"), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
      // The quick start's alias points at $PWD/dist, as in a checkout.
      symlinkSync(path.join(ROOT, "dist"), path.join(work, "dist"));
      writeFileSync(path.join(dir, "readme.sh"), script(blocks));
      const env = { ...baseEnv(path.join(dir, "authy-home")), PATH: `${bin}:${process.env.PATH}`, HOME: home, TMPDIR: dir, AUTHY_PASSPHRASE: PASSPHRASE };
      const result = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
        const child = spawn("bash", [path.join(dir, "readme.sh")], { cwd: work, env, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (out += d.toString()));
        const timer = setTimeout(() => child.kill("SIGKILL"), README_TIMEOUT_MS - 10_000);
        child.on("error", reject);
        child.on("close", (code) => {
          clearTimeout(timer);
          resolve({ code, out });
        });
      });
      expect(result.code, `the README failed:\n${result.out.slice(-4000)}`).toBe(0);
      expect(result.out).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/); // never a stack trace
    },
    README_TIMEOUT_MS,
  );
});
