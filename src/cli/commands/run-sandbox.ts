/**
 * `authy run --sandbox`: from the flags to the request the core checks and audits, and from
 * the dispatched sandbox (flags plus the scope's defaults) to a running proxy, the run's own
 * socket to the daemon (`--pass-token`, run/run-socket.ts), and the command line that runs the
 * child in bwrap. What the sandbox hides of authy's own (AUTHY_HOME, the
 * daemon's socket directory, identity and passphrase files) is named here; src/run knows
 * nothing of the vault.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { daemonPaths } from "../../daemon/paths.js";
import { AuthyError } from "../../errors.js";
import { formatAllowedHost, parseAllowedHost } from "../../formats/allowed-host.js";
import { checkSandboxSupport, probeSandbox } from "../../run/sandbox-support.js";
import { planMounts, resolveSandboxPath, type MountPlanInput } from "../../run/sandbox-mounts.js";
import type { RunSocket } from "../../run/run-socket.js";
import { proxyEnv, SANDBOX_DAEMON_SOCKET, sandboxCommand, type SandboxNetwork } from "../../run/sandbox.js";
import { loginConfigDir } from "../profiles.js";
import type { RunSandbox } from "../../vault/dispatch.js";
import type { VaultClient } from "../../client/vault-client.js";
import type { CliContext } from "../context.js";
import { authyExecutable } from "../executable.js";

export interface SandboxFlags {
  sandbox?: boolean;
  allowWrite?: string[];
  allowRead?: string[];
  allowHost?: string[];
  /** false with --no-network. */
  network?: boolean;
  passToken?: boolean;
}

/** Paths the child must not see that only the CLI knows: authy's own, and the user's agents. */
function hiddenPaths(ctx: CliContext): string[] {
  // The member keys `authy login` stored: a child is never a member (cli/context.ts refuses them outside too).
  const hide = [ctx.home, daemonPaths(ctx.home).socketDir, loginConfigDir()];
  for (const file of [ctx.opts.identity, process.env.AUTHY_IDENTITY, process.env.AUTHY_PASSPHRASE_FILE]) if (file) hide.push(path.resolve(file));
  // The session bus, keyrings and agents live here: a door to run code outside the sandbox.
  const uid = process.getuid?.();
  if (uid !== undefined) hide.push(`/run/user/${uid}`);
  if (process.env.XDG_RUNTIME_DIR) hide.push(process.env.XDG_RUNTIME_DIR);
  if (process.env.SSH_AUTH_SOCK) hide.push(process.env.SSH_AUTH_SOCK);
  return hide;
}

/**
 * authy's own installation (the folder holding dist/ and node_modules/) when it lies under
 * /tmp, which the sandbox replaces with a private one: bound read-only so that `authy` works
 * inside (`--pass-token`). Elsewhere the read-only root shows it already.
 */
function installUnderTmp(): string | null {
  const executable = authyExecutable();
  if (executable === null) return null;
  const root = path.dirname(path.dirname(path.dirname(executable)));
  return root.startsWith("/tmp/") ? root : null;
}

function mountInput(ctx: CliContext, box: { write: string[]; read: string[] }): MountPlanInput {
  const home = os.homedir();
  const cwd = process.cwd();
  const resolve = (p: string) => resolveSandboxPath(p, home, cwd);
  const read = box.read.map(resolve);
  const install = installUnderTmp();
  // Where it is the working directory, that is bound (writable) already.
  if (install !== null && install !== cwd && !read.includes(install)) read.push(install);
  return { home, cwd, write: box.write.map(resolve), read, hide: hiddenPaths(ctx) };
}

/**
 * The sandbox a run's flags ask for (any --allow-* or --no-network implies --sandbox), or
 * undefined. Checks, before anything is released, that bwrap can run here and that the paths
 * exist.
 */
export function sandboxRequest(ctx: CliContext, flags: SandboxFlags): { request: RunSandbox; bwrap: string } | undefined {
  const wanted = flags.sandbox || flags.network === false || Boolean(flags.allowWrite?.length || flags.allowRead?.length || flags.allowHost?.length);
  if (!wanted) return undefined;
  if (flags.network === false && flags.allowHost?.length) {
    throw new AuthyError("INVALID_INPUT", "--no-network and --allow-host contradict each other", { hint: "keep one of them" });
  }
  const bwrap = checkSandboxSupport();
  probeSandbox(bwrap);
  const home = os.homedir();
  const request: RunSandbox = {
    write: (flags.allowWrite ?? []).map((p) => resolveSandboxPath(p, home, process.cwd())),
    read: (flags.allowRead ?? []).map((p) => resolveSandboxPath(p, home, process.cwd())),
    hosts: (flags.allowHost ?? []).map((h) => formatAllowedHost(parseAllowedHost(h))),
    network: flags.network === false ? "none" : "host",
  };
  planMounts(mountInput(ctx, request));
  return { request, bwrap };
}

