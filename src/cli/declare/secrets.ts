import { type Command, Option, type OptionValues } from "@commander-js/extra-typings";
import { AuthyError } from "../../errors.js";
import { SECRET_TYPES, TIERS } from "../../vault/types.js";
import { lazy } from "../action.js";
import { help, VAULT_EXITS } from "../help-text.js";
import { approvalWait, collect } from "../options.js";

const secrets = () => import("../commands/secrets.js");
const secretsEdit = () => import("../commands/secrets-edit.js");
const secretsMove = () => import("../commands/secrets-move.js");
const secretsRotate = () => import("../commands/secrets-rotate.js");

function valueOnCommandLine(): AuthyError {
  return new AuthyError("INVALID_INPUT", "secret values are never taken from the command line, where shell history and `ps` would show them", {
    hint: 'pipe it in (printf %s "$VALUE" | authy secrets set PATH), type it at the prompt, or use --from-file FILE or --generate',
  });
}

/** The attributes of a secret, given when it is stored. */
const meta = <Args extends unknown[], Opts extends OptionValues, Globals extends OptionValues>(c: Command<Args, Opts, Globals>) =>
  c
    .addOption(new Option("--type <type>", "secret type").choices(SECRET_TYPES))
    .addOption(new Option("--tier <tier>", "who must approve reads").choices(TIERS))
    .option("--description <text>", "what the secret is for")
    .option("--tag <tag>", "a tag (repeatable)", collect)
    .option("--expires <when>", "expiry: a date (2027-01-31) or a duration from now (30d)");

