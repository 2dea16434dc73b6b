import { AuthyError } from "../errors.js";
import type { VaultContext } from "./context.js";
import { actsAsOwner } from "./types.js";
import { validatePath } from "./path.js";
import { resolveScope } from "./policies.js";
import { decide, type Scope } from "./policy/scope.js";
import { audit, tryAudit } from "./audit-log.js";
import { authorizeEach, mayRead } from "./access.js";
import { approvalRequired, currentReadNeed, passApprovals, type ApprovalNeed } from "./approvals.js";
import { decryptVersion, loadMeta, openCurrent, openMeta, readListing } from "./secrets.js";
import { listedPaths } from "./secret-rows.js";
import { utf8Text } from "./utf8-text.js";
import { startRun } from "./run-record.js";
import type { DispatchPurpose } from "./dispatch-purpose.js";

export { DISPATCH_PURPOSES } from "./dispatch-purpose.js";

/**
 * Deciding what a process gets: the secrets a scope may read (named by their key), plus
 * explicit `NAME=authy://ns/KEY` references. Values are released only after the `run.start`
 * audit entry, naming every path (never a value), is committed.
 */
export interface EnvReference {
  name: string;
  path: string;
  /** Where the reference came from, for error messages (`--env`, `deploy.env:3`). */
  source: string;
}

export interface DispatchRequest {
  scope?: string;
  refs?: EnvReference[];
  /** Keep only these variable names. */
  only?: string[];
  /** The program being started, for the audit entry. */
  command: string;
  /** Extra non-secret details for the audit entry (pid, mounts). */
  details?: Record<string, unknown>;
  /**
   * What the values are for, which fixes the audit action: `run` (`run.start`, the default) or
   * `inject` (`secret.inject`). The caller never names the action itself.
   */
  purpose?: DispatchPurpose;
  /** Why, shown to the owner when a secret's tier needs an approval. */
  reason?: string;
  /** Without `scope`: a token or agent gets what its own scope may read (`authy run` naming nothing). */
  ownScope?: boolean;
  /** Set when the values go to a child of `authy run --sandbox`: what its flags allow. */
  sandbox?: RunSandbox;
}

/** A sandboxed run's allowances: paths (absolute, or as a scope wrote them) and HOST[:PORT]s. */
export interface RunSandbox {
  write: string[];
  read: string[];
  hosts: string[];
  /** "none": `--no-network`, which wins over any host. */
  network: "host" | "none";
}

interface DispatchedSecret {
  name: string;
  path: string;
  value: string;
}

const ACTION_OF: Record<DispatchPurpose, string> = { run: "run.start", inject: "secret.inject" };

export interface Dispatch {
  scope: string | null;
  secrets: DispatchedSecret[];
  /** The sandbox to run in: the request's, plus the scope's defaults; absent if not sandboxed. */
  sandbox?: RunSandbox;
  /** The run's id (in its `run.start` entry) and the ticket that records its end (run-record.ts). */
  run: string;
  ticket: string;
}

const union = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b])];

/**
 * The sandbox a dispatch goes to: the request's allowances plus the scope's defaults. A scope
 * that requires a sandbox is refused to an unsandboxed request (and the refusal audited).
 */
async function sandboxFor(ctx: VaultContext, scope: Scope | null, req: DispatchRequest): Promise<RunSandbox | undefined> {
  const rule = scope?.sandbox;
  if (!req.sandbox) {
    if (rule?.required) {
      await tryAudit(ctx, "run.denied", scope!.name, { scope: scope!.name, command: req.command, reason: "sandbox required" }, "denied");
      throw new AuthyError("ACCESS_DENIED", `scope ${scope!.name} may only be given to a sandboxed command`, {
        hint: `run it with \`authy run --sandbox --scope ${scope!.name} -- …\``,
      });
    }
    return undefined;
  }
  const none = req.sandbox.network === "none";
  return {
    write: union(req.sandbox.write, rule?.write ?? []),
    read: union(req.sandbox.read, rule?.read ?? []),
    hosts: none ? [] : union(req.sandbox.hosts, rule?.hosts ?? []),
    network: req.sandbox.network,
  };
}

function deny(ctx: VaultContext, scope: Scope, path: string, rule: string): Promise<never> {
  return tryAudit(ctx, "secret.read.denied", path, { scope: scope.name, rule }, "denied").then(() => {
    throw new AuthyError("ACCESS_DENIED", `scope ${scope.name} may not read ${path}`, {
      hint: `check it with \`authy policy test ${scope.name} ${path} read\``,
    });
  });
}

