import { jsonVisible, visible } from "./visible-text.js";

/**
 * Where things are printed: results on stdout (so pipes stay clean), everything else on stderr.
 */
interface OutputOptions {
  json: boolean;
  quiet: boolean;
  color: boolean;
  verbose: boolean;
}

/** The output of a command given these global options (--json, --quiet, --no-color, --verbose), colours only on a terminal. */
export function outputFor(opts: { json?: boolean; quiet?: boolean; color?: boolean; verbose?: boolean }): Output {
  const color = opts.color !== false && !process.env.NO_COLOR && Boolean(process.stdout.isTTY);
  return new Output({ json: Boolean(opts.json), quiet: Boolean(opts.quiet), color, verbose: Boolean(opts.verbose) });
}

export class Output {
  constructor(readonly opts: OutputOptions) {}

  /**
   * The command's result, as JSON with --json, otherwise the text. Pass the JSON as a
   * function when building it is costly (100,000 list items), so text output skips it.
   */
  result(json: unknown, text: () => string): void {
    if (this.opts.json) process.stdout.write(jsonVisible(JSON.stringify(typeof json === "function" ? (json as () => unknown)() : json, null, 2)) + "\n");
    else {
      const t = text();
      if (t !== "") process.stdout.write(t.endsWith("\n") ? t : t + "\n");
    }
  }

  /** A confirmation such as "saved prod/API_KEY (version 3)": stderr, silenced by --quiet and --json. */
  info(message: string): void {
    if (!this.opts.quiet && !this.opts.json) process.stderr.write(message + "\n");
  }

  warn(message: string): void {
    if (!this.opts.quiet) process.stderr.write(`${this.paint("33", "warning:")} ${message}\n`);
  }

  verbose(message: string): void {
    if (this.opts.verbose) process.stderr.write(`${this.paint("2", message)}\n`);
  }

  paint(code: string, text: string): string {
    return this.opts.color ? `\u001b[${code}m${text}\u001b[0m` : text;
  }
}

/** Renders rows as aligned columns; every cell is shown visibly (src/cli/visible-text.ts), as it may hold anyone's text. */
export function table(headers: string[], cells: string[][]): string {
  const rows = cells.map((r) => r.map((c) => visible(c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

export function isoTime(ms: number | null): string {
  return ms === null ? "" : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
