/**
 * Interoperability with the stock `age` tool (FiloSottile/age, the Debian package) and with
 * typage's own passphrase code. `age` reads passphrases only from a terminal, so those runs go
 * through util-linux `script`, which gives it a pseudo-terminal fed from our stdin. Without the
 * stock tool only typage's part runs (see stock-age.test-helpers.ts).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Decrypter, Encrypter } from "age-encryption";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decryptWithIdentities,
  encryptToRecipients,
  generateIdentity,
  generateVaultKey,
  identityToRecipient,
  parseIdentityFile,
  randomBytes,
  unwrapWithIdentities,
  unwrapWithPassphrase,
  wrapToRecipient,
  wrapWithPassphrase,
} from "./index.js";
import { expectCode, toHex } from "./crypto.test-helpers.js";
import { describeStockAge } from "./stock-age.test-helpers.js";

let dir = "";
const path = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "authy-age-"));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `age` with a passphrase typed on a pseudo-terminal; returns its exit status. */
function ageWithPassphrase(args: string[], typed: string): number {
  const command = ["age", ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const run = spawnSync("script", ["-qec", command, "/dev/null"], { input: typed, timeout: 30_000 });
  return run.status ?? -1;
}

async function keyFile(name: string): Promise<{ identity: string; recipient: string; file: string }> {
  const identity = await generateIdentity();
  const file = path(name);
  writeFileSync(file, `# test key\n${identity}\n`, { mode: 0o600 });
  return { identity, recipient: await identityToRecipient(identity), file };
}

describeStockAge("stock age reads what authy writes", () => {
  it("decrypts an identity slot with age -d -i", async () => {
    const { recipient, file } = await keyFile("slot.key");
    const vaultKey = generateVaultKey();
    writeFileSync(path("slot.age"), await wrapToRecipient(vaultKey, recipient));
    const out = execFileSync("age", ["-d", "-i", file, path("slot.age")]);
    expect(toHex(out)).toBe(toHex(vaultKey));
  });

  it("decrypts an export to several recipients, binary and armored, with each key", async () => {
    const a = await keyFile("a.key");
    const b = await keyFile("b.key");
    const plaintext = new TextEncoder().encode('{"prod/API_KEY":"sk-live-123"}\n');
    for (const armor of [false, true]) {
      const file = await encryptToRecipients(plaintext, [a.recipient, b.recipient], { armor });
      if (armor) expect(new TextDecoder().decode(file)).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----\n/);
      writeFileSync(path("export.age"), file);
      for (const key of [a, b]) {
        expect(execFileSync("age", ["-d", "-i", key.file, path("export.age")]).toString()).toBe(new TextDecoder().decode(plaintext));
      }
    }
  });

  it("decrypts a larger, multi-chunk export", async () => {
    const { recipient, file } = await keyFile("big.key");
    const plaintext = randomBytes(200_000);
    writeFileSync(path("big.age"), await encryptToRecipients(plaintext, [recipient]));
    expect(toHex(execFileSync("age", ["-d", "-i", file, path("big.age")], { maxBuffer: 1 << 20 }))).toBe(toHex(plaintext));
  });

  it("decrypts exports at the chunk boundaries: empty, exactly 64 KiB, 64 KiB + 1", async () => {
    const { recipient, file } = await keyFile("edge.key");
    for (const size of [0, 64 * 1024, 64 * 1024 + 1]) {
      const plaintext = randomBytes(size);
      writeFileSync(path("edge.age"), await encryptToRecipients(plaintext, [recipient]));
      expect(toHex(execFileSync("age", ["-d", "-i", file, path("edge.age")], { maxBuffer: 1 << 20 }))).toBe(toHex(plaintext));
    }
  });

  it("decrypts a passphrase slot with age -d and the passphrase typed at its prompt", async () => {
    const vaultKey = generateVaultKey();
    writeFileSync(path("pass.age"), await wrapWithPassphrase(vaultKey, "hunter2 hunter2", 15));
    expect(ageWithPassphrase(["-d", "-o", path("pass.out"), path("pass.age")], "hunter2 hunter2\n")).toBe(0);
    expect(toHex(readFileSync(path("pass.out")))).toBe(toHex(vaultKey));
    expect(ageWithPassphrase(["-d", "-o", path("wrong.out"), path("pass.age")], "not it\n")).not.toBe(0);
  });

  it("prints the same recipient for an authy identity (age-keygen -y)", async () => {
    const { recipient, file } = await keyFile("y.key");
    expect(execFileSync("age-keygen", ["-y", file]).toString().trim()).toBe(recipient);
  });
});

