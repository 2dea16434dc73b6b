import { type Command, Option } from "@commander-js/extra-typings";
import { lazy } from "../action.js";
import { help, VAULT_EXITS } from "../help-text.js";
import { collect } from "../options.js";

const daemon = () => import("../commands/daemon.js");
const vault = () => import("../commands/vault.js");

/** The vault's life: `init`, `status`, `unlock`, `lock`, `whoami`, the daemon itself (hidden), `doctor`, `passwd`. */
export function declareVault(program: Command): void {
  program
    .command("init")
    .description("create a new vault")
    .addHelpText(
      "after",
      help(
        [
          "authy init",
          "authy init --recipient age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
          "AUTHY_PASSPHRASE_FILE=~/.pw authy --home ./vault init --work-factor 18",
        ],
        [0, 2, 6, 8],
      ),
    )
    .option("--recipient <age1…>", "also let this age recipient unlock the vault (repeatable)", collect)
    .option("--no-passphrase", "no passphrase slot: only the recipients unlock the vault")
    .addOption(new Option("--work-factor <n>", "scrypt work factor (log2 N) for the passphrase slot").default("18"))
    .option("--database <url>", "create the vault in PostgreSQL (postgres://…) for a team server, and print its first admin key once")
    // No commander default: init must tell an --admin given without --database (refused) from none.
    .option("--admin <name>", "with --database: the first admin's name (default: admin)")
    .action(lazy(vault, (m) => m.init));

  program
    .command("status")
    .description("show whether a vault exists, and whether a daemon holds it unlocked")
    .addHelpText("after", help(["authy status", "authy status --json"], [0, 2, 8]))
    .action(lazy(vault, (m) => m.status));

  program
    .command("unlock")
    .description("start a daemon holding the unlocked vault; owner rights stay with this terminal session")
    .addHelpText("after", help(["authy unlock", "authy unlock --idle 30m --max 4h", 'eval "$(authy unlock --export-session --shell)"'], [0, 2, 4, 6, 7, 8]))
    .option("--idle <duration>", "lock after this long without a request", "15m")
    .option("--max <duration>", "lock this long after unlocking, whatever happens", "8h")
    .option("--export-session", "also print `export AUTHY_SESSION=…` for scripts: whoever reads it is the owner")
    .option("--shell", "with --export-session: print only the export line, even on a terminal")
    .action(lazy(daemon, (m) => m.unlock));

  program
    .command("lock")
    .description("lock at once: stop the daemon, which forgets the key and every token (owner only)")
    .addHelpText("after", help(["authy lock", "authy lock --json"], [0, 4, 8]))
    .action(lazy(daemon, (m) => m.lock));

  program
    .command("whoami")
    .description("which principal this process is (owner, agent or token), and why")
    .addHelpText("after", help(["authy whoami", "AUTHY_TOKEN=$token authy whoami --json"], [0, 4, 6, 8]))
    .action(lazy(daemon, (m) => m.whoami));

  program.command("__daemon", { hidden: true }).action(lazy(daemon, (m) => m.daemon));

  program
    .command("doctor")
    .description("check permissions, key slots and the integrity of every record")
    .addHelpText("after", help(["authy doctor", "authy doctor --json"], [...VAULT_EXITS, 4]))
    .action(lazy(vault, (m) => m.doctor));

  program
    .command("passwd")
    .description("change the vault passphrase (rewraps the vault key only)")
    .addHelpText("after", help(["authy passwd", "authy passwd --new-passphrase-file new.txt --work-factor 19"], [...VAULT_EXITS, 4]))
    .option("--new-passphrase-file <file>", "read the new passphrase from a file")
    .option("--work-factor <n>", "scrypt work factor (log2 N)", "18")
    .action(lazy(vault, (m) => m.passwd));
}
