import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, openSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CHECKPOINT_LIMIT,
  DOTENV_LIMIT,
  IDENTITY_LIMIT,
  PASSPHRASE_LIMIT,
  POLICY_LIMIT,
  SECRET_VALUE_LIMIT,
  TEMPLATE_LIMIT,
  formatBytes,
  type InputLimit,
} from "../../src/files/bounded-read.js";
import { CLI, PASSPHRASE, baseEnv, finished, initVault, tempHome, type Result } from "./cli.js";

/**
 * Every file or stream authy reads has a named limit, enforced while reading: a device, a FIFO
 * that never ends, or a file one byte over the limit gives one line naming the limit and exit
 * 2. Each refused run has its address space capped at 2 GiB (prlimit --as; Node.js itself
 * reserves most of 1 GiB, and scrypt needs its own): authy grew past 2.5 GiB on these before;
 * a process that tries to now dies instead of passing.
 */
const ADDRESS_SPACE_BYTES = 2 * 1024 * 1024 * 1024;
/** How long one refused read may take; it took 30 s and more before the limits. */
const RUN_TIMEOUT_MS = 30_000;

let t: ReturnType<typeof tempHome>;
beforeAll(async () => {
  t = tempHome();
  await initVault(t.home);
});
afterAll(() => t.cleanup());

type Stdin = "ignore" | number;
interface Input {
  name: string;
  limit: InputLimit;
  /** The command reading `file` (or standard input, when it says "-"). */
  args: (file: string) => string[];
  env?: (file: string) => Record<string, string | undefined>;
  /** Reads standard input rather than the file. */
  stdin?: boolean;
}

const INPUTS: Input[] = [
  { name: "a value file (secrets set --from-file)", limit: SECRET_VALUE_LIMIT, args: (f) => ["secrets", "set", "big/VALUE", "--from-file", f] },
  { name: "a value on standard input", limit: SECRET_VALUE_LIMIT, args: () => ["secrets", "set", "big/VALUE"], stdin: true },
  { name: "a dotenv file (env import)", limit: DOTENV_LIMIT, args: (f) => ["env", "import", f, "--namespace", "big"] },
  { name: "a dotenv file on standard input (env import -)", limit: DOTENV_LIMIT, args: () => ["env", "import", "-", "--namespace", "big"], stdin: true },
  { name: "a dotenv file (run --env-file)", limit: DOTENV_LIMIT, args: (f) => ["run", "--env-file", f, "--", "true"] },
  { name: "a policy file", limit: POLICY_LIMIT, args: (f) => ["policy", "apply", f] },
  { name: "a policy on standard input", limit: POLICY_LIMIT, args: () => ["policy", "apply", "-"], stdin: true },
  { name: "an inject template", limit: TEMPLATE_LIMIT, args: (f) => ["inject", "-i", f] },
  { name: "an inject template on standard input", limit: TEMPLATE_LIMIT, args: () => ["inject", "-i", "-"], stdin: true },
  {
    name: "an identity file (AUTHY_IDENTITY)",
    limit: IDENTITY_LIMIT,
    args: () => ["secrets", "list"],
    env: (f) => ({ AUTHY_PASSPHRASE: undefined, AUTHY_IDENTITY: f }),
  },
  {
    name: "a passphrase file (AUTHY_PASSPHRASE_FILE)",
    limit: PASSPHRASE_LIMIT,
    args: () => ["secrets", "list"],
    env: (f) => ({ AUTHY_PASSPHRASE: undefined, AUTHY_PASSPHRASE_FILE: f }),
  },
  {
    name: "a passphrase on standard input (--passphrase-stdin)",
    limit: PASSPHRASE_LIMIT,
    args: () => ["--passphrase-stdin", "secrets", "list"],
    env: () => ({ AUTHY_PASSPHRASE: undefined }),
    stdin: true,
  },
  { name: "a new passphrase file (passwd)", limit: PASSPHRASE_LIMIT, args: (f) => ["passwd", "--new-passphrase-file", f] },
  { name: "an audit checkpoint file", limit: CHECKPOINT_LIMIT, args: (f) => ["audit", "verify", "--checkpoint", f] },
];

