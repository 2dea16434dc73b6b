import { integrityError } from "../errors.js";
import type { SecretRow, VersionRow } from "../store/store.js";
import { encodeFields } from "../crypto/index.js";
import type { Keyring } from "./keyring.js";
import { validatePath } from "./path.js";
import { decodeAttributes } from "./secret-attributes.js";
import { isSecretType, isTier, type SecretMeta, type SecretSummary, type VersionInfo } from "./types.js";

/**
 * The authenticated shape of stored secret rows. The row MAC covers every column that says
 * what a secret is or who may read it; the value's additional data binds the version row to
 * its vault, path, version, type and tier, so a ciphertext moved elsewhere fails to open.
 *
 * The listing (what `secrets list` shows and what decides which secrets exist) is MACed as one
 * text, kept in the vault row's listing_mac (macListing, domain "authy/listing/v1"):
 *   listing text = the listing line of every secret row, by path in UTF-8 byte order, joined
 *                  by LF ("" when there is none; the store joins the lines it was given)
 *   listing line = <UTF-8 byte length of path> ":" path US type US tier US current version
 *                  US deleted-at US updated-at US expires-at
 * Integers in decimal, a null as the empty string, US = U+001F. The length prefix means no
 * character inside a path can move a field boundary. The line is built here (listingLine) and
 * stored with the row; the same bytes as the column SQLite generated for vaults before
 * schema 9, so those vaults keep their listing MAC.
 */
const SECRET_DOMAIN = "authy/secret/v1";
const LISTING_DOMAIN = "authy/listing/v1";
const VALUE_AAD_DOMAIN = "authy/value/v1";

type SecretFields = Omit<SecretRow, "mac" | "listing">;

function secretFields(r: SecretFields) {
  return [r.path, r.namespace, r.type, r.tier, r.description, r.tags, r.expiresAt, r.currentVersion, r.deletedAt, r.createdAt, r.updatedAt];
}

const LISTING_FIELD = "\u001f";

/** A secret row's line of the listing text (the format is at the top of this file). */
export function listingLine(r: Pick<SecretRow, "path" | "type" | "tier" | "currentVersion" | "deletedAt" | "updatedAt" | "expiresAt">): string {
  const F = LISTING_FIELD;
  return `${Buffer.byteLength(r.path, "utf8")}:${r.path}${F}${r.type}${F}${r.tier}${F}${r.currentVersion}${F}${r.deletedAt ?? ""}${F}${r.updatedAt}${F}${r.expiresAt ?? ""}`;
}

/** The row as stored: its MAC and its listing line, both from these fields (an old listing in `r` is replaced). */
export function sealSecretRow(keys: Keyring, r: SecretFields & { listing?: string }): SecretRow {
  const { listing: _old, ...fields } = r;
  return { ...fields, mac: keys.macRow(SECRET_DOMAIN, secretFields(fields)), listing: listingLine(fields) };
}

