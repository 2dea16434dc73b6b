import { once } from "node:events";
import { AuthyError } from "../../errors.js";
import { openFileAtomic, writeFileAtomic, type AtomicFile } from "../../files/atomic-write.js";
import { CHECKPOINT_LIMIT, readFileBounded } from "../../files/bounded-read.js";
import { parseTimeSpec } from "../../formats/duration.js";
import { parseCheckpoint } from "../../vault/audit-checkpoint.js";
import type { AuditEntry, AuditFilter } from "../../vault/audit-query.js";
import type { CliContext } from "../context.js";
import { progressBar } from "../progress.js";
import { csvRow, CSV_HEADER, EntryTable, entryJson, eventJson, verifyText } from "./audit-render.js";
import { checkpointFileJson, fromCheckpointFile } from "./checkpoint-file.js";
import { jsonTime } from "../json-output.js";
import { jsonVisible } from "../visible-text.js";

/** How often `--follow` asks for new entries: each poll is one indexed query. */
const FOLLOW_POLL_MS = 500;
/** Entries per `--follow` poll; a burst larger than this is read in several polls without waiting. */
const FOLLOW_BATCH = 1000;
/** Export output is gathered into chunks of about this size before each write. */
const EXPORT_CHUNK_CHARS = 256 * 1024;
/** A progress bar is redrawn at most this often: a million entries arrive in 500 pages. */
const PROGRESS_EVERY_MS = 100;

function progress(ctx: CliContext, label: string): { update(done: number, total: number): void; done(): void } {
  const bar = progressBar(ctx, label);
  let last = 0;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < PROGRESS_EVERY_MS && done < total) return;
      last = now;
      bar.update(done, total);
    },
    done: () => bar.done(),
  };
}

interface QueryFlags {
  namespace?: string;
  agent?: string;
  actor?: string;
  action?: string;
  since?: string;
  until?: string;
  limit?: string;
  follow?: boolean;
}

function filterOf(flags: QueryFlags): AuditFilter {
  if (flags.limit !== undefined && !/^\d+$/.test(flags.limit))
    throw new AuthyError("INVALID_INPUT", `--limit must be a whole number, not ${JSON.stringify(flags.limit)}`);
  if (flags.follow && flags.until !== undefined) throw new AuthyError("INVALID_INPUT", "--follow waits for new entries; it cannot be combined with --until");
  const now = Date.now();
  return {
    namespace: flags.namespace,
    agent: flags.agent,
    actor: flags.actor,
    action: flags.action,
    since: flags.since === undefined ? undefined : parseTimeSpec(flags.since, now),
    until: flags.until === undefined ? undefined : parseTimeSpec(flags.until, now),
    limit: flags.limit === undefined ? undefined : Number(flags.limit),
  };
}

/** `authy audit [filters]`: the newest matching entries, oldest first; `--follow` keeps printing new ones. */
export async function query(ctx: CliContext, flags: QueryFlags): Promise<void> {
  const filter = filterOf(flags);
  const client = await ctx.client();
  const page = await client.queryAudit(filter);
  const table = new EntryTable(ctx.out);
  if (!flags.follow) {
    ctx.out.result(
      // `events`, newest first, is what the Agent Secret Store's CLI prints (`jq '.events | length'`).
      () => ({ entries: page.entries.map(entryJson), headSeq: page.headSeq, events: page.entries.map(eventJson).reverse() }),
      () => (page.entries.length ? table.rows(page.entries, true) : ""),
    );
    if (page.entries.length === 0) ctx.out.info("no audit entries match");
    return;
  }
  // --follow: JSON lines with --json, table rows otherwise, until Ctrl-C (which ends it with 0).
  let header = true;
  const print = (entries: AuditEntry[]) => {
    if (ctx.out.opts.json) {
      if (entries.length > 0) process.stdout.write(entries.map((e) => jsonVisible(JSON.stringify(entryJson(e)))).join("\n") + "\n");
    } else if (entries.length > 0 || header) {
      process.stdout.write(table.rows(entries, header) + "\n");
      header = false;
    }
  };
  print(page.entries);
  let after = page.headSeq;
  let stopped = false as boolean; // set by the SIGINT handler while the loop awaits
  let pause: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  const stop = () => {
    stopped = true;
    if (pause) clearTimeout(pause.timer);
    pause?.resolve();
  };
  process.once("SIGINT", stop);
  try {
    while (!stopped) {
      const next = await client.queryAudit({ ...filter, limit: FOLLOW_BATCH, afterSeq: after });
      print(next.entries);
      after = next.entries.length === FOLLOW_BATCH ? next.entries[next.entries.length - 1]!.seq : next.headSeq;
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the SIGINT handler may have set it during the await
      if (next.entries.length === FOLLOW_BATCH || stopped) continue;
      await new Promise<void>((resolve) => (pause = { resolve, timer: setTimeout(resolve, FOLLOW_POLL_MS) }));
      pause = undefined;
    }
  } finally {
    process.removeListener("SIGINT", stop);
  }
}

