import type { Command } from "@commander-js/extra-typings";
import { lazy } from "../action.js";
import { help, VAULT_EXITS } from "../help-text.js";

const scan = () => import("../commands/scan.js");

/** `authy scan`: stored values found where they should not be. */
export function declareScan(program: Command): void {
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
    .action(lazy(scan, (m) => m.scan));
}
