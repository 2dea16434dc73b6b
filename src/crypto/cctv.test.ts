/**
 * The age community test vectors (C2SP/CCTV, see testdata/cctv/README.md) run through the code
 * paths authy uses: decryptFile with our scrypt and X25519 identities (the engine under
 * unwrapWithPassphrase and unwrapWithIdentities), decryptWithIdentities for X25519 and armored
 * files, and the public slot functions with authy's own policy on top.
 *
 * Expectations map onto authy's two failure answers: "no match" is LOCKED; header, HMAC,
 * payload and armor failures are INTEGRITY. Nothing is ever released from a failing file, so
 * the partial-payload hashes hold trivially.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { decryptFile } from "./age-file.js";
import { decryptWithIdentities, sha256, unwrapWithIdentities, unwrapWithPassphrase } from "./index.js";
import { parseIdentity } from "./identity.js";
import { ScryptIdentity } from "./scrypt-stanza.js";
import { X25519Identity } from "./x25519-stanza.js";
import { expectCode, toHex } from "./crypto.test-helpers.js";

const DIR = fileURLToPath(new URL("./testdata/cctv/", import.meta.url));

interface Vector {
  name: string;
  expect: string;
  payload?: string;
  identities: string[];
  passphrases: string[];
  armored: boolean;
  file: Uint8Array;
}

function load(name: string): Vector {
  const contents = readFileSync(DIR + name);
  const sep = contents.indexOf("\n\n");
  const meta = contents.subarray(0, sep).toString("utf8").split("\n");
  const v: Vector = { name, expect: "", identities: [], passphrases: [], armored: false, file: contents.subarray(sep + 2) };
  for (const line of meta) {
    const i = line.indexOf(": ");
    const [k, value] = [line.slice(0, i), line.slice(i + 2)];
    if (k === "expect") v.expect = value;
    else if (k === "payload") v.payload = value;
    else if (k === "identity") v.identities.push(value);
    else if (k === "passphrase") v.passphrases.push(value);
    else if (k === "armored") v.armored = value === "yes";
  }
  return v;
}

const vectors = readdirSync(DIR)
  .filter((n) => n !== "README.md")
  .sort()
  .map(load);

/** CCTV uses scrypt work factor 10 to stay fast; authy's policy (15–20) is tested separately. */
const CCTV_WORK_FACTORS = { min: 1, max: 20 };

const failureCode = (expectation: string) => (expectation === "no match" ? "LOCKED" : "INTEGRITY");

describe("age community test vectors (CCTV)", () => {
  it("are all present", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(60);
    expect(new Set(vectors.map((v) => v.expect))).toEqual(
      new Set(["success", "no match", "header failure", "HMAC failure", "payload failure", "armor failure"]),
    );
  });

  for (const v of vectors) {
    it(`${v.name}: ${v.expect}`, async () => {
      const run = () =>
        v.armored
          ? decryptWithIdentities(v.file, v.identities)
          : decryptFile(v.file, [
              ...v.identities.map((i) => new X25519Identity(parseIdentity(i))),
              ...v.passphrases.map((p) => new ScryptIdentity(p, { workFactors: CCTV_WORK_FACTORS })),
            ]);
      if (v.expect === "success") {
        expect(toHex(sha256(await run()))).toBe(v.payload);
      } else {
        await expectCode(run, failureCode(v.expect));
      }
    });
  }
});

describe("CCTV vectors through the public slot functions", () => {
  it("never unwraps a vault key from any of them (payloads are not 32-byte keys)", async () => {
    for (const v of vectors.filter((v) => !v.armored)) {
      if (v.passphrases.length > 0) {
        for (const p of v.passphrases) await expectCode(() => unwrapWithPassphrase(v.file, p), "INTEGRITY", "LOCKED");
      }
      if (v.identities.length > 0) {
        await expectCode(() => unwrapWithIdentities(v.file, v.identities), "INTEGRITY", "LOCKED");
      }
    }
  });

  it("refuses the work factor 10 of the scrypt vectors under authy's policy, before any scrypt", async () => {
    const scrypt = vectors.find((v) => v.name === "scrypt")!;
    const e = await expectCode(() => unwrapWithPassphrase(scrypt.file, "password"), "INTEGRITY");
    expect(e.message).toBe("key slot has an unacceptable scrypt work factor");
  });
});
