import { Argument, type Command } from "@commander-js/extra-typings";
import { lazy } from "../action.js";
import { SHELLS } from "../completion/scripts.js";
import { help } from "../help-text.js";

const completion = () => import("../commands/completion.js");

/** Shell completion: `completion` prints a script, the hidden `__complete` answers it on each Tab. */
export function declareCompletion(program: Command): void {
  program
    .command("completion")
    .description("print the shell completion script: commands, options, and secret paths from the daemon when it is unlocked")
    .addHelpText(
      "after",
      help(
        [
          "authy completion bash > ~/.local/share/bash-completion/completions/authy",
          'authy completion zsh > "${fpath[1]}/_authy"',
          "authy completion fish > ~/.config/fish/completions/authy.fish",
        ],
        [0, 2],
      ),
    )
    .addArgument(new Argument("<shell>", "the shell").choices(SHELLS))
    .action(lazy(completion, (m) => m.script));

  // Called by the completion scripts on each Tab: the words typed so far, after --.
  program
    .command("__complete [words...]", { hidden: true })
    .allowUnknownOption()
    // The handler is given the whole tree to walk: buildProgram declares all of it for
    // __complete, and this command's parent is its root (no import of program.ts: no cycle).
    .action((words, opts, command) => lazy(completion, (m) => m.completeWords)(words, command.parent!, opts, command));
}
