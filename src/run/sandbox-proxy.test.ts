import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllowedHost } from "../formats/allowed-host.js";
import { startSandboxProxy, type SandboxProxy } from "./sandbox-proxy.js";

let dir: string;
let proxy: SandboxProxy;
let target: http.Server;
let port: number;
const refused: string[] = [];
const socketPath = () => join(dir, "proxy.sock");

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "authy-proxy-test-"));
  target = http.createServer((req, res) => res.end(`hello ${req.url}`));
  await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
  port = (target.address() as AddressInfo).port;
  proxy = await startSandboxProxy({
    socketPath: socketPath(),
    allow: [parseAllowedHost(`127.0.0.1:${port}`), parseAllowedHost("localhost")],
    onRefused: (host, p, protocol) => refused.push(`${protocol} ${host}:${p}`),
  });
});

afterAll(async () => {
  await proxy.close();
  target.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends `bytes` (then ends, with `end`) on a new connection to the proxy and collects everything until it closes. */
function exchange(bytes: Buffer | string, { end = false } = {}): Promise<Buffer> {
  return new Promise((resolve) => {
    const c = net.connect(socketPath());
    let got = Buffer.alloc(0);
    c.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
    });
    c.on("close", () => resolve(got));
    c.on("error", () => resolve(got));
    if (end) c.end(bytes);
    else c.write(bytes);
  });
}

const socksConnect = (host: number[], p: number, rest = "") =>
  Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 1, ...host, p >> 8, p & 0xff]), Buffer.from(rest)]);

describe("the sandbox's proxy", () => {
  it("tunnels SOCKS5 to an allowed host and refuses another with 'not allowed by ruleset'", async () => {
    const request = `GET /socks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
    const ok = await exchange(socksConnect([127, 0, 0, 1], port, request));
    expect([...ok.subarray(0, 4)]).toEqual([5, 0, 5, 0]);
    expect(ok.toString()).toContain("hello /socks");
    const no = await exchange(socksConnect([127, 0, 0, 1], port + 1 === 65_536 ? 1 : port + 1));
    expect([...no]).toEqual([5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(refused).toContain(`socks5 127.0.0.1:${port + 1}`);
  });

  it("answers CONNECT to an allowed host with 200 and to another with 403", async () => {
    const ok = await exchange(
      `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\nGET /tunnel HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expect(ok.toString()).toMatch(/^HTTP\/1\.1 200 Connection Established\r\n\r\n[\s\S]*hello \/tunnel/);
    const no = await exchange(`CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n`);
    expect(no.toString()).toMatch(/^HTTP\/1\.1 403 Forbidden[\s\S]*example\.com:443 is not an allowed host/);
    expect(refused).toContain("http example.com:443");
  });

  it("forwards a plain http:// request to an allowed host, and refuses one to another", async () => {
    const ok = await exchange(`GET http://127.0.0.1:${port}/plain HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    expect(ok.toString()).toMatch(/^HTTP\/1\.1 200[\s\S]*hello \/plain/);
    const no = await exchange(`GET http://10.9.8.7/x HTTP/1.1\r\nHost: 10.9.8.7\r\nConnection: close\r\n\r\n`);
    expect(no.toString()).toMatch(/^HTTP\/1\.1 403/);
  });

  it("drops a SOCKS5 handshake cut short, and one that offers no method it supports", async () => {
    expect([...(await exchange(Buffer.from([5, 1, 0, 5, 1, 0, 1, 127]), { end: true }))]).toEqual([5, 0]);
    expect([...(await exchange(Buffer.from([5, 1, 2])))]).toEqual([5, 0xff]);
  });
});
