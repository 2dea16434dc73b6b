import type { Command } from "@commander-js/extra-typings";
import { lazy } from "../action.js";
import { help } from "../help-text.js";

const server = () => import("../commands/serve.js");

/** `authy serve`: the team server (src/server). */
export function declareServe(program: Command): void {
  program
    .command("serve")
    .description("serve the vault's HTTP API on TCP for a team (PostgreSQL for several processes, or the SQLite vault)")
    .addHelpText(
      "after",
      help(
        [
          "authy serve --listen 127.0.0.1:8420 --passphrase-file /run/secrets/authy-pass",
          "authy serve --listen 0.0.0.0:8443 --database postgres://authy@db/authy --identity /etc/authy/server.key --tls-cert cert.pem --tls-key key.pem",
          "AUTHY_DATABASE_URL=postgres://authy@db/authy authy serve --listen 127.0.0.1:0 --identity server.key",
        ],
        [0, 2, 6, 7, 8],
      ),
    )
    .requiredOption("--listen <host:port>", "address to listen on (port 0: any free port, printed at start)")
    .option("--database <url>", "PostgreSQL URL (AUTHY_DATABASE_URL); without it, the SQLite vault in --home, one process")
    .option("--passphrase-file <file>", "unlock at start with the passphrase on this file's first line (AUTHY_PASSPHRASE_FILE)")
    .option("--tls-cert <file>", "TLS certificate chain (PEM)")
    .option("--tls-key <file>", "TLS private key (PEM)")
    .option("--insecure-http", "allow plain HTTP on an address other than loopback (behind a TLS proxy on another host)")
    .option(
      "--trust-proxy <addresses>",
      "the reverse proxies (IPs or CIDRs, comma-separated, or loopback) whose X-Forwarded-For names the client: limits count per client, not per proxy",
    )
    .action(lazy(server, (m) => m.serve));
}
