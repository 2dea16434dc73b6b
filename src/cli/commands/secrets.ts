import type { VaultClient } from "../../client/vault-client.js";
import { AuthyError, isAuthyError } from "../../errors.js";
import { readFileBounded, SECRET_VALUE_LIMIT } from "../../files/bounded-read.js";
import { parseExpiry } from "../../formats/duration.js";
import { parseReference } from "../../formats/reference.js";
import { validatePath } from "../../vault/path.js";
import { type SecretMeta, type SecretType, type SetOptions, type Tier } from "../../vault/types.js";
import { reasonOf, withApproval, type ApprovalFlags } from "../approval-wait.js";
import type { CliContext } from "../context.js";
import { confirm, promptSecret, readStdin, stdinIsTTY } from "../input.js";
import { isoTime, table } from "../output.js";
import { jsonTime, versionJson } from "../json-output.js";
import { metaJson, parseVersion, summaryJson } from "./render.js";

interface MetaFlags {
  type?: SecretType;
  tier?: Tier;
  description?: string;
  tag?: string[];
  expires?: string;
}

function setOptions(flags: MetaFlags & ApprovalFlags): SetOptions {
  const opts: SetOptions = reasonOf(flags);
  if (flags.type) opts.type = flags.type;
  if (flags.tier) opts.tier = flags.tier;
  if (flags.description !== undefined) opts.description = flags.description;
  if (flags.tag) opts.tags = flags.tag;
  if (flags.expires !== undefined) opts.expiresAt = flags.expires === "never" ? null : parseExpiry(flags.expires, Date.now());
  return opts;
}

/** Generating values needs node:crypto, which reading one through the daemon does not. */
const generator = async () => (await import("../../vault/generate.js")).generateValue;

export function parseLength(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n)) throw new AuthyError("INVALID_INPUT", `--length must be a whole number, not ${JSON.stringify(s)}`);
  return n;
}

/** Secret values never come from argv: a file, stdin when piped, or a no-echo prompt. */
async function readValue(path: string, flags: { fromFile?: string; generate?: boolean; length: string; charset: string }): Promise<Uint8Array> {
  if (flags.generate && flags.fromFile) throw new AuthyError("INVALID_INPUT", "use either --generate or --from-file, not both");
  if (flags.generate) return Buffer.from((await generator())(parseLength(flags.length), flags.charset), "utf8");
  if (flags.fromFile) return readFileBounded(flags.fromFile, SECRET_VALUE_LIMIT);
  if (!stdinIsTTY()) {
    const value = await readStdin("the value", SECRET_VALUE_LIMIT);
    if (value.length === 0)
      throw new AuthyError("INVALID_INPUT", "the value on standard input is empty", {
        hint: 'pipe the value in, e.g. `printf %s "$VALUE" | authy secrets set ns/KEY`',
      });
    return value;
  }
  const value = await promptSecret(`Value for ${path}:`);
  if (value === "") throw new AuthyError("INVALID_INPUT", "empty value");
  return Buffer.from(value, "utf8");
}

async function exists(vault: Pick<VaultClient, "history">, path: string): Promise<boolean> {
  return vault.history(path).then(
    () => true,
    (e: unknown) => {
      if (isAuthyError(e) && e.code === "NOT_FOUND") return false;
      throw e;
    },
  );
}

function saved(ctx: CliContext, meta: SecretMeta): void {
  ctx.out.result(metaJson(meta), () => "");
  ctx.out.info(`saved ${meta.path} (version ${meta.version})`);
}

export async function set(
  ctx: CliContext,
  path: string,
  flags: MetaFlags & ApprovalFlags & { fromFile?: string; generate?: boolean; length: string; charset: string },
): Promise<void> {
  validatePath(path);
  const options = setOptions(flags);
  const value = await readValue(path, flags);
  // A generated value's shape is remembered, so that `secrets rotate` can make the next one.
  if (flags.generate) options.generator = { length: parseLength(flags.length), charset: flags.charset };
  const vault = await ctx.client();
  saved(ctx, await withApproval(ctx.out, vault, flags, () => vault.setSecret(path, value, options)));
}

export async function generate(
  ctx: CliContext,
  path: string,
  flags: MetaFlags & ApprovalFlags & { length: string; charset: string; print?: boolean; force?: boolean },
): Promise<void> {
  const value = (await generator())(parseLength(flags.length), flags.charset);
  const vault = await ctx.client();
  if (!flags.force && (await exists(vault, path))) {
    throw new AuthyError("ALREADY_EXISTS", `${path} already exists; generating would replace its value`, {
      hint: "pass --force to store a new random version (the old one stays in its history)",
    });
  }
  const options: SetOptions = { ...setOptions(flags), generator: { length: parseLength(flags.length), charset: flags.charset } };
  // Writing a critical secret as a token or agent waits for the owner, as `secrets set` does.
  const meta = await withApproval(ctx.out, vault, flags, () => vault.setSecret(path, Buffer.from(value, "utf8"), options));
  if (flags.print) ctx.out.result({ ...metaJson(meta), value }, () => value);
  else saved(ctx, meta);
}

