/**
 * The blocking client (unix-http-sync.ts) against real Unix-socket servers, as unix-http.test.ts
 * tries the one on node:net. The client blocks this thread, so each server runs in a worker
 * thread of its own: node:http (what fastify runs on), or raw bytes as a broken or hostile peer
 * would send them.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BAD_REPLIES, request } from "./http-wire.test-helpers.js";
import { unixRequestSync } from "./unix-http-sync.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "authy-unix-http-sync-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SERVER = `
const { parentPort, workerData: { kind, socket, reply, close, log } } = require("node:worker_threads");
const fs = require("node:fs");
const ready = () => parentPort.postMessage("listening");
if (kind === "http") {
  require("node:http").createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      fs.writeFileSync(log, JSON.stringify({ method: req.method, url: req.url, authorization: req.headers.authorization, length: req.headers["content-length"] }));
      if (req.url === "/chunked") { res.write("chun"); res.write("ked ✓"); res.end(); }
      else if (req.url === "/empty") res.writeHead(204).end();
      else res.writeHead(req.url === "/missing" ? 404 : 200, { "content-type": "application/json" }).end(JSON.stringify({ echo: body }));
    });
  }).listen(socket, ready);
} else {
  require("node:net").createServer((c) => {
    c.on("error", () => {});
    if (kind === "silent") return;
    c.once("data", (d) => { fs.writeFileSync(log, d); close ? c.end(Buffer.from(reply, "latin1")) : c.write(Buffer.from(reply, "latin1")); });
  }).listen(socket, ready);
}
`;

const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

let n = 0;
/** A server in a worker thread; `log` receives what it was sent. */
async function serve(kind: "http" | "raw" | "silent", reply = "", close = true): Promise<{ socket: string; log: string }> {
  const socket = path.join(dir, `s${n}.sock`);
  const log = path.join(dir, `s${n++}.log`);
  const worker = new Worker(SERVER, { eval: true, workerData: { kind, socket, reply, close, log } });
  workers.push(worker);
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
  });
  return { socket, log };
}

/** The code of the error the request fails with, or "ok". */
function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return "ok";
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
}

describe("against node:http", () => {
  it("sends method, target, headers and body, and reads a Content-Length response", async () => {
    const { socket, log } = await serve("http");
    const res = unixRequestSync(
      socket,
      request({ method: "POST", path: "/v1/a?b=c%20d", headers: { authorization: "Bearer t" }, body: Buffer.from('{"k":"é"}') }),
    );
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ echo: '{"k":"é"}' });
    expect(JSON.parse(readFileSync(log, "utf8"))).toEqual({ method: "POST", url: "/v1/a?b=c%20d", authorization: "Bearer t", length: "10" });
  });

  it("reads chunked, empty and error responses", async () => {
    const { socket } = await serve("http");
    expect(unixRequestSync(socket, request({ path: "/chunked" })).body.toString()).toBe("chunked ✓");
    expect(unixRequestSync(socket, request({ path: "/empty" }))).toEqual({ status: 204, body: Buffer.alloc(0) });
    expect(unixRequestSync(socket, request({ path: "/missing" })).status).toBe(404);
  });

  it("shows the peer check the connection's descriptor, and sends nothing when it refuses", async () => {
    const { socket, log } = await serve("http");
    let seen: number | null = null;
    expect(unixRequestSync(socket, request({ checkPeer: (fd) => void (seen = fd) })).status).toBe(200);
    expect(seen).toBeGreaterThan(2);
    rmSync(log);
    const refuse = () => {
      throw Object.assign(new Error("not ours"), { code: "REFUSED" });
    };
    expect(codeOf(() => unixRequestSync(socket, request({ checkPeer: refuse })))).toBe("REFUSED");
    await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(log)).toBe(false);
  });
});

describe("against a broken or hostile peer", () => {
  it("reads a body delimited by the close", async () => {
    const { socket } = await serve("raw", "HTTP/1.1 200 OK\r\n\r\nto the end");
    expect(unixRequestSync(socket, request()).body.toString()).toBe("to the end");
  });

  it("refuses a truncated body, a non-HTTP answer and a bad length", async () => {
    for (const reply of BAD_REPLIES) {
      const { socket } = await serve("raw", reply);
      expect(
        codeOf(() => unixRequestSync(socket, request())),
        reply,
      ).toBe("AUTHY_BAD_RESPONSE");
    }
  });

  it("stops reading a response larger than the limit", async () => {
    const { socket } = await serve("raw", "x".repeat(256 * 1024), false);
    expect(codeOf(() => unixRequestSync(socket, request({ maxBytes: 64 * 1024 })))).toBe("AUTHY_TOO_LARGE");
  });

  it("gives up on a peer that never answers", async () => {
    const { socket } = await serve("silent");
    expect(codeOf(() => unixRequestSync(socket, request({ timeoutMs: 300 })))).toBe("AUTHY_TIMEOUT");
  });

  it("reports a missing socket, or nothing listening, with Node's own codes", () => {
    expect(codeOf(() => unixRequestSync(path.join(dir, "nobody.sock"), request()))).toBe("ENOENT");
    expect(codeOf(() => unixRequestSync(dir, request()))).toBe("ECONNREFUSED");
  });
});
