import type { StateBucket, StateRow } from "../store.js";

/**
 * The SQL that reads the fresh-rows state (src/vault/state-digest.ts) of the PostgreSQL store:
 * each bucket's keys and MACs beside the change token, alone or joined to a row read with it.
 * Built from constants, once per table and statement.
 */

/**
 * The change token (PostgresStore.changeToken) as an SQL expression: the transaction id that
 * last wrote the vault row, and its state MAC.
 */
export const CHANGE_TOKEN_SQL = "coalesce((SELECT xmin::text || '|' || coalesce(encode(state_mac, 'hex'), '') FROM vault WHERE id = 1), 'none')";

/** Each table's state rows: their key (their order) and where they are; $1 and $2 as bucketValues() gives them. */
const BUCKET_ROWS: Record<StateBucket["table"], { key: string; from: string }> = {
  secrets: { key: "path", from: "secrets WHERE namespace = $1 AND shard = $2" },
  tokens: { key: "id", from: "tokens WHERE right(id, 1) = $1" },
  approvals: { key: "id", from: "approvals WHERE right(id, 1) = $1" },
  agents: { key: "name", from: "agents" },
  members: { key: "name", from: "members" },
  slots: { key: "id", from: "key_slots" },
  policy: { key: "''::text", from: "policy" },
  settings: { key: "''::text", from: "settings" },
};

function bucketValues(b: StateBucket): unknown[] {
  switch (b.table) {
    case "secrets":
      return [b.namespace, b.shard];
    case "tokens":
    case "approvals":
      return [b.shard];
    default:
      return [];
  }
}

/** Each table's statement, built once from the constants above: reads use them on every request. */
function byTable(statement: (rows: { key: string; from: string }, table: StateBucket["table"]) => string): Record<StateBucket["table"], string> {
  return Object.fromEntries(Object.entries(BUCKET_ROWS).map(([table, rows]) => [table, statement(rows, table as StateBucket["table"])])) as Record<
    StateBucket["table"],
    string
  >;
}

const STATE_AT = byTable(
  ({ key, from }) =>
    `SELECT ${CHANGE_TOKEN_SQL} AS token, coalesce(array_agg(${key} ORDER BY ${key}), '{}') AS keys, ` +
    `coalesce(array_agg(mac ORDER BY ${key}), '{}') AS macs FROM ${from}`,
);

/** The bucket text (Store.stateTextsAt): a secret's line is its path, U+001F and its hex MAC; any other row's, its hex MAC. */
const STATE_TEXT_AT = byTable(({ key, from }, table) => {
  const line = table === "secrets" ? "path || chr(31) || encode(mac, 'hex')" : "encode(mac, 'hex')";
  return `SELECT ${CHANGE_TOKEN_SQL} AS token, coalesce(string_agg(${line}, chr(10) ORDER BY ${key}), '') AS text FROM ${from}`;
});

/** A bucket's rows as stateRows selects them (same rows, same order), as two arrays beside the change token. */
export function stateAtSql(b: StateBucket): [string, unknown[]] {
  return [STATE_AT[b.table], bucketValues(b)];
}

/** A bucket's rows joined into its text (the same rows in the same order), beside the change token. */
export function stateTextAtSql(b: StateBucket): [string, unknown[]] {
  return [STATE_TEXT_AT[b.table], bucketValues(b)];
}

/** rowAtSql's statements, by the bucket's table and the row's statement (a few in all). */
const rowAtTexts = new Map<StateBucket["table"], Map<string, string>>();

/**
 * The statement of PostgresStore.rowAt, built once: the row `sql` selects (its parameters
 * moved past the state's) joined to `bucket`'s state, which is exactly one row, and marked
 * to tell "no row" from a row of NULLs. With the state's values, to come first.
 */
export function rowAtSql(bucket: StateBucket, sql: string): [string, unknown[]] {
  const [stateSql, stateValues] = stateAtSql(bucket);
  let texts = rowAtTexts.get(bucket.table);
  if (texts === undefined) rowAtTexts.set(bucket.table, (texts = new Map<string, string>()));
  let joined = texts.get(sql);
  if (joined === undefined) {
    const shifted = sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + stateValues.length}`);
    joined =
      `SELECT a.token AS authy_at_token, a.keys AS authy_at_keys, a.macs AS authy_at_macs, q.* ` +
      `FROM (${stateSql}) AS a LEFT JOIN (SELECT true AS authy_at_found, r.* FROM (${shifted}) AS r) AS q ON true`;
    texts.set(sql, joined);
  }
  return [joined, stateValues];
}

/** A bucket's rows from the two arrays stateAtSql selects. */
export function stateRowsOf(keys: unknown, macs: unknown): StateRow[] {
  return (keys as string[]).map((key, i) => ({ key, mac: (macs as Uint8Array[])[i]! }));
}
