/**
 * One HTTP/1.1 request to the daemon over its Unix socket, on node:net alone (the part of
 * HTTP/1.1 spoken is in http-wire.ts).
 *
 * node:http would do, but loading it costs a command about 10 ms of start-up: a third of
 * what `authy secrets get` through the daemon may take in all (bench: daemon-get). Team
 * servers over TCP keep node:http.
 */
import net from "node:net";
import { socketFd } from "../os/socket-fd.js";
import { failure, requestKey, requestText, responseIn, socketRequest, takeAnswered, type UnixRequest, type UnixResponse } from "./http-wire.js";

export function unixRequest(socketPath: string, req: UnixRequest): Promise<UnixResponse> {
  return new Promise((resolve, reject) => {
    let head: string;
    try {
      head = requestText(req);
    } catch (e) {
      reject(e);
      return;
    }
    const answered = takeAnswered(requestKey(socketPath, socketRequest(head, req.body)));
    if (answered) {
      resolve(answered);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const socket = net.connect(socketPath);
    const settle = (error: Error | null, response?: UnixResponse) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (error) reject(error);
      else resolve(response!);
    };
    /** The response, once all of it is here (or, at the close, whatever there is). */
    const complete = (closed: boolean): UnixResponse | null => {
      const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      chunks.length = 0;
      chunks.push(data);
      return responseIn(data, closed);
    };
    const check = (closed: boolean) => {
      try {
        const response = complete(closed);
        if (response) settle(null, response);
      } catch (e) {
        settle(e as Error);
      }
    };
    socket.setTimeout(req.timeoutMs, () => settle(failure("AUTHY_TIMEOUT", "timeout")));
    socket.on("connect", () => {
      try {
        req.checkPeer?.(socketFd(socket), socketPath);
      } catch (e) {
        settle(e as Error);
        return;
      }
      socket.write(req.body ? Buffer.concat([Buffer.from(head, "latin1"), req.body]) : head);
    });
    socket.on("data", (c: Buffer) => {
      size += c.length;
      if (size > req.maxBytes) {
        settle(failure("AUTHY_TOO_LARGE", `a response larger than ${req.maxBytes} bytes`));
        return;
      }
      chunks.push(c);
      check(false);
    });
    socket.on("end", () => check(true));
    socket.on("close", () => check(true));
    socket.on("error", (e) => settle(e));
  });
}
