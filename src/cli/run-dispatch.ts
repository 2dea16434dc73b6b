import path from "node:path";
import type { DispatchRequest, EnvReference, RunSandbox } from "../vault/dispatch.js";

/**
 * The dispatch `authy run` asks for, in one place: `run` (commands/run.ts) and its path of its
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
