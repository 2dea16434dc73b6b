/**
 * Hosts a sandboxed run may connect to: `--allow-host HOST[:PORT]` and a scope's
 * `sandbox.hosts`. HOST is a DNS name, an IPv4 address or a bracketed IPv6 address; a leading
 * `*.` matches every name below a domain (not the domain itself). Without a port, any port.
 * Names are compared in lower case, without a trailing dot. Pure: used by the policy parser
 * and by the run's proxy.
 */
import { AuthyError } from "../errors.js";

export interface AllowedHost {
  /** Lower case; `*.example.com` for a domain's subdomains; an IPv6 address without brackets. */
  host: string;
  /** null: any port. */
  port: number | null;
}

/** A DNS name is at most 253 characters. */
const MAX_HOST_LENGTH = 253;
const LABEL = "[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?";
const NAME = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`);
const IPV6 = /^[0-9a-f:.]+$/;

/** What is wrong with a HOST[:PORT] spec, or undefined if it is valid. */
export function allowedHostProblem(spec: string): string | undefined {
  try {
    parseAllowedHost(spec);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export function parseAllowedHost(spec: string): AllowedHost {
  const bad = (why: string) =>
    new AuthyError("INVALID_INPUT", `allowed host ${JSON.stringify(spec.slice(0, 80))}: ${why}`, {
      hint: "give HOST or HOST:PORT, e.g. api.openai.com, *.anthropic.com, 127.0.0.1:8080 or [::1]:443",
    });
  let host = spec.trim().toLowerCase();
  let port: number | null = null;
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    if (close < 0) throw bad("unclosed [");
    const rest = host.slice(close + 1);
    host = host.slice(1, close);
    if (!IPV6.test(host) || !host.includes(":")) throw bad("not an IPv6 address");
    if (rest !== "") {
      if (!rest.startsWith(":")) throw bad("expected :PORT after ]");
      port = parsePort(rest.slice(1), bad);
    }
    return { host, port };
  }
  const colon = host.lastIndexOf(":");
  if (colon >= 0) {
    if (host.indexOf(":") !== colon) throw bad("an IPv6 address goes in brackets: [::1]:443");
    port = parsePort(host.slice(colon + 1), bad);
    host = host.slice(0, colon);
  }
  if (host.endsWith(".")) host = host.slice(0, -1);
  if (host === "" || host.length > MAX_HOST_LENGTH || !NAME.test(host)) throw bad("not a host name or address");
  return { host, port };
}

function parsePort(text: string, bad: (why: string) => Error): number {
  if (!/^[0-9]{1,5}$/.test(text)) throw bad("the port is not a number");
  const port = Number(text);
  if (port < 1 || port > 65_535) throw bad("the port is not between 1 and 65535");
  return port;
}

/** Whether a connection to `host`:`port` is allowed by one of `allowed`. */
export function hostAllowed(allowed: readonly AllowedHost[], host: string, port: number): boolean {
  let name = host.toLowerCase();
  if (name.startsWith("[") && name.endsWith("]")) name = name.slice(1, -1);
  if (name.endsWith(".")) name = name.slice(0, -1);
  return allowed.some((a) => {
    if (a.port !== null && a.port !== port) return false;
    if (a.host.startsWith("*.")) return name.endsWith(a.host.slice(1)) && name.length > a.host.length - 1;
    return a.host === name;
  });
}

/** HOST[:PORT] as given back to people (brackets around IPv6). */
export function formatAllowedHost(a: AllowedHost): string {
  const host = a.host.includes(":") ? `[${a.host}]` : a.host;
  return a.port === null ? host : `${host}:${a.port}`;
}
