/**
 * How a command that failed says so: one line on stderr (a second, `hint: …`, when there is
 * one), or the JSON error object with --json, and the exit status from one table. Any error
 * that is not an AuthyError is a bug, reported as INTERNAL.
 */
import { AuthyError, isAuthyError } from "../errors.js";
import { EXIT_CODES } from "./exit-codes.js";
import { exitWhenIdle } from "./exit.js";

/** Reports `e` and returns the exit status it calls for. */
export function reportError(e: unknown, json: boolean, verbose: boolean): number {
  const err = isAuthyError(e)
    ? e
    : new AuthyError("INTERNAL", `unexpected error: ${(e as Error | null)?.message ?? String(e)}`, {
        cause: e,
        hint: "run again with --verbose and report this",
      });
  if (json) {
    process.stderr.write(JSON.stringify({ error: { code: err.code, message: err.message, hint: err.hint ?? null } }) + "\n");
  } else {
    process.stderr.write(`authy: ${err.message}\n`);
    // Always, terminal or not: agents and CI read stderr too, and the hint is what to do next.
    if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    if (verbose && err.code === "INTERNAL" && err.cause instanceof Error) process.stderr.write(`${err.cause.stack}\n`);
  }
  return EXIT_CODES[err.code];
}

/** Ends a command run without main.ts (fast-run.ts, plain-line.ts) as main.ts ends one: with its status, or its error reported. */
export function endCommand(status: Promise<number>): void {
  status.then(
    (code) => {
      process.exitCode = code;
      exitWhenIdle();
    },
    (e: unknown) => {
      process.exitCode = reportError(e, false, false);
      exitWhenIdle();
    },
  );
}
