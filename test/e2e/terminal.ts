import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { baseEnv, CLI } from "./cli.js";

/**
 * A real terminal for end-to-end tests: a tmux server of its own (its own socket, no user
 * configuration) running one shell script in a detached session of a given size. The test
 * types into it, resizes it and reads its screen, as a person would.
 */

/** How long a test waits for the screen to show what it expects (start-up, scrypt, the child). */
const SCREEN_TIMEOUT_MS = 15_000;
const POLL_MS = 50;

export const hasTmux = spawnSync("tmux", ["-V"], { stdio: "ignore" }).status === 0;

let sessions = 0;

export class Terminal {
  private readonly socket = `authy-test-${process.pid}-${++sessions}`;

  /**
   * Starts `script` (shell text) on a new terminal of cols x rows, with `authy` meaning the
   * built CLI and the environment of baseEnv(home) plus `env`. When the script ends, the
   * terminal shows `[exit N]` with the status of its last command and stays open.
   */
  constructor(dir: string, home: string, script: string, opts: { env?: Record<string, string>; cols?: number; rows?: number } = {}) {
    const file = path.join(dir, `terminal-${sessions}.sh`);
    const authy = `authy() { "${process.execPath}" "${CLI}" "$@"; }`;
    writeFileSync(file, `${authy}\n${script}\nprintf '[exit %d]' $?\nexec sleep 600\n`, { mode: 0o700 });
    const env: Record<string, string> = { ...baseEnv(home), ...opts.env, TERM: "xterm-256color" };
    delete env.NO_COLOR;
    delete env.TMUX;
    const size = ["-x", String(opts.cols ?? 80), "-y", String(opts.rows ?? 24)];
    this.tmux(["-f", "/dev/null", "new-session", "-d", "-s", "t", ...size, `sh ${file}`], env);
  }

  private tmux(args: string[], env?: NodeJS.ProcessEnv): string {
    return execFileSync("tmux", ["-L", this.socket, ...args], { env: env ?? process.env, encoding: "utf8" });
  }

  /** The screen's text, trailing blank lines dropped; with `escapes`, colours and attributes kept. */
  screen(escapes = false): string {
    const text = this.tmux(["capture-pane", "-p", "-J", ...(escapes ? ["-e"] : []), "-t", "t"]);
    return text.replace(/\n+$/, "");
  }

  /** Waits until the screen matches, and returns it; fails with the screen as it was. */
  async waitFor(pattern: RegExp, escapes = false): Promise<string> {
    const deadline = Date.now() + SCREEN_TIMEOUT_MS;
    let text = "";
    while (Date.now() < deadline) {
      text = this.screen(escapes);
      if (pattern.test(text)) return text;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    throw new Error(`the terminal never showed ${String(pattern)}; it shows:\n${text}`);
  }

  /** Types keys (tmux key names such as Enter or C-c; `literal` sends the text as it is). */
  type(keys: string[], literal = false): void {
    this.tmux(["send-keys", "-t", "t", ...(literal ? ["-l"] : []), ...keys]);
  }

  resize(cols: number, rows: number): void {
    this.tmux(["resize-window", "-t", "t", "-x", String(cols), "-y", String(rows)]);
  }

  /** The terminal device of the session itself (what authy's stdin and stdout are). */
  paneTty(): string {
    return this.tmux(["display-message", "-p", "-t", "t", "#{pane_tty}"]).trim();
  }

  close(): void {
    spawnSync("tmux", ["-L", this.socket, "kill-server"], { stdio: "ignore" });
  }
}
