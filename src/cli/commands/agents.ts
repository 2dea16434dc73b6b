import { AuthyError } from "../../errors.js";
import { parseDuration } from "../../formats/duration.js";
import type { CliContext } from "../context.js";
import { agentJson, issuedTokenJson, tokenJson, tokenStatus } from "../json-output.js";
import { isoTime, table } from "../output.js";

export async function create(ctx: CliContext, name: string, flags: { scope?: string; description?: string }): Promise<void> {
  if (!flags.scope) throw new AuthyError("INVALID_INPUT", "an agent needs a maximum scope", { hint: "pass --scope NAME or --scope secrets:read:prod/*" });
  const client = await ctx.client();
  const { agent, key } = await client.createAgent(name, { scope: flags.scope, description: flags.description });
  // The key is printed once, on stdout, so it can be captured: `KEY=$(authy agents create …)`.
  ctx.out.result({ ...agentJson(agent), key }, () => key);
  ctx.out.info(`created agent ${agent.name} (scope ${agent.scope}); its key is shown only now: give it to the agent as AUTHY_AGENT_KEY`);
}

export async function list(ctx: CliContext): Promise<void> {
  const client = await ctx.client();
  const agents = await client.listAgents();
  ctx.out.result({ items: agents.map(agentJson) }, () =>
    table(["NAME", "SCOPE", "CREATED", "STATUS", "DESCRIPTION"], agents.map((a) => [a.name, a.scope, isoTime(a.createdAt), a.revokedAt === null ? "active" : `revoked ${isoTime(a.revokedAt)}`, a.description])),
  );
}

export async function revoke(ctx: CliContext, name: string): Promise<void> {
  const client = await ctx.client();
  const agent = await client.revokeAgent(name);
  ctx.out.result(agentJson(agent), () => "");
  ctx.out.info(`revoked agent ${agent.name} and every token it holds`);
}

export async function createToken(ctx: CliContext, flags: { scope?: string; scopes?: string; ttl?: string; uses?: string; agent?: string; label?: string }): Promise<void> {
  if (flags.scope && flags.scopes) throw new AuthyError("INVALID_INPUT", "use either --scope or --scopes");
  const uses = flags.uses === undefined ? undefined : Number(flags.uses);
  if (flags.uses !== undefined && (!/^\d+$/.test(flags.uses) || uses! < 1)) throw new AuthyError("INVALID_INPUT", "--uses must be a whole number of at least 1");
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

export async function listTokens(ctx: CliContext): Promise<void> {
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
        t.maxUses === null ? String(t.uses) : `${t.uses}/${t.maxUses}`,
        tokenStatus(t, now),
      ]),
    ),
  );
}

export async function revokeToken(ctx: CliContext, id: string): Promise<void> {
  const client = await ctx.client();
  const t = await client.revokeToken(id);
  ctx.out.result(tokenJson(t, Date.now()), () => "");
  ctx.out.info(`revoked token ${t.id}`);
}
