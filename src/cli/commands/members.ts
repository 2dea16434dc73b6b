import type { MemberInfo } from "../../vault/members.js";
import type { CliContext } from "../context.js";
import { jsonTime } from "../json-output.js";
import { isoTime, table } from "../output.js";

function memberJson(m: MemberInfo) {
  return {
    name: m.name,
    id: m.id,
    role: m.role,
    scope: m.scope === "" ? null : m.scope,
    createdAt: jsonTime(m.createdAt),
    keyCreatedAt: jsonTime(m.keyCreatedAt),
    revokedAt: jsonTime(m.revokedAt),
  };
}

export async function add(ctx: CliContext, name: string, flags: { role: string; scope?: string }): Promise<void> {
  const client = await ctx.client();
  const { member, key } = await client.addMember(name, { role: flags.role, ...(flags.scope === undefined ? {} : { scope: flags.scope }) });
  // The key is printed once, on stdout, so it can be captured and handed over.
  ctx.out.result({ ...memberJson(member), key }, () => key);
  ctx.out.info(
    `added ${member.role} ${member.name}${member.scope ? ` (scope ${member.scope})` : ""}; the key is shown only now: they log in with \`authy login\``,
  );
}

export async function list(ctx: CliContext): Promise<void> {
  const members = await (await ctx.client()).listMembers();
  ctx.out.result({ items: members.map(memberJson) }, () =>
    table(
      ["NAME", "ROLE", "SCOPE", "CREATED", "KEY FROM", "STATUS"],
      members.map((m) => [
        m.name,
        m.role,
        m.scope || "-",
        isoTime(m.createdAt),
        isoTime(m.keyCreatedAt),
        m.revokedAt === null ? "active" : `revoked ${isoTime(m.revokedAt)}`,
      ]),
    ),
  );
}

export async function revoke(ctx: CliContext, name: string): Promise<void> {
  const member = await (await ctx.client()).revokeMember(name);
  ctx.out.result(memberJson(member), () => "");
  ctx.out.info(`revoked member ${member.name}: its key is refused from now on`);
}

/** `members rotate-key [NAME]`: one's own key (no name), or an admin's rotation of another's. The old key stops at once. */
export async function rotateKey(ctx: CliContext, name: string | undefined): Promise<void> {
  const { member, key } = await (await ctx.client()).rotateMemberKey(name);
  ctx.out.result({ ...memberJson(member), key }, () => key);
  const target = ctx.server();
  const { readProfile, writeProfile } = await import("../profiles.js");
  // One's own key, asked for by name or not: the login profile that holds it gets the new one.
  const profile = target?.profile;
  if (profile !== undefined && target !== null && (name === undefined || readProfile(profile)?.member === member.name)) {
    writeProfile(profile, { url: target.url, key, member: member.name, role: member.role });
    ctx.out.info(`new key for ${member.name}, stored in login profile ${profile}; the old key no longer works`);
  } else {
    ctx.out.info(`new key for ${member.name}, shown only now; the old key no longer works`);
  }
}
