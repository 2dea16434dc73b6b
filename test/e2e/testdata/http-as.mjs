// Requests to a daemon's socket, made by whichever account runs this script (the hostile
// tests run it as the unprivileged account). Input (argv[2], JSON):
//   { socket, requests: [{ method, url, bearer?, body? }], repeat?: N, concurrency?: C, randomToken?: true }
// With randomToken, each request carries a fresh, well-formed token nobody issued.
// Output (stdout, JSON): [{ status, body }] for each request once; with repeat, the statuses counted.
import http from "node:http";
import { randomBytes } from "node:crypto";

const spec = JSON.parse(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency ?? 1 });

function send(r) {
  return new Promise((resolve, reject) => {
    const headers = {};
    const bearer = spec.randomToken ? `authy_tk_${randomBytes(8).toString("hex").replace(/[^a-z2-7]/g, "a")}_${randomBytes(16).toString("base64url")}` : r.bearer;
    if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
    const body = r.body === undefined ? undefined : JSON.stringify(r.body);
    if (body !== undefined) headers["content-type"] = "application/json";
    const req = http.request({ socketPath: spec.socket, method: r.method, path: r.url, headers, agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

if (spec.repeat) {
  const counts = {};
  let next = 0;
  const worker = async () => {
    while (next < spec.repeat) {
      next++;
      const r = await send(spec.requests[0]);
      counts[r.status] = (counts[r.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency ?? 1 }, worker));
  process.stdout.write(JSON.stringify(counts));
} else {
  const out = [];
  for (const r of spec.requests) out.push(await send(r));
  process.stdout.write(JSON.stringify(out));
}
agent.destroy();
