import { Command, CommanderError } from "@commander-js/extra-typings";
import { AuthyError } from "../errors.js";
import { VERSION } from "../version.js";
import { declareAgents } from "./declare/agents.js";
import { declareApprovals } from "./declare/approvals.js";
import { declareAudit } from "./declare/audit.js";
import { declareCompletion } from "./declare/completion.js";
import { declareConfig } from "./declare/config.js";
import { declareEnv } from "./declare/env.js";
import { declareImport } from "./declare/import.js";
import { declareInject } from "./declare/inject.js";
import { declareKeys } from "./declare/keys.js";
import { declareLogin } from "./declare/login.js";
import { declareMcp } from "./declare/mcp.js";
import { declareMembers } from "./declare/members.js";
import { declarePolicy } from "./declare/policy.js";
import { declareRead } from "./declare/read.js";
import { declareRun } from "./declare/run.js";
import { declareScan } from "./declare/scan.js";
import { declareSecrets } from "./declare/secrets.js";
import { declareServe } from "./declare/serve.js";
import { declareTokens } from "./declare/tokens.js";
import { declareTransfer } from "./declare/transfer.js";
import { declareVault } from "./declare/vault.js";
import { EXIT_HELP } from "./exit-codes.js";

/** Thrown (instead of exiting) when commander has printed help, the version or a usage error. */
export class CommanderExit extends Error {
  constructor(readonly exitCode: number) {
    super("commander exit");
  }
}

/**
 * A usage error of commander ("error: unknown command 'x'", then "(Did you mean y?)" when it
 * has a suggestion) as authy's own, for --json: the first line is the message, the suggestion
 * the hint.
 */
export function usageError(commanderMessage: string): AuthyError {
  const [first = "", ...rest] = commanderMessage.replace(/^error: /, "").split("\n");
  const suggestion = rest
    .join(" ")
    .replace(/^\((.*)\)$/, "$1")
    .trim();
  return new AuthyError("INVALID_INPUT", first, suggestion ? { hint: suggestion.charAt(0).toLowerCase() + suggestion.slice(1) } : {});
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

/**
 * Builds the command tree: the global options, then each group of commands from its file in
 * declare/ (in the order `authy --help` lists them). Given the command word, only the group
 * holding it is declared: declaring every option of every command costs more than running
 * `secrets get` itself. Help, a missing or unknown word, or completion (`__complete` walks the
 * tree) get the whole tree. With `json`, a usage error is thrown as an AuthyError, for main.ts to
 * print as the JSON error document; without, commander prints it as text.
 */
export function buildProgram(only?: string, json = false): Command {
  const whole = only === undefined || !KNOWN_COMMANDS.has(only) || only === "__complete";
  const want = (...words: string[]) => whole || words.includes(only);
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
      if (helpish) throw new CommanderExit(0);
      throw json ? usageError(err.message) : new CommanderExit(2);
    });
  program.configureOutput({
    outputError: (str, write) => {
      if (!json) write(str.startsWith("error:") ? `authy: ${str.slice(7)}` : str);
    },
  });
  if (want("init", "status", "unlock", "lock", "whoami", "__daemon", "doctor", "passwd")) declareVault(program);
  if (want("secrets")) declareSecrets(program);
  if (want("read")) declareRead(program);
  if (want("run")) declareRun(program);
  if (want("inject")) declareInject(program);
  if (want("config")) declareConfig(program);
  if (want("policy")) declarePolicy(program);
  if (want("agents")) declareAgents(program);
  if (want("tokens")) declareTokens(program);
  if (want("approvals")) declareApprovals(program);
  if (want("env")) declareEnv(program);
  if (want("keys")) declareKeys(program);
  if (want("export", "backup", "restore")) declareTransfer(program);
  if (want("audit")) declareAudit(program);
  if (want("import")) declareImport(program);
  if (want("mcp")) declareMcp(program);
  if (want("scan")) declareScan(program);
  if (want("completion", "__complete")) declareCompletion(program);
  if (want("members")) declareMembers(program);
  if (want("login", "logout")) declareLogin(program);
  if (want("serve")) declareServe(program);
  return program;
}
