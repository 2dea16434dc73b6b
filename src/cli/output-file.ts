import { lstat } from "node:fs/promises";
import { AuthyError } from "../errors.js";

/**
 * An output file (`inject -o`, `env export --out`) is not overwritten unless asked: it may be
 * the only copy of something. Checked before any secret is read, so that a refusal costs
 * nothing and releases nothing.
 */
export async function refuseExisting(file: string, force: boolean | undefined): Promise<void> {
  if (force) return;
  const found = await lstat(file).then(
    () => true,
    (err: unknown) => {
      const e = err as NodeJS.ErrnoException;
      if (e.code === "ENOENT") return false;
      throw new AuthyError("INVALID_INPUT", `cannot write ${file}: ${e.code ?? e.message}`);
    },
  );
  if (found) throw new AuthyError("ALREADY_EXISTS", `${file} already exists`, { hint: "pass --force to replace it" });
}
