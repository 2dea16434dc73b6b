import type { Command, OptionValues } from "@commander-js/extra-typings";

/** The parser of a repeatable option: each occurrence adds one value. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** For commands whose reads or writes may need the owner's approval (sensitive and critical tiers). */
export const approvalWait = <Args extends unknown[], Opts extends OptionValues, Globals extends OptionValues>(c: Command<Args, Opts, Globals>) =>
  c
    .option("--reason <text>", "why: shown to the owner if an approval is needed")
    .option("--wait <duration>", "how long to wait for the owner's approval", "5m")
    .option("--no-wait", "do not wait: exit 5 at once, printing the approval request id");
