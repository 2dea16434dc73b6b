import type { UnixRequest } from "./http-wire.js";

/** Both clients of the daemon's socket (unix-http.ts, unix-http-sync.ts) are tried with the same cases. */
export const request = (over: Partial<UnixRequest> = {}): UnixRequest => ({
  method: "GET",
  path: "/v1/x",
  headers: {},
  timeoutMs: 5_000,
  maxBytes: 1 << 20,
  ...over,
});

/** Answers a broken or hostile peer might give, each refused with AUTHY_BAD_RESPONSE: a truncated body, not HTTP, a bad length, a truncated chunk. */
export const BAD_REPLIES = [
  "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort",
  "SSH-2.0-OpenSSH\r\n\r\n",
  "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
  "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab",
];
