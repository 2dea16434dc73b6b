import { AuthyError } from "../../errors.js";
import { CAPABILITIES, isCapability, type Capability } from "./capability.js";
import { patternProblem } from "./pattern.js";
import type { Rule } from "./scope.js";

// The compact command-line form of a scope:
//
//   secrets:read:production/*                      one capability, one pattern
//   secrets:read+list:production/*                 several capabilities joined with +
//   secrets:read:prod/*,secrets:list:staging/**    several rules, comma-separated
//
// Each item becomes one allow rule, in order. Spaces around commas are ignored; anything
// else (an empty item, an unknown resource or capability, a repeated capability, a bad
// pattern) is INVALID_INPUT. The three parts cannot be confused: patterns never contain
// `:`, `+` or `,`, and scope names (which the CLI accepts in the same place) never contain `:`.

const PREFIX = "secrets";
const HINT = `use secrets:CAPABILITY:PATTERN, e.g. secrets:read:production/* or secrets:read+list:prod/**; capabilities: ${CAPABILITIES.join(", ")}`;

function invalid(message: string): AuthyError {
  return new AuthyError("INVALID_INPUT", `invalid scope: ${message}`, { hint: HINT });
}

/** Whether `spec` is written in the compact form (rather than naming a stored scope). */
export function isCompactScope(spec: string): boolean {
  return spec.includes(":");
}

/** Parses the compact form into allow rules; throws INVALID_INPUT on anything else. */
export function parseCompactScope(spec: string): Rule[] {
  if (spec.trim() === "") throw invalid("empty scope");
  return spec.split(",").map((raw, n) => {
    const item = raw.trim();
    const where = `item ${n + 1} ${JSON.stringify(item)}`;
    if (item === "") throw invalid(`item ${n + 1} is empty`);
    const parts = item.split(":");
    if (parts.length !== 3) throw invalid(`${where} is not resource:capability:pattern`);
    const [resource, caps, pattern] = parts as [string, string, string];
    if (resource !== PREFIX) throw invalid(`${where}: unknown resource ${JSON.stringify(resource)} (only "secrets")`);
    const capabilities: Capability[] = [];
    for (const cap of caps.split("+")) {
      if (!isCapability(cap)) throw invalid(`${where}: unknown capability ${JSON.stringify(cap)}`);
      if (capabilities.includes(cap)) throw invalid(`${where}: capability ${cap} is repeated`);
      capabilities.push(cap);
    }
    const problem = patternProblem(pattern);
    if (problem !== undefined) throw invalid(`${where}: ${problem}`);
    return { path: pattern, capabilities };
  });
}

/** The compact form of allow rules (the inverse of parseCompactScope). */
export function formatCompactScope(rules: readonly Rule[]): string {
  return rules.map((r) => `${PREFIX}:${r.capabilities.join("+")}:${r.path}`).join(",");
}