async function printValue(ctx: CliContext, path: string, flags: { revision?: string; allowExpired?: boolean } & ApprovalFlags): Promise<void> {
  const vault = await ctx.client();
  const { meta, value } = await withApproval(ctx.out, vault, flags, () =>
    vault.getSecret(path, {
      version: flags.revision === undefined ? undefined : parseVersion(flags.revision),
      allowExpired: flags.allowExpired,
      ...reasonOf(flags),
    }),
  );
  if (ctx.out.opts.json) {
    const text = Buffer.from(value).toString("utf8");
    const binary = !Buffer.from(text, "utf8").equals(Buffer.from(value));
    ctx.out.result(
      {
        ...metaJson(meta),
        version: flags.revision === undefined ? meta.version : parseVersion(flags.revision),
        ...(binary ? { valueBase64: Buffer.from(value).toString("base64") } : { value: text }),
        retrieved_at: jsonTime(Date.now()),
      },
      () => "",
    );
    return;
  }
  // Raw bytes when piped (so `$(authy secrets get …)` and binary files are exact); a newline on a terminal.
  process.stdout.write(value);
  if (process.stdout.isTTY) process.stdout.write("\n");
}

export async function get(ctx: CliContext, path: string, flags: { revision?: string; allowExpired?: boolean } & ApprovalFlags): Promise<void> {
  await printValue(ctx, path, flags);
}

export async function read(ctx: CliContext, reference: string, flags: ApprovalFlags): Promise<void> {
  await printValue(ctx, parseReference(reference).path, flags);
}

export async function list(
  ctx: CliContext,
  namespace: string | undefined,
  flags: { recursive?: boolean; deleted?: boolean; tag?: string[]; type?: SecretType; tier?: Tier },
): Promise<void> {
  const vault = await ctx.client();
  const opts = {
    namespace,
    recursive: flags.recursive || namespace === undefined,
    includeDeleted: flags.deleted,
    ...(flags.type ? { type: flags.type } : {}),
    ...(flags.tier ? { tier: flags.tier } : {}),
    ...(flags.tag?.length ? { tags: flags.tag } : {}),
  };
  if (!ctx.out.opts.json && !process.stdout.isTTY) {
    // Into a pipe or a file: one path per line, and nothing else to build.
    const paths = await vault.listSecretPaths(opts);
    ctx.out.result({}, () => paths.join("\n"));
    return;
  }
  // The table marks a requested rotation (the Agent Secret Store's bodyless rotate), which only each row says.
  const items = await vault.listSecrets(ctx.out.opts.json ? opts : { ...opts, rotation: true });
  ctx.out.result(
    () => {
      const json = items.map(summaryJson);
      // `secrets` is the Agent Secret Store CLI's name for the same list (`jq '.secrets[].key'`).
      return { namespace: namespace ?? null, items: json, secrets: json };
    },
    () => {
      if (!process.stdout.isTTY) return items.map((i) => i.path).join("\n");
      if (items.length === 0) return "";
      return table(
        ["PATH", "TYPE", "TIER", "VERSION", "UPDATED"],
        items.map((i) => [
          i.deletedAt !== null ? `${i.path} (deleted)` : i.rotationPending ? `${i.path} (rotation pending)` : i.path,
          i.type,
          i.tier,
          String(i.version),
          isoTime(i.updatedAt),
        ]),
      );
    },
  );
}

export async function remove(ctx: CliContext, path: string, flags: ApprovalFlags & { yes?: boolean; purge?: boolean }): Promise<void> {
  if (!flags.yes) {
    if (!stdinIsTTY()) throw new AuthyError("INVALID_INPUT", `refusing to delete ${path} without confirmation`, { hint: "pass --yes" });
    const what = flags.purge ? `Erase ${path} and all its versions for good?` : `Delete ${path}?`;
    if (!(await confirm(what))) throw new AuthyError("INTERRUPTED", "nothing deleted");
  }
  const vault = await ctx.client();
  // A token's or agent's delete of a critical secret waits for the owner's approval, as a write does.
  const opts = { ...(flags.purge ? { purge: true } : {}), ...reasonOf(flags) };
  const meta = await withApproval(ctx.out, vault, flags, () => vault.deleteSecret(path, opts));
  ctx.out.result({ ...metaJson(meta), purged: Boolean(flags.purge) }, () => "");
  ctx.out.info(flags.purge ? `purged ${meta.path}` : `deleted ${meta.path} (undo with \`authy secrets restore ${meta.path}\`)`);
}

export async function restore(ctx: CliContext, path: string): Promise<void> {
  const vault = await ctx.client();
  const meta = await vault.restoreSecret(path);
  ctx.out.result(metaJson(meta), () => "");
  ctx.out.info(`restored ${meta.path}`);
}

export async function history(ctx: CliContext, path: string): Promise<void> {
  const vault = await ctx.client();
  const { meta, versions } = await vault.history(path);
  ctx.out.result({ path: meta.path, versions: versions.map(versionJson) }, () =>
    table(
      ["VERSION", "CREATED", "BY", "TYPE", "TIER", ""],
      versions.map((v) => [String(v.version), isoTime(v.createdAt), v.actor, v.type, v.tier, v.current ? "current" : ""]),
    ),
  );
}

export async function rollback(ctx: CliContext, path: string, version: string, flags: ApprovalFlags): Promise<void> {
  const vault = await ctx.client();
  const n = parseVersion(version);
  const meta = await withApproval(ctx.out, vault, flags, () => vault.rollback(path, n, reasonOf(flags)));
  ctx.out.result(metaJson(meta), () => "");
  ctx.out.info(`${meta.path} now holds the value of version ${version} (as version ${meta.version})`);
}
