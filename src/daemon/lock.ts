/**
 * The daemon lock: one daemon per vault home. The lock file holds the holder's process
 * identity as JSON (`{"pid":…,"start":…,"boot":…}`, see process.ts). It is written to a
 * private temporary file first and then link()ed into place, so it appears atomically with
 * its content (there is no moment when it exists empty) and link() fails if it is there.
 *
 * A lock whose holder is gone (kill -9, reboot) is stale and may be broken, but breaking is
 * itself serialized by a second lock file (`.break`, O_EXCL): without it, two starters that
 * both saw the same stale lock could each remove it, the second removing the first's fresh
 * one, and both would win. Under the break lock the content is read again and removed only
 * if it is still the stale one seen before.
 */
import { closeSync, constants, linkSync, lstatSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { AuthyError } from "../errors.js";
import { currentIdentity, identityAlive, type ProcessIdentity } from "./process.js";

/** A break lock older than this belonged to a starter that died while breaking a stale lock. */
const LOCK_BREAK_STALE_MS = 10_000;
/** Attempts to take the lock before giving up (each one breaks at most one stale lock). */
const LOCK_ATTEMPTS = 50;
/** Pause between attempts while another starter is breaking a stale lock. */
const LOCK_RETRY_MS = 20;
/** A lock file is a few dozen bytes; anything much larger is not one of ours. */
const LOCK_MAX_BYTES = 1024;

type LockResult = { ok: true } | { ok: false; holder: ProcessIdentity };

function readRaw(file: string): string | null {
  try {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const buf = Buffer.alloc(LOCK_MAX_BYTES + 1);
      const n = readSync(fd, buf, 0, buf.length, 0);
      return n > LOCK_MAX_BYTES ? "" : buf.subarray(0, n).toString("utf8");
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
}

function parseHolder(raw: string | null): ProcessIdentity | null {
  if (raw === null) return null;
  try {
    const v = JSON.parse(raw) as Partial<ProcessIdentity>;
    if (!Number.isSafeInteger(v.pid) || (v.pid as number) <= 0) return null;
    return { pid: v.pid as number, start: typeof v.start === "string" ? v.start : null, boot: typeof v.boot === "string" ? v.boot : null };
  } catch {
    return null;
  }
}

/** Who holds the lock, or null if there is no (readable) lock file. Does not check liveness. */
export function readLockHolder(file: string): ProcessIdentity | null {
  return parseHolder(readRaw(file));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function writePrivate(file: string, data: string): void {
  const fd = openSync(file, constants.O_CREAT | constants.O_TRUNC | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
}

/** Removes the lock file if its content is still `stale`, serialized with other breakers. */
function breakStaleLock(file: string, stale: string | null): "broken" | "busy" {
  const breaker = `${file}.break`;
  let fd: number;
  try {
    fd = openSync(breaker, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    try {
      if (Date.now() - lstatSync(breaker).mtimeMs > LOCK_BREAK_STALE_MS) unlinkSync(breaker);
    } catch {
      // Gone already: its owner finished.
    }
    return "busy";
  }
  try {
    if (readRaw(file) === stale) unlinkSync(file);
    return "broken";
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "broken";
    throw e;
  } finally {
    closeSync(fd);
    try {
      unlinkSync(breaker);
    } catch {
      // Nothing to do: a leftover break lock goes stale after LOCK_BREAK_STALE_MS.
    }
  }
}

/**
 * Takes the lock for this process, breaking a stale one. Returns the live holder when
 * another process has it. The directory must be the daemon's private directory.
 */
export async function acquireLock(file: string): Promise<LockResult> {
  const me = currentIdentity();
  const tmp = `${file}.${process.pid}.tmp`;
  writePrivate(tmp, JSON.stringify(me));
  try {
    for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
      try {
        linkSync(tmp, file);
        return { ok: true };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      const raw = readRaw(file);
      const holder = parseHolder(raw);
      if (holder !== null && identityAlive(holder)) return { ok: false, holder };
      if (breakStaleLock(file, raw) === "busy") await sleep(LOCK_RETRY_MS);
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // Already gone.
    }
  }
  throw new AuthyError("UNAVAILABLE", `could not take the daemon lock ${file}`, { hint: "another authy is starting or stopping a daemon; try again" });
}

/** Releases the lock if this process holds it (never someone else's). */
export function releaseLock(file: string): void {
  const holder = readLockHolder(file);
  const me = currentIdentity();
  if (holder === null || holder.pid !== me.pid || holder.start !== me.start) return;
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}
