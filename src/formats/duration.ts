/**
 * Durations and points in time as typed on the command line: token TTLs (`--ttl 15m`),
 * approval windows (`--for 15m`), expiries (`--expires 30d` or a date) and audit ranges
 * (`--since 2h`, `--until 2024-05-01T09:00:00Z`).
 *
 * Duration syntax: one or more `<digits><unit>` components, units w d h m s, largest first,
 * each at most once, optionally separated by spaces: `30s`, `15m`, `8h`, `7d`, `2w`, `1h30m`,
 * `1d 12h`. `0` alone means zero. A bare number is refused (is `30` seconds or minutes?), as
 * are fractions (`1.5h`; write `1h30m`), negative values, and anything past
 * Number.MAX_SAFE_INTEGER milliseconds. Months and years are not units: their length varies.
 *
 * Times: ISO-8601 `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM[:SS[.fff]]` (a space may replace the
 * `T`) with an optional `Z` or `±HH:MM` offset. A date or time without an offset is read as
 * UTC, never as the machine's local zone: the same command gives the same answer on every
 * machine, and the audit log prints UTC. Impossible dates (Feb 30) are refused.
 */
import { AuthyError } from "../errors.js";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

const UNITS = ["w", "d", "h", "m", "s"] as const;
type Unit = (typeof UNITS)[number];
const UNIT_MS: Record<Unit, number> = { w: WEEK, d: DAY, h: HOUR, m: MINUTE, s: SECOND };

const COMPONENT = /(\d+)([wdhms])[ \t]*/y;
const DURATION_HINT = "use a number with a unit (s, m, h, d, w): 30s, 15m, 8h, 7d, 1h30m";

export function parseDuration(s: string): number {
  const ms = tryParseDuration(s);
  if (ms === undefined) {
    throw new AuthyError("INVALID_INPUT", `invalid duration ${JSON.stringify(s)}`, { hint: DURATION_HINT });
  }
  return ms;
}

/** The duration in ms, or undefined if `s` is not one. */
function tryParseDuration(input: string): number | undefined {
  const s = input.trim();
  if (s === "0") return 0;
  if (s === "") return undefined;
  let total = 0;
  let lastUnit = -1;
  COMPONENT.lastIndex = 0;
  while (COMPONENT.lastIndex < s.length) {
    const m = COMPONENT.exec(s);
    if (m === null) return undefined;
    const unit = UNITS.indexOf(m[2] as Unit);
    if (unit <= lastUnit) return undefined; // out of order or repeated: `30m1h`, `1m1m`
    lastUnit = unit;
    total += Number(m[1]) * UNIT_MS[m[2] as Unit];
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/**
 * `14m 59s`, `1d 2h`, `0s`: every non-zero unit from days down to seconds. Sub-second parts
 * are dropped (a countdown shows `0s` for its last second); negative values get a `-`.
 * parseDuration reads the output back.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) {
    throw new AuthyError("INVALID_INPUT", `cannot format a duration of ${ms} ms`);
  }
  let rest = Math.floor(Math.abs(ms) / SECOND) * SECOND;
  const parts: string[] = [];
  for (const [unit, size] of [
    ["d", DAY],
    ["h", HOUR],
    ["m", MINUTE],
    ["s", SECOND],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  if (parts.length === 0) return "0s";
  return (ms < 0 ? "-" : "") + parts.join(" ");
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/;

/** Epoch ms for an ISO-8601 date or date-time, undefined if `s` is not one or is impossible. */
function tryParseIsoTime(input: string): number | undefined {
  const m = ISO_TIME.exec(input.trim());
  if (m === null) return undefined;
  const [, y, mo, d, h = "0", mi = "0", sec = "0", frac = "", , sign, oh = "0", om = "0"] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(sec);
  if (hour > 23 || minute > 59 || second > 59 || Number(oh) > 23 || Number(om) > 59) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, Number(frac.padEnd(3, "0").slice(0, 3))));
  // Date.UTC rolls Feb 30 over to Mar 1 and maps years 0-99 to 19xx: refuse both.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return undefined;
  }
  const offset = sign === undefined ? 0 : (sign === "-" ? -1 : 1) * (Number(oh) * HOUR + Number(om) * MINUTE);
  return date.getTime() - offset;
}

const TIME_HINT = "use an ISO-8601 date or time in UTC or with an offset (2024-05-01, 2024-05-01T09:30:00Z, " + "2024-05-01T11:30+02:00)";

/**
 * A point in time for `audit --since/--until`: an ISO-8601 date or time, `now`, or a duration
 * meaning that long before `now` (`2h` is two hours ago).
 */
export function parseTimeSpec(s: string, now: number): number {
  if (s.trim() === "now") return now;
  const absolute = tryParseIsoTime(s);
  if (absolute !== undefined) return absolute;
  const ago = tryParseDuration(s);
  if (ago !== undefined) return now - ago;
  throw new AuthyError("INVALID_INPUT", `invalid time ${JSON.stringify(s)}`, {
    hint: `${TIME_HINT}, or a duration meaning that long ago (15m, 2h, 7d)`,
  });
}

/**
 * An expiry for `--expires`: an ISO-8601 date or time, or a duration from `now` (`30d`).
 * It must be in the future: an expiry that has already passed is almost surely a typo.
 */
export function parseExpiry(s: string, now: number): number {
  const absolute = tryParseIsoTime(s);
  const later = tryParseDuration(s);
  const at = absolute ?? (later === undefined ? undefined : now + later);
  if (at === undefined) {
    throw new AuthyError("INVALID_INPUT", `invalid expiry ${JSON.stringify(s)}`, {
      hint: `${TIME_HINT}, or a duration from now (30d, 12h)`,
    });
  }
  if (at <= now) {
    throw new AuthyError("INVALID_INPUT", `expiry ${JSON.stringify(s)} is not in the future`, {
      hint: "give a later date, or a duration such as 30d",
    });
  }
  return at;
}
