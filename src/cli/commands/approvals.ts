import { emitKeypressEvents } from "node:readline";
import { AuthyError } from "../../errors.js";
import { formatDuration, parseDuration } from "../../formats/duration.js";
import type { VaultClient } from "../../client/vault-client.js";
import { approvalVerb } from "../../vault/approval-info.js";
import type { ApprovalInfo } from "../../vault/approval-rows.js";
import { describeRequest } from "../approval-wait.js";
import { initialState, onKey, render, withItems, type KeyPress, type WatchCommand, type WatchState } from "../approval-watch.js";
import type { CliContext } from "../context.js";
import { confirm, stdinIsTTY } from "../input.js";
import { jsonTime } from "../json-output.js";
import { isoTime, table } from "../output.js";
import { jsonVisible, visible } from "../visible-text.js";

/** How often `approvals watch` looks for new requests. */
const WATCH_INTERVAL_MS = 1_000;
/** Signals that end `approvals watch` the way q does, restoring the terminal. */
const WATCH_SIGNALS = ["SIGTERM", "SIGHUP", "SIGINT"] as const;

/** The stable --json shape of a request (docs/json.md). */
function approvalJson(a: ApprovalInfo) {
  return {
    id: a.id,
    status: a.status,
    agent: a.agent,
    principal: a.principal,
    token: a.token,
    action: a.action,
    path: a.path,
    tier: a.tier,
    reason: a.reason,
    createdAt: jsonTime(a.createdAt),
    expiresAt: jsonTime(a.expiresAt),
    decidedAt: jsonTime(a.decidedAt),
    decisionReason: a.decisionReason,
    grant: a.grant,
    grantUntil: jsonTime(a.grantUntil),
    usedAt: jsonTime(a.usedAt),
  };
}

function forFlag(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseDuration(text);
}

export async function list(ctx: CliContext, flags: { status?: string }): Promise<void> {
  const client = await ctx.client();
  const items = await client.listApprovals(flags.status === undefined ? {} : { status: flags.status });
  ctx.out.result({ items: items.map(approvalJson) }, () =>
    items.length === 0
      ? ""
      : table(
          ["ID", "STATUS", "WHO", "ACTION", "PATH", "TIER", "CREATED", "REASON"],
          items.map((a) => [a.id, a.status, a.agent ?? a.principal, approvalVerb(a.action), a.path, a.tier, isoTime(a.createdAt), a.reason]),
        ),
  );
  if (items.length === 0) ctx.out.info(flags.status ? `no ${flags.status} requests` : "no approval requests");
}

function decided(ctx: CliContext, a: ApprovalInfo): void {
  if (a.status === "denied") ctx.out.info(`denied ${a.id}: ${describeRequest(a)}`);
  else ctx.out.info(`approved ${a.id} ${a.grant === "window" ? `until ${isoTime(a.grantUntil)}` : "for one use"}: ${describeRequest(a)}`);
}

