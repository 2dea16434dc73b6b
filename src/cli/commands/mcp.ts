import path from "node:path";
import { AUTHY_CREDENTIAL_VARS } from "../../run/env.js";
import type { CliContext } from "../context.js";

/** `authy mcp [--scope S]`: an MCP server on stdio for an agent host (Claude Code, Codex, Cursor, …). */
export async function mcp(ctx: CliContext, flags: { scope?: string }): Promise<void> {
  const { McpConnection } = await import("../../mcp/connection.js");
  const { serveMcp } = await import("../../mcp/server.js");
  const apiUrl = (ctx.opts as { apiUrl?: string }).apiUrl ?? process.env.AUTHY_API_URL;
  const socket = apiUrl ? null : (await import("../../daemon/paths.js")).daemonSocket(ctx.home);
  const { AuthyError } = await import("../../errors.js");
  if (!apiUrl && !socket) {
    throw new AuthyError("UNAVAILABLE", "authy mcp needs a running daemon (or a server, AUTHY_API_URL): tokens mean nothing without one", {
      hint: "the owner starts one with `authy unlock`",
    });
  }
  const where = apiUrl ? { baseUrl: apiUrl, mode: "server" as const } : { socketPath: socket!, mode: "daemon" as const };
  const connection = McpConnection.fromEnv(where, process.env, flags.scope);
  // `authy run` for run_command: this executable, this home, and no credential but the token it is given.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !(AUTHY_CREDENTIAL_VARS as readonly string[]).includes(k)) env[k] = v;
  env.AUTHY_HOME = ctx.home;
  if (apiUrl) env.AUTHY_API_URL = apiUrl;
  try {
    await serveMcp({ connection, scope: flags.scope, run: { executable: [process.execPath, "--", path.resolve(process.argv[1]!)], env } });
  } finally {
    await connection.close();
  }
}
