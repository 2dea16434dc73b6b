import path from "node:path";
import { AuthyError } from "../errors.js";
import { IDENTITY_LIMIT, PASSPHRASE_LIMIT, readFileBounded } from "../files/bounded-read.js";
import type { SqliteStore } from "../store/sqlite/sqlite-store.js";
import { systemClock } from "../vault/clock.js";
import type { Credential } from "../vault/key-slots.js";
import type { Vault } from "../vault/vault.js";
import type { VaultClient } from "../client/vault-client.js";
import { closeBeforeExit } from "./exit.js";
import { canPrompt, firstLine, promptSecret, readStdin } from "./input.js";
import { vaultHome } from "./home.js";
import { outputFor, type Output } from "./output.js";
import { serverTarget, type ServerTarget } from "./profiles.js";
import { RUN_CHILD_VAR } from "../run/env.js";

const VAULT_FILE = "vault.db";

interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
  color?: boolean;
  verbose?: boolean;
  home?: string;
  passphraseStdin?: boolean;
  identity?: string;
  /** false with --no-daemon. */
  daemon?: boolean;
  /** A team server's URL (also AUTHY_API_URL). */
  apiUrl?: string;
  /** A login profile (also AUTHY_PROFILE). */
  profile?: string;
}

/** An agent key is exchanged for a token that lives just long enough for one command. */
const AGENT_COMMAND_TOKEN_TTL_MS = 10 * 60_000;

/** Everything a command handler needs from the outside world, resolved once. */
export class CliContext {
  readonly out: Output;
  readonly home: string;
  readonly vaultPath: string;
  private store: SqliteStore | undefined;

  constructor(readonly opts: GlobalOptions) {
    this.out = outputFor(opts);
    this.home = vaultHome(opts.home);
    this.vaultPath = path.join(this.home, VAULT_FILE);
  }

  /** The vault's SQLite store (loaded on demand: commands served by the daemon never need it). */
  async openStore(options: { create?: boolean } = {}): Promise<SqliteStore> {
    if (!this.store) {
      const { SqliteStore } = await import("../store/sqlite/sqlite-store.js");
      this.store = SqliteStore.open(this.vaultPath, options);
      closeBeforeExit(() => this.closeStore());
    }
    return this.store;
  }

  /** Where the passphrase or identity comes from, in order of precedence. */
  async credential(purpose = "vault passphrase"): Promise<Credential> {
    (await import("../os/native.js")).protectProcess();
    const identityFile = this.opts.identity ?? process.env.AUTHY_IDENTITY;
    if (this.opts.identity) return this.identities(this.opts.identity);
    if (this.opts.passphraseStdin) return { passphrase: firstLine(await readStdin("the passphrase", PASSPHRASE_LIMIT)) };
    if (identityFile) return this.identities(identityFile);
    return { passphrase: await this.passphrase(purpose) };
  }

  /** A passphrase from the environment, a file, or a no-echo prompt. */
  async passphrase(purpose = "vault passphrase"): Promise<string> {
    (await import("../os/native.js")).protectProcess();
    if (this.opts.passphraseStdin) return firstLine(await readStdin("the passphrase", PASSPHRASE_LIMIT));
    if (process.env.AUTHY_PASSPHRASE !== undefined) return process.env.AUTHY_PASSPHRASE;
    const file = process.env.AUTHY_PASSPHRASE_FILE;
    if (file) return firstLine(await readFileBounded(file, PASSPHRASE_LIMIT));
    return promptSecret(`${purpose[0]!.toUpperCase()}${purpose.slice(1)}:`);
  }

  private async identities(file: string): Promise<Credential> {
    const { parseIdentityFile } = await import("../crypto/index.js");
    const text = (await readFileBounded(file, IDENTITY_LIMIT)).toString("utf8");
    return { identities: parseIdentityFile(text) };
  }

  async unlock(): Promise<Vault> {
    // Before the passphrase is read and the key derived: no other process may read them.
    (await import("../os/native.js")).protectProcess();
    const store = await this.openStore();
    if (!(await store.getVault())) {
      throw new AuthyError("NOT_INITIALIZED", `no vault in ${this.home}`, { hint: "run `authy init`" });
    }
    const { Vault } = await import("../vault/vault.js");
    return Vault.unlock({ store, clock: systemClock }, await this.credential());
  }

