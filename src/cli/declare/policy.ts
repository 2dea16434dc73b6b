import type { Command } from "@commander-js/extra-typings";
import { lazy } from "../action.js";
import { help, VAULT_EXITS } from "../help-text.js";

const policy = () => import("../commands/policy.js");

/** `authy policy …`: scopes. */
export function declarePolicy(program: Command): void {
  const pol = program
    .command("policy")
    .description("scopes: who may do what to which paths")
    .addHelpText("after", help(["authy policy apply policy.yaml", "authy policy test deploy prod/DB_URL read"], [...VAULT_EXITS, 4]));
  pol
    .command("apply <file>")
    .description("validate and store a policy file (YAML)")
    .addHelpText("after", help(["authy policy apply policy.yaml", "authy policy apply policy.yaml --json"], [...VAULT_EXITS, 3, 4]))
    .action(lazy(policy, (m) => m.apply));
  pol
    .command("show")
    .description("print the stored policy")
    .addHelpText("after", help(["authy policy show", "authy policy show --json"], [...VAULT_EXITS, 4]))
    .action(lazy(policy, (m) => m.show));
  pol
    .command("test <scope> <path> <capability>")
    .description("allow or deny, and the rule that decided (exit 4 on deny)")
    .addHelpText(
      "after",
      help(["authy policy test deploy prod/DB_URL read", "authy policy test deploy prod/ROOT_PASSWORD read || echo denied"], [...VAULT_EXITS, 3, 4]),
    )
    .action(lazy(policy, (m) => m.test));
}
