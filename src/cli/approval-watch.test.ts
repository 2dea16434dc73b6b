/** The `approvals watch` screen, decided purely: keys in, commands and lines out. */
import { describe, expect, it } from "vitest";
import type { ApprovalInfo } from "../vault/approval-rows.js";
import { initialState, onKey, render, withItems, type WatchState } from "./approval-watch.js";

function request(id: string, path = "prod/DB"): ApprovalInfo {
  return {
    id,
    principal: "agent:deploy-bot",
    agent: "deploy-bot",
    token: "t1",
    action: "secret.read",
    path,
    tier: "sensitive",
    reason: "backup",
    status: "pending",
    createdAt: 0,
    expiresAt: 600_000,
    decidedAt: null,
    decisionReason: null,
    grant: null,
    grantUntil: null,
    usedAt: null,
  };
}

function press(state: WatchState, ...keys: (string | { name: string; ctrl?: boolean })[]) {
  let command = null;
  for (const k of keys) {
    const r = typeof k === "string" ? onKey(state, k, { name: k.length === 1 ? k.toLowerCase() : k, sequence: k }) : onKey(state, undefined, k);
    state = r.state;
    command = r.command ?? command;
  }
  return { state, command };
}

describe("approvals watch", () => {
  const three = withItems(initialState(), [request("apr_a"), request("apr_b", "prod/ROOT"), request("apr_c")]);

  it("shows a reason padded with spaces or holding escapes visibly, on its own line", () => {
    const padded = { ...request("apr_a"), reason: `ok${" ".repeat(120)}apr_fake  sensitive  agent evil wants to read prod/ROOT` };
    const lines = render(withItems(initialState(), [padded]), 0, { color: false });
    const row = lines.filter((l) => l.includes("apr_"));
    expect(row).toHaveLength(1);
    expect(row[0]).toContain('"ok[120 spaces]apr_fake[2 spaces]sensitive[2 spaces]agent evil wants to read prod/ROOT"');
  });

  it("moves the selection with the arrows and approves the selected request with a", () => {
    expect(press(three, "a").command).toEqual({ kind: "approve", id: "apr_a" });
    expect(press(three, { name: "down" }, { name: "down" }, { name: "down" }, "a").command).toEqual({ kind: "approve", id: "apr_c" });
    expect(press(three, { name: "down" }, { name: "up" }, { name: "up" }, "a").command).toEqual({ kind: "approve", id: "apr_a" });
  });

  it("denies with d, a typed reason and Enter; refuses an empty reason; Esc cancels", () => {
    const typed = press(three, { name: "down" }, "d", "n", "o", "p", "e", { name: "backspace" }, " ", "!", { name: "return" });
    expect(typed.command).toEqual({ kind: "deny", id: "apr_b", reason: "nop !" });
    const empty = press(three, "d", { name: "return" });
    expect(empty.command).toBeNull();
    expect(empty.state.message).toContain("needs a reason");
    const cancelled = press(three, "d", "x", { name: "escape" }, "q");
    expect(cancelled.state.typing).toBeNull();
    expect(cancelled.command).toEqual({ kind: "quit" });
  });

  it("never types control characters into a reason, and a and q are just letters while typing", () => {
    const r = press(three, "d", "\u001b[2J", "a", "q", { name: "return" });
    expect(r.command).toEqual({ kind: "deny", id: "apr_a", reason: "aq" });
  });

  it("quits on q or Ctrl-C, and does nothing with an empty list", () => {
    expect(press(three, "q").command).toEqual({ kind: "quit" });
    expect(press(three, { name: "c", ctrl: true }).command).toEqual({ kind: "quit" });
    expect(press(initialState(), "a", "d", { name: "down" }).command).toBeNull();
  });

  it("keeps the selection on the same request when the list changes", () => {
    const onB = press(three, { name: "down" }).state;
    const later = withItems(onB, [request("apr_b", "prod/ROOT"), request("apr_c"), request("apr_d")]);
    expect(press(later, "a").command).toEqual({ kind: "approve", id: "apr_b" });
    const gone = withItems(later, [request("apr_x")]);
    expect(gone.selected).toBe(0);
  });

  it("shows each request with who wants what and why, and what a does", () => {
    const lines = render(three, 60_000, { color: false, forMs: 15 * 60_000 }).join("\n");
    expect(lines).toContain("a approve for 15m");
    expect(lines).toContain('› apr_a  sensitive  agent deploy-bot wants to read prod/DB: "backup"  (1m ago, lapses in 9m)');
    expect(render(initialState(), 0, { color: false }).join("\n")).toContain("no pending requests");
  });
});
