import type { CliContext } from "./context.js";

/** A progress line on a terminal's stderr; nothing at all when stderr is not a TTY. */
export function progressBar(ctx: CliContext, label: string): { update(done: number, total: number): void; done(): void } {
  if (!process.stderr.isTTY || ctx.out.opts.quiet || ctx.out.opts.json) return { update() {}, done() {} };
  const width = 30;
  return {
    update(done, total) {
      const filled = total === 0 ? width : Math.round((done / total) * width);
      process.stderr.write(`\r${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}`);
    },
    done() {
      process.stderr.write("\r\u001b[2K");
    },
  };
}
