/**
 * The fixture of the tamper tests (tamper-*.test.ts and the other threats beside them): two
 * template vaults made once per test file, each test working on a copy of one, edited with its
 * own better-sqlite3 connection, then opened through SqliteStore as authy would.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll } from "vitest";
import { generateIdentity, identityToRecipient } from "../crypto/index.js";
import { isAuthyError } from "../errors.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import type { Store } from "../store/store.js";
import type { Clock } from "./clock.js";
import type { VaultContext } from "./context.js";
import { openKeys, type Credential } from "./key-slots.js";
import type { Keyring } from "./keyring.js";
import { Vault } from "./vault.js";

export const PASSPHRASE = "correct horse battery staple";
/** The lowest work factor authy accepts: still a real scrypt, as fast as allowed. */
export const WORK_FACTOR = 15;
export const clock: Clock = { now: () => Date.now() };
const noSleep = async () => undefined;

export const A1 = "A-version-one-0123456789abcdefgh";
export const A2 = "A-version-two-0123456789abcdefgh";
export const B1 = "B-version-one-0123456789abcdefgh";
export const C1 = "C-version-one-0123456789abcdefgh";
const ALL_VALUES = [A1, A2, B1, C1];
export const utf8 = (s: string) => Buffer.from(s, "utf8");

let dir: string;
let identity: string;
export let recipient: string;
/** prod/A (2 versions), prod/B, staging/C; a passphrase slot and an identity slot. */
let template: string;
/** Another vault with the same secret names, under another key. */
export let otherTemplate: string;
let counter = 0;
export const opened: Store[] = [];

export const byIdentity = (): Credential => ({ identities: [identity] });
export const byPassphrase = (): Credential => ({ passphrase: PASSPHRASE });

async function makeVault(file: string): Promise<void> {
  const store = SqliteStore.open(file, { create: true });
  const vault = await Vault.init({ store, clock }, { passphrase: PASSPHRASE, workFactor: WORK_FACTOR, recipients: [recipient] });
  await vault.setSecret("prod/A", utf8(A1), { type: "api_key", description: "first", tags: ["x"], expiresAt: Date.now() + 365 * 86_400_000 });
  await vault.setSecret("prod/A", utf8(A2));
  await vault.setSecret("prod/B", utf8(B1), { tier: "sensitive" });
  await vault.setSecret("staging/C", utf8(C1));
  await vault.close();
}

/** Makes the templates before the file's tests, closes what each test opened, removes all after. */
export function useTemplates(): void {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "authy-tamper-"));
    identity = await generateIdentity();
    recipient = await identityToRecipient(identity);
    template = path.join(dir, "template.db");
    otherTemplate = path.join(dir, "other.db");
    await makeVault(template);
    await makeVault(otherTemplate);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });
}

/** A fresh copy of a template vault file. */
export function copyOf(from = template): string {
  const file = path.join(dir, `v${++counter}.db`);
  copyFileSync(from, file);
  return file;
}

/** Runs statements on the file through a connection of its own (not authy's). */
export function sql(file: string, fn: (db: Database.Database) => void): void {
  const db = new Database(file);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

export function openStore(file: string): SqliteStore {
  const store = SqliteStore.open(file);
  opened.push(store);
  return store;
}

export function unlock(file: string, credential: Credential = byIdentity(), store: Store = openStore(file)): Promise<Vault> {
  return Vault.unlock({ store, clock, sleep: noSleep }, credential);
}

/**
 * The error code an operation failed with. A success is returned as "resolved" (and its value
 * checked against every value in the vault first, so a swap that leaks is named as such); a
 * failure that is not an AuthyError is rethrown: a raw error on the way out is a bug too.
 */
export async function outcome(p: Promise<unknown>): Promise<string> {
  let result: unknown;
  try {
    result = await p;
  } catch (e) {
    if (isAuthyError(e)) return e.code;
    throw e;
  }
  const value = (result as { value?: Uint8Array } | undefined)?.value;
  if (value) {
    const text = Buffer.from(value).toString("utf8");
    if (ALL_VALUES.includes(text)) return `resolved with the value ${text}`;
  }
  return "resolved";
}

export function flipBit(bytes: Uint8Array, i: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[i] = copy[i]! ^ (1 << (i % 8));
  return copy;
}

/** The columns an INSERT or UPDATE may name: generated columns are SQLite's to compute. */
export function writableColumns(db: Database.Database, table: string): string[] {
  const columns = db.prepare("SELECT name, hidden FROM pragma_table_xinfo(?)").all(table) as { name: string; hidden: number }[];
  return columns.filter((c) => c.hidden === 0).map((c) => c.name);
}

export function ctxOf(store: Store, keys: Keyring): VaultContext {
  return { store, clock, keys, actor: { kind: "owner" } };
}

export async function keysFor(store: Store): Promise<Keyring> {
  return (await openKeys(store, (await store.getVault())!, byIdentity())).keys;
}

/**
 * The listing line the core stores with each row (listingLine in secret-rows.ts), in SQL: what a
 * hand edit of a column in the listing must also write to keep the row and its line in step.
 */
export const LISTING_SQL =
  "length(CAST(path AS BLOB)) || ':' || path || char(31) || type || char(31) || tier || char(31) || current_version || char(31) || " +
  "coalesce(deleted_at, '') || char(31) || updated_at || char(31) || coalesce(expires_at, '')";
