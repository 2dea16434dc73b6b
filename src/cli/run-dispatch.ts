import path from "node:path";
import type { RunChildResult } from "../run/index.js";
import type { Dispatch, DispatchRequest, EnvReference, RunSandbox } from "../vault/dispatch.js";

/**
 * The dispatch `authy run` asks for, what it says of each secret granted, and the run's end,
 * in one place: `run` (commands/run.ts) and its path of its
 * own (fast-run.ts) must send the same bytes, since an answer the one hands the other is known
 * by them (http-wire.ts, requestKey).
 */
export function runDispatch(o: {
  scope: string | undefined;
  refs: EnvReference[];
  only: string[] | undefined;
  program: string;
  reason: string | undefined;
  ownScope: boolean;
  sandbox: RunSandbox | undefined;
}): DispatchRequest {
  return {
    scope: o.scope,
    refs: o.refs,
    only: o.only,
    command: path.basename(o.program),
    details: { pid: process.pid },
    reason: o.reason,
    ownScope: o.ownScope,
    ...(o.sandbox ? { sandbox: o.sandbox } : {}),
  };
}

/** Where a granted secret came from, for the errors of buildChildEnv (run/env.ts). */
export function grantSource(secret: Dispatch["secrets"][number], scope: string | null): string {
  return `secret ${secret.path}${scope ? ` in scope ${scope}` : ""}`;
}

/** What the run's end records (the endRun operation, src/operations/env.ts, with the ticket). */
export function runEnd(result: RunChildResult): { exitCode: number; signal: string | null; durationMs: number; pid: number } {
  return { exitCode: result.exitCode, signal: result.signal, durationMs: Math.round(result.durationMs), pid: process.pid };
}
