/**
 * One HTTP/1.1 request to the daemon over its Unix socket, blocking, through the system calls
 * of os/native.ts: for `authy secrets get` as the owner (src/cli/fast-secrets-get.ts), which
 * must not load node:net (with node:stream and node:tty, about 10 ms of its start-up, measured
 * in a CPU profile; bench: daemon-get). It waits in read(), so nothing else can run meanwhile:
 * only for a process that has nothing else to do. Errors are unix-http.ts's.
 */
import { failure, requestText, responseIn, type UnixRequest, type UnixResponse } from "./http-wire.js";
import { native } from "../os/native.js";

const READ_BYTES = 64 * 1024;

/** Throws ENOSYS where the system calls are unavailable (not Linux, or koffi did not load). */
export function unixRequestSync(socketPath: string, req: UnixRequest): UnixResponse {
  const head = requestText(req);
  const calls = native();
  if (!calls) throw failure("ENOSYS", "no blocking socket calls on this system");
  const socket = calls.connectUnix(socketPath, req.timeoutMs);
  const into = Buffer.alloc(READ_BYTES);
  try {
    req.checkPeer?.(socket.fd, socketPath);
    socket.write(req.body ? Buffer.concat([Buffer.from(head, "latin1"), req.body]) : Buffer.from(head, "latin1"));
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      let n: number;
      try {
        n = socket.read(into);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EAGAIN") throw failure("AUTHY_TIMEOUT", "timeout");
        throw e;
      }
      size += n;
      if (size > req.maxBytes) throw failure("AUTHY_TOO_LARGE", `a response larger than ${req.maxBytes} bytes`);
      if (n > 0) chunks.push(Buffer.from(into.subarray(0, n)));
      const response = responseIn(Buffer.concat(chunks), n === 0);
      if (response) return response;
    }
  } finally {
    socket.close();
    into.fill(0); // it held the value
  }
}
