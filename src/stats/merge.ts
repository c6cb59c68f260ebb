// stats over several files (stats a.bin b.bin): one summary whose counts are the totals
// over all of them. Each file is summarized on its own (its own trailer, layouts and
// filters), then the summaries are added: counts add up; a kernel counter (Sent, Filtered)
// is known only when every file knows it (else null, as for one file without a trailer);
// mean times are weighted by the calls that had a time; the span runs from the earliest
// start to the latest end, and the rate is events over that span.

import type {Text} from '../decode/text';
import type {StatsReport, SyscallRow, TypeRow} from '.';

/** mergeStats adds up the summaries of several files, listing `top` executables. Pure. */
export function mergeStats(reports: readonly StatsReport[], top: number): StatsReport {
  if (reports.length === 1) return {...reports[0], top_executables: reports[0].top_executables.slice(0, top)};
  const start = pick(reports.map((r) => r.start), (a, b) => a < b);
  const end = pick(reports.map((r) => r.end), (a, b) => a > b);
  const records = sum(reports.map((r) => r.records));
  const durationNs = start !== null && end !== null ? nsBetween(start, end) : null;
  const exes = new Map<string, {filename: Text; count: number}>();
  for (const r of reports) {
    for (const x of r.top_executables) {
      const k = JSON.stringify(x.filename);
      const have = exes.get(k);
      if (have) have.count += x.count;
      else exes.set(k, {filename: x.filename, count: x.count});
    }
  }
  const failed = new Map<string, number>();
  for (const r of reports) for (const f of r.failed_execs) failed.set(f.errno, (failed.get(f.errno) ?? 0) + f.count);
  const hashed = reports.filter((r) => r.hashes !== null);
  const errors: Record<string, number> = {};
  for (const r of hashed) for (const [k, n] of Object.entries(r.hashes!.errors)) errors[k] = (errors[k] ?? 0) + n;
  const merged: StatsReport = {
    duration_ns: durationNs,
    start, end, records,
    rate_per_s: durationNs !== null && durationNs > 0 ? records / (durationNs / 1e9) : null,
    processes_at_start: sum(reports.map((r) => r.processes_at_start)),
    events: typeRows(reports.map((r) => r.events)),
    types: typeRows(reports.map((r) => r.types)),
    top_executables: [...exes.values()].sort((a, b) => b.count - a.count).slice(0, top),
    failed_execs: [...failed].map(([errno, count]) => ({errno, count})).sort((a, b) => b.count - a.count || (a.errno < b.errno ? -1 : 1)),
    exits: {
      total: sum(reports.map((r) => r.exits.total)), nonzero: sum(reports.map((r) => r.exits.nonzero)),
      signaled: sum(reports.map((r) => r.exits.signaled)),
    },
    hashes: hashed.length
      ? {execs: sum(hashed.map((r) => r.hashes!.execs)), hashed: sum(hashed.map((r) => r.hashes!.hashed)), errors}
      : null,
    syscalls: syscallRows(reports.map((r) => r.syscalls)),
    complete: reports.every((r) => r.complete),
  };
  const filter = reports.find((r) => r.filter)?.filter;
  if (filter !== undefined) merged.filter = filter;
  return merged;
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** The sum when every value is known, else null. */
function known(xs: readonly (number | null)[]): number | null {
  return xs.some((x) => x === null) ? null : sum(xs as number[]);
}

function pick(xs: readonly (string | null)[], better: (a: string, b: string) => boolean): string | null {
  let r: string | null = null;
  for (const x of xs) if (x !== null && (r === null || better(x, r))) r = x;
  return r;
}

/** Nanoseconds from one RFC 3339 UTC time (with up to 9 fraction digits) to another. */
function nsBetween(a: string, b: string): number {
  const ns = (t: string): bigint => {
    const m = /^(.*?:\d\d)(?:\.(\d+))?Z$/.exec(t);
    if (!m) return BigInt(Date.parse(t)) * 1_000_000n;
    return BigInt(Date.parse(m[1] + 'Z')) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9));
  };
  return Number(ns(b) - ns(a));
}

/** Rows of several files added by event name, in the order they first appear. */
function typeRows(lists: readonly TypeRow[][]): TypeRow[] {
  const by = new Map<string, TypeRow[]>();
  for (const list of lists) for (const r of list) by.set(r.event, [...(by.get(r.event) ?? []), r]);
  // A type a file does not list: that file recorded none, and its kernel sent none.
  return [...by].map(([event, rows]) => {
    return {
      event,
      sent: known(rows.map((r) => r.sent)),
      recorded: sum(rows.map((r) => r.recorded)),
      lost: sum(rows.map((r) => r.lost)),
      filtered: known(rows.map((r) => r.filtered)),
    };
  });
}

/** Per syscall, added up; mean weighted by the calls that had a time; sorted by total time, as stats sorts one file's. */
function syscallRows(lists: readonly SyscallRow[][]): SyscallRow[] {
  const by = new Map<string, SyscallRow[]>();
  for (const list of lists) for (const r of list) by.set(`${r.syscall}\0${r.implicit ? 1 : 0}`, [...(by.get(`${r.syscall}\0${r.implicit ? 1 : 0}`) ?? []), r]);
  const rows = [...by.values()].map((rs) => {
    const total = sum(rs.map((r) => r.total_ns));
    const timed = sum(rs.map((r) => (r.mean_ns ? Math.round(r.total_ns / r.mean_ns) : 0)));
    const row: SyscallRow = {
      syscall: rs[0].syscall,
      calls: sum(rs.map((r) => r.calls)), errors: sum(rs.map((r) => r.errors)), incomplete: sum(rs.map((r) => r.incomplete)),
      sent: known(rs.map((r) => r.sent)), lost: known(rs.map((r) => r.lost)), filtered: known(rs.map((r) => r.filtered)),
      total_ns: total, mean_ns: timed > 0 ? total / timed : null,
    };
    if (rs[0].implicit) row.implicit = true;
    return row;
  });
  return rows.sort((a, b) => b.total_ns - a.total_ns || b.calls - a.calls);
}
