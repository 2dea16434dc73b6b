import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import type { AuditRow } from "../store/store.js";
import { Vault } from "../vault/vault.js";
import { buildApi, type ApiOptions } from "./app.js";

/** A real vault on a temporary SQLite file, a settable clock, and the API in front of it. */
export interface Harness {
  dir: string;
  store: SqliteStore;
  clock: { t: number; now(): number };
  vault: Vault;
  app: FastifyInstance;
  /** The owner session secret the harness's daemon stand-in recognises. */
  session: string;
  activity: { count: number };
  locked(): boolean;
  req(method: string, url: string, options?: { bearer?: string | null; body?: unknown; raw?: string | Buffer; headers?: Record<string, string> }): Promise<Res>;
  audit(action?: string): Promise<AuditRow[]>;
  close(): Promise<void>;
}

export interface Res {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  raw: string;
  headers: Record<string, unknown>;
}

export const START = 1_700_000_000_000;
export const SESSION = "authy_session_0123456789abcdef0123456789abcdef";
export const INSTANCE = "test-instance";

export async function harness(extra: Partial<ApiOptions> = {}): Promise<Harness> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "authy-api-"));
  const store = SqliteStore.open(path.join(dir, "vault.db"), { create: true });
  const clock = {
    t: START,
    now() {
      return this.t;
    },
  };
  const vault = await Vault.init({ store, clock }, { passphrase: "pw", workFactor: 15 });
  let current: Vault | null = vault;
  const activity = { count: 0 };
  const app = await buildApi({
    vault: () => current,
    instance: INSTANCE,
    isOwnerSession: (b) => b === SESSION,
    onActivity: () => {
      activity.count++;
    },
    lock: async () => {
      current = null;
    },
    status: () => ({ daemon: true, pid: 4242 }),
    ...extra,
  });
  const h: Harness = {
    dir,
    store,
    clock,
    vault,
    app,
    session: SESSION,
    activity,
    locked: () => current === null,
    async req(method, url, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      const bearer = o.bearer === undefined ? SESSION : o.bearer;
      if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
      let payload: string | Buffer | undefined;
      if (o.raw !== undefined) payload = o.raw;
      else if (o.body !== undefined) payload = JSON.stringify(o.body);
      if (payload !== undefined && headers["content-type"] === undefined) headers["content-type"] = "application/json";
      const res = await app.inject({ method: method as "GET", url, headers, ...(payload === undefined ? {} : { payload }) });
      let body: unknown;
      try {
        body = res.body === "" ? undefined : JSON.parse(res.body);
      } catch {
        body = undefined;
      }
      return { status: res.statusCode, body, raw: res.body, headers: res.headers };
    },
    async audit(action) {
      const rows = await store.listAudit({});
      return action === undefined ? rows : rows.filter((r) => r.action === action);
    },
    async close() {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

export const b64 = (s: string | Uint8Array) => Buffer.from(typeof s === "string" ? Buffer.from(s, "utf8") : s).toString("base64");
