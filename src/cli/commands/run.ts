import path from "node:path";
import { AuthyError } from "../../errors.js";
import { DOTENV_LIMIT, readFileBounded } from "../../files/bounded-read.js";
import { dotenvText, parseDotenv, serializeDotenv } from "../../formats/dotenv.js";
import { isReference, parseReference } from "../../formats/reference.js";
import { buildChildEnv, checkInjectedName, createMasker, runChild, writeMountFile } from "../../run/index.js";
import { RUN_CHILD_VAR } from "../../run/env.js";
import type { EnvReference } from "../../vault/dispatch.js";
import { withApproval, type ApprovalFlags } from "../approval-wait.js";
import type { CliContext } from "../context.js";
import { grantSource, runDispatch, runEnd } from "../run-dispatch.js";
import { sandboxRequest, startSandbox, type PassedToken, type SandboxFlags, type StartedSandbox } from "./run-sandbox.js";

interface RunFlags extends SandboxFlags, ApprovalFlags {
  scope?: string;
  envFile?: string[];
  env?: string[];
  only?: string;
  allowEnv?: string[];
  mask: boolean;
  tty: boolean;
  mount?: string;
  passToken?: boolean;
  command?: string;
}

/** `--command "…"` runs through /bin/sh -c, as doppler's does; `-- CMD…` runs CMD itself. */
function commandLine(argv: string[], line: string | undefined): string[] {
  if (line === undefined) return argv;
  if (argv.length > 0) throw new AuthyError("INVALID_INPUT", "give the command either after -- or with --command, not both");
  if (line.trim() === "")
    throw new AuthyError("INVALID_INPUT", "--command is empty", { hint: 'authy run --scope deploy --command "./deploy.sh && ./notify.sh"' });
  return ["/bin/sh", "-c", line];
}

/**
 * What to inject, from --env NAME=authy://… and --env-file files (plain values pass through),
 * and where each name came from. Every name is checked here, before the vault is asked for
 * anything: a dangerous one is refused naming its file and line, whether its value is a
 * reference or plain text.
 */
async function collectReferences(flags: RunFlags): Promise<{ refs: EnvReference[]; plain: Map<string, string>; sources: Map<string, string> }> {
  const refs: EnvReference[] = [];
  const plain = new Map<string, string>();
  const sources = new Map<string, string>();
  for (const file of flags.envFile ?? []) {
    const text = dotenvText(await readFileBounded(file, DOTENV_LIMIT), file);
    for (const e of parseDotenv(text, { source: file })) {
      const source = `${file}:${e.line}`;
      checkInjectedName(e.key, source, flags.allowEnv);
      sources.set(e.key, source);
      if (isReference(e.value)) refs.push({ name: e.key, path: parseReference(e.value).path, source });
      else plain.set(e.key, e.value);
    }
  }
  for (const spec of flags.env ?? []) {
    const eq = spec.indexOf("=");
    if (eq <= 0) throw new AuthyError("INVALID_INPUT", `--env takes NAME=authy://namespace/KEY, not ${JSON.stringify(spec.slice(0, 60))}`);
    const value = spec.slice(eq + 1);
    if (!isReference(value))
      throw new AuthyError("INVALID_INPUT", `--env ${spec.slice(0, eq)}: the value must be an authy:// reference`, {
        hint: "secret values never go on the command line",
      });
    const name = spec.slice(0, eq);
    checkInjectedName(name, "--env", flags.allowEnv);
    sources.set(name, "--env");
    refs.push({ name, path: parseReference(value).path, source: "--env" });
  }
  return { refs, plain, sources };
}

/** How long the token `run --pass-token` gives a child on a team server lives at most (revoked at the run's end). */
const SERVER_RUN_TOKEN_TTL_MS = 60 * 60_000;

/**
 * `authy run -- CMD…`: resolve what the scope and references allow (audited as run.start
 * before any value is released), start the child with a scrubbed environment and masked
 * output, and return its exit status.
 */
