/**
 * The PostgreSQL store against the shared conformance suite, unchanged, on a real server
 * (test/setup/postgres.ts). Each test gets an empty schema in this file's own database.
 */
import { afterAll, beforeAll } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/setup/postgres-database.js";
import { describeStoreConformance } from "../conformance/store-conformance.js";
import { openPostgresStore } from "./postgres-store.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase("conformance");
});
afterAll(async () => {
  await db.drop();
});

describeStoreConformance("postgres", async () => {
  await db.reset();
  const store = await openPostgresStore(db.url);
  return { store, cleanup: () => store.close() };
});
