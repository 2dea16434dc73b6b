import { AuthyError } from "../../errors.js";
import type { CliContext } from "../context.js";
import { agentJson } from "../json-output.js";
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
    table(
      ["NAME", "SCOPE", "CREATED", "STATUS", "DESCRIPTION"],
      agents.map((a) => [a.name, a.scope, isoTime(a.createdAt), a.revokedAt === null ? "active" : `revoked ${isoTime(a.revokedAt)}`, a.description]),
    ),
  );
}

export async function revoke(ctx: CliContext, name: string): Promise<void> {
  const client = await ctx.client();
  const agent = await client.revokeAgent(name);
  ctx.out.result(agentJson(agent), () => "");
  ctx.out.info(`revoked agent ${agent.name} and every token it holds`);
}
