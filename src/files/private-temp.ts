import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, statSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * A 0600 file in a fresh 0700 directory, for a plaintext value that must touch a file system
 * for a moment (`secrets edit`). Memory-backed storage is preferred, so the value never reaches
 * a disk: `$XDG_RUNTIME_DIR` (the user's own tmpfs, 0700), then `/dev/shm`; each only when it
 * really is tmpfs or ramfs. Otherwise the system's temporary directory, and the caller warns.
 */
interface PrivateTemp {
  file: string;
  memoryBacked: boolean;
  /** Overwrites the file with zeros and removes it and its directory; safe to call twice. */
  remove(): void;
}

/** statfs f_type of the memory-backed file systems (linux/magic.h). */
const MEMORY_FS = new Set([0x01021994 /* TMPFS_MAGIC */, 0x858458f6 /* RAMFS_MAGIC */]);

function memoryBacked(dir: string): boolean {
  try {
    if (!statSync(dir).isDirectory()) return false;
    return MEMORY_FS.has(Number(statfsSync(dir).type));
  } catch {
    return false;
  }
}

/** Where the file goes: the first memory-backed candidate, or the system's temporary directory. */
export function privateTempBase(env: NodeJS.ProcessEnv = process.env, shared: readonly string[] = ["/dev/shm"]): { base: string; memoryBacked: boolean } {
  const candidates = [env.XDG_RUNTIME_DIR, ...shared].filter((d): d is string => typeof d === "string" && path.isAbsolute(d));
  for (const dir of candidates) if (memoryBacked(dir)) return { base: dir, memoryBacked: true };
  return { base: os.tmpdir(), memoryBacked: false };
}

export function createPrivateTemp(name: string, content: Uint8Array, env: NodeJS.ProcessEnv = process.env): PrivateTemp {
  const { base, memoryBacked: inMemory } = privateTempBase(env);
  // mkdtemp makes the directory 0700 with a random name: no other user can see in or race us.
  const dir = mkdtempSync(path.join(base, "authy-edit-"));
  const file = path.join(dir, name);
  let size = content.length;
  const fd = openSync(file, "wx", 0o600);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  let removed = false;
  return {
    file,
    memoryBacked: inMemory,
    remove() {
      if (removed) return;
      removed = true;
      try {
        // The editor may have replaced the file (write to a new one, rename): zero whatever is there now.
        size = Math.max(size, statSync(file).size);
        const wipe = openSync(file, "r+");
        try {
          writeSync(wipe, new Uint8Array(size));
        } finally {
          closeSync(wipe);
        }
      } catch {
        // Gone already, or not ours to open: removing it is what matters.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
