import { constants, promises as fs } from "node:fs";
import path from "node:path";
import { AuthyError } from "../errors.js";
import { fileError } from "./file-error.js";

/**
 * Files authy writes outside SQLite (exports, backups, config): written to a temporary file
 * in the same directory, fsynced, then renamed over the destination, mode 0600. A symlink
 * planted at the destination is refused, never followed (rename replaces a link rather than
 * writing through it, and we refuse before that so the user learns of it).
 */
export async function writeFileAtomic(dest: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
  const file = await openFileAtomic(dest, mode);
  await file.write(data);
  await file.commit();
}

/** A file being written piece by piece with writeFileAtomic's guarantees: nothing at `dest` until commit(). */
export interface AtomicFile {
  write(data: Uint8Array | string): Promise<void>;
  /** fsync, rename over the destination, fsync the directory. */
  commit(): Promise<void>;
  /** Removes the temporary file; `dest` is left as it was. */
  abort(): Promise<void>;
}

/** writeFileAtomic for output too large to hold at once (`audit export` of a million entries). */
export async function openFileAtomic(dest: string, mode = 0o600): Promise<AtomicFile> {
  await refuseSymlink(dest);
  const dir = path.dirname(path.resolve(dest));
  // Loaded here, not at the top: reading a file (readFileChecked) must not load node:crypto.
  const { randomBytes } = await import("../crypto/random.js");
  const tmp = path.join(dir, `.${path.basename(dest)}.${Buffer.from(randomBytes(6)).toString("hex")}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, mode);
  } catch (e) {
    throw fileError(e, dest);
  }
  const h = handle;
  const abort = async () => {
    await h.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
  };
  const guarded = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      await abort();
      throw fileError(e, dest);
    }
  };
  return {
    // writeFile on a handle writes all of it at the current position (write() may write less).
    write: (data) => guarded(() => h.writeFile(data)),
    commit: () =>
      guarded(async () => {
        await h.sync();
        await h.close();
        await fs.rename(tmp, dest);
        await syncDir(dir);
      }),
    abort,
  };
}

export async function refuseSymlink(dest: string): Promise<void> {
  try {
    const st = await fs.lstat(dest);
    if (st.isSymbolicLink()) {
      throw new AuthyError("INVALID_INPUT", `refusing to write ${dest}: it is a symbolic link`, { hint: "remove the link or choose another path" });
    }
    if (st.isDirectory()) throw new AuthyError("INVALID_INPUT", `refusing to write ${dest}: it is a directory`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw fileError(e, dest);
  }
}

export async function syncDir(dir: string): Promise<void> {
  const h = await fs.open(dir, constants.O_RDONLY).catch(() => undefined);
  if (!h) return;
  try {
    await h.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  } finally {
    await h.close();
  }
}

/**
 * Reads a whole file up to `maxBytes`, turning errors into clear AuthyErrors. Prefer
 * readFileBounded (bounded-read.ts) with a named limit; this is it, with a generic name.
 */
export async function readFileChecked(file: string, maxBytes: number): Promise<Buffer> {
  const { readFileBounded } = await import("./bounded-read.js");
  return readFileBounded(file, { what: "this input", bytes: maxBytes });
}

/** Creates AUTHY_HOME as a 0700 directory. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const st = await fs.lstat(dir);
    if (!st.isDirectory()) throw new AuthyError("INVALID_INPUT", `${dir} is not a directory`);
    if ((st.mode & 0o077) !== 0) await fs.chmod(dir, 0o700);
  } catch (e) {
    throw fileError(e, dir);
  }
}
