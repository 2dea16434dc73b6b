import { generateIdentity, identityToRecipient, parseRecipient } from "../../crypto/index.js";
import { writeFileAtomic } from "../../files/atomic-write.js";
import type { CliContext } from "../context.js";
import { slotJson } from "../json-output.js";
import { refuseExisting } from "../output-file.js";
import { isoTime, table } from "../output.js";

export async function add(ctx: CliContext, recipient: string, flags: { label?: string }): Promise<void> {
  parseRecipient(recipient); // before the passphrase is asked for, not after
  const vault = await ctx.client();
  const slot = await vault.addRecipient(recipient, flags.label);
  ctx.out.result(slotJson(slot), () => "");
  ctx.out.info(`${slot.recipient} can now unlock this vault (slot ${slot.id})`);
}

export async function list(ctx: CliContext): Promise<void> {
  const vault = await ctx.client();
  const slots = await vault.listKeys();
  ctx.out.result({ items: slots.map(slotJson) }, () =>
    table(
      ["ID", "KIND", "RECIPIENT / WORK FACTOR", "LABEL", "CREATED"],
      slots.map((s) => [
        s.id,
        s.kind,
        s.kind === "passphrase" ? `scrypt 2^${s.workFactor}` : (s.recipient ?? ""),
        s.kind === "passphrase" ? "" : s.label,
        isoTime(s.createdAt),
      ]),
    ),
  );
}

export async function remove(ctx: CliContext, id: string): Promise<void> {
  const vault = await ctx.client();
  const slot = await vault.removeKey(id);
  ctx.out.result(slotJson(slot), () => "");
  ctx.out.info(`removed key slot ${slot.id}`);
}

/**
 * Like age-keygen: a new X25519 identity, written 0600 or printed. An existing --out file is
 * not replaced without --force: it may be the identity of a key slot, the only way in.
 */
export async function generate(ctx: CliContext, flags: { out?: string; force?: boolean }): Promise<void> {
  if (flags.out) refuseExisting(flags.out, flags.force);
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  const text = `# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`;
  if (flags.out) {
    await writeFileAtomic(flags.out, text);
    ctx.out.result({ recipient, file: flags.out }, () => recipient);
    ctx.out.info(`wrote ${flags.out}; add it with \`authy keys add ${recipient}\``);
  } else {
    ctx.out.result({ recipient, identity }, () => text);
  }
}
