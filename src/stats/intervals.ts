// stats --interval: a time series of a trace, as sar prints one — per interval, the execs,
// failed execs, forks, exits, syscalls and lost events, one row for every interval from the
// first event's to the last's, empty ones included. Streaming: a row is handed out as soon
// as no later record can fall into it, so memory holds only the rows still open.
//
// Where an event counts: in the interval its time falls in (ts_ns, the boot clock turned
// into wall-clock time with the file's clock pair); a syscall where it completed (entry +
// duration: the file holds calls in the order they ended), a lost marker where the recorder
// wrote it (the loss itself happened in its window, before). Intervals are aligned on
// multiples of their length in the zone times are shown in (like sar: 1s rows start on whole
// seconds, 1m rows on whole minutes, 1h rows on the zone's hours), with the zone's offset
// at the recording's start.
//
// Records reach the file nearly in time order: each CPU's in order, CPUs interleaved within
// microseconds (the ring buffer is shared). A row is closed once the stream has gone
// REORDER_NS past its end; an event older than a closed row (none in the fixtures; it would
// take a record ten seconds late) is counted in the first open row and reported as `late`.
// Events with times outside the recording (a damaged timestamp) are counted nowhere and
// reported as `outside`, so that one bad record cannot produce billions of empty rows.

import {forEachEvent, type OpenedTrace} from '../decode';
import type {TraceEvent} from '../decode/events';
import type {SyscallParts, SyscallSink} from '../decode/syscalls';
import {HumanTime, type WallClock, type Zone, zoneOffsetSec} from '../util/time';

/** IntervalCounts are what each interval counts. */
export interface IntervalCounts {
  /** exec events. */
  execs: number;
  /** exec_failed events. */
  exec_failed: number;
  /** fork events (new processes). */
  forks: number;
  /** exit events (processes that ended). */
  exits: number;
  /** syscalls that completed in the interval (in flight at the end: where they began). */
  syscalls: number;
  /** Events the kernel could not deliver, counted where their lost markers are (the sum of their counts). */
  lost: number;
}

/** IntervalRow is one interval: `start` and `end` as RFC 3339 UTC, and its counts. What `stats --interval --json` prints per line. */
export interface IntervalRow extends IntervalCounts {
  start: string;
  end: string;
}

/** IntervalSummary is what a pass found besides its rows. */
export interface IntervalSummary {
  /** The interval's length in nanoseconds. */
  every_ns: number;
  /** Rows handed out. */
  rows: number;
  /** The sums of every row. */
  total: IntervalCounts;
  /** Events that reached the file after their interval was closed: counted in a later row. */
  late: number;
  /** Events with a time outside the recording (a damaged timestamp): counted in no row. */
  outside: number;
}

/** How far behind the latest record a row stays open. */
const REORDER_NS = 10e9;
/** Events this long before the recording's start or after its end are not its own. */
const MARGIN_NS = 60e9;
/** MAX_INTERVAL_ROWS bounds the rows of one pass: --interval 1ms over a week would be 600 million. */
export const MAX_INTERVAL_ROWS = 10_000_000;
/** MIN_INTERVAL_NS is the shortest interval (1 ms). */
export const MIN_INTERVAL_NS = 1e6;

const ZERO = (): IntervalCounts => ({execs: 0, exec_failed: 0, forks: 0, exits: 0, syscalls: 0, lost: 0});

/** IntervalOptions are what an IntervalCollector needs of the recording. */
export interface IntervalOptions {
  everyNs: number;
  clock: WallClock;
  /** The recording's start: boot and wall clock read together (metadata `clock.start`). */
  startBootNs: number;
  startRealNs: bigint;
  /** Its end on the boot clock (the trailer's clock_end), null when unknown. */
  endBootNs: number | null;
  zone: Zone;
  /** Each row, in time order, once closed. */
  emit: (row: IntervalRow) => void;
}

/**
 * IntervalCollector counts events into intervals (see the opening comment). add() the
 * events that count, in stream order (syscalls may come as parts, through syscall()); end()
 * hands out the rows still open. Not thread-safe; one pass.
 */
export class IntervalCollector implements SyscallSink {
  private readonly every: number;
  /** Boot-clock time of the start of row 0: a multiple of `every` in the zone. */
  private readonly base: number;
  private readonly lo: number;
  private readonly hi: number;
  private readonly open = new Map<number, IntervalCounts>();
  private readonly total = ZERO();
  /** The first row not yet handed out; null before the first event. */
  private next: number | null = null;
  private first = 0;
  private last = 0;
  private maxTs = -Infinity;
  private rows = 0;
  private late = 0;
  private outside = 0;

  constructor(private readonly o: IntervalOptions) {
    this.every = o.everyNs;
    const every = BigInt(o.everyNs);
    const offsetNs = BigInt(zoneOffsetSec(Number(o.startRealNs / 1_000_000_000n), o.zone)) * 1_000_000_000n;
    const phase = Number((((o.startRealNs + offsetNs) % every) + every) % every);
    this.base = o.startBootNs - phase;
    this.lo = o.startBootNs - MARGIN_NS;
    this.hi = o.endBootNs !== null ? o.endBootNs + MARGIN_NS : Infinity;
  }

  /** A syscall as the decoder's parts (SyscallSink): counted where it completed. */
  syscall(p: SyscallParts): boolean {
    this.count(p.ts_ns + (p.duration_ns ?? 0), 'syscalls', 1);
    return true;
  }

