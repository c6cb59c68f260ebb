import {Args, Flags} from '@oclif/core';
import {inputFiles} from '../src/cli/files';
import {BaseCommand, EXIT} from '../src/cli/base';
import {filterFlags, traceOptions, zoneOf} from '../src/cli/filter-flags';
import {printIntervals} from '../src/cli/intervals';
import {formatGroups, formatStats, GROUP_KEYS, mergeStats, openTrace, type Problem, toJson} from '../src';

export default class Stats extends BaseCommand {
  static override summary = 'Summarize a trace file: Sent/Recorded/Lost per event type and per syscall, time per syscall, top executables; ' +
    'or counts per group (--by exe, user, …) or per interval (--interval 1s).';
  static override description = `Sent is what the kernel handed to the ring buffer, Recorded what the file holds, \
Lost what the ring buffer refused (from the kernel's per-CPU counters), per event type: the syscall row counts \
calls (Sent and Lost: their exit records), and a note says which records (sys_exit, sys_enter, task) make \
them up. Per syscall, like strace -c: calls, \
errors, total and mean time, sorted by total time, with Sent/Lost (exit records) and Filtered (calls --comm \
left out on purpose, never counted as lost). Works offline, without root.

With several files (stats a.bin b.bin, or a glob), one summary of the totals over all of them: counts \
added up, Sent known only when every file has its trailer, the span from the earliest start to the latest \
end, the top executables over all; problems are reported per file. --by and --interval read one file.`;

  static override examples = [
    '<%= config.bin %> stats trace.bin',
    '<%= config.bin %> stats trace.bin --json --top 20',
    '<%= config.bin %> stats /var/log/exectrace/*.bin      # totals over several files',
    '<%= config.bin %> stats trace.bin --comm make --since +10s',
    '<%= config.bin %> stats trace.bin --by exe            # execs, failed execs, non-zero exits, processes per executable',
    '<%= config.bin %> stats trace.bin --by user,exe --top 20',
    '<%= config.bin %> stats trace.bin --interval 1s      # execs, forks, exits, syscalls, lost per second',
    '<%= config.bin %> stats trace.bin --interval 1m --json',
  ];

  // FILE… : several files are summarized together (oclif's strict mode allows one argument).
  static override strict = false;

  static override args = {
    file: Args.string({description: 'trace file written by `exectrace record` (several: their totals; - for standard input)', required: true}),
  };

  static override flags = {
    ...filterFlags,
    json: Flags.boolean({description: 'print the summary as one JSON object'}),
    top: Flags.integer({description: 'how many executables (with --by: groups) to list', default: 10, min: 0}),
    by: Flags.string({
      description: 'per group instead: execs, failed execs, non-zero exits and distinct processes by exe, comm, uid, user, ' +
        'parent (the parent\'s image), cgroup or container; several keys (--by uid,exe or repeated) group by each combination',
      multiple: true, multipleNonGreedy: true, delimiter: ',', options: [...GROUP_KEYS],
    }),
    interval: Flags.string({
      description: 'a time series instead: per interval (500ms, 1s, 1m, …; aligned on its multiples, as sar) the execs, ' +
        'failed execs, forks, exits, syscalls and lost events, empty intervals included; with --json one object per line',
    }),
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Stats);
    const {paths, names} = await inputFiles(argv as string[]);
    if (flags.by && flags.interval !== undefined) {
      this.error('--by and --interval: give one of them (groups, or a time series; --where or --comm narrows a series to a group)', {exit: EXIT.usage});
    }
    if (paths.length > 1 && (flags.by || flags.interval !== undefined)) {
      this.error(`--${flags.by ? 'by' : 'interval'} reads one file: give one (several files: stats without it adds them up; decode --json merges their events)`, {exit: EXIT.usage});
    }
    if (paths.length > 1) return this.several(paths, names, flags);
    const [input] = paths;
    const file = names[0];
    const problems: Problem[] = [];
    const trace = openTrace(input, {...traceOptions(flags), onProblem: (p) => {
      problems.push(p);
      this.warnLine(`${file}: ${p.message}`);
    }});
    let r;
    let text: string | null = null;
    try {
      if (flags.interval !== undefined) {
        r = await printIntervals(trace, {every: flags.interval, json: !!flags.json, zone: zoneOf(flags)});
      } else if (flags.by) {
        const g = trace.groups({by: flags.by as (typeof GROUP_KEYS)[number][], top: flags.top});
        r = g;
        text = flags.json ? toJson(g.report) : formatGroups(g.report);
      } else {
        const s = trace.stats({top: flags.top});
        r = s;
        text = flags.json ? toJson({...s.report, file}) : formatStats(s.report, zoneOf(flags));
      }
    } finally {
      trace.close();
    }
    for (const w of r.warnings) this.warnLine(w);
    if (text !== null) process.stdout.write(text + '\n');
    if (!r.complete && !problems.some((p) => p.kind === 'truncated')) {
      this.warnLine(`${file}: no trailer: the recording did not end cleanly (Sent is unknown; Lost comes from the stream's lost records)`);
    }
    if (problems.length || !r.complete) process.exitCode = EXIT.damaged;
  }

  /** stats a.bin b.bin: each file summarized on its own, then one summary of the totals (mergeStats). */
  private several(paths: string[], names: string[], flags: {json?: boolean; top: number; utc?: boolean} & Parameters<typeof traceOptions>[0]): void {
    const reports = [];
    const problems: string[] = [];
    const warned = new Set<string>();
    let damaged = false;
    for (const [i, input] of paths.entries()) {
      const file = names[i];
      let found = 0;
      const trace = openTrace(input, {...traceOptions(flags), onProblem: (p) => {
        found++;
        problems.push(`${file}: ${p.message}`);
        this.warnLine(`${file}: ${p.message}`);
      }});
      try {
        // Every executable of each file: the top ones of the total are chosen after adding up.
        const s = trace.stats({top: Number.MAX_SAFE_INTEGER});
        reports.push(s.report);
        for (const w of s.warnings) {
          if (!warned.has(w)) this.warnLine(`${file}: ${w}`);
          warned.add(w);
        }
        if (!s.complete && !trace.problems.some((p) => p.kind === 'truncated')) {
          this.warnLine(`${file}: no trailer: the recording did not end cleanly (Sent is unknown; Lost comes from the stream's lost records)`);
        }
        if (found || !s.complete) damaged = true;
      } finally {
        trace.close();
      }
    }
    const total = mergeStats(reports, flags.top);
    process.stdout.write((flags.json
      ? toJson({files: names, problems, ...total})
      : `files      ${names.length}: ${names.join(', ')} (totals over all of them)\n${formatStats(total, zoneOf(flags))}`) + '\n');
    if (damaged) process.exitCode = EXIT.damaged;
  }
}
