import type { Command } from "@commander-js/extra-typings";
import { lazy } from "../action.js";
import { help, VAULT_EXITS } from "../help-text.js";

const mcp = () => import("../commands/mcp.js");

/** `authy mcp`: the MCP server for agent hosts. */
export function declareMcp(program: Command): void {
  program
    .command("mcp")
    .description("an MCP server on stdio for agent hosts: list secrets, ask for approval, run commands with secrets injected and masked")
    .addHelpText(
      "after",
      help(["authy mcp --scope coding-agent", "claude mcp add authy --env AUTHY_AGENT_KEY=authy_ak_… -- authy mcp --scope coding-agent"], [...VAULT_EXITS, 4]),
    )
    .option("--scope <scope>", "act within this scope only (a stored scope name or secrets:read:prod/*)")
    .action(lazy(mcp, (m) => m.mcp));
}