async function readCheckpoint(file: string) {
  const text = (await readFileBounded(file, CHECKPOINT_LIMIT)).toString("utf8");
  try {
    return parseCheckpoint(fromCheckpointFile(JSON.parse(text)));
  } catch (e) {
    if (e instanceof SyntaxError)
      throw new AuthyError("INVALID_INPUT", `${file} is not JSON: not an authy audit checkpoint`, {
        hint: "give the file written by `authy audit checkpoint`",
      });
    throw e;
  }
}

/** `authy audit verify [--checkpoint FILE]`: exit 0 when intact, 7 naming the first bad entry. */
export async function verify(ctx: CliContext, flags: { checkpoint?: string }): Promise<void> {
  const checkpoint = flags.checkpoint === undefined ? undefined : await readCheckpoint(flags.checkpoint);
  const client = await ctx.client();
  const bar = progress(ctx, "verifying the audit log");
  const report = await client.verifyAudit({ checkpoint, onProgress: (done, total) => bar.update(done, total) }).finally(() => bar.done());
  const checked = report.checkpoint && {
    seq: report.checkpoint.seq,
    time: jsonTime(report.checkpoint.ts),
    ok: report.checkpoint.ok,
    reason: report.checkpoint.reason,
  };
  ctx.out.result({ ...report, checkpoint: checked }, () => (report.ok ? verifyText(report) : ""));
  if (report.firstBad)
    throw new AuthyError("INTEGRITY", `audit entry ${report.firstBad.seq}: ${report.firstBad.reason}`, {
      hint: "the audit log was modified outside authy; restore from a backup, and keep checkpoints",
    });
  if (report.checkpoint && !report.checkpoint.ok) throw new AuthyError("INTEGRITY", `the audit log does not match the checkpoint: ${report.checkpoint.reason}`);
}

/** `authy audit checkpoint [--out FILE]`: the head (seq, hash) MACed, as JSON. */
export async function checkpoint(ctx: CliContext, flags: { out?: string }): Promise<void> {
  const client = await ctx.client();
  const cp = await client.auditCheckpoint();
  const text = JSON.stringify(checkpointFileJson(cp), null, 2) + "\n";
  if (flags.out === undefined) {
    // Without --out the checkpoint itself is the output, so `> cp.json` works with or without --json.
    process.stdout.write(text);
    return;
  }
  await writeFileAtomic(flags.out, text);
  ctx.out.result(checkpointFileJson(cp), () => "");
  ctx.out.info(`wrote a checkpoint of audit entry ${cp.seq} to ${flags.out}; keep a copy where this machine cannot change it`);
}

/** Chunks to stdout (waiting when the pipe is full) or to an atomic 0600 file. */
class ExportSink {
  private buffered: string[] = [];
  private size = 0;

  private constructor(private readonly file: AtomicFile | undefined) {}

  static async open(out: string | undefined): Promise<ExportSink> {
    return new ExportSink(out === undefined ? undefined : await openFileAtomic(out));
  }

  async write(s: string): Promise<void> {
    this.buffered.push(s);
    this.size += s.length;
    if (this.size >= EXPORT_CHUNK_CHARS) await this.flush();
  }

  async flush(): Promise<void> {
    const chunk = this.buffered.join("");
    this.buffered = [];
    this.size = 0;
    if (chunk === "") return;
    if (this.file) await this.file.write(chunk);
    else if (!process.stdout.write(chunk)) await once(process.stdout, "drain");
  }

  async commit(): Promise<void> {
    await this.flush();
    await this.file?.commit();
  }

  async abort(): Promise<void> {
    await this.file?.abort();
  }
}

type ExportFormat = "json" | "jsonl" | "csv";

/**
 * `authy audit export [--format json|jsonl|csv] [--out F]`: the whole log, oldest first,
 * streamed page by page and verified as it goes (a bad entry stops it with exit 7; with
 * --out nothing is left behind).
 */
export async function exportLog(ctx: CliContext, flags: { format: ExportFormat; out?: string }): Promise<void> {
  const client = await ctx.client();
  const sink = await ExportSink.open(flags.out);
  const bar = progress(ctx, "exporting the audit log");
  let count = 0;
  let head = 0;
  try {
    if (flags.format === "csv") await sink.write(CSV_HEADER);
    if (flags.format === "json") await sink.write("[");
    for (let after = 0; ;) {
      const page = await client.exportAudit({ afterSeq: after });
      head = page.headSeq;
      for (const e of page.entries) {
        if (flags.format === "csv") await sink.write(csvRow(e));
        else
          await sink.write(
            (flags.format === "json" ? (count === 0 ? "\n" : ",\n") : "") + jsonVisible(JSON.stringify(entryJson(e))) + (flags.format === "jsonl" ? "\n" : ""),
          );
        count++;
      }
      bar.update(count, Math.max(head, count));
      if (page.entries.length === 0) break;
      after = page.entries[page.entries.length - 1]!.seq;
    }
    if (flags.format === "json") await sink.write(count === 0 ? "]\n" : "\n]\n");
    await sink.commit();
  } catch (e) {
    await sink.abort();
    throw e;
  } finally {
    bar.done();
  }
  if (flags.out !== undefined) {
    ctx.out.result({ file: flags.out, format: flags.format, entries: count, headSeq: head }, () => "");
    ctx.out.info(`exported ${count} audit entries to ${flags.out}`);
  }
}
