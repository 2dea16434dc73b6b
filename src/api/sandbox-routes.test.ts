/**
 * A scope's sandbox block over the API: a dispatch that does not say it goes to a sandbox is
 * refused (and audited) when the scope requires one; one that does gets the scope's defaults
 * added to its own, recorded in run.start.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { harness, type Harness } from "./api.test-helpers.js";

let h: Harness;
beforeEach(async () => {
  h = await harness();
  const yaml = [
    "scopes:",
    "  boxed:",
    "    allow:",
    '      - { path: "dev/*", capabilities: [read, list] }',
    "    sandbox:",
    "      required: true",
    '      write: ["~/.cache/tool"]',
    '      hosts: ["api.example.com:443"]',
    "",
  ].join("\n");
  expect((await h.req("PUT", "/v1/policy", { body: { yaml, source: "p.yaml" } })).status).toBe(200);
  expect((await h.req("PUT", "/v1/secrets/dev/KEY", { body: { value: "dev-value" } })).status).toBe(200);
});
afterEach(async () => {
  await h.close();
});

const box = (over: Record<string, unknown> = {}) => ({ write: ["/work/out"], read: [], hosts: ["pypi.org"], network: "host", ...over });

describe("dispatching a scope that requires the sandbox", () => {
  it("refuses an unsandboxed dispatch, releases nothing and audits the refusal", async () => {
    const r = await h.req("POST", "/v1/dispatch", { body: { scope: "boxed", command: "agent" } });
    expect(r.status).toBe(403);
    expect(JSON.stringify(r.body)).not.toContain("dev-value");
    expect(await h.audit("run.start")).toEqual([]);
    const [denied] = await h.audit("run.denied");
    expect(JSON.parse(denied!.details)).toMatchObject({ scope: "boxed", command: "agent", reason: "sandbox required" });
  });

  it("adds the scope's defaults to a sandboxed dispatch, and records them in run.start", async () => {
    const r = await h.req("POST", "/v1/dispatch", { body: { scope: "boxed", command: "agent", sandbox: box() } });
    expect(r.status).toBe(200);
    const sandbox = { write: ["/work/out", "~/.cache/tool"], read: [], hosts: ["pypi.org", "api.example.com:443"], network: "host" };
    expect(r.body).toMatchObject({ scope: "boxed", secrets: [{ name: "KEY", path: "dev/KEY", value: "dev-value" }], sandbox });
    const [entry] = await h.audit("run.start");
    expect(JSON.parse(entry!.details)).toMatchObject({ sandboxed: true, sandbox });
  });

  it("lets --no-network win over the scope's hosts", async () => {
    const r = await h.req("POST", "/v1/dispatch", { body: { scope: "boxed", command: "agent", sandbox: box({ network: "none" }) } });
    expect(r.body.sandbox).toMatchObject({ hosts: [], network: "none" });
  });

  it("records an unsandboxed run as such, and keeps callers from writing the sandbox fields themselves", async () => {
    const plain = await h.req("POST", "/v1/dispatch", { body: { command: "x", refs: [{ name: "K", path: "dev/KEY", source: "--env" }] } });
    expect(plain.status).toBe(200);
    expect(plain.body.sandbox).toBeUndefined();
    expect(JSON.parse((await h.audit("run.start"))[0]!.details)).toMatchObject({ sandboxed: false });
    for (const details of [{ sandboxed: true }, { sandbox: {} }]) {
      expect((await h.req("POST", "/v1/dispatch", { body: { command: "x", details } })).status).toBe(400);
    }
    expect((await h.req("POST", "/v1/dispatch", { body: { command: "x", sandbox: box({ network: "open" }) } })).status).toBe(400);
  });
});
