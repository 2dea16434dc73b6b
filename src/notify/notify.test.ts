/**
 * Notifications of new approval requests: the webhook against a real HTTP listener on
 * 127.0.0.1 (retries, give-ups, timeouts, no redirects, never a value), notify-send through a
 * stand-in script on PATH, and the config file that turns them on.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ApprovalInfo } from "../vault/approval-rows.js";
import { DEFAULT_CONFIG, loadConfig, parseConfig } from "./config.js";
import { findOnPath } from "./desktop.js";
import { createNotifier } from "./notifier.js";
import { postWebhook, webhookPayload, WEBHOOK_ATTEMPTS } from "./webhook.js";

const request: ApprovalInfo = {
  id: "apr_abc",
  principal: "agent:deploy-bot",
  agent: "deploy-bot",
  token: "t1",
  action: "secret.read",
  path: "prod/DB",
  tier: "sensitive",
  reason: "nightly backup",
  status: "pending",
  createdAt: Date.UTC(2030, 0, 1),
  expiresAt: Date.UTC(2030, 0, 1, 0, 10),
  decidedAt: null,
  decisionReason: null,
  grant: null,
  grantUntil: null,
  usedAt: null,
};
const noSleep = { sleep: async () => undefined };

interface Received {
  method: string;
  headers: IncomingMessage["headers"];
  body: string;
}

let server: Server;
let url: string;
let received: Received[];
/** What the listener answers, call by call (the last one repeats). */
let answers: ((res: ServerResponse) => void)[];
let dir: string;

