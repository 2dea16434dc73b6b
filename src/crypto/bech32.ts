/**
 * Bech32 (BIP 173) as age uses it: no length limit, all-lowercase or all-uppercase, checksum
 * computed over the lowercase form. Used for age recipients (`age1…`) and identities
 * (`AGE-SECRET-KEY-1…`).
 */

const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3] as const;
const CHECKSUM_LENGTH = 6;

interface Bech32 {
  /** Human-readable part, in the case it was written in. */
  hrp: string;
  data: Uint8Array;
}

function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = (((chk & 0x1ffffff) << 5) ^ v) >>> 0;
    for (let i = 0; i < 5; i++) {
      if ((top >>> i) & 1) chk = (chk ^ GENERATOR[i]!) >>> 0;
    }
  }
  return chk;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) >> 5);
  out.push(0);
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) & 31);
  return out;
}

function convertBits(data: ArrayLike<number>, from: number, to: number, pad: boolean): number[] | null {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const max = (1 << to) - 1;
  for (let i = 0; i < data.length; i++) {
    const value = data[i]!;
    if (value >> from !== 0) return null;
    acc = (acc << from) | value;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & max);
    }
    acc &= (1 << bits) - 1;
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & max);
  } else if (bits >= from || ((acc << (to - bits)) & max) !== 0) {
    return null;
  }
  return out;
}

/** Returns null for anything that is not valid Bech32; never throws. */
export function bech32Decode(s: string): Bech32 | null {
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) return null;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 33 || c > 126) return null;
  }
  const sep = s.lastIndexOf("1");
  if (sep < 1 || sep + 1 + CHECKSUM_LENGTH > s.length) return null;
  const hrp = s.slice(0, sep);
  const lower = s.toLowerCase();
  const values: number[] = [];
  for (const c of lower.slice(sep + 1)) {
    const v = CHARSET.indexOf(c);
    if (v === -1) return null;
    values.push(v);
  }
  if (polymod([...hrpExpand(hrp.toLowerCase()), ...values]) !== 1) return null;
  const bytes = convertBits(values.slice(0, -CHECKSUM_LENGTH), 5, 8, false);
  if (bytes === null) return null;
  return { hrp, data: Uint8Array.from(bytes) };
}

/** Encodes in the case of `hrp`: an uppercase hrp gives an all-uppercase string. */
export function bech32Encode(hrp: string, data: Uint8Array): string {
  const lowerHrp = hrp.toLowerCase();
  const values = convertBits(data, 8, 5, true)!;
  const chk = polymod([...hrpExpand(lowerHrp), ...values, 0, 0, 0, 0, 0, 0]) ^ 1;
  let out = lowerHrp + "1";
  for (const v of values) out += CHARSET[v]!;
  for (let i = 0; i < CHECKSUM_LENGTH; i++) out += CHARSET[(chk >>> (5 * (5 - i))) & 31]!;
  return hrp === lowerHrp ? out : out.toUpperCase();
}
