import { integrityError } from "../errors.js";
import type { SecretRow, VersionRow } from "../store/store.js";
import { encodeFields } from "../crypto/index.js";
import type { Keyring } from "./keyring.js";
import { validatePath } from "./path.js";
import { isSecretType, isTier, type SecretMeta, type SecretSummary, type VersionInfo } from "./types.js";

/**
 * The authenticated shape of stored secret rows. The row MAC covers every column that says
 * what a secret is or who may read it; the value's additional data binds the version row to
 * its vault, path, version, type and tier, so a ciphertext moved elsewhere fails to open.
 */
const SECRET_DOMAIN = "authy/secret/v1";
const LISTING_DOMAIN = "authy/listing/v1";
const VALUE_AAD_DOMAIN = "authy/value/v1";

function secretFields(r: Omit<SecretRow, "mac">) {
  return [r.path, r.namespace, r.type, r.tier, r.description, r.tags, r.expiresAt, r.currentVersion, r.deletedAt, r.createdAt, r.updatedAt];
}

export function sealSecretRow(keys: Keyring, r: Omit<SecretRow, "mac">): SecretRow {
  return { ...r, mac: keys.macRow(SECRET_DOMAIN, secretFields(r)) };
}

/** Verifies a row and turns it into metadata; INTEGRITY if anything was edited. */
export function openSecretRow(keys: Keyring, r: SecretRow): SecretMeta {
  keys.verifyRow(SECRET_DOMAIN, secretFields(r), r.mac, `secret ${JSON.stringify(r.path)} was modified outside authy`);
  if (!isSecretType(r.type) || !isTier(r.tier)) throw integrityError(`secret ${JSON.stringify(r.path)} has an unknown type or tier`);
  const p = validatePath(r.path);
  return {
    path: r.path,
    namespace: p.namespace,
    key: p.key,
    type: r.type,
    tier: r.tier,
    description: r.description,
    tags: JSON.parse(r.tags) as string[],
    expiresAt: r.expiresAt,
    version: r.currentVersion,
    deletedAt: r.deletedAt,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export function valueAad(keys: Keyring, v: Pick<VersionRow, "path" | "version" | "type" | "tier" | "createdAt" | "actor">): Uint8Array {
  return encodeFields([VALUE_AAD_DOMAIN, keys.vaultId, v.path, v.version, v.type, v.tier, v.createdAt, v.actor]);
}

export function versionInfo(v: VersionRow, current: number): VersionInfo {
  if (!isSecretType(v.type) || !isTier(v.tier)) throw integrityError(`a version of ${JSON.stringify(v.path)} has an unknown type or tier`);
  return { version: v.version, type: v.type, tier: v.tier, createdAt: v.createdAt, actor: v.actor, current: v.version === current };
}

export function macListing(keys: Keyring, text: string): Uint8Array {
  return keys.macRow(LISTING_DOMAIN, [text]);
}

export function verifyListing(keys: Keyring, text: string, mac: Uint8Array | null): void {
  if (mac === null) throw integrityError("the list of secrets is not authenticated");
  keys.verifyRow(LISTING_DOMAIN, [text], mac, "the list of secrets was modified outside authy");
}

const FIELD = "\u001f";

function int(s: string | undefined, nullable: boolean): number | null {
  if (s === undefined) throw integrityError("malformed listing");
  if (s === "" && nullable) return null;
  if (!/^-?\d+$/.test(s)) throw integrityError("malformed listing");
  return Number(s);
}

/** Parses the authenticated listing text (see Store.listingText) into summaries. */
export function parseListing(text: string): SecretSummary[] {
  if (text === "") return [];
  const out: SecretSummary[] = [];
  let at = 0;
  while (at < text.length) {
    const colon = text.indexOf(":", at);
    const lengthBytes = Number(text.slice(at, colon));
    // Paths are ASCII by construction (validatePath), so bytes = UTF-16 units; anything else is tampering.
    const path = text.slice(colon + 1, colon + 1 + lengthBytes);
    let end = text.indexOf("\n", colon + 1 + lengthBytes);
    if (end === -1) end = text.length;
    const fields = text.slice(colon + 1 + lengthBytes, end).split(FIELD);
    if (colon === -1 || !Number.isInteger(lengthBytes) || fields.length !== 7 || fields[0] !== "") throw integrityError("malformed listing");
    const [, type, tier, version, deletedAt, updatedAt, expiresAt] = fields as [string, string, string, string, string, string, string];
    if (!isSecretType(type) || !isTier(tier)) throw integrityError("malformed listing");
    const cut = path.lastIndexOf("/");
    out.push({
      path,
      namespace: path.slice(0, cut),
      key: path.slice(cut + 1),
      type,
      tier,
      version: int(version, false)!,
      deletedAt: int(deletedAt, true),
      updatedAt: int(updatedAt, false)!,
      expiresAt: int(expiresAt, true),
    });
    at = end + 1;
  }
  return out;
}
