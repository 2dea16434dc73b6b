import { describe, expect, it } from "vitest";
import { prepared, statementName } from "./postgres-prepared.js";

describe("statement names", () => {
  it("give one text one name, and two texts two names", () => {
    const a = statementName("SELECT * FROM tokens WHERE id = $1");
    expect(statementName("SELECT * FROM tokens WHERE id = $1")).toBe(a);
    expect(statementName("SELECT * FROM agents WHERE name = $1")).not.toBe(a);
  });

  it("keep the values out of the name: a name stands for the text whatever they are", () => {
    const one = prepared("SELECT * FROM secrets WHERE path = $1", ["a'; DROP TABLE secrets; --"]);
    const two = prepared("SELECT * FROM secrets WHERE path = $1", ["b"]);
    expect(one.name).toBe(two.name);
    expect(one.values).toEqual(["a'; DROP TABLE secrets; --"]);
  });
});
