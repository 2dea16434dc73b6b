import type { Command } from "@commander-js/extra-typings";
import { lazy } from "../action.js";
import { help, VAULT_EXITS } from "../help-text.js";

const keys = () => import("../commands/keys.js");

/** `authy keys …`: the age key slots that unlock the vault. */
export function declareKeys(program: Command): void {
  const k = program
    .command("keys")
    .description("manage who can unlock the vault (age key slots)")
    .addHelpText("after", help(["authy keys list", "authy keys add age1…"], [...VAULT_EXITS, 3, 4]));
  k.command("add <recipient>")
    .description("let an age recipient (age1…) unlock the vault")
    .addHelpText(
      "after",
      help(
        [
          "authy keys add age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p --label laptop",
          'authy keys add "$(authy keys generate --out ~/.authy-identity.txt)"',
        ],
        [...VAULT_EXITS, 4],
      ),
    )
    .option("--label <text>", "a name for this key")
    .action(lazy(keys, (m) => m.add));
  k.command("list")
    .description("list key slots")
    .addHelpText("after", help(["authy keys list", "authy keys list --json"], [...VAULT_EXITS, 4]))
    .action(lazy(keys, (m) => m.list));
  k.command("remove <id>")
    .description("remove a key slot (by id or recipient)")
    .addHelpText("after", help(["authy keys remove slot_…", "authy keys remove age1…"], [...VAULT_EXITS, 3, 4]))
    .action(lazy(keys, (m) => m.remove));
  k.command("generate")
    .description("create a new age identity file")
    .addHelpText("after", help(["authy keys generate --out ~/.authy-identity.txt", "authy keys generate > identity.txt"], [0, 2, 8]))
    .option("--out <file>", "write it to this file (0600)")
    .option("--force", "replace the --out file if it exists")
    .action(lazy(keys, (m) => m.generate));
}
