/**
 * What the API refuses before the core sees it: oversized bodies, nesting bombs, bad JSON,
 * bodies that are not UTF-8, other content types, malformed paths and HTTP (in authy's error
 * body, as every refusal); and names full of SQL and LIKE metacharacters, which are just names.
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { harness, type Harness } from "./api.test-helpers.js";
import { jsonNestingExceeds } from "./json-body.js";
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from "./limits.js";

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(async () => {
  await h.close();
});

describe("request limits", () => {
  it("answers a body over the cap with 413", async () => {
    const r = await h.req("PUT", "/v1/secrets/big/VALUE", { body: { value: "x".repeat(MAX_BODY_BYTES) } });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe("INVALID_INPUT");
    expect(r.raw.length).toBeLessThan(300);
  });

  it("authenticates before reading the body", async () => {
    const r = await h.req("PUT", "/v1/secrets/big/VALUE", { bearer: "nope", body: { value: "x".repeat(MAX_BODY_BYTES) } });
    expect(r.status).toBe(401);
  });

  it("lets env import carry more than other routes", async () => {
    const entries = Array.from({ length: 3000 }, (_, i) => ({ key: `K${i}`, value: "v".repeat(1000) }));
    const r = await h.req("POST", "/v1/env/import", { body: { namespace: "bulk", entries, dryRun: true } });
    expect(r.status).toBe(200);
    expect(r.body.counts.create).toBe(3000);
  });

  it("refuses JSON nested deeper than the limit, however deep", async () => {
    for (const depth of [MAX_JSON_DEPTH + 1, 100_000]) {
      const r = await h.req("POST", "/v1/events", { raw: `{"action":"a.b","resource":"r","details":{"x":${"[".repeat(depth)}${"]".repeat(depth)}}}` });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: "INVALID_INPUT", message: `request body is nested deeper than ${MAX_JSON_DEPTH} levels` });
    }
    const fine = await h.req("POST", "/v1/events", { raw: `{"action":"a.b","resource":"r","details":{"x":${"[".repeat(10)}${"]".repeat(10)}}}` });
    expect(fine.status).toBe(200);
  });

  it("counts nesting outside strings only", () => {
    expect(jsonNestingExceeds(`{"a":"${"[".repeat(100)}"}`, 2)).toBe(false);
    expect(jsonNestingExceeds(`{"a":"\\"[[[["}`, 1)).toBe(false);
    expect(jsonNestingExceeds(`[[[]]]`, 2)).toBe(true);
    expect(jsonNestingExceeds(`[[],[],[]]`, 2)).toBe(false);
  });

  it("refuses malformed JSON, prototype poisoning and other content types", async () => {
    expect((await h.req("PUT", "/v1/secrets/a/B", { raw: "{value:" })).body.error.message).toBe("request body is not valid JSON");
    const proto = await h.req("PUT", "/v1/secrets/a/B", { raw: '{"value":"v","__proto__":{"admin":true}}' });
    expect(proto.status).toBe(400);
    const text = await h.req("PUT", "/v1/secrets/a/B", { raw: "value", headers: { "content-type": "text/plain" } });
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe("INVALID_INPUT");
  });

  it("refuses a body that is not UTF-8 instead of storing its bytes changed", async () => {
    const r = await h.req("PUT", "/v1/secrets/utf/BAD", { raw: Buffer.from([...Buffer.from('{"value":"a'), 0xff, 0xfe, ...Buffer.from('b"}')]) });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: "INVALID_INPUT", message: "request body is not valid UTF-8" });
    expect((await h.req("GET", "/v1/secrets/utf/BAD")).status).toBe(404);
    const fine = await h.req("PUT", "/v1/secrets/utf/GOOD", { raw: Buffer.from('{"value":"h\u00e9 é ☃"}') });
    expect(fine.status).toBe(200);
    expect((await h.req("GET", "/v1/secrets/utf/GOOD")).body.value).toBe("hé é ☃");
  });

  it("answers a path that is not valid percent-encoding, or too long, in authy's error body without quoting it", async () => {
    for (const [url, status] of [
      ["/v1/secrets/prod/%ff%fe", 400],
      ["/v1/secrets/prod%zz/K", 400],
      [`/v1/secrets/${"a".repeat(9000)}/K`, 414],
    ] as const) {
      const r = await h.req("GET", url);
      expect(r.status).toBe(status);
      expect(r.body.error.code).toBe("INVALID_INPUT");
      expect(r.raw).not.toContain("prod");
      expect(r.raw).not.toContain("aaaa");
    }
  });

  it("answers what Node's HTTP parser refuses (huge headers, bytes that are not HTTP) in authy's error body", async () => {
    await h.app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = h.app.server.address() as net.AddressInfo;
    const exchange = (request: string | Buffer) =>
      new Promise<string>((resolve, reject) => {
        let got = "";
        const sock = net.connect(port, "127.0.0.1", () => sock.write(request));
        sock.on("data", (d) => (got += d.toString()));
        sock.on("close", () => resolve(got));
        sock.on("error", reject);
      });
    for (const [request, status] of [
      [`GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, 431],
      [Buffer.from([...Buffer.from("GET /v1/"), 0xff, 0xfe, ...Buffer.from(" HTTP/1.1\r\nHost: x\r\n\r\n")]), 400],
      ["NOT HTTP AT ALL\r\n\r\n", 400],
    ] as const) {
      const answer = await exchange(request);
      expect(answer.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
      const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("INVALID_INPUT");
      expect(answer).not.toContain("aaaa");
    }
  });

  it("never echoes a value in an error", async () => {
    const canary = "CANARY-7f3a9c-do-not-leak";
    for (const body of [
      { value: canary, type: "nope" },
      { value: canary, tags: "x" },
      { value: canary, extra: 1 },
    ]) {
      const r = await h.req("PUT", "/v1/secrets/a/B", { body });
      expect(r.status).toBe(400);
      expect(r.raw).not.toContain(canary);
    }
    const r = await h.req("PUT", "/v1/secrets/a%2F..%2Fb/B", { body: { value: canary } });
    expect(r.status).toBe(400);
    expect(r.raw).not.toContain(canary);
    for (const row of await h.audit()) expect(row.details).not.toContain(canary);
  });
});

describe("names are just names", () => {
  const nasty = `' ; -- % _ \\`;

  it("stores metacharacters in free text verbatim", async () => {
    const w = await h.req("PUT", "/v1/secrets/meta/K", { body: { value: nasty, description: nasty, tags: [nasty, "%", "_"] } });
    expect(w.status).toBe(200);
    const r = await h.req("GET", "/v1/secrets/meta/K");
    expect(r.body).toMatchObject({ value: nasty, description: nasty, tags: [nasty, "%", "_"] });
    const t = await h.req("POST", "/v1/tokens", { body: { scope: "secrets:read:meta/*", label: nasty } });
    expect(t.status).toBe(201);
    expect((await h.req("GET", "/v1/tokens")).body.items.find((x: { id: string }) => x.id === t.body.id).label).toBe(nasty);
  });

  it("refuses metacharacters in names as invalid, never as a database error", async () => {
    for (const name of ["a'b", "a;b", "a%25b", "a b", "a%5Cb", "a%27%3B--"]) {
      const r = await h.req("PUT", `/v1/secrets/ns/${name}`, { body: { value: "v" } });
      expect(r.status, name).toBe(400);
      expect(r.body.error.code).toBe("INVALID_INPUT");
    }
    const agent = await h.req("POST", "/v1/agents", { body: { name: "x' OR 1=1 --", scope: "secrets:read:a/*" } });
    expect(agent.status).toBe(400);
    expect((await h.req("DELETE", "/v1/agents/x'%20OR%201%3D1%20--")).status).toBe(404);
  });

  it("does not treat _ or - as wildcards when listing a namespace", async () => {
    await h.req("PUT", "/v1/secrets/a_b/K", { body: { value: "1" } });
    await h.req("PUT", "/v1/secrets/aXb/K", { body: { value: "2" } });
    await h.req("PUT", "/v1/secrets/a--b/K", { body: { value: "3" } });
    const paths = async (ns: string) => (await h.req("GET", `/v1/secrets/${ns}`)).body.items.map((i: { path: string }) => i.path);
    expect(await paths("a_b")).toEqual(["a_b/K"]);
    expect(await paths("a--b")).toEqual(["a--b/K"]);
    expect((await h.req("GET", "/v1/env/a_b")).body.entries).toEqual([{ key: "K", value: "1" }]);
  });

  it("never resolves a dot-dot segment into another secret", async () => {
    await h.req("PUT", "/v1/secrets/other/K", { body: { value: "secret-other" } });
    for (const url of ["/v1/secrets/%2e%2e/K", "/v1/secrets/ns%2F..%2Fother/K", "/v1/secrets/other%2F./K", "/v1/secrets/.%2Fother/K"]) {
      const r = await h.req("GET", url);
      expect([400, 404], url).toContain(r.status);
      expect(r.raw).not.toContain("secret-other");
    }
  });
});
