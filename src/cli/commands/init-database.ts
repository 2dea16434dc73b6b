import { AuthyError } from "../../errors.js";
import { systemClock } from "../../vault/clock.js";
import type { CliContext } from "../context.js";

/** Printed as given only up to the host: a URL may hold a database password. */
function redacted(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "the database";
  }
}

/**
 * `authy init --database postgres://…`: a vault in PostgreSQL for a team server, with the same
 * key slots as a local init (passphrase and/or age recipients, which `authy serve` unlocks
 * with), and a first admin whose key is printed once: the way in for people.
 */
export async function initDatabase(
  ctx: CliContext,
  flags: { recipient?: string[]; passphrase: boolean; database: string; admin?: string },
  wf: number,
  newPassphrase: () => Promise<string>,
): Promise<void> {
  if (!/^postgres(ql)?:\/\//.test(flags.database))
    throw new AuthyError("INVALID_INPUT", "--database takes a PostgreSQL URL", {
      hint: "postgres://user@host:5432/authy, with the password in PGPASSWORD or ~/.pgpass (never on the command line)",
    });
  const recipients = flags.recipient ?? [];
  if (!flags.passphrase && recipients.length === 0) throw new AuthyError("INVALID_INPUT", "--no-passphrase needs at least one --recipient");
  const admin = flags.admin ?? "admin";
  const { openPostgresStore } = await import("../../store/postgres/postgres-store.js");
  const store = await openPostgresStore(flags.database);
  try {
    if (await store.getVault())
      throw new AuthyError("ALREADY_EXISTS", `a vault already exists in ${redacted(flags.database)}`, { hint: "use it, or create another database" });
    const passphrase = flags.passphrase ? await newPassphrase() : undefined;
    if (passphrase !== undefined && passphrase.length === 0) throw new AuthyError("INVALID_INPUT", "the passphrase is empty");
    const { Vault } = await import("../../vault/vault.js");
    const vault = await Vault.init({ store, clock: systemClock }, { passphrase, workFactor: wf, recipients });
    const { member, key } = await vault.addMember(admin, { role: "admin" });
    ctx.out.result(
      { database: redacted(flags.database), vaultId: vault.vaultId, passphrase: Boolean(passphrase), recipients, admin: member.name, key },
      () => key,
    );
    ctx.out.info(
      `created a vault in ${redacted(flags.database)}; the key of admin ${member.name} is shown only now: \`authy login\` with it once \`authy serve\` runs`,
    );
  } finally {
    await store.close();
  }
}
