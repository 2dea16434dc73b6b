// Masks stdin to stdout: for measuring masking throughput against `cat` (not a test).
// usage: node mask-filter.mjs <compiled run/index.js> <secrets JSON file>
//   Compile src/run with compileRunModule() (run.test-helpers.ts) or tsc first, then e.g.
//   time (head -c 100M data | node mask-filter.mjs …/run/index.js secrets.json > /dev/null)
import { readFileSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import { pathToFileURL } from "node:url";

const [, , modulePath, secretsFile] = process.argv;
const run = await import(pathToFileURL(modulePath).href);
const masker = run.createMasker(JSON.parse(readFileSync(secretsFile, "utf8")));
process.stderr.write(`${masker.patternCount} patterns\n`);
await pipeline(process.stdin, run.maskStream(masker), process.stdout);
