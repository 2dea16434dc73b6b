import { isUtf8 } from "node:buffer";
import type { FastifyInstance } from "fastify";
import { ApiError } from "./http-status.js";

/**
 * JSON request bodies. Fastify's own parser (secure-json-parse, which refuses `__proto__` and
 * `constructor.prototype`) does the parsing; in front of it, one linear pass refuses bodies
 * nested deeper than the limit, because JSON.parse happily builds 100,000 levels that later
 * recursive code (validation, canonical JSON, audit details) would then overflow on.
 */

/** Whether `text` opens more than `max` arrays or objects inside each other (strings are skipped). */
export function jsonNestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}

/** Refusals of a body made here rather than by fastify: audited as fastify's are (app.ts). */
export const refusedBodies = new WeakSet<Error>();

export function registerJsonParser(app: FastifyInstance, maxDepth: number): void {
  const parse = app.getDefaultJsonParser("error", "error");
  // JSON only: anything else (text/plain included, which fastify would accept) is 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (req, body, done) => {
    const bytes = body as Buffer;
    // Decoding would turn each invalid byte into U+FFFD, and a value sent that way would be
    // stored changed: JSON is UTF-8 text, and bytes travel as valueBase64.
    if (!isUtf8(bytes)) {
      const refused = new ApiError(400, "INVALID_INPUT", "request body is not valid UTF-8", { hint: "JSON is UTF-8 text; send bytes as valueBase64" });
      refusedBodies.add(refused);
      done(refused, undefined);
      return;
    }
    const text = bytes.toString("utf8");
    // An empty body under a JSON content type is no body: clients (the Agent Secret Store's
    // `ass`) send the header on every request, bodyless POSTs included.
    if (text === "") {
      done(null, undefined);
      return;
    }
    if (jsonNestingExceeds(text, maxDepth)) {
      const refused = new ApiError(400, "INVALID_INPUT", `request body is nested deeper than ${maxDepth} levels`);
      refusedBodies.add(refused);
      done(refused, undefined);
      return;
    }
    void parse(req, text, done); // answers through done; the parser type also allows a promise
  });
}
