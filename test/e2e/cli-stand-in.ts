import { cpSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./cli.js";

/** The exit status of the stand-in's cli.js, which only says that it was loaded. */
export const CLI_LOADED = 99;

/**
 * A copy of the executable whose cli.js only says that it was loaded: a command that ends with
 * CLI_LOADED and "cli.js loaded" took the CLI, any other took a path of its own. The copy is
 * inside the project, so that it finds node_modules (koffi) as the original does.
 */
export function cliStandIn(name: string): { cli: string; remove(): void } {
  const dir = path.join(ROOT, "dist", `bin-${name}-${process.pid}`);
  cpSync(path.join(ROOT, "dist/bin"), dir, { recursive: true });
  writeFileSync(path.join(dir, "cli.js"), `(function (exports, require, module) { process.stderr.write("cli.js loaded\\n"); process.exit(${CLI_LOADED}); })`);
  rmSync(path.join(dir, "cli.js.cache"));
  return { cli: path.join(dir, "authy.js"), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
