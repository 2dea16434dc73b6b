import { type Command, Option } from "@commander-js/extra-typings";
import { lazy } from "../action.js";
import { help, VAULT_EXITS } from "../help-text.js";

const audit = () => import("../commands/audit.js");

/** `authy audit …`: the tamper-evident log. */
export function declareAudit(program: Command): void {
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
    .action(lazy(audit, (m) => m.query));
  au.command("verify")
    .description("recompute the hash chain and every MAC; exit 7 naming the first bad entry")
    .addHelpText("after", help(["authy audit verify", "authy audit verify --checkpoint head.json"], [...VAULT_EXITS, 3, 4]))
    .option("--checkpoint <file>", "also check against a checkpoint: catches deleted newest entries")
    .action(lazy(audit, (m) => m.verify));
  au.command("checkpoint")
    .description("print (or write) the current head, MACed, to keep elsewhere")
    .addHelpText("after", help(["authy audit checkpoint --out head.json", 'authy audit checkpoint | ssh backup "cat > authy-head.json"'], [...VAULT_EXITS, 4]))
    .option("--out <file>", "write it to this file (0600) instead of stdout")
    .action(lazy(audit, (m) => m.checkpoint));
  au.command("export")
    .description("the whole log, oldest first, verified as it streams")
    .addHelpText(
      "after",
      help(["authy audit export --format csv --out audit.csv", "authy audit export --format jsonl | gzip > audit.jsonl.gz"], [...VAULT_EXITS, 4]),
    )
    .addOption(new Option("--format <format>", "json (one array), jsonl (one entry per line) or csv").choices(["json", "jsonl", "csv"]).default("json"))
    .option("--out <file>", "write to a file (0600) instead of stdout")
    .action(lazy(audit, (m) => m.exportLog));
}
