/**
 * `authy mcp`: the Model Context Protocol server on stdio, built on the official SDK. It acts
 * as a token of its own (connection.ts) and offers the tools in tools.ts.
 */
import { createRequire } from "node:module";
import { VERSION } from "../version.js";
import type { McpConnection } from "./connection.js";
import { runCommand, type RunContext } from "./run-command.js";
import { callTool, describeTools, toolsFor, type ToolBackend } from "./tools.js";

type Sdk = {
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- the low-level Server on purpose: tools.ts answers tools/list and tools/call itself, with its own audit
  Server: typeof import("@modelcontextprotocol/sdk/server/index.js").Server;
  StdioServerTransport: typeof import("@modelcontextprotocol/sdk/server/stdio.js").StdioServerTransport;
  types: typeof import("@modelcontextprotocol/sdk/types.js");
};

/** The SDK is kept out of the bundle (scripts/bundle.mjs) and required where it is installed. */
function loadSdk(): Sdk {
  const req = createRequire(import.meta.url);
  return {
    Server: (req("@modelcontextprotocol/sdk/server/index.js") as Pick<Sdk, "Server">).Server,
    StdioServerTransport: (req("@modelcontextprotocol/sdk/server/stdio.js") as Pick<Sdk, "StdioServerTransport">).StdioServerTransport,
    types: req("@modelcontextprotocol/sdk/types.js") as Sdk["types"],
  };
}

interface ServeOptions {
  connection: McpConnection;
  scope: string | undefined;
  /** How run_command starts `authy run`, and the environment it gives it (credentials stripped). */
  run: Omit<RunContext, "token">;
}

/** Serves until the host closes stdin. */
export async function serveMcp(opts: ServeOptions): Promise<void> {
  const status = await opts.connection.status();
  const tools = toolsFor(status.token?.mcp === "reveal");
  // Without --scope, run_command injects the token's own scope when it is a stored scope name.
  const ownScope = status.token?.scope && !status.token.scope.includes(":") ? status.token.scope : undefined;
  const backend: ToolBackend = {
    client: () => opts.connection.client(),
    run: async (req) => runCommand({ ...opts.run, token: await opts.connection.token() }, req),
    defaultScope: opts.scope ?? ownScope,
  };
  const { Server, StdioServerTransport, types } = loadSdk();
  const server = new Server(
    { name: "authy", version: VERSION },
    {
      capabilities: { tools: {} },
      instructions:
        "authy keeps this user's credentials. Use run_command to run commands that need them: values are injected into the command's environment and masked in its output, so they never enter this conversation. Use list_secrets to see what exists, request_access and check_access when a secret needs the owner's approval.",
    },
  );
  server.setRequestHandler(types.ListToolsRequestSchema, () => ({ tools: describeTools(tools) }));
  server.setRequestHandler(types.CallToolRequestSchema, (req) => callTool(tools, backend, req.params.name, req.params.arguments));
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once("end", () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close().catch(() => undefined);
}
