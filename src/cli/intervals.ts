// stats --interval: the rows of trace.intervals() written as they come, a table for people
// (with a total line) or NDJSON, one object per interval.

import {recordingEnd} from '../filter';
import {IntervalTable, type IntervalRow, type IntervalSummary} from '../stats/intervals';
import type {PassReport, Trace} from '../api/trace';
import {toJson} from '../util/json';
import {Output} from '../util/output';
import {HumanTime, WallClock, type Zone} from '../util/time';

/**
 * printIntervals prints the intervals of `trace` to stdout (a reader that goes away ends the program
 * quietly, as decode does under `| head`); resolves with what the pass found besides.
 */
export async function printIntervals(trace: Trace, o: {every: string; json: boolean; zone: Zone}): Promise<{summary: IntervalSummary} & PassReport> {
  const out = new Output(1);
  const pair = (trace.meta as {clock?: {start?: {boot_ns: number | bigint; realtime_ns: number | bigint}}}).clock?.start;
  const clock = new WallClock(pair ?? {boot_ns: 0, realtime_ns: 0});
  // Dates in front of the times when the recording spans days, as decode shows them.
  const times = (): HumanTime => HumanTime.forRecording(clock, o.zone, pair?.boot_ns ?? null, recordingEnd(trace.path));
  let table: IntervalTable | null = null;
  const r = trace.intervals({every: o.every, zone: o.zone}, (row: IntervalRow) => {
    if (o.json) {
      out.line(toJson(row));
      return;
    }
    if (table === null) {
      table = new IntervalTable(times());
      out.line(table.header(row));
    }
    out.line(table.row(row));
  });
  if (!o.json) {
    if (table === null) {
      table = new IntervalTable(times());
      out.line(table.header(null));
    }
    out.line((table as IntervalTable).total(r.summary));
  }
  await out.end();
  return r;
}
