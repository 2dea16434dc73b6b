import { AuthyError, isAuthyError } from "../../errors.js";

/** Another connection holds the lock we need: worth waiting and trying again. */
export function isBusy(e: unknown): boolean {
  const code = String((e as { code?: string } | null)?.code ?? "");
  return code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED");
}

/** Turns a better-sqlite3 failure into an AuthyError: never a raw SQLITE_BUSY on screen. */
export function translateSqliteError(e: unknown, doing: string): AuthyError {
  if (isAuthyError(e)) return e;
  const code = String((e as { code?: string }).code ?? "");
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new AuthyError("UNAVAILABLE", `the vault is busy (${doing})`, {
      hint: "another authy process is writing; try again",
      cause: e,
    });
  }
  if (code.startsWith("SQLITE_FULL")) {
    return new AuthyError("UNAVAILABLE", `the disk is full (${doing}); nothing was written`, { hint: "free some space and try again", cause: e });
  }
  if (code.startsWith("SQLITE_IOERR") || code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_READONLY") || code.startsWith("SQLITE_PERM")) {
    return new AuthyError("UNAVAILABLE", `storage error (${doing}): ${code.toLowerCase()}`, {
      hint: "check the disk and the permissions of AUTHY_HOME",
      cause: e,
    });
  }
  if (code.startsWith("SQLITE_CORRUPT") || code.startsWith("SQLITE_NOTADB") || code === "SQLITE_FORMAT") {
    return new AuthyError("INTEGRITY", `the vault file is corrupt or not a database (${doing})`, {
      hint: "restore the vault from a backup (authy restore FILE)",
      cause: e,
    });
  }
  // A file that carries authy's mark but lacks its tables is a damaged vault, not a bug in authy.
  if (code === "SQLITE_ERROR" && /^no such (table|column)\b/.test((e as Error | null)?.message ?? "")) {
    return new AuthyError("INTEGRITY", `the vault file is missing part of its structure (${doing})`, {
      hint: "restore the vault from a backup (authy restore FILE)",
      cause: e,
    });
  }
  if (code.startsWith("SQLITE_CONSTRAINT") || code.startsWith("SQLITE_MISMATCH")) {
    return new AuthyError("INTEGRITY", `the vault holds data authy did not write (${doing})`, { cause: e });
  }
  return new AuthyError("INTERNAL", `unexpected storage failure (${doing}): ${(e as Error | null)?.message ?? String(e)}`, { cause: e });
}
