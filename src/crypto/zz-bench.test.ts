import * as nodeCrypto from "node:crypto";
import { Decrypter } from "age-encryption";
import { it } from "vitest";
import { generateVaultKey, unwrapWithPassphrase, wrapWithPassphrase } from "./index.js";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
it("bench", async () => {
  const logN = Number(process.env.LOGN ?? 18);
  const slot = await wrapWithPassphrase(generateVaultKey(), "bench passphrase", logN);
  const salt = Buffer.concat([Buffer.from("age-encryption.org/v1/scrypt"), nodeCrypto.randomBytes(16)]);
  const node: number[] = [], ours: number[] = [], typage: number[] = [];
  for (let i = 0; i < 5; i++) {
    let t = performance.now();
    await new Promise((res, rej) => nodeCrypto.scrypt("bench passphrase", salt, 32, { N: 2 ** logN, r: 8, p: 1, maxmem: 2 ** 30 }, (e) => (e ? rej(e) : res(null))));
    node.push(performance.now() - t);
    t = performance.now();
    await unwrapWithPassphrase(slot, "bench passphrase");
    ours.push(performance.now() - t);
    t = performance.now();
    const d = new Decrypter();
    d.addPassphrase("bench passphrase");
    await d.decrypt(slot);
    typage.push(performance.now() - t);
  }
  console.log(`BENCH logN=${logN} node=${median(node).toFixed(0)} ours=${median(ours).toFixed(0)} typage=${median(typage).toFixed(0)} ratio=${(median(ours) / median(node)).toFixed(3)} typageRatio=${(median(typage) / median(node)).toFixed(3)}`);
  console.log("node", node.map(Math.round), "ours", ours.map(Math.round), "typage", typage.map(Math.round));
}, 300_000);
