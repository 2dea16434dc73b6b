import { Option, type Command } from "commander";
import { help, VAULT_EXITS } from "../help-text.js";
import { lazy } from "../program.js";

const members = () => import("../commands/members.js");

/** `authy members …`: the people of a team server (admins, and members limited by a scope). */
export function declareMembers(program: Command): void {
  const m = program
    .command("members")
    .description("the people of a team server: admins, and members limited by a scope, each with a personal key")
    .addHelpText("after", help(["authy members add alice --role admin", "authy members list"], [...VAULT_EXITS, 4]));
  m.command("add <name>")
    .description("add a member and print its key once")
    .addHelpText(
      "after",
      help(["authy members add alice --role admin", 'authy members add bob --role member --scope "secrets:read+approve:staging/**"'], [...VAULT_EXITS, 2, 4]),
    )
    .addOption(new Option("--role <role>", "admin: everything; member: what --scope allows").choices(["admin", "member"]).makeOptionMandatory())
    .option("--scope <scope>", "a member's scope: a policy scope name or secrets:read+approve:prod/**")
    .action(lazy(members, "add"));
  m.command("list")
    .description("list members")
    .addHelpText("after", help(["authy members list", "authy members list --json"], [...VAULT_EXITS, 4]))
    .action(lazy(members, "list"));
  m.command("revoke <name>")
    .description("revoke a member: its key is refused at once")
    .addHelpText("after", help(["authy members revoke bob"], [...VAULT_EXITS, 3, 4]))
    .action(lazy(members, "revoke"));
  m.command("rotate-key [name]")
    .description("a new key for yourself (stored in your login profile), or, as an admin, for the member named")
    .addHelpText("after", help(["authy members rotate-key", "authy members rotate-key bob --json"], [...VAULT_EXITS, 3, 4]))
    .action(lazy(members, "rotateKey"));
}
