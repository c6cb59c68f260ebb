import {Args, Flags} from '@oclif/core';
import {inputFile} from '../src/cli/stdin';
import {BaseCommand, EXIT} from '../src/cli/base';
import {filterFlags, traceOptions, zoneOf} from '../src/cli/filter-flags';
import {printIntervals} from '../src/cli/intervals';
import {formatGroups, formatStats, GROUP_KEYS, openTrace, type Problem, toJson} from '../src';

export default class Stats extends BaseCommand {
  static override summary = 'Summarize a trace file: Sent/Recorded/Lost per event type and per syscall, time per syscall, top executables; ' +
    'or counts per group (--by exe, user, …) or per interval (--interval 1s).';
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
    '<%= config.bin %> stats trace.bin --by exe            # execs, failed execs, non-zero exits, processes per executable',
    '<%= config.bin %> stats trace.bin --by user,exe --top 20',
    '<%= config.bin %> stats trace.bin --interval 1s      # execs, forks, exits, syscalls, lost per second',
    '<%= config.bin %> stats trace.bin --interval 1m --json',
  ];

  static override args = {
    file: Args.string({description: 'trace file written by `exectrace record`', required: true}),
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
    const {args, flags} = await this.parse(Stats);
    const input = await inputFile(args.file);
    if (flags.by && flags.interval !== undefined) {
      this.error('--by and --interval: give one of them (groups, or a time series; --where or --comm narrows a series to a group)', {exit: EXIT.usage});
    }
    const problems: Problem[] = [];
    const trace = openTrace(input, {...traceOptions(flags), onProblem: (p) => {
      problems.push(p);
      this.warnLine(`${args.file}: ${p.message}`);
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
        text = flags.json ? toJson({...s.report, file: args.file}) : formatStats(s.report, zoneOf(flags));
      }
    } finally {
      trace.close();
    }
    for (const w of r.warnings) this.warnLine(w);
    if (text !== null) process.stdout.write(text + '\n');
    if (!r.complete && !problems.some((p) => p.kind === 'truncated')) {
      this.warnLine(`${args.file}: no trailer: the recording did not end cleanly (Sent is unknown; Lost comes from the stream's lost records)`);
    }
    if (problems.length || !r.complete) process.exitCode = EXIT.damaged;
  }
}
