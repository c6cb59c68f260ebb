// Summaries of a trace: per event type what the kernel sent, what the file holds and what
// was lost (from the trailer's counters when the recording ended cleanly, from the
// stream's own `lost` records otherwise), the time span, and the most frequent programs.

import {TraceEvent} from '../decode/events';

export interface TypeRow {
  event: string;
  sent: number | null;
  recorded: number;
  lost: number;
}

export interface StatsReport {
  duration_ns: number | null;
  start: string | null;
  end: string | null;
  records: number;
  rate_per_s: number | null;
  processes_at_start: number;
  types: TypeRow[];
  top_executables: {filename: string; count: number}[];
  failed_execs: {errno: string; count: number}[];
  exits: {total: number; nonzero: number; signaled: number};
  complete: boolean;
}

export interface TrailerTotals {
  [event: string]: {sent?: number; lost?: number; recorded?: number};
}

export class StatsCollector {
  private readonly recorded = new Map<string, number>();
  private readonly lost = new Map<string, number>();
  private readonly execs = new Map<string, number>();
  private readonly failed = new Map<string, number>();
  private exitTotal = 0;
  private exitNonzero = 0;
  private exitSignaled = 0;
  private first: TraceEvent | null = null;
  private last: TraceEvent | null = null;
  private records = 0;
  processesAtStart = 0;

  constructor(private readonly eventNames: string[]) {
    for (const e of eventNames) if (e) this.recorded.set(e, 0);
  }

  add(e: TraceEvent): void {
    if (e.type === 'process') {
      this.processesAtStart++;
      return;
    }
    this.records++;
    this.recorded.set(e.type, (this.recorded.get(e.type) ?? 0) + 1);
    if (!this.first || e.ts_ns < this.first.ts_ns) this.first = e;
    if (!this.last || e.ts_ns > this.last.ts_ns) this.last = e;
    switch (e.type) {
      case 'exec': {
        const f = String(e.filename ?? '?');
        this.execs.set(f, (this.execs.get(f) ?? 0) + 1);
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
    }
  }

  report(trailer: {totals?: TrailerTotals} | null, clockEnd: {start: number; end: number; startTime: string; endTime: string} | null, top = 10): StatsReport {
    const totals = trailer?.totals ?? null;
    const names = new Set<string>([...this.recorded.keys(), ...Object.keys(totals ?? {})]);
    const types: TypeRow[] = [];
    for (const name of names) {
      if (name === 'lost') continue;
      const t = totals?.[name];
      types.push({
        event: name,
        sent: t && typeof t.sent === 'number' ? t.sent : null,
        recorded: this.recorded.get(name) ?? 0,
        // The trailer holds the kernel's own counters; without it, the stream's lost records.
        lost: t && typeof t.lost === 'number' ? Math.max(t.lost, this.lost.get(name) ?? 0) : this.lost.get(name) ?? 0,
      });
    }
    const span = clockEnd ?? (this.first && this.last
      ? {start: this.first.ts_ns, end: this.last.ts_ns, startTime: this.first.time, endTime: this.last.time}
      : null);
    const duration = span ? span.end - span.start : null;
    const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return {
      duration_ns: duration,
      start: span?.startTime ?? null,
      end: span?.endTime ?? null,
      records: this.records,
      rate_per_s: duration && duration > 0 ? this.records / (duration / 1e9) : null,
      processes_at_start: this.processesAtStart,
      types,
      top_executables: sorted(this.execs).slice(0, top).map(([filename, count]) => ({filename, count})),
      failed_execs: sorted(this.failed).map(([errno, count]) => ({errno, count})),
      exits: {total: this.exitTotal, nonzero: this.exitNonzero, signaled: this.exitSignaled},
      complete: totals !== null,
    };
  }
}

function pad(s: string | number, n: number, right = false): string {
  const t = String(s);
  return right ? t.padStart(n) : t.padEnd(n);
}

export function formatStats(r: StatsReport): string {
  const out: string[] = [];
  const secs = r.duration_ns !== null ? (r.duration_ns / 1e9).toFixed(3) + ' s' : 'unknown';
  out.push(`duration   ${secs}${r.start ? `  (${r.start} → ${r.end})` : ''}`);
  out.push(`events     ${r.records}${r.rate_per_s !== null ? `  (${r.rate_per_s.toFixed(1)}/s)` : ''}; ${r.processes_at_start} processes alive at start`);
  if (!r.complete) out.push('note       no trailer (recording did not end cleanly): Sent is unknown, Lost comes from the stream');
  out.push('');
  out.push(`${pad('EVENT', 14)}${pad('SENT', 10, true)}${pad('RECORDED', 10, true)}${pad('LOST', 10, true)}`);
  for (const t of r.types) {
    out.push(`${pad(t.event, 14)}${pad(t.sent ?? '-', 10, true)}${pad(t.recorded, 10, true)}${pad(t.lost, 10, true)}`);
  }
  out.push('');
  out.push(`exits      ${r.exits.total} (${r.exits.nonzero} non-zero, ${r.exits.signaled} killed by a signal)`);
  if (r.failed_execs.length) out.push(`failed     ${r.failed_execs.map((f) => `${f.errno} ×${f.count}`).join(', ')}`);
  if (r.top_executables.length) {
    out.push('');
    out.push(`${pad('EXECS', 8, true)}  EXECUTABLE`);
    for (const x of r.top_executables) out.push(`${pad(x.count, 8, true)}  ${x.filename}`);
  }
  return out.join('\n');
}
