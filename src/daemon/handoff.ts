/**
 * What `authy unlock` and the daemon it starts say to each other over private pipes, never
 * argv or the environment (both readable by other processes of the user in /proc).
 *
 * Hello (daemon fd 3 → CLI): `{"hello":true,"pid":n}`, written once the daemon has made
 * itself non-dumpable. Only then does the CLI send the key: before that, another process of
 * the user could have read it from the daemon's memory or its stdin.
 *
 * Handoff (CLI → daemon stdin): one JSON line
 *   {"v":2,"key":<base64 vault key>,"sessionHash":<base64 SHA-256 of an exported owner session, or null>,
 *    "idleMs":n,"maxMs":n,"home":<AUTHY_HOME>,"vault":<vault file>}
 * The daemon never learns an exported session itself, only its hash; without one, owner rights
 * belong to the terminal session that unlocked (terminal.ts).
 *
 * Ready (daemon fd 3 → CLI): one JSON line, then fd 3 is closed:
 *   {"ok":true,"pid":n,"socket":path}  or  {"ok":false,"error":{"code","message","hint"}}
 */
import { z } from "zod";
import { AuthyError, isErrorCode, type ErrorCode } from "../errors.js";

export const HANDOFF_VERSION = 2;
/** A handoff is a few hundred bytes; the limit only stops a runaway writer. */
export const MAX_HANDOFF_BYTES = 64 * 1024;

const handoffSchema = z.object({
  v: z.literal(HANDOFF_VERSION),
  key: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
  sessionHash: z
    .string()
    .regex(/^[A-Za-z0-9+/]{43}=$/)
    .nullable(),
  idleMs: z.number().int().positive(),
  maxMs: z.number().int().positive(),
  home: z.string().min(1),
  vault: z.string().min(1),
});

export type Handoff = z.infer<typeof handoffSchema>;

export function encodeHandoff(h: Omit<Handoff, "v">): string {
  return JSON.stringify({ v: HANDOFF_VERSION, ...h }) + "\n";
}

/** Parses a handoff line; the message never echoes the input (it holds the key). */
export function parseHandoff(text: string): Handoff {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new AuthyError("INVALID_INPUT", "the daemon's start message is not JSON", { hint: "the daemon is started by `authy unlock`, not by hand" });
  }
  const parsed = handoffSchema.safeParse(raw);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join(".")))].join(", ");
    throw new AuthyError("INVALID_INPUT", `the daemon's start message is malformed (${fields})`, {
      hint: "the daemon is started by `authy unlock`, not by hand",
    });
  }
  return parsed.data;
}

export function encodeHello(pid: number): string {
  return JSON.stringify({ hello: true, pid }) + "\n";
}

/** Whether a line is the daemon's hello. */
export function isHello(line: string): boolean {
  try {
    return (JSON.parse(line) as { hello?: unknown }).hello === true;
  } catch {
    return false;
  }
}

export type Ready = { ok: true; pid: number; socket: string } | { ok: false; error: { code: ErrorCode; message: string; hint: string | null } };

export function encodeReady(r: Ready): string {
  return JSON.stringify(r) + "\n";
}

/** Parses the daemon's ready line; anything unexpected is an INTERNAL error. */
export function parseReady(line: string): Ready {
  try {
    const r = JSON.parse(line) as Ready;
    /* eslint-disable @typescript-eslint/no-unnecessary-boolean-literal-compare, @typescript-eslint/no-unnecessary-condition -- untrusted JSON: these checks are the validation */
    if (r.ok === true && Number.isSafeInteger(r.pid) && typeof r.socket === "string") return r;
    if (r.ok === false && isErrorCode(r.error?.code) && typeof r.error.message === "string") return r;
    /* eslint-enable @typescript-eslint/no-unnecessary-boolean-literal-compare, @typescript-eslint/no-unnecessary-condition */
  } catch {
    // Fall through.
  }
  return { ok: false, error: { code: "INTERNAL", message: "the daemon answered something unexpected while starting", hint: null } };
}
