// Wrote format-2-texts.json with the dist/ built at 7f0a48f, when the store still built the bucket texts (stateText).
import { writeFileSync } from "node:fs";
import { SqliteStore } from "../../../../dist/store/sqlite/sqlite-store.js";
import { parseBucketName } from "../../../../dist/vault/state-digest.js";
const store = SqliteStore.open(process.argv[2], { readonly: true });
const buckets = {};
for (const d of await store.listStateDigests()) buckets[d.bucket] = await store.stateText(parseBucketName(d.bucket));
writeFileSync(process.argv[3], JSON.stringify({ listing: await store.listingText(), buckets }, null, 1) + "\n");
await store.close();
