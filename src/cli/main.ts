/**
 * The authy command. Handlers throw AuthyErrors, and here they become one line on stderr and
 * an exit status from one table (report.ts); exit.ts ends the process.
 */
import { protectProcess } from "../os/native.js";
import { commandExitStatus } from "./action.js";
import { exitOnClosedStdout, exitOnInterrupt, exitWhenIdle } from "./exit.js";
import { reportError } from "./report.js";
import { buildProgram, commandWord, CommanderExit } from "./program.js";

/** Credentials a process may be started with: it must become non-dumpable before anything else. */
const CREDENTIAL_ENV = ["AUTHY_PASSPHRASE", "AUTHY_TOKEN", "AUTHY_AGENT_KEY", "AUTHY_SESSION"] as const;

async function main(argv: string[]): Promise<number> {
  exitOnClosedStdout();
  const json = argv.includes("--json");
  const verbose = argv.includes("--verbose");
  try {
    if (CREDENTIAL_ENV.some((k) => process.env[k])) protectProcess();
    const program = buildProgram(commandWord(argv.slice(2)));
    await program.parseAsync(argv);
    return commandExitStatus();
  } catch (e) {
    if (e instanceof CommanderExit) return e.exitCode;
    return reportError(e, json, verbose);
  }
}

process.on("SIGINT", exitOnInterrupt);

main(process.argv).then(
  (code) => {
    process.exitCode = code;
    exitWhenIdle();
  },
  () => process.exit(1),
);
