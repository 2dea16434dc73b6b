import { Argument, Command, CommanderError, Option } from "commander";
import { AuthyError } from "../errors.js";
import { EXIT_HELP } from "./exit-codes.js";
import { help, VAULT_EXITS } from "./help-text.js";
import { VERSION } from "../version.js";
import { declareLogin } from "./declare/login.js";
import { declareMembers } from "./declare/members.js";
import { declareServe } from "./declare/serve.js";

/** Thrown (instead of exiting) when commander has printed help, the version or a usage error. */
export class CommanderExit extends Error {
  constructor(readonly exitCode: number) {
    super("commander exit");
  }
}

/** Every top-level command word (kept in step with buildProgram by a test). */
export const KNOWN_COMMANDS = new Set([
  "init",
  "status",
  "unlock",
  "lock",
  "whoami",
  "__daemon",
  "doctor",
  "passwd",
  "secrets",
  "read",
  "run",
  "inject",
  "policy",
  "agents",
  "tokens",
  "approvals",
  "env",
  "keys",
  "export",
  "backup",
  "restore",
  "audit",
  "import",
  "mcp",
  "scan",
  "config",
  "completion",
  "__complete",
  "members",
  "login",
  "logout",
  "serve",
]);

/** Global options that take a value, so that the command word can be found after them. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(["--home", "--api-url", "--identity", "--profile"]);

/** The command word of an argv (after the node binary and script), if any. */
export function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") return undefined;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(a)) i++;
    else if (!a.startsWith("-")) return a;
  }
  return undefined;
}

/** A handler returns nothing (success) or the exit status it decided (`run`, `policy test`). */
type Handler = (ctx: import("./context.js").CliContext, ...args: unknown[]) => Promise<void | number>; // eslint-disable-line @typescript-eslint/no-invalid-void-type -- nothing, or a status

let commandStatus = 0;
/** The exit status the command that ran asked for; main.ts ends the process with it. */
export function commandExitStatus(): number {
  return commandStatus;
}

/**
 * Commands are declared here and their handlers imported only when they run, so that
 * `authy secrets get` does not pay for loading every other command.
 */
export function lazy(load: () => Promise<Record<string, unknown>>, name: string) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    await refuseLocalOnly(command);
    const { CliContext } = await import("./context.js");
    const ctx = new CliContext(command.optsWithGlobals());
    try {
      const mod = await load();
      const handler = mod[name] as Handler;
      // commander passes (...positionals, options, command); handlers take (ctx, ...positionals, options).
      const status = await handler(ctx, ...args.slice(0, -1));
      if (typeof status === "number") commandStatus = status;
    } finally {
      await ctx.close();
    }
  };
}

const secrets = () => import("./commands/secrets.js");
const vaultCmds = () => import("./commands/vault.js");
const env = () => import("./commands/env.js");
const keys = () => import("./commands/keys.js");
const transfer = () => import("./commands/transfer.js");
const policy = () => import("./commands/policy.js");
const injectCmd = () => import("./commands/inject.js");
const daemonCmds = () => import("./commands/daemon.js");
const agents = () => import("./commands/agents.js");
const tokens = () => import("./commands/tokens.js");
const runCmd = () => import("./commands/run.js");
const approvalsCmd = () => import("./commands/approvals.js");
const auditCmds = () => import("./commands/audit.js");
const importCmd = () => import("./commands/import.js");
const mcpCmd = () => import("./commands/mcp.js");
const scanCmd = () => import("./commands/scan.js");
const configCmds = () => import("./commands/config.js");

const completionCmd = () => import("./commands/completion.js");
const secretsEdit = () => import("./commands/secrets-edit.js");
const secretsRotate = () => import("./commands/secrets-rotate.js");
const secretsMove = () => import("./commands/secrets-move.js");

// As in vault/types.ts (not imported: the program declaration stays free of the core).
const SECRET_TYPE_CHOICES = ["api_key", "oauth_token", "db_credential", "ssh_key", "certificate", "custom"];
const TIER_CHOICES = ["standard", "sensitive", "critical"];

const collect = (value: string, previous: string[] = []) => [...previous, value];

function valueOnCommandLine(): AuthyError {
  return new AuthyError("INVALID_INPUT", "secret values are never taken from the command line, where shell history and `ps` would show them", {
    hint: 'pipe it in (printf %s "$VALUE" | authy secrets set PATH), type it at the prompt, or use --from-file FILE or --generate',
  });
}

