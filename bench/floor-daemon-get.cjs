// The floor under `secrets get` through the daemon: what any client of DESIGN.md's daemon must
// do to print one value as the owner of the terminal that unlocked, and nothing else. Make
// this process non-dumpable (it is about to hold a value), find the daemon's socket in its
// state file, connect, check that the process listening is the daemon of this terminal
// session (SO_PEERCRED, then both processes' /proc/PID/stat) before sending anything, send one
// GET, read the answer and print its value. No CLI, no argument parsing, no error text, and
// blocking system calls instead of node:net (as src/client/unix-http-sync.ts does), since
// loading node:net costs more than the rest. The daemon's own work (the owner check, the read,
// the audit entry and its fsync) is the same as for `authy secrets get`.
//
//   node bench/floor-daemon-get.cjs HOME PATH   prints the value (the bench checks it)
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const [home, secretPath] = process.argv.slice(2);

// koffi's addon, loaded directly as src/os/native.ts does (Node.js has no prctl or SO_PEERCRED).
const addon = path.join(
  __dirname,
  "..",
  "node_modules",
  "@koromix",
  `koffi-${process.platform}-${process.arch}`,
  `${process.platform}_${process.arch}`,
  "koffi.node",
);
const koffi = require(addon);
const libc = koffi.load(null);
const prctl = libc.func("prctl", "int", ["int", "ulong", "ulong", "ulong", "ulong"]);
const getsockopt = libc.func("getsockopt", "int", ["int", "int", "int", koffi.out(koffi.pointer("uint8_t")), koffi.inout(koffi.pointer("uint32_t"))]);
const socket = libc.func("socket", "int", ["int", "int", "int"]);
const connect = libc.func("connect", "int", ["int", "const uint8_t *", "uint32_t"]);
const write = libc.func("write", "long", ["int", "const uint8_t *", "ulong"]);
const read = libc.func("read", "long", ["int", koffi.out(koffi.pointer("uint8_t")), "ulong"]);
if (prctl(4 /* PR_SET_DUMPABLE */, 0, 0, 0, 0) !== 0) throw new Error("prctl failed");

/** Session and controlling terminal of a process, from /proc/PID/stat (fields 6 and 7). */
function terminalOf(pid) {
  const text = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return `${f[3]}:${f[4]}`;
}

const state = JSON.parse(fs.readFileSync(path.join(home, "daemon", "daemon.json"), "utf8"));
const fd = socket(1 /* AF_UNIX */, 1 /* SOCK_STREAM */ | 0o2000000 /* SOCK_CLOEXEC */, 0);
const addr = Buffer.alloc(110); // struct sockaddr_un
addr.writeUInt16LE(1, 0);
addr.write(state.socket, 2);
if (connect(fd, addr, addr.length) !== 0) throw new Error(`connect failed: errno ${koffi.errno()}`);
const creds = Buffer.alloc(12);
if (getsockopt(fd, 1 /* SOL_SOCKET */, 17 /* SO_PEERCRED */, creds, [12]) !== 0) throw new Error("getsockopt failed");
if (creds.readUInt32LE(4) !== process.getuid() || terminalOf(creds.readInt32LE(0)) !== terminalOf("self")) throw new Error("not our daemon");
const request = Buffer.from(`GET /v1/secrets/${secretPath} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n`);
if (write(fd, request, request.length) !== request.length) throw new Error("write failed");
const chunks = [];
const into = Buffer.alloc(65536);
for (let n; (n = read(fd, into, into.length)) > 0;) chunks.push(Buffer.from(into.subarray(0, n)));
const response = Buffer.concat(chunks).toString("utf8");
if (!response.startsWith("HTTP/1.1 200")) throw new Error(response.split("\r\n")[0]);
fs.writeSync(1, JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4)).value);
process.exit(); // without tearing the heap down, as the CLI ends (src/cli/exit.ts)