beforeEach(async () => {
  received = [];
  answers = [(res) => res.writeHead(204).end()];
  dir = mkdtempSync(path.join(os.tmpdir(), "authy-notify-"));
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      received.push({ method: req.method ?? "", headers: req.headers, body });
      (answers.length > 1 ? answers.shift()! : answers[0]!)(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe("webhook", () => {
  it("POSTs the request as JSON: who, what, which path, why, until when, and how to decide; never a value", async () => {
    const r = await postWebhook(url, webhookPayload(request), noSleep);
    expect(r).toEqual({ ok: true, attempts: 1, status: 204 });
    expect(received).toHaveLength(1);
    expect(received[0]!.method).toBe("POST");
    expect(received[0]!.headers["content-type"]).toBe("application/json");
    const body = JSON.parse(received[0]!.body) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([
      "action",
      "agent",
      "approve",
      "createdAt",
      "deny",
      "event",
      "expiresAt",
      "id",
      "path",
      "principal",
      "reason",
      "text",
      "tier",
    ]);
    expect(body).toMatchObject({
      event: "approval.request",
      id: "apr_abc",
      agent: "deploy-bot",
      action: "secret.read",
      path: "prod/DB",
      tier: "sensitive",
      reason: "nightly backup",
      expiresAt: "2030-01-01T00:10:00.000Z",
      approve: "authy approvals approve apr_abc",
    });
    expect(received[0]!.body).not.toMatch(/value/i);
  });

  it("retries a 500 and a 429 with growing pauses, then succeeds", async () => {
    answers = [(res) => res.writeHead(500).end(), (res) => res.writeHead(429).end(), (res) => res.writeHead(200).end("ok")];
    const pauses: number[] = [];
    const r = await postWebhook(url, { x: 1 }, { sleep: async (ms) => void pauses.push(ms), firstBackoffMs: 100 });
    expect(r).toEqual({ ok: true, attempts: 3, status: 200 });
    expect(pauses).toEqual([100, 200]);
    expect(received).toHaveLength(3);
  });

  it("gives up after a bounded number of attempts", async () => {
    answers = [(res) => res.writeHead(503).end()];
    const r = await postWebhook(url, { x: 1 }, noSleep);
    expect(r).toEqual({ ok: false, attempts: WEBHOOK_ATTEMPTS, error: "HTTP 503" });
    expect(received).toHaveLength(WEBHOOK_ATTEMPTS);
  });

  it("does not retry a 4xx, and does not follow a redirect", async () => {
    answers = [(res) => res.writeHead(404).end()];
    expect(await postWebhook(url, {}, noSleep)).toEqual({ ok: false, attempts: 1, error: "HTTP 404" });
    answers = [(res) => res.writeHead(307, { location: "http://127.0.0.1:1/elsewhere" }).end()];
    expect(await postWebhook(url, {}, noSleep)).toMatchObject({ ok: false, attempts: 1, error: "HTTP 307" });
  });

  it("times out a receiver that never answers, and retries it", async () => {
    answers = [() => undefined];
    const r = await postWebhook(url, {}, { ...noSleep, timeoutMs: 200, attempts: 2 });
    expect(r).toEqual({ ok: false, attempts: 2, error: "no answer within 200 ms" });
  });

  it("reports a receiver that is not there, without throwing", async () => {
    const r = await postWebhook("http://127.0.0.1:1/nothing", {}, { ...noSleep, attempts: 2 });
    expect(r).toMatchObject({ ok: false, attempts: 2 });
  });
});

describe("notifier", () => {
  it("sends each new request to the configured webhook in the background, and reports failures to its log", async () => {
    const errors: string[] = [];
    const n = createNotifier({ onError: (m) => errors.push(m), webhook: noSleep });
    const notify = { webhook: url, desktop: false };
    n.requested(request, notify);
    await n.flush();
    expect(JSON.parse(received[0]!.body).id).toBe("apr_abc");
    answers = [(res) => res.writeHead(500).end()];
    n.requested({ ...request, id: "apr_two" }, notify);
    await n.flush();
    expect(errors).toEqual([`webhook for apr_two failed after ${WEBHOOK_ATTEMPTS} attempt(s): HTTP 500`]);
  });

  it("runs notify-send where present, with the request as arguments after --", async () => {
    const bin = path.join(dir, "bin");
    mkdirSync(bin);
    const log = path.join(dir, "args.txt");
    writeFileSync(path.join(bin, "notify-send"), `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > '${log}'\n`);
    chmodSync(path.join(bin, "notify-send"), 0o755);
    expect(findOnPath("notify-send", `/nonexistent${path.delimiter}${bin}`)).toBe(path.join(bin, "notify-send"));
    const n = createNotifier({ pathVar: bin });
    n.requested({ ...request, reason: "--help me" }, { webhook: null, desktop: true });
    await n.flush();
    expect(readFileSync(log, "utf8").split("\n")).toEqual([
      "--app-name=authy",
      "--urgency=normal",
      "--",
      "authy: Agent deploy-bot wants to read prod/DB",
      "sensitive — --help me",
      "authy approvals approve apr_abc",
      "",
    ]);
  });

  it("does nothing when notify-send is absent or desktop notifications are off", async () => {
    expect(findOnPath("notify-send", path.join(dir, "empty"))).toBeNull();
    const n = createNotifier({ pathVar: path.join(dir, "empty") });
    n.requested(request, DEFAULT_CONFIG.notify);
    await n.flush();
    expect(received).toEqual([]);
  });
});

describe("config.yaml", () => {
  it("defaults when the file is missing", async () => {
    expect(await loadConfig(path.join(dir, "no-such-home"))).toEqual(DEFAULT_CONFIG);
  });

  it("reads the webhook, desktop switch and approval expiry", async () => {
    writeFileSync(path.join(dir, "config.yaml"), "notify:\n  webhook: https://hooks.example.com/authy\n  desktop: false\napprovals:\n  expiry: 30m\n");
    expect(await loadConfig(dir)).toEqual({ notify: { webhook: "https://hooks.example.com/authy", desktop: false }, approvals: { expiryMs: 30 * 60_000 } });
  });

  it("refuses what it does not understand, naming the key", () => {
    const bad = (text: string) => {
      try {
        parseConfig(text, "config.yaml");
      } catch (e) {
        return (e as Error).message;
      }
      return "accepted";
    };
    expect(bad("notify:\n  webhok: http://x\n")).toMatch(/^config.yaml: notify: /);
    expect(bad("notify:\n  webhook: file:///etc/passwd\n")).toContain("notify.webhook: must be an http:// or https:// URL");
    expect(bad("notify:\n  webhook: https://user:pw@example.com/\n")).toContain("notify.webhook");
    expect(bad("notify:\n  desktop: yes please\n")).toContain("notify.desktop");
    expect(bad("approvals:\n  expiry: 10s\n")).toContain("between 1m and 24h");
    expect(bad("notify: [\n")).toContain("not valid YAML");
    expect(bad("")).toBe("accepted");
  });
});
