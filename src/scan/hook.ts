/** `authy scan --install-hook`: a git pre-commit hook that runs `authy scan --staged`. */
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { AuthyError } from "../errors.js";
import { writeFileAtomic } from "../files/atomic-write.js";

/** The line that marks a hook as ours: only a hook holding it is ever replaced. */
const HOOK_MARKER = "# installed by `authy scan --install-hook`";

const HOOK_SCRIPT = `#!/bin/sh
${HOOK_MARKER}
# Refuses a commit whose staged content holds a value stored in authy (exit 1 lists where).
exec authy scan --staged
`;

/** Installs the hook in the repository around `cwd`; returns its path. */
export async function installHook(cwd: string): Promise<{ hook: string; replaced: boolean }> {
  let hooksDir: string;
  try {
    hooksDir = path.resolve(
      cwd,
      execFileSync("git", ["rev-parse", "--git-path", "hooks"], { cwd, stdio: ["ignore", "pipe", "ignore"] })
        .toString("utf8")
        .trim(),
    );
  } catch {
    throw new AuthyError("INVALID_INPUT", "--install-hook needs a git repository", { hint: "run it inside the repository" });
  }
  const hook = path.join(hooksDir, "pre-commit");
  let existing: string | null = null;
  try {
    existing = await fs.readFile(hook, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new AuthyError("INVALID_INPUT", `cannot read ${hook}`);
  }
  if (existing !== null && !existing.includes(HOOK_MARKER)) {
    throw new AuthyError("ALREADY_EXISTS", `${hook} exists and is not authy's; it was left as it is`, {
      hint: "add `authy scan --staged` to it yourself, or move it away and install again",
    });
  }
  await fs.mkdir(hooksDir, { recursive: true });
  await writeFileAtomic(hook, HOOK_SCRIPT, 0o755);
  return { hook, replaced: existing !== null };
}
