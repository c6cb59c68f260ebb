import {Args, Flags} from '@oclif/core';
import {BaseCommand, EXIT} from '../src/cli/base';
import {filterFlags, filterSpec, zoneOf} from '../src/cli/filter-flags';
import {openTrace} from '../src/decode';
import {compileFilter, describeSpec, EventFilter, explainEmpty, selectTrace, summarize} from '../src/filter';
import {Problem} from '../src/format';
import {collectStats, formatStats, StatsCollector, StatsTrailer} from '../src/stats';
import {toJson} from '../src/util/json';

export default class Stats extends BaseCommand {
  static override summary = 'Summarize a trace file: Sent/Recorded/Lost per event type and per syscall, time per syscall, top executables.';
  static override description = `Sent is what the kernel handed to the ring buffer, Recorded what the file holds, \
Lost what the ring buffer refused (from the kernel's per-CPU counters), per event type: the syscall row counts \
calls (Sent and Lost: their exit records), and a note says which records (sys_exit, sys_enter, task) make \
them up. Per syscall, like strace -c: calls, \
errors, total and mean time, sorted by total time, with Sent/Lost (exit records) and Filtered (calls --comm \
left out on purpose, never counted as lost). Works offline, without root.`;

  static override examples = [
    '<%= config.bin %> stats trace.bin',
    '<%= config.bin %> stats trace.bin --json --top 20',
    '<%= config.bin %> stats trace.bin --comm make --since +10s',
  ];

  static override args = {
    file: Args.string({description: 'trace file written by `exectrace record`', required: true}),
  };

  static override flags = {
    ...filterFlags,
    json: Flags.boolean({description: 'print the summary as one JSON object'}),
    top: Flags.integer({description: 'how many executables to list', default: 10, min: 0}),
  };

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Stats);
    const problems: Problem[] = [];
    const t = openTrace(args.file, (p) => {
      problems.push(p);
      this.warnLine(`${args.file}: ${p.message}`);
    });
    const stats = new StatsCollector(t.decoder.eventNames, t.decoder.clock);
    let filter: EventFilter | null = null;
    let records: Record<string, number>;
    let matched = 0;
    try {
      filter = compileFilter(filterSpec(flags), {path: args.file, decoder: t.decoder, zone: zoneOf(flags), meta: t.reader.meta as never});
      if (filter.active) {
        // RECORDED then counts the records behind the matching events, as `filter -o` would keep them.
        const kept: number[] = [];
        selectTrace(t, filter.test, {event: (e) => {
          if (e.type !== 'lost') matched++;
          stats.add(e);
        }, record: (_b, _o, _n, type, _ts, context) => {
          if (!context) kept[type] = (kept[type] ?? 0) + 1;
        }});
        records = Object.fromEntries(t.decoder.eventNames.map((name, id) => [name, kept[id] ?? 0]).filter(([name]) => name));
      } else {
        collectStats(t, stats);
        records = t.decoder.recordCounts();
      }
    } finally {
      t.reader.close();
    }
    for (const w of filter.warnings()) this.warnLine(w);
    if (filter.active && matched === 0) {
      for (const w of explainEmpty(filter, summarize(args.file, true), zoneOf(flags))) this.warnLine(w);
    }
    const trailer = t.reader.trailer as (StatsTrailer & {clock_end?: {boot_ns: number | bigint}}) | null;
    const meta = t.reader.meta as {clock?: {start?: {boot_ns: number | bigint}}};
    let span = null;
    if (trailer?.clock_end && meta.clock?.start) {
      const start = Number(meta.clock.start.boot_ns);
      const end = Number(trailer.clock_end.boot_ns);
      span = {start, end, startTime: t.decoder.clock.rfc3339(start), endTime: t.decoder.clock.rfc3339(end)};
    }
    const report = stats.report(trailer, span, flags.top, records);
    report.filter = filter.active ? filter.describe() : null;
    const note = (t.reader.meta as {filter?: {applied?: unknown; source?: {file?: unknown}}}).filter;
    report.filtered_from = note && typeof note === 'object'
      ? {file: String(note.source?.file ?? '?'), filter: describeSpec((note.applied ?? {}) as never)}
      : null;
    const extra = {file: args.file, problems: problems.map((p) => p.message)};
    process.stdout.write(flags.json ? toJson({...extra, ...report}) + '\n' : formatStats(report, zoneOf(flags)) + '\n');
    if (!t.reader.complete && !problems.some((p) => p.kind === 'truncated')) {
      this.warnLine(`${args.file}: no trailer: the recording did not end cleanly (Sent is unknown; Lost comes from the stream's lost records)`);
    }
    if (problems.length || !t.reader.complete) process.exitCode = EXIT.damaged;
  }
}