  /**
   * The vault to talk to. With a daemon running, commands go to it, acting as a token
   * (AUTHY_TOKEN), an agent (AUTHY_AGENT_KEY, exchanged for a short-lived token first), the
   * owner by an exported session (AUTHY_SESSION, sent as a proof bound to this process), or
   * the owner because this process is in the terminal session that unlocked (no credential
   * sent at all, and the daemon checked first: see daemon/terminal.ts), in that order. A caller
   * with none of those but its own passphrase or identity works directly; anyone else is
   * refused, so an agent that merely shares the user's account cannot act as the owner.
   * Without a daemon, this process unlocks the vault itself. Commands print the same either way.
   * AUTHY_SOCKET (set by `authy run --sandbox --pass-token` in the sandbox) names the run's
   * own socket to the daemon, for AUTHY_TOKEN only.
   */
  async client(opts: { issuesTokens?: boolean } = {}): Promise<VaultClient> {
    this.clientHandle = await this.connect(opts.issuesTokens === true);
    return this.clientHandle;
  }

  /**
   * The token an agent key was exchanged for, for this one command: revoked when the command
   * ends (close), so that they do not pile up as active.
   */
  private commandToken: { id: string } | undefined;

  private target: ServerTarget | null | undefined;

  /** The team server this command talks to (--api-url, --profile, or `authy login`), or null for the local vault. */
  server(): ServerTarget | null {
    if (this.target === undefined) this.target = serverTarget(this.opts);
    return this.target;
  }

  /**
   * A team server: a token (AUTHY_TOKEN), an agent key (AUTHY_AGENT_KEY, exchanged for a
   * short-lived token as with the daemon), or the member key stored by `authy login`, in that
   * order: the narrowest credential wins.
   */
  private async connectServer(target: ServerTarget, issuesTokens: boolean): Promise<VaultClient> {
    const { createHttpClient } = await import("../client/http-client.js");
    const token = process.env.AUTHY_TOKEN;
    const agentKey = process.env.AUTHY_AGENT_KEY;
    const baseUrl = target.url;
    if (token) return createHttpClient({ baseUrl, bearer: token, mode: "server", credential: "AUTHY_TOKEN" });
    if (agentKey) {
      const exchange = createHttpClient({ baseUrl, bearer: agentKey, mode: "server", credential: "AUTHY_AGENT_KEY" });
      if (issuesTokens) return exchange;
      const issued = await exchange.issueToken({ ttlMs: AGENT_COMMAND_TOKEN_TTL_MS, label: "cli" });
      await exchange.close();
      this.commandToken = { id: issued.id };
      return createHttpClient({ baseUrl, bearer: issued.token, mode: "server", credential: "AUTHY_AGENT_KEY" });
    }
    if (target.key) {
      if (process.env[RUN_CHILD_VAR]) {
        throw new AuthyError("ACCESS_DENIED", "inside `authy run`, the member key stored by `authy login` is not used", {
          hint: "the child gets what its run passes it: start it with `authy run --pass-token --scope S`",
        });
      }
      (await import("../os/native.js")).protectProcess();
      return createHttpClient({ baseUrl, bearer: target.key, mode: "server", credential: "login" });
    }
    throw new AuthyError("ACCESS_DENIED", `no credential for the authy server at ${baseUrl}`, {
      hint: "log in with `authy login` (a member key), or set AUTHY_TOKEN or AUTHY_AGENT_KEY",
    });
  }

