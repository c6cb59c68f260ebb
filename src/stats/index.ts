// Summaries of a trace: per event type what the kernel sent, what the file holds and what
// was lost (from the trailer's counters when the recording ended cleanly, from the
// stream's own `lost` records otherwise), the time span, the most frequent programs, and
// per syscall what `strace -c` shows (calls, errors, time) plus the kernel's Sent/Lost.

import {forEachEvent, type OpenedTrace} from '../decode';
import {TraceEvent} from '../decode/events';
import type {SyscallParts, SyscallSink} from '../decode/syscalls';
import {displayText, type Text} from '../decode/text';
import {wallSecond, zoneName, type WallClock, type Zone} from '../util/time';

export interface TypeRow {
  event: string;
  sent: number | null;
  recorded: number;
  lost: number;
  /** Records a record-time filter kept out of the ring (never lost); null in older files. */
  filtered: number | null;
}

/** One syscall: what the decoded events say, and what the kernel counted (trailer `totals_sys`). */
export interface SyscallRow {
  syscall: string;
  calls: number;
  errors: number;
  /** Calls without an exit or without an entry (counted in calls; no time). */
  incomplete: number;
  /** Exit records the kernel handed to the ring buffer; null without the trailer's counts. */
  sent: number | null;
  /** Exit records the ring buffer refused (full). */
  lost: number | null;
  /** Calls a filter (--comm) excluded on purpose: never counted as lost. */
  filtered: number | null;
  total_ns: number;
  /** total_ns over the calls with a duration; null when none had one. */
  mean_ns: number | null;
  /**
   * Recorded implicitly (record --syscall: a call that makes or ends descriptors, recorded so
   * that the asked calls' descriptors can be named; formats/trace-format.md §10.11), not asked for.
   */
  implicit?: true;
}

export interface StatsReport {
  duration_ns: number | null;
  start: string | null;
  end: string | null;
  records: number;
  rate_per_s: number | null;
  processes_at_start: number;
  /** Per event type a user can filter by (--type): syscall calls are one `syscall` row. */
  events: TypeRow[];
  /** Per record type in the file (sys_enter, sys_exit and task records make up the syscall events). */
  types: TypeRow[];
  top_executables: {filename: Text; count: number}[];
  failed_execs: {errno: string; count: number}[];
  exits: {total: number; nonzero: number; signaled: number};
  /**
   * Execs with a `sha256`, and why the others have none (`sha256_error` per name); null
   * when the file has no digests (recorded with --no-hash, or by an older exectrace).
   */
  hashes: {execs: number; hashed: number; errors: Record<string, number>} | null;
  syscalls: SyscallRow[];
  complete: boolean;
  /** The filter flags given to stats: only matching events were summarized. */
  filter?: string | null;
  /** The file was written by `exectrace filter`: from which file, with which filter. */
  filtered_from?: {file: string; filter: string} | null;
  /** The file is one of a rotated recording's series (formats/trace-format.md §10.19): which, and what follows it. */
  series?: {id: string; seq: number; first: boolean; next: string | null | undefined} | null;
}

export interface TrailerTotals {
  [event: string]: {sent?: number; lost?: number; recorded?: number; filtered?: number};
}

export interface TrailerSyscallTotals {
  [syscall: string]: {sent?: number; lost?: number; filtered?: number};
}

export interface StatsTrailer {
  totals?: TrailerTotals;
  totals_sys?: TrailerSyscallTotals;
}

interface SysAcc {
  calls: number;
  errors: number;
  incomplete: number;
  timed: number;
  total: number;
}

export class StatsCollector implements SyscallSink {
  private readonly recorded = new Map<string, number>();
  private readonly lost = new Map<string, number>();
  private readonly execs = new Map<string, number>();
  private readonly failed = new Map<string, number>();
  private readonly sys = new Map<string, SysAcc>();
  private exitTotal = 0;
  private exitNonzero = 0;
  private exitSignaled = 0;
  private execCount = 0;
  private hashed = 0;
  private readonly hashErrors = new Map<string, number>();
  private hashSeen = false;
  // The earliest and latest events: their ts_ns, and their time (null: a syscall event
  // counted without its object; its time is clock.rfc3339(ts_ns), made when reported).
  private seen = false;
  private firstTs: number | bigint = 0;
  private firstTime: string | null = null;
  private lastTs: number | bigint = 0;
  private lastTime: string | null = null;
  private lastName = '';
  private lastAcc: SysAcc | null = null;
  private records = 0;
  processesAtStart = 0;
  /** The syscalls the file recorded implicitly (Decoder.isImplicit): counted apart from the ones asked for. */
  implicitNames: ReadonlySet<string> = new Set();