describeStockAge("authy reads what stock age writes", () => {
  it("parses an age-keygen identity file and derives its recipient", async () => {
    execFileSync("age-keygen", ["-o", path("keygen.key")], { stdio: "ignore" });
    const identities = parseIdentityFile(readFileSync(path("keygen.key"), "utf8"));
    expect(identities).toHaveLength(1);
    expect(await identityToRecipient(identities[0]!)).toBe(
      execFileSync("age-keygen", ["-y", path("keygen.key")])
        .toString()
        .trim(),
    );
  });

  it("decrypts files from age -e -r, binary and armored, and unwraps a 32-byte one as a slot", async () => {
    execFileSync("age-keygen", ["-o", path("r.key")], { stdio: "ignore" });
    const [identity] = parseIdentityFile(readFileSync(path("r.key"), "utf8"));
    const recipient = execFileSync("age-keygen", ["-y", path("r.key")])
      .toString()
      .trim();
    const vaultKey = generateVaultKey();
    writeFileSync(path("plain.bin"), vaultKey);
    for (const armor of [[], ["-a"]]) {
      execFileSync("age", ["-e", ...armor, "-r", recipient, "-o", path("r.age"), path("plain.bin")]);
      const file = readFileSync(path("r.age"));
      expect(toHex(await decryptWithIdentities(file, [identity!]))).toBe(toHex(vaultKey));
      if (armor.length === 0) expect(toHex(await unwrapWithIdentities(file, [identity!]))).toBe(toHex(vaultKey));
    }
    await expectCode(() => unwrapWithIdentities(readFileSync(path("r.age")), [identity!]), "INTEGRITY"); // armored is not a slot
    const stranger = await generateIdentity();
    await expectCode(() => decryptWithIdentities(readFileSync(path("r.age")), [stranger]), "LOCKED");
  });

  it("decrypts age -e files at the chunk boundaries: empty, 64 KiB, 64 KiB + 1, 128 KiB + 1", async () => {
    execFileSync("age-keygen", ["-o", path("edge-r.key")], { stdio: "ignore" });
    const [identity] = parseIdentityFile(readFileSync(path("edge-r.key"), "utf8"));
    const recipient = execFileSync("age-keygen", ["-y", path("edge-r.key")])
      .toString()
      .trim();
    for (const size of [0, 64 * 1024, 64 * 1024 + 1, 128 * 1024 + 1]) {
      const plaintext = randomBytes(size);
      writeFileSync(path("edge.bin"), plaintext);
      execFileSync("age", ["-e", "-r", recipient, "-o", path("edge-r.age"), path("edge.bin")]);
      expect(toHex(await decryptWithIdentities(readFileSync(path("edge-r.age")), [identity!]))).toBe(toHex(plaintext));
    }
  });

  it("unwraps a passphrase file written by age -p (work factor 18)", async () => {
    const vaultKey = generateVaultKey();
    writeFileSync(path("p.bin"), vaultKey);
    expect(ageWithPassphrase(["-p", "-o", path("p.age"), path("p.bin")], "s3cret words\ns3cret words\n")).toBe(0);
    const slot = readFileSync(path("p.age"));
    expect(slot.toString("latin1")).toMatch(/^age-encryption\.org\/v1\n-> scrypt \S+ 18\n/);
    expect(toHex(await unwrapWithPassphrase(slot, "s3cret words"))).toBe(toHex(vaultKey));
  });
});

describe("typage's own scrypt agrees with ours", () => {
  it("decrypts our passphrase slot with Decrypter.addPassphrase", async () => {
    const vaultKey = generateVaultKey();
    const slot = await wrapWithPassphrase(vaultKey, "typage check", 15);
    const d = new Decrypter();
    d.addPassphrase("typage check");
    expect(toHex(await d.decrypt(slot))).toBe(toHex(vaultKey));
  });

  it("writes a passphrase file we unwrap", async () => {
    const vaultKey = generateVaultKey();
    const e = new Encrypter();
    e.setPassphrase("typage check");
    e.setScryptWorkFactor(15);
    expect(toHex(await unwrapWithPassphrase(await e.encrypt(vaultKey), "typage check"))).toBe(toHex(vaultKey));
  });

  it("decrypts our identity slot, and writes one we unwrap", async () => {
    const identity = await generateIdentity();
    const recipient = await identityToRecipient(identity);
    const vaultKey = generateVaultKey();
    const d = new Decrypter();
    d.addIdentity(identity);
    expect(toHex(await d.decrypt(await wrapToRecipient(vaultKey, recipient)))).toBe(toHex(vaultKey));
    const e = new Encrypter();
    e.addRecipient(recipient);
    expect(toHex(await unwrapWithIdentities(await e.encrypt(vaultKey), [identity]))).toBe(toHex(vaultKey));
  });
});
