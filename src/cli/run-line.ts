/** The `authy run` lines that need no commander (fast-run.ts, plain-line.ts). */

export interface PlainRunLine {
  scope: string;
  tty: boolean;
  command: string[];
}

/**
 * The command lines served here, from the arguments after `authy`: `run`, then `--scope S` (or
 * `--scope=S`) and `--no-tty`, each at most once, in any order, then `--` and the command.
 * Null for anything else (an option commander would read otherwise, a value that looks like
 * an option, an empty scope or command): the CLI's.
 */
export function plainRunLine(args: readonly string[]): PlainRunLine | null {
  if (args[0] !== "run") return null;
  let scope: string | undefined;
  let tty = true;
  let i = 1;
  for (; i < args.length && args[i] !== "--"; i++) {
    const arg = args[i]!;
    if (arg === "--no-tty" && tty) tty = false;
    else if (arg === "--scope" && scope === undefined && i + 1 < args.length) scope = args[++i];
    else if (arg.startsWith("--scope=") && scope === undefined) scope = arg.slice("--scope=".length);
    else return null;
  }
  const command = args.slice(i + 1);
  if (i >= args.length || !scope || scope.startsWith("-") || !command[0]) return null;
  return { scope, tty, command };
}
