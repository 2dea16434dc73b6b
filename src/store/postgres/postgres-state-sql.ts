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

/** A bucket's rows as stateRows selects them (same rows, same order), as two arrays beside the change token. */
export function stateAtSql(b: StateBucket): [string, unknown[]] {
  switch (b.table) {
    case "secrets":
      return [stateAtText(b.table), [b.namespace, b.shard]];
    case "tokens":
    case "approvals":
      return [stateAtText(b.table), [b.shard]];
    default:
      return [stateAtText(b.table), []];
  }
}

/** stateAtSql's statements, one per table, built once: reads use them on every request. */
const stateAtTexts = new Map<StateBucket["table"], string>();

function stateAtText(table: StateBucket["table"]): string {
  let text = stateAtTexts.get(table);
  if (text !== undefined) return text;
  const at = (key: string, from: string, where = "") =>
    `SELECT ${CHANGE_TOKEN_SQL} AS token, coalesce(array_agg(${key} ORDER BY ${key}), '{}') AS keys, ` +
    `coalesce(array_agg(mac ORDER BY ${key}), '{}') AS macs FROM ${from}${where}`;
  switch (table) {
    case "secrets":
      text = at("path", "secrets", " WHERE namespace = $1 AND shard = $2");
      break;
    case "tokens":
    case "approvals":
      text = at("id", table, " WHERE right(id, 1) = $1");
      break;
    case "agents":
    case "members":
      text = at("name", table);
      break;
    case "slots":
      text = at("id", "key_slots");
      break;
    case "policy":
    case "settings":
      text = at("''::text", table);
      break;
  }
  stateAtTexts.set(table, text);
  return text;
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
