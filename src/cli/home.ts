import { statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AuthyError } from "../errors.js";

/** PATH_MAX on Linux: no file in a longer home can be opened, and errors would repeat all of it. */
const MAX_HOME_PATH_BYTES = 4096;

/**
 * The vault home: --home, else AUTHY_HOME, else ~/.authy, made absolute. A home that does not
 * exist yet is fine (`authy init` makes it); one that names a file, or lies under one, can
 * never hold a vault and is refused here, for every command, rather than reported as "no vault".
 */
export function vaultHome(flag: string | undefined): string {
  const home = path.resolve(flag ?? process.env.AUTHY_HOME ?? path.join(os.homedir(), ".authy"));
  if (Buffer.byteLength(home) > MAX_HOME_PATH_BYTES) {
    throw new AuthyError("INVALID_INPUT", `the vault home is longer than ${MAX_HOME_PATH_BYTES} bytes: ${home.slice(0, 80)}…`, {
      hint: "set AUTHY_HOME (or --home) to a shorter path",
    });
  }
  const problem = notADirectory(home);
  if (problem !== null) {
    throw new AuthyError("INVALID_INPUT", `the vault home ${home} is not a directory${problem}`, {
      hint: "set AUTHY_HOME (or --home) to a directory, or to a path that does not exist yet",
    });
  }
  return home;
}

/**
 * Null when `home` is a directory or does not exist; otherwise what to add to "is not a
 * directory" (nothing when it is a file itself). One system call.
 */
function notADirectory(home: string): string | null {
  try {
    const st = statSync(home, { throwIfNoEntry: false });
    return st === undefined || st.isDirectory() ? null : "";
  } catch (err) {
    // ENOTDIR: a parent of it is a file. Anything else (EACCES…) is reported where the home is used.
    return (err as NodeJS.ErrnoException).code === "ENOTDIR" ? ": a parent of it is a file" : null;
  }
}
