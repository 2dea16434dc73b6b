/**
 * The exported owner session (`authy unlock --export-session`, for scripts): `authy_os_` +
 * 256 random bits, printed once as `export AUTHY_SESSION=…` (like `bw unlock`). The daemon
 * keeps only its SHA-256.
 *
 * The session itself never travels: a client sends a proof bound to its own process,
 * `authy_op_` + HMAC-SHA256(SHA-256(session), pid, start time), and the daemon recomputes it
 * for the pid the kernel reports at the other end of the socket (SO_PEERCRED). A relay
 * planted on the socket path that harvests a proof cannot replay it: its own connection to
 * the daemon has another pid. Anyone who reads the session itself from an environment is the
 * owner, which is what exporting it gives away (and why it is opt-in).
 */
import { constantTimeEqual, hmacSha256, randomToken, sha256 } from "../crypto/index.js";

const OWNER_SESSION_PREFIX = "authy_os_";
const OWNER_PROOF_PREFIX = "authy_op_";
/** 256 bits: beyond guessing, like every other bearer secret authy issues. */
const OWNER_SESSION_BYTES = 32;
const PROOF_LABEL = Buffer.from("authy-owner-proof/v1", "utf8");

export function newOwnerSession(): string {
  return OWNER_SESSION_PREFIX + randomToken(OWNER_SESSION_BYTES);
}

export function sessionHash(session: string): Uint8Array {
  return sha256(Buffer.from(session, "utf8"));
}

function proofBytes(hash: Uint8Array, process: { pid: number; start: string }): Uint8Array {
  return hmacSha256(hash, PROOF_LABEL, Buffer.from(`\0${process.pid}\0${process.start}`, "utf8"));
}

/** What a process holding `session` sends: valid only on a connection made by that process. */
export function ownerProof(session: string, process: { pid: number; start: string }): string {
  return OWNER_PROOF_PREFIX + Buffer.from(proofBytes(sessionHash(session), process)).toString("base64url");
}

/** Whether `presented` is the proof of the session whose hash is `hash`, for the peer process. */
export function proofMatches(hash: Uint8Array, presented: string, peer: { pid: number; start: string }): boolean {
  if (!presented.startsWith(OWNER_PROOF_PREFIX)) return false;
  const given = Buffer.from(presented.slice(OWNER_PROOF_PREFIX.length), "base64url");
  return constantTimeEqual(given, proofBytes(hash, peer));
}
