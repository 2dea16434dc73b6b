import type { Command } from "commander";
import { AuthyError } from "../errors.js";

/** A handler returns nothing (success) or the exit status it decided (`run`, `policy test`). */
type Handler = (ctx: import("./context.js").CliContext, ...args: unknown[]) => Promise<void | number>; // eslint-disable-line @typescript-eslint/no-invalid-void-type -- nothing, or a status

let commandStatus = 0;
/** The exit status the command that ran asked for; main.ts ends the process with it. */
export function commandExitStatus(): number {
  return commandStatus;
}

/**
 * Commands are declared here and their handlers imported only when they run, so that
 * `authy secrets get` does not pay for loading every other command.
 */
export function lazy(load: () => Promise<Record<string, unknown>>, name: string) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    await refuseLocalOnly(command);
    const { CliContext } = await import("./context.js");
    const ctx = new CliContext(command.optsWithGlobals());
    try {
      const mod = await load();
      const handler = mod[name] as Handler;
      // commander passes (...positionals, options, command); handlers take (ctx, ...positionals, options).
      const status = await handler(ctx, ...args.slice(0, -1));
      if (typeof status === "number") commandStatus = status;
    } finally {
      await ctx.close();
    }
  };
}

/**
 * Commands that work on the local vault's file, key slots or daemon, and mean nothing against a
 * team server (which unlocks at start and keeps its own backups): refused in one line, exit 2.
 */
const LOCAL_ONLY = new Set(["unlock", "lock", "passwd", "backup", "restore", "keys", "doctor", "init"]);

async function refuseLocalOnly(command: Command): Promise<void> {
  let top = command;
  while (top.parent?.parent) top = top.parent;
  const word = top.name();
  const opts = command.optsWithGlobals<{ apiUrl?: string; profile?: string; database?: string }>();
  if (!LOCAL_ONLY.has(word) || (word === "init" && opts.database !== undefined)) return;
  const { serverTarget } = await import("./profiles.js");
  const target = serverTarget(opts);
  if (!target) return;
  throw new AuthyError("INVALID_INPUT", `\`authy ${word}\` works on a local vault, not on the team server at ${target.url} (from ${target.via})`, {
    hint:
      target.via === "authy login"
        ? "run `authy logout` to work on the local vault again"
        : "drop --api-url/--profile (AUTHY_API_URL, AUTHY_PROFILE) to work locally",
  });
}