/** `authy secrets …`: read and write secrets. */
export function declareSecrets(program: Command): void {
  const s = program
    .command("secrets")
    .description("read and write secrets")
    .addHelpText(
      "after",
      help(
        ["authy secrets list --recursive", 'printf %s "$VALUE" | authy secrets set prod/API_KEY', "authy secrets get prod/API_KEY"],
        [...VAULT_EXITS, 3, 4, 5],
      ),
    );
  approvalWait(
    meta(
      s
        .command("set <path>")
        .description("store a value (from stdin when piped, a no-echo prompt on a terminal, --from-file or --generate)")
        .addHelpText(
          "after",
          help(
            [
              'printf %s "$VALUE" | authy secrets set prod/API_KEY --type api_key',
              "authy secrets set prod/TLS_KEY --from-file key.pem --tier sensitive",
              "authy secrets set prod/SESSION_SECRET --generate --length 48",
            ],
            [...VAULT_EXITS, 4, 5],
          ),
        )
        // `secrets set PATH VALUE` is what people try first: say why not, and how, rather than "too many arguments".
        .allowExcessArguments(true)
        .hook("preAction", (cmd) => {
          if (cmd.args.length > 1) throw valueOnCommandLine();
        })
        .option("--from-file <file>", "read the value from a file")
        .option("--generate", "generate a random value")
        .option("--length <n>", "length of a generated value", "32")
        .option("--charset <set>", "alnum, alpha, hex, numeric, symbols, base64url, or the characters to use", "alnum"),
    ),
  ).action(lazy(secrets, (m) => m.set));
  approvalWait(
    meta(
      s
        .command("generate <path>")
        .description("store a new random value")
        .addHelpText(
          "after",
          help(
            [
              "authy secrets generate prod/DB_PASSWORD",
              "authy secrets generate prod/PIN --length 6 --charset numeric --print",
              "authy secrets generate prod/DB_PASSWORD --force",
            ],
            [...VAULT_EXITS, 4, 5],
          ),
        )
        .option("--length <n>", "length", "32")
        .option("--charset <set>", "alnum, alpha, hex, numeric, symbols, base64url, or the characters to use", "alnum")
        .option("--print", "also print the value")
        .option("--force", "replace the value of an existing secret (a new version)"),
    ),
  ).action(lazy(secrets, (m) => m.generate));
  approvalWait(
    s
      .command("get <path>")
      .description("print a value (raw, no newline, when piped)")
      .addHelpText(
        "after",
        help(
          [
            "authy secrets get prod/API_KEY",
            "authy secrets get prod/API_KEY --revision 2 --json",
            'AUTHY_TOKEN=$token authy secrets get prod/DB --reason "nightly backup" --no-wait',
          ],
          [...VAULT_EXITS, 3, 4, 5],
        ),
      )
      .option("--revision <n>", "an older version (see `authy secrets history`)")
      .option("--allow-expired", "read a secret past its expiry"),
  ).action(lazy(secrets, (m) => m.get));
  s.command("list [namespace]")
    .alias("ls")
    .description("list secret names (never values)")
    .addHelpText(
      "after",
      help(
        ["authy secrets list --recursive", "authy secrets list prod --tier sensitive --json", "authy secrets list --tag billing --type api_key"],
        [...VAULT_EXITS, 4],
      ),
    )
    .option("-r, --recursive", "include nested namespaces")
    .option("--deleted", "include deleted secrets")
    .option("--tag <tag>", "only secrets with this tag (repeatable: all of them)", collect)
    .addOption(new Option("--type <type>", "only secrets of this type").choices(SECRET_TYPES))
    .addOption(new Option("--tier <tier>", "only secrets of this tier").choices(TIERS))
    .action(lazy(secrets, (m) => m.list));
  approvalWait(
    s
      .command("delete <path>")
      .alias("rm")
      .description("delete a secret (soft; undo with restore)")
      .addHelpText(
        "after",
        help(
          [
            "authy secrets delete prod/OLD_KEY",
            "authy secrets delete prod/OLD_KEY --yes --purge",
            'AUTHY_TOKEN=$token authy secrets delete prod/ROOT_KEY --yes --reason "key retired" --no-wait',
          ],
          [...VAULT_EXITS, 3, 4, 5, 130],
        ),
      )
      .option("-y, --yes", "do not ask")
      .option("--purge", "erase every version for good"),
  ).action(lazy(secrets, (m) => m.remove));
  s.command("restore <path>")
    .description("undo a delete")
    .addHelpText("after", help(["authy secrets restore prod/OLD_KEY", "authy secrets list prod --deleted"], [...VAULT_EXITS, 3, 4]))
    .action(lazy(secrets, (m) => m.restore));
  s.command("history <path>")
    .description("list a secret's versions")
    .addHelpText("after", help(["authy secrets history prod/API_KEY", "authy secrets history prod/API_KEY --json"], [...VAULT_EXITS, 3, 4]))
    .action(lazy(secrets, (m) => m.history));
  approvalWait(
    s
      .command("rollback <path> <version>")
      .description("make an older version current (as a new version)")
      .addHelpText(
        "after",
        help(
          [
            "authy secrets rollback prod/API_KEY 2",
            "authy secrets history prod/API_KEY && authy secrets rollback prod/API_KEY 1",
            'AUTHY_TOKEN=$token authy secrets rollback prod/ROOT_KEY 1 --reason "undo a bad deploy" --no-wait',
          ],
          [...VAULT_EXITS, 3, 4, 5],
        ),
      ),
  ).action(lazy(secrets, (m) => m.rollback));
  approvalWait(
    s
      .command("edit <path>")
      .description("edit a value in $EDITOR (then $VISUAL, vi), from a 0600 file in memory; a new version only if it changed")
      .addHelpText(
        "after",
        help(
          ["authy secrets edit prod/CONFIG_JSON", 'EDITOR="code --wait" authy secrets edit prod/CONFIG_JSON'],
          [...VAULT_EXITS, 3, 4, 5],
          "an editor that fails: its own exit code, nothing stored",
        ),
      ),
  ).action(lazy(secretsEdit, (m) => m.edit));
  approvalWait(
    s
      .command("rotate <path>")
      .description("store a new random value from the secret's generator (remembered by `secrets generate`)")
      .addHelpText(
        "after",
        help(
          [
            "authy secrets rotate prod/DB_PASSWORD",
            "authy secrets rotate prod/DB_PASSWORD --show",
            "authy secrets rotate prod/LEGACY_PW --length 40 --charset symbols",
          ],
          [...VAULT_EXITS, 3, 4, 5],
        ),
      )
      .option("--show", "print the new value, once")
      .option("--length <n>", "give it a generator, or change the remembered length")
      .option(
        "--charset <set>",
        "give it a generator, or change the remembered charset: alnum, alpha, hex, numeric, symbols, base64url, or the characters to use",
      ),
  ).action(lazy(secretsRotate, (m) => m.rotate));
  approvalWait(
    s
      .command("mv <src> <dst>")
      .alias("move")
      .description("rename a secret, keeping its whole history")
      .addHelpText(
        "after",
        help(["authy secrets mv prod/DB_URL prod/db/URL", "authy secrets mv staging/API_KEY prod/API_KEY --force"], [...VAULT_EXITS, 3, 4, 5]),
      )
      .option("--force", "replace an existing DST (its own versions are erased)"),
  ).action(lazy(secretsMove, (m) => m.move));
  approvalWait(
    s
      .command("cp <src> <dst>")
      .alias("copy")
      .description("copy a secret's current value and metadata to a new path")
      .addHelpText(
        "after",
        help(["authy secrets cp prod/API_KEY staging/API_KEY", "authy secrets cp prod/API_KEY staging/API_KEY --force"], [...VAULT_EXITS, 3, 4, 5]),
      )
      .option("--force", "write into an existing DST as a new version"),
  ).action(lazy(secretsMove, (m) => m.copy));
}