  /** `clock` (the decoder's) is needed only when syscall events come through syscall(). */
  constructor(private readonly eventNames: string[], private readonly clock: WallClock | null = null) {
    for (const e of eventNames) if (e) this.recorded.set(e, 0);
  }

  /** A syscall event as the decoder's values (SyscallSink): counted as add() counts its event. */
  syscall(p: SyscallParts): boolean {
    if (this.clock === null) return false;
    this.records++;
    this.see(p.ts_ns, null);
    this.countCall(p.syscall, p.errno !== undefined, p.incomplete !== undefined, p.duration_ns);
    return true;
  }

  /** An event at ts (its time string, or null: made from ts when reported) may widen the span. */
  private see(ts: number | bigint, time: string | null): void {
    if (!this.seen || ts < this.firstTs) {
      this.firstTs = ts;
      this.firstTime = time;
    }
    if (!this.seen || ts > this.lastTs) {
      this.lastTs = ts;
      this.lastTime = time;
    }
    this.seen = true;
  }

  /** One call of syscall `name` (the last one's totals are kept at hand: storms repeat one call). */
  private countCall(name: string, failed: boolean, incomplete: boolean, duration: number | null): void {
    let a = name === this.lastName ? this.lastAcc : null;
    if (a === null) {
      a = this.sys.get(name) ?? null;
      if (a === null) this.sys.set(name, (a = {calls: 0, errors: 0, incomplete: 0, timed: 0, total: 0}));
      this.lastName = name;
      this.lastAcc = a;
    }
    a.calls++;
    if (failed) a.errors++;
    if (incomplete) a.incomplete++;
    if (duration !== null) {
      a.timed++;
      a.total += duration;
    }
  }

  add(e: TraceEvent): void {
    if (e.type === 'process') {
      this.processesAtStart++;
      return;
    }
    this.records++;
    if (e.type !== 'syscall') this.recorded.set(e.type, (this.recorded.get(e.type) ?? 0) + 1);
    this.see(e.ts_ns, e.time);
    switch (e.type) {
      case 'exec': {
        // Keyed by the exact text (a RawText too, text.ts): JSON shows it as decode --json does.
        const f = JSON.stringify(e.filename ?? '?');
        this.execs.set(f, (this.execs.get(f) ?? 0) + 1);
        this.execCount++;
        if (typeof e.sha256 === 'string') {
          this.hashed++;
          this.hashSeen = true;
        } else if (typeof e.sha256_error === 'string') {
          this.hashErrors.set(e.sha256_error, (this.hashErrors.get(e.sha256_error) ?? 0) + 1);
          this.hashSeen = true;
        }
        break;
      }
      case 'exec_failed': {
        const k = String(e.errno ?? e.error_code);
        this.failed.set(k, (this.failed.get(k) ?? 0) + 1);
        break;
      }
      case 'exit':
        this.exitTotal++;
        if (e.signal !== null && e.signal !== undefined) this.exitSignaled++;
        else if (e.exit_code !== 0) this.exitNonzero++;
        break;
      case 'lost': {
        const k = String(e.event);
        this.lost.set(k, (this.lost.get(k) ?? 0) + Number(e.count));
        break;
      }
      case 'syscall':
        this.countCall(String(e.syscall), typeof e.errno === 'string', !!e.incomplete, typeof e.duration_ns === 'number' ? e.duration_ns : null);
        break;
    }
  }

