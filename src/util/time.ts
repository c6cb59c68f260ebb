// Turning kernel boot-clock timestamps into wall-clock time, using the clock pair the
// recorder stored in the file (a boot-clock reading and a realtime reading taken together).

export interface ClockPair {
  boot_ns: bigint | number;
  realtime_ns: bigint | number;
}

const NS = 1_000_000_000n;

export class WallClock {
  private readonly baseSec: number;
  private readonly baseNsec: number;
  private readonly bootNs: number;
  private cacheSec = -1;
  private cachePrefix = '';

  constructor(pair: ClockPair) {
    const real = BigInt(pair.realtime_ns);
    this.baseSec = Number(real / NS);
    this.baseNsec = Number(real % NS);
    this.bootNs = Number(pair.boot_ns);
  }

  /** Unix time in whole seconds and nanoseconds for a boot-clock time (a u64 above 2^53 arrives as a bigint). */
  split(bootNs: number | bigint): [number, number] {
    const total = this.baseNsec + (Number(bootNs) - this.bootNs);
    const carry = Math.floor(total / 1e9);
    return [this.baseSec + carry, total - carry * 1e9];
  }

  // split() in two halves that allocate nothing, for serializers that write the digits
  // themselves: the same arithmetic, so the same values.

  /** The whole seconds of split(bootNs). */
  secondsOf(bootNs: number): number {
    return this.baseSec + Math.floor((this.baseNsec + (bootNs - this.bootNs)) / 1e9);
  }

  /** The nanoseconds of split(bootNs). */
  nanosOf(bootNs: number): number {
    const total = this.baseNsec + (bootNs - this.bootNs);
    return total - Math.floor(total / 1e9) * 1e9;
  }

  /** `2026-11-23T17:50:56` for a split() second: the part rfc3339() and timeOfDay() share. */
  secondPrefix(sec: number): string {
    return this.prefix(sec);
  }

  /** RFC 3339, UTC, nanoseconds: 2026-11-23T17:50:56.123456789Z */
  rfc3339(bootNs: number | bigint): string {
    const [sec, nsec] = this.split(bootNs);
    return this.prefix(sec) + '.' + String(nsec).padStart(9, '0') + 'Z';
  }

  /** Time of day for human output: 17:50:56.123456 */
  timeOfDay(bootNs: number | bigint): string {
    const [sec, nsec] = this.split(bootNs);
    return this.prefix(sec).slice(11) + '.' + String(Math.floor(nsec / 1000)).padStart(6, '0');
  }

  private prefix(sec: number): string {
    if (sec !== this.cacheSec) {
      this.cacheSec = sec;
      this.cachePrefix = new Date(sec * 1000).toISOString().slice(0, 19);
    }
    return this.cachePrefix;
  }
}

/** RFC 3339, UTC, nanoseconds, of a Unix time in ns (a file's mtime). */
export function epochRfc3339(ns: number | bigint): string {
  const v = BigInt(ns);
  const sec = v / NS;
  const nsec = v % NS;
  return new Date(Number(sec) * 1000).toISOString().slice(0, 19) + '.' + String(nsec).padStart(9, '0') + 'Z';
}

/** Nanoseconds as a short human duration: 812ns, 4.21µs, 12.3ms, 1.52s, 2m03s */
export function formatDuration(ns: number): string {
  if (ns < 1e3) return `${Math.round(ns)}ns`;
  if (ns < 1e6) return `${(ns / 1e3).toPrecision(3)}µs`;
  if (ns < 1e9) return `${(ns / 1e6).toPrecision(3)}ms`;
  if (ns < 60e9) return `${(ns / 1e9).toPrecision(3)}s`;
  const s = Math.round(ns / 1e9);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * The zone human output shows times in: the local one (TZ, as date(1) uses it), or UTC
 * with --utc. JSON is always UTC (RFC 3339).
 */
export type Zone = 'local' | 'utc';

const DAY_S = 86400;

/** Seconds east of UTC of the zone at Unix time `sec` (for the local zone, daylight saving included). */
export function zoneOffsetSec(sec: number, zone: Zone): number {
  if (zone === 'utc') return 0;
  const off = new Date(sec * 1000).getTimezoneOffset();
  return Number.isFinite(off) ? -off * 60 : 0;
}

/**
 * The zone at Unix time `sec` as people can read it anywhere: `UTC`, or the local zone's
 * offset, `UTC+09:00` (abbreviations such as CST name several zones).
 */
export function zoneName(sec: number, zone: Zone): string {
  if (zone === 'utc') return 'UTC';
  const off = zoneOffsetSec(sec, zone);
  const a = Math.abs(off);
  return `UTC${off < 0 ? '-' : '+'}${String(Math.floor(a / 3600)).padStart(2, '0')}:${String(Math.floor(a / 60) % 60).padStart(2, '0')}`;
}

/** `2026-11-23 18:12:22` for a Unix second, in the zone. */
export function wallSecond(sec: number, zone: Zone): string {
  const d = new Date((sec + zoneOffsetSec(sec, zone)) * 1000);
  if (Number.isNaN(d.getTime())) return `${sec}s`;
  const iso = d.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/**
 * Times for human lines: the time of day in the zone, with the date in front when the
 * recording spans more than one day there (known from its start and end), and in any case
 * on a line whose day is not the recording's first (a file without an end, or an event
 * past it), so a time never stands for two instants.
 */
export class HumanTime {
  private cacheSec = NaN;
  private cacheText = '';
  private startDay: number | null;

  /** `start`/`end`: the recording's Unix seconds, when known. */
  constructor(readonly clock: WallClock, readonly zone: Zone = 'local', start: number | null = null, end: number | null = null) {
    this.startDay = start === null ? null : this.dayOf(start);
    this.alwaysDate = start !== null && end !== null && this.dayOf(end) !== this.startDay;
  }

  private readonly alwaysDate: boolean;

  /** For a recording whose clock pair is `clock`, from boot-clock start and end (end null when unknown). */
  static forRecording(clock: WallClock, zone: Zone, startBootNs: number | bigint | null, endBootNs: number | bigint | null): HumanTime {
    const sec = (ns: number | bigint | null) => (ns === null ? null : clock.split(ns)[0]);
    return new HumanTime(clock, zone, sec(startBootNs), sec(endBootNs));
  }

  private dayOf(sec: number): number {
    return Math.floor((sec + zoneOffsetSec(sec, this.zone)) / DAY_S);
  }

  /** `18:12:22` or `2026-11-23 18:12:22` for a split() second. */
  second(sec: number): string {
    if (sec !== this.cacheSec) {
      this.startDay ??= this.dayOf(sec);
      const full = wallSecond(sec, this.zone);
      this.cacheSec = sec;
      this.cacheText = this.alwaysDate || this.dayOf(sec) !== this.startDay ? full : full.slice(11);
    }
    return this.cacheText;
  }

  /** `18:12:22.955256` (microseconds) for a boot-clock time. */
  format(bootNs: number | bigint): string {
    const [sec, nsec] = this.clock.split(bootNs);
    return this.second(sec) + '.' + String(Math.floor(nsec / 1000)).padStart(6, '0');
  }
}

const defaults = new WeakMap<WallClock, HumanTime>();

/** The local-zone HumanTime of a clock, for callers that know nothing of the recording's span. */
export function defaultHumanTime(clock: WallClock): HumanTime {
  let h = defaults.get(clock);
  if (h === undefined) defaults.set(clock, (h = new HumanTime(clock)));
  return h;
}
