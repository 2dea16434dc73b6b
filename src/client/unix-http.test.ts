/**
 * The daemon's HTTP client on node:net, against real Unix-socket servers: node:http itself
 * (what fastify runs on), and raw servers that answer the way a broken or hostile peer would.
 */
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestText } from "./http-wire.js";
import { BAD_REPLIES, request } from "./http-wire.test-helpers.js";
import { unixRequest } from "./unix-http.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "authy-unix-http-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The code of the error the request fails with. */
async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => "ok",
    (e: unknown) => (e as NodeJS.ErrnoException).code,
  );
}

let n = 0;

async function listen(server: net.Server): Promise<string> {
  const socket = path.join(dir, `s${n++}.sock`);
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return socket;
}

/** A server that answers every connection with these raw bytes, then closes (or not). */
async function rawServer(reply: string | Buffer, close = true): Promise<{ socket: string; server: net.Server }> {
  const server = net.createServer((c) => {
    c.once("data", () => (close ? c.end(reply) : c.write(reply)));
    c.on("error", () => undefined);
  });
  return { socket: await listen(server), server };
}

describe("against node:http", () => {
  let server: http.Server;
  let socket: string;
  const seen: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        if (req.url === "/chunked") {
          res.write("chun");
          res.write("ked ✓");
          res.end();
        } else if (req.url === "/empty") {
          res.writeHead(204).end();
        } else {
          res.writeHead(req.url === "/missing" ? 404 : 200, { "content-type": "application/json" }).end(JSON.stringify({ echo: body }));
        }
      });
    });
    socket = await listen(server);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends method, target, headers and body, and reads a Content-Length response", async () => {
    const res = await unixRequest(
      socket,
      request({ method: "POST", path: "/v1/a?b=c%20d", headers: { authorization: "Bearer t" }, body: Buffer.from('{"k":"é"}') }),
    );
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ echo: '{"k":"é"}' });
    const last = seen.at(-1)!;
    expect([last.method, last.url, last.headers.authorization, last.headers["content-length"]]).toEqual(["POST", "/v1/a?b=c%20d", "Bearer t", "10"]);
  });

  it("reads chunked, empty and error responses", async () => {
    expect((await unixRequest(socket, request({ path: "/chunked" }))).body.toString()).toBe("chunked ✓");
    expect(await unixRequest(socket, request({ path: "/empty" }))).toEqual({ status: 204, body: Buffer.alloc(0) });
    expect((await unixRequest(socket, request({ path: "/missing" }))).status).toBe(404);
  });

  it("serves many requests at once", async () => {
    const all = await Promise.all(Array.from({ length: 100 }, (_, i) => unixRequest(socket, request({ method: "PUT", body: Buffer.from(String(i)) }))));
    expect(all.map((r) => JSON.parse(r.body.toString()).echo)).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
  });
});

describe("against a broken or hostile peer", () => {
  it("reads a body delimited by the close", async () => {
    const { socket, server } = await rawServer("HTTP/1.1 200 OK\r\n\r\nto the end");
    expect((await unixRequest(socket, request())).body.toString()).toBe("to the end");
    server.close();
  });

  it("refuses a truncated body, a non-HTTP answer and a bad length", async () => {
    for (const reply of BAD_REPLIES) {
      const { socket, server } = await rawServer(reply);
      expect(await codeOf(unixRequest(socket, request()))).toBe("AUTHY_BAD_RESPONSE");
      server.close();
    }
  });

  it("stops reading a response larger than the limit", async () => {
    const { socket, server } = await rawServer(Buffer.alloc(256 * 1024, "x"), false);
    expect(await codeOf(unixRequest(socket, request({ maxBytes: 64 * 1024 })))).toBe("AUTHY_TOO_LARGE");
    server.close();
  });

  it("gives up on a peer that never answers", async () => {
    const server = net.createServer(() => undefined);
    const socket = await listen(server);
    expect(await codeOf(unixRequest(socket, request({ timeoutMs: 100 })))).toBe("AUTHY_TIMEOUT");
    server.close();
  });

  it("reports a missing socket with Node's own code", async () => {
    expect(await codeOf(unixRequest(path.join(dir, "nobody.sock"), request()))).toBe("ENOENT");
  });
});

it("never lets a header value add a header of its own", () => {
  expect(() => requestText(request({ headers: { authorization: "Bearer x\r\nx-admin: 1" } }))).toThrow(/invalid characters in the authorization header/);
  expect(requestText(request({ headers: { authorization: "Bearer x" } }))).toBe(
    "GET /v1/x HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\nauthorization: Bearer x\r\n\r\n",
  );
});
