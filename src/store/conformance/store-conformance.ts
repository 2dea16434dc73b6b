/**
 * The conformance suite every Store adapter must pass (sqlite/ now, postgres/ next). Each test
 * gets a fresh, empty store from `makeStore` and calls `cleanup` afterwards (which closes the
 * store, and must tolerate a store the test already closed).
 *
 * What it pins, beyond the comments in store.ts: every byte comes back exactly as written
 * (blobs, text, null versus 0 versus ""); paths sort in UTF-8 byte order; the listing text
 * has one exact format; filters mean exactly what they say (a resource prefix "prod" is
 * "prod" and "prod/…", never "production"); `write()` is all or nothing and serialized; a
 * read outside a write sees only committed data; names are data, never SQL.
 *
 * A bug found in one adapter becomes a test here (STYLE.md, habit 7).
 */
import { afterEach, beforeEach, describe } from "vitest";
import type { Store } from "../store.js";
import { agentConformance } from "./agent-conformance.js";
import { approvalConformance } from "./approval-conformance.js";
import { auditConformance } from "./audit-conformance.js";
import { memberConformance } from "./member-conformance.js";
import { rowConformance } from "./row-conformance.js";
import { stateConformance } from "./state-conformance.js";
import { transactionConformance } from "./transaction-conformance.js";

export type StoreFactory = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

export function describeStoreConformance(name: string, makeStore: StoreFactory): void {
  describe(`Store conformance: ${name}`, () => {
    let current: { store: Store; cleanup: () => Promise<void> } | undefined;
    beforeEach(async () => {
      current = await makeStore();
    });
    afterEach(async () => {
      const c = current;
      current = undefined;
      await c?.cleanup();
    });
    const store = (): Store => {
      if (!current) throw new Error("no store: the factory failed");
      return current.store;
    };
    rowConformance(store);
    auditConformance(store);
    agentConformance(store);
    memberConformance(store);
    approvalConformance(store);
    transactionConformance(store);
    stateConformance(store);
  });
}
