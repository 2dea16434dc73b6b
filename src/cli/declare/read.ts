import type { Command } from "@commander-js/extra-typings";
import { lazy } from "../action.js";
import { help, VAULT_EXITS } from "../help-text.js";
import { approvalWait } from "../options.js";

const secrets = () => import("../commands/secrets.js");

/** `authy read authy://…`: one value by reference. */
export function declareRead(program: Command): void {
  approvalWait(
    program
      .command("read <reference>")
      .description("print the value of an authy://namespace/KEY reference")
      .addHelpText(
        "after",
        help(
          ["authy read authy://prod/API_KEY", 'curl -H "Authorization: Bearer $(authy read authy://prod/API_KEY)" https://api.example.com'],
          [...VAULT_EXITS, 3, 4, 5],
        ),
      ),
  ).action(lazy(secrets, (m) => m.read));
}
