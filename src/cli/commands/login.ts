import { AuthyError } from "../../errors.js";
import type { CliContext } from "../context.js";
import { firstLine, promptSecret, readStdin } from "../input.js";
import { DEFAULT_PROFILE, readProfile, removeProfile, writeProfile, checkProfileName, type ServerTarget } from "../profiles.js";

/** A member key is short; anything longer on stdin is not one. */
const KEY_LIMIT = { what: "the member key", bytes: 4096 };
const MEMBER_KEY = /^authy_mk_[a-z2-7]+_[A-Za-z0-9_-]+$/;

interface WhoAmI {
  kind?: string;
  member?: string;
  role?: string;
  scope?: string;
}

/** Asks the server who this credential is (GET /v1/whoami). */
async function whoamiAt(
  url: string,
  bearer: string,
  credential: "login" | "login-offer" | "AUTHY_TOKEN" | "AUTHY_AGENT_KEY",
): Promise<Record<string, unknown>> {
  const { HttpTransport } = await import("../../client/http-transport.js");
  const http = new HttpTransport({ baseUrl: url, bearer, mode: "server", credential });
  try {
    return await http.call<Record<string, unknown>>("GET", "/v1/whoami");
  } finally {
    http.close();
  }
}

/**
 * `authy login [--api-url URL] [--profile NAME]`: reads a member key (a no-echo prompt on a
 * terminal, else standard input; never argv), checks it against the server, and stores URL and
 * key in the profile (0600). Without --profile it is the default one, which every command uses.
 */
export async function login(ctx: CliContext): Promise<void> {
  const name = checkProfileName(ctx.opts.profile ?? (process.env.AUTHY_PROFILE || DEFAULT_PROFILE));
  const url = ctx.opts.apiUrl ?? (process.env.AUTHY_API_URL || undefined) ?? readProfile(name)?.url;
  if (url === undefined) throw new AuthyError("INVALID_INPUT", "which server? give its URL", { hint: "authy login --api-url https://vault.example.com" });
  (await import("../../os/native.js")).protectProcess();
  const key = (process.stdin.isTTY ? await promptSecret("Member key:") : firstLine(await readStdin("the member key", KEY_LIMIT))).trim();
  if (!MEMBER_KEY.test(key)) {
    throw new AuthyError("INVALID_INPUT", "that is not a member key (authy_mk_…)", {
      hint: "an admin prints one with `authy members add NAME --role …`; agents use AUTHY_AGENT_KEY instead of logging in",
    });
  }
  const me = (await whoamiAt(url, key, "login-offer")) as WhoAmI;
  if (me.kind !== "member" || typeof me.member !== "string") throw new AuthyError("ACCESS_DENIED", "the server did not accept this key as a member's");
  const file = writeProfile(name, { url, key, member: me.member, ...(me.role === undefined ? {} : { role: me.role }) });
  ctx.out.result({ profile: name, url, member: me.member, role: me.role ?? null, scope: me.scope ?? null, file }, () => "");
  ctx.out.info(`logged in to ${url} as ${me.role ?? "member"} ${me.member} (profile ${name}, ${file})`);
}

/** `authy logout`: forgets the profile's key (the key itself stays valid until an admin revokes it or it is rotated). */
export async function logout(ctx: CliContext): Promise<number> {
  const name = checkProfileName(ctx.opts.profile ?? (process.env.AUTHY_PROFILE || DEFAULT_PROFILE));
  const removed = removeProfile(name);
  ctx.out.result({ profile: name, removed }, () => "");
  if (!removed) throw new AuthyError("NOT_FOUND", `not logged in (no profile ${name})`, { hint: "nothing to do" });
  ctx.out.info(`logged out (profile ${name} removed); commands work on the local vault again`);
  return 0;
}

/** The login profile whose key this process uses: none when a token or an agent key speaks for it. */
function profileUsed(target: ServerTarget, envCredential: string | undefined): string | null {
  return envCredential === undefined ? (target.profile ?? null) : null;
}

/** Who this process is on the server: a token, an agent key, or the profile's member key. */
export async function serverWhoami(ctx: CliContext, target: ServerTarget): Promise<void> {
  const token = process.env.AUTHY_TOKEN || undefined;
  const agentKey = process.env.AUTHY_AGENT_KEY || undefined;
  const bearer = token ?? agentKey ?? target.key;
  if (bearer === undefined) throw new AuthyError("ACCESS_DENIED", `no credential for the authy server at ${target.url}`, { hint: "log in with `authy login`" });
  const me = await whoamiAt(target.url, bearer, token ? "AUTHY_TOKEN" : agentKey ? "AUTHY_AGENT_KEY" : "login");
  const profile = profileUsed(target, token ?? agentKey);
  const out = { ...me, server: target.url, profile };
  ctx.out.result(out, () =>
    [
      `${String(me.principal)}${typeof me.role === "string" ? ` (role ${me.role})` : ""}`,
      `server: ${target.url}${profile ? ` (profile ${profile})` : ""}`,
      ...(typeof me.scope === "string" ? [`scope:  ${me.scope}`] : []),
      `why:    ${String(me.why)}`,
    ].join("\n"),
  );
}

async function getJson(url: string, path: string, bearer?: string, credential?: "login" | "AUTHY_TOKEN" | "AUTHY_AGENT_KEY"): Promise<Record<string, unknown>> {
  const { HttpTransport } = await import("../../client/http-transport.js");
  const http = new HttpTransport({
    baseUrl: url,
    mode: "server",
    ...(bearer === undefined ? {} : { bearer }),
    ...(credential === undefined ? {} : { credential }),
  });
  try {
    return await http.call<Record<string, unknown>>("GET", path);
  } finally {
    http.close();
  }
}

/** `authy status` against a server: which server, whether it serves the vault, and who this process is there. */
export async function serverStatus(ctx: CliContext, target: ServerTarget): Promise<number> {
  const health = await getJson(target.url, "/v1/health");
  const token = process.env.AUTHY_TOKEN || undefined;
  const agentKey = process.env.AUTHY_AGENT_KEY || undefined;
  const bearer = token ?? agentKey ?? target.key;
  const me = bearer === undefined ? null : await getJson(target.url, "/v1/whoami", bearer, token ? "AUTHY_TOKEN" : agentKey ? "AUTHY_AGENT_KEY" : "login");
  const locked = health.locked === true;
  const profile = profileUsed(target, token ?? agentKey);
  ctx.out.result({ server: target.url, profile, locked, health, whoami: me }, () =>
    [
      `server:   ${target.url}${profile ? ` (profile ${profile})` : ""}`,
      `state:    ${locked ? "locked (the server has not unlocked the vault)" : "unlocked (served by the server)"}`,
      `as:       ${me ? `${String(me.principal)}${typeof me.role === "string" ? ` (role ${me.role})` : ""}` : "no credential (`authy login`)"}`,
    ].join("\n"),
  );
  return locked ? 6 : 0;
}
