import type { FastifyRequest } from "fastify";

/**
 * The server's log: fastify's pino, one JSON object per line on stderr. What a request logs
 * is chosen here rather than left to the default serializers: the method, the path without
 * its query, the client's address and the status. Never a header (Authorization carries
 * tokens and keys), never a body (values), never a query string. Anything that would still
 * name a credential is censored by pino's redaction as a second guard.
 */
const LOG_LEVEL_DEFAULT = "info";

function pathOf(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

export function serverLogger(): Record<string, unknown> {
  return {
    level: process.env.AUTHY_LOG_LEVEL || LOG_LEVEL_DEFAULT,
    stream: process.stderr,
    serializers: {
      req: (req: FastifyRequest) => ({ method: req.method, path: pathOf(req.url), remoteAddress: req.ip }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      // Errors are logged by their message only, never with a stack or a cause.
      err: (err: Error) => ({ type: err.name, message: err.message }),
    },
    redact: {
      paths: ["headers", "req.headers", "authorization", "*.authorization", "token", "*.token", "key", "*.key", "value", "*.value"],
      censor: "[redacted]",
    },
  };
}
