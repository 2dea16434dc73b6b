import type { Command } from "commander";
import { help } from "../help-text.js";
import { lazy } from "../program.js";

const login = () => import("../commands/login.js");

/** `authy login` and `authy logout`: a team server's URL and a member's key, kept in a profile. */
export function declareLogin(program: Command): void {
  program
    .command("login")
    .description("store a member key for a team server (asked for, never on the command line); commands then go to that server")
    .addHelpText(
      "after",
      help(
        ["authy login --api-url https://vault.example.com", 'printf %s "$KEY" | authy login --api-url https://vault.example.com --profile work'],
        [0, 2, 4, 8],
      ),
    )
    .action(lazy(login, "login"));
  program
    .command("logout")
    .description("forget the member key of a login profile (commands work on the local vault again)")
    .addHelpText("after", help(["authy logout", "authy logout --profile work"], [0, 2, 3]))
    .action(lazy(login, "logout"));
}