export async function run(ctx: CliContext, command: string[], flags: RunFlags): Promise<number> {
  const [program, ...args] = commandLine(command, flags.command);
  if (!program)
    throw new AuthyError("INVALID_INPUT", "no command to run", { hint: 'authy run --scope deploy -- ./deploy.sh, or --command "…" for a shell line' });
  if (flags.passToken && process.env.AUTHY_SOCKET) {
    // Inside a sandboxed run, whose processes the daemon cannot see: a token bound to them cannot be checked.
    throw new AuthyError("INVALID_INPUT", "--pass-token does not work inside a sandboxed run", {
      hint: "leave out --pass-token: this run's own token still works here",
    });
  }
  // A token or agent without any of these runs with its own scope (the core decides).
  const credential = Boolean(process.env.AUTHY_TOKEN || process.env.AUTHY_AGENT_KEY);
  if (!flags.scope && !flags.envFile?.length && !flags.env?.length && !credential) {
    throw new AuthyError("INVALID_INPUT", "nothing to inject: give --scope, --env-file or --env");
  }
  // Before any value or token arrives: the child cannot read this process's memory or
  // environment, nor write to its descriptors (/proc/$PPID/fd/1, past the masker).
  (await import("../../os/native.js")).protectProcess();
  const { refs, plain, sources } = await collectReferences(flags);
  const boxed = sandboxRequest(ctx, flags);
  const only = flags.only
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const client = await ctx.client();
  const ownScope = !flags.scope && refs.length === 0;
  const request = runDispatch({ scope: flags.scope, refs, only, program, reason: flags.reason, ownScope, sandbox: boxed?.request });
  const dispatched = await withApproval(ctx.out, client, flags, () => client.dispatch(request));
  const named = new Set(refs.map((r) => r.name));
  if (dispatched.scope !== null && !dispatched.secrets.some((s) => !named.has(s.name))) {
    ctx.out.warn(`scope ${dispatched.scope} gives the command no secret: it matches none that this caller may read`);
  }
  const values = new Map(plain);
  for (const s of dispatched.secrets) {
    values.set(s.name, s.value);
    if (!sources.has(s.name)) sources.set(s.name, grantSource(s, dispatched.scope));
  }
  const passThrough: string[] = [];
  let tokenId: string | null = null;
  let passed: PassedToken | undefined;
  const server = ctx.server();
  if (flags.passToken && server) {
    // A team server cannot see this machine's processes: the child gets a plain token of the
    // run's scope, short-lived and revoked when the run ends, and the server's address.
    if (boxed)
      throw new AuthyError("INVALID_INPUT", "--sandbox --pass-token works with the local daemon, not with a team server", { hint: "leave out one of them" });
    const issued = await client.issueToken({ scope: flags.scope, label: `run ${path.basename(program)}`, ttlMs: SERVER_RUN_TOKEN_TTL_MS });
    values.set("AUTHY_TOKEN", issued.token);
    tokenId = issued.id;
  } else if (flags.passToken) {
    // For this run's child and its descendants only (daemon/process-tokens.ts), bound to it once
    // started. In the sandbox, for this process alone, which relays the child's requests from
    // the run's own socket (run/run-socket.ts): the daemon cannot see the sandbox's processes.
    const issued = await client.issueToken({
      scope: flags.scope,
      label: `run ${path.basename(program)}`,
      pid: process.pid,
      processTree: true,
      relayed: Boolean(boxed),
    });
    values.set("AUTHY_TOKEN", issued.token);
    tokenId = issued.id;
    if (boxed) passed = { token: issued.token, daemonSocket: (await import("../../daemon/paths.js")).daemonPaths(ctx.home).socket };
  }
  let sandbox: StartedSandbox | null = null;
  let result;
  try {
    const env = buildChildEnv(process.env, values, { allow: flags.allowEnv, passThrough, sources });
    if (flags.passToken) env.AUTHY_TOKEN = values.get("AUTHY_TOKEN")!;
    if (flags.passToken && server) {
      env.AUTHY_API_URL = server.url;
      if (process.env.AUTHY_INSECURE_HTTP) env.AUTHY_INSECURE_HTTP = process.env.AUTHY_INSECURE_HTTP;
    }
    env[RUN_CHILD_VAR] = "1";
    const masker = flags.mask ? createMasker(dispatched.secrets.map((s) => s.value)) : null;
    if (masker && masker.unmasked.length > 0) {
      ctx.out.warn(`too short to mask safely, not masked: ${masker.unmasked.map((i) => dispatched.secrets[i]!.name).join(", ")}`);
    }
    if (boxed) {
      // The scope's defaults come back with the dispatch; never run unsandboxed when asked not to.
      sandbox = await startSandbox(ctx, client, dispatched.sandbox ?? boxed.request, boxed.bwrap, dispatched.scope ?? path.basename(program), passed);
      Object.assign(env, sandbox.env);
    }
    const cleanupFiles: string[] = [...(sandbox?.cleanup.files ?? [])];
    if (flags.mount) {
      writeMountFile(flags.mount, serializeDotenv(dispatched.secrets.map((s) => ({ key: s.name, value: s.value }))));
      cleanupFiles.push(path.resolve(flags.mount));
    }
    const started = sandbox;
    result = await runChild({
      command: program,
      args,
      env,
      masker,
      pty: flags.tty && Boolean(process.stdout.isTTY) && Boolean(process.stdin.isTTY),
      cleanupFiles,
      cleanupDirs: started?.cleanup.dirs ?? [],
      onStart: async (pid: number) => {
        started?.started(pid);
        if (tokenId && !server) await client.bindToken(tokenId, pid);
      },
      onDiagnostic: (m) => process.stderr.write(`authy: ${m}\n`),
      ...(started ? { wrap: started.wrap } : {}),
    });
  } finally {
    await sandbox?.close();
    if (tokenId) await client.revokeToken(tokenId).catch(() => undefined);
  }
  // Recorded with the run's ticket, for every caller: a token's run too, even once it is spent.
  await client.endRun(dispatched.ticket, runEnd(result)).catch((e: unknown) => ctx.out.warn(`could not record run.end: ${(e as Error).message}`));
  return result.exitCode;
}