  /**
   * `records`, when given, is the number of records of each type the file holds (from the
   * decoder): syscall records pair into events, so events alone cannot tell.
   */
  report(trailer: StatsTrailer | null, clockEnd: {start: number; end: number; startTime: string; endTime: string} | null, top = 10,
    records?: Record<string, number>): StatsReport {
    const totals = trailer?.totals ?? null;
    if (records) for (const [k, v] of Object.entries(records)) this.recorded.set(k, v);
    const names = new Set<string>([...this.recorded.keys(), ...Object.keys(totals ?? {})]);
    const types: TypeRow[] = [];
    for (const name of names) {
      // Made by the recorder, not sent by the kernel: lost records are the LOST column, hash
      // records the `hashes` line.
      if (name === 'lost' || name === 'hash') continue;
      const t = totals?.[name];
      types.push({
        event: name,
        sent: t && typeof t.sent === 'number' ? t.sent : null,
        recorded: this.recorded.get(name) ?? 0,
        // The trailer holds the kernel's own counters; without it, the stream's lost records.
        lost: t && typeof t.lost === 'number' ? Math.max(t.lost, this.lost.get(name) ?? 0) : this.lost.get(name) ?? 0,
        filtered: t && typeof t.filtered === 'number' ? t.filtered : null,
      });
    }
    const syscalls = this.syscallRows(trailer?.totals_sys ?? null);
    const events = eventRows(types, syscalls);
    const timeOf = (ts: number | bigint, time: string | null) => time ?? (this.clock as WallClock).rfc3339(ts);
    const span = clockEnd ?? (this.seen
      ? {start: this.firstTs, end: this.lastTs, startTime: timeOf(this.firstTs, this.firstTime), endTime: timeOf(this.lastTs, this.lastTime)}
      : null);
    // ts_ns above 2^53 (a damaged record) decodes as a bigint.
    const duration = span ? Number(span.end) - Number(span.start) : null;
    const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return {
      duration_ns: duration,
      start: span?.startTime ?? null,
      end: span?.endTime ?? null,
      records: this.records,
      rate_per_s: duration && duration > 0 ? this.records / (duration / 1e9) : null,
      processes_at_start: this.processesAtStart,
      events,
      types,
      top_executables: sorted(this.execs).slice(0, top).map(([filename, count]) => ({filename: JSON.parse(filename) as Text, count})),
      failed_execs: sorted(this.failed).map(([errno, count]) => ({errno, count})),
      exits: {total: this.exitTotal, nonzero: this.exitNonzero, signaled: this.exitSignaled},
      hashes: this.hashSeen ? {execs: this.execCount, hashed: this.hashed, errors: Object.fromEntries(sorted(this.hashErrors))} : null,
      syscalls,
      complete: totals !== null,
    };
  }

  private syscallRows(counts: TrailerSyscallTotals | null): SyscallRow[] {
    const names = new Set<string>([...this.sys.keys(), ...Object.keys(counts ?? {})]);
    const rows: SyscallRow[] = [];
    const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null);
    for (const name of names) {
      const a = this.sys.get(name) ?? {calls: 0, errors: 0, incomplete: 0, timed: 0, total: 0};
      const c = counts?.[name];
      const row: SyscallRow = {
        syscall: name, calls: a.calls, errors: a.errors, incomplete: a.incomplete,
        sent: num(c?.sent), lost: num(c?.lost), filtered: num(c?.filtered),
        total_ns: a.total, mean_ns: a.timed ? a.total / a.timed : null,
      };
      if (this.implicitNames.has(name)) row.implicit = true;
      rows.push(row);
    }
    return rows.sort((x, y) => y.total_ns - x.total_ns || y.calls - x.calls || (x.syscall < y.syscall ? -1 : 1));
  }
}

/**
 * Every event of the trace into stats, the processes alive at start first. Syscall events
 * are counted from the decoder's values, without being built (stats needs a clock for that).
 */
export function collectStats(t: OpenedTrace, stats: StatsCollector): void {
  t.decoder.direct = stats;
  try {
    forEachEvent(t, {processes: true}, (e) => stats.add(e));
  } finally {
    t.decoder.direct = null;
  }
}

function pad(s: string | number, n: number, right = false): string {
  const t = String(s);
  return right ? t.padStart(n) : t.padEnd(n);
}

const SYSCALL_TYPES = new Set(['sys_enter', 'sys_exit', 'task', 'fd']);

const active = (t: TypeRow | undefined) => !!t && !!(t.sent || t.recorded || t.lost || t.filtered);

/**
 * The rows of event types: the record types that are events as they are, and one
 * `syscall` row for the calls, which the file holds as sys_exit records (with sys_enter
 * records for inputs, task records for threads' context). Its Sent, Lost and Filtered are
 * the sys_exit records' (one per call the kernel saw end); Recorded is the calls decoded,
 * a call still in flight when recording stopped included.
 */
function eventRows(types: TypeRow[], syscalls: SyscallRow[]): TypeRow[] {
  const rows = types.filter((t) => !SYSCALL_TYPES.has(t.event));
  const exit = types.find((t) => t.event === 'sys_exit');
  if (syscalls.length || types.some((t) => SYSCALL_TYPES.has(t.event) && active(t))) {
    // The calls recorded implicitly (formats/trace-format.md §10.11) are in the sys_exit
    // counts too: the row is the asked calls' (the implicit ones have a table of their own).
    const implicit = syscalls.filter((r) => r.implicit);
    const sum = (f: (r: SyscallRow) => number | null): number | null =>
      implicit.some((r) => f(r) === null) ? null : implicit.reduce((a, r) => a + (f(r) as number), 0);
    const less = (all: number | null | undefined, part: number | null): number | null =>
      all === null || all === undefined ? null : part === null ? (implicit.length ? null : all) : all - part;
    rows.push({
      event: 'syscall',
      sent: less(exit?.sent, sum((r) => r.sent)),
      recorded: syscalls.reduce((a, r) => a + (r.implicit ? 0 : r.calls), 0),
      lost: less(exit?.lost ?? 0, sum((r) => r.lost)) ?? exit?.lost ?? 0,
      filtered: less(exit?.filtered, sum((r) => r.filtered)),
    });
  }
  return rows;
}

