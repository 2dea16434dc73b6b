import type { Argument, CommandUnknownOpts, Option } from "@commander-js/extra-typings";

/**
 * Shell completion, computed from the commander program itself (commands, aliases, options,
 * option choices and argument names), so it can never drift from what the CLI accepts. The
 * shell scripts (scripts.ts) only pass the words typed so far to `authy __complete` and show
 * what comes back. Secret paths come from the daemon (daemonPaths in commands/completion.ts),
 * never from a prompt.
 */

/** What the word being completed is, when it is not a fixed list. */
type Dynamic = "path" | "namespace" | "files";

interface Completion {
  /** Fixed candidates, already filtered by the word's prefix. */
  words: string[];
  /** Candidates the shell or the daemon supplies. */
  dynamic?: Dynamic;
}

const PATH_ARGS = new Set(["path", "src", "dst"]);
const FILE_VALUES = /<(?:file|dir|path)>/;

function visibleCommands(cmd: CommandUnknownOpts): CommandUnknownOpts[] {
  return cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
}

function findSub(cmd: CommandUnknownOpts, word: string): CommandUnknownOpts | undefined {
  return visibleCommands(cmd).find((c) => c.name() === word || c.aliases().includes(word));
}

/** The options in effect for a command: its own and every ancestor's (the global ones). */
function optionsOf(chain: readonly CommandUnknownOpts[]): Option[] {
  return chain.flatMap((c) => c.options.filter((o) => !o.hidden));
}

function findOption(chain: readonly CommandUnknownOpts[], flag: string): Option | undefined {
  return optionsOf(chain).find((o) => o.long === flag || o.short === flag);
}

const takesValue = (o: Option) => o.required || o.optional;

function valueOf(o: Option): Completion {
  if (o.argChoices) return { words: [...o.argChoices] };
  return FILE_VALUES.test(o.flags) ? { words: [], dynamic: "files" } : { words: [] };
}

function argumentCompletion(arg: Argument | undefined): Completion {
  if (!arg) return { words: [] };
  if (arg.argChoices) return { words: [...arg.argChoices] };
  const name = arg.name();
  if (PATH_ARGS.has(name)) return { words: [], dynamic: "path" };
  if (name === "namespace") return { words: [], dynamic: "namespace" };
  if (name === "file" || name === "source" || name === "paths") return { words: [], dynamic: "files" };
  return { words: [] };
}

/**
 * Completes the last of `words` (the command line up to the cursor, the program name first).
 * The fixed candidates are filtered by that word's prefix here; dynamic ones by the caller.
 */
export function complete(program: CommandUnknownOpts, words: readonly string[]): Completion {
  const current = words[words.length - 1] ?? "";
  const chain: CommandUnknownOpts[] = [program];
  const positionals: string[] = [];
  let pending: Option | undefined;
  let afterDashDash = false;
  for (const w of words.slice(1, -1)) {
    if (pending) {
      pending = undefined;
      continue;
    }
    if (afterDashDash) {
      positionals.push(w);
      continue;
    }
    if (w === "--") {
      afterDashDash = true;
      continue;
    }
    if (w.startsWith("-") && w.length > 1) {
      const opt = findOption(chain, w.split("=")[0]!);
      if (opt && takesValue(opt) && !w.includes("=")) pending = opt;
      continue;
    }
    const sub = positionals.length === 0 ? findSub(chain[chain.length - 1]!, w) : undefined;
    if (sub) chain.push(sub);
    else positionals.push(w);
  }
  const cmd = chain[chain.length - 1]!;
  const prefixed = (c: Completion): Completion => ({ ...c, words: c.words.filter((w) => w.startsWith(current)) });
  if (pending) return prefixed(valueOf(pending));
  // After `--` (run's command): a program or a file.
  if (afterDashDash) return { words: [], dynamic: "files" };
  if (current.startsWith("-")) {
    const flags = optionsOf(chain).flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined));
    return prefixed({ words: [...new Set([...flags, "--help"])].sort() });
  }
  const subs = visibleCommands(cmd);
  if (subs.length > 0 && positionals.length === 0) return prefixed({ words: subs.map((c) => c.name()) });
  const args = cmd.registeredArguments;
  const last = args[args.length - 1];
  const arg = positionals.length < args.length ? args[positionals.length] : last?.variadic ? last : undefined;
  return prefixed(argumentCompletion(arg));
}

/** Every namespace that holds a secret, and those above them (`a/b/KEY` gives `a` and `a/b`). */
export function namespacesOf(paths: readonly string[]): string[] {
  const out = new Set<string>();
  for (const p of paths) {
    const parts = p.split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) out.add(parts.slice(0, i).join("/"));
  }
  return [...out].sort();
}
