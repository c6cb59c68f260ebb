import {Args, Flags} from '@oclif/core';
import {inputFile} from '../src/cli/stdin';
import {BaseCommand, EXIT} from '../src/cli/base';
import {filterFlags, traceOptions} from '../src/cli/filter-flags';
import {filterTrace, openTrace, type Problem} from '../src';

export default class Filter extends BaseCommand {
  static override summary = 'Write the events that match a filter into a new trace file, or print them (no root needed).';
  static override description = `The new file holds the records behind the matching events (a syscall keeps its \
entry and exit records, and the context records it needs), every loss record, the source's metadata with a \
"filter" note (what was applied, the source's name and SHA-256), and a trailer that keeps the source's \
Sent/Lost counters: \`stats\` on it still tells what the recording lost. Lost markers are never filtered out. \
The file is created with mode 0600; an existing one is replaced only with --force. With --json, the matching \
events are printed as NDJSON instead. The filter flags work the same on decode and stats.

--where EXPR tests the fields of each event as decode --json shows them (type, pid, comm, argv, argv[0], \
args.filename, ns.pid, args.statbuf.st_size ...): == != < <= > >=, =~ /regex/flags and !~ (an argv matches \
as its words joined by spaces), in ("a", "b"), and, or, not, parentheses; "strings" with \\ escapes, numbers \
(-1, 0x1f, 1.5), true, false, null. A missing field is null; values of different types are never equal. \
Flags and --where expressions all have to hold; a flag given several times matches any of its values. \
A time of day (and an RFC 3339 time without an offset) is in the local time zone, or UTC with --utc, on the day that puts it within the recording.`;

  static override examples = [
    '<%= config.bin %> filter t.bin --comm curl --since 10:42:00 --until 10:43:00 -o curl.bin',
    '<%= config.bin %> filter t.bin --where \'type == "exec" and argv =~ /base64 -d/\' --json',
    '<%= config.bin %> filter t.bin --tree 4242 -o build.bin',
  ];

  static override args = {
    file: Args.string({description: 'trace file to filter', required: true}),
  };

  static override flags = {
    ...filterFlags,
    output: Flags.string({char: 'o', description: 'trace file to write', exclusive: ['json']}),
    force: Flags.boolean({char: 'f', description: 'overwrite the output file if it exists'}),
    json: Flags.boolean({description: 'print the matching events as NDJSON instead of writing a file'}),
    processes: Flags.boolean({description: 'include the matching processes alive at start', default: true, allowNo: true}),
  };

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Filter);
    const input = await inputFile(args.file);
    const options = {...traceOptions(flags), processes: flags.processes};
    const problems: Problem[] = [];
    const onProblem = (p: Problem) => {
      problems.push(p);
      this.warnLine(`${args.file}: ${p.message}`);
    };
    if (flags.json) {
      const trace = openTrace(input, {...options, onProblem});
      let t;
      try {
        t = await trace.write(1, {json: true});
      } finally {
        trace.close();
      }
      for (const w of t.warnings) this.warnLine(w);
      if (problems.length || !t.complete) process.exitCode = EXIT.damaged;
      return;
    }
    if (!flags.output) {
      this.warnLine('filter: give -o FILE to write the matching records to, or --json to print the matching events');
      process.exit(EXIT.usage);
    }
    const progress = this.startProgress();
    const r = filterTrace(input, flags.output, {...options, onProgress: progress.update, force: flags.force, onProblem, ...(input !== args.file && {sourceName: '-'})});
    progress.end();
    for (const w of r.warnings) this.warnLine(w);
    const byType = Object.entries(r.kept).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
    const context = r.context ? `, plus ${r.context} context record${r.context === 1 ? '' : 's'} (the execs, forks and exits their command lines and ancestry come from)` : '';
    const dropped = r.undecodable ? `; ${r.undecodable} undecodable record${r.undecodable === 1 ? '' : 's'} dropped` : '';
    process.stdout.write(
      `${r.output}: kept ${r.records_out - r.context} of ${r.records_in} records${byType ? ` (${byType})` : ''}${context}, ` +
        `${plural(r.events, 'event')} and ${plural(r.processes, 'process', 'processes')} alive at start, ` +
        `${plural(r.chunks, 'chunk')}${r.copied ? ` (${r.copied} copied as stored)` : ''}, ${r.bytes} bytes${dropped}\n` +
        `  filter: ${r.filter || '(none)'}\n`,
    );
    if (!r.source_trailer && !problems.some((p) => p.kind === 'truncated')) {
      this.warnLine(`${args.file}: no trailer: the recording did not end cleanly (Sent is unknown; Lost comes from the stream's lost records)`);
    }
    if (r.problems || !r.source_trailer) process.exitCode = EXIT.damaged;
  }

}

function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}
