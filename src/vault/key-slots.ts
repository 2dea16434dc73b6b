import {
  generateVaultKey,
  identityToRecipient,
  randomBytes,
  randomId,
  slotScryptLogN,
  unwrapWithIdentities,
  unwrapWithPassphrase,
  wrapToRecipient,
  wrapWithPassphrase,
  parseRecipient,
  constantTimeEqual,
} from "../crypto/index.js";
import { AuthyError, integrityError } from "../errors.js";
import type { KeySlotRow, Store, StoreWriter, VaultRow } from "../store/store.js";
import { Keyring } from "./keyring.js";

/**
 * Key slots: the vault key exists on disk only wrapped in standard age files, one per
 * passphrase or X25519 recipient. Each slot row is MACed with a key derived from the vault
 * key, so a slot that someone else encrypted to our public recipient (with a key of their
 * choosing) does not verify and is refused.
 */
/** 2: the vault row carries the state MAC (state-digest.ts). A format-1 vault is migrated at its next unlock. */
const VAULT_FORMAT = 2;
export const VAULT_FORMAT_BEFORE_STATE = 1;
const VAULT_DOMAIN = "authy/vault/v1";

export type Credential = { passphrase: string } | { identities: string[] };

export interface SlotInfo {
  id: string;
  kind: KeySlotRow["kind"];
  label: string;
  recipient: string | null;
  createdAt: number;
  /** scrypt work factor of a passphrase slot. */
  workFactor: number | null;
}

function slotFields(r: Omit<KeySlotRow, "mac">) {
  return [r.id, r.kind, r.label, r.recipient, r.slot, r.createdAt];
}

export function sealSlot(keys: Keyring, r: Omit<KeySlotRow, "mac">): KeySlotRow {
  return { ...r, mac: keys.macSlot(slotFields(r)) };
}

export function verifySlot(keys: Keyring, r: KeySlotRow): void {
  if (!constantTimeEqual(keys.macSlot(slotFields(r)), r.mac)) throw integrityError(`key slot ${r.id} was not written by this vault`);
}

export function slotInfo(r: KeySlotRow): SlotInfo {
  return {
    id: r.id,
    kind: r.kind,
    label: r.label,
    recipient: r.recipient,
    createdAt: r.createdAt,
    workFactor: r.kind === "passphrase" ? slotScryptLogN(r.slot) : null,
  };
}

/** A vault row at the current format; its state MAC is written by the transaction's end (FreshWriter.seal). */
export function sealVaultRow(keys: Keyring, createdAt: number, listingMac: Uint8Array | null, unlockMark = 0): VaultRow {
  return {
    vaultId: keys.vaultId,
    format: VAULT_FORMAT,
    createdAt,
    listingMac,
    stateMac: null,
    unlockMark,
    mac: keys.macRow(VAULT_DOMAIN, [VAULT_FORMAT, createdAt]),
  };
}

export function verifyVaultRow(keys: Keyring, row: VaultRow): void {
  keys.verifyRow(VAULT_DOMAIN, [row.format, row.createdAt], row.mac, "the vault header was modified outside authy");
  if (row.format !== VAULT_FORMAT && row.format !== VAULT_FORMAT_BEFORE_STATE) throw integrityError(`unknown vault format ${row.format}`);
}

/** Creates the vault key and its first slots. */
export async function createKeys(
  now: number,
  opts: { passphrase?: string; workFactor?: number; recipients?: string[] },
): Promise<{ keys: Keyring; slots: KeySlotRow[] }> {
  if (!opts.passphrase && !opts.recipients?.length) {
    throw new AuthyError("INVALID_INPUT", "a new vault needs a passphrase or a recipient", { hint: "give a passphrase, or --recipient age1…" });
  }
  const keys = new Keyring(generateVaultKey(), randomBytes(16));
  const slots: KeySlotRow[] = [];
  if (opts.passphrase) slots.push(await passphraseSlot(keys, opts.passphrase, opts.workFactor, now));
  for (const r of opts.recipients ?? []) slots.push(await recipientSlot(keys, r, r, now));
  return { keys, slots };
}

async function passphraseSlot(keys: Keyring, passphrase: string, workFactor: number | undefined, now: number): Promise<KeySlotRow> {
  const slot = await wrapWithPassphrase(keys.vaultKey, passphrase, workFactor);
  return sealSlot(keys, { id: randomId("slot_"), kind: "passphrase", label: "passphrase", recipient: null, slot, createdAt: now });
}

export async function recipientSlot(keys: Keyring, recipient: string, label: string, now: number): Promise<KeySlotRow> {
  const r = parseRecipient(recipient);
  const slot = await wrapToRecipient(keys.vaultKey, r);
  return sealSlot(keys, { id: randomId("slot_"), kind: "x25519", label, recipient: r, slot, createdAt: now });
}

/**
 * Opens the vault key with a passphrase or identities. Wrong credentials and "not for this
 * vault" give the same LOCKED error; a slot or header that does not verify under the key it
 * yields is INTEGRITY.
 */
export async function openKeys(store: Store, vault: VaultRow, credential: Credential): Promise<{ keys: Keyring; slot: KeySlotRow }> {
  const slots = await store.listSlots();
  let found: { key: Uint8Array; slot: KeySlotRow } | null = null;
  if ("passphrase" in credential) {
    for (const slot of slots.filter((s) => s.kind === "passphrase")) {
      const key = await tryUnwrap(() => unwrapWithPassphrase(slot.slot, credential.passphrase));
      if (key) {
        found = { key, slot };
        break;
      }
    }
  } else {
    const mine = new Set(await Promise.all(credential.identities.map((i) => identityToRecipient(i))));
    // Try the slots made for our recipients first; fall back to all X25519 slots (a relabelled slot still opens).
    const x = slots.filter((s) => s.kind === "x25519");
    const ordered = [...x.filter((s) => s.recipient && mine.has(s.recipient)), ...x.filter((s) => !s.recipient || !mine.has(s.recipient))];
    for (const slot of ordered) {
      const key = await tryUnwrap(() => unwrapWithIdentities(slot.slot, credential.identities));
      if (key) {
        found = { key, slot };
        break;
      }
    }
  }
  if (!found) throw lockedError();
  const keys = new Keyring(found.key, vault.vaultId);
  verifySlot(keys, found.slot);
  verifyVaultRow(keys, vault);
  return { keys, slot: found.slot };
}

async function tryUnwrap(fn: () => Promise<Uint8Array>): Promise<Uint8Array | null> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof AuthyError && e.code === "LOCKED") return null;
    throw e;
  }
}

export function lockedError(): AuthyError {
  return new AuthyError("LOCKED", "wrong passphrase or identity", {
    hint: "check AUTHY_PASSPHRASE / AUTHY_IDENTITY, or the passphrase you typed",
  });
}

/** Replaces every passphrase slot with one for the new passphrase. */
export async function rewrapPassphrase(tx: StoreWriter, keys: Keyring, passphrase: string, workFactor: number | undefined, now: number): Promise<KeySlotRow> {
  const fresh = await passphraseSlot(keys, passphrase, workFactor, now);
  for (const old of (await tx.listSlots()).filter((s) => s.kind === "passphrase")) await tx.deleteSlot(old.id);
  await tx.putSlot(fresh);
  return fresh;
}
