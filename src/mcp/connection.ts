/**
 * The credential `authy mcp` acts with. The model's host starts it with AUTHY_AGENT_KEY,
 * AUTHY_TOKEN or (an owner trying it out) AUTHY_SESSION; it always acts as a token of its own,
 * narrowed to `--scope` when given, renewed before it expires and bound to this process, so
 * that the daemon revokes it when the server exits. It never acts as the owner.
 */
import { AuthyError } from "../errors.js";
import type { VaultClient } from "../client/vault-client.js";
import type { TransportOptions } from "../client/http-transport.js";

/** How long each token of the server lives; renewed before then while the host keeps it running. */
const MCP_TOKEN_TTL_MS = 60 * 60_000;
/** Renewed this long before expiry, so that no tool call starts with a token about to die. */
const RENEW_MARGIN_MS = 2 * 60_000;

interface Where {
  socketPath?: string;
  baseUrl?: string;
  mode: "daemon" | "server";
}

interface CallerStatus {
  actor: string;
  token?: { id: string; agent: string | null; scope: string; mcp: "reveal" | null; expiresAt: number };
}

export class McpConnection {
  private current: { client: VaultClient; token: string; id: string | null; expiresAt: number } | null = null;

  private constructor(
    private readonly where: Where,
    private readonly base: { kind: "token" | "agent" | "session"; secret: string },
    private readonly scope: string | undefined,
  ) {}

  static fromEnv(where: Where, env: NodeJS.ProcessEnv, scope: string | undefined): McpConnection {
    const token = env.AUTHY_TOKEN || undefined;
    const agentKey = env.AUTHY_AGENT_KEY || undefined;
    const session = env.AUTHY_SESSION || undefined;
    if (token) return new McpConnection(where, { kind: "token", secret: token }, scope);
    if (agentKey) return new McpConnection(where, { kind: "agent", secret: agentKey }, scope);
    if (session) {
      if (!scope) {
        throw new AuthyError("INVALID_INPUT", "authy mcp with an owner session needs --scope: the model never acts as the owner", {
          hint: "authy mcp --scope NAME, or give it an agent key (AUTHY_AGENT_KEY)",
        });
      }
      return new McpConnection(where, { kind: "session", secret: session }, scope);
    }
    throw new AuthyError("ACCESS_DENIED", "authy mcp needs AUTHY_AGENT_KEY or AUTHY_TOKEN (or an owner's AUTHY_SESSION with --scope)", {
      hint: "create an agent with `authy agents create NAME --scope S` and put its key in the MCP server's env",
    });
  }

  /** A client acting as this server's token, issued or renewed as needed. */
  async client(): Promise<VaultClient> {
    const now = Date.now();
    if (this.current && this.current.expiresAt - now > RENEW_MARGIN_MS) return this.current.client;
    const { createHttpClient } = await import("../client/http-client.js");
    const opts = (bearer: string): TransportOptions => ({ ...this.where, bearer });
    if (this.base.kind === "token" && !this.scope) {
      // The token as given: it cannot be renewed from here; when it expires, tools say so.
      if (!this.current)
        this.current = { client: createHttpClient(opts(this.base.secret)), token: this.base.secret, id: null, expiresAt: Number.POSITIVE_INFINITY };
      return this.current.client;
    }
    const issuer = createHttpClient(opts(this.base.secret));
    try {
      const issued = await issuer.issueToken({ scope: this.scope, ttlMs: MCP_TOKEN_TTL_MS, label: "mcp", pid: process.pid });
      const previous = this.current;
      this.current = { client: createHttpClient(opts(issued.token)), token: issued.token, id: issued.id, expiresAt: issued.expiresAt };
      if (previous?.id) await previous.client.revokeToken(previous.id).catch(() => undefined);
      await previous?.client.close();
      return this.current.client;
    } finally {
      await issuer.close();
    }
  }

  /** The bearer token the current client uses (given to `authy run` for run_command). */
  async token(): Promise<string> {
    await this.client();
    return this.current!.token;
  }

  /** Who the server acts as: the token, its agent, its scope and whether the scope says `mcp: reveal`. */
  async status(): Promise<CallerStatus> {
    await this.client();
    const { HttpTransport } = await import("../client/http-transport.js");
    const http = new HttpTransport({ ...this.where, bearer: this.current!.token });
    try {
      return await http.call<CallerStatus>("GET", "/v1/status");
    } finally {
      http.close();
    }
  }

  async close(): Promise<void> {
    // A token of our own is revoked at once (the daemon would also revoke it once this process is gone).
    if (this.current?.id) await this.current.client.revokeToken(this.current.id).catch(() => undefined);
    await this.current?.client.close();
    this.current = null;
  }
}
