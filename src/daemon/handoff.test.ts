import { describe, expect, it } from "vitest";
import { encodeHandoff, encodeHello, encodeReady, HANDOFF_VERSION, isHello, parseHandoff, parseReady } from "./handoff.js";

const KEY = Buffer.alloc(32, 7).toString("base64");
const HASH = Buffer.alloc(32, 9).toString("base64");
const good = { key: KEY, sessionHash: HASH, idleMs: 900_000, maxMs: 28_800_000, home: "/h", vault: "/h/vault.db" };

describe("handoff", () => {
  it("round-trips as one line", () => {
    const line = encodeHandoff(good);
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toContain("\n");
    expect(parseHandoff(line)).toEqual({ v: HANDOFF_VERSION, ...good });
    // Without an exported session, owner rights are the terminal session's: no hash at all.
    expect(parseHandoff(encodeHandoff({ ...good, sessionHash: null }))).toEqual({ v: HANDOFF_VERSION, ...good, sessionHash: null });
  });

  it("tells the daemon's hello (it may be sent the key now) from its ready line", () => {
    expect(isHello(encodeHello(42).trim())).toBe(true);
    expect(isHello(encodeReady({ ok: true, pid: 42, socket: "/s" }).trim())).toBe(false);
    expect(isHello("not json")).toBe(false);
  });

  it("refuses a malformed message without ever quoting it (it holds the key)", () => {
    for (const bad of [
      { ...good, key: Buffer.alloc(16, 7).toString("base64") },
      { ...good, idleMs: 0 },
      { ...good, maxMs: -1 },
      { ...good, home: "" },
      { ...good, v: 1 },
    ]) {
      const text = JSON.stringify({ v: HANDOFF_VERSION, ...bad });
      let message = "";
      try {
        parseHandoff(text);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/malformed/);
      expect(message).not.toContain(KEY.slice(0, 8));
    }
    expect(() => parseHandoff(`{"key":"${KEY}"`)).toThrow(/not JSON/);
  });

  it("reads ready lines, and turns anything unexpected into an error", () => {
    expect(parseReady(encodeReady({ ok: true, pid: 42, socket: "/s" }).trim())).toEqual({ ok: true, pid: 42, socket: "/s" });
    const refused = { ok: false as const, error: { code: "ALREADY_EXISTS" as const, message: "a daemon is already running", hint: null } };
    expect(parseReady(encodeReady(refused).trim())).toEqual(refused);
    expect(parseReady("garbage")).toMatchObject({ ok: false, error: { code: "INTERNAL" } });
    expect(parseReady('{"ok":false,"error":{"code":"EVIL","message":"x"}}')).toMatchObject({ ok: false, error: { code: "INTERNAL" } });
  });
});
