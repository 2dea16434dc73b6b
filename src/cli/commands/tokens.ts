import { AuthyError } from "../../errors.js";
import { tokenIdOf } from "../../vault/token-id.js";
import { parseDuration } from "../../formats/duration.js";
import type { CliContext } from "../context.js";
import { issuedTokenJson, tokenJson, tokenStatus } from "../json-output.js";
import { isoTime, table } from "../output.js";

/** `authy tokens create|list|revoke`: tokens of the running daemon or server. */

export async function create(
  ctx: CliContext,
  flags: { scope?: string; scopes?: string; ttl?: string; uses?: string; agent?: string; label?: string },
): Promise<void> {
  if (flags.scope && flags.scopes) throw new AuthyError("INVALID_INPUT", "use either --scope or --scopes");
  const uses = flags.uses === undefined ? undefined : Number(flags.uses);
  if (flags.uses !== undefined && (!/^\d+$/.test(flags.uses) || uses! < 1))
    throw new AuthyError("INVALID_INPUT", "--uses must be a whole number of at least 1");
  const client = await ctx.client({ issuesTokens: true });
  const issued = await client.issueToken({
    scope: flags.scope ?? flags.scopes,
    ttlMs: flags.ttl === undefined ? undefined : parseDuration(flags.ttl),
    uses,
    agent: flags.agent,
    label: flags.label,
  });
  for (const n of issued.notices) ctx.out.warn(n);
  ctx.out.result(issuedTokenJson(issued), () => issued.token);
  ctx.out.info(`token ${issued.id} for ${issued.scope}, valid until ${isoTime(issued.expiresAt)}; shown only now: use it as AUTHY_TOKEN`);
}

export async function list(ctx: CliContext): Promise<void> {
  const client = await ctx.client();
  const tokens = await client.listTokens();
  const now = Date.now();
  ctx.out.result({ items: tokens.map((t) => tokenJson(t, now)) }, () =>
    table(
      ["ID", "SCOPE", "AGENT", "EXPIRES", "USES", "STATUS"],
      tokens.map((t) => [
        t.id,
        t.scope.name,
        t.agent ?? "",
        isoTime(t.expiresAt),
        t.maxUses === null ? "unlimited" : `${t.uses}/${t.maxUses}`,
        tokenStatus(t, now),
      ]),
    ),
  );
}

export async function revoke(ctx: CliContext, given: string): Promise<void> {
  const client = await ctx.client();
  const t = await client.revokeToken(tokenIdOf(given));
  ctx.out.result(tokenJson(t, Date.now()), () => "");
  ctx.out.info(`revoked token ${t.id}`);
}
