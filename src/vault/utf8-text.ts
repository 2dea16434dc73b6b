/**
 * A value as text, or null if its bytes are not valid UTF-8 (text formats and environment
 * variables cannot carry it). One strict decode: a leading byte-order mark is kept, as the
 * bytes have it.
 */
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function utf8Text(bytes: Uint8Array): string | null {
  try {
    return strict.decode(bytes);
  } catch {
    return null;
  }
}
