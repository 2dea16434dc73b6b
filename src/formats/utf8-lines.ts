import { isUtf8 } from "node:buffer";
import { AuthyError } from "../errors.js";

/**
 * A text file's bytes as text, or INVALID_INPUT naming `source` and the first line that is not
 * UTF-8: decoding would turn each bad byte into U+FFFD, and what is stored or written would
 * silently differ from the file. `hint` says what to do instead, in the file's own terms.
 */
export function utf8Lines(bytes: Buffer, source: string, hint: string): string {
  if (isUtf8(bytes)) return bytes.toString("utf8");
  let line = 1;
  for (let start = 0; ; line++) {
    const end = bytes.indexOf(0x0a, start);
    if (!isUtf8(bytes.subarray(start, end === -1 ? bytes.length : end)) || end === -1) break;
    start = end + 1;
  }
  throw new AuthyError("INVALID_INPUT", `${source}:${line}: not valid UTF-8 text`, { hint });
}
