import { ALL_OPERATIONS } from "../operations/index.js";
import type { Operation, Wire } from "../operations/operation.js";
import type { SecretSummary } from "../vault/types.js";
import { HttpTransport, type TransportOptions } from "./http-transport.js";
import type { VaultClient } from "./vault-client.js";

/**
 * The VaultClient over the v1 API (src/api/routes.ts): the daemon on its Unix socket, or a
 * team server. Every method returns what the in-process Vault returns, built from the JSON.
 * Paths are validated here too, so that a bad name gets the core's own message before any
 * URL is built from it (and is never "normalized" by a URL parser into another name).
 */
type HttpClientOptions = TransportOptions;

/** The first of the operation's routes whose `:params` are all given, with them filled in (each one URL segment). */
function urlOf(op: Operation, params: Record<string, string | undefined> = {}): string {
  for (const pattern of [op.path, ...(op.also ?? [])]) {
    const names = [...pattern.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    if (names.every((n) => params[n] !== undefined)) return pattern.replace(/:(\w+)/g, (_, n: string) => encodeURIComponent(params[n]!));
  }
  throw new Error(`authy: no route of ${op.name} takes ${JSON.stringify(Object.keys(params))}`);
}

export function createHttpClient(opts: HttpClientOptions): VaultClient {
  const http = new HttpTransport(opts);
  const call = http.call.bind(http);

  const client: Record<string, unknown> = { mode: opts.mode, close: async () => http.close() };
  for (const op of ALL_OPERATIONS) {
    if (op.compat) continue;
    // The entries' own signatures are checked where they are declared; here every one is called alike.
    const entry = op as unknown as { encode?: (...args: unknown[]) => Wire; result?: (json: unknown, ...args: unknown[]) => unknown };
    client[op.name] = async (...args: unknown[]) => {
      const wire = entry.encode?.(...args) ?? {};
      const json = await call<unknown>(op.method, urlOf(op, wire.params), { query: wire.query, body: wire.body });
      return entry.result ? entry.result(json, ...args) : json;
    };
  }
  const vault = client as unknown as VaultClient;
  // The API lists summaries; the paths are taken from them.
  client.listSecretPaths = async (o: Parameters<VaultClient["listSecrets"]>[0]) => (await vault.listSecrets(o)).map((s: SecretSummary) => s.path);
  return vault;
}