export async function approve(ctx: CliContext, id: string | undefined, flags: { all?: boolean; yes?: boolean; reason?: string; for?: string }): Promise<void> {
  if (Boolean(flags.all) === (id !== undefined))
    throw new AuthyError("INVALID_INPUT", "give a request id or --all (not both)", { hint: "see `authy approvals list`" });
  const opts = { reason: flags.reason, forMs: forFlag(flags.for) };
  const client = await ctx.client();
  if (id !== undefined) {
    const a = await client.approve(id, opts);
    ctx.out.result(approvalJson(a), () => "");
    decided(ctx, a);
    return;
  }
  // Exactly the requests shown are approved, one by one: one that arrives while the owner
  // reads the list is not among them.
  const pending = await client.listApprovals({ status: "pending" });
  if (pending.length > 0 && !flags.yes) {
    if (!stdinIsTTY()) {
      throw new AuthyError("INVALID_INPUT", `refusing to approve ${pending.length} request${pending.length === 1 ? "" : "s"} without confirmation`, {
        hint: "see them with `authy approvals list`; pass --yes to approve them all",
      });
    }
    for (const a of pending) process.stderr.write(`  ${a.id}  ${a.tier}  ${describeRequest(a)}\n`);
    const what = opts.forMs === undefined ? "once each" : `for ${formatDuration(opts.forMs)} each`;
    if (!(await confirm(`Approve these ${pending.length} request${pending.length === 1 ? "" : "s"} (${what})?`)))
      throw new AuthyError("INTERRUPTED", "nothing approved");
  }
  const items: ApprovalInfo[] = [];
  for (const a of pending) {
    try {
      items.push(await client.approve(a.id, opts));
    } catch (e) {
      // Decided elsewhere or lapsed in the meantime: the others still go through.
      ctx.out.warn(`${a.id}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  ctx.out.result({ items: items.map(approvalJson) }, () => items.map((a) => a.id).join("\n"));
  if (items.length === 0) ctx.out.info("nothing was pending");
  for (const a of items) decided(ctx, a);
}

export async function deny(ctx: CliContext, id: string, flags: { reason: string }): Promise<void> {
  const client = await ctx.client();
  const a = await client.deny(id, flags.reason);
  ctx.out.result(approvalJson(a), () => "");
  decided(ctx, a);
}

/**
 * `approvals watch`: on a terminal, a live list decided by key presses; otherwise one JSON
 * line per new pending request, for scripts and bots (runs until killed).
 */
export async function watch(ctx: CliContext, flags: { for?: string }): Promise<void> {
  const forMs = forFlag(flags.for);
  const client = await ctx.client();
  if (process.stdin.isTTY && process.stdout.isTTY) await watchTerminal(ctx, client, forMs);
  else await watchStream(client);
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function watchStream(client: VaultClient): Promise<void> {
  const seen = new Set<string>();
  for (;;) {
    for (const a of await client.listApprovals({ status: "pending" })) {
      if (seen.has(a.id)) continue;
      seen.add(a.id);
      process.stdout.write(jsonVisible(JSON.stringify({ event: "approval.request", ...approvalJson(a) })) + "\n");
    }
    await pause(WATCH_INTERVAL_MS);
  }
}

async function watchTerminal(ctx: CliContext, client: VaultClient, forMs: number | undefined): Promise<void> {
  let state: WatchState = initialState();
  let busy = false;
  let done!: () => void;
  let failed!: (e: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => ((done = resolve), (failed = reject)));
  const draw = () => {
    const lines = render(state, Date.now(), { forMs, color: ctx.out.opts.color });
    process.stdout.write("\u001b[H\u001b[2J" + lines.join("\n") + "\n");
  };
  const refresh = async () => {
    const before = new Set(state.items.map((a) => a.id));
    const items = await client.listApprovals({ status: "pending" });
    state = withItems(state, items);
    if (items.some((a) => !before.has(a.id))) process.stdout.write("\u0007"); // a bell for each new arrival
    draw();
  };
  const carryOut = async (command: WatchCommand) => {
    if (command.kind === "quit") {
      done();
      return;
    }
    busy = true;
    try {
      const a = command.kind === "approve" ? await client.approve(command.id, { forMs }) : await client.deny(command.id, command.reason);
      state = { ...state, message: `${a.status} ${a.id}: ${describeRequest(a)}${a.grant === "window" ? ` (until ${isoTime(a.grantUntil)})` : ""}` };
    } catch (e) {
      // A request that lapsed or was decided elsewhere in the meantime: say so and carry on.
      state = { ...state, message: visible(e instanceof AuthyError ? `could not do that: ${e.message}` : String(e), 400) };
    } finally {
      busy = false;
    }
    await refresh();
  };
  const onKeypress = (str: string | undefined, key: KeyPress | undefined) => {
    if (busy) return;
    const r = onKey(state, str, key ?? {});
    state = r.state;
    draw();
    if (r.command) carryOut(r.command).catch(failed);
  };

  // Killed rather than quit: leave the terminal as it was all the same.
  const onSignal = () => done();
  emitKeypressEvents(process.stdin);
  process.stdin.setRawMode(true);
  process.stdout.write("\u001b[?1049h\u001b[?25l"); // the alternate screen, no cursor
  process.stdin.on("keypress", onKeypress);
  // A passphrase prompt before this point (direct mode) paused stdin when it closed; a paused
  // stream does not start flowing again when a listener is added, so no key would arrive.
  process.stdin.resume();
  for (const signal of WATCH_SIGNALS) process.on(signal, onSignal);
  const timer = setInterval(() => void refresh().catch(failed), WATCH_INTERVAL_MS);
  try {
    await refresh();
    await finished;
  } finally {
    clearInterval(timer);
    for (const signal of WATCH_SIGNALS) process.off(signal, onSignal);
    process.stdin.off("keypress", onKeypress);
    process.stdin.setRawMode(false);
    process.stdin.pause();
    process.stdout.write("\u001b[?25h\u001b[?1049l");
  }
  ctx.out.info(`stopped watching${forMs === undefined ? "" : ` (approvals were for ${formatDuration(forMs)})`}`);
}
