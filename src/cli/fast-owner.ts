/**
 * Whether a command on a path of its own (fast-secrets-get.ts, fast-run.ts) may go to the
 * daemon as the owner, without the CLI: the same checks as context.ts's connect, for the one
 * case they serve. Anything else is the CLI's, which chooses and explains as always.
 */
import { runningDaemon } from "../daemon/paths.js";
import { inDaemonTerminal } from "../daemon/terminal.js";
import { vaultHome } from "./home.js";
import { DEFAULT_PROFILE, readProfile } from "./profiles.js";

/** Any of these, even empty, sends the command elsewhere (or to an error the CLI names). */
const ELSEWHERE_ENV = ["AUTHY_TOKEN", "AUTHY_AGENT_KEY", "AUTHY_SESSION", "AUTHY_SOCKET", "AUTHY_API_URL", "AUTHY_PROFILE"];

/**
 * The socket of the daemon this process may use as the owner: no credential or server named
 * in the environment, no stored login, a daemon running for this home, and this process in
 * the terminal session that unlocked it. Null otherwise.
 */
export function ownersDaemon(): { socket: string } | null {
  if (ELSEWHERE_ENV.some((name) => process.env[name] !== undefined)) return null;
  try {
    if (readProfile(DEFAULT_PROFILE) !== null) return null;
    const daemon = runningDaemon(vaultHome(undefined));
    if (!daemon || !inDaemonTerminal(daemon.pid)) return null;
    return { socket: daemon.socket };
  } catch {
    return null; // an unreadable login, a home too long: the CLI says what is wrong
  }
}