/**
 * Commands that work on the local vault's file, key slots or daemon, and mean nothing against a
 * team server (which unlocks at start and keeps its own backups): refused in one line, exit 2.
 */
const LOCAL_ONLY = new Set(["unlock", "lock", "passwd", "backup", "restore", "keys", "doctor", "init"]);

async function refuseLocalOnly(command: Command): Promise<void> {
  let top = command;
  while (top.parent?.parent) top = top.parent;
  const word = top.name();
  const opts = command.optsWithGlobals<{ apiUrl?: string; profile?: string; database?: string }>();
  if (!LOCAL_ONLY.has(word) || (word === "init" && opts.database !== undefined)) return;
  const { serverTarget } = await import("./profiles.js");
  const target = serverTarget(opts);
  if (!target) return;
  throw new AuthyError("INVALID_INPUT", `\`authy ${word}\` works on a local vault, not on the team server at ${target.url} (from ${target.via})`, {
    hint:
      target.via === "authy login"
        ? "run `authy logout` to work on the local vault again"
        : "drop --api-url/--profile (AUTHY_API_URL, AUTHY_PROFILE) to work locally",
  });
}

/** For commands whose reads or writes may need the owner's approval (sensitive and critical tiers). */
const approvalWait = (c: Command) =>
  c
    .option("--reason <text>", "why: shown to the owner if an approval is needed")
    .option("--wait <duration>", "how long to wait for the owner's approval", "5m")
    .option("--no-wait", "do not wait: exit 5 at once, printing the approval request id");

/**
 * Builds the command tree. Given the command word, only that command's branch is declared:
 * declaring every option of every command costs more than running `secrets get` itself.
 * Help, a missing or unknown word, or completion get the whole tree.
 */
