/**
 * Every file or stream authy reads, read through one door with a size limit enforced while
 * reading. `stat` is never trusted for the size: a device (/dev/zero, /dev/urandom), a FIFO or
 * /proc file says 0 and then never ends. A read that passes its limit stops at once, having held
 * at most the limit plus one chunk, and fails with one line naming the limit (exit 2).
 *
 * A FIFO whose writer never writes blocks, as `cat` does: the same as a terminal nobody types
 * on. Nothing here loads node:crypto or the core.
 */
import fs from "node:fs";
import { AuthyError } from "../errors.js";
import { MAX_VALUE_BYTES } from "../vault/types.js";
import { MAX_POLICY_BYTES } from "../vault/policy/policy-document.js";
import { fileError } from "./file-error.js";

/** What is being read, and the most of it authy accepts. */
export interface InputLimit {
  /** Named in the error: "a secret value", "a dotenv file". */
  what: string;
  bytes: number;
}

/** A secret value (`--from-file`, standard input): the vault stores nothing larger. */
export const SECRET_VALUE_LIMIT: InputLimit = { what: "a secret value", bytes: MAX_VALUE_BYTES };
/** A dotenv file (`env import`, `run --env-file`): 10,000 entries are well under 1 MiB, and an import must fit in one request body. */
export const DOTENV_LIMIT: InputLimit = { what: "a dotenv file", bytes: 8 * 1024 * 1024 };
/** A policy file (`policy apply`): hand-written and small; bounds the YAML parser's work on a hostile one. */
export const POLICY_LIMIT: InputLimit = { what: "a policy file", bytes: MAX_POLICY_BYTES };
/** An `inject` template: a configuration file, held in memory with its output. */
export const TEMPLATE_LIMIT: InputLimit = { what: "a template", bytes: 16 * 1024 * 1024 };
/** An age identity file (`AUTHY_IDENTITY`): a key is 74 bytes; a file of a few hundred keys still fits. */
export const IDENTITY_LIMIT: InputLimit = { what: "an identity file", bytes: 64 * 1024 };
/** A passphrase (`AUTHY_PASSPHRASE_FILE`, `--passphrase-stdin`, `--new-passphrase-file`): only its first line is used. */
export const PASSPHRASE_LIMIT: InputLimit = { what: "a passphrase", bytes: 64 * 1024 };
/** An audit checkpoint (`audit verify --checkpoint`): one JSON object of a few hundred bytes. */
export const CHECKPOINT_LIMIT: InputLimit = { what: "an audit checkpoint", bytes: 64 * 1024 };
/** `$AUTHY_HOME/config.yaml` (notifications): a handful of settings. */
export const CONFIG_LIMIT: InputLimit = { what: "the configuration file", bytes: 64 * 1024 };
/** The daemon's state file (`daemon.json`): a few fields written by the daemon itself. */
export const DAEMON_STATE_LIMIT: InputLimit = { what: "the daemon state file", bytes: 64 * 1024 };

/** Bytes asked of the kernel per read. */
const READ_CHUNK_BYTES = 64 * 1024;

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

function tooLarge(source: string, limit: InputLimit): AuthyError {
  return new AuthyError("INVALID_INPUT", `${source} is larger than the limit for ${limit.what} (${formatBytes(limit.bytes)})`, {
    hint: "authy's input limits are listed in the README (Limits)",
    details: { limit: limit.bytes },
  });
}

/** Reads a whole file (regular, device, FIFO, /proc …) up to `limit`; errors are one clear line. */
export async function readFileBounded(file: string, limit: InputLimit): Promise<Buffer> {
  let fd: number;
  try {
    fd = await open(file);
  } catch (e) {
    throw fileError(e, file);
  }
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // One byte past the limit is enough to know the input is too large.
      const want = Math.min(READ_CHUNK_BYTES, limit.bytes + 1 - total);
      const buf = Buffer.allocUnsafe(want);
      const bytesRead = await read(fd, buf, want);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > limit.bytes) throw tooLarge(file, limit);
      chunks.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    throw fileError(e, file);
  } finally {
    fs.close(fd, () => undefined);
  }
}

// node:fs's callback forms, not node:fs/promises: loading that (with the readline and watcher
// modules it brings) cost every command that reads an identity file 3 to 8 ms. The reads stay
// asynchronous: a FIFO that never ends must not stop the daemon's or the server's event loop.
function open(file: string): Promise<number> {
  return new Promise((resolve, reject) => fs.open(file, "r", (e, fd) => (e ? reject(e) : resolve(fd))));
}

function read(fd: number, buf: Buffer, length: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buf, 0, length, null, (e, n) => (e ? reject(e) : resolve(n))));
}

/** Reads a stream to its end, up to `limit`; a stream that passes it is destroyed at once. */
export async function readStreamBounded(stream: NodeJS.ReadableStream & { destroy?: () => void }, source: string, limit: InputLimit): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      total += b.length;
      if (total > limit.bytes) throw tooLarge(source, limit);
      chunks.push(b);
    }
  } catch (e) {
    stream.destroy?.();
    throw e;
  }
  return Buffer.concat(chunks, total);
}
