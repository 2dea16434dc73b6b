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
