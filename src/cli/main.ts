/**
 * The authy command. Handlers throw AuthyErrors, and here they become one line on stderr and
 * an exit status from one table (report.ts); exit.ts ends the process.
 */
import { commandExitStatus } from "./action.js";
import { exitWhenIdle } from "./exit.js";
import { reportError } from "./report.js";
import { buildProgram, commandWord, CommanderExit } from "./program.js";
import { startCommand } from "./start.js";

async function main(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  const verbose = argv.includes("--verbose");
  try {
    startCommand();
    const program = buildProgram(commandWord(argv.slice(2)), json);
    await program.parseAsync(argv);
    return commandExitStatus();
  } catch (e) {
    if (e instanceof CommanderExit) return e.exitCode;
    return reportError(e, json, verbose);
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
    exitWhenIdle();
  },
  () => process.exit(1),
);
