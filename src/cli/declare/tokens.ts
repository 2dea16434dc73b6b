import type { Command } from "@commander-js/extra-typings";
import { lazy } from "../action.js";
import { help, VAULT_EXITS } from "../help-text.js";

const tokens = () => import("../commands/tokens.js");

/** `authy tokens …`: short-lived scoped tokens. */
export function declareTokens(program: Command): void {
  const tk = program
    .command("tokens")
    .description("short-lived scoped tokens (served by the daemon)")
    .addHelpText("after", help(["authy tokens create --scope deploy --ttl 15m", "authy tokens list"], [...VAULT_EXITS, 4]));
  tk.command("create")
    .description("issue a token and print it once")
    .addHelpText(
      "after",
      help(
        [
          "authy tokens create --scope deploy --ttl 15m",
          'token=$(authy tokens create --scopes "secrets:read:prod/*" --uses 2)',
          'authy tokens create --agent deploy-bot --label "release 1.4"',
        ],
        [...VAULT_EXITS, 3, 4],
      ),
    )
    .option("--scope <scope>", "a policy scope name")
    .option("--scopes <list>", 'compact scopes, e.g. "secrets:read:prod/*,secrets:list:prod/*"')
    .option("--ttl <duration>", "lifetime (default 15m, at most 24h)")
    .option("--uses <n>", "how many requests it may make")
    .option("--agent <name>", "issue it to this agent")
    .option("--label <text>", "a note shown in tokens list")
    .action(lazy(tokens, (m) => m.create));
  tk.command("list")
    .description("list tokens of the running daemon")
    .addHelpText("after", help(["authy tokens list", "authy tokens list --json"], [...VAULT_EXITS, 4]))
    .action(lazy(tokens, (m) => m.list));
  tk.command("revoke <id>")
    .description("revoke a token (and every token it issued), given its id or the whole token")
    .addHelpText("after", help(["authy tokens revoke 3xk2…", 'authy tokens revoke "$AUTHY_TOKEN"'], [...VAULT_EXITS, 3, 4]))
    .action(lazy(tokens, (m) => m.revoke));
}
