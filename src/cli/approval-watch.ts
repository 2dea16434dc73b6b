import { formatDuration } from "../formats/duration.js";
import type { ApprovalInfo } from "../vault/approval-rows.js";
import { describeRequest } from "./approval-wait.js";

/**
 * `approvals watch` on a terminal, decided purely: the state of the screen, what a key press
 * does to it, and what the screen shows. The command (commands/approvals.ts) feeds it keys
 * and the pending list, carries out the decisions it returns and prints what it renders.
 *
 *   ↑/↓ (or k/j)  select        a  approve (single use, or for --for when given)
 *   d             deny: type a reason, Enter sends, Esc cancels        q / Ctrl-C  quit
 */
export interface WatchState {
  items: ApprovalInfo[];
  selected: number;
  /** Typing a denial reason for `id`, or browsing. */
  typing: { id: string; text: string } | null;
  /** The outcome of the last decision, shown under the list. */
  message: string;
}

export type WatchCommand = { kind: "approve"; id: string } | { kind: "deny"; id: string; reason: string } | { kind: "quit" };

/** What readline's keypress events give: the character typed and the key's name. */
export interface KeyPress {
  name?: string;
  ctrl?: boolean;
  sequence?: string;
}

/** Longest denial reason typed in the watch view (the core's own limit is the same). */
const MAX_TYPED_REASON = 500;

export function initialState(): WatchState {
  return { items: [], selected: 0, typing: null, message: "" };
}

/** New pending list: the selection stays on the same request while it is still there. */
export function withItems(state: WatchState, items: ApprovalInfo[]): WatchState {
  const current = state.items[state.selected]?.id;
  const at = current === undefined ? -1 : items.findIndex((a) => a.id === current);
  const selected = at >= 0 ? at : Math.min(state.selected, Math.max(0, items.length - 1));
  const typing = state.typing && items.some((a) => a.id === state.typing!.id) ? state.typing : null;
  return { ...state, items, selected, typing };
}

export function onKey(state: WatchState, str: string | undefined, key: KeyPress = {}): { state: WatchState; command: WatchCommand | null } {
  if (key.ctrl && key.name === "c") return { state, command: { kind: "quit" } };
  if (state.typing) {
    const t = state.typing;
    if (key.name === "escape") return { state: { ...state, typing: null, message: "denial cancelled" }, command: null };
    if (key.name === "return" || key.name === "enter") {
      const reason = t.text.trim();
      if (reason === "") return { state: { ...state, message: "a denial needs a reason (Esc cancels)" }, command: null };
      return { state: { ...state, typing: null }, command: { kind: "deny", id: t.id, reason } };
    }
    if (key.name === "backspace") return { state: { ...state, typing: { ...t, text: Array.from(t.text).slice(0, -1).join("") } }, command: null };
    // Printable characters only: the reason ends up in the audit log and the agent's terminal.
    if (str !== undefined && !key.ctrl && /^[^\p{Cc}\p{Cf}]+$/u.test(str) && t.text.length + str.length <= MAX_TYPED_REASON) {
      return { state: { ...state, typing: { ...t, text: t.text + str } }, command: null };
    }
    return { state, command: null };
  }
  const selected = state.items[state.selected];
  switch (key.name ?? str) {
    case "q":
      return { state, command: { kind: "quit" } };
    case "up":
    case "k":
      return { state: { ...state, selected: Math.max(0, state.selected - 1) }, command: null };
    case "down":
    case "j":
      return { state: { ...state, selected: Math.min(Math.max(0, state.items.length - 1), state.selected + 1) }, command: null };
    case "a":
      return { state, command: selected ? { kind: "approve", id: selected.id } : null };
    case "d":
      return { state: selected ? { ...state, typing: { id: selected.id, text: "" }, message: "" } : state, command: null };
  }
  return { state, command: null };
}

function age(ms: number): string {
  return ms < 1000 ? "0s" : formatDuration(Math.floor(ms / 1000) * 1000).split(" ")[0]!;
}

/** The whole screen, as lines (the command clears and prints it). */
export function render(state: WatchState, now: number, opts: { forMs?: number; color: boolean }): string[] {
  const bold = (s: string) => (opts.color ? `\u001b[1m${s}\u001b[0m` : s);
  const dim = (s: string) => (opts.color ? `\u001b[2m${s}\u001b[0m` : s);
  const approveWhat = opts.forMs === undefined ? "approve once" : `approve for ${formatDuration(opts.forMs)}`;
  const lines = [bold("authy approvals watch") + dim(`  ↑/↓ select · a ${approveWhat} · d deny · q quit`), ""];
  if (state.items.length === 0) lines.push(dim("no pending requests; waiting…"));
  state.items.forEach((a, i) => {
    const mark = i === state.selected ? "›" : " ";
    const line = `${mark} ${a.id}  ${a.tier.padEnd(9)}  ${describeRequest(a)}  ${dim(`(${age(now - a.createdAt)} ago, lapses in ${age(a.expiresAt - now)})`)}`;
    lines.push(i === state.selected ? bold(line) : line);
  });
  lines.push("");
  if (state.typing) lines.push(`reason for denying ${state.typing.id}: ${state.typing.text}▏`, dim("Enter sends · Esc cancels"));
  else if (state.message) lines.push(state.message);
  return lines;
}
