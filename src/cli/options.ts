import type { Command, OptionValues } from "@commander-js/extra-typings";
import { AuthyError } from "../errors.js";
import { MAX_APPROVAL_REASON_LENGTH } from "../vault/approval-info.js";

/** The parser of a repeatable option: each occurrence adds one value. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * The parser of `--reason`: a reason longer than the vault keeps is refused here, in the vault's
 * own words, before any request; past the API's limit the refusal would otherwise be its
 * schema's ("invalid query: reason: Too big …"), a different one for each command.
 */
export function reasonText(value: string): string {
  if (value.trim().length > MAX_APPROVAL_REASON_LENGTH)
    throw new AuthyError("INVALID_INPUT", `--reason is longer than ${MAX_APPROVAL_REASON_LENGTH} characters`);
  return value;
}

/** For commands whose reads or writes may need the owner's approval (sensitive and critical tiers). */
export const approvalWait = <Args extends unknown[], Opts extends OptionValues, Globals extends OptionValues>(c: Command<Args, Opts, Globals>) =>
  c
    .option("--reason <text>", "why: shown to the owner if an approval is needed", reasonText)
    .option("--wait <duration>", "how long to wait for the owner's approval", "5m")
    .option("--no-wait", "do not wait: exit 5 at once, printing the approval request id");
