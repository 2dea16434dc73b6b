import { type Command, Option } from "@commander-js/extra-typings";
import { APPROVAL_STATUSES } from "../../vault/approval-info.js";
import { lazy } from "../action.js";
import { reasonText } from "../options.js";
import { help, VAULT_EXITS } from "../help-text.js";

const approvals = () => import("../commands/approvals.js");

/** `authy approvals …`: the owner's answers to agents' requests. */
export function declareApprovals(program: Command): void {
  const ap = program
    .command("approvals")
    .description("agents' requests to read sensitive or write critical secrets: list, approve, deny, watch")
    .addHelpText("after", help(["authy approvals list", "authy approvals approve apr_…", "authy approvals watch"], [...VAULT_EXITS, 3, 4]));
  ap.command("list")
    .description("list requests (oldest first)")
    .addHelpText("after", help(["authy approvals list", "authy approvals list --status denied --json"], [...VAULT_EXITS, 4]))
    .addOption(new Option("--status <status>", "only these").choices(APPROVAL_STATUSES))
    .action(lazy(approvals, (m) => m.list));
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
    .option("--reason <text>", "why (audited)", reasonText)
    .option("--for <duration>", "a time-boxed grant for exactly that agent, action and path (at most 24h)")
    .action(lazy(approvals, (m) => m.approve));
  ap.command("deny <id>")
    .description("deny a request; the agent is told the reason")
    .addHelpText(
      "after",
      help(
        ['authy approvals deny apr_… --reason "not during the freeze"', 'authy approvals deny apr_… --reason "ask in #ops first" --json'],
        [...VAULT_EXITS, 3, 4],
      ),
    )
    .requiredOption("--reason <text>", "why (shown to the agent, audited)", reasonText)
    .action(lazy(approvals, (m) => m.deny));
  ap.command("watch")
    .description("a live list where a approves and d denies (JSON lines of new requests when not a terminal)")
    .addHelpText("after", help(["authy approvals watch", "authy approvals watch --for 15m", "authy approvals watch | jq ."], [...VAULT_EXITS, 4, 130]))
    .option("--for <duration>", "make the a key approve for this long instead of once")
    .action(lazy(approvals, (m) => m.watch));
}
