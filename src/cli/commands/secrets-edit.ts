import { spawn } from "node:child_process";
import os from "node:os";
import { AuthyError } from "../../errors.js";
import { readFileBounded, SECRET_VALUE_LIMIT } from "../../files/bounded-read.js";
import { createPrivateTemp } from "../../files/private-temp.js";
import { validatePath } from "../../vault/path.js";
import { utf8Text } from "../../vault/utf8-text.js";
import { reasonOf, withApproval, type ApprovalFlags } from "../approval-wait.js";
import type { CliContext } from "../context.js";
import { metaJson } from "./render.js";

/** The editor, as the brief and most tools read it: $EDITOR, then $VISUAL, then vi. */
function editorCommand(env: NodeJS.ProcessEnv): string {
  return env.EDITOR?.trim() || env.VISUAL?.trim() || "vi";
}

/** Signals that end an edit: the file is removed and the editor told, nothing stored. */
const ENDING_SIGNALS = ["SIGTERM", "SIGHUP"] as const;

/**
 * Runs the editor on `file` as git does (`sh -c '$EDITOR "$1"'`, so EDITOR="code --wait" works),
 * without authy's credentials in its environment. Ctrl-C belongs to the editor while it runs.
 */
function runEditor(editor: string, file: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AUTHY_")) env[k] = v;
  // exec: the shell becomes the editor, so a signal forwarded to the child reaches the editor itself.
  const child = spawn("/bin/sh", ["-c", `exec ${editor} "$1"`, "sh", file], { stdio: "inherit", env });
  const ignoreInterrupt = () => undefined;
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", ignoreInterrupt);
  for (const s of ENDING_SIGNALS) process.on(s, forward);
  return new Promise((resolve, reject) => {
    const done = () => {
      process.off("SIGINT", ignoreInterrupt);
      for (const s of ENDING_SIGNALS) process.off(s, forward);
    };
    child.on("error", (e) => {
      done();
      reject(new AuthyError("INVALID_INPUT", `cannot start the editor ${JSON.stringify(editor)}: ${e.message}`));
    });
    child.on("exit", (code, signal) => {
      done();
      resolve({ code, signal });
    });
  });
}

/**
 * `authy secrets edit PATH`: the value in $EDITOR, from a 0600 file in memory-backed storage
 * (removed afterwards, whatever happens), and a new version only if it changed.
 */
export async function edit(ctx: CliContext, path: string, flags: ApprovalFlags): Promise<number> {
  const p = validatePath(path);
  const vault = await ctx.client();
  const reason = reasonOf(flags);
  const { value } = await withApproval(ctx.out, vault, flags, () => vault.getSecret(p.path, reason));
  if (utf8Text(value) === null) {
    value.fill(0);
    throw new AuthyError("INVALID_INPUT", `${p.path} holds binary data, which an editor would corrupt`, {
      hint: "write it with `authy secrets set --from-file`",
    });
  }
  const temp = createPrivateTemp(p.key, value);
  const removeAtExit = () => temp.remove();
  process.on("exit", removeAtExit);
  let edited: Uint8Array;
  try {
    if (!temp.memoryBacked)
      ctx.out.warn(`no memory-backed directory ($XDG_RUNTIME_DIR or /dev/shm): the value is in ${os.tmpdir()} while you edit (removed afterwards)`);
    const editor = editorCommand(process.env);
    const ended = await runEditor(editor, temp.file);
    if (ended.code !== 0) {
      const status = ended.signal ? 128 + os.constants.signals[ended.signal] : (ended.code ?? 1);
      process.stderr.write(`authy: the editor (${editor}) ${ended.signal ? `was stopped by ${ended.signal}` : `exited with ${status}`}; nothing stored\n`);
      return status;
    }
    edited = await readFileBounded(temp.file, SECRET_VALUE_LIMIT);
  } finally {
    temp.remove();
    process.off("exit", removeAtExit);
  }
  const updated = withoutAddedNewline(value, edited);
  try {
    if (Buffer.from(updated).equals(Buffer.from(value))) {
      ctx.out.result({ path: p.path, changed: false }, () => "");
      ctx.out.info(`${p.path}: no change, nothing stored`);
      return 0;
    }
    if (updated.length === 0)
      throw new AuthyError("INVALID_INPUT", "the edited value is empty: nothing stored", { hint: `to delete the secret: authy secrets delete ${p.path}` });
    const meta = await withApproval(ctx.out, vault, flags, () => vault.setSecret(p.path, updated, reason));
    ctx.out.result({ ...metaJson(meta), changed: true }, () => "");
    ctx.out.info(`saved ${meta.path} (version ${meta.version})`);
    return 0;
  } finally {
    value.fill(0);
    edited.fill(0);
  }
}

/**
 * Editors end a saved file with a newline; a value that had none (most keys and tokens) would
 * otherwise change on every save. One trailing newline the original lacked is taken off.
 */
function withoutAddedNewline(original: Uint8Array, edited: Uint8Array): Uint8Array {
  const lf = 0x0a;
  if (original[original.length - 1] === lf || edited[edited.length - 1] !== lf) return edited;
  const cut = edited[edited.length - 2] === 0x0d ? 2 : 1;
  return edited.subarray(0, edited.length - cut);
}
