import { execFile } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import { approvalVerb } from "../vault/approval-info.js";
import type { ApprovalInfo } from "../vault/approval-rows.js";
import type { RotationRequest } from "../vault/approval-settings.js";

/**
 * Desktop notifications through `notify-send` (libnotify), where it is installed. Arguments
 * are passed as an array (no shell), after `--`, so nothing in a reason or a path can become
 * an option; reasons have no control characters (the core refuses them).
 */
export const NOTIFY_SEND = "notify-send";
/** notify-send returns at once; one that hangs (no notification daemon) is not waited for. */
const DESKTOP_TIMEOUT_MS = 5_000;

/** The first executable `name` on PATH, or null. */
export function findOnPath(name: string, pathVar = process.env.PATH ?? ""): string | null {
  for (const dir of pathVar.split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function desktopMessage(a: ApprovalInfo): { title: string; body: string } {
  const who = a.agent ? `Agent ${a.agent}` : `Token ${a.principal.replace(/^token:/, "")}`;
  const verb = approvalVerb(a.action);
  return {
    title: `authy: ${who} wants to ${verb} ${a.path}`,
    body: `${a.tier}${a.reason ? ` — ${a.reason}` : ""}\nauthy approvals approve ${a.id}`,
  };
}

export function rotationMessage(r: RotationRequest): { title: string; body: string } {
  return { title: `authy: rotation of ${r.path} requested`, body: `${r.by} asked; authy cannot generate it\nauthy secrets set ${r.path}` };
}

/** Shows the notification; resolves with an error message, or null when it was shown. */
export function desktopNotify(program: string, a: ApprovalInfo | { title: string; body: string }): Promise<string | null> {
  const { title, body } = "title" in a ? a : desktopMessage(a);
  return new Promise((resolve) => {
    execFile(program, ["--app-name=authy", "--urgency=normal", "--", title, body], { timeout: DESKTOP_TIMEOUT_MS, windowsHide: true }, (e) =>
      resolve(e ? e.message.split("\n")[0]! : null),
    );
  });
}
