import { describe, expect, it } from "vitest";
import { newOwnerSession, ownerProof, proofMatches, sessionHash } from "./session.js";

describe("the exported owner session's proof", () => {
  const session = newOwnerSession();
  const hash = sessionHash(session);
  const me = { pid: 4242, start: "123456" };

  it("is accepted for the process it was made for", () => {
    expect(proofMatches(hash, ownerProof(session, me), me)).toBe(true);
  });

  it("is refused from another process (a relay replaying it), a reused pid, another session, or raw", () => {
    const proof = ownerProof(session, me);
    expect(proofMatches(hash, proof, { pid: 4243, start: "123456" })).toBe(false);
    expect(proofMatches(hash, proof, { pid: 4242, start: "999999" })).toBe(false);
    expect(proofMatches(sessionHash(newOwnerSession()), proof, me)).toBe(false);
    expect(proofMatches(hash, session, me)).toBe(false);
    expect(proofMatches(hash, proof.slice(0, -2), me)).toBe(false);
  });
});
