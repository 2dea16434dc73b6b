/**
 * Every limit and timeout the HTTP API enforces, in one place. The daemon (Unix socket) and
 * the team server (TCP) share them; either may override some through `ApiOptions.limits`.
 */

/** Largest request body: a 1 MiB value (MAX_VALUE_BYTES) base64-encoded is 1.33 MiB, plus metadata. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** `POST /v1/env/import` carries a whole namespace: thousands of entries fit comfortably. */
const MAX_IMPORT_BODY_BYTES = 16 * 1024 * 1024;
/**
 * Deepest JSON nesting accepted. No request needs more than 4 or 5 levels (dispatch details
 * a few more); a body of 100,000 `[` would otherwise reach code that recurses on it.
 */
export const MAX_JSON_DEPTH = 32;
/**
 * Longest URL parameter. Paths are at most 255 bytes (MAX_PATH_BYTES), `/` becomes `%2F`, so
 * 1 KiB holds any valid one; longer names must still reach validatePath so that they are
 * refused as INVALID_INPUT (exit 2) rather than as an unknown route.
 */
const MAX_PARAM_LENGTH = 8 * 1024;
/** A connection idle this long is closed (slowloris, abandoned clients). */
const CONNECTION_TIMEOUT_MS = 60_000;
/** The whole request, headers and body, must arrive within this. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Headers must arrive within this (Node's own guard against slow-header attacks). */
const HEADERS_TIMEOUT_MS = 10_000;
/** An idle keep-alive connection is kept this long for the next request of the same client. */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Open connections at most, so that a flood cannot exhaust file descriptors. */
const MAX_CONNECTIONS = 4096;

export interface ApiLimits {
  bodyLimit: number;
  importBodyLimit: number;
  maxJsonDepth: number;
  maxParamLength: number;
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
}

export const DEFAULT_LIMITS: Readonly<ApiLimits> = Object.freeze({
  bodyLimit: MAX_BODY_BYTES,
  importBodyLimit: MAX_IMPORT_BODY_BYTES,
  maxJsonDepth: MAX_JSON_DEPTH,
  maxParamLength: MAX_PARAM_LENGTH,
  connectionTimeoutMs: CONNECTION_TIMEOUT_MS,
  requestTimeoutMs: REQUEST_TIMEOUT_MS,
  headersTimeoutMs: HEADERS_TIMEOUT_MS,
  keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
  maxConnections: MAX_CONNECTIONS,
});
