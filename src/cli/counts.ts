// record --stats-only: the intervals of countExecs() as they come, for people (a header
// line with the interval's times and sums, then PID  NAME  EXECUTIONS  FAILED, as
// execve-tracker prints them) or as NDJSON, one object per interval and the totals last.

import {countExecs, type ExecCountInterval, type ExecCountOptions, type ExecCountSummary} from '..';
import {displayText} from '../decode/text';
import {toJson} from '../util/json';
import {Output} from '../util/output';
import {wallSecond, type Zone} from '../util/time';

/** `19:11:34.120` (or with the date, `2026-12-06 19:11:34.120`) of an RFC 3339 UTC time, in the zone. */
function clock(rfc3339: string, zone: Zone, withDate: boolean): string {
  const ms = Date.parse(rfc3339.replace(/(\.\d{3})\d*Z$/, '$1Z'));
  const s = wallSecond(Math.floor(ms / 1000), zone);
  return `${withDate ? s : s.slice(11)}.${String(ms % 1000).padStart(3, '0')}`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** formatExecCounts gives one interval (or the totals) as lines for people. */
export function formatExecCounts(iv: ExecCountInterval, zone: Zone): string {
  const totals = iv.type === 'totals';
  const secs = (Date.parse(iv.end.replace(/(\.\d{3})\d*Z$/, '$1Z')) - Date.parse(iv.start.replace(/(\.\d{3})\d*Z$/, '$1Z'))) / 1000;
  const span = `${clock(iv.start, zone, totals)} → ${clock(iv.end, zone, totals)}`;
  const sums = [plural(iv.total, 'exec'), `${iv.failed} failed`];
  if (iv.overflow) sums.push(`${iv.overflow} more not counted by pid and name (the kernel's table was full)`);
  if (totals && iv.filtered) sums.push(`${iv.filtered} of other processes left out by the filters`);
  const head = totals
    ? `total ${span} (${secs.toFixed(2)}s, ${plural(iv.intervals ?? 0, 'interval')}): ${sums.join(', ')}${iv.end_reason ? ` (${iv.end_reason})` : ''}`
    : `${span}  ${sums.join(', ')}`;
  const out = [head];
  if (iv.execs.length) {
    out.push(`${'PID'.padStart(7)}  ${'NAME'.padEnd(16)}  ${'EXECUTIONS'.padStart(10)}  ${'FAILED'.padStart(6)}`);
    for (const c of iv.execs) {
      out.push(`${String(c.pid).padStart(7)}  ${displayText(c.name).padEnd(16)}  ${String(c.count).padStart(10)}  ${String(c.failed).padStart(6)}`);
    }
  }
  if (totals && iv.unlisted) out.push(`(${plural(iv.unlisted, 'exec')} of further processes are in the total, not listed: the totals list ${iv.execs.length} pairs)`);
  return out.join('\n');
}

/**
 * printExecCounts runs countExecs, printing each interval to stdout as it closes and the totals at the end:
 * NDJSON with `json`, else blocks of lines separated by a blank line. When stdout's reader
 * goes away (`| head`), counting stops as after a signal, with one line on stderr.
 */
export async function printExecCounts(o: ExecCountOptions, json: boolean, zone: Zone): Promise<ExecCountSummary> {
  const stop = new AbortController();
  const out = new Output(1, 1 << 16, () => {
    process.stderr.write('exectrace: the output was closed (its reader went away); counting stops\n');
    stop.abort('output closed');
  });
  let first = true;
  const print = (iv: ExecCountInterval): void => {
    if (json) out.line(toJson(iv));
    else {
      if (!first) out.line('');
      out.line(formatExecCounts(iv, zone));
    }
    first = false;
    out.flush();
  };
  const summary = await countExecs({...o, signal: stop.signal, onInterval: print});
  print(summary.totals);
  await out.end();
  return summary;
}
