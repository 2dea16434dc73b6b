import { existsSync } from "node:fs";
import { AuthyError, type ErrorCode } from "../../errors.js";
import { MAX_LIFETIME_LIMIT_MS } from "../../daemon/lifetime.js";
import { daemonPaths, runningDaemon } from "../../daemon/paths.js";
import { newOwnerSession } from "../../daemon/session.js";
import type { SocketRequestOptions } from "../../daemon/socket-client.js";
import { formatDuration, parseDuration } from "../../formats/duration.js";
import { procStat } from "../../os/proc-stat.js";
import type { CliContext } from "../context.js";
import { EXIT_CODES } from "../exit-codes.js";
import { jsonTime } from "../json-output.js";

function lifetimeFlag(name: string, text: string): number {
  const ms = parseDuration(text);
  if (ms <= 0) throw new AuthyError("INVALID_INPUT", `--${name} must be longer than zero`, { hint: "for example 15m or 8h" });
  if (ms > MAX_LIFETIME_LIMIT_MS)
    throw new AuthyError("INVALID_INPUT", `--${name} is longer than the ${formatDuration(MAX_LIFETIME_LIMIT_MS)} limit`, {
      hint: "unlock again when it locks",
    });
  return ms;
}

/**
 * `authy unlock`: unlock here, hand the key to a new daemon, and leave owner rights with this
 * terminal session (daemon/terminal.ts): nothing to eval, no credential in any environment.
 * `--export-session` also prints an owner session for scripts, with a warning of what that
 * gives away. A running daemon is an error (exit 2): the answer is `authy lock` first.
 */
export async function unlock(ctx: CliContext, flags: { idle: string; max: string; shell?: boolean; exportSession?: boolean }): Promise<void> {
  const idleMs = lifetimeFlag("idle", flags.idle);
  const maxMs = lifetimeFlag("max", flags.max);
  const running = runningDaemon(ctx.home);
  if (running) {
    throw new AuthyError("ALREADY_EXISTS", `the vault is already unlocked: a daemon is running (pid ${running.pid}, socket ${running.socket})`, {
      hint: "work from the terminal that unlocked it, or run `authy lock` and then `authy unlock` again",
    });
  }
  const { native, nativeUnavailable, protectProcess } = await import("../../os/native.js");
  if (!native()) {
    throw new AuthyError("UNAVAILABLE", `authy cannot run its daemon safely here: ${nativeUnavailable()}`, {
      hint: "use direct mode: AUTHY_PASSPHRASE, AUTHY_PASSPHRASE_FILE or an identity (AUTHY_IDENTITY)",
    });
  }
  protectProcess();
  // Before the daemon's directory is made in a home that may not exist: a vault to unlock first.
  if (!existsSync(ctx.vaultPath)) throw new AuthyError("NOT_INITIALIZED", `no vault in ${ctx.home}`, { hint: "run `authy init`" });
  const { checkDaemonPaths, startDaemon } = await import("../../daemon/spawn.js");
  checkDaemonPaths(ctx.home); // a planted file at the socket path is refused before the passphrase is asked
  const vault = await ctx.unlock();
  const key = vault.exportKey();
  const session = flags.exportSession ? newOwnerSession() : null;
  let started;
  try {
    started = await startDaemon({ home: ctx.home, vaultPath: ctx.vaultPath, key, session, idleMs, maxMs });
  } finally {
    key.fill(0);
    vault.lock();
  }
  const self = procStat("self");
  const owner = self ? { session: self.session, terminal: self.tty === 0 ? null : self.tty } : null;
  const info = { pid: started.pid, socket: started.socket, idleTimeoutMs: idleMs, maxLifetimeMs: maxMs, owner };
  if (owner?.session === 0) {
    // The kernel shows session 0 when the session's leader is outside this pid namespace (some
    // containers): every such session reads 0 here, so the daemon cannot tell them apart.
    ctx.out.warn(
      "this session's id is not visible here (session 0: its leader is outside this pid namespace, as in some containers); other processes of your user whose session also reads 0 count as this one. Start agents with `authy run` (a session of their own) or `--sandbox`.",
    );
  }
  const lifetime = `daemon ${started.pid} locks after ${formatDuration(idleMs)} idle, ${formatDuration(maxMs)} at the latest`;
  if (session === null) {
    const where = owner?.terminal ? "this terminal" : "this session (no terminal)";
    ctx.out.info(`unlocked: ${lifetime}${owner?.terminal ? ", or when this terminal closes" : ""}. Owner commands from ${where} need no passphrase.`);
    ctx.out.result(info, () => "");
    return;
  }
  ctx.out.warn(
    "AUTHY_SESSION makes whoever reads it the owner: every program started from a shell that exports it carries it in its environment, readable by any process of your user in /proc/PID/environ. Without --export-session, this terminal is the owner and nothing is exported.",
  );
  const line = `export AUTHY_SESSION=${session}`;
  if (process.stdout.isTTY && !flags.shell) {
    ctx.out.info(`unlocked: ${lifetime}.`);
    ctx.out.info(`For scripts, run this line in the shell (next time: eval "$(authy unlock --export-session)"):`);
  }
  ctx.out.result({ ...info, session, export: line }, () => line);
}

/**
 * `authy lock`: the owner stops the daemon; "nothing to lock" is success. The owner is this
 * terminal session (asked over the socket, after checking it is the daemon this terminal
 * unlocked), an exported session, or whoever gives the passphrase or an identity here
 * (audited in the vault, then SIGTERM). Anyone else is refused (exit 4), and the daemon
 * audits the attempt.
 */
