import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { AuthyError } from "../errors.js";

/**
 * Login profiles: a team server's URL and a member's personal key, one JSON file per profile
 * under `$XDG_CONFIG_HOME/authy/profiles/` (default `~/.config/authy`), the directory 0700
 * and each file 0600, written whole or not at all. `authy login` writes one, `authy logout`
 * removes it. A stored `default` profile points every command at its server, as `--api-url`
 * (AUTHY_API_URL) or `--profile NAME` (AUTHY_PROFILE) do for one command.
 */
interface Profile {
  url: string;
  key: string;
  member?: string;
  role?: string;
}

export const DEFAULT_PROFILE = "default";
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** A profile file holds a URL and a key: anything much larger was not written by authy. */
const MAX_PROFILE_BYTES = 16 * 1024;

/** Where `authy login` keeps its profiles (hidden from `authy run --sandbox`). */
export function loginConfigDir(): string {
  const xdg = process.env.XDG_CONFIG_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), ".config"), "authy");
}

export function checkProfileName(name: string): string {
  if (!PROFILE_NAME.test(name))
    throw new AuthyError("INVALID_INPUT", `invalid profile name ${JSON.stringify(name.slice(0, 80))}`, { hint: "letters, digits, . _ - (up to 64)" });
  return name;
}

function profilePath(name: string): string {
  return path.join(loginConfigDir(), "profiles", `${checkProfileName(name)}.json`);
}

/** The profile, or null when there is none. A file others may read is refused, as ssh refuses a key. */
export function readProfile(name: string): Profile | null {
  const file = profilePath(name);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new AuthyError("UNAVAILABLE", `cannot read the login profile ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || (st.mode & 0o077) !== 0 || st.size > MAX_PROFILE_BYTES) {
      throw new AuthyError("ACCESS_DENIED", `the login profile ${file} is readable by others or not a plain file`, {
        hint: `run \`authy login${name === DEFAULT_PROFILE ? "" : ` --profile ${name}`}\` again, or chmod 600 it`,
      });
    }
    const parsed = JSON.parse(fs.readFileSync(fd, "utf8")) as Partial<Profile>;
    if (typeof parsed.url !== "string" || typeof parsed.key !== "string") throw new Error("fields");
    return parsed as Profile;
  } catch (e) {
    if (e instanceof AuthyError) throw e;
    throw new AuthyError("INVALID_INPUT", `the login profile ${file} is not one authy wrote`, {
      hint: "remove it with `authy logout`, then `authy login` again",
    });
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes a profile: directories 0700, the file 0600 from its creation, replaced atomically. */
export function writeProfile(name: string, profile: Profile): string {
  const file = profilePath(name);
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(loginConfigDir(), 0o700);
  fs.chmodSync(dir, 0o700);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    fs.writeFileSync(fd, `${JSON.stringify(profile, null, 2)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  return file;
}

export function removeProfile(name: string): boolean {
  try {
    fs.unlinkSync(profilePath(name));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
}

/** Where commands go when not to the local vault: a server's URL, and the key of the profile, if any. */
export interface ServerTarget {
  url: string;
  /** The member key from the profile (tokens and agent keys come from the environment). */
  key?: string;
  profile?: string;
  /** What pointed there, for messages. */
  via: "--api-url" | "AUTHY_API_URL" | "--profile" | "AUTHY_PROFILE" | "authy login";
}

interface TargetOptions {
  apiUrl?: string;
  profile?: string;
}

/**
 * The server this command talks to, or null for the local vault: --api-url (AUTHY_API_URL),
 * else the profile named by --profile (AUTHY_PROFILE), else a stored default profile.
 */
export function serverTarget(opts: TargetOptions): ServerTarget | null {
  const url = opts.apiUrl ?? (process.env.AUTHY_API_URL || undefined);
  const named = opts.profile ?? (process.env.AUTHY_PROFILE || undefined);
  const urlVia = opts.apiUrl !== undefined ? "--api-url" : "AUTHY_API_URL";
  // A typo in the address is bad input, not a login to do (which is what it would look like next).
  if (url !== undefined && !isHttpUrl(url)) {
    throw new AuthyError("INVALID_INPUT", `${urlVia} is not an http:// or https:// address: ${JSON.stringify(url)}`, {
      hint: "for example https://authy.example.com or http://127.0.0.1:8420",
    });
  }
  if (named !== undefined) {
    const p = readProfile(named);
    if (!p) throw new AuthyError("NOT_FOUND", `no login profile ${JSON.stringify(named)}`, { hint: `run \`authy login --profile ${named}\` first` });
    // A profile's key goes only to the server it was stored for, whatever else names a server.
    if (url !== undefined && !sameServer(p.url, url)) {
      throw new AuthyError("INVALID_INPUT", `profile ${JSON.stringify(named)} is for ${p.url}, not ${url} (from ${urlVia})`, {
        hint: `leave out ${urlVia}, or log in to that server with a profile of its own`,
      });
    }
    return { url: url ?? p.url, key: p.key, profile: named, via: url !== undefined ? urlVia : opts.profile !== undefined ? "--profile" : "AUTHY_PROFILE" };
  }
  const p = readProfile(DEFAULT_PROFILE);
  if (url !== undefined) {
    // The default profile's key goes only to the server it was stored for.
    return p && sameServer(p.url, url) ? { url, key: p.key, profile: DEFAULT_PROFILE, via: urlVia } : { url, via: urlVia };
  }
  return p ? { url: p.url, key: p.key, profile: DEFAULT_PROFILE, via: "authy login" } : null;
}

function isHttpUrl(text: string): boolean {
  try {
    return /^https?:$/.test(new URL(text).protocol);
  } catch {
    return false;
  }
}

function sameServer(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.origin === y.origin && x.pathname.replace(/\/+$/, "") === y.pathname.replace(/\/+$/, "");
  } catch {
    return false;
  }
}