/** Verifies a row and turns it into metadata; INTEGRITY if anything was edited. */
export function openSecretRow(keys: Keyring, r: SecretRow): SecretMeta {
  keys.verifyRow(SECRET_DOMAIN, secretFields(r), r.mac, () => `secret ${JSON.stringify(r.path)} was modified outside authy`);
  if (!isSecretType(r.type) || !isTier(r.tier)) throw integrityError(`secret ${JSON.stringify(r.path)} has an unknown type or tier`);
  const p = validatePath(r.path);
  const { tags, generator, rotationPending } = decodeAttributes(r.tags, r.path);
  if (generator === null && rotationPending === undefined) {
    // The common case as one literal (the same keys in the same order as below): no object
    // spreads per row, a thousand rows a read.
    return {
      path: r.path,
      namespace: p.namespace,
      key: p.key,
      type: r.type,
      tier: r.tier,
      description: r.description,
      tags,
      expiresAt: r.expiresAt,
      version: r.currentVersion,
      deletedAt: r.deletedAt,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
    };
  }
  return {
    path: r.path,
    namespace: p.namespace,
    key: p.key,
    type: r.type,
    tier: r.tier,
    description: r.description,
    tags,
    ...(generator === null ? {} : { generator }),
    ...(rotationPending === undefined ? {} : { rotationPending }),
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

/**
 * A version row is fresh when its (fresh) secret row says so: version rows are never rewritten,
 * so the only earlier copies are those of a secret purged and made again, which are newer than
 * its current version or older than the secret itself (createdAt is bound by the additional
 * data, so it cannot be edited to pass).
 */
export function checkVersionFresh(meta: Pick<SecretMeta, "path" | "version" | "createdAt">, v: Pick<VersionRow, "version" | "createdAt">): void {
  if (v.version > meta.version || v.createdAt < meta.createdAt) {
    throw integrityError(`version ${v.version} of ${meta.path} is not one of its versions (put back from before a purge?)`);
  }
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

const FIELD = LISTING_FIELD;
const FIELD_CODE = 0x1f;

/** Parses the authenticated listing text (see Store.listingText) into summaries. */
export function parseListing(text: string): SecretSummary[] {
  // One pass with indexOf and no intermediate arrays: `secrets list` of 100,000 names spends
  // most of its time here. The text is MAC-verified before it is parsed; the checks below
  // only keep a malformed one from turning into wrong summaries.
  const out: SecretSummary[] = [];
  const n = text.length;
  let at = 0;
  while (at < n) {
    const colon = colonAt(text, at);
    const pathEnd = pathEndAt(text, at, colon);
    const lineEnd = lineEndAt(text, pathEnd);
    const ends: number[] = [];
    let from = pathEnd + 1;
    for (let i = 0; i < 5; i++) {
      const sep = text.indexOf(FIELD, from);
      if (sep === -1 || sep > lineEnd) throw malformedListing();
      ends.push(sep);
      from = sep + 1;
    }
    const last = text.indexOf(FIELD, from);
    if (last !== -1 && last < lineEnd) throw malformedListing();
    const type = text.slice(pathEnd + 1, ends[0]);
    const tier = text.slice(ends[0]! + 1, ends[1]);
    if (!isSecretType(type) || !isTier(tier)) throw malformedListing();
    const path = text.slice(colon + 1, pathEnd);
    const cut = path.lastIndexOf("/");
    out.push({
      path,
      namespace: path.slice(0, cut),
      key: path.slice(cut + 1),
      type,
      tier,
      version: intIn(text, ends[1]! + 1, ends[2]!, false)!,
      deletedAt: intIn(text, ends[2]! + 1, ends[3]!, true),
      updatedAt: intIn(text, ends[3]! + 1, ends[4]!, false)!,
      expiresAt: intIn(text, ends[4]! + 1, lineEnd, true),
    });
    at = lineEnd + 1;
  }
  return out;
}

/**
 * Only the paths of the listing text, and only those not deleted unless asked: what
 * `secrets list` prints to a pipe. No summary objects, so 100,000 names cost 100,000 strings.
 */
export function listedPaths(text: string, opts: { includeDeleted?: boolean } = {}): string[] {
  const out: string[] = [];
  const n = text.length;
  let at = 0;
  while (at < n) {
    const colon = colonAt(text, at);
    const pathEnd = pathEndAt(text, at, colon);
    const lineEnd = lineEndAt(text, pathEnd);
    let keep = true;
    if (!opts.includeDeleted) {
      // deletedAt is the fourth field after the path (type, tier, version, deletedAt, …).
      let sep = pathEnd;
      for (let i = 0; i < 3; i++) {
        sep = text.indexOf(FIELD, sep + 1);
        if (sep === -1 || sep > lineEnd) throw malformedListing();
      }
      keep = text.charCodeAt(sep + 1) === FIELD_CODE;
    }
    if (keep) out.push(text.slice(colon + 1, pathEnd));
    at = lineEnd + 1;
  }
  return out;
}

/*
 * A listing line starts "<path length>:<path>" and a field separator; the helpers below find
 * those positions (line starting at `at`) for both parsers.
 */
function colonAt(text: string, at: number): number {
  const colon = text.indexOf(":", at);
  if (colon === -1) throw malformedListing();
  return colon;
}

function pathEndAt(text: string, at: number, colon: number): number {
  // Paths are ASCII by construction (validatePath), so bytes = UTF-16 units; anything else is tampering.
  const pathEnd = colon + 1 + intIn(text, at, colon, false)!;
  if (text.charCodeAt(pathEnd) !== FIELD_CODE) throw malformedListing();
  return pathEnd;
}

function lineEndAt(text: string, from: number): number {
  const lineEnd = text.indexOf("\n", from);
  return lineEnd === -1 ? text.length : lineEnd;
}

function malformedListing(): Error {
  return integrityError("malformed listing");
}

/** The integer written in text[start, end): optionally signed decimal digits, or nothing when nullable. */
function intIn(text: string, start: number, end: number, nullable: boolean): number | null {
  if (start === end) {
    if (nullable) return null;
    throw malformedListing();
  }
  let i = start;
  const negative = text.charCodeAt(i) === 0x2d; // "-"
  if (negative) i++;
  if (i === end || end - i > 16) throw malformedListing();
  let value = 0;
  for (; i < end; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) throw malformedListing();
    value = value * 10 + digit;
  }
  if (!Number.isSafeInteger(value)) throw malformedListing();
  return negative ? -value : value;
}
