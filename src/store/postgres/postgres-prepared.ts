import type pg from "pg";

/**
 * Every statement of the store as a named (prepared) one: PostgreSQL parses and plans a named
 * statement once per connection instead of on every execution, and planning was most of its
 * CPU per query (joins and subqueries planned for a one-row answer). Measured on the team
 * server bench (bench/figures/server.mjs, issue 14 item 8): PostgreSQL's CPU per audited
 * token read went from 224 to 153 us with one server and from 345 to 211 us with two.
 *
 * Only for SQL built from constants (the store's statements and templates of them, a few
 * hundred texts at most), never from data: every connection keeps each name for its life.
 * Values are always parameters, so a name stands for one text whatever they are.
 */
const names = new Map<string, string>();

/** The name of the statement `text`. */
export function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) names.set(text, (name = `authy_${names.size.toString(36)}`));
  return name;
}

/** The query config of `text` with `values`, under its name. */
export function prepared(text: string, values: unknown[]): pg.QueryConfig {
  return { name: statementName(text), text, values };
}