/** The note under the EVENT table on the records behind the syscall row, or null without syscall records. */
function recordsNote(r: StatsReport): string | null {
  const row = r.events.find((t) => t.event === 'syscall');
  if (!row) return null;
  const get = (name: string) => r.types.find((t) => t.event === name);
  const parts = [
    `${get('sys_exit')?.recorded ?? 0} sys_exit`,
    `${get('sys_enter')?.recorded ?? 0} sys_enter (inputs)`,
    `${get('task')?.recorded ?? 0} task (thread context)`,
  ];
  if (get('fd')?.recorded) parts.push(`${get('fd')?.recorded} fd (descriptors described)`);
  const calls = r.syscalls.reduce((a, x) => a + x.calls, 0);
  const total = ['sys_exit', 'sys_enter', 'task', 'fd'].reduce((a, n) => a + (get(n)?.recorded ?? 0), 0);
  const lost = ['sys_enter', 'task', 'fd'].filter((n) => get(n)?.lost).map((n) => `${get(n)?.lost} ${n}`);
  return `records    ${calls} syscall call${calls === 1 ? '' : 's'} from ${total} records: ${parts.join(', ')}` +
    `${lost.length ? `; also lost: ${lost.join(', ')}` : ''}`;
}

/**
 * `2026-11-23 19:12:22.955256 → 19:12:23.707181 CET` from the report's RFC 3339 times: in the
 * zone human output uses, the end's date only when it is another day.
 */
function spanText(start: string, end: string, zone: Zone): string {
  const parse = (s: string) => {
    const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(s);
    const ms = m ? Date.parse(`${m[1]}Z`) : NaN;
    return Number.isNaN(ms) ? null : {sec: ms / 1000, micros: (m?.[2] ?? '').padEnd(6, '0').slice(0, 6)};
  };
  const a = parse(start);
  const b = parse(end);
  if (a === null || b === null) return `${start} → ${end}`;
  const from = wallSecond(a.sec, zone);
  const to = wallSecond(b.sec, zone);
  const toText = to.slice(0, 10) === from.slice(0, 10) ? to.slice(11) : to;
  return `${from}.${a.micros} → ${toText}.${b.micros} ${zoneName(a.sec, zone)}`;
}

