/**
 * Rows and byte helpers for the conformance suite. Rows are built field by field with
 * distinct values, so that a column swapped or dropped by an adapter shows up as a diff.
 */
import { expect } from "vitest";
import type { AgentRow, ApprovalRow, AuditRow, KeySlotRow, MemberRow, SecretRow, TokenRow, VaultRow, VersionRow } from "../store.js";

/** Every byte value once, then every byte value again in reverse. */
export function everyByte(): Uint8Array {
  const out = new Uint8Array(512);
  for (let i = 0; i < 256; i++) {
    out[i] = i;
    out[511 - i] = i;
  }
  return out;
}

/** Deterministic pseudo-random bytes (xorshift32), so a failure reproduces. */
export function noise(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export const MIB = 1024 * 1024;

/** Index of the first differing byte, the shorter length when one is a prefix, or -1. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Same bytes, and a Uint8Array (a Buffer is one), not a string or an array. */
export function expectBytes(actual: unknown, expected: Uint8Array): void {
  expect(actual).toBeInstanceOf(Uint8Array);
  const a = actual as Uint8Array;
  expect({ length: a.length, firstDifference: firstDifference(a, expected) }).toEqual({ length: expected.length, firstDifference: -1 });
}

/** A row with its byte fields turned into hex, so rows compare with toStrictEqual. */
export function comparable(row: object | null): unknown {
  if (row === null) return null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] = v instanceof Uint8Array ? { hex: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") } : v;
  }
  return out;
}

export function expectRow(actual: object | null | undefined, expected: object | null): void {
  expect(comparable(actual ?? null)).toStrictEqual(comparable(expected));
}

export function expectRows(actual: readonly object[], expected: readonly object[]): void {
  expect(actual.map(comparable)).toStrictEqual(expected.map(comparable));
}

/** UTF-8 byte order: the order every store sorts paths in ("A" < "B" < "a", "\uFFFD" < "😀"). */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export function namespaceOf(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut === -1 ? "" : path.slice(0, cut);
}

let counter = 0;
/** Small distinct bytes per call, so two rows never share a MAC by accident. */
function tag(): Uint8Array {
  counter++;
  return noise(32, counter * 7919);
}

export function vaultRow(over: Partial<VaultRow> = {}): VaultRow {
  return { vaultId: noise(16, 42), format: 1, createdAt: 1_700_000_000_000, listingMac: tag(), stateMac: tag(), unlockMark: 0, mac: tag(), ...over };
}

export function slotRow(id: string, over: Partial<KeySlotRow> = {}): KeySlotRow {
  return {
    id,
    kind: "passphrase",
    label: `label of ${id}`,
    recipient: null,
    slot: noise(200, id.length + 3),
    createdAt: 1_700_000_000_001,
    mac: tag(),
    ...over,
  };
}

/**
 * A secret row; its listing (opaque to the store) is a line in the core's layout built from the
 * row's own fields unless given, so that a listing that follows the wrong row shows.
 */
export function secretRow(path: string, over: Partial<SecretRow> = {}): SecretRow {
  const row = {
    path,
    namespace: namespaceOf(path),
    type: "password",
    tier: "standard",
    description: `description of ${path}`,
    tags: '["a","b"]',
    expiresAt: null,
    currentVersion: 1,
    deletedAt: null,
    createdAt: 1_700_000_000_002,
    updatedAt: 1_700_000_000_003,
    mac: tag(),
    ...over,
  };
  return { ...row, listing: over.listing ?? listingLine(row) };
}

export function versionRow(path: string, version: number, over: Partial<VersionRow> = {}): VersionRow {
  return {
    path,
    version,
    type: "password",
    tier: "standard",
    sealed: noise(64, version + 11),
    wrappedDek: noise(60, version + 13),
    createdAt: 1_700_000_000_004 + version,
    actor: "user:alice",
    ...over,
  };
}

export function auditRow(seq: number, over: Partial<AuditRow> = {}): AuditRow {
  return {
    seq,
    ts: 1_700_000_000_000 + seq * 1000,
    actor: "user:alice",
    action: "secret.read",
    resource: "prod/DB_URL",
    outcome: "success",
    details: `{"n":${seq}}`,
    prevHash: noise(32, seq + 100),
    hash: noise(32, seq + 101),
    mac: noise(32, seq + 102),
    ...over,
  };
}

export function agentRow(name: string, over: Partial<AgentRow> = {}): AgentRow {
  return {
    name,
    id: `id-${name}`,
    keyHash: noise(32, name.length + 17),
    scope: "prod-read",
    description: `agent ${name}`,
    createdAt: 1_700_000_000_005,
    revokedAt: null,
    mac: tag(),
    ...over,
  };
}

export function memberRow(name: string, over: Partial<MemberRow> = {}): MemberRow {
  return {
    name,
    id: `mid-${name}`,
    keyHash: noise(32, name.length + 29),
    role: "member",
    scope: "deploy",
    createdAt: 1_700_000_000_007,
    keyCreatedAt: 1_700_000_000_009,
    revokedAt: null,
    mac: tag(),
    ...over,
  };
}

export function tokenRow(id: string, over: Partial<TokenRow> = {}): TokenRow {
  return {
    id,
    secretHash: noise(32, id.length + 19),
    agent: "ci",
    scope: '{"read":["prod/*"]}',
    label: `token ${id}`,
    createdAt: 1_700_000_000_006,
    expiresAt: 1_700_000_900_000,
    maxUses: null,
    uses: 0,
    revokedAt: null,
    instance: "daemon-1",
    parent: null,
    pid: null,
    mac: tag(),
    ...over,
  };
}

export function approvalRow(id: string, over: Partial<ApprovalRow> = {}): ApprovalRow {
  return {
    id,
    principal: "agent:ci",
    agent: "ci",
    token: `tok-${id}`,
    action: "secret.read",
    path: "prod/DB_URL",
    tier: "sensitive",
    reason: `reason of ${id}`,
    status: "pending",
    createdAt: 1_700_000_000_007,
    expiresAt: 1_700_000_600_007,
    decidedAt: null,
    decisionReason: null,
    grantKind: null,
    grantUntil: null,
    usedAt: null,
    mac: tag(),
    ...over,
  };
}

const US = "\u001f";

/**
 * A line in the layout the core uses (src/vault/secret-rows.ts): `<utf8 byte length of
 * path>:<path>` then type, tier, current version, deleted-at (or empty), updated-at and
 * expires-at (or empty), separated by U+001F. To the store it is just text.
 */
function listingLine(r: Omit<SecretRow, "listing">): string {
  return (
    `${Buffer.byteLength(r.path, "utf8")}:${r.path}` +
    [
      r.type,
      r.tier,
      String(r.currentVersion),
      r.deletedAt === null ? "" : String(r.deletedAt),
      String(r.updatedAt),
      r.expiresAt === null ? "" : String(r.expiresAt),
    ]
      .map((f) => US + f)
      .join("")
  );
}

/** The listing text the store must give for these rows: their listing lines in byte order of path, joined by "\n". */
export function expectedListing(rows: readonly SecretRow[]): string {
  return [...rows]
    .sort((a, b) => byteOrder(a.path, b.path))
    .map((r) => r.listing)
    .join("\n");
}

/** A promise with its resolve function, to hold a transaction open at a chosen point. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
