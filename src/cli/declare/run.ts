import type { Command } from "@commander-js/extra-typings";
import { lazy } from "../action.js";
import { help, VAULT_EXITS } from "../help-text.js";
import { approvalWait, collect } from "../options.js";

const run = () => import("../commands/run.js");

/** `authy run`: a command with secrets in its environment. */
export function declareRun(program: Command): void {
  approvalWait(program.command("run"))
    .description("run a command with secrets in its environment, its output masked")
    .addHelpText(
      "after",
      help(
        [
          "authy run --scope deploy -- ./deploy.sh",
          "authy run --env OPENAI_API_KEY=authy://prod/openai/API_KEY -- python app.py",
          'authy run --env-file .env.authy --command "npm run migrate && npm start"',
        ],
        [...VAULT_EXITS, 3, 4, 5],
        "otherwise the command's own exit code (128+N when killed by signal N)",
      ),
    )
    .argument("[command...]", "the command and its arguments (after --)")
    .option("--command <line>", "a command line for /bin/sh -c, as doppler's --command (instead of -- CMD…)")
    .option("--scope <scope>", "every secret this scope may read, named by its key")
    .option("--env-file <file>", "a dotenv file whose authy:// values are resolved (repeatable)", collect)
    .option("--env <NAME=authy://ns/KEY>", "one more variable (repeatable)", collect)
    .option("--only <A,B>", "keep only these variables")
    .option("--allow-env <NAME>", "allow a dangerous name such as LD_PRELOAD or PATH (repeatable)", collect)
    .option("--no-mask", "do not mask secret values in the output")
    .option("--no-tty", "never run the command on a pseudo-terminal")
    .option("--mount <file>", "also write the secrets to this 0600 dotenv file, removed when the command exits")
    .option(
      "--pass-token",
      "give the command an AUTHY_TOKEN limited to the scope, revoked when it exits (with --sandbox: usable only through a socket made for this run, AUTHY_SOCKET)",
    )
    .option(
      "--sandbox",
      "run the command in a bubblewrap sandbox (Linux): no other processes, authy's files or credential homes; read-only but for the working directory",
    )
    .option("--allow-write <path>", "also let the sandboxed command write here (repeatable; implies --sandbox)", collect)
    .option("--allow-read <path>", "let the sandboxed command read a hidden path such as ~/.ssh/known_hosts (repeatable; implies --sandbox)", collect)
    .option("--allow-host <host[:port]>", "only these hosts, through authy's proxy (repeatable; implies --sandbox)", collect)
    .option("--no-network", "no network at all in the sandbox (implies --sandbox)")
    .action(lazy(run, (m) => m.run));
}
