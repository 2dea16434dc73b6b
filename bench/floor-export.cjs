// The floor under `env export` of N values: what any implementation of DESIGN.md section 4
// must do per secret, and nothing else. One SQLite read of the rows with their current
// versions, one row MAC (HMAC-SHA256 over the canonical encoding of the row's 11 fields), one
// AES-256-GCM open of the wrapped data key and one of the value (each with its additional
// data), then one NAME=value line. No CLI, no unlock, no listing, no audit entry.
//
//   node bench/floor-export.cjs setup FILE N   writes FILE (keys in FILE.keys), untimed
//   node bench/floor-export.cjs run FILE       prints the N lines (the bench times this)
//
// The encodings follow src/crypto/fields.ts; the bench checks the output, so a wrong MAC or
// a failed open cannot pass for fast.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const Database = require("better-sqlite3");

/** The canonical encoding, written into one scratch buffer; returns a copy. */
const scratch = Buffer.alloc(1 << 16);
function encode(fields) {
  let at = 0;
  scratch[at++] = 1;
  for (const f of fields) {
    const head = at;
    at += 5;
    if (f === null) {
      scratch[head] = 0;
    } else if (typeof f === "string") {
      scratch[head] = 1;
      at += scratch.write(f, at, "utf8");
    } else if (typeof f === "number") {
      scratch[head] = 2;
      at = scratch.writeBigInt64BE(BigInt(f), at);
    } else {
      scratch[head] = 3;
      scratch.set(f, at);
      at += f.length;
    }
    scratch.writeUInt32BE(at - head - 5, head + 1);
  }
  return Buffer.from(scratch.subarray(0, at));
}

function seal(key, plaintext, aad) {
  const nonce = crypto.randomBytes(12);
  const c = crypto.createCipheriv("aes-256-gcm", key, nonce, { authTagLength: 16 });
  c.setAAD(aad);
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([Buffer.of(1), nonce, body, c.getAuthTag()]);
}

function open(key, sealed, aad) {
  const d = crypto.createDecipheriv("aes-256-gcm", key, sealed.subarray(1, 13), { authTagLength: 16 });
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  const out = d.update(sealed.subarray(13, sealed.length - 16));
  d.final();
  return out;
}

const SCHEMA = `
  CREATE TABLE secrets (path TEXT PRIMARY KEY, namespace TEXT NOT NULL, type TEXT NOT NULL, tier TEXT NOT NULL,
    description TEXT NOT NULL, tags TEXT NOT NULL, expires_at INTEGER, current_version INTEGER NOT NULL,
    deleted_at INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, mac BLOB NOT NULL) STRICT, WITHOUT ROWID;
  CREATE INDEX secrets_by_namespace ON secrets (namespace);
  CREATE TABLE secret_versions (path TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, tier TEXT NOT NULL,
    sealed BLOB NOT NULL, wrapped_dek BLOB NOT NULL, created_at INTEGER NOT NULL, actor TEXT NOT NULL,
    PRIMARY KEY (path, version)) STRICT, WITHOUT ROWID;`;

function setup(file, n) {
  for (const suffix of ["", "-wal", "-shm", ".keys"]) fs.rmSync(file + suffix, { force: true });
  const keys = { vaultId: crypto.randomBytes(16), wrap: crypto.randomBytes(32), mac: crypto.randomBytes(32) };
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.exec(SCHEMA);
  const putSecret = db.prepare("INSERT INTO secrets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const putVersion = db.prepare("INSERT INTO secret_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  const now = Date.now();
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const path = `exp/KEY_${String(i).padStart(6, "0")}`;
      const value = Buffer.from(`exp-${i.toString(36)}-${crypto.randomBytes(18).toString("base64url")}`);
      const row = [path, "exp", "custom", "standard", "", "[]", null, 1, null, now, now];
      const aad = encode(["authy/value/v1", keys.vaultId, path, 1, "custom", "standard", now, "owner"]);
      const dek = crypto.randomBytes(32);
      putVersion.run(
        path,
        1,
        "custom",
        "standard",
        seal(dek, value, encode(["authy/value/v1", aad])),
        seal(keys.wrap, dek, encode(["authy/dek/v1", aad])),
        now,
        "owner",
      );
      putSecret.run(
        ...row,
        crypto
          .createHmac("sha256", keys.mac)
          .update(encode(["authy/secret/v1", ...row]))
          .digest(),
      );
    }
  })();
  db.close();
  fs.writeFileSync(`${file}.keys`, JSON.stringify({ vaultId: keys.vaultId.toString("hex"), wrap: keys.wrap.toString("hex"), mac: keys.mac.toString("hex") }));
}

function run(file) {
  const k = JSON.parse(fs.readFileSync(`${file}.keys`, "utf8"));
  const keys = { vaultId: Buffer.from(k.vaultId, "hex"), wrap: Buffer.from(k.wrap, "hex"), mac: Buffer.from(k.mac, "hex") };
  const db = new Database(file, { readonly: true });
  const rows = db
    .prepare(
      `SELECT s.*, v.sealed, v.wrapped_dek, v.created_at AS v_created_at, v.actor FROM secrets s
       JOIN secret_versions v ON v.path = s.path AND v.version = s.current_version WHERE s.namespace = ? ORDER BY s.path`,
    )
    .all("exp");
  const lines = [];
  for (const r of rows) {
    const fields = [r.path, r.namespace, r.type, r.tier, r.description, r.tags, r.expires_at, r.current_version, r.deleted_at, r.created_at, r.updated_at];
    const mac = crypto
      .createHmac("sha256", keys.mac)
      .update(encode(["authy/secret/v1", ...fields]))
      .digest();
    if (!crypto.timingSafeEqual(mac, r.mac)) throw new Error(`row MAC of ${r.path}`);
    const aad = encode(["authy/value/v1", keys.vaultId, r.path, r.current_version, r.type, r.tier, r.v_created_at, r.actor]);
    const dek = open(keys.wrap, r.wrapped_dek, encode(["authy/dek/v1", aad]));
    const value = open(dek, r.sealed, encode(["authy/value/v1", aad]));
    lines.push(`${r.path.slice(4)}=${value.toString("utf8")}`);
  }
  db.close();
  process.stdout.write(lines.join("\n") + "\n");
}

const [mode, file, n] = process.argv.slice(2);
if (mode === "setup") setup(file, Number(n));
else if (mode === "run") run(file);
else throw new Error("usage: floor-export.cjs setup FILE N | run FILE");
