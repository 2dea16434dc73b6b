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

/** Until a team server exists, a URL to one can only be a mistake: say so rather than ignore it. */
function refuseApiUrl(opts: { apiUrl?: string }): void {
  const given = opts.apiUrl !== undefined ? "--api-url" : process.env.AUTHY_API_URL ? "AUTHY_API_URL" : null;
  if (given) {
    throw new AuthyError("INVALID_INPUT", `${given} is not supported yet: there is no authy team server to talk to`, {
      hint: `authy works on the vault in --home (AUTHY_HOME), directly or through its daemon; ${given === "--api-url" ? "drop --api-url" : "unset AUTHY_API_URL"}`,
    });
  }
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
    refuseApiUrl(command.optsWithGlobals());
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
