import { describe, expect, it } from "vitest";
import { MAX_REFUSAL_KEYS, REFUSAL_WINDOW_MS, RefusalLog } from "./refusal-log.js";

function log() {
  const written: { who: string; action: string; details: Record<string, unknown> }[] = [];
  let now = 0;
  const refusals = new RefusalLog(
    async (who, action, _resource, details) => {
      written.push({ who, action, details });
    },
    () => now,
  );
  return { refusals, written, at: (t: number) => (now = t) };
}

const bad = { actor: "token:unknown", action: "token.use.denied", resource: "GET /v1/secrets/:ns/:key", reason: "unknown" };

describe("refusal log", () => {
  it("writes the first refusal at once and the repeats of its window as one count", async () => {
    const { refusals, written, at } = log();
    for (let i = 0; i < 1000; i++) await refusals.note(bad);
    expect(written).toHaveLength(1);
    at(REFUSAL_WINDOW_MS - 1);
    await refusals.flushExpired();
    expect(written).toHaveLength(1);
    at(REFUSAL_WINDOW_MS);
    await refusals.note(bad);
    expect(written.map((w) => w.details.repeats)).toEqual([undefined, 999, undefined]);
    await refusals.flushAll();
    expect(written).toHaveLength(3); // nothing repeated in the new window
  });

  it("keeps different actors, actions and reasons apart, and caps the keys it follows", async () => {
    const { refusals, written } = log();
    for (let i = 0; i < MAX_REFUSAL_KEYS + 500; i++) await refusals.note({ ...bad, actor: `token:t${i}` });
    expect(written).toHaveLength(MAX_REFUSAL_KEYS + 1);
    expect(written.at(-1)).toMatchObject({ who: "various", action: "token.use.denied" });
    await refusals.flushAll();
    expect(written.at(-1)!.details.repeats).toBe(499);
  });

  it("a refusal stands when it cannot be written", async () => {
    const refusals = new RefusalLog(async () => {
      throw new Error("locked");
    });
    await expect(refusals.note(bad)).resolves.toBeUndefined();
  });
});