  private async connect(issuesTokens: boolean): Promise<VaultClient> {
    // An empty AUTHY_SESSION is a cleared one; an empty token or agent key is a mistake to name.
    const session = process.env.AUTHY_SESSION || undefined;
    for (const name of ["AUTHY_TOKEN", "AUTHY_AGENT_KEY"] as const) {
      if (process.env[name] === "") {
        throw new AuthyError("INVALID_INPUT", `${name} is set but empty`, {
          hint:
            name === "AUTHY_TOKEN"
              ? "the owner prints a token with `authy tokens create`; or unset it"
              : "the owner prints an agent key once, with `authy agents create NAME --scope S`; or unset it",
        });
      }
    }
    const target = this.server();
    if (target) return this.connectServer(target, issuesTokens);
    const token = process.env.AUTHY_TOKEN;
    const agentKey = process.env.AUTHY_AGENT_KEY;
    const runSocket = process.env.AUTHY_SOCKET;
    if (runSocket) {
      // Inside `authy run --sandbox --pass-token`: the run's own socket, which serves its token and nothing else.
      if (!token) {
        throw new AuthyError(
          "INVALID_INPUT",
          "AUTHY_SOCKET is set but AUTHY_TOKEN is not: that socket serves only the token of the sandboxed run that made it",
          {
            hint: "inside the sandbox, leave AUTHY_TOKEN as `authy run` set it; elsewhere, unset AUTHY_SOCKET",
          },
        );
      }
      const { createHttpClient } = await import("../client/http-client.js");
      (await import("../os/native.js")).protectProcess();
      return createHttpClient({ socketPath: runSocket, bearer: token, mode: "daemon", credential: "AUTHY_TOKEN" });
    }
    const daemon = this.opts.daemon === false ? null : (await import("../daemon/paths.js")).runningDaemon(this.home);
    if (daemon) {
      const socketPath = daemon.socket;
      const { createHttpClient } = await import("../client/http-client.js");
      // Before this process holds a credential or a value: no other process may read them.
      (await import("../os/native.js")).protectProcess();
      // The narrowest credential wins: in an owner's shell, `AUTHY_TOKEN=… authy …` acts as the token.
      if (token) return createHttpClient({ socketPath, bearer: token, mode: "daemon", credential: "AUTHY_TOKEN" });
      if (agentKey) {
        const exchange = createHttpClient({ socketPath, bearer: agentKey, mode: "daemon", credential: "AUTHY_AGENT_KEY" });
        // `tokens create` as an agent issues with the key itself: a token issued under the
        // command's own token would die with it.
        if (issuesTokens) return exchange;
        const issued = await exchange.issueToken({ ttlMs: AGENT_COMMAND_TOKEN_TTL_MS, label: "cli" });
        await exchange.close();
        this.commandToken = { id: issued.id };
        return createHttpClient({ socketPath, bearer: issued.token, mode: "daemon", credential: "AUTHY_AGENT_KEY" });
      }
      if (session) return createHttpClient({ socketPath, bearer: await this.sessionProof(session), mode: "daemon", credential: "AUTHY_SESSION" });
      const terminal = await import("../daemon/terminal.js");
      if (terminal.inDaemonTerminal(daemon.pid)) return createHttpClient({ socketPath, mode: "daemon", checkPeer: terminal.checkDaemonPeer });
      if (!this.hasOwnCredential()) {
        throw new AuthyError(
          "ACCESS_DENIED",
          "the vault is unlocked by a daemon, but this process is not in the terminal session that unlocked it and has no token or key for it",
          {
            hint: "owners: work from the terminal that ran `authy unlock` (or give the passphrase); agents: set AUTHY_TOKEN or AUTHY_AGENT_KEY",
          },
        );
      }
    } else if (token || agentKey) {
      // Name the home: a daemon may well be running, for the vault in another one.
      throw new AuthyError("UNAVAILABLE", `${token ? "AUTHY_TOKEN" : "AUTHY_AGENT_KEY"} is set, but no daemon is running for the vault in ${this.home}`, {
        hint: "is AUTHY_HOME (or --home) the owner's? If it is, the owner starts the daemon with `authy unlock`",
      });
    }
    const { directClient } = await import("../client/direct-client.js");
    return directClient(await this.unlock());
  }

  /** What this process sends for an exported owner session: a proof valid only for its own connections. */
  async sessionProof(session: string): Promise<string> {
    const { ownerProof } = await import("../daemon/session.js");
    const { procStat } = await import("../os/proc-stat.js");
    const self = procStat("self");
    if (!self) throw new AuthyError("UNAVAILABLE", "cannot read /proc/self/stat to prove the owner session", { hint: "the daemon needs /proc (Linux)" });
    return ownerProof(session, self);
  }

  /** Whether this process can unlock the vault by itself (no prompt needed to know). */
  hasOwnCredential(): boolean {
    return Boolean(
      this.opts.identity ||
      this.opts.passphraseStdin ||
      process.env.AUTHY_IDENTITY ||
      process.env.AUTHY_PASSPHRASE !== undefined ||
      process.env.AUTHY_PASSPHRASE_FILE ||
      canPrompt(),
    );
  }

  private clientHandle: VaultClient | undefined;

  /**
   * Ends a command. A daemon connection is closed; the SQLite store is closed just before the
   * process exits (exit.ts), as a later command of the same process may still need it.
   */
  async close(): Promise<void> {
    if (this.commandToken && this.clientHandle) {
      await this.clientHandle.revokeToken(this.commandToken.id).catch(() => undefined); // it lapses by itself anyway
      this.commandToken = undefined;
    }
    if (this.clientHandle?.mode !== "direct") await this.clientHandle?.close();
  }

  /** Closes the store now (before removing a half-made vault, for instance). */
  async closeStore(): Promise<void> {
    await this.store?.close();
    this.store = undefined;
  }
}
