// Runs runChild in a process of its own, so that tests can kill "authy" (this process) or
// close its stdout. Loads a compiled copy of src/run (see run.test-helpers.ts).
// usage: node harness.mjs <compiled run/index.js> <config JSON>
import { pathToFileURL } from "node:url";

const [, , modulePath, configJson] = process.argv;
const run = await import(pathToFileURL(modulePath).href);
const config = JSON.parse(configJson);
const result = await run.runChild({
  command: config.command,
  args: config.args ?? [],
  env: run.buildChildEnv(process.env, config.secrets ?? {}),
  masker: config.mask ? run.createMasker(config.mask) : null,
  cleanupFiles: config.cleanupFiles ?? [],
  stdin: "ignore",
});
process.stderr.write(`RESULT ${JSON.stringify(result)}\n`);
process.exitCode = result.exitCode;
