import Database from "better-sqlite3";

/** Opens a vault file with SQLite as an attacker would (no authy code at all), runs `fn`, closes it. */
export function sql(file: string, fn: (db: Database.Database) => void): void {
  const db = new Database(file);
  try {
    fn(db);
  } finally {
    db.close();
  }
}