  /** An event that matched; the types that count nothing (process) are ignored. */
  add(e: TraceEvent): void {
    const ts = e.ts_ns as number | bigint;
    switch (e.type) {
      case 'exec':
        this.count(ts, 'execs', 1);
        break;
      case 'exec_failed':
        this.count(ts, 'exec_failed', 1);
        break;
      case 'fork':
        this.count(ts, 'forks', 1);
        break;
      case 'exit':
        this.count(ts, 'exits', 1);
        break;
      case 'syscall':
        this.count(typeof ts === 'number' ? ts + (typeof e.duration_ns === 'number' ? e.duration_ns : 0) : ts, 'syscalls', 1);
        break;
      case 'lost': {
        const n = Number(e.count);
        if (Number.isFinite(n) && n > 0) this.count(ts, 'lost', n);
        break;
      }
    }
  }

  private count(ts: number | bigint, what: keyof IntervalCounts, n: number): void {
    // A bigint time is beyond 2^53 ns (a damaged record): outside any recording.
    if (typeof ts !== 'number' || !(ts >= this.lo && ts <= this.hi)) {
      this.outside += n;
      return;
    }
    let i = Math.floor((ts - this.base) / this.every);
    if (this.next === null) {
      this.next = this.first = this.last = i;
    } else if (i < this.next) {
      if (this.rows === 0) {
        // Nothing handed out yet: the rows start earlier.
        this.next = this.first = i;
      } else {
        this.late += n;
        i = this.next;
      }
    }
    if (i - this.first >= MAX_INTERVAL_ROWS) {
      this.outside += n;
      return;
    }
    let c = this.open.get(i);
    if (c === undefined) this.open.set(i, (c = ZERO()));
    c[what] += n;
    this.total[what] += n;
    if (i > this.last) this.last = i;
    if (ts > this.maxTs) {
      this.maxTs = ts;
      this.close(ts - REORDER_NS);
    }
  }

  /** Hands out the rows that end at or before boot-clock time `until`. */
  private close(until: number): void {
    while (this.next !== null && this.next <= this.last && this.base + (this.next + 1) * this.every <= until) this.hand(this.next++);
  }

  private hand(i: number): void {
    const c = this.open.get(i) ?? ZERO();
    this.open.delete(i);
    const startNs = this.base + i * this.every;
    this.rows++;
    this.o.emit({start: this.o.clock.rfc3339(startNs), end: this.o.clock.rfc3339(startNs + this.every), ...c});
  }

  /** Hands out every row left, up to the last event's; returns the pass's summary. */
  end(): IntervalSummary {
    if (this.next !== null) while (this.next <= this.last) this.hand(this.next++);
    return {every_ns: this.every, rows: this.rows, total: {...this.total}, late: this.late, outside: this.outside};
  }
}

/**
 * collectIntervals runs one pass of the trace into c: every event, tested by `test` (null:
 * no filter; then syscall events are counted from the decoder's values without being
 * built). Returns how many events matched (lost markers left out).
 */
export function collectIntervals(t: OpenedTrace, test: ((e: TraceEvent) => boolean) | null, c: IntervalCollector): number {
  let matched = 0;
  t.decoder.direct = test ? null : c;
  try {
    forEachEvent(t, {processes: test !== null}, (e) => {
      if (test && !test(e)) return;
      if (e.type !== 'lost') matched++;
      c.add(e);
    });
  } finally {
    t.decoder.direct = null;
  }
  return matched;
}

const COLS: [keyof IntervalCounts, string][] = [
  ['execs', 'EXECS'], ['exec_failed', 'FAILED'], ['forks', 'FORKS'], ['exits', 'EXITS'], ['syscalls', 'SYSCALLS'], ['lost', 'LOST'],
];

/** `2026-11-23T18:12:22.500000000Z` → its Unix second and microseconds, or null. */
function parseStart(s: string): {sec: number; micros: string} | null {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(s);
  const ms = m ? Date.parse(`${m[1]}Z`) : NaN;
  return Number.isNaN(ms) ? null : {sec: ms / 1000, micros: (m?.[2] ?? '').padEnd(6, '0').slice(0, 6)};
}

/**
 * IntervalTable writes the rows for people: a header, one line per row with its start as
 * decode shows times (the zone's time of day, microseconds; with the date when the recording
 * spans days), and a total line.
 */
export class IntervalTable {
  private width = 0;

  constructor(private readonly times: HumanTime) {}

  /** The time column of a row: its start. */
  private time(row: IntervalRow): string {
    const p = parseStart(row.start);
    return p === null ? row.start : `${this.times.second(p.sec)}.${p.micros}`;
  }

  /** The header line (its width follows the first row's time). */
  header(first: IntervalRow | null): string {
    this.width = first ? this.time(first).length : 15;
    return `${'TIME'.padEnd(this.width)}${COLS.map(([, h]) => h.padStart(10)).join('')}`;
  }

  /** One row's line. */
  row(r: IntervalRow): string {
    return `${this.time(r).padEnd(this.width)}${COLS.map(([k]) => String(r[k]).padStart(10)).join('')}`;
  }

  /** The total line, and the interval's length and row count. */
  total(s: IntervalSummary): string {
    return `${'total'.padEnd(this.width)}${COLS.map(([k]) => String(s.total[k]).padStart(10)).join('')}`;
  }
}
