import { complete, namespacesOf } from "../completion/complete.js";
import { completionScript, type Shell } from "../completion/scripts.js";
import type { CliContext } from "../context.js";
import { authyExecutable } from "../executable.js";
import type { CommandUnknownOpts } from "@commander-js/extra-typings";

/** `authy completion bash|zsh|fish`: the script for that shell, calling this very executable. */
export async function script(_ctx: CliContext, shell: Shell): Promise<void> {
  const bin = authyExecutable() ?? "authy";
  process.stdout.write(completionScript(shell, bin));
}

/**
 * Secret paths for completion: only from a daemon that is running and serves this process
 * (the owner's terminal, a token). Never a prompt, never an unlock in this process (scrypt
 * would make every Tab take a second), and nothing at all on any error.
 */
async function daemonPaths(ctx: CliContext): Promise<string[]> {
  if (ctx.opts.daemon === false) return [];
  try {
    const { runningDaemon } = await import("../../daemon/paths.js");
    if (!runningDaemon(ctx.home)) return [];
    return await (await ctx.client()).listSecretPaths({ recursive: true });
  } catch {
    return [];
  }
}

/** `authy __complete -- WORDS…` (hidden): what the shell scripts call on each Tab. */
export async function completeWords(ctx: CliContext, words: string[], program: CommandUnknownOpts): Promise<void> {
  const c = complete(program, words);
  const current = words[words.length - 1] ?? "";
  let out = c.words;
  if (c.dynamic === "files") out = [":files"];
  else if (c.dynamic === "path" || c.dynamic === "namespace") {
    const paths = await daemonPaths(ctx);
    out = (c.dynamic === "path" ? paths : namespacesOf(paths)).filter((p) => p.startsWith(current));
  }
  if (out.length > 0) process.stdout.write(out.join("\n") + "\n");
}
