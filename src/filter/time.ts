// --since / --until: an RFC 3339 time, a time of day, or a duration from the start of the
// recording, turned into a bound on the boot clock that events' ts_ns are on (through the
// clock pair in the file's metadata).
//
// A time of day (HH:MM[:SS[.frac]]) is in the zone decode prints times in: the local one
// (TZ), or UTC with --utc; so is an RFC 3339 time without an offset. A time of day is put on
// the day that places it within the recording (start to end, the end from the trailer), or
// nearest to it when no day does; the first such day when the recording spans several. So
// `--since 00:05` in a recording from 23:50 to 00:10 means the 00:05 after midnight.

import {UsageError} from '../util/errors';
import {peekTrailer} from '../format';
import {zoneOffsetSec, type Zone} from '../util/time';

const NS = 1_000_000_000n;
const DAY_NS = 86_400n * NS;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export interface Span {
  /** Boot-clock and wall-clock (ns since the epoch) readings taken together at the start. */
  startBootNs: bigint;
  startRealNs: bigint;
  /** Boot-clock end of the recording (trailer clock_end), or null when unknown. */
  endBootNs: bigint | null;
}

export interface TimeBound {
  /** The bound on ts_ns (boot clock); a bigint only beyond 2^53. */
  bootNs: number | bigint;
  /** The same instant as RFC 3339 UTC with nanoseconds. */
  time: string;
}

const EXAMPLES = 'examples: 2026-11-23T10:42:00Z, 10:42, 10:42:05.25, +30s, 1m30s';

/** Reads --since/--until, clock times in `zone`. Throws a one-line UsageError naming the flag. */
export function parseTimeBound(s: string, flag: string, span: Span, zone: Zone = 'utc'): TimeBound {
  const text = s.trim();
  const wall = durationFromStart(text, span) ?? timeOfDay(text, span, flag, zone) ?? rfc3339(text, flag, zone);
  if (wall === null) throw new UsageError(`--${flag}: cannot read time ${JSON.stringify(s)} (${EXAMPLES})`);
  const boot = span.startBootNs + (wall - span.startRealNs);
  return {bootNs: boot >= -MAX_SAFE && boot <= MAX_SAFE ? Number(boot) : boot, time: formatWall(wall)};
}

const UNIT_NS: Record<string, number> = {ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9, d: 86400e9};

/** "+10s", "1m30s", "1h2m3.5s", "250ms" from the start of the recording; null if not a duration. */
function durationFromStart(text: string, span: Span): bigint | null {
  const ns = parseDurationNs(text.startsWith('+') ? text.slice(1) : text);
  return ns === null ? null : span.startRealNs + BigInt(ns);
}

/**
 * parseDurationNs reads a duration as --since takes one after its `+` ("30s", "1m30s",
 * "1h2m3.5s", "250ms"; units ns, us, µs, ms, s, m, h, d) and returns it in nanoseconds
 * (rounded), or null when the text is not one. stats --interval reads its value with it.
 */
export function parseDurationNs(text: string): number | null {
  if (!/^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d))+$/.test(text)) return null;
  let ns = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/g)) ns += Number(m[1]) * UNIT_NS[m[2]];
  return Math.round(ns);
}

/** Nanoseconds east of UTC of the zone at the instant `ns` (since the epoch). */
function offsetNs(ns: bigint, zone: Zone): bigint {
  return BigInt(zoneOffsetSec(Number(floorDiv(ns, NS)), zone)) * NS;
}

/** The instant whose wall-clock reading in the zone is `wall` (the offset found again at that instant, for DST). */
function fromWall(wall: bigint, zone: Zone): bigint {
  const guess = wall - offsetNs(wall, zone);
  return wall - offsetNs(guess, zone);
}

/** HH:MM[:SS[.frac]] in the zone, placed on a day as the header comment says; null if not one. */
function timeOfDay(text: string, span: Span, flag: string, zone: Zone): bigint | null {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/.exec(text);
  if (!m) return null;
  const tod = clockNs(m[1], m[2], m[3], m[4], flag, text);
  // The search runs on wall-clock readings in the zone, and its result goes back to an instant.
  const startAt = span.startRealNs;
  const endAt = span.endBootNs !== null && span.endBootNs >= span.startBootNs ? startAt + (span.endBootNs - span.startBootNs) : startAt;
  const start = startAt + offsetNs(startAt, zone);
  const end = endAt + offsetNs(endAt, zone);
  const day0 = floorDiv(start, DAY_NS) * DAY_NS;
  const days = floorDiv(end, DAY_NS) - floorDiv(start, DAY_NS);
  let best: bigint | null = null;
  let bestDist = 0n;
  for (let k = -1n; k <= days + 1n; k++) {
    const t = day0 + k * DAY_NS + tod;
    const dist = t < start ? start - t : t > end ? t - end : 0n;
    if (best === null || dist < bestDist) {
      best = t;
      bestDist = dist;
    }
  }
  return best === null ? null : fromWall(best, zone);
}

/** RFC 3339 (without an offset, a wall-clock time in `zone`; a date alone is its midnight); null if not one. */
function rfc3339(text: string, flag: string, wallZone: Zone): bigint | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?([Zz]|[+-]\d{2}:?\d{2})?$/.exec(text);
  if (!m) return null;
  const [, y, mo, d, hh, mm, ss, frac, zone] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d));
  const date = new Date(ms);
  if (Number(mo) < 1 || Number(mo) > 12 || date.getUTCDate() !== Number(d)) {
    throw new UsageError(`--${flag}: ${text} is not a valid date`);
  }
  let ns = BigInt(ms) * 1_000_000n + (hh === undefined ? 0n : clockNs(hh, mm, ss, frac, flag, text));
  if (zone && zone !== 'Z' && zone !== 'z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone) as RegExpExecArray;
    const off = (BigInt(Number(z[2])) * 60n + BigInt(Number(z[3]))) * 60n * NS;
    if (Number(z[2]) > 23 || Number(z[3]) > 59) throw new UsageError(`--${flag}: bad time zone offset in ${text}`);
    ns += z[1] === '+' ? -off : off;
  } else if (!zone) {
    return fromWall(ns, wallZone);
  }
  return ns;
}

function clockNs(hh: string, mm: string, ss: string | undefined, frac: string | undefined, flag: string, text: string): bigint {
  const h = Number(hh);
  const mi = Number(mm);
  const s = Number(ss ?? 0);
  if (h > 23 || mi > 59 || s > 60) throw new UsageError(`--${flag}: ${text} is not a valid time of day`);
  const f = frac ? BigInt(frac.padEnd(9, '0')) : 0n;
  return (BigInt(h) * 3600n + BigInt(mi) * 60n + BigInt(s)) * NS + f;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a < 0n && q * b !== a ? q - 1n : q;
}

function formatWall(ns: bigint): string {
  const sec = floorDiv(ns, NS);
  const frac = ns - sec * NS;
  const d = new Date(Number(sec) * 1000);
  if (Number.isNaN(d.getTime())) return `${ns} ns since the epoch`;
  return d.toISOString().slice(0, 19) + '.' + String(frac).padStart(9, '0') + 'Z';
}

/**
 * The end of the recording on the boot clock, from the trailer reached through the footer
 * (a seek, not a pass over the chunks); null when the file has no readable trailer.
 */
export function recordingEnd(path: string): bigint | null {
  const end = (peekTrailer(path)?.clock_end as {boot_ns?: unknown} | undefined)?.boot_ns;
  return typeof end === 'number' || typeof end === 'bigint' ? BigInt(end) : null;
}
