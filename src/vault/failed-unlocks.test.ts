/**
 * Failed unlocks (guessing the passphrase or identity): the same answer whatever was wrong, a
 * growing wait past the free ones, capped, and every failure audited at the next unlock.
 * The fixture: tamper.test-helpers.ts.
 */
import { describe, expect, it } from "vitest";
import { generateIdentity } from "../crypto/index.js";
import { AuthyError } from "../errors.js";
import { unlockDelayMs, Vault } from "./vault.js";
import { byIdentity, clock, copyOf, openStore, useTemplates } from "./tamper.test-helpers.js";

useTemplates();

describe("failed unlocks", () => {
  it("waits longer after each failure past the free ones, and audits every failure at the next unlock", async () => {
    const file = copyOf();
    const store = openStore(file);
    const delays: number[] = [];
    const deps = { store, clock, sleep: async (ms: number) => void delays.push(ms) };
    const errors: string[] = [];
    for (let i = 0; i < 5; i++) {
      const e = await Vault.unlock(deps, { passphrase: `wrong ${i}` }).then(
        () => null,
        (x: unknown) => x as AuthyError,
      );
      expect(e?.code).toBe("LOCKED");
      errors.push(JSON.stringify({ message: e?.message, hint: e?.hint }));
    }
    // A wrong identity gets exactly the same answer as a wrong passphrase.
    const stranger = await generateIdentity();
    const e = await Vault.unlock(deps, { identities: [stranger] }).then(
      () => null,
      (x: unknown) => x as AuthyError,
    );
    expect(e?.code).toBe("LOCKED");
    errors.push(JSON.stringify({ message: e?.message, hint: e?.hint }));
    expect(new Set(errors).size).toBe(1);
    // Failures 0–2 are free; then 1 s, 2 s, 4 s …
    expect(delays).toEqual([unlockDelayMs(3), unlockDelayMs(4), unlockDelayMs(5)]);
    expect(delays).toEqual([1000, 2000, 4000]);

    const vault = await Vault.unlock(deps, byIdentity());
    expect(delays.at(-1)).toBe(unlockDelayMs(6));
    const failed = await store.listAudit({ action: "vault.unlock.failed" });
    expect(failed.map((f) => [f.outcome, JSON.parse(f.details).method])).toEqual([
      ...Array.from({ length: 5 }, () => ["denied", "passphrase"]),
      ["denied", "identity"],
    ]);
    expect(await store.listUnlockFailures()).toEqual([]);
    expect((await vault.verify()).problems).toEqual([]);
    // The slate is clean: the next unlock does not wait.
    const before = delays.length;
    await Vault.unlock(deps, byIdentity());
    expect(delays.length).toBe(before);
  });

  it("caps the wait", () => {
    expect(unlockDelayMs(100)).toBe(30_000);
    expect(unlockDelayMs(2)).toBe(0);
  });
});
