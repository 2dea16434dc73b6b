/**
 * What a rule may grant. `list` reveals names only; `read` reveals values; `approve` lets a
 * server member (role member) decide approval requests for the path (tokens never decide any).
 */
export const CAPABILITIES = ["read", "list", "write", "delete", "rotate", "approve"] as const;
export type Capability = (typeof CAPABILITIES)[number];

export function isCapability(value: unknown): value is Capability {
  return typeof value === "string" && (CAPABILITIES as readonly string[]).includes(value);
}

/** Capabilities in the canonical order of CAPABILITIES (a rule's capabilities are a set). */
export function sortCapabilities(caps: readonly Capability[]): Capability[] {
  return CAPABILITIES.filter((c) => caps.includes(c));
}