/** The built CLI with its address space capped; `stdin` is a file descriptor or nothing. */
function limitedAuthy(args: string[], env: Record<string, string | undefined>, stdin: Stdin, capped = true): Promise<Result> {
  const full: Record<string, string | undefined> = { ...baseEnv(t.home), AUTHY_PASSPHRASE: PASSPHRASE, ...env };
  for (const [k, v] of Object.entries(full)) if (v === undefined) Reflect.deleteProperty(full, k);
  const command = capped ? ["prlimit", `--as=${ADDRESS_SPACE_BYTES}`, process.execPath] : [process.execPath];
  const child = spawn(command[0]!, [...command.slice(1), "--", CLI, ...args], {
    env: full,
    stdio: [stdin, "pipe", "pipe"],
    cwd: t.dir,
  });
  return finished(child, undefined, RUN_TIMEOUT_MS);
}

/** Runs one input from `file`: as the named file, or as standard input. */
async function runInput(input: Input, file: string, capped = true): Promise<Result> {
  const env = input.env?.(file) ?? {};
  if (!input.stdin) return limitedAuthy(input.args(file), env, "ignore", capped);
  const fd = openSync(file, "r");
  try {
    return await limitedAuthy(input.args(file), env, fd, capped);
  } finally {
    closeSync(fd);
  }
}

/** A FIFO with a writer that writes zeros until its reader goes away, and never closes it. */
function endlessFifo(name: string): { file: string; writer: ChildProcess } {
  const file = path.join(t.dir, name);
  expect(spawnSync("mkfifo", [file]).status).toBe(0);
  const writer = spawn("sh", ["-c", 'exec cat /dev/zero > "$0"', file], { stdio: "ignore" });
  return { file, writer };
}

function expectRefused(r: Result, source: string, limit: InputLimit): void {
  expect(r.stderr.split("\n")[0]).toBe(`authy: ${source} is larger than the limit for ${limit.what} (${formatBytes(limit.bytes)})`);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code).toBe(2);
}

describe.each(INPUTS)("$name", (input) => {
  const source = (file: string) => (input.stdin ? "standard input" : file);

  it("refuses /dev/zero and /dev/urandom with its limit, in bounded memory", async () => {
    const devices = ["/dev/zero", "/dev/urandom"];
    const results = await Promise.all(devices.map((device) => runInput(input, device)));
    devices.forEach((device, i) => expectRefused(results[i]!, source(device), input.limit));
  });

  it("refuses a FIFO that never closes", async () => {
    const fifo = endlessFifo(`fifo-${INPUTS.indexOf(input)}`);
    try {
      expectRefused(await runInput(input, fifo.file), source(fifo.file), input.limit);
    } finally {
      fifo.writer.kill("SIGKILL");
    }
  });

  it("refuses a file one byte over the limit, and reads one at the limit", async () => {
    const over = path.join(t.dir, `over-${INPUTS.indexOf(input)}`);
    writeFileSync(over, Buffer.alloc(input.limit.bytes + 1, "A"));
    const at = path.join(t.dir, `at-${INPUTS.indexOf(input)}`);
    writeFileSync(at, Buffer.alloc(input.limit.bytes, "A"));
    // At the limit the content is parsed too, which is not what the cap is about.
    const [refused, r] = await Promise.all([runInput(input, over), runInput(input, at, false)]);
    expectRefused(refused, source(over), input.limit);
    // At the limit the content is read; what it then says of it (not a dotenv file, not an identity…) is another matter.
    expect(r.stderr).not.toContain("larger than the limit");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).not.toBeGreaterThan(8);
  });
});