export function buildProgram(only?: string): Command {
  const want = (name: string) => only === undefined || !KNOWN_COMMANDS.has(only) || name === only;
  const program = new Command("authy");
  program
    .description("a local-first secrets vault for AI agents")
    .version(VERSION, "--version", "print the version")
    .option("--json", "machine-readable output (stable schema)")
    .option("-q, --quiet", "print only results and errors")
    .option("--no-color", "no colours (also NO_COLOR)")
    .option("--verbose", "more detail on stderr")
    .option("--home <dir>", "vault directory (AUTHY_HOME, default ~/.authy)")
    .option("--api-url <url>", "send the command to a team server (AUTHY_API_URL)")
    .option("--profile <name>", "use a login profile's server and key (AUTHY_PROFILE; see `authy login`)")
    .option("--passphrase-stdin", "read the vault passphrase from standard input")
    .option("--identity <file>", "unlock with an age identity file (AUTHY_IDENTITY)")
    .option("--no-daemon", "do not use a running daemon; unlock in this process")
    .addHelpText("after", `\n${EXIT_HELP}\n`)
    .showSuggestionAfterError()
    .exitOverride((err: CommanderError) => {
      const helpish = err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help";
      throw new CommanderExit(helpish ? 0 : 2);
    });
  program.configureOutput({ outputError: (str, write) => write(str.startsWith("error:") ? `authy: ${str.slice(7)}` : str) });
  if (want("init")) {
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
      .option("--admin <name>", "with --database: the first admin's name", "admin")
      .action(lazy(vaultCmds, "init"));
  }

  if (want("status")) {
    program
      .command("status")
      .description("show whether a vault exists, and whether a daemon holds it unlocked")
      .addHelpText("after", help(["authy status", "authy status --json"], [0, 2, 8]))
      .action(lazy(vaultCmds, "status"));
  }

  if (want("unlock")) {
    program
      .command("unlock")
      .description("start a daemon holding the unlocked vault; owner rights stay with this terminal session")
      .addHelpText("after", help(["authy unlock", "authy unlock --idle 30m --max 4h", 'eval "$(authy unlock --export-session --shell)"'], [0, 2, 4, 6, 7, 8]))
      .option("--idle <duration>", "lock after this long without a request", "15m")
      .option("--max <duration>", "lock this long after unlocking, whatever happens", "8h")
      .option("--export-session", "also print `export AUTHY_SESSION=…` for scripts: whoever reads it is the owner")
      .option("--shell", "with --export-session: print only the export line, even on a terminal")
      .action(lazy(daemonCmds, "unlock"));
  }

  if (want("lock")) {
    program
      .command("lock")
      .description("lock at once: stop the daemon, which forgets the key and every token (owner only)")
      .addHelpText("after", help(["authy lock", "authy lock --json"], [0, 4, 8]))
      .action(lazy(daemonCmds, "lock"));
  }

  if (want("whoami")) {
    program
      .command("whoami")
      .description("which principal this process is (owner, agent or token), and why")
      .addHelpText("after", help(["authy whoami", "AUTHY_TOKEN=$token authy whoami --json"], [0, 4, 6, 8]))
      .action(lazy(daemonCmds, "whoami"));
  }

  if (want("__daemon")) {
    program.command("__daemon", { hidden: true }).action(lazy(daemonCmds, "daemon"));
  }

  if (want("doctor")) {
    program
      .command("doctor")
      .description("check permissions, key slots and the integrity of every record")
      .addHelpText("after", help(["authy doctor", "authy doctor --json"], [...VAULT_EXITS, 4]))
      .action(lazy(vaultCmds, "doctor"));
  }

  if (want("passwd")) {
    program
      .command("passwd")
      .description("change the vault passphrase (rewraps the vault key only)")
      .addHelpText("after", help(["authy passwd", "authy passwd --new-passphrase-file new.txt --work-factor 19"], [...VAULT_EXITS, 4]))
      .option("--new-passphrase-file <file>", "read the new passphrase from a file")
      .option("--work-factor <n>", "scrypt work factor (log2 N)", "18")
      .action(lazy(vaultCmds, "passwd"));
  }

  if (want("secrets")) {
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
    const meta = (c: Command) =>
      c
        .addOption(new Option("--type <type>", "secret type").choices(SECRET_TYPE_CHOICES))
        .addOption(new Option("--tier <tier>", "who must approve reads").choices(TIER_CHOICES))
        .option("--description <text>", "what the secret is for")
        .option("--tag <tag>", "a tag (repeatable)", collect)
        .option("--expires <when>", "expiry: a date (2027-01-31) or a duration from now (30d)");
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
    ).action(lazy(secrets, "set"));
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
    ).action(lazy(secrets, "generate"));
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
    ).action(lazy(secrets, "get"));
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
      .addOption(new Option("--type <type>", "only secrets of this type").choices(SECRET_TYPE_CHOICES))
      .addOption(new Option("--tier <tier>", "only secrets of this tier").choices(TIER_CHOICES))
      .action(lazy(secrets, "list"));
    s.command("delete <path>")
      .alias("rm")
      .description("delete a secret (soft; undo with restore)")
      .addHelpText("after", help(["authy secrets delete prod/OLD_KEY", "authy secrets delete prod/OLD_KEY --yes --purge"], [...VAULT_EXITS, 3, 4, 130]))
      .option("-y, --yes", "do not ask")
      .option("--purge", "erase every version for good")
      .action(lazy(secrets, "remove"));
    s.command("restore <path>")
      .description("undo a delete")
      .addHelpText("after", help(["authy secrets restore prod/OLD_KEY", "authy secrets list prod --deleted"], [...VAULT_EXITS, 3, 4]))
      .action(lazy(secrets, "restore"));
    s.command("history <path>")
      .description("list a secret's versions")
      .addHelpText("after", help(["authy secrets history prod/API_KEY", "authy secrets history prod/API_KEY --json"], [...VAULT_EXITS, 3, 4]))
      .action(lazy(secrets, "history"));
    s.command("rollback <path> <version>")
      .description("make an older version current (as a new version)")
      .addHelpText(
        "after",
        help(
          ["authy secrets rollback prod/API_KEY 2", "authy secrets history prod/API_KEY && authy secrets rollback prod/API_KEY 1"],
          [...VAULT_EXITS, 3, 4, 5],
        ),
      )
      .action(lazy(secrets, "rollback"));
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
    ).action(lazy(secretsEdit, "edit"));
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
    ).action(lazy(secretsRotate, "rotate"));
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
    ).action(lazy(secretsMove, "move"));
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
    ).action(lazy(secretsMove, "copy"));
  }

  if (want("read")) {
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
    ).action(lazy(secrets, "read"));
  }

  if (want("run")) {
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
      .action(lazy(runCmd, "run"));
  }

  if (want("inject")) {
    approvalWait(
      program
        .command("inject")
        .description("fill {{ authy://ns/KEY }} references in a template")
        .addHelpText("after", help(["authy inject -i config.tpl -o config.yml", "authy inject -i - --scope deploy < config.tpl"], [...VAULT_EXITS, 3, 4, 5]))
        .requiredOption("-i, --in <file>", "the template (- for stdin)")
        .option("-o, --out <file>", "write the result to a file (0600) instead of stdout")
        .option("--force", "replace the --out file if it exists")
        .option("--scope <scope>", "only references this scope may read"),
    ).action(lazy(injectCmd, "inject"));
  }

  if (want("config")) {
    const cfg = program
      .command("config")
      .description("owner settings kept in the vault: notify.webhook, notify.desktop, approvals.expiry")
      .addHelpText("after", help(["authy config list", "authy config set approvals.expiry 10m"], [...VAULT_EXITS, 3, 4]));
    cfg
      .command("list")
      .description("every setting and its value")
      .addHelpText("after", help(["authy config list", "authy config list --json"], [...VAULT_EXITS, 4]))
      .action(lazy(configCmds, "list"));
    cfg
      .command("get <key>")
      .description("print one setting")
      .addHelpText("after", help(["authy config get notify.webhook", "authy config get approvals.expiry --json"], [...VAULT_EXITS, 3, 4]))
      .action(lazy(configCmds, "get"));
    cfg
      .command("set <key> <value>")
      .description("change a setting (owner only; audited)")
      .addHelpText(
        "after",
        help(["authy config set notify.webhook https://hooks.example.com/authy", "authy config set notify.desktop false"], [...VAULT_EXITS, 3, 4]),
      )
      .action(lazy(configCmds, "set"));
    cfg
      .command("unset <key>")
      .description("put a setting back to its default")
      .addHelpText("after", help(["authy config unset notify.webhook", "authy config unset approvals.expiry"], [...VAULT_EXITS, 3, 4]))
      .action(lazy(configCmds, "unset"));
  }

  if (want("policy")) {
    const pol = program
      .command("policy")
      .description("scopes: who may do what to which paths")
      .addHelpText("after", help(["authy policy apply policy.yaml", "authy policy test deploy prod/DB_URL read"], [...VAULT_EXITS, 4]));
    pol
      .command("apply <file>")
      .description("validate and store a policy file (YAML)")
      .addHelpText("after", help(["authy policy apply policy.yaml", "authy policy apply policy.yaml --json"], [...VAULT_EXITS, 3, 4]))
      .action(lazy(policy, "apply"));
    pol
      .command("show")
      .description("print the stored policy")
      .addHelpText("after", help(["authy policy show", "authy policy show --json"], [...VAULT_EXITS, 4]))
      .action(lazy(policy, "show"));
    pol
      .command("test <scope> <path> <capability>")
      .description("allow or deny, and the rule that decided (exit 4 on deny)")
      .addHelpText(
        "after",
        help(["authy policy test deploy prod/DB_URL read", "authy policy test deploy prod/ROOT_PASSWORD read || echo denied"], [...VAULT_EXITS, 3, 4]),
      )
      .action(lazy(policy, "test"));
  }

  if (want("agents")) {
    const ag = program
      .command("agents")
      .description("named agents: a long-lived key exchanged for short-lived tokens")
      .addHelpText("after", help(["authy agents create deploy-bot --scope deploy", "authy agents list"], [...VAULT_EXITS, 4]));
    ag.command("create <name>")
      .description("create an agent and print its key once")
      .addHelpText(
        "after",
        help(
          ["authy agents create deploy-bot --scope deploy", 'authy agents create ci --scope "secrets:read:ci/*" --description "GitHub Actions"'],
          [...VAULT_EXITS, 3, 4],
        ),
      )
      .option("--scope <scope>", "its maximum scope: a policy scope name or secrets:read:prod/*")
      .option("--description <text>", "what it is for")
      .action(lazy(agents, "create"));
    ag.command("list")
      .description("list agents")
      .addHelpText("after", help(["authy agents list", "authy agents list --json"], [...VAULT_EXITS, 4]))
      .action(lazy(agents, "list"));
    ag.command("revoke <name>")
      .description("revoke an agent and all its tokens at once")
      .addHelpText("after", help(["authy agents revoke deploy-bot", "authy agents revoke deploy-bot --json"], [...VAULT_EXITS, 3, 4]))
      .action(lazy(agents, "revoke"));
  }

  if (want("tokens")) {
    const tk = program
      .command("tokens")
      .description("short-lived scoped tokens (served by the daemon)")
      .addHelpText("after", help(["authy tokens create --scope deploy --ttl 15m", "authy tokens list"], [...VAULT_EXITS, 4]));
    tk.command("create")
      .description("issue a token and print it once")
      .addHelpText(
        "after",
        help(
          [
            "authy tokens create --scope deploy --ttl 15m",
            'token=$(authy tokens create --scopes "secrets:read:prod/*" --uses 2)',
            'authy tokens create --agent deploy-bot --label "release 1.4"',
          ],
          [...VAULT_EXITS, 3, 4],
        ),
      )
      .option("--scope <scope>", "a policy scope name")
      .option("--scopes <list>", 'compact scopes, e.g. "secrets:read:prod/*,secrets:list:prod/*"')
      .option("--ttl <duration>", "lifetime (default 15m, at most 24h)")
      .option("--uses <n>", "how many requests it may make")
      .option("--agent <name>", "issue it to this agent")
      .option("--label <text>", "a note shown in tokens list")
      .action(lazy(tokens, "create"));
    tk.command("list")
      .description("list tokens of the running daemon")
      .addHelpText("after", help(["authy tokens list", "authy tokens list --json"], [...VAULT_EXITS, 4]))
      .action(lazy(tokens, "list"));
    tk.command("revoke <id>")
      .description("revoke a token (and every token it issued)")
      .addHelpText("after", help(["authy tokens revoke tok_…", "authy tokens list --json && authy tokens revoke tok_…"], [...VAULT_EXITS, 3, 4]))
      .action(lazy(tokens, "revoke"));
  }

  if (want("approvals")) {
    const ap = program
      .command("approvals")
      .description("agents' requests to read sensitive or write critical secrets: list, approve, deny, watch")
      .addHelpText("after", help(["authy approvals list", "authy approvals approve apr_…", "authy approvals watch"], [...VAULT_EXITS, 3, 4]));
    ap.command("list")
      .description("list requests (oldest first)")
      .addHelpText("after", help(["authy approvals list", "authy approvals list --status denied --json"], [...VAULT_EXITS, 4]))
      .addOption(new Option("--status <status>", "only these").choices(["pending", "approved", "denied", "expired", "used"]))
      .action(lazy(approvalsCmd, "list"));
    ap.command("approve [id]")
      .description("approve a request: single use, or for a time with --for")
      .addHelpText(
        "after",
        help(
          ["authy approvals approve apr_…", 'authy approvals approve apr_… --for 15m --reason "release window"', "authy approvals approve --all --yes"],
          [...VAULT_EXITS, 3, 4, 130],
        ),
      )
      .option("--all", "approve every pending request (listed, then asked on a terminal)")
      .option("-y, --yes", "with --all: do not ask")
      .option("--reason <text>", "why (audited)")
      .option("--for <duration>", "a time-boxed grant for exactly that agent, action and path (at most 24h)")
      .action(lazy(approvalsCmd, "approve"));
    ap.command("deny <id>")
      .description("deny a request; the agent is told the reason")
      .addHelpText(
        "after",
        help(
          ['authy approvals deny apr_… --reason "not during the freeze"', 'authy approvals deny apr_… --reason "ask in #ops first" --json'],
          [...VAULT_EXITS, 3, 4],
        ),
      )
      .requiredOption("--reason <text>", "why (shown to the agent, audited)")
      .action(lazy(approvalsCmd, "deny"));
    ap.command("watch")
      .description("a live list where a approves and d denies (JSON lines of new requests when not a terminal)")
      .addHelpText("after", help(["authy approvals watch", "authy approvals watch --for 15m", "authy approvals watch | jq ."], [...VAULT_EXITS, 4, 130]))
      .option("--for <duration>", "make a approve for this long instead of once")
      .action(lazy(approvalsCmd, "watch"));
  }

  if (want("env")) {
    const e = program
      .command("env")
      .description("import and export namespaces as environment files")
      .addHelpText("after", help(["authy env import .env --namespace prod/app", "authy env export prod/app --format json"], [...VAULT_EXITS, 3, 4, 5]));
    e.command("import <file>")
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
      .addOption(new Option("--tier <tier>", "tier of imported secrets").choices(["standard", "sensitive", "critical"]))
      .action(lazy(env, "importEnv"));
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
      .addOption(new Option("--format <format>", "output format").choices(["dotenv", "json", "yaml", "shell", "docker-env"]).default("dotenv"))
      .action(lazy(env, "exportEnv"));
  }

  if (want("keys")) {
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
      .action(lazy(keys, "add"));
    k.command("list")
      .description("list key slots")
      .addHelpText("after", help(["authy keys list", "authy keys list --json"], [...VAULT_EXITS, 4]))
      .action(lazy(keys, "list"));
    k.command("remove <id>")
      .description("remove a key slot (by id or recipient)")
      .addHelpText("after", help(["authy keys remove slot_…", "authy keys remove age1…"], [...VAULT_EXITS, 3, 4]))
      .action(lazy(keys, "remove"));
    k.command("generate")
      .description("create a new age identity file")
      .addHelpText("after", help(["authy keys generate --out ~/.authy-identity.txt", "authy keys generate > identity.txt"], [0, 2, 8]))
      .option("--out <file>", "write it to this file (0600)")
      .action(lazy(keys, "generate"));
  }

  if (want("export")) {
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
      .action(lazy(transfer, "exportAge"));
  }

  if (want("backup")) {
    program
      .command("backup [file]")
      .description("write a consistent, still-encrypted copy of the vault")
      .addHelpText("after", help(["authy backup", "authy backup ~/backups/vault-$(date +%F).db"], [...VAULT_EXITS, 4]))
      .action(lazy(transfer, "backup"));
  }

  if (want("restore")) {
    program
      .command("restore <file>")
      .description("replace the vault with a backup (the current one is kept aside)")
      .addHelpText("after", help(["authy restore ~/backups/vault-2026-01-31.db", "authy restore vault.db --yes"], [...VAULT_EXITS, 3, 4, 130]))
      .option("-y, --yes", "do not ask")
      .action(lazy(transfer, "restore"));
  }

  if (want("audit")) {
    // `audit` with no subcommand is the query; commander runs this action only when the first
    // word is not one of the subcommands, and refuses any other word (no positional arguments).
    const au = program
      .command("audit")
      .description("the tamper-evident audit log: the newest entries (default), verify, checkpoint, export")
      .addHelpText(
        "after",
        help(["authy audit --limit 20", "authy audit --action secret.read --since 1h", "authy audit --agent deploy-bot --follow"], [...VAULT_EXITS, 4, 130]),
      )
      .option("--namespace <ns>", "entries for this namespace or path and anything below it")
      .option("--agent <name>", "entries by this agent or any of its tokens")
      .option("--actor <actor>", "entries by exactly this actor (owner, agent:NAME, token:ID(NAME))")
      .option("--action <action>", "entries of this action (secret.read, token.issue, …)")
      .option("--since <time>", "from this time: 2026-01-31, 2026-01-31T09:30Z, or a duration ago (1h, 7d)")
      .option("--until <time>", "up to this time (same forms)")
      .option("--limit <n>", "at most this many, the newest (default 50, at most 10000; see export)")
      .option("-f, --follow", "keep printing new entries until Ctrl-C (JSON lines with --json)")
      .action(lazy(auditCmds, "query"));
    au.command("verify")
      .description("recompute the hash chain and every MAC; exit 7 naming the first bad entry")
      .addHelpText("after", help(["authy audit verify", "authy audit verify --checkpoint head.json"], [...VAULT_EXITS, 3, 4]))
      .option("--checkpoint <file>", "also check against a checkpoint: catches deleted newest entries")
      .action(lazy(auditCmds, "verify"));
    au.command("checkpoint")
      .description("print (or write) the current head, MACed, to keep elsewhere")
      .addHelpText(
        "after",
        help(["authy audit checkpoint --out head.json", 'authy audit checkpoint | ssh backup "cat > authy-head.json"'], [...VAULT_EXITS, 4]),
      )
      .option("--out <file>", "write it to this file (0600) instead of stdout")
      .action(lazy(auditCmds, "checkpoint"));
    au.command("export")
      .description("the whole log, oldest first, verified as it streams")
      .addHelpText(
        "after",
        help(["authy audit export --format csv --out audit.csv", "authy audit export --format jsonl | gzip > audit.jsonl.gz"], [...VAULT_EXITS, 4]),
      )
      .addOption(new Option("--format <format>", "json (one array), jsonl (one entry per line) or csv").choices(["json", "jsonl", "csv"]).default("json"))
      .option("--out <file>", "write to a file (0600) instead of stdout")
      .action(lazy(auditCmds, "exportLog"));
  }

  if (want("import")) {
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
      .addArgument(new Argument("<kind>", "what SOURCE is").choices(["pass", "passage", "dotenvx", "json", "yaml"]))
      .argument("[source]", "the store folder (default ~/.password-store, ~/.passage/store) or file (- for stdin: json, yaml)")
      .requiredOption("--namespace <ns>", "target namespace; store folders become namespaces below it")
      .option("--dry-run", "show what would change, write nothing")
      .option("--no-overwrite", "keep existing secrets")
      .addOption(new Option("--tier <tier>", "tier of imported secrets").choices(["standard", "sensitive", "critical"]))
      .option("--keep-notes", "pass, passage: keep the lines after the first as the description")
      .option("--identities <file>", "passage: the age identity file (default $PASSAGE_IDENTITIES_FILE or ~/.passage/identities)")
      .option("--env-keys-file <file>", "dotenvx: the .env.keys file (default: beside SOURCE; DOTENV_PRIVATE_KEY* in the environment win)")
      .action(lazy(importCmd, "importStore"));
  }

  if (want("mcp")) {
    program
      .command("mcp")
      .description("an MCP server on stdio for agent hosts: list secrets, ask for approval, run commands with secrets injected and masked")
      .addHelpText(
        "after",
        help(
          ["authy mcp --scope coding-agent", "claude mcp add authy --env AUTHY_AGENT_KEY=authy_ak_… -- authy mcp --scope coding-agent"],
          [...VAULT_EXITS, 4],
        ),
      )
      .option("--scope <scope>", "act within this scope only (a stored scope name or secrets:read:prod/*)")
      .action(lazy(mcpCmd, "mcp"));
  }

  if (want("scan")) {
    program
      .command("scan [paths...]")
      .description("find stored values (and their encoded forms) in files: exit 1 when found; default: this repository, shell histories, agent transcripts")
      .addHelpText(
        "after",
        help(["authy scan", "authy scan ~/.claude/projects --json", "authy scan --install-hook"], [...VAULT_EXITS, 4], "1 also when a stored value was found"),
      )
      .option("--staged", "scan what is staged for the next commit (for a pre-commit hook)")
      .option("--install-hook", "install a git pre-commit hook running `authy scan --staged`")
      .option("--redact", "replace each finding in place with <authy:PATH> (atomic; a backup is kept)")
      .option("--no-backup", "with --redact: keep no FILE.authy-backup")
      .option("--force", "with --redact: also rewrite files git tracks")
      .action(lazy(scanCmd, "scan"));
  }

  if (want("completion")) {
    program
      .command("completion")
      .description("print the shell completion script: commands, options, and secret paths from the daemon when it is unlocked")
      .addHelpText(
        "after",
        help(
          [
            "authy completion bash > ~/.local/share/bash-completion/completions/authy",
            'authy completion zsh > "${fpath[1]}/_authy"',
            "authy completion fish > ~/.config/fish/completions/authy.fish",
          ],
          [0, 2],
        ),
      )
      .addArgument(new Argument("<shell>", "the shell").choices(["bash", "zsh", "fish"]))
      .action(lazy(completionCmd, "script"));
  }

  if (want("__complete")) {
    // Called by the completion scripts on each Tab: the words typed so far, after --.
    program
      .command("__complete [words...]", { hidden: true })
      .allowUnknownOption()
      // The handler is given the whole tree to walk (it does not import program.ts: no cycle).
      .action((words: string[], opts: unknown, command: Command) => lazy(completionCmd, "completeWords")(words, buildProgram(), opts, command));
  }

  if (want("members")) declareMembers(program);
  if (want("login") || want("logout")) declareLogin(program);
  if (want("serve")) declareServe(program);
  return program;
}
