import net from "node:net";
import os from "node:os";
import path from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { native } from "./native.js";
import { socketFd } from "./socket-fd.js";

// That a process becomes non-dumpable is tested on the built CLI (test/e2e/containment.test.ts):
// doing it here would make the test runner itself non-dumpable.
describe("native calls (koffi)", () => {
  it("are available on Linux", () => {
    expect(native()).not.toBeNull();
  });

  it("reads the peer's pid and uid on a Unix socket, from both ends", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "authy-peer-"));
    const sock = path.join(dir, "s");
    const after: (() => void)[] = [];
    const accepted = new Promise<net.Socket>((resolve) => {
      const server = net.createServer(resolve).listen(sock);
      after.push(() => server.close());
    });
    try {
      const client = net.connect(sock);
      await new Promise((r) => client.once("connect", r));
      const serverSide = await accepted;
      const fromServer = native()!.peerCredentials(socketFd(serverSide)!);
      const fromClient = native()!.peerCredentials(socketFd(client)!);
      expect(fromServer).toEqual({ pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
      expect(fromClient?.pid).toBe(process.pid);
      client.destroy();
      serverSide.destroy();
    } finally {
      for (const f of after) f();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
