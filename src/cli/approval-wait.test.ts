/**
 * Waiting for approvals on the agent's side, with a fake client and a fake clock: no sleeping,
 * no vault. What is printed where, how often it asks, and how each ending is reported.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AuthyError } from "../errors.js";
import type { ApprovalInfo } from "../vault/approval-rows.js";
import { APPROVAL_POLL_INTERVAL_MS, withApproval, type WaitTiming } from "./approval-wait.js";
import { Output } from "./output.js";

const MINUTE = 60_000;

function request(id: string, over: Partial<ApprovalInfo> = {}): ApprovalInfo {
  return {
    id,
    principal: "agent:deploy-bot",
    agent: "deploy-bot",
    token: "t1",
    action: "secret.read",
    path: "prod/DB",
    tier: "sensitive",
    reason: "nightly backup",
    status: "pending",
    createdAt: 0,
    expiresAt: 10 * MINUTE,
    decidedAt: null,
    decisionReason: null,
    grant: null,
    grantUntil: null,
    usedAt: null,
    ...over,
  };
}

function required(...reqs: ApprovalInfo[]): AuthyError {
  return new AuthyError("APPROVAL_REQUIRED", "approval needed", { details: { approvalId: reqs[0]!.id, status: "pending", approvals: reqs } });
}

let stderr: string;
let stdout: string;
let t: number;
let sleeps: number[];
const timing: WaitTiming = { now: () => t, sleep: async (ms) => void (sleeps.push(ms), (t += ms)) };
const out = new Output({ json: false, quiet: false, color: false, verbose: false });

/** A client whose requests answer with the given statuses in turn (the last one repeats). */
function client(script: Record<string, ApprovalInfo["status"][]>, extra: Partial<ApprovalInfo> = {}) {
  const calls: string[] = [];
  return {
    calls,
    getApproval: async (id: string) => {
      calls.push(id);
      const steps = script[id]!;
      const status = steps.length > 1 ? steps.shift()! : steps[0]!;
      return request(id, { status, ...extra });
    },
  };
}

beforeEach(() => {
  stderr = "";
  stdout = "";
  t = 0;
  sleeps = [];
  vi.spyOn(process.stderr, "write").mockImplementation((s) => ((stderr += String(s)), true));
  vi.spyOn(process.stdout, "write").mockImplementation((s) => ((stdout += String(s)), true));
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function failure(p: Promise<unknown>): Promise<AuthyError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AuthyError) return e;
    throw e;
  }
  throw new Error("it succeeded");
}

describe("withApproval", () => {
  it("returns at once when no approval is needed, and lets other errors through untouched", async () => {
    const c = client({});
    expect(await withApproval(out, c, {}, async () => 42, timing)).toBe(42);
    const denied = new AuthyError("ACCESS_DENIED", "no");
    expect(await failure(withApproval(out, c, {}, async () => Promise.reject(denied), timing))).toBe(denied);
    expect(c.calls).toEqual([]);
  });

  it("says what it waits for on stderr, polls, and runs the operation again the moment it is approved", async () => {
    const c = client({ apr_1: ["pending", "pending", "approved"] });
    let runs = 0;
    const result = await withApproval(out, c, {}, async () => (++runs === 1 ? Promise.reject(required(request("apr_1"))) : "value"), timing);
    expect(result).toBe("value");
    expect(runs).toBe(2);
    expect(stderr).toContain('waiting for approval apr_1 (agent deploy-bot wants to read prod/DB: "nightly backup")');
    expect(c.calls).toEqual(["apr_1", "apr_1", "apr_1"]);
    expect(sleeps).toEqual([APPROVAL_POLL_INTERVAL_MS, APPROVAL_POLL_INTERVAL_MS]);
    expect(stdout).toBe("");
  });

  it("waits for every request a run named", async () => {
    const c = client({ apr_1: ["approved"], apr_2: ["pending", "pending", "pending", "approved"] });
    let runs = 0;
    const reqs = [request("apr_1"), request("apr_2", { path: "prod/ROOT", action: "secret.write" })];
    await withApproval(out, c, {}, async () => (++runs === 1 ? Promise.reject(required(...reqs)) : "ok"), timing);
    expect(runs).toBe(2);
    expect(stderr).toContain("apr_2 (agent deploy-bot wants to write prod/ROOT");
    expect(c.calls.filter((id) => id === "apr_1")).toHaveLength(1);
  });

  it("ends with exit 5 and the owner's reason on a denial", async () => {
    const c = client({ apr_1: ["pending", "denied"] }, { decisionReason: "not during the freeze" });
    const e = await failure(withApproval(out, c, {}, async () => Promise.reject(required(request("apr_1"))), timing));
    expect(e.code).toBe("APPROVAL_REQUIRED");
    expect(e.message).toBe("approval apr_1 was denied: not during the freeze");
  });

  it("ends with exit 5 when the request lapses with nobody having decided it", async () => {
    const c = client({ apr_1: ["expired"] });
    const e = await failure(withApproval(out, c, {}, async () => Promise.reject(required(request("apr_1"))), timing));
    expect(e.code).toBe("APPROVAL_REQUIRED");
    expect(e.message).toBe("approval request apr_1 lapsed: nobody approved or denied it within 10m");
  });

  it("ends with exit 5 when the request was approved but the grant expired before it was used", async () => {
    const c = client({ apr_1: ["expired"] }, { decidedAt: MINUTE, grant: "once", grantUntil: 2 * MINUTE });
    const e = await failure(withApproval(out, c, {}, async () => Promise.reject(required(request("apr_1"))), timing));
    expect(e.code).toBe("APPROVAL_REQUIRED");
    expect(e.message).toBe("approval apr_1 expired before it was used");
  });

  it("gives up after --wait (5m by default), having run the operation once", async () => {
    const c = client({ apr_1: ["pending"] });
    let runs = 0;
    const e = await failure(withApproval(out, c, {}, async () => (runs++, Promise.reject(required(request("apr_1")))), timing));
    expect(e.code).toBe("APPROVAL_REQUIRED");
    expect(e.message).toBe("no decision on apr_1 within 5m");
    expect(t).toBe(5 * MINUTE);
    expect(runs).toBe(1);
    const short = await failure(
      withApproval(out, client({ apr_1: ["pending"] }), { wait: "30s" }, async () => Promise.reject(required(request("apr_1"))), timing),
    );
    expect(short.message).toBe("no decision on apr_1 within 30s");
  });

  it("with --no-wait, prints the id on stdout and exits 5 at once without asking", async () => {
    const c = client({ apr_1: ["approved"] });
    const original = required(request("apr_1"), request("apr_2"));
    expect(await failure(withApproval(out, c, { wait: false }, async () => Promise.reject(original), timing))).toBe(original);
    expect(stdout).toBe("apr_1\napr_2\n");
    expect(stderr).toBe("");
    expect(c.calls).toEqual([]);
  });

  it("refuses a --wait that is not a duration", async () => {
    const e = await failure(withApproval(out, client({}), { wait: "soon" }, async () => Promise.reject(required(request("apr_1"))), timing));
    expect(e.code).toBe("INVALID_INPUT");
  });
});
