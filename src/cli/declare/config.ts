import type { Command } from "@commander-js/extra-typings";
import { lazy } from "../action.js";
import { help, VAULT_EXITS } from "../help-text.js";

const config = () => import("../commands/config.js");

/** `authy config …`: the owner's settings. */
export function declareConfig(program: Command): void {
  const cfg = program
    .command("config")
    .description("owner settings kept in the vault: notify.webhook, notify.desktop, approvals.expiry")
    .addHelpText("after", help(["authy config list", "authy config set approvals.expiry 10m"], [...VAULT_EXITS, 3, 4]));
  cfg
    .command("list")
    .description("every setting and its value")
    .addHelpText("after", help(["authy config list", "authy config list --json"], [...VAULT_EXITS, 4]))
    .action(lazy(config, (m) => m.list));
  cfg
    .command("get <key>")
    .description("print one setting")
    .addHelpText("after", help(["authy config get notify.webhook", "authy config get approvals.expiry --json"], [...VAULT_EXITS, 3, 4]))
    .action(lazy(config, (m) => m.get));
  cfg
    .command("set <key> <value>")
    .description("change a setting (owner only; audited)")
    .addHelpText(
      "after",
      help(["authy config set notify.webhook https://hooks.example.com/authy", "authy config set notify.desktop false"], [...VAULT_EXITS, 3, 4]),
    )
    .action(lazy(config, (m) => m.set));
  cfg
    .command("unset <key>")
    .description("put a setting back to its default")
    .addHelpText("after", help(["authy config unset notify.webhook", "authy config unset approvals.expiry"], [...VAULT_EXITS, 3, 4]))
    .action(lazy(config, (m) => m.unset));
}
