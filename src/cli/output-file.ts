import { lstatSync } from "node:fs";
import { AuthyError } from "../errors.js";

/**
 * An output file (`inject -o`, `env export --out`) is not overwritten unless asked: it may be
 * the only copy of something. Checked before any secret is read, so that a refusal costs
 * nothing and releases nothing.
 */
export function refuseExisting(file: string, force: boolean | undefined): void {
  if (force) return;
  // Synchronous: one system call, and node:fs/promises stays unloaded for `env export` (3 ms).
  let found: boolean;
  try {
    found = lstatSync(file, { throwIfNoEntry: false }) !== undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new AuthyError("INVALID_INPUT", `cannot write ${file}: ${e.code ?? e.message}`);
  }
  if (found) throw new AuthyError("ALREADY_EXISTS", `${file} already exists`, { hint: "pass --force to replace it" });
}
