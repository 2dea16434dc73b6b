/**
 * A separate OS process on a shared PostgreSQL vault, for postgres-store.process.test.ts
 * (bundled from src/ with esbuild, so it runs the code as it is now). Its own pool, its own
 * unlocked Vault, as one server process of several would have.
 *
 * argv: <database URL>. Then one JSON command per stdin line, one JSON answer per stdout line:
 *   {"op":"unlock","passphrase":P}        unlock the vault (after which the ops below work)
 *   {"op":"events","n":N}                 N audited writes at once; answers {"ok":n}
 *   {"op":"useToken","token":T,"instance":I,"n":N}  N uses at once; {"ok":n,"uses":[…],"reasons":{…}}
 *   {"op":"getAs","token":T,"instance":I,"path":P}  a read as that token; {"value"} or {"error":code,"approval"?}
 *   {"op":"revoke","id":ID}               revoke a token
 *   {"op":"exit"}
 * Started with "migrate" as a second argument, it only opens the store (running the
 * migrations), answers {"opened":true} and exits.
 */
import { createInterface } from "node:readline";
import { isAuthyError } from "../../errors.js";
import { systemClock } from "../../vault/clock.js";
import type { Actor } from "../../vault/types.js";
import { Vault } from "../../vault/vault.js";
import { openPostgresStore } from "./postgres-store.js";

const [url, mode] = process.argv.slice(2);
const store = await openPostgresStore(url!);
const say = (o: unknown) => process.stdout.write(JSON.stringify(o) + "\n");
if (mode === "migrate") {
  await store.close();
  say({ opened: true });
  process.exit(0);
}

let vault: Vault | undefined;
const codeOf = (e: unknown) => (isAuthyError(e) ? e.code : String(e));

async function actorFor(token: string, instance: string): Promise<Actor> {
  const check = await vault!.useToken(token, instance);
  if (!check.ok) throw Object.assign(new Error(check.reason), { code: `token-${check.reason}` });
  const t = check.token;
  return { kind: "token", id: t.id, agent: t.agent ?? undefined, agentId: t.agentId ?? undefined, scope: t.scope, expiresAt: t.expiresAt };
}

async function run(cmd: Record<string, unknown>): Promise<unknown> {
  switch (cmd.op) {
    case "unlock":
      vault = await Vault.unlock({ store, clock: systemClock }, { passphrase: cmd.passphrase as string });
      return { unlocked: true };
    case "events": {
      const results = await Promise.allSettled(
        Array.from({ length: cmd.n as number }, (_, i) => vault!.recordEvent("test.event", `worker/${process.pid}/${i}`)),
      );
      return {
        ok: results.filter((r) => r.status === "fulfilled").length,
        errors: results.flatMap((r) => (r.status === "rejected" ? [codeOf(r.reason)] : [])),
      };
    }
    case "useToken": {
      const checks = await Promise.all(Array.from({ length: cmd.n as number }, () => vault!.useToken(cmd.token as string, cmd.instance as string)));
      const reasons: Record<string, number> = {};
      for (const c of checks) if (!c.ok) reasons[c.reason] = (reasons[c.reason] ?? 0) + 1;
      return { ok: checks.filter((c) => c.ok).length, uses: checks.flatMap((c) => (c.ok ? [c.token.uses] : [])), reasons };
    }
    case "getAs": {
      try {
        const actor = await actorFor(cmd.token as string, cmd.instance as string);
        const { value } = await vault!.as(actor).getSecret(cmd.path as string);
        return { value: Buffer.from(value).toString() };
      } catch (e) {
        const approvals = (e as { details?: { approvals?: { id: string }[] } }).details?.approvals;
        return { error: (e as { code?: string }).code ?? String(e), approval: approvals?.[0]?.id };
      }
    }
    case "revoke":
      await vault!.revokeToken(cmd.id as string);
      return { revoked: true };
    case "exit":
      await vault?.close();
      await store.close();
      say({ bye: true });
      process.exit(0);
  }
  throw new Error(`unknown op ${String(cmd.op)}`);
}

for await (const line of createInterface({ input: process.stdin })) {
  try {
    say(await run(JSON.parse(line) as Record<string, unknown>));
  } catch (e) {
    say({ error: codeOf(e), message: (e as Error).message });
  }
}
await store.close();