/** The report for people; `zone` is the one times are shown in (UTC unless told). */
export function formatStats(r: StatsReport, zone: Zone = 'utc'): string {
  const out: string[] = [];
  const secs = r.duration_ns !== null ? (r.duration_ns / 1e9).toFixed(3) + ' s' : 'unknown';
  out.push(`duration   ${secs}${r.start && r.end ? `  (${spanText(r.start, r.end, zone)})` : ''}`);
  out.push(`events     ${r.records}${r.rate_per_s !== null ? `  (${r.rate_per_s.toFixed(1)}/s)` : ''}; ${r.processes_at_start} process${r.processes_at_start === 1 ? '' : 'es'} alive at start`);
  if (r.filtered_from) {
    out.push(`filtered   from ${r.filtered_from.file} by ${r.filtered_from.filter || '(no filter)'}: RECORDED is what this file kept; SENT and LOST are the recording's`);
  }
  if (r.filter) out.push(`filter     ${r.filter}: events and RECORDED count only what matches; SENT and LOST are the whole file's`);
  if (r.series) {
    const place = `file seq ${r.series.seq} of series ${r.series.id}${r.series.first ? ' (its first)' : ''}` +
      (r.series.next ? `, continued in ${r.series.next}` : r.series.next === null ? ' (its last)' : '');
    out.push(`series     ${place}: SENT is what the kernel sent while this file was written; ` +
      'records on their way at a rotation are in the next file, so SENT and RECORDED agree over the whole series, not in each file');
  }
  if (!r.complete) out.push('note       no trailer (recording did not end cleanly): Sent is unknown, Lost comes from the stream');
  out.push('');
  // FILTERED only when a record-time filter left something out. The rows are event types
  // (what --type names); the records behind the syscall row get a note of their own.
  const rows = r.events ?? r.types;
  const showFiltered = rows.some((t) => t.filtered);
  const filteredCell = (v: string | number) => (showFiltered ? pad(v, 10, true) : '');
  out.push(`${pad('EVENT', 14)}${pad('SENT', 10, true)}${pad('RECORDED', 10, true)}${pad('LOST', 10, true)}${filteredCell('FILTERED')}`);
  for (const t of rows) {
    out.push(`${pad(t.event, 14)}${pad(t.sent ?? '-', 10, true)}${pad(t.recorded, 10, true)}${pad(t.lost, 10, true)}${filteredCell(t.filtered ?? '-')}`);
  }
  const note = r.events ? recordsNote(r) : null;
  if (note) out.push(note);
  const implicitRows = r.syscalls.filter((x) => x.implicit);
  if (implicitRows.length) {
    const n = implicitRows.reduce((a, x) => a + x.calls, 0);
    out.push(`implicit   ${n} call${n === 1 ? '' : 's'} recorded only to name descriptors and paths, not counted in the syscall row (decode --implicit shows them)`);
  }
  const asked = r.syscalls.filter((x) => !x.implicit);
  const implicit = r.syscalls.filter((x) => x.implicit);
  if (asked.length) {
    out.push('');
    out.push(formatSyscalls(asked));
  }
  if (implicit.length) {
    out.push('');
    out.push('recorded implicitly, to name the descriptors of the calls asked for (decode --implicit shows them):');
    out.push(formatSyscalls(implicit));
  }
  out.push('');
  out.push(`exits      ${r.exits.total} (${r.exits.nonzero} non-zero, ${r.exits.signaled} killed by a signal)`);
  if (r.failed_execs.length) out.push(`failed     ${r.failed_execs.map((f) => `${f.errno} ×${f.count}`).join(', ')}`);
  if (r.hashes) {
    const why = Object.entries(r.hashes.errors).map(([k, n]) => `${k} ×${n}`).join(', ');
    out.push(`sha256     ${r.hashes.hashed} of ${r.hashes.execs} exec${r.hashes.execs === 1 ? '' : 's'}${why ? ` (none: ${why})` : ''}`);
  }
  if (r.top_executables.length) {
    out.push('');
    out.push(`${pad('EXECS', 8, true)}  EXECUTABLE`);
    for (const x of r.top_executables) out.push(`${pad(x.count, 8, true)}  ${displayText(x.filename)}`);
  }
  return out.join('\n');
}


/** The strace -c table, plus the kernel's per-syscall Sent/Lost and what filters left out. */
export function formatSyscalls(rows: SyscallRow[]): string {
  const out: string[] = [];
  const total = rows.reduce((a, r) => a + r.total_ns, 0);
  const dash = (v: number | null) => (v === null ? '-' : v);
  const line = (pct: string, secs: string, usecs: string, calls: number | string, errors: number | string,
    sent: number | string, lost: number | string, filtered: number | string, name: string) =>
    `${pad(pct, 6, true)}${pad(secs, 12, true)}${pad(usecs, 12, true)}${pad(calls, 10, true)}${pad(errors, 10, true)}` +
    `${pad(sent, 10, true)}${pad(lost, 10, true)}${pad(filtered, 10, true)}  ${name}`;
  out.push(line('% TIME', 'SECONDS', 'USECS/CALL', 'CALLS', 'ERRORS', 'SENT', 'LOST', 'FILTERED', 'SYSCALL'));
  for (const r of rows) {
    out.push(line(
      total > 0 ? ((r.total_ns / total) * 100).toFixed(2) : '0.00',
      (r.total_ns / 1e9).toFixed(6),
      r.mean_ns === null ? '-' : String(Math.round(r.mean_ns / 1e3)),
      r.calls, r.errors || '', dash(r.sent), dash(r.lost), dash(r.filtered), r.syscall,
    ));
  }
  const sum = (f: (r: SyscallRow) => number | null) =>
    rows.some((r) => f(r) === null) ? '-' : rows.reduce((a, r) => a + (f(r) as number), 0);
  const calls = rows.reduce((a, r) => a + r.calls, 0);
  const timed = rows.reduce((a, r) => a + (r.mean_ns ? Math.round(r.total_ns / r.mean_ns) : 0), 0);
  out.push(line('100.00', (total / 1e9).toFixed(6), timed ? String(Math.round(total / timed / 1e3)) : '-', calls,
    rows.reduce((a, r) => a + r.errors, 0) || '', sum((r) => r.sent), sum((r) => r.lost), sum((r) => r.filtered), 'total'));
  return out.join('\n');
}
