import { type Command, Option } from "@commander-js/extra-typings";
import { EXPORT_FORMATS } from "../../formats/export-format-names.js";
import { TIERS } from "../../vault/types.js";
import { lazy } from "../action.js";
import { help, VAULT_EXITS } from "../help-text.js";
import { approvalWait } from "../options.js";

const env = () => import("../commands/env.js");

/** `authy env …`: namespaces in and out as environment files. */
export function declareEnv(program: Command): void {
  const e = program
    .command("env")
    .description("import and export namespaces as environment files")
    .addHelpText("after", help(["authy env import .env --namespace prod/app", "authy env export prod/app --format json"], [...VAULT_EXITS, 3, 4, 5]));
  approvalWait(
    e
      .command("import <file>")
      .description("import a .env file (- for stdin) into a namespace, all or nothing")
      .addHelpText(
        "after",
        help(
          [
            "authy env import .env --namespace prod/app",
            "authy env import .env --namespace prod/app --dry-run",
            "cat .env | authy env import - --namespace prod/app --no-overwrite",
          ],
          [...VAULT_EXITS, 4, 5],
        ),
      )
      .requiredOption("--namespace <ns>", "target namespace")
      .option("--dry-run", "show what would change, write nothing")
      .option("--no-overwrite", "keep existing secrets")
      .addOption(new Option("--tier <tier>", "tier of imported secrets").choices(TIERS)),
  ).action(lazy(env, (m) => m.importEnv));
  approvalWait(e.command("export <namespace>"))
    .description("print a namespace as dotenv, json, yaml, shell or docker-env")
    .addHelpText(
      "after",
      help(
        ["authy env export prod/app > .env", "authy env export prod/app --format json --keys DB_URL,REDIS", "authy env export prod/app --out .env --force"],
        [...VAULT_EXITS, 3, 4, 5],
      ),
    )
    .option("--out <file>", "write to a file (0600) instead of stdout")
    .option("--force", "replace the --out file if it exists")
    .option("--keys <a,b>", "only these keys")
    .addOption(new Option("--format <format>", "output format").choices(EXPORT_FORMATS).default("dotenv"))
    .action(lazy(env, (m) => m.exportEnv));
}
