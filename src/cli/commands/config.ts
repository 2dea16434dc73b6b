import { AuthyError } from "../../errors.js";
import { legacyConfigNotice } from "../../notify/config.js";
import type { SettingEntry } from "../../vault/settings.js";
import type { CliContext } from "../context.js";
import { table } from "../output.js";

/**
 * `authy config`: the owner's settings (notifications, approval expiry), kept in the vault
 * (src/vault/settings.ts), never in a file an agent could rewrite.
 */
async function warnLegacy(ctx: CliContext): Promise<void> {
  const notice = await legacyConfigNotice(ctx.home).catch(() => null);
  if (notice) ctx.out.warn(notice);
}

function render(ctx: CliContext, items: SettingEntry[]): void {
  ctx.out.result({ items }, () =>
    table(
      ["KEY", "VALUE", ""],
      items.map((s) => [s.key, s.value === "" ? "-" : s.value, s.isDefault ? "(default)" : ""]),
    ),
  );
}

export async function list(ctx: CliContext): Promise<void> {
  await warnLegacy(ctx);
  render(ctx, await (await ctx.client()).settings());
}

export async function get(ctx: CliContext, key: string): Promise<void> {
  await warnLegacy(ctx);
  const item = (await (await ctx.client()).settings()).find((s) => s.key === key);
  if (!item) throw new AuthyError("INVALID_INPUT", `unknown setting ${JSON.stringify(key)}`, { hint: "see `authy config list`" });
  ctx.out.result(item, () => item.value);
}

export async function set(ctx: CliContext, key: string, value: string): Promise<void> {
  await warnLegacy(ctx);
  render(ctx, await (await ctx.client()).setSetting(key, value));
}

export async function unset(ctx: CliContext, key: string): Promise<void> {
  render(ctx, await (await ctx.client()).setSetting(key, null));
}
