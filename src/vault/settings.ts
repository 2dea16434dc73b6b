import { AuthyError } from "../errors.js";
import type { SettingsRow, StoreReader } from "../store/store.js";
import { formatDuration, parseDuration } from "../formats/duration.js";
import { requireOwner } from "./access.js";
import { audit } from "./audit-log.js";
import type { VaultContext } from "./context.js";
import type { Keyring } from "./keyring.js";
import { DEFAULT_SETTINGS, type VaultSettings } from "./vault-settings.js";

export { DEFAULT_SETTINGS, type VaultSettings } from "./vault-settings.js";

/**
 * The owner's settings: who hears of approval requests and how long a request waits. They
 * used to live in `$AUTHY_HOME/config.yaml`, which any same-user agent could rewrite (silence
 * the desktop, point the webhook at itself, let requests wait 24 h); now they are one
 * authenticated, fresh row in the vault, changed only by the owner with `authy config set`,
 * each change audited. config.yaml is no longer read (the CLI says so when it finds one).
 *
 * Stored as canonical JSON: {"approvals.expiry":MS|null,"notify.desktop":BOOL,"notify.webhook":URL|null},
 * keys in this order; the row MAC binds it ("authy/settings/v1").
 */
const SETTINGS_DOMAIN = "authy/settings/v1";

const SETTING_KEYS = ["notify.webhook", "notify.desktop", "approvals.expiry"] as const;
type SettingKey = (typeof SETTING_KEYS)[number];

/** Bounds on `approvals.expiry`: long enough to notice, short enough not to pile up. */
const MIN_APPROVAL_EXPIRY_MS = 60_000;
const MAX_APPROVAL_EXPIRY_MS = 24 * 60 * 60_000;
/** Longer is not a webhook URL anyone means. */
const MAX_WEBHOOK_CHARS = 2048;

export interface SettingEntry {
  key: SettingKey;
  /** As `config get` prints it; "" when unset. */
  value: string;
  isDefault: boolean;
}

function canonical(s: VaultSettings): string {
  return JSON.stringify({ "approvals.expiry": s.approvals.expiryMs, "notify.desktop": s.notify.desktop, "notify.webhook": s.notify.webhook });
}

function seal(keys: Keyring, s: VaultSettings, now: number): SettingsRow {
  const document = canonical(s);
  return { document, updatedAt: now, mac: keys.macRow(SETTINGS_DOMAIN, [document, now]) };
}

/** The settings as stored (verified, and fresh when read through the core's store), or the defaults. */
export async function readSettings(store: StoreReader, keys: Keyring): Promise<VaultSettings> {
  const row = await store.getSettings();
  if (!row) return DEFAULT_SETTINGS;
  keys.verifyRow(SETTINGS_DOMAIN, [row.document, row.updatedAt], row.mac, "the settings were modified outside authy");
  const d = JSON.parse(row.document) as Record<string, unknown>;
  return {
    notify: { webhook: (d["notify.webhook"] as string | null) ?? null, desktop: d["notify.desktop"] !== false },
    approvals: { expiryMs: (d["approvals.expiry"] as number | null) ?? null },
  };
}

function isSettingKey(key: string): key is SettingKey {
  return (SETTING_KEYS as readonly string[]).includes(key);
}

function checkKey(key: string): SettingKey {
  if (!isSettingKey(key)) throw new AuthyError("INVALID_INPUT", `unknown setting ${JSON.stringify(key)}`, { hint: `one of ${SETTING_KEYS.join(", ")}` });
  return key;
}

/** The new settings with one key set (null: back to its default). Validates the value. */
function applySetting(s: VaultSettings, key: SettingKey, value: string | null): VaultSettings {
  const next: VaultSettings = { notify: { ...s.notify }, approvals: { ...s.approvals } };
  if (key === "notify.webhook") next.notify.webhook = value === null ? null : webhookUrl(value);
  else if (key === "notify.desktop") next.notify.desktop = value === null ? true : bool(value);
  else next.approvals.expiryMs = value === null ? null : expiry(value);
  return next;
}

function webhookUrl(s: string): string {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new AuthyError("INVALID_INPUT", "notify.webhook must be an http:// or https:// URL");
  }
  if ((u.protocol !== "http:" && u.protocol !== "https:") || u.username !== "" || u.password !== "" || s.length > MAX_WEBHOOK_CHARS) {
    throw new AuthyError("INVALID_INPUT", "notify.webhook must be an http:// or https:// URL without user:password@");
  }
  return s;
}

function bool(s: string): boolean {
  if (s === "true") return true;
  if (s === "false") return false;
  throw new AuthyError("INVALID_INPUT", "notify.desktop must be true or false");
}

function expiry(s: string): number {
  const ms = parseDuration(s);
  if (ms < MIN_APPROVAL_EXPIRY_MS || ms > MAX_APPROVAL_EXPIRY_MS) throw new AuthyError("INVALID_INPUT", "approvals.expiry must be between 1m and 24h");
  return ms;
}

function settingEntries(s: VaultSettings): SettingEntry[] {
  const shown = shownValues(s);
  const defaults = shownValues(DEFAULT_SETTINGS);
  return SETTING_KEYS.map((key) => ({ key, value: shown[key], isDefault: shown[key] === defaults[key] }));
}

function shownValues(s: VaultSettings): Record<SettingKey, string> {
  return {
    "notify.webhook": s.notify.webhook ?? "",
    "notify.desktop": String(s.notify.desktop),
    "approvals.expiry": s.approvals.expiryMs === null ? "" : formatDuration(s.approvals.expiryMs),
  };
}

export async function listSettings(ctx: VaultContext): Promise<SettingEntry[]> {
  requireOwner(ctx, "read the settings");
  return settingEntries(await readSettings(ctx.store, ctx.keys));
}

/** Sets one key (null: back to its default), audited as `config.set`; the webhook URL itself is not logged. */
export async function setSetting(ctx: VaultContext, key: string, value: string | null): Promise<SettingEntry[]> {
  requireOwner(ctx, "change the settings");
  const k = checkKey(key);
  return ctx.store.write(async (tx) => {
    const next = applySetting(await readSettings(tx, ctx.keys), k, value);
    await tx.putSettings(seal(ctx.keys, next, ctx.clock.now()));
    const logged = k === "notify.webhook" && value !== null ? new URL(value).host : value;
    await audit(tx, ctx, "config.set", k, { value: logged });
    return settingEntries(next);
  });
}
