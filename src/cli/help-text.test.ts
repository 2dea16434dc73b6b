import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { describe, expect, it } from "vitest";
import { buildProgram } from "./program.js";

/** Every visible command, with the words that invoke it (`secrets rotate`). */
function commands(cmd: CommandUnknownOpts, words: string[] = []): { words: string[]; cmd: CommandUnknownOpts }[] {
  return cmd.commands
    .filter((c) => !(c as unknown as { _hidden?: boolean })._hidden)
    .flatMap((c) => [{ words: [...words, c.name()], cmd: c }, ...commands(c, [...words, c.name()])]);
}

function helpOf(cmd: CommandUnknownOpts): string {
  let text = "";
  cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}

describe("--help", () => {
  const program = buildProgram();
  const all = commands(program);

  it("covers every command of the tree", () => {
    expect(all.length).toBeGreaterThan(60);
  });

  it.each(all.map((c) => [c.words.join(" "), c] as const))(
    "authy %s --help shows two or three examples of itself and its exit codes",
    (_name, { words, cmd }) => {
      const text = helpOf(cmd);
      const examples = /\nExamples:\n((?: {2}\$ .*\n)+)/.exec(text);
      expect(examples, text).not.toBeNull();
      const lines = examples![1]!.trimEnd().split("\n");
      expect(lines.length).toBeGreaterThanOrEqual(2);
      expect(lines.length).toBeLessThanOrEqual(3);
      // At least one example runs this very command (by its name or an alias).
      const names = [cmd.name(), ...cmd.aliases()];
      const prefix = words.slice(0, -1).join(" ");
      expect(
        lines.some((l) => names.some((n) => l.includes(`authy ${prefix ? `${prefix} ` : ""}${n}`))),
        lines.join("\n"),
      ).toBe(true);
      const exits = /\nExit codes:\n((?: {2}\d+ +.+\n)+)/.exec(text);
      expect(exits, text).not.toBeNull();
      const codes = exits![1]!
        .trimEnd()
        .split("\n")
        .map((l) => Number(l.trim().split(/\s+/)[0]));
      expect(codes).toContain(0);
      expect(codes).toContain(1);
      expect(codes.every((c) => [0, 1, 2, 3, 4, 5, 6, 7, 8, 130].includes(c))).toBe(true);
    },
  );
});
