/**
 * Finding the program to run the way a shell does (execvp), before starting it: so that a
 * missing or non-executable command gets a shell's exit status (127, 126) and a clear message
 * on every path, including the PTY, where a failed exec shows up only as garbled output.
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";

/** The search path execvp uses when PATH is not set (glibc's confstr(_CS_PATH)). */
const DEFAULT_SEARCH_PATH = "/bin:/usr/bin";

type CommandLookup = { ok: true; path: string } | { ok: false; reason: "not-found" | "not-executable"; exitCode: 126 | 127; message: string };

export function resolveCommand(command: string, searchPath: string | undefined, cwd: string): CommandLookup {
  if (command.includes("/")) {
    const path = isAbsolute(command) ? command : resolve(cwd, command);
    const problem = checkExecutable(path);
    if (problem === null) return { ok: true, path };
    if (problem === "missing") return notFound(command, "no such file or directory");
    return notExecutable(command, problem);
  }
  let firstProblem: string | null = null;
  if (command !== "") {
    for (const dir of (searchPath ?? DEFAULT_SEARCH_PATH).split(delimiter)) {
      const path = resolve(cwd, join(dir === "" ? "." : dir, command));
      const problem = checkExecutable(path);
      if (problem === null) return { ok: true, path };
      if (problem !== "missing" && problem !== "is a directory") firstProblem ??= problem;
    }
  }
  // Like a shell: a file that exists but cannot be run is reported as such (126).
  return firstProblem === null ? notFound(command, "command not found") : notExecutable(command, firstProblem);
}

/** null when `path` can be executed, else why not. */
function checkExecutable(path: string): string | null {
  try {
    if (statSync(path).isDirectory()) return "is a directory";
  } catch {
    return "missing";
  }
  try {
    accessSync(path, constants.X_OK);
    return null;
  } catch {
    return "permission denied";
  }
}

function notFound(command: string, why: string): CommandLookup {
  return { ok: false, reason: "not-found", exitCode: 127, message: `${command}: ${why}` };
}

function notExecutable(command: string, why: string): CommandLookup {
  return { ok: false, reason: "not-executable", exitCode: 126, message: `${command}: ${why}` };
}
