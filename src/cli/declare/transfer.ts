import { type Command, Option } from "@commander-js/extra-typings";
import { lazy } from "../action.js";
import { help, VAULT_EXITS } from "../help-text.js";
import { collect } from "../options.js";

const transfer = () => import("../commands/transfer.js");

/** The vault's contents out and back: `export` (an age file), `backup`, `restore`. */
export function declareTransfer(program: Command): void {
  program
    .command("export")
    .description("write secrets to a standard age file that the stock `age` tool decrypts")
    .addHelpText(
      "after",
      help(["authy export --to age1… --out vault.age", "authy export --to age1… --namespace prod --format dotenv --armor"], [...VAULT_EXITS, 4]),
    )
    .requiredOption("--to <recipient>", "age recipient (age1…), repeatable", collect)
    .option("--namespace <ns>", "only this namespace (recursive)")
    .addOption(new Option("--format <format>", "inside the age file").choices(["json", "dotenv"]).default("json"))
    .option("--armor", "PEM-style ASCII armor")
    .option("--out <file>", "write to a file (0600) instead of stdout")
    .action(lazy(transfer, (m) => m.exportAge));

  program
    .command("backup [file]")
    .description("write a consistent, still-encrypted copy of the vault")
    .addHelpText("after", help(["authy backup", "authy backup ~/backups/vault-$(date +%F).db"], [...VAULT_EXITS, 4]))
    .action(lazy(transfer, (m) => m.backup));

  program
    .command("restore <file>")
    .description("replace the vault with a backup (the current one is kept aside)")
    .addHelpText("after", help(["authy restore ~/backups/vault-2026-01-31.db", "authy restore vault.db --yes"], [...VAULT_EXITS, 3, 4, 130]))
    .option("-y, --yes", "do not ask")
    .action(lazy(transfer, (m) => m.restore));
}
