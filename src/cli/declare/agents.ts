import type { Command } from "@commander-js/extra-typings";
import { lazy } from "../action.js";
import { help, VAULT_EXITS } from "../help-text.js";

const agents = () => import("../commands/agents.js");

/** `authy agents …`: named agents and their keys. */
export function declareAgents(program: Command): void {
  const ag = program
    .command("agents")
    .description("named agents: a long-lived key exchanged for short-lived tokens")
    .addHelpText("after", help(["authy agents create deploy-bot --scope deploy", "authy agents list"], [...VAULT_EXITS, 4]));
  ag.command("create <name>")
    .description("create an agent and print its key once")
    .addHelpText(
      "after",
      help(
        ["authy agents create deploy-bot --scope deploy", 'authy agents create ci --scope "secrets:read:ci/*" --description "GitHub Actions"'],
        [...VAULT_EXITS, 3, 4],
      ),
    )
    .option("--scope <scope>", "its maximum scope: a policy scope name or secrets:read:prod/*")
    .option("--description <text>", "what it is for")
    .action(lazy(agents, (m) => m.create));
  ag.command("list")
    .description("list agents")
    .addHelpText("after", help(["authy agents list", "authy agents list --json"], [...VAULT_EXITS, 4]))
    .action(lazy(agents, (m) => m.list));
  ag.command("revoke <name>")
    .description("revoke an agent and all its tokens at once")
    .addHelpText("after", help(["authy agents revoke deploy-bot", "authy agents revoke deploy-bot --json"], [...VAULT_EXITS, 3, 4]))
    .action(lazy(agents, (m) => m.revoke));
}
