import { AuthyError } from "../../errors.js";
import type { CliContext } from "../context.js";
import { progressBar } from "../progress.js";

interface ScanFlags {
  staged?: boolean;
  redact?: boolean;
  backup: boolean;
  force?: boolean;
  installHook?: boolean;
}

/** `authy scan [PATH…]`: exit 1 when a stored value is found, 0 when clean. */
export async function scan(ctx: CliContext, paths: string[], flags: ScanFlags): Promise<number> {
  const s = await import("../../scan/index.js");
  if (flags.installHook) {
    const { hook, replaced } = await s.installHook(process.cwd());
    ctx.out.result({ hook, replaced }, () => "");
    ctx.out.info(`${replaced ? "updated" : "installed"} ${hook}: commits now run \`authy scan --staged\``);
    return 0;
  }
  if (flags.staged && (paths.length > 0 || flags.redact))
    throw new AuthyError("INVALID_INPUT", "--staged scans the staged content only: no paths, no --redact");
  let targets: import("../../scan/index.js").Target[];
  if (flags.staged) {
    const root = s.repoRoot();
    if (!root) throw new AuthyError("INVALID_INPUT", "--staged needs a git repository");
    targets = s.stagedTargets(root);
  } else if (paths.length > 0) {
    targets = await s.pathTargets(paths);
  } else {
    const root = s.repoRoot();
    targets = [...(root ? s.repoTargets(root) : []), ...(await s.pathTargets(s.defaultPersonalTargets()))];
  }
  // Every value is needed: the owner's action, read in this process (never over the API), audited as vault.scan.
  const vault = await ctx.unlock();
  const secrets = await vault.exportAll(undefined, "vault.scan");
  const bar = progressBar(ctx, "scanning");
  let report;
  try {
    report = await s.scanTargets(targets, secrets, { redact: flags.redact, backup: flags.backup, force: flags.force, onProgress: (d, t) => bar.update(d, t) });
  } finally {
    bar.done();
    for (const x of secrets) x.value.fill(0);
  }
  await vault.recordEvent("vault.scan.result", "vault", {
    files: report.files,
    bytes: report.bytes,
    findings: report.findings.length + report.uncounted,
    redactedFiles: report.redacted.length,
    staged: Boolean(flags.staged),
  });
  ctx.out.result(report, () => report.findings.map((f) => `${f.file}:${f.line}:${f.column}  ${f.secret}  ${f.form}`).join("\n"));
  if (report.tooShort.length > 0) ctx.out.warn(`too short to look for: ${report.tooShort.join(", ")}`);
  for (const u of report.unreadable) ctx.out.warn(`could not read ${u}`);
  for (const r of report.redacted) ctx.out.info(`redacted ${r.findings} in ${r.file}${r.backup ? ` (original kept as ${r.backup})` : ""}`);
  const n = report.findings.length + report.uncounted;
  ctx.out.info(`${n === 0 ? "no stored secret found" : `${n} finding${n === 1 ? "" : "s"}`} in ${report.files} files (${report.secrets} secrets)`);
  return n === 0 ? 0 : 1;
}
