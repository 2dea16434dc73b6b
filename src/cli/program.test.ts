import { describe, expect, it } from "vitest";
import { buildProgram, commandWord, KNOWN_COMMANDS, usageError } from "./program.js";

describe("the command tree", () => {
  it("lists every top-level command in KNOWN_COMMANDS, so a partial build never misses one", () => {
    const declared = buildProgram().commands.map((c) => c.name());
    expect(new Set(declared)).toEqual(KNOWN_COMMANDS);
  });

  it("declares only the invoked command's branch", () => {
    expect(buildProgram("secrets").commands.map((c) => c.name())).toEqual(["secrets"]);
    expect(buildProgram("no-such-command").commands.length).toBe(KNOWN_COMMANDS.size);
  });

  it.each([
    [["secrets", "get", "a/B"], "secrets"],
    [["--home", "/x", "--json", "env", "export", "ns"], "env"],
    [["--identity", "secrets", "secrets", "list"], "secrets"],
    [["--json"], undefined],
    [["--", "secrets"], undefined],
  ])("finds the command word of %j", (args, word) => {
    expect(commandWord(args)).toBe(word);
  });
});

describe("a usage error, for --json", () => {
  it("is INVALID_INPUT with commander's first line as its message", () => {
    expect(usageError("error: missing required argument 'path'")).toMatchObject({
      code: "INVALID_INPUT",
      message: "missing required argument 'path'",
      hint: undefined,
    });
  });

  it("takes commander's suggestion as its hint", () => {
    expect(usageError("error: unknown command 'lst'\n(Did you mean one of list, ls?)")).toMatchObject({
      message: "unknown command 'lst'",
      hint: "did you mean one of list, ls?",
    });
  });
});
