import { closeSync, openSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { AuthyError } from "../errors.js";
import { readStreamBounded, type InputLimit } from "../files/bounded-read.js";

/** The most authy reads from standard input when the caller names no limit of its own. */
const MAX_STDIN_BYTES = 64 * 1024 * 1024;

let consumed = false;

/** Reads all of standard input once, up to `limit`; a second caller gets an error rather than nothing. */
export async function readStdin(what: string, limit: InputLimit = { what, bytes: MAX_STDIN_BYTES }): Promise<Buffer> {
  if (consumed)
    throw new AuthyError("INVALID_INPUT", `standard input was already used; cannot also read ${what} from it`, {
      hint: "pass the passphrase with AUTHY_PASSPHRASE_FILE, or the value with --from-file",
    });
  consumed = true;
  return readStreamBounded(process.stdin, "standard input", limit);
}

export function stdinIsTTY(): boolean {
  return Boolean(process.stdin.isTTY);
}

/** A passphrase ends at the first line break (so `echo pass |` works); nothing else is trimmed. */
export function firstLine(buf: Buffer): string {
  const text = buf.toString("utf8");
  const nl = text.search(/\r?\n/);
  return nl === -1 ? text : text.slice(0, nl);
}

/**
 * The controlling terminal. When standard input is not a terminal (the value is piped in), the
 * passphrase is asked here, as ssh, sudo, gpg and pass do; opening it fails (ENXIO) in a
 * process without one (CI, an agent, setsid).
 */
const CONTROLLING_TERMINAL = "/dev/tty";

function openControllingTerminal(): number | null {
  try {
    return openSync(CONTROLLING_TERMINAL, "r+");
  } catch {
    return null;
  }
}

/** Whether a prompt can be answered: standard input is a terminal, or the process has a controlling one. */
export function canPrompt(): boolean {
  if (process.stdin.isTTY) return true;
  const fd = openControllingTerminal();
  if (fd === null) return false;
  closeSync(fd);
  return true;
}

/** Where a prompt is asked and answered; close() releases what was opened for it. */
interface PromptTerminal {
  input: Readable;
  output: Writable;
  close(): void;
}

/**
 * Standard input (the prompt on stderr) when it is a terminal; else the controlling terminal,
 * read and written directly, so piped standard input stays the command's own; null when there
 * is neither. Its streams must be closed, or the open terminal keeps the process from exiting.
 */
async function promptTerminal(): Promise<PromptTerminal | null> {
  if (process.stdin.isTTY) return { input: process.stdin, output: process.stderr, close() {} };
  const inFd = openControllingTerminal();
  if (inFd === null) return null;
  const outFd = openControllingTerminal();
  if (outFd === null) {
    closeSync(inFd);
    return null;
  }
  // One descriptor per stream: each closes its own when destroyed.
  const { ReadStream, WriteStream } = await import("node:tty");
  const input = new ReadStream(inFd);
  const output = new WriteStream(outFd);
  return {
    input,
    output,
    close() {
      input.destroy();
      output.destroy();
    },
  };
}

/** A no-echo prompt on the terminal (see promptTerminal); Ctrl-C cancels. */
export async function promptSecret(message: string): Promise<string> {
  const terminal = await promptTerminal();
  if (!terminal) {
    throw new AuthyError("LOCKED", `${message.replace(/:$/, "")} is needed and there is no terminal to ask on`, {
      hint: "set AUTHY_PASSPHRASE or AUTHY_PASSPHRASE_FILE, pass --passphrase-stdin, or use AUTHY_IDENTITY",
    });
  }
  try {
    const { password, isCancel } = await import("@clack/prompts");
    const answer = await password({ message, input: terminal.input, output: terminal.output, withGuide: false });
    if (isCancel(answer)) throw new AuthyError("INTERRUPTED", "cancelled");
    return answer;
  } finally {
    terminal.close();
  }
}

/**
 * A yes/no question for something that cannot be undone: the answer is No unless a whole line
 * `y` or `yes` is typed and Enter pressed, so one stray key (an arrow, y, Enter) cannot turn it
 * into a Yes. Ctrl-C cancels.
 */
export async function confirm(message: string): Promise<boolean> {
  const { createInterface } = await import("node:readline");
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: Boolean(process.stdin.isTTY) });
  try {
    return await new Promise<boolean>((resolve, reject) => {
      rl.once("SIGINT", () => reject(new AuthyError("INTERRUPTED", "cancelled")));
      rl.once("close", () => resolve(false)); // Ctrl-D or end of input: No
      rl.question(`${message} [y/N] `, (answer) => resolve(/^(y|yes)$/i.test(answer.trim())));
    });
  } finally {
    rl.close();
  }
}
