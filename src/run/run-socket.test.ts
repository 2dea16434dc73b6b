import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { native } from "../os/native.js";
import { procStat } from "../os/proc-stat.js";
import { startRunSocket, type RunSocket, type RunSocketRefusal } from "./run-socket.js";

const TOKEN = "authy_tk_abcdefgh_the-run-token";

let dir = "";
let daemon: http.Server;
let seen: { authorization: string | undefined; body: string }[] = [];
let relay: RunSocket | null = null;
let refused: RunSocketRefusal[] = [];
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "authy-run-socket-test-"));
  seen = [];
  refused = [];
  // Stands in for the daemon: says what reached it.
  daemon = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      seen.push({ authorization: req.headers.authorization, body });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, url: req.url }));
    });
  });
  await new Promise<void>((resolve) => daemon.listen(path.join(dir, "daemon.sock"), resolve));
});

afterEach(async () => {
  await relay?.close();
  relay = null;
  await new Promise((r) => daemon.close(r));
  for (const c of children.splice(0)) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<RunSocket> {
  relay = await startRunSocket({
    socketPath: path.join(dir, "run.sock"),
    daemonSocket: path.join(dir, "daemon.sock"),
    token: TOKEN,
    onRefused: (r) => refused.push(r),
  });
  return relay;
}

function request(bearer: string | null, body = "{}"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    const req = http.request({ socketPath: path.join(dir, "run.sock"), agent: false, method: "POST", path: "/v1/secrets/app/KEY", headers }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe.runIf(native() !== null && procStat("self") !== null)("the run's socket to the daemon", () => {
  it("relays a request of the sandbox's processes that carries exactly the run's token, body and all", async () => {
    (await start()).admitTree(process.pid); // this test process stands in for the sandbox
    const r = await request(TOKEN, '{"value":"x"}');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ ok: true, url: "/v1/secrets/app/KEY" });
    expect(seen).toEqual([{ authorization: `Bearer ${TOKEN}`, body: '{"value":"x"}' }]);
    expect(refused).toEqual([]);
  });

  it("answers no credential, an owner session and another token itself, with a JSON 403, and relays none of them", async () => {
    (await start()).admitTree(process.pid);
    for (const bearer of [null, "authy_os_owner-session", `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const r = await request(bearer);
      expect(r.status, String(bearer)).toBe(403);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: "ACCESS_DENIED", message: expect.stringContaining("serves only the token of the run") } });
    }
    expect(seen).toEqual([]);
    expect(refused).toEqual(["no credentials", "not this run's token", "not this run's token", "not this run's token"]);
  });

  it("refuses a process that is not in the sandbox, even with the token", async () => {
    const other = spawn("sleep", ["30"], { stdio: "ignore" });
    children.push(other);
    (await start()).admitTree(other.pid!); // the sandbox is another process: this one is outside it
    const r = await request(TOKEN);
    expect(r.status).toBe(403);
    expect(r.body).toContain("serves only the processes of the sandboxed run");
    expect(seen).toEqual([]);
    expect(refused).toEqual(["not a process of the sandbox"]);
  });

  it("holds a request that arrives before the sandbox's pid is known, and refuses everything once closed", async () => {
    const socket = await start();
    const pending = request(TOKEN);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([]);
    socket.admitTree(process.pid);
    expect((await pending).status).toBe(200);
    await socket.close();
    relay = null;
    await expect(request(TOKEN)).rejects.toThrow(/ENOENT|ECONNREFUSED/);
  });
});
