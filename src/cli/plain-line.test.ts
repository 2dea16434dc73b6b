import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { describe, expect, it } from "vitest";
import { plainCall } from "./plain-line.js";
import { buildProgram } from "./program.js";
import { plainRunLine } from "./run-line.js";

/** What commander hands the handler of `argv` (after `authy`): its positionals and its options with the global ones. */
async function commanderParse(argv: string[]): Promise<{ positionals: unknown[]; opts: Record<string, unknown> }> {
  const program = buildProgram(argv[0]);
  let seen: { positionals: unknown[]; opts: Record<string, unknown> } | undefined;
  const leaf = (c: CommandUnknownOpts): CommandUnknownOpts => {
    const next = c.commands.find((sub) => sub.name() === argv[c === program ? 0 : 1]);
    return next && next.commands.length > 0 ? leaf(next) : (next ?? c);
  };
  const command = leaf(program);
  command.action((...args: unknown[]) => {
    seen = { positionals: args.slice(0, -2), opts: command.optsWithGlobals() };
  });
  await program.parseAsync(["node", "authy", ...argv]);
  return seen!;
}

describe("the command lines that need no commander", () => {
  it.each([
    [["run", "--scope", "deploy", "--", "./deploy.sh", "--flag", "-x"]],
    [["run", "--no-tty", "--scope=secrets:read:app/*", "--", "sh", "-c", "echo hi"]],
    [["run", "--scope", "a b", "--no-tty", "--", "true"]],
  ])("give run what commander gives it: %j", async (argv) => {
    const plain = plainCall(argv)!;
    const { positionals, opts } = await commanderParse(argv);
    expect(positionals).toEqual([plainRunLine(argv)!.command]);
    expect({ ...plain.flags, color: true, daemon: true }).toEqual(opts);
  });

  it("give env export what commander gives it", async () => {
    const argv = ["env", "export", "prod/app"];
    const plain = plainCall(argv)!;
    const { positionals, opts } = await commanderParse(argv);
    expect(positionals).toEqual(["prod/app"]);
    expect({ ...plain.flags, color: true, daemon: true }).toEqual(opts);
  });

  it.each([
    [["run", "--scope", "s", "--only", "A", "--", "true"]],
    [["run", "--scope", "s", "--scope", "t", "--", "true"]],
    [["run", "--scope", "--no-tty", "--", "true"]],
    [["run", "--scope=", "--", "true"]],
    [["run", "--scope", "s", "true"]],
    [["run", "--scope", "s", "--"]],
    [["run", "--scope", "s", "--", ""]],
    [["run", "--no-tty", "--no-tty", "--scope", "s", "--", "true"]],
    [["env", "export", "prod", "--format", "json"]],
    [["env", "export", "--out", "x"]],
    [["env", "export", ""]],
    [["--quiet", "env", "export", "prod"]],
  ])("leave the rest to the CLI: %j", (argv) => {
    expect(plainCall(argv)).toBeNull();
  });
});
