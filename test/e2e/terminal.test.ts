import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { authy, initVault, tempHome, withPass } from "./cli.js";
import { hasTmux, Terminal } from "./terminal.js";

/** `authy run` of the built CLI (with its code caches) on a real terminal (tmux). */
describe.runIf(hasTmux)("authy run on a terminal", () => {
  const t = tempHome();
  const SECRET = "sk-terminal-5e1f2a9c7b";
  const run = (child: string) => `authy run --env K=authy://app/TOKEN -- sh -c '${child}'`;
  let term: Terminal | undefined;

  beforeAll(async () => {
    await initVault(t.home);
    expect((await authy(["secrets", "set", "app/TOKEN"], { home: t.home, input: SECRET, env: withPass })).code).toBe(0);
  });
  afterEach(() => term?.close());
  afterAll(() => t.cleanup());

  const open = (script: string, size?: { cols: number; rows: number }) => (term = new Terminal(t.dir, t.home, script, { env: withPass, ...size }));

  it("gives the child a terminal of its own, passes colours, masks its output and prints nothing else", async () => {
    const screen = open(run('test -t 0 && test -t 1 && test -t 2 && echo "tty: $(tty)"; printf "\\033[31mred\\033[0m\\n"; echo "value: $K"'));
    const text = await screen.waitFor(/\[exit \d+\]/);
    // Nothing but the child's output and the script's own exit line: no fallback notice, no
    // warning, no write error at exit.
    expect(text).toMatch(/^tty: \/dev\/pts\/\d+\nred\nvalue: <authy:masked>\n\[exit 0\]$/);
    expect(text).not.toContain(SECRET);
    expect(await screen.waitFor(/\[exit 0\]/, true)).toContain("\x1b[31mred");
    // The child's terminal is a new one, not authy's (which would mean no PTY at all).
    const childTty = /tty: (\S+)/.exec(text)![1]!;
    expect(childTty).not.toBe(screen.paneTty());
  });

  it("passes raw mode and typed keys, Ctrl-C included, to the child", async () => {
    const screen = open(
      run('stty raw -echo; echo ready; c=$(dd bs=1 count=1 2>/dev/null | od -An -tx1); stty sane; echo "byte:$c"; read line; echo "line: $line $K"'),
    );
    await screen.waitFor(/ready/);
    screen.type(["C-c"]); // in raw mode a byte like any other, not a signal
    await screen.waitFor(/byte: 03/);
    screen.type(["hello there"], true);
    screen.type(["Enter"]);
    const text = await screen.waitFor(/\[exit \d+\]/);
    expect(text).toMatch(/^ready\r?\n?byte: 03\nhello there\nline: hello there <authy:masked>\n\[exit 0\]$/);
  });

  it("interrupts the child with Ctrl-C in cooked mode and returns 130", async () => {
    const screen = open(run("echo ready; sleep 30"));
    await screen.waitFor(/ready/);
    screen.type(["C-c"]);
    expect(await screen.waitFor(/\[exit \d+\]/)).toMatch(/^ready\n\^C\[exit 130\]$/);
  });

  it("passes a resize of authy's terminal on to the child's", async () => {
    const screen = open(run('trap "stty size" WINCH; stty size; echo ready; while :; do sleep 0.05; done'), { cols: 80, rows: 24 });
    await screen.waitFor(/^24 80\nready/);
    screen.resize(100, 30);
    await screen.waitFor(/^30 100$/m);
    screen.type(["C-c"]);
    expect(await screen.waitFor(/\[exit \d+\]/)).toMatch(/^24 80\nready\n30 100\n\^C\[exit 130\]$/);
  });
});
