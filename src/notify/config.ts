import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { AuthyError } from "../errors.js";
import { CONFIG_LIMIT, readFileBounded } from "../files/bounded-read.js";
import { parseDuration } from "../formats/duration.js";

/**
 * `$AUTHY_HOME/config.yaml`: settings that are not secrets and not access decisions.
 *
 *   notify:
 *     webhook: https://hooks.example.com/authy   # JSON POST for each new approval request
 *     desktop: true                             # notify-send, where present (default true)
 *   approvals:
 *     expiry: 10m                               # how long a request waits for the owner
 *
 * A missing file means the defaults. Unknown keys are refused rather than ignored, so that a
 * misspelled `webhok` is not silently a vault that tells nobody.
 */
const CONFIG_FILE = "config.yaml";
/** Bounds on `approvals.expiry`: long enough to notice, short enough not to pile up. */
const MIN_APPROVAL_EXPIRY_MS = 60_000;
const MAX_APPROVAL_EXPIRY_MS = 24 * 60 * 60_000;

const webhookUrl = z
  .string()
  .max(2048)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === "http:" || u.protocol === "https:") && u.username === "" && u.password === "";
    } catch {
      return false;
    }
  }, "must be an http:// or https:// URL without user:password@");

const schema = z.strictObject({
  notify: z.strictObject({ webhook: webhookUrl.optional(), desktop: z.boolean().optional() }).optional(),
  approvals: z.strictObject({ expiry: z.string().max(64).optional() }).optional(),
});

interface AuthyConfig {
  notify: { webhook: string | null; desktop: boolean };
  approvals: { expiryMs: number | null };
}

export const DEFAULT_CONFIG: AuthyConfig = { notify: { webhook: null, desktop: true }, approvals: { expiryMs: null } };

/** Parses and checks the file's text; `source` names it in errors. */
export function parseConfig(text: string, source: string): AuthyConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 10 });
  } catch (e) {
    throw new AuthyError("INVALID_INPUT", `${source} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  const r = schema.safeParse(doc ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    throw new AuthyError("INVALID_INPUT", `${source}: ${where}${issue?.message ?? "malformed"}`, { hint: "see `notify` and `approvals` in the README" });
  }
  let expiryMs: number | null = null;
  if (r.data.approvals?.expiry !== undefined) {
    expiryMs = parseDuration(r.data.approvals.expiry);
    if (expiryMs < MIN_APPROVAL_EXPIRY_MS || expiryMs > MAX_APPROVAL_EXPIRY_MS) {
      throw new AuthyError("INVALID_INPUT", `${source}: approvals.expiry must be between 1m and 24h`);
    }
  }
  return {
    notify: { webhook: r.data.notify?.webhook ?? null, desktop: r.data.notify?.desktop ?? true },
    approvals: { expiryMs },
  };
}

export async function loadConfig(home: string): Promise<AuthyConfig> {
  const file = path.join(home, CONFIG_FILE);
  let text: string;
  try {
    text = (await readFileBounded(file, CONFIG_LIMIT)).toString("utf8");
  } catch (e) {
    if (e instanceof AuthyError && e.code === "NOT_FOUND") return DEFAULT_CONFIG;
    throw e;
  }
  return parseConfig(text, file);
}

/**
 * config.yaml is no longer read: notification and approval settings live in the vault,
 * authenticated and changed only by the owner (`authy config set`), because any same-user
 * agent can rewrite a file in AUTHY_HOME. It is not imported by itself either (an agent could
 * plant one before the owner's next unlock). When one is found, this says so, with the
 * commands that would carry its settings over for the owner to run; null when there is none.
 */
export async function legacyConfigNotice(home: string): Promise<string | null> {
  const file = path.join(home, CONFIG_FILE);
  let config: AuthyConfig;
  try {
    config = await loadConfig(home);
  } catch (e) {
    if (e instanceof AuthyError && e.code === "INVALID_INPUT")
      return `${file} is no longer read (settings live in the vault now: \`authy config list\`); delete it`;
    throw e;
  }
  if (config === DEFAULT_CONFIG) return null;
  const commands: string[] = [];
  if (config.notify.webhook !== null) commands.push(`authy config set notify.webhook ${config.notify.webhook}`);
  if (!config.notify.desktop) commands.push("authy config set notify.desktop false");
  if (config.approvals.expiryMs !== null) commands.push(`authy config set approvals.expiry ${config.approvals.expiryMs / 1000}s`);
  const carry = commands.length > 0 ? `; to keep its settings, check them and run: ${commands.join(" && ")}` : "";
  return `${file} is no longer read: settings live in the vault now (an agent could rewrite that file)${carry}; then delete it`;
}
