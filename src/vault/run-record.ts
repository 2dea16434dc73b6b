import { constantTimeEqual, randomId } from "../crypto/index.js";
import { AuthyError } from "../errors.js";
import { appendAudit } from "./audit-chain.js";
import type { VaultContext } from "./context.js";
import { actorName } from "./types.js";
import { MAX_RUN_TICKET_LENGTH } from "./dispatch-purpose.js";

export { MAX_RUN_TICKET_LENGTH } from "./dispatch-purpose.js";

/**
 * The record of a run: `run.start` is written by dispatch (before any value is released) and
 * `run.end` when the process exits, for every run, a token's included.
 *
 * The end is recorded with the ticket dispatch handed out, not with the caller's credential:
 * a token may be spent, expired or revoked by the time its run ends (a single-use token spends
 * its use on the dispatch itself), and the end must still be written. The ticket names the
 * run, who started it and what, under a MAC with a key derived from the vault key; `run.end`
 * is written with exactly those, so its actor and resource are never the caller's choice.
 *
 *   ticket = base64url(JSON [run, actor, resource, command, startedAt]) "." base64url(MAC)
 */
const RUN_DOMAIN = "authy/run-ticket/v1";

interface RunTicket {
  run: string;
  ticket: string;
}

/** How a run ended, as `authy run` saw it. */
export interface RunEnd {
  exitCode: number;
  signal: string | null;
  durationMs: number;
  pid?: number;
}

type TicketFields = [run: string, actor: string, resource: string, command: string, startedAt: number];

/** A new run's id and its ticket (dispatch writes the id into the `run.start` entry). */
export function startRun(ctx: VaultContext, resource: string, command: string): RunTicket {
  const run = randomId("run_", 10);
  const fields: TicketFields = [run, actorName(ctx.actor), resource, command, ctx.clock.now()];
  const mac = ctx.keys.macRow(RUN_DOMAIN, fields);
  return { run, ticket: `${Buffer.from(JSON.stringify(fields)).toString("base64url")}.${Buffer.from(mac).toString("base64url")}` };
}

function badTicket(): AuthyError {
  return new AuthyError("ACCESS_DENIED", "not a run ticket of this vault", { hint: "a run's end is recorded by the `authy run` that started it" });
}

/** The fields of a genuine ticket; ACCESS_DENIED for anything else (one answer for every flaw). */
function openTicket(ctx: VaultContext, ticket: string): TicketFields {
  if (ticket.length > MAX_RUN_TICKET_LENGTH) throw badTicket();
  const [body, mac, extra] = ticket.split(".");
  if (body === undefined || mac === undefined || extra !== undefined) throw badTicket();
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    throw badTicket();
  }
  const ok =
    Array.isArray(fields) &&
    fields.length === 5 &&
    fields.slice(0, 4).every((f) => typeof f === "string") &&
    typeof fields[4] === "number" &&
    constantTimeEqual(ctx.keys.macRow(RUN_DOMAIN, fields as TicketFields), Buffer.from(mac, "base64url"));
  if (!ok) throw badTicket();
  return fields as TicketFields;
}

/**
 * Writes `run.end` for the run a ticket names, as the principal that started it. `firstEnd`
 * (the daemon's memory of runs already ended) refuses a second end of the same run.
 */
export async function endRun(ctx: VaultContext, ticket: string, end: RunEnd, firstEnd: (run: string) => boolean = () => true): Promise<{ run: string }> {
  const [run, actor, resource, command, startedAt] = openTicket(ctx, ticket);
  if (!firstEnd(run)) throw new AuthyError("INVALID_INPUT", `the end of ${run} is already recorded`);
  if (!Number.isSafeInteger(end.exitCode) || !Number.isFinite(end.durationMs))
    throw new AuthyError("INVALID_INPUT", "a run's end needs its exit code and duration");
  const details = {
    run,
    command,
    exitCode: end.exitCode,
    signal: end.signal,
    durationMs: Math.round(end.durationMs),
    startedAt,
    ...(end.pid === undefined ? {} : { pid: end.pid }),
  };
  await ctx.store.write((tx) => appendAudit(tx, ctx.keys, [{ ts: ctx.clock.now(), actor, action: "run.end", resource, outcome: "ok", details }]));
  return { run };
}
