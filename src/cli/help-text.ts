/**
 * The "Examples" and "Exit codes" sections at the end of each command's --help, declared next
 * to the command in declare/. The meanings are DESIGN.md section 5's (exit-codes.ts maps
 * error codes to them); each command lists the codes it can end with.
 */
const MEANINGS: Record<number, string> = {
  0: "success",
  1: "unexpected internal error",
  2: "invalid input or usage",
  3: "not found",
  4: "access denied (scope, token, agent)",
  5: "approval required, pending, denied or expired",
  6: "vault locked, wrong passphrase or identity, not initialized",
  7: "integrity failure: tampered or corrupt data",
  8: "storage or daemon/server unavailable",
  130: "interrupted",
};

/** Codes nearly every command that opens the vault can end with. */
export const VAULT_EXITS = [0, 2, 6, 7, 8] as const;

/** The text after a command's help: a few examples, then its exit codes (and a note, such as run's). */
export function help(examples: readonly string[], codes: readonly number[], note?: string): string {
  const sorted = [...new Set([...codes, 1])].sort((a, b) => a - b);
  const lines = [
    "",
    "Examples:",
    ...examples.map((e) => `  $ ${e}`),
    "",
    "Exit codes:",
    ...sorted.map((c) => `  ${String(c).padEnd(4)} ${MEANINGS[c] ?? "?"}`),
  ];
  if (note) lines.push(`  ${note}`);
  return lines.join("\n") + "\n";
}
