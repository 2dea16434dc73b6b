import { realpathSync } from "node:fs";

/**
 * The file this authy runs from (dist/bin/authy.js, links resolved), or null when it cannot be
 * known: what the completion scripts call back, and what the sandbox must show read-only.
 */
export function authyExecutable(): string | null {
  const script = process.argv[1];
  if (!script) return null;
  try {
    return realpathSync(script);
  } catch {
    return null;
  }
}
