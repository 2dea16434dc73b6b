/**
 * What `authy scan` reads: the paths given (files, or folders walked without following links,
 * `.git` skipped), or by default the current repository's tracked and staged files, the shell
 * histories and the coding agents' transcript folders that exist on this machine. With
 * `--staged`, the staged content itself (what the commit will hold), read from git's index.
 */
import { execFileSync, spawn } from "node:child_process";
import { createReadStream, existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { AuthyError } from "../errors.js";
import { fileError } from "../files/file-error.js";

/** Read size: large enough that the per-chunk work is negligible, small enough to bound memory. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** Output of git listing commands (file names, not contents). */
const MAX_GIT_LIST_BYTES = 256 * 1024 * 1024;

export interface Target {
  /** As shown in findings: the path given, or relative to the repository. */
  name: string;
  /** A fresh stream of the content, each time it is called. */
  open(): Readable;
  /** The file on disk, when the content is one (what --redact rewrites). */
  file?: string;
}

const fileTarget = (name: string, file: string): Target => ({ name, file, open: () => createReadStream(file, { highWaterMark: READ_CHUNK_BYTES }) });

/** The transcript folders of coding agents and the shell histories, those that exist. */
export function defaultPersonalTargets(home = os.homedir()): string[] {
  const candidates = [
    ".claude/projects", // Claude Code
    ".codex/sessions", // Codex CLI
    ".gemini/tmp", // Gemini CLI
    ".continue/sessions", // Continue
    ".local/share/opencode", // opencode
    ".aider.chat.history.md",
    ".bash_history",
    ".zsh_history",
    ".histfile",
    ".local/share/fish/fish_history",
    ".python_history",
    ".node_repl_history",
    ".psql_history",
    ".mysql_history",
  ];
  return candidates.map((c) => path.join(home, c)).filter((p) => existsSync(p));
}

function git(args: string[], cwd: string): Buffer | null {
  try {
    return execFileSync("git", args, { cwd, maxBuffer: MAX_GIT_LIST_BYTES, stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return null;
  }
}

/** The repository's top folder, or null outside one (or without git). */
export function repoRoot(cwd = process.cwd()): string | null {
  const out = git(["rev-parse", "--show-toplevel"], cwd);
  return out ? out.toString("utf8").trim() : null;
}

/** Tracked and staged files of the repository (what `git ls-files` lists), as they are on disk. */
export function repoTargets(root: string): Target[] {
  const out = git(["ls-files", "-z", "--cached"], root) ?? Buffer.alloc(0);
  const names = [...new Set(out.toString("utf8").split("\0").filter(Boolean))];
  return names.map((n) => fileTarget(n, path.join(root, n))).filter((t) => existsSync(t.file!));
}

/** The staged content of every added, copied, modified or renamed file: what the commit will hold. */
export function stagedTargets(root: string): Target[] {
  const out = git(["diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR"], root);
  if (out === null) throw new AuthyError("INVALID_INPUT", "--staged needs a git repository", { hint: "run it inside one (as the pre-commit hook does)" });
  return out
    .toString("utf8")
    .split("\0")
    .filter(Boolean)
    .map((n) => ({ name: n, open: () => spawn("git", ["cat-file", "blob", `:${n}`], { cwd: root, stdio: ["ignore", "pipe", "ignore"] }).stdout }));
}

/** Files under each given path (folders walked, links not followed, `.git` skipped). */
export async function pathTargets(paths: readonly string[]): Promise<Target[]> {
  const out: Target[] = [];
  // A path given is followed if it is a link; links met inside a folder are not.
  const visit = async (p: string, shown: string, top = false): Promise<void> => {
    let st;
    try {
      st = top ? await fs.stat(p) : await fs.lstat(p);
    } catch (e) {
      throw fileError(e, p);
    }
    if (st.isFile()) out.push(fileTarget(shown, p));
    else if (st.isDirectory()) {
      let items;
      try {
        items = await fs.readdir(p, { withFileTypes: true });
      } catch (e) {
        throw fileError(e, p);
      }
      items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const item of items) {
        if (item.name === ".git") continue;
        if (item.isDirectory() || item.isFile()) await visit(path.join(p, item.name), path.join(shown, item.name));
      }
    }
  };
  for (const p of paths) await visit(p, p, true);
  return out;
}

/** Whether git tracks this file (redacting it rewrites the working copy, not the history). */
export function isTracked(file: string): boolean {
  return git(["ls-files", "--error-unmatch", "--", path.basename(file)], path.dirname(file)) !== null;
}
