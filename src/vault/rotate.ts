import { AuthyError, isAuthyError } from "../errors.js";
import { authorize, mayRead } from "./access.js";
import { needsApproval, principalOf } from "./approval-rows.js";
import { approvalRequired, passApprovals, writeNeed } from "./approvals.js";
import { audit, tryAudit } from "./audit-log.js";
import type { VaultContext } from "./context.js";
import { validatePath } from "./path.js";
import { generateWith, type Generator } from "./secret-attributes.js";
import { requestRotation } from "./rotation-request.js";
import { checkListingBefore, liveSecretIn, refreshListing, writeVersion } from "./secrets.js";
import type { SecretMeta } from "./types.js";

export interface RotateOptions {
  /**
   * Give the secret a generator, or change the remembered one: what is not given is taken from
   * the remembered generator, else 32 characters of alnum (as `secrets generate`). Remembered.
   */
  generator?: Partial<Generator>;
  /**
   * Return the new value (`--show`); otherwise it never leaves the core. `if-allowed`: only when
   * the caller could read it anyway (the owner; a scope with `read` on a standard secret),
   * silently otherwise (the Agent Secret Store's rotate shows a new value when there is one).
   */
  reveal?: boolean | "if-allowed";
  /**
   * A secret without a generator (and none given) is flagged rotation-pending and the owner
   * notified (rotation-request.ts), instead of refused: the bodyless rotate over the API.
   */
  orRequest?: boolean;
  /** Why, shown to the owner when writing a critical secret needs an approval. */
  reason?: string;
}

export interface Rotated {
  meta: SecretMeta;
  /** Only when revealed. */
  value?: string;
}

/** What `secrets generate` makes when not told otherwise. */
const DEFAULT_GENERATOR: Generator = { length: 32, charset: "alnum" };

function noGenerator(path: string): AuthyError {
  return new AuthyError("INVALID_INPUT", `${path} has no generator: its value was set by hand, so authy cannot make a new one of the same kind`, {
    hint: `give it one: \`authy secrets rotate ${path} --length 32 --charset alnum\` (remembered for the next rotation), or set a new value with \`authy secrets set ${path}\``,
  });
}

/**
 * A new random value for a secret from its remembered generator (or the one given, which is
 * then remembered), as a new version keeping every other attribute. Gated by the `rotate`
 * capability and audited as `secret.rotate`. A caller other than the owner sees the value only
 * with `read` on the path too, and only for a standard-tier secret (reading a sensitive one
 * needs an approval, which `secrets get` asks for).
 */
export async function rotateSecret(ctx: VaultContext, path: string, opts: RotateOptions = {}): Promise<Rotated> {
  try {
    return await rotate(ctx, path, opts);
  } catch (e) {
    // A rotation of a name that does not exist is a probe, written down like a read's.
    if (isAuthyError(e) && e.code === "NOT_FOUND") await tryAudit(ctx, "secret.rotate", validatePath(path).path, { error: e.code }, "error");
    throw e;
  }
}

async function rotate(ctx: VaultContext, path: string, opts: RotateOptions): Promise<Rotated> {
  const p = validatePath(path);
  await authorize(ctx, p.path, "rotate", "secret.rotate");
  if (opts.reveal === true) await authorize(ctx, p.path, "read", "secret.rotate");
  const done = await ctx.store.write(async (tx) => {
    await checkListingBefore(tx, ctx);
    const { row, meta } = await liveSecretIn(tx, ctx, p.path);
    const given = opts.generator && (opts.generator.length !== undefined || opts.generator.charset !== undefined) ? opts.generator : null;
    if (!given && !meta.generator) {
      if (opts.orRequest) return { ok: "request" as const };
      throw noGenerator(p.path);
    }
    const generator: Generator = {
      length: given?.length ?? meta.generator?.length ?? DEFAULT_GENERATOR.length,
      charset: given?.charset ?? meta.generator?.charset ?? DEFAULT_GENERATOR.charset,
    };
    const reveal =
      opts.reveal === "if-allowed"
        ? mayRead(ctx, p.path) && (principalOf(ctx.actor) === null || !needsApproval(meta.tier, "secret.read"))
        : opts.reveal === true;
    if (opts.reveal === true && principalOf(ctx.actor) !== null && needsApproval(meta.tier, "secret.read")) {
      throw new AuthyError("ACCESS_DENIED", `${p.path} is ${meta.tier}: its value is shown only after the owner's approval`, {
        hint: `rotate it without --show, then read it with \`authy secrets get ${p.path}\` (which asks for the approval)`,
      });
    }
    const value = generateWith(generator);
    const gate = await passApprovals(tx, ctx, [await writeNeed(tx, ctx, p.path)], opts.reason);
    if (!gate.ok) return gate;
    const updated = await writeVersion(tx, ctx, p.path, Buffer.from(value, "utf8"), { generator }, ctx.clock.now(), row);
    await refreshListing(tx, ctx);
    await audit(tx, ctx, "secret.rotate", p.path, {
      version: updated.version,
      length: generator.length,
      ...(given ? { generatorChanged: true } : {}),
      shown: reveal,
    });
    return { ok: true as const, meta: updated, value, reveal };
  });
  if (done.ok === "request") return { meta: await requestRotation(ctx, p.path) };
  if (!done.ok) throw approvalRequired(ctx, done);
  return done.reveal ? { meta: done.meta, value: done.value } : { meta: done.meta };
}
