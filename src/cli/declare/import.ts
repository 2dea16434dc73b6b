import { Argument, type Command, Option } from "@commander-js/extra-typings";
import { IMPORT_KINDS } from "../../importers/source.js";
import { TIERS } from "../../vault/types.js";
import { lazy } from "../action.js";
import { help, VAULT_EXITS } from "../help-text.js";
import { approvalWait } from "../options.js";

const importCommand = () => import("../commands/import.js");

/** `authy import`: other secret stores, all or nothing. */
export function declareImport(program: Command): void {
  approvalWait(
    program
      .command("import")
      .description("import a pass or passage store, a dotenvx-encrypted .env, or a flat JSON/YAML map, all or nothing")
      .addHelpText(
        "after",
        help(
          [
            "authy import pass --namespace personal",
            "authy import dotenvx .env.production --namespace app/prod --dry-run",
            "authy import json secrets.json --namespace app",
          ],
          [...VAULT_EXITS, 3, 4, 5],
        ),
      )
      .addArgument(new Argument("<kind>", "what SOURCE is").choices(IMPORT_KINDS))
      .argument("[source]", "the store folder (default ~/.password-store, ~/.passage/store) or file (- for stdin: json, yaml)")
      .requiredOption("--namespace <ns>", "target namespace; store folders become namespaces below it")
      .option("--dry-run", "show what would change, write nothing")
      .option("--no-overwrite", "keep existing secrets")
      .addOption(new Option("--tier <tier>", "tier of imported secrets").choices(TIERS))
      .option("--keep-notes", "pass, passage: keep the lines after the first as the description")
      .option("--identities <file>", "passage: the age identity file (default $PASSAGE_IDENTITIES_FILE or ~/.passage/identities)")
      .option("--env-keys-file <file>", "dotenvx: the .env.keys file (default: beside SOURCE; DOTENV_PRIVATE_KEY* in the environment win)"),
  ).action(lazy(importCommand, (m) => m.importStore));
}
