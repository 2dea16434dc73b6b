/**
 * A secret whose bytes are not text (a key file, a keystore) cannot be handed over as text:
 * `run` and `inject` refuse it with exit 2, say where it could not go, and point at a way that
 * works (`secrets get` into a file), never at one that fails the same way. A template that is
 * not UTF-8 is refused too, rather than rendered with its bad bytes turned into U+FFFD.
 */
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
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

describe("a template that is not UTF-8 text", () => {
  it("is refused with exit 2 naming its line, and nothing is written", async () => {
    const tpl = path.join(t.dir, "latin1.tpl");
    writeFileSync(tpl, Buffer.concat([Buffer.from("ok: yes\nname: caf"), Buffer.from([0xe9]), Buffer.from("\nkey: {{ authy://keys/TEXT }}\n")]));
    await run(["secrets", "set", "keys/TEXT"], "text-value");
    const out = path.join(t.dir, "latin1.out");
    const r = await run(["inject", "-i", tpl, "-o", out]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(`authy: ${tpl}:2: not valid UTF-8 text\nhint: templates are UTF-8 text; convert it first, e.g. \`iconv -f LATIN1 -t UTF-8\`\n`);
    expect(existsSync(out)).toBe(false);
    const piped = await run(["inject", "-i", "-"], Buffer.from([0xff, 0xfe, 0x41]));
    expect(piped.code, piped.stderr).toBe(2);
    expect(piped.stderr.split("\n")[0]).toBe("authy: stdin:1: not valid UTF-8 text");
    expect(piped.stdout).toBe("");
  });

  it("passes UTF-8, a byte-order mark included, through byte for byte", async () => {
    const tpl = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("café ✓ {{ authy://keys/TEXT }}\r\n")]);
    const r = await run(["inject", "-i", "-"], tpl);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdoutBytes).toEqual(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("café ✓ text-value\r\n")]));
  });
});
