import { isIP } from "node:net";
import { AuthyError } from "../errors.js";

/** Where `authy serve --listen` binds: a host (name or IP) and a TCP port (0: any free one). */
export interface ListenAddress {
  host: string;
  port: number;
}

const HIGHEST_PORT = 65_535;

function badListen(text: string): AuthyError {
  return new AuthyError("INVALID_INPUT", `--listen must be HOST:PORT, not ${JSON.stringify(text.slice(0, 80))}`, {
    hint: "for example --listen 127.0.0.1:8420, --listen [::1]:8420 or --listen 0.0.0.0:443",
  });
}

/** Parses `HOST:PORT` or `[IPv6]:PORT`. */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  if (!m) throw badListen(text);
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (port > HIGHEST_PORT) throw badListen(text);
  if (m[1] !== undefined && isIP(host) !== 6) throw badListen(text);
  return { host, port };
}

/** Whether only this machine can reach the address: plain HTTP is allowed there without --insecure-http. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "localhost" || h === "::1") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}

/** The address as a URL host (IPv6 in brackets). */
export function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** An IPv4 or IPv6 address, optionally with a /prefix, or `loopback`. */
function isProxyAddress(item: string): boolean {
  if (item === "loopback") return true;
  const [ip, prefix, extra] = item.split("/");
  const family = isIP(ip ?? "");
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

/** `--trust-proxy 10.0.0.5,10.1.0.0/16` as a list for fastify's trustProxy; INVALID_INPUT on anything else. */
export function parseTrustProxy(text: string): string[] {
  const items = text.split(",").map((s) => s.trim());
  const bad = items.find((i) => !isProxyAddress(i));
  if (bad !== undefined) {
    throw new AuthyError("INVALID_INPUT", `--trust-proxy takes IP addresses or CIDRs, not ${JSON.stringify(bad)}`, {
      hint: "for example --trust-proxy 127.0.0.1 (a proxy on this host), --trust-proxy 10.0.0.0/8 or --trust-proxy loopback",
    });
  }
  return items;
}
