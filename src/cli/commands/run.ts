import path from "node:path";
import { AuthyError } from "../../errors.js";
import { readFileChecked } from "../../files/atomic-write.js";
import { parseDotenv, serializeDotenv } from "../../formats/dotenv.js";
import { isReference, parseReference } from "../../formats/reference.js";
import { buildChildEnv, createMasker, runChild, writeMountFile } from "../../run/index.js";
import type { EnvReference } from "../../vault/dispatch.js";
import { withApproval, type ApprovalFlags } from "../approval-wait.js";
import type { CliContext } from "../context.js";

/** An --env-file larger than this is not one. */
const MAX_ENV_FILE_BYTES = 4 * 1024 * 1024;

export interface RunFlags extends ApprovalFlags {
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
  // A token or agent without any of these runs with its own scope (the core decides).
  const credential = Boolean(process.env.AUTHY_TOKEN || process.env.AUTHY_AGENT_KEY);
  if (!flags.scope && !flags.envFile?.length && !flags.env?.length && !credential) {
    throw new AuthyError("INVALID_INPUT", "nothing to inject: give --scope, --env-file or --env");
  }
  const { refs, plain } = await collectReferences(flags);
  const only = flags.only?.split(",").map((s) => s.trim()).filter(Boolean);
  const client = await ctx.client();
  const ownScope = !flags.scope && refs.length === 0;
  const request = { scope: flags.scope, refs, only, command: path.basename(program), details: { pid: process.pid }, reason: flags.reason, ownScope };
  const dispatched = await withApproval(ctx.out, client, flags, () => client.dispatch(request));
  const named = new Set(refs.map((r) => r.name));
  if (dispatched.scope !== null && !dispatched.secrets.some((s) => !named.has(s.name))) {
    ctx.out.warn(`scope ${dispatched.scope} gives the command no secret: it matches none that this caller may read`);
  }
  const values = new Map(plain);
  for (const s of dispatched.secrets) values.set(s.name, s.value);
  const passThrough: string[] = [];
  let tokenId: string | null = null;
  if (flags.passToken) {
    const issued = await client.issueToken({ scope: flags.scope, label: `run ${path.basename(program)}`, pid: process.pid });
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
