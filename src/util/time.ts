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

/** Nanoseconds as a short human duration: 812ns, 4.21µs, 12.3ms, 1.52s, 2m03s */
export function formatDuration(ns: number): string {
  if (ns < 1e3) return `${Math.round(ns)}ns`;
  if (ns < 1e6) return `${(ns / 1e3).toPrecision(3)}µs`;
  if (ns < 1e9) return `${(ns / 1e6).toPrecision(3)}ms`;
  if (ns < 60e9) return `${(ns / 1e9).toPrecision(3)}s`;
  const s = Math.round(ns / 1e9);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
