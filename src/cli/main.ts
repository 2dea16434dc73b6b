/**
 * The authy command. This file is the only place that ends the process: handlers throw
 * AuthyErrors, and they become one line on stderr and an exit status from one table.
 */
import { AuthyError, isAuthyError } from "../errors.js";
import { protectProcess } from "../os/native.js";
import { EXIT_CODES } from "./exit-codes.js";
import { commandExitStatus } from "./action.js";
import { exitWhenIdle } from "./exit.js";
import { buildProgram, commandWord, CommanderExit } from "./program.js";

function report(e: AuthyError, json: boolean, verbose: boolean): void {
  if (json) {
    process.stderr.write(JSON.stringify({ error: { code: e.code, message: e.message, hint: e.hint ?? null } }) + "\n");
    return;
  }
  process.stderr.write(`authy: ${e.message}\n`);
  // Always, terminal or not: agents and CI read stderr too, and the hint is what to do next.
  if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
  if (verbose && e.code === "INTERNAL" && e.cause instanceof Error) process.stderr.write(`${e.cause.stack}\n`);
}

/** Credentials a process may be started with: it must become non-dumpable before anything else. */
const CREDENTIAL_ENV = ["AUTHY_PASSPHRASE", "AUTHY_TOKEN", "AUTHY_AGENT_KEY", "AUTHY_SESSION"] as const;

async function main(argv: string[]): Promise<number> {
  // A reader that goes away (`authy secrets list | head -1`) is not an error.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
  });
  const json = argv.includes("--json");
  const verbose = argv.includes("--verbose");
  try {
    if (CREDENTIAL_ENV.some((k) => process.env[k])) protectProcess();
    const program = buildProgram(commandWord(argv.slice(2)));
    await program.parseAsync(argv);
    return commandExitStatus();
  } catch (e) {
    if (e instanceof CommanderExit) return e.exitCode;
    const err = isAuthyError(e)
      ? e
      : new AuthyError("INTERNAL", `unexpected error: ${(e as Error | null)?.message ?? String(e)}`, {
          cause: e,
          hint: "run again with --verbose and report this",
        });
    report(err, json, verbose);
    return EXIT_CODES[err.code];
  }
}

function onInterrupt(): void {
  // While `authy run` forwards signals to its child, the child decides; authy follows it.
  if (process.listenerCount("SIGINT") > 1) return;
  process.stderr.write("\nauthy: interrupted\n");
  process.exit(EXIT_CODES.INTERRUPTED);
}
process.on("SIGINT", onInterrupt);

main(process.argv).then(
  (code) => {
    process.exitCode = code;
    exitWhenIdle();
  },
  () => process.exit(1),
);
