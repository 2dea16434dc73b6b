/** The bench's output: one line per figure as it finishes, then the table. */
import { fmt, msSince, now } from "./measure.mjs";

export const targetText = (r) => (r.target == null ? "-" : `${r.better === "higher" ? ">=" : "<="} ${r.target.toFixed(2)}x`);
export const resultText = (r) => (r.pass === null ? "info" : r.pass ? "pass" : "MISS");
const subjectText = (r) => r.display?.subject ?? `${fmt(r.medianMs)} ms`;
const baselineText = (r) => r.display?.baseline ?? `${fmt(r.baselineMs)} ms (${r.baselineLabel})`;

export function printTable(results) {
  const head = ["figure", "subject", "baseline", "ratio", "target", "result", "runs"];
  const rows = results.map((r) => [r.title, subjectText(r), baselineText(r), `${r.ratio.toFixed(2)}x`, targetText(r), resultText(r), String(r.runs)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const right = new Set([1, 3, 4, 6]);
  const line = (cells) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  process.stdout.write(`\n${line(head)}\n${line(widths.map((w) => "-".repeat(w)))}\n${rows.map(line).join("\n")}\n`);
  process.stdout.write(`\nratio: subject time / baseline time (target <=), or for throughput figures subject rate / baseline rate (target >=).\n`);
}

export async function runFigure(fx, fig) {
  const t0 = now();
  const m = await fig.run(fx, fig);
  const better = fig.better ?? "lower";
  const pass = fig.target == null ? null : better === "higher" ? m.ratio >= fig.target : m.ratio <= fig.target;
  const r = {
    id: fig.id,
    title: fig.title,
    baselineLabel: fig.baselineLabel,
    target: fig.target,
    better,
    runs: fig.runs,
    warmup: fig.warmup,
    ...m,
    pass,
    wallMs: msSince(t0),
  };
  const target = fig.target == null ? "no target" : `target ${targetText(r)}, ${resultText(r)}`;
  const what = r.display ? `${subjectText(r)} vs ${baselineText(r)}` : `${fmt(r.medianMs)} ms vs ${fmt(r.baselineMs)} ms`;
  process.stdout.write(
    `  ${fig.id}: ${what} = ${r.ratio.toFixed(2)}x (${target}) [${(r.wallMs / 1000).toFixed(1)} s]${r.display?.detail ? `; ${r.display.detail}` : ""}\n`,
  );
  return r;
}
