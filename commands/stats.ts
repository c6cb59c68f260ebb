import {Args, Flags} from '@oclif/core';
import {BaseCommand, EXIT} from '../src/cli/base';
import {filterFlags, traceOptions, zoneOf} from '../src/cli/filter-flags';
import {formatStats, openTrace, type Problem, toJson} from '../src';

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
    const trace = openTrace(args.file, {...traceOptions(flags), onProblem: (p) => {
      problems.push(p);
      this.warnLine(`${args.file}: ${p.message}`);
    }});
    let r;
    try {
      r = trace.stats({top: flags.top});
    } finally {
      trace.close();
    }
    for (const w of r.warnings) this.warnLine(w);
    process.stdout.write(flags.json ? toJson(r.report) + '\n' : formatStats(r.report, zoneOf(flags)) + '\n');
    if (!r.complete && !problems.some((p) => p.kind === 'truncated')) {
      this.warnLine(`${args.file}: no trailer: the recording did not end cleanly (Sent is unknown; Lost comes from the stream's lost records)`);
    }
    if (problems.length || !r.complete) process.exitCode = EXIT.damaged;
  }
}
