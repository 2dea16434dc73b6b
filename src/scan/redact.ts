/**
 * `authy scan --redact`: each finding replaced in place by `<authy:PATH>`, the file rewritten
 * atomically (temporary file, fsync, rename, same mode), the original kept beside it as
 * FILE.authy-backup (0600: it still holds the secret) unless `--no-backup`.
 */
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import { openFileAtomic } from "../files/atomic-write.js";
import type { Hit } from "./search.js";

const BACKUP_SUFFIX = ".authy-backup";
const READ_CHUNK_BYTES = 1024 * 1024;

export async function redactFile(file: string, hits: readonly Hit[], opts: { backup: boolean }): Promise<string | null> {
  const st = await fs.stat(file);
  let backup: string | null = null;
  if (opts.backup) {
    backup = file + BACKUP_SUFFIX;
    await fs.copyFile(file, backup);
    await fs.chmod(backup, 0o600);
  }
  const out = await openFileAtomic(file, st.mode & 0o777);
  let pos = 0;
  let next = 0;
  // Input before this offset has been written out or replaced.
  let done = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    const chunkStart = pos;
    pos += chunk.length;
    const parts: Buffer[] = [];
    while (next < hits.length && hits[next]!.start < pos) {
      const h = hits[next++]!;
      // A finding overlapping the one before joins its placeholder.
      if (h.start >= done) {
        if (h.start > done) parts.push(chunk.subarray(done - chunkStart, h.start - chunkStart));
        parts.push(Buffer.from(`<authy:${h.path}>`));
      }
      done = Math.max(done, h.end);
    }
    if (done < pos) {
      parts.push(chunk.subarray(Math.max(done, chunkStart) - chunkStart));
      done = pos;
    }
    if (parts.length > 0) await out.write(Buffer.concat(parts));
  }
  await out.commit();
  return backup;
}
