/**
 * Mount files: secrets written to a file (a dotenv file, serialized by the caller) for a child
 * that reads its configuration from disk, and removed when the child exits. If authy itself
 * is killed, the run's watchdog removes them (see watchdog.ts).
 */
import { constants, closeSync, lstatSync, openSync, unlinkSync, writeSync } from "node:fs";
import { AuthyError } from "../errors.js";

/** Owner read and write only. */
export const MOUNT_FILE_MODE = 0o600;

/**
 * Creates `path` with `content`, mode 0600. Refuses an existing file and a symbolic link
 * planted at `path` (O_CREAT|O_EXCL|O_NOFOLLOW: never follows, never truncates), so a
 * secret cannot be redirected into a file someone else chose.
 */
export function writeMountFile(path: string, content: string | Uint8Array): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, MOUNT_FILE_MODE);
  } catch (e) {
    throw openError(path, e);
  }
  try {
    const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
    for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
  } catch (e) {
    closeSync(fd);
    try {
      removeMountFile(path);
    } catch {
      // the write error below is the one to report
    }
    throw new AuthyError("UNAVAILABLE", `could not write the mount file ${path}`, { cause: e });
  }
  closeSync(fd);
}

/** Removes a mount file; a file already gone is fine. Never follows a symbolic link. */
export function removeMountFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

function openError(path: string, e: unknown): AuthyError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "EEXIST" || code === "ELOOP") {
    const link = isSymlink(path);
    return new AuthyError("ALREADY_EXISTS", `refusing to write the mount file: ${path} already exists${link ? " and is a symbolic link" : ""}`, {
      hint: "remove it or choose another path; authy never overwrites a file with secrets",
      details: { path, symlink: link },
    });
  }
  if (code === "ENOENT" || code === "ENOTDIR") {
    return new AuthyError("INVALID_INPUT", `cannot create the mount file ${path}: its directory does not exist`, { details: { path } });
  }
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
    return new AuthyError("INVALID_INPUT", `cannot create the mount file ${path}: permission denied`, { details: { path } });
  }
  return new AuthyError("UNAVAILABLE", `could not create the mount file ${path}`, { cause: e, details: { path } });
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
