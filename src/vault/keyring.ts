import {
  deriveKey,
  encodeFieldsTransient,
  encodeFieldsTransientAfter,
  constantTimeEqual,
  Hmac32,
  HmacKey,
  type Field,
  type KeyPurpose,
} from "../crypto/index.js";
import { integrityError } from "../errors.js";

/**
 * The keys derived from the vault key, one per purpose, so that a MAC for one kind of row can
 * never be replayed as another. The vault key itself is kept only to wrap new key slots.
 */
export class Keyring {
  readonly vaultId: Uint8Array;
  readonly dekWrap: Uint8Array;
  /** Kept raw for the audit verifier's Hmac32; the other MAC keys live only as HmacKey pads. */
  private readonly auditMac: Uint8Array;
  private tokenHashKey: HmacKey | undefined;
  /** The MAC keys with their HMAC pads ready: a MAC per row, thousands per import. */
  private readonly rowMacKey: HmacKey;
  private readonly auditMacKey: HmacKey;
  private readonly slotMacKey: HmacKey;
  readonly vaultKey: Uint8Array;

  constructor(vaultKey: Uint8Array, vaultId: Uint8Array) {
    this.vaultKey = vaultKey;
    this.vaultId = vaultId;
    this.dekWrap = deriveKey(vaultKey, "dek-wrap");
    this.auditMac = deriveKey(vaultKey, "audit-mac");
    this.rowMacKey = macKey(vaultKey, "row-mac");
    this.auditMacKey = new HmacKey(this.auditMac);
    this.slotMacKey = macKey(vaultKey, "slot-mac");
  }

  /** The hash of a token or agent-key secret (keyed; derived once: the daemon checks one per request). */
  hashTokenSecret(secret: Uint8Array): Uint8Array {
    this.tokenHashKey ??= macKey(this.vaultKey, "token-hash");
    return this.tokenHashKey.mac(secret);
  }

  /** MAC over a row: the domain names the table, the vault id binds it to this vault. */
  macRow(domain: string, fields: readonly Field[]): Uint8Array {
    return this.rowMacKey.mac(encodeFieldsTransientAfter([domain, this.vaultId], fields));
  }

  /** `what` names the row in the error; a function when naming it costs (a thousand rows a read). */
  verifyRow(domain: string, fields: readonly Field[], mac: Uint8Array, what: string | (() => string)): void {
    if (!constantTimeEqual(this.macRow(domain, fields), mac)) throw integrityError(typeof what === "string" ? what : what());
  }

  macSlot(fields: readonly Field[]): Uint8Array {
    return this.slotMacKey.mac(encodeFieldsTransient(["authy/slot/v1", this.vaultId, ...fields]));
  }

  macAudit(hash: Uint8Array): Uint8Array {
    return this.auditMacKey.mac(hash);
  }

  /** macAudit for a million entries, hex in and out; the caller wipes it when done. */
  auditMacer(): Hmac32 {
    return new Hmac32(this.auditMac);
  }

  /**
   * MAC of an audit checkpoint, under the audit key. Entry MACs are over exactly 32 bytes (a
   * hash); this is over an encodeFields list, which is longer, so neither passes for the other.
   */
  macAuditCheckpoint(fields: readonly Field[]): Uint8Array {
    return this.auditMacKey.mac(encodeFieldsTransient(["authy/audit-checkpoint/v1", this.vaultId, ...fields]));
  }

  /** Overwrites the key material in memory (best effort: JS may have copied it). */
  wipe(): void {
    for (const k of [this.vaultKey, this.dekWrap, this.auditMac]) k.fill(0);
    for (const m of [this.rowMacKey, this.auditMacKey, this.slotMacKey, this.tokenHashKey]) m?.wipe();
  }
}

/** An HMAC key derived for one purpose, held only as its pads (the derived bytes are wiped). */
function macKey(vaultKey: Uint8Array, purpose: KeyPurpose): HmacKey {
  const key = deriveKey(vaultKey, purpose);
  try {
    return new HmacKey(key);
  } finally {
    key.fill(0);
  }
}
