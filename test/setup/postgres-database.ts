/**
 * A database of its own for one test file, on the test server (test/setup/postgres.ts), so
 * that test files run in parallel. Dropped when the file is done.
 */
import pg from "pg";
import { inject } from "vitest";

export interface TestDatabase {
  /** Connection URL of the new database. */
  url: string;
  /** Empties it (drops and recreates the public schema): a fresh vault for the next test. */
  reset(): Promise<void>;
  drop(): Promise<void>;
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const server = inject("authyPostgresUrl");
  const name = `authy_${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  // An identifier cannot be a parameter; this one is made of [a-z0-9_] above.
  await admin(server, (c) => c.query(`CREATE DATABASE ${name}`));
  const u = new URL(server);
  u.pathname = `/${name}`;
  const url = u.toString();
  return {
    url,
    reset: () => admin(url, (c) => c.query("DROP SCHEMA public CASCADE; CREATE SCHEMA public").then(() => undefined)),
    drop: () => admin(server, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => undefined)),
  };
}