export async function lock(ctx: CliContext): Promise<void> {
  const { daemonHolder, stopDaemon } = await import("../../daemon/control.js");
  const holder = daemonHolder(ctx.home);
  let stopped = null;
  if (holder) {
    (await import("../../os/native.js")).protectProcess();
    const terminal = await import("../../daemon/terminal.js");
    const session = process.env.AUTHY_SESSION || undefined;
    let ask: ((socket: string) => Promise<void>) | undefined;
    if (session) {
      const bearer = await ctx.sessionProof(session);
      ask = (socket) => askLock(socket, { bearer });
    } else if (terminal.inDaemonTerminal(holder.pid)) {
      ask = (socket) => askLock(socket, { checkPeer: terminal.checkDaemonPeer });
    } else if (ctx.hasOwnCredential()) {
      const vault = await ctx.unlock(); // proves the owner
      await vault.recordEvent("vault.lock", "vault", { mode: "signal", pid: holder.pid });
      vault.lock();
    } else {
      // The daemon refuses and audits it; nothing else is done.
      await askLock(daemonPaths(ctx.home).socket, {}).catch(() => undefined);
      throw new AuthyError("ACCESS_DENIED", "only the owner can lock the vault, and this process is not in the terminal session that unlocked it", {
        hint: "lock from that terminal, or give the passphrase or an identity",
      });
    }
    stopped = await stopDaemon(ctx.home, ask);
  }
  ctx.out.result({ locked: true, wasRunning: stopped !== null, pid: stopped?.pid ?? null }, () => "");
  if (!stopped) ctx.out.info("no daemon is running; the vault is locked");
  else {
    ctx.out.info(`locked: daemon ${stopped.pid} stopped`);
    if (stopped.how === "killed") ctx.out.warn(`the daemon did not exit in time and was killed`);
  }
}

async function askLock(socket: string, opts: SocketRequestOptions): Promise<void> {
  const { socketRequest } = await import("../../daemon/socket-client.js");
  const r = await socketRequest(socket, "POST", "/v1/lock", { ...opts, body: {} });
  if (r.status >= 200 && r.status < 300) return;
  throw errorOf(r.body, "the daemon refused to lock");
}

function errorOf(body: unknown, fallback: string): AuthyError {
  const e = (body as { error?: { code?: ErrorCode; message?: string; hint?: string | null } } | null)?.error;
  return new AuthyError(e?.code && e.code in EXIT_CODES ? e.code : "ACCESS_DENIED", e?.message ?? fallback, { hint: e?.hint ?? undefined });
}

/**
 * `authy whoami`: which principal this process is, and why. Asked of the daemon when one runs
 * and this process has a token, an agent key, an exported session or the owner's terminal;
 * otherwise the owner by a passphrase or identity this process could unlock with (not checked:
 * that would cost an unlock).
 */
export async function whoami(ctx: CliContext): Promise<void> {
  const server = ctx.server();
  if (server) return (await import("./login.js")).serverWhoami(ctx, server);
  const token = process.env.AUTHY_TOKEN || undefined;
  const agentKey = process.env.AUTHY_AGENT_KEY || undefined;
  const session = process.env.AUTHY_SESSION || undefined;
  const daemon = ctx.opts.daemon === false ? null : runningDaemon(ctx.home);
  let me: Record<string, unknown> | null = null;
  if (daemon) {
    (await import("../../os/native.js")).protectProcess();
    const terminal = await import("../../daemon/terminal.js");
    const bearer = token ?? agentKey ?? (session ? await ctx.sessionProof(session) : undefined);
    if (bearer !== undefined || terminal.inDaemonTerminal(daemon.pid)) {
      const { socketRequest } = await import("../../daemon/socket-client.js");
      const r = await socketRequest(daemon.socket, "GET", "/v1/whoami", bearer !== undefined ? { bearer } : { checkPeer: terminal.checkDaemonPeer });
      if (r.status !== 200) throw errorOf(r.body, "the daemon does not know this process");
      me = r.body as Record<string, unknown>;
    }
  } else if (token || agentKey) {
    throw new AuthyError("UNAVAILABLE", `${token ? "AUTHY_TOKEN" : "AUTHY_AGENT_KEY"} is set, but no daemon is running to honour it`, {
      hint: "the owner starts one with `authy unlock`",
    });
  }
  if (!me) {
    const source =
      ctx.opts.identity || process.env.AUTHY_IDENTITY
        ? "identity"
        : ctx.opts.passphraseStdin || process.env.AUTHY_PASSPHRASE !== undefined || process.env.AUTHY_PASSPHRASE_FILE
          ? "passphrase"
          : null;
    if (source === null) {
      throw new AuthyError(
        "ACCESS_DENIED",
        `this process is no principal: no token, agent key or ${daemon ? "owner terminal session" : "daemon"}, and no passphrase or identity`,
        {
          hint: daemon
            ? "owners: the terminal that ran `authy unlock` is the owner; agents: set AUTHY_TOKEN or AUTHY_AGENT_KEY"
            : "unlock with `authy unlock`, or give the passphrase or an identity",
        },
      );
    }
    me = {
      principal: "owner",
      kind: "owner",
      via: source,
      why: `this process can unlock the vault itself with ${source === "identity" ? "an identity" : "the passphrase"} (not checked until it is used)`,
    };
  }
  // The daemon answers in epoch ms (a token's expiry); --json says times one way.
  if (typeof me.expiresAt === "number") me = { ...me, expiresAt: jsonTime(me.expiresAt) };
  const shown = me;
  ctx.out.result(shown, () => `${String(shown.principal)}: ${String(shown.why)}`);
}

/** The hidden `__daemon` command: the daemon process itself (see src/daemon/server.ts). */
export async function daemon(): Promise<number> {
  const { runDaemon } = await import("../../daemon/server.js");
  return runDaemon();
}
