/**
 * What every command does before its own work, whichever path runs it (main.ts, and the
 * command lines that need no commander: plain-line.ts, fast-run.ts).
 */
import { protectProcess } from "../os/native.js";
import { exitOnClosedStdout, exitOnInterrupt } from "./exit.js";

/** Credentials a process may be started with: it must become non-dumpable before anything else. */
const CREDENTIAL_ENV = ["AUTHY_PASSPHRASE", "AUTHY_TOKEN", "AUTHY_AGENT_KEY", "AUTHY_SESSION"] as const;

/** Ctrl-C and a reader that goes away end the command quietly; a credential in the environment is protected at once. Throws if it cannot be. */
export function startCommand(): void {
  process.on("SIGINT", exitOnInterrupt);
  exitOnClosedStdout();
  if (CREDENTIAL_ENV.some((k) => process.env[k])) protectProcess();
}
