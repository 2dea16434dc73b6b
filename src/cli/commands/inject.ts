import { writeFileAtomic } from "../../files/atomic-write.js";
import { readFileBounded, TEMPLATE_LIMIT } from "../../files/bounded-read.js";
import { parseTemplate, renderTemplate, templateReferences, templateText } from "../../formats/template.js";
import { reasonOf, withApproval, type ApprovalFlags } from "../approval-wait.js";
import type { CliContext } from "../context.js";
import { refuseExisting } from "../output-file.js";
import { readStdin } from "../input.js";

/** `authy inject -i TEMPLATE [-o OUT]`: every reference resolved before anything is written. */
export async function inject(ctx: CliContext, flags: { in: string; out?: string; scope?: string; force?: boolean } & ApprovalFlags): Promise<void> {
  if (flags.out) refuseExisting(flags.out, flags.force);
  const source = flags.in === "-" ? "stdin" : flags.in;
  const text = templateText(flags.in === "-" ? await readStdin("the template", TEMPLATE_LIMIT) : await readFileBounded(flags.in, TEMPLATE_LIMIT), source);
  const parts = parseTemplate(text, { source });
  const paths = templateReferences(parts);
  const vault = await ctx.client();
  const { secrets } = await withApproval(ctx.out, vault, flags, () =>
    vault.dispatch({
      scope: flags.scope,
      refs: paths.map((path) => ({ name: path, path, source })),
      command: "inject",
      purpose: "inject",
      details: { template: source, out: flags.out ?? null },
      ...reasonOf(flags),
    }),
  );
  const values = new Map(secrets.map((s) => [s.path, s.value]));
  const rendered = renderTemplate(parts, (path) => values.get(path)!);
  if (flags.out) {
    await writeFileAtomic(flags.out, rendered);
    ctx.out.info(`wrote ${flags.out} (${paths.length} reference${paths.length === 1 ? "" : "s"})`);
  } else {
    process.stdout.write(rendered);
  }
}
