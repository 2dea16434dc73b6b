import { AuthyError } from "../errors.js";

/** How much of an over-long file name an error shows: enough to recognise it, not 100 KiB of it. */
const SHOWN_NAME_CHARS = 200;

/** A file system error as the AuthyError a user reads: what went wrong with which file, never a stack. */
export function fileError(e: unknown, file: string): AuthyError {
  if (e instanceof AuthyError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return new AuthyError("NOT_FOUND", `no such file or directory: ${file}`);
    case "EACCES":
    case "EPERM":
      return new AuthyError("INVALID_INPUT", `permission denied: ${file}`);
    case "EISDIR":
      return new AuthyError("INVALID_INPUT", `${file} is a directory`);
    case "ELOOP":
      return new AuthyError("INVALID_INPUT", `refusing to follow a symbolic link: ${file}`);
    case "ENAMETOOLONG":
      return new AuthyError("INVALID_INPUT", `file name too long: ${file.length > SHOWN_NAME_CHARS ? `${file.slice(0, SHOWN_NAME_CHARS)}…` : file}`);
    case "ENOSPC":
    case "EDQUOT":
      return new AuthyError("UNAVAILABLE", `the disk is full writing ${file}; nothing was written`);
    case "EROFS":
    case "EIO":
      return new AuthyError("UNAVAILABLE", `cannot write ${file}: ${code}`);
    default:
      return new AuthyError("INTERNAL", `cannot access ${file}: ${(e as Error).message}`, { cause: e });
  }
}
