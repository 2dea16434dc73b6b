import type { AuditEntry } from "../../vault/audit-query.js";
import type { AuditVerifyReport } from "../../vault/audit-verify.js";
import { detailsJson, jsonTime } from "../json-output.js";
import { isoTime, type Output } from "../output.js";
import { visible } from "../visible-text.js";

/**
 * How audit entries are shown. The --json shape of one entry (also one line of `--follow
 * --json`, one element of `export --format json`, one line of `--format jsonl`; docs/json.md):
 *
 *   { "seq": 42, "time": "2026-01-31T09:30:00.123Z", "actor": "agent:ci",
 *     "action": "secret.read", "resource": "prod/DB_URL", "outcome": "ok",
 *     "details": { "version": 3 }, "prevHash": "<64 hex>", "hash": "<64 hex>" }
 */
export function entryJson(e: AuditEntry) {
  return {
    seq: e.seq,
    time: jsonTime(e.ts),
    actor: e.actor,
    action: e.action,
    resource: e.resource,
    outcome: e.outcome,
    details: detailsJson(e.details),
    prevHash: e.prevHash,
    hash: e.hash,
  };
}

/** `agent:NAME` and `token:ID(NAME)` act for agent NAME; anyone else for none. */
function agentOf(actor: string): string | null {
  return /^agent:(.+)$/.exec(actor)?.[1] ?? /^token:[^(]*\((.+)\)$/.exec(actor)?.[1] ?? null;
}

/**
 * An entry as the Agent Secret Store's CLI calls it (`jq '.events[] | [.timestamp, .agent_id,
 * .action, .resource]'`): the entry, plus its time as `timestamp` and the agent it was by
 * (its name, as `--agent` takes it) as `agent_id`.
 */
export function eventJson(e: AuditEntry) {
  return { ...entryJson(e), timestamp: jsonTime(e.ts), agent_id: agentOf(e.actor) };
}

/** `version=3 scope=deploy`: plain words as they are, anything else as JSON. */
function detailsText(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([k, v]) => `${k}=${typeof v === "string" && /^[\w.:/@+-]+$/.test(v) ? v : JSON.stringify(v)}`)
    .join(" ");
}

/** The details column holds more than other cells (a run's variable names); `--json` shows all of it. */
const MAX_DETAILS_CHARS = 600;

/** ANSI colour per outcome: failures stand out, pending approvals are yellow. */
const OUTCOME_COLOR: Record<string, string> = { ok: "32", denied: "31", error: "31", pending: "33" };

const HEADERS = ["TIME", "OUTCOME", "ACTOR", "ACTION", "RESOURCE", "DETAILS"];

/**
 * Aligned rows, the outcome coloured when colour is on. The widths grow as longer cells come
 * (`--follow` prints rows as they arrive), so later rows may sit wider than the header.
 */
export class EntryTable {
  private readonly widths = HEADERS.map((h) => h.length);

  constructor(private readonly out: Output) {}

  /** The rows, after the header when asked for (which is then as wide as these rows). */
  rows(entries: readonly AuditEntry[], header = false): string {
    // Actors, resources and details can be chosen by whoever called (a command line, a
    // token's label): shown visibly, so that none can print an escape or a row of its own.
    const cells = entries.map((e) => [
      isoTime(e.ts),
      visible(e.outcome),
      visible(e.actor),
      visible(e.action),
      visible(e.resource),
      visible(detailsText(e.details), MAX_DETAILS_CHARS),
    ]);
    for (const row of cells) row.forEach((c, i) => (this.widths[i] = Math.max(this.widths[i]!, c.length)));
    const lines = cells.map((c) => this.line(c, true));
    return (header ? [this.line(HEADERS, false), ...lines] : lines).join("\n");
  }

  private line(cells: string[], paint: boolean): string {
    const padded = cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(this.widths[i]!)));
    const color = OUTCOME_COLOR[cells[1]!];
    if (paint && color) padded[1] = this.out.paint(color, padded[1]!);
    return padded.join("  ").trimEnd();
  }
}

/** RFC 4180: quoted only when needed, quotes doubled; details as compact JSON. */
export const CSV_HEADER = "seq,time,ts,actor,action,resource,outcome,details,prev_hash,hash\r\n";

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV is no --json shape: it keeps its documented columns, `ts` (epoch ms) and the details as stored. */
export function csvRow(e: AuditEntry): string {
  return (
    [String(e.seq), jsonTime(e.ts), String(e.ts), e.actor, e.action, e.resource, e.outcome, JSON.stringify(e.details), e.prevHash, e.hash]
      .map(csvField)
      .join(",") + "\r\n"
  );
}

export function verifyText(r: AuditVerifyReport): string {
  const lines = [
    r.head
      ? `audit log intact: ${r.entries.toLocaleString("en-US")} entries, head ${r.head.seq} (${r.head.hash.slice(0, 16)}…)`
      : "audit log intact: no entries",
  ];
  if (r.checkpoint?.ok) lines.push(`checkpoint of entry ${r.checkpoint.seq} (taken ${isoTime(r.checkpoint.ts)}) holds`);
  return lines.join("\n");
}