/** Which variable gets which path, before anything is decrypted. */
async function planDispatch(ctx: VaultContext, req: DispatchRequest, listing: () => Promise<string[]>): Promise<{ scope: Scope | null; plan: EnvReference[] }> {
  // A token or agent that asks for its own scope gets what that scope may read, as a listing would.
  const own = req.ownScope && !actsAsOwner(ctx.actor) ? ctx.actor.scope : null;
  const scope = req.scope ? await resolveScope(ctx, req.scope) : own;
  const byName = new Map<string, EnvReference>();
  const add = (ref: EnvReference, fromScope: boolean) => {
    const prior = byName.get(ref.name);
    if (prior && prior.path !== ref.path) {
      if (fromScope && !prior.source.startsWith("scope")) return;
      if (!fromScope && prior.source.startsWith("scope")) {
        byName.set(ref.name, ref); // an explicit reference overrides what the scope named the same
        return;
      }
      throw new AuthyError("INVALID_INPUT", `${ref.name} would be set twice: from ${prior.path} (${prior.source}) and ${ref.path} (${ref.source})`, {
        hint: "rename one with --env NAME=authy://ns/KEY, or narrow with --only",
      });
    }
    byName.set(ref.name, ref);
  };
  if (scope) {
    // A token running with a scope gets what both the scope and its own scope let it read;
    // names it may not read are left out silently, as a listing would.
    for (const path of await listing()) {
      if (decide(scope, path, "read").allowed && mayRead(ctx, path))
        add({ name: path.slice(path.lastIndexOf("/") + 1), path, source: `scope ${scope.name}` }, true);
    }
  }
  for (const ref of req.refs ?? []) {
    validatePath(ref.path);
    if (scope) {
      const d = decide(scope, ref.path, "read");
      if (!d.allowed) await deny(ctx, scope, ref.path, d.rule.path ?? d.rule.kind);
    }
    add(ref, false);
  }
  let plan = [...byName.values()];
  if (req.only) {
    const only = new Set(req.only);
    const missing = req.only.filter((n) => !byName.has(n));
    if (missing.length) throw new AuthyError("NOT_FOUND", `--only names variables that nothing provides: ${missing.join(", ")}`);
    plan = plan.filter((r) => only.has(r.name));
  }
  return { scope, plan: plan.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
}

export async function dispatch(ctx: VaultContext, req: DispatchRequest): Promise<Dispatch> {
  // One authenticated listing for both the scope's names and the existence check: its live
  // paths only, not a summary object for each of a thousand secrets.
  let listed: Promise<string[]> | undefined;
  const listing = () => (listed ??= readListing(ctx).then((text) => listedPaths(text)));
  const { scope, plan } = await planDispatch(ctx, req, listing);
  const sandbox = await sandboxFor(ctx, scope, req);
  const action = ACTION_OF[req.purpose ?? "run"];
  // What the caller may not read is refused before anything is said about what exists, so
  // that a missing name and a forbidden one get the same answer.
  for (const ref of plan) {
    const check = authorizeEach(ctx, ref.path, "read", "secret.read");
    if (check) await check;
  }
  const existing = new Set(await listing());
  const unknown = plan.filter((r) => !existing.has(r.path));
  if (unknown.length > 0) {
    // A probe for names that do not exist is written down like any other refusal.
    await tryAudit(ctx, action, scope?.name ?? req.command, { command: req.command, error: "NOT_FOUND", missing: unknown.map((r) => r.path) }, "error");
    throw new AuthyError("NOT_FOUND", `no secret ${unknown.map((r) => `${r.path} (${r.source})`).join(", ")}`, { hint: "see `authy secrets list`" });
  }
  const secrets: DispatchedSecret[] = [];
  const needs: ApprovalNeed[] = [];
  // Every row in one read (a scope of 1,000 secrets: 2,000 reads otherwise).
  const current = new Map((await ctx.store.readCurrent(plan.map((r) => r.path))).map((c) => [c.secret.path, c]));
  for (const ref of plan) {
    const read = current.get(ref.path);
    const meta = read ? openMeta(ctx, read.secret) : await loadMeta(ctx, ref.path);
    if (meta.expiresAt !== null && meta.expiresAt <= ctx.clock.now()) {
      throw new AuthyError("NOT_FOUND", `secret ${meta.path} expired at ${new Date(meta.expiresAt).toISOString()}`);
    }
    const value = utf8Text(read ? openCurrent(ctx, meta, read.version) : await decryptVersion(ctx, meta));
    if (value === null || value.includes("\0")) {
      // --mount writes the same text (a dotenv file), so it is no way around this either.
      const into = req.purpose === "inject" ? "a text template" : "an environment variable";
      throw new AuthyError("INVALID_INPUT", `${meta.path} holds binary data that cannot go into ${into}`, {
        hint: `write it to a file instead: \`authy secrets get ${meta.path} > FILE\``,
      });
    }
    secrets.push({ name: ref.name, path: ref.path, value });
    needs.push(currentReadNeed(meta));
  }
  // Every approval the tiers ask for is asked at once (a run waits for all of them), and
  // spent only together, in the transaction that records what the process was given.
  const run = startRun(ctx, scope?.name ?? req.command, req.command);
  const gate = await ctx.store.write(async (tx) => {
    const g = await passApprovals(tx, ctx, needs, req.reason);
    if (!g.ok) return g;
    await audit(tx, ctx, action, scope?.name ?? req.command, {
      // The caller's details first: they can add to the record, never rewrite what was given.
      ...req.details,
      command: req.command,
      scope: scope?.name ?? null,
      run: run.run,
      secrets: secrets.map((s) => ({ name: s.name, path: s.path })),
      sandboxed: sandbox !== undefined,
      ...(sandbox ? { sandbox } : {}),
    });
    return g;
  });
  if (!gate.ok) throw approvalRequired(ctx, gate);
  return { scope: scope?.name ?? null, secrets, ...run, ...(sandbox ? { sandbox } : {}) };
}
