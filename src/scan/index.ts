/**
 * `authy scan`: where do the vault's values show up where they should not? Each target is
 * streamed through the masker's multi-pattern search (bounded memory: a chunk and the tail of
 * the one before); files with findings are read once more for line and column.
 */
import { isTracked, type Target } from "./targets.js";
import { locate } from "./lines.js";
import { buildPatterns } from "./patterns.js";
import { redactFile } from "./redact.js";
import { searchStream } from "./search.js";
import { AuthyError } from "../errors.js";

export { defaultPersonalTargets, pathTargets, repoRoot, repoTargets, stagedTargets, type Target } from "./targets.js";
export { installHook } from "./hook.js";

interface Finding {
  file: string;
  line: number;
  column: number;
  /** The secret's path in the vault (never its value). */
  secret: string;
  form: string;
}

interface ScanReport {
  findings: Finding[];
  files: number;
  bytes: number;
  secrets: number;
  /** Findings past the per-file cap, counted only. */
  uncounted: number;
  /** Secrets too short to look for. */
  tooShort: string[];
  redacted: { file: string; findings: number; backup: string | null }[];
  /** Files that could not be read (gone, unreadable): named, and the scan goes on. */
  unreadable: string[];
}

interface ScanOptions {
  redact?: boolean;
  backup?: boolean;
  force?: boolean;
  onProgress?(files: number, total: number): void;
}

export async function scanTargets(
  targets: readonly Target[],
  secrets: readonly { path: string; value: Uint8Array }[],
  opts: ScanOptions = {},
): Promise<ScanReport> {
  const patterns = buildPatterns(secrets);
  const report: ScanReport = {
    findings: [],
    files: 0,
    bytes: 0,
    secrets: secrets.length,
    uncounted: 0,
    tooShort: patterns.tooShort,
    redacted: [],
    unreadable: [],
  };
  // Redaction is refused before anything is read, so that a refusal changes nothing at all.
  if (opts.redact && !opts.force) {
    const tracked = targets.filter((t) => t.file && isTracked(t.file)).map((t) => t.name);
    if (tracked.length > 0) {
      throw new AuthyError("INVALID_INPUT", `--redact would rewrite files git tracks: ${tracked.slice(0, 10).join(", ")}${tracked.length > 10 ? ", …" : ""}`, {
        hint: "their history still holds the value: rotate the secret; add --force to rewrite the working copies anyway",
      });
    }
  }
  for (const t of targets) {
    let result;
    try {
      result = await searchStream(t.open(), patterns);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "EACCES" || code === "EISDIR") {
        report.unreadable.push(t.name);
        continue;
      }
      throw e;
    }
    report.files++;
    report.bytes += result.bytes;
    report.uncounted += result.dropped;
    if (result.hits.length > 0) {
      const where = await locate(
        t.open(),
        result.hits.map((h) => h.start),
      );
      result.hits.forEach((h, i) => report.findings.push({ file: t.name, line: where[i]!.line, column: where[i]!.column, secret: h.path, form: h.form }));
      if (opts.redact && t.file) {
        const backup = await redactFile(t.file, result.hits, { backup: opts.backup !== false });
        report.redacted.push({ file: t.name, findings: result.hits.length, backup });
      }
    }
    opts.onProgress?.(report.files, targets.length);
  }
  return report;
}
