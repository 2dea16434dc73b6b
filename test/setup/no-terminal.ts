import koffi from "koffi";

/**
 * The tests run without a controlling terminal, as CI jobs and agents do. authy asks for a
 * passphrase on /dev/tty when its standard input is a pipe (src/cli/input.ts), so a test that
 * starts the CLI without a credential would otherwise put a prompt on the developer's screen
 * and wait there. setsid() takes this process, and every worker and CLI it starts, out of the
 * terminal's session; the tests that want a terminal make their own (tmux, test/e2e/terminal.ts).
 */
export default function leaveTerminal(): void {
  const setsid = koffi.load("libc.so.6").func("int setsid(void)") as () => number;
  // -1 (EPERM) only for a process group leader, which `npm test` never starts vitest as.
  if (setsid() === -1 && process.stdin.isTTY) {
    process.stderr.write("authy tests: vitest leads its process group and keeps the terminal: run it with `npm test`\n");
  }
}
