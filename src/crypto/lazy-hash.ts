/**
 * SHA-256 for code on every command's start-up path that only rarely hashes (the daemon's
 * socket name for a very deep home): node:crypto is loaded on first use, not at import.
 */
import { createRequire } from "node:module";

type NodeCrypto = typeof import("node:crypto");
let loaded: NodeCrypto | undefined;

export function sha256OnDemand(data: Uint8Array): Uint8Array {
  loaded ??= createRequire(import.meta.url)("node:crypto") as NodeCrypto;
  return new Uint8Array(loaded.createHash("sha256").update(data).digest());
}
