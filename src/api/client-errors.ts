import type { Socket } from "node:net";
import http from "node:http";
import { ApiError, errorBody } from "./http-status.js";

/**
 * What Node's HTTP parser refuses before fastify sees a request (headers too large, a request
 * that did not arrive in time, bytes that are not HTTP), answered in authy's error body as
 * every other refusal is, instead of fastify's own `{"error":"Bad Request",…}` (its
 * defaultClientErrorHandler, which this follows otherwise). Nothing of the request is quoted.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody to answer (https://nodejs.org/api/http.html#event-clienterror).
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const refusal =
    err.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? new ApiError(408, "INVALID_INPUT", "the request did not arrive in time", { hint: "send the headers and the body without pausing" })
      : err.code === "HPE_HEADER_OVERFLOW"
        ? new ApiError(431, "INVALID_INPUT", "request headers are too large")
        : new ApiError(400, "INVALID_INPUT", "malformed HTTP request");
  if (socket.writable) {
    const body = JSON.stringify(errorBody(refusal));
    socket.write(
      `HTTP/1.1 ${refusal.status} ${http.STATUS_CODES[refusal.status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