export interface StartedSandbox {
  wrap: (path: string, args: readonly string[]) => { path: string; args: string[] };
  /** Variables for the child (the proxy's, with --allow-host; AUTHY_SOCKET, with --pass-token). */
  env: Record<string, string>;
  /** What the watchdog removes if `authy run` is killed: the run socket, then its directory. */
  cleanup: { files: string[]; dirs: string[] };
  /** The sandbox is running as `pid`: its processes may use the run socket from now on. */
  started(pid: number): void;
  close(): Promise<void>;
}

/** The token a `--pass-token` run hands its sandboxed child, and the daemon it is for. */
export interface PassedToken {
  token: string;
  daemonSocket: string;
}

/**
 * Starts what the dispatched sandbox needs (its proxy with allowed hosts, the run socket with
 * --pass-token), each on a socket in a fresh private directory, and returns how to run the
 * child in it.
 */
export async function startSandbox(
  ctx: CliContext,
  client: VaultClient,
  box: RunSandbox,
  bwrap: string,
  resource: string,
  passed?: PassedToken,
): Promise<StartedSandbox> {
  const mounts = mountInput(ctx, box);
  planMounts(mounts); // the scope's defaults too: a missing path is an error before the child starts
  const proxied = box.network !== "none" && box.hosts.length > 0;
  let network: SandboxNetwork = box.network === "none" ? { kind: "none" } : { kind: "host" };
  if (!proxied && !passed) {
    return {
      wrap: (p, a) => sandboxCommand(p, a, { bwrap, mounts, network }),
      env: {},
      cleanup: { files: [], dirs: [] },
      started: () => undefined,
      close: async () => undefined,
    };
  }
  // 0700, made by us (mkdtemp): no other user can reach a socket in it.
  const dir = mkdtempSync(path.join(os.tmpdir(), "authy-run-"));
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
  };
  const env: Record<string, string> = {};
  const files: string[] = [];
  const refused = new Set<string>();
  /** One audit entry per kind of refusal per run: a loop cannot flood the log. */
  const audit = (action: string, key: string, details: Record<string, unknown>) => {
    if (refused.has(`${action} ${key}`)) return;
    refused.add(`${action} ${key}`);
    client.recordEvent(action, resource, details).catch((e: unknown) => ctx.out.warn(`could not record ${action}: ${(e as Error).message}`));
  };
  let runSocket: { relay: RunSocket; path: string } | undefined;
  try {
    if (proxied) {
      const socket = path.join(dir, "proxy.sock");
      const { startSandboxProxy } = await import("../../run/sandbox-proxy.js");
      const proxy = await startSandboxProxy({
        socketPath: socket,
        allow: box.hosts.map(parseAllowedHost),
        onRefused: (host, port, protocol) => audit("run.network.denied", `${host}:${port}`, { host, port, protocol }),
      }).catch((e: unknown) => {
        throw new AuthyError("UNAVAILABLE", `could not start the sandbox's proxy: ${(e as Error).message}`, { cause: e });
      });
      closers.push(() => proxy.close());
      files.push(socket);
      network = { kind: "proxy", socket };
      Object.assign(env, proxyEnv());
    }
    if (passed) {
      const socket = path.join(dir, "daemon.sock");
      const { startRunSocket } = await import("../../run/run-socket.js");
      const relay = await startRunSocket({
        socketPath: socket,
        daemonSocket: passed.daemonSocket,
        token: passed.token,
        onRefused: (reason) => audit("run.socket.denied", reason, { reason }),
      }).catch((e: unknown) => {
        throw new AuthyError("UNAVAILABLE", `could not make the run's socket to the daemon: ${(e as Error).message}`, { cause: e });
      });
      closers.push(() => relay.close());
      runSocket = { relay, path: socket };
      files.push(socket);
      env.AUTHY_SOCKET = SANDBOX_DAEMON_SOCKET;
    }
  } catch (e) {
    await close();
    throw e;
  }
  const daemonSocket = runSocket?.path;
  return {
    wrap: (p, a) => sandboxCommand(p, a, { bwrap, mounts, network, ...(daemonSocket ? { daemonSocket } : {}) }),
    env,
    cleanup: { files, dirs: [dir] },
    started: (pid) => runSocket?.relay.admitTree(pid),
    close,
  };
}
