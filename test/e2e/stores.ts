import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./cli.js";

/**
 * Stores made by the real tools, for `authy import`: a pass store (Debian's `pass`, a
 * throwaway GnuPG key in its own GNUPGHOME), passage-style folders (the stock `age`), and
 * dotenvx files (@dotenvx/dotenvx, a devDependency).
 */

/** The tools a test needs that are not installed; the test says which, in one line, and skips. */
export function missingTools(...tools: string[]): string[] {
  const missing = tools.filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);
  if (missing.length > 0) process.stderr.write(`SKIPPED: needs ${missing.join(", ")} (apt-get install -y pass age gnupg)\n`);
  return missing;
}

export interface GpgHome {
  env: Record<string, string>;
  keyId: string;
  /** Stops this GNUPGHOME's gpg-agent (started by the first decryption). */
  stop(): void;
}

/** A GnuPG home with one passphrase-less key, as a throwaway identity. */
export function gpgHome(dir: string, name: string): GpgHome {
  const home = path.join(dir, `gnupg-${name}`);
  mkdirSync(home, { mode: 0o700 });
  const env = { ...(process.env as Record<string, string>), GNUPGHOME: home };
  const gpg = (args: string[]) => execFileSync("gpg", ["--batch", "--quiet", ...args], { env, stdio: ["ignore", "pipe", "pipe"] }).toString();
  gpg(["--passphrase", "", "--pinentry-mode", "loopback", "--quick-gen-key", `authy test ${name} <${name}@example.invalid>`, "ed25519", "cert", "never"]);
  const fpr = /^fpr:+([0-9A-F]+):/m.exec(gpg(["--with-colons", "--list-keys"]))![1]!;
  gpg(["--passphrase", "", "--pinentry-mode", "loopback", "--quick-add-key", fpr, "cv25519", "encr", "never"]);
  return { env, keyId: fpr, stop: () => void spawnSync("gpgconf", ["--kill", "gpg-agent"], { env }) };
}

/** `pass init` a store for the key, then `pass insert -m` each entry. */
export function passStore(dir: string, gpg: GpgHome, entries: Record<string, string | Buffer>): { store: string; env: Record<string, string> } {
  const store = path.join(dir, "password-store");
  const env = { ...gpg.env, PASSWORD_STORE_DIR: store };
  execFileSync("pass", ["init", gpg.keyId], { env, stdio: "pipe" });
  for (const [name, value] of Object.entries(entries)) execFileSync("pass", ["insert", "-m", name], { env, input: value, stdio: ["pipe", "pipe", "pipe"] });
  return { store, env };
}

/** A passage-style store: `age -r RECIPIENT` per entry, and the identity file beside it. */
export function passageStore(dir: string, entries: Record<string, string | Buffer>): { store: string; identities: string; recipient: string } {
  const base = path.join(dir, "passage");
  const store = path.join(base, "store");
  mkdirSync(store, { recursive: true });
  const identities = path.join(base, "identities");
  execFileSync("age-keygen", ["-o", identities], { stdio: "pipe" });
  const recipient = execFileSync("age-keygen", ["-y", identities]).toString().trim();
  writeFileSync(path.join(store, ".age-recipients"), `${recipient}\n`);
  for (const [name, value] of Object.entries(entries)) ageEntry(store, name, value, recipient);
  return { store, identities, recipient };
}

export function ageEntry(store: string, name: string, value: string | Buffer, recipient: string): void {
  const file = path.join(store, `${name}.age`);
  mkdirSync(path.dirname(file), { recursive: true });
  execFileSync("age", ["-r", recipient, "-o", file], { input: value });
}

const DOTENVX = path.join(ROOT, "node_modules/@dotenvx/dotenvx/src/cli/dotenvx.js");

/** `dotenvx set KEY VALUE -f FILE` for each entry (encrypted, keys in .env.keys beside it). */
export function dotenvxFile(file: string, entries: Record<string, string>): void {
  for (const [key, value] of Object.entries(entries)) {
    execFileSync(process.execPath, [DOTENVX, "set", key, value, "-f", file], {
      cwd: path.dirname(file),
      stdio: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
  }
}
