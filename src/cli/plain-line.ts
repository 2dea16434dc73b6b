/**
 * Two command lines that scripts and CI jobs run in direct mode, where the process unlocks the
 * vault itself (AUTHY_IDENTITY, a passphrase), without commander and the program's
 * declarations:
 *
 *   authy run --scope S [--no-tty] -- CMD…      (as fast-run.ts reads it)
 *   authy env export NAMESPACE
 *
 * Each goes to its command's own handler (commands/run.ts, commands/env.ts), with the options
 * commander gives it for that line (test/e2e/plain-line.test.ts compares the two), and ends as
 * main.ts ends a command. So the work is the CLI's; what is saved is cli.js, commander and the
 * declarations: 11 ms of `run -- true` with one secret, 28 with 1,000, measured side by side
 * (the larger heap of cli.js costs 1,000 decryptions more collection). DESIGN.md gives `env
 * export` and `run -- true` of 1,000 secrets 2.6x of `node -e 0` in direct mode (bench:
 * export-1k, run-1k). Any other line runs the CLI.
 */
import { exportEnv } from "./commands/env.js";
import { run } from "./commands/run.js";
import { CliContext } from "./context.js";
import { plainRunLine } from "./run-line.js";
import { endCommand } from "./report.js";
import { startCommand } from "./start.js";

/** What commander gives every command for no global option. */
const GLOBALS = { color: true, daemon: true } as const;
/** What commander gives an approvalWait() command (options.ts) for none of its options. */
const APPROVAL_DEFAULTS = { wait: "5m" } as const;

type Call = (ctx: CliContext) => Promise<number | void>; // eslint-disable-line @typescript-eslint/no-invalid-void-type -- a handler's own result

/** The handler call for a plain line (the arguments after `authy`), or null for the CLI's. */
export function plainCall(args: readonly string[]): { flags: Record<string, unknown>; call: Call } | null {
  const line = plainRunLine(args);
  if (line) {
    const flags = { ...APPROVAL_DEFAULTS, mask: true, tty: line.tty, network: true, scope: line.scope };
    return { flags, call: (ctx) => run(ctx, line.command, flags) };
  }
  if (args.length === 3 && args[0] === "env" && args[1] === "export" && args[2] !== "" && !args[2]!.startsWith("-")) {
    const flags = { ...APPROVAL_DEFAULTS, format: "dotenv" as const };
    return { flags, call: (ctx) => exportEnv(ctx, args[2]!, flags) };
  }
  return null;
}

export function runPlain(args: readonly string[], runCli: () => void): void {
  const plain = plainCall(args);
  if (!plain) {
    runCli();
    return;
  }
  const command = async (): Promise<number> => {
    startCommand();
    const ctx = new CliContext({ ...plain.flags, ...GLOBALS });
    try {
      const status = await plain.call(ctx);
      return typeof status === "number" ? status : 0;
    } finally {
      await ctx.close();
    }
  };
  endCommand(command());
}
