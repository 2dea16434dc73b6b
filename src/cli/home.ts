import os from "node:os";
import path from "node:path";
import { AuthyError } from "../errors.js";

/** PATH_MAX on Linux: no file in a longer home can be opened, and errors would repeat all of it. */
const MAX_HOME_PATH_BYTES = 4096;

/** The vault home: --home, else AUTHY_HOME, else ~/.authy, made absolute. */
export function vaultHome(flag: string | undefined): string {
  const home = path.resolve(flag ?? process.env.AUTHY_HOME ?? path.join(os.homedir(), ".authy"));
  if (Buffer.byteLength(home) > MAX_HOME_PATH_BYTES) {
    throw new AuthyError("INVALID_INPUT", `the vault home is longer than ${MAX_HOME_PATH_BYTES} bytes: ${home.slice(0, 80)}…`, {
      hint: "set AUTHY_HOME (or --home) to a shorter path",
    });
  }
  return home;
}
