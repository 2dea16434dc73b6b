import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { authy, initVault, PASSPHRASE, tempHome, TEST_WORK_FACTOR, withPass } from "./cli.js";
import { hasTmux, Terminal } from "./terminal.js";

/**
 * The passphrase prompt when standard input is a pipe (the value piped in, as the README's
 * blocks do): asked on the controlling terminal, as ssh, sudo and gpg do, the pipe left as the
 * value's source; and refused as before when there is no controlling terminal.
 */
const VALUE = "postgres://deploy@db/prod";
/** Runs `command` and then says whether the terminal's settings are what they were before it. */
const keepingTerminal = (command: string) => `before=$(stty -g); ${command}; rc=$?; [ "$(stty -g)" = "$before" ] && echo "terminal as it was"; (exit $rc)`;

describe.runIf(hasTmux)("the passphrase prompt on the controlling terminal, with a value piped in (tmux)", () => {
  const t = tempHome();
  let term: Terminal | undefined;

  beforeAll(() => initVault(t.home));
  afterEach(() => term?.close());
  afterAll(() => t.cleanup());

  const open = (script: string) => (term = new Terminal(t.dir, t.home, script));

  it("asks on the terminal without echo and stores the piped value", async () => {
    const screen = open(keepingTerminal(`printf %s '${VALUE}' | authy secrets set prod/DB_URL`));
    await screen.waitFor(/Vault passphrase:/);
    screen.type([PASSPHRASE], true);
    screen.type(["Enter"]);
    const text = await screen.waitFor(/\[exit \d+\]/);
    expect(text).toMatch(/saved prod\/DB_URL \(version 1\)\nterminal as it was\n\[exit 0\]$/);
    expect(text).not.toContain(PASSPHRASE);
    const got = await authy(["secrets", "get", "prod/DB_URL"], { home: t.home, env: withPass });
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toBe(VALUE);
  });

  it("exits 130 on Ctrl-C at the prompt, stores nothing and leaves the terminal as it was", async () => {
    const screen = open(keepingTerminal("printf %s never-stored | authy secrets set prod/CANCELLED"));
    await screen.waitFor(/Vault passphrase:/);
    screen.type(["half"], true);
    screen.type(["C-c"]);
    expect(await screen.waitFor(/\[exit \d+\]/)).toMatch(/authy: cancelled\nterminal as it was\n\[exit 130\]$/);
    expect((await authy(["secrets", "get", "prod/CANCELLED"], { home: t.home, env: withPass })).code).toBe(3);
  });

  it("asks a new vault's passphrase twice there, never once", async () => {
    const other = tempHome();
    try {
      const screen = (term = new Terminal(other.dir, other.home, keepingTerminal(`echo piped | authy init --work-factor ${TEST_WORK_FACTOR}`)));
      await screen.waitFor(/New passphrase:/);
      screen.type([PASSPHRASE], true);
      screen.type(["Enter"]);
      await screen.waitFor(/Repeat it:/);
      screen.type([PASSPHRASE], true);
      screen.type(["Enter"]);
      expect(await screen.waitFor(/\[exit \d+\]/)).toMatch(/created a vault in .*\nterminal as it was\n\[exit 0\]$/);
      expect((await authy(["secrets", "list"], { home: other.home, env: withPass })).code).toBe(0);
    } finally {
      other.cleanup();
    }
  });
});

describe("the passphrase prompt without a controlling terminal", () => {
  const t = tempHome();
  beforeAll(() => initVault(t.home));
  afterAll(() => t.cleanup());

  it("refuses as before, exit 6, with the value piped in and the process in a session of its own", async () => {
    // detached: setsid, so opening /dev/tty fails (ENXIO) even when the tests run in a terminal.
    const r = await authy(["secrets", "set", "prod/DB_URL"], { home: t.home, input: VALUE, detached: true });
    expect(r.code).toBe(6);
    expect(r.stderr).toBe(
      "authy: Vault passphrase is needed and there is no terminal to ask on\n" +
        "hint: set AUTHY_PASSPHRASE or AUTHY_PASSPHRASE_FILE, pass --passphrase-stdin, or use AUTHY_IDENTITY\n",
    );
    expect((await authy(["secrets", "get", "prod/DB_URL"], { home: t.home, env: withPass })).code).toBe(3);
  });
});
