import path from "node:path";
import { AuthyError } from "../../errors.js";
import { readFileChecked } from "../../files/atomic-write.js";
import { parseDotenv, serializeDotenv } from "../../formats/dotenv.js";
import { isReference, parseReference } from "../../formats/reference.js";
import { buildChildEnv, createMasker, runChild, writeMountFile } from "../../run/index.js";
import type { EnvReference } from "../../vault/dispatch.js";
import type { CliContext } from "../context.js";

/** An --env-file larger than this is not one. */
const MAX_ENV_FILE_BYTES = 4 * 1024 * 1024;

export interface RunFlags {
  scope?: string;
  envFile?: string[];
  env?: string[];
  only?: string;
  allowEnv?: string[];
  mask: boolean;
  tty: boolean;
  mount?: string;
  passToken?: boolean;
}

/** What to inject, from --env NAME=authy://… and --env-file files (plain values pass through). */
async function collectReferences(flags: RunFlags): Promise<{ refs: EnvReference[]; plain: Map<string, string> }> {
  const refs: EnvReference[] = [];
  const plain = new Map<string, string>();
  for (const file of flags.envFile ?? []) {
    const text = (await readFileChecked(file, MAX_ENV_FILE_BYTES)).toString("utf8");
    for (const e of parseDotenv(text, { source: file })) {
      if (isReference(e.value)) refs.push({ name: e.key, path: parseReference(e.value).path, source: `${file}:${e.line}` });
      else plain.set(e.key, e.value);
    }
  }
  for (const spec of flags.env ?? []) {
    const eq = spec.indexOf("=");
    if (eq <= 0) throw new AuthyError("INVALID_INPUT", `--env takes NAME=authy://namespace/KEY, not ${JSON.stringify(spec.slice(0, 60))}`);
    const value = spec.slice(eq + 1);
    if (!isReference(value)) throw new AuthyError("INVALID_INPUT", `--env ${spec.slice(0, eq)}: the value must be an authy:// reference`, { hint: "secret values never go on the command line" });
    refs.push({ name: spec.slice(0, eq), path: parseReference(value).path, source: "--env" });
  }
  return { refs, plain };
}

/**
 * `authy run -- CMD…`: resolve what the scope and references allow (audited as run.start
 * before any value is released), start the child with a scrubbed environment and masked
 * output, and return its exit status.
 */
export async function run(ctx: CliContext, command: string[], flags: RunFlags): Promise<number> {
  const [program, ...args] = command;
  if (!program) throw new AuthyError("INVALID_INPUT", "no command to run", { hint: "authy run --scope deploy -- ./deploy.sh" });
  if (!flags.scope && !flags.envFile?.length && !flags.env?.length) {
    throw new AuthyError("INVALID_INPUT", "nothing to inject: give --scope, --env-file or --env");
  }
  // Before any value or token arrives: the child cannot read this process's memory or
  // environment, nor write to its descriptors (/proc/$PPID/fd/1, past the masker).
  (await import("../../os/native.js")).protectProcess();
  const { refs, plain } = await collectReferences(flags);
  const only = flags.only?.split(",").map((s) => s.trim()).filter(Boolean);
  const client = await ctx.client();
  const dispatched = await client.dispatch({ scope: flags.scope, refs, only, command: path.basename(program), details: { pid: process.pid } });
  const values = new Map(plain);
  for (const s of dispatched.secrets) values.set(s.name, s.value);
  const passThrough: string[] = [];
  let tokenId: string | null = null;
  if (flags.passToken) {
    // For this run's child and its descendants only (daemon/process-tokens.ts), bound to it once started.
    const issued = await client.issueToken({ scope: flags.scope, label: `run ${path.basename(program)}`, pid: process.pid, processTree: true });
    values.set("AUTHY_TOKEN", issued.token);
    tokenId = issued.id;
  }
  const env = buildChildEnv(process.env, values, { allow: flags.allowEnv, passThrough });
  if (flags.passToken) env.AUTHY_TOKEN = values.get("AUTHY_TOKEN")!;
  const masker = flags.mask ? createMasker(dispatched.secrets.map((s) => s.value)) : null;
  if (masker && masker.unmasked.length > 0) {
    ctx.out.warn(`too short to mask safely, not masked: ${masker.unmasked.map((i) => dispatched.secrets[i]!.name).join(", ")}`);
  }
  const cleanupFiles: string[] = [];
  if (flags.mount) {
    writeMountFile(flags.mount, serializeDotenv(dispatched.secrets.map((s) => ({ key: s.name, value: s.value }))));
    cleanupFiles.push(path.resolve(flags.mount));
  }
  let result;
  try {
    result = await runChild({
      command: program,
      args,
      env,
      masker,
      pty: flags.tty && Boolean(process.stdout.isTTY) && Boolean(process.stdin.isTTY),
      cleanupFiles,
      ...(tokenId ? { onStart: (pid: number) => client.bindToken(tokenId!, pid) } : {}),
      onDiagnostic: (m) => process.stderr.write(`authy: ${m}\n`),
    });
  } finally {
    if (tokenId) await client.revokeToken(tokenId).catch(() => undefined);
  }
  await client
    .recordEvent("run.end", dispatched.scope ?? path.basename(program), {
      command: path.basename(program),
      exitCode: result.exitCode,
      signal: result.signal,
      durationMs: Math.round(result.durationMs),
      pid: process.pid,
    })
    .catch((e: unknown) => ctx.out.warn(`could not record run.end: ${(e as Error).message}`));
  return result.exitCode;
}
