import { AuthyError, isAuthyError } from "../../errors.js";

/**
 * SQLSTATE classes and codes (https://www.postgresql.org/docs/current/errcodes-appendix.html)
 * that mean "another writer holds what we need; try again".
 */
const BUSY_CODES = new Set(["55P03", "40001", "40P01", "57014"]);

/** Node's socket errors and PostgreSQL's "the server went away" codes: the database is unreachable. */
function isUnreachable(code: string): boolean {
  return (
    ["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH"].includes(code) ||
    code.startsWith("08") || // connection exception
    code.startsWith("57P") // admin shutdown, crash shutdown, cannot connect now
  );
}

/** pg's own errors without a code: a connection that ended or a pool that was closed. */
const UNREACHABLE_MESSAGE =
  /connection terminated|Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Cannot use a pool after calling end/;

/**
 * Turns a pg failure into an AuthyError: never a raw driver message with a stack on screen,
 * and never the connection string (which may hold a password).
 */
export function translatePostgresError(e: unknown, doing: string): AuthyError {
  if (isAuthyError(e)) return e;
  const raw = (e as { code?: unknown } | null)?.code;
  const code = typeof raw === "string" ? raw : "";
  const message = (e as Error | null)?.message ?? String(e);
  if (BUSY_CODES.has(code)) {
    return new AuthyError("UNAVAILABLE", `the vault is busy (${doing})`, { hint: "another authy process is writing; try again", cause: e });
  }
  if (isUnreachable(code) || (code === "" && UNREACHABLE_MESSAGE.test(message))) {
    return new AuthyError("UNAVAILABLE", `the database is unavailable (${doing})`, {
      hint: "check that PostgreSQL is running and reachable, then try again",
      cause: e,
    });
  }
  if (code.startsWith("28")) {
    return new AuthyError("UNAVAILABLE", `the database refused the login (${doing})`, { hint: "check the user and password in the database URL", cause: e });
  }
  if (code === "3D000") {
    return new AuthyError("UNAVAILABLE", `the database does not exist (${doing})`, { hint: "create it (createdb NAME) or fix the database URL", cause: e });
  }
  if (code === "53100" || code === "53200") {
    return new AuthyError("UNAVAILABLE", `the database is out of disk or memory (${doing}); nothing was written`, {
      hint: "free some space and try again",
      cause: e,
    });
  }
  if (code === "42P01" || code === "42703") {
    return new AuthyError("INTEGRITY", `the database is missing part of the vault's structure (${doing})`, {
      hint: "restore the database from a backup",
      cause: e,
    });
  }
  if (code.startsWith("23")) {
    return new AuthyError("INTEGRITY", `the vault holds data authy did not write (${doing})`, { cause: e });
  }
  return new AuthyError("INTERNAL", `unexpected storage failure (${doing}): ${code ? `${code} ` : ""}${message}`, { cause: e });
}
