import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { AuthyError } from "../errors.js";
import type { CliContext } from "./context.js";

/**
 * A command's handler: given the context, then what commander parsed (positionals, then the
 * options), it returns nothing (success) or the exit status it decided (`run`, `policy test`).
 */
type Handler<Args extends unknown[]> = (ctx: CliContext, ...args: Args) => Promise<void | number>; // eslint-disable-line @typescript-eslint/no-invalid-void-type -- nothing, or a status

let commandStatus = 0;
/** The exit status the command that ran asked for; main.ts ends the process with it. */
export function commandExitStatus(): number {
  return commandStatus;
}

/**
 * Commands that work on the local vault's file, key slots or daemon, and mean nothing against a
 * team server (which unlocks at start and keeps its own backups): refused in one line, exit 2.
 */
const LOCAL_ONLY = new Set(["unlock", "lock", "passwd", "backup", "restore", "keys", "doctor", "init"]);

async function refuseLocalOnly(command: CommandUnknownOpts): Promise<void> {
  let top = command;
  while (top.parent?.parent) top = top.parent;
  const word = top.name();
  const opts = command.optsWithGlobals() as { apiUrl?: string; profile?: string; database?: string };
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

/**
 * The action of a command whose handler is imported only when it runs, so that `authy secrets
 * get` does not pay for loading every other command (and the start-up bundles stay split:
 * scripts/bundle.mjs). `load` is the typed import() of the handler's module, `pick` takes the
 * handler from it: the compiler checks the handler's parameters against the declared
 * arguments and flags (@commander-js/extra-typings).
 */
export function lazy<Module, Args extends unknown[]>(load: () => Promise<Module>, pick: (module: Module) => Handler<Args>) {
  // commander passes (...positionals, options, command); handlers take (ctx, ...positionals, options).
  return async (...args: [...Args, ...unknown[]]): Promise<void> => {
    const command = args[args.length - 1] as CommandUnknownOpts;
    await refuseLocalOnly(command);
    const { CliContext } = await import("./context.js");
    const ctx = new CliContext(command.optsWithGlobals());
    try {
      const handler = pick(await load());
      const status = await handler(ctx, ...(args.slice(0, -1) as Args));
      if (typeof status === "number") commandStatus = status;
    } finally {
      await ctx.close();
    }
  };
}
