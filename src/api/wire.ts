import { AuthyError } from "../errors.js";

/**
 * How values travel in JSON: `value` when the bytes are valid UTF-8 text, `valueBase64`
 * otherwise (or whenever the client asks for base64, as authy's own client does, so binary
 * survives byte for byte).
 */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function encodeValue(bytes: Uint8Array, base64Only: boolean): { value: string } | { valueBase64: string } {
  if (!base64Only) {
    try {
      return { value: utf8.decode(bytes) };
    } catch {
      // not text: fall through to base64
    }
  }
  return { valueBase64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64") };
}

export function decodeValue(body: { value?: string | undefined; valueBase64?: string | undefined }): Buffer {
  if (body.value !== undefined) {
    // A lone surrogate is not text; encoding it would silently store U+FFFD instead.
    if (/\p{Surrogate}/u.test(body.value)) throw new AuthyError("INVALID_INPUT", "value is not valid Unicode text", { hint: "send bytes as valueBase64" });
    return Buffer.from(body.value, "utf8");
  }
  return Buffer.from(body.valueBase64 ?? "", "base64");
}

/** `namespace` and `key` from the URL as one canonical path; the core validates the rest. */
export function pathOf(params: unknown): string {
  const { namespace, key } = params as { namespace: string; key: string };
  if (key.includes("/")) {
    throw new AuthyError("INVALID_INPUT", "invalid secret path: the key part of the URL must be a single segment", {
      hint: "encode a nested namespace as one URL segment: /v1/secrets/prod%2Fopenai/API_KEY",
    });
  }
  return `${namespace}/${key}`;
}
