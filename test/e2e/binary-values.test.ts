/**
 * A secret whose bytes are not text (a key file, a keystore) cannot be handed over as text:
 * `run` and `inject` refuse it with exit 2, say where it could not go, and point at a way that
 * works (`secrets get` into a file), never at one that fails the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authy, initVault, tempHome, withPass } from "./cli.js";

let t: ReturnType<typeof tempHome>;
const run = (args: string[], input?: string | Buffer) => authy(args, { home: t.home, env: withPass, input });

beforeAll(async () => {
  t = tempHome();
  await initVault(t.home);
  await run(["secrets", "set", "keys/BLOB"], Buffer.from([0x00, 0xff, 0x10]));
});
afterAll(() => t.cleanup());

describe("a binary secret", () => {
  it("is refused by run, with or without --mount, with a hint that works", async () => {
    for (const extra of [[], ["--mount", `${t.dir}/mounted.env`]]) {
      const r = await run(["run", "--env", "B=authy://keys/BLOB", ...extra, "--", "true"]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe(
        "authy: keys/BLOB holds binary data that cannot go into an environment variable\nhint: write it to a file instead: `authy secrets get keys/BLOB > FILE`\n",
      );
    }
  });

  it("is refused by inject as not fitting a text template, not an environment variable", async () => {
    const r = await run(["inject", "-i", "-"], "key: {{ authy://keys/BLOB }}\n");
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(
      "authy: keys/BLOB holds binary data that cannot go into a text template\nhint: write it to a file instead: `authy secrets get keys/BLOB > FILE`\n",
    );
    expect(r.stdout).toBe("");
  });

  it("is read byte for byte with secrets get, as the hint says", async () => {
    const r = await run(["secrets", "get", "keys/BLOB"]);
    expect(r.code, r.stderr).toBe(0);
    expect([...r.stdoutBytes]).toEqual([0x00, 0xff, 0x10]);
  });
});
