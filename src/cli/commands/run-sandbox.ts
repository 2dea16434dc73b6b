/**
 * `authy run --sandbox`: from the flags to the request the core checks and audits, and from
 * the dispatched sandbox (flags plus the scope's defaults) to a running proxy and the command
 * line that runs the child in bwrap. What the sandbox hides of authy's own (AUTHY_HOME, the
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
import { proxyEnv, sandboxCommand } from "../../run/sandbox.js";
import type { RunSandbox } from "../../vault/dispatch.js";
import type { VaultClient } from "../../client/vault-client.js";
import type { CliContext } from "../context.js";

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
  const hide = [ctx.home, daemonPaths(ctx.home).socketDir];
  for (const file of [ctx.opts.identity, process.env.AUTHY_IDENTITY, process.env.AUTHY_PASSPHRASE_FILE]) if (file) hide.push(path.resolve(file));
  // The session bus, keyrings and agents live here: a door to run code outside the sandbox.
  const uid = process.getuid?.();
  if (uid !== undefined) hide.push(`/run/user/${uid}`);
  if (process.env.XDG_RUNTIME_DIR) hide.push(process.env.XDG_RUNTIME_DIR);
  if (process.env.SSH_AUTH_SOCK) hide.push(process.env.SSH_AUTH_SOCK);
  return hide;
}

function mountInput(ctx: CliContext, box: { write: string[]; read: string[] }): MountPlanInput {
  const home = os.homedir();
  const cwd = process.cwd();
  const resolve = (p: string) => resolveSandboxPath(p, home, cwd);
  return { home, cwd, write: box.write.map(resolve), read: box.read.map(resolve), hide: hiddenPaths(ctx) };
}

/**
 * The sandbox a run's flags ask for (any --allow-* or --no-network implies --sandbox), or
 * undefined. Checks, before anything is released, that bwrap can run here and that the paths
 * exist.
 */
export function sandboxRequest(ctx: CliContext, flags: SandboxFlags): { request: RunSandbox; bwrap: string } | undefined {
  const wanted = flags.sandbox || flags.network === false || Boolean(flags.allowWrite?.length || flags.allowRead?.length || flags.allowHost?.length);
  if (!wanted) return undefined;
  if (flags.passToken) {
    // The daemon's socket is hidden in the sandbox; a socket made for the run is not there yet.
    throw new AuthyError("INVALID_INPUT", "--pass-token does not work with --sandbox yet: the sandbox hides the daemon's socket", {
      hint: "leave out --pass-token, or run without --sandbox",
    });
  }
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
  /** Variables for the child (the proxy's, with --allow-host). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Starts what the dispatched sandbox needs (its proxy) and returns how to run the child in it. */
export async function startSandbox(ctx: CliContext, client: VaultClient, box: RunSandbox, bwrap: string, resource: string): Promise<StartedSandbox> {
  const mounts = mountInput(ctx, box);
  planMounts(mounts); // the scope's defaults too: a missing path is an error before the child starts
  if (box.network === "none" || box.hosts.length === 0) {
    const network = box.network === "none" ? ({ kind: "none" } as const) : ({ kind: "host" } as const);
    return { wrap: (p, a) => sandboxCommand(p, a, { bwrap, mounts, network }), env: {}, close: async () => undefined };
  }
  const allow = box.hosts.map(parseAllowedHost);
  const dir = mkdtempSync(path.join(os.tmpdir(), "authy-proxy-"));
  const socket = path.join(dir, "proxy.sock");
  const refused = new Set<string>();
  const { startSandboxProxy } = await import("../../run/sandbox-proxy.js");
  let proxy;
  try {
    proxy = await startSandboxProxy({
      socketPath: socket,
      allow,
      onRefused: (host, port, protocol) => {
        const key = `${host}:${port}`;
        if (refused.has(key)) return; // one entry per host and port per run: a loop cannot flood the log
        refused.add(key);
        client.recordEvent("run.network.denied", resource, { host, port, protocol }).catch((e: unknown) => ctx.out.warn(`could not record run.network.denied: ${(e as Error).message}`));
      },
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new AuthyError("UNAVAILABLE", `could not start the sandbox's proxy: ${(e as Error).message}`, { cause: e });
  }
  const running = proxy;
  return {
    wrap: (p, a) => sandboxCommand(p, a, { bwrap, mounts, network: { kind: "proxy", socket } }),
    env: proxyEnv(),
    close: async () => {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
