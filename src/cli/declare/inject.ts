import type { Command } from "@commander-js/extra-typings";
import { lazy } from "../action.js";
import { help, VAULT_EXITS } from "../help-text.js";
import { approvalWait } from "../options.js";

const inject = () => import("../commands/inject.js");

/** `authy inject`: a template with its references filled. */
export function declareInject(program: Command): void {
  approvalWait(
    program
      .command("inject")
      .description("fill {{ authy://ns/KEY }} references in a template")
      .addHelpText("after", help(["authy inject -i config.tpl -o config.yml", "authy inject -i - --scope deploy < config.tpl"], [...VAULT_EXITS, 3, 4, 5]))
      .requiredOption("-i, --in <file>", "the template (- for stdin)")
      .option("-o, --out <file>", "write the result to a file (0600) instead of stdout")
      .option("--force", "replace the --out file if it exists")
      .option("--scope <scope>", "only references this scope may read"),
  ).action(lazy(inject, (m) => m.inject));
}
