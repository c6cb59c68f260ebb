import {Args, Flags} from '@oclif/core';
import {inputFile} from '../src/cli/stdin';
import {BaseCommand, EXIT} from '../src/cli/base';
import {filterFlags, traceOptions} from '../src/cli/filter-flags';
import {openTrace, type Problem} from '../src';

export default class Decode extends BaseCommand {
  static override summary = 'Decode a trace file into human-readable lines or NDJSON (no root needed).';
  static override description = `Works offline, on any machine with Node: every record layout comes from the \
file itself. Damaged chunks are reported on stderr and skipped; the exit status is 3 when the file was \
damaged or cut short, so scripts can tell. Human lines show times in the local time zone (TZ), with the \
date when the recording spans days; --utc shows UTC. JSON times are always UTC (RFC 3339). A string that is \
not UTF-8 shows each byte that is not as \\xNN, and is {"base64": ...} in JSON.`;

  static override examples = [
    '<%= config.bin %> decode trace.bin',
    '<%= config.bin %> decode trace.bin --json | jq -c \'select(.type == "exec") | .argv\'',
    '<%= config.bin %> decode trace.bin --no-processes',
    '<%= config.bin %> decode trace.bin --where \'syscall == "openat" and ret < 0\'',
    '<%= config.bin %> decode trace.bin --comm curl --since 10:42 --until 10:43',
    '<%= config.bin %> decode trace.bin --format csv --fields time,pid,comm,argv > execs.csv',
    '<%= config.bin %> decode trace.bin --json --fields pid,syscall,args.filename --syscall openat',
    '<%= config.bin %> decode trace.bin --ancestors --json --type exec | jq -c \'select(.comm == "curl") | [.argv, [.ancestors[].comm]]\'',
  ];

  static override args = {
    file: Args.string({description: 'trace file written by `exectrace record`', required: true}),
  };

  static override flags = {
    ...filterFlags,
    json: Flags.boolean({description: 'one JSON object per line (NDJSON), field names as in the event model (--format json)'}),
    format: Flags.string({description: 'human (the default), json, csv (RFC 4180, a header row) or tsv', options: ['human', 'json', 'csv', 'tsv']}),
    fields: Flags.string({
      description: 'the columns of csv/tsv, or the only keys of json: dotted paths as --where reads them, comma-separated ' +
        '(default for csv/tsv: time,type,pid,ppid,uid,comm,exec_id,filename,argv,exit_code,signal,syscall,ret,errno)',
      multiple: true, multipleNonGreedy: true,
    }),
    processes: Flags.boolean({description: 'include the processes alive at start (type "process")', default: true, allowNo: true}),
    implicit: Flags.boolean({
      description: 'also show the calls a `record --syscall` recording holds only to name descriptors and paths (open, close, dup, socket …), marked "implicit": true in JSON',
    }),
    'fd-paths': Flags.boolean({
      description: 'name what descriptor arguments refer to (fd_paths: `write(fd=3</tmp/x>`) and make relative path arguments absolute (paths); --no-fd-paths: neither, and a storm of calls with descriptors decodes a little faster',
      default: true, allowNo: true,
    }),
    ancestors: Flags.boolean({
      description: 'give exec and exec_failed events their ancestors: who forked the process, from the parent upward (pid, exec_id, comm, uid, filename, argv), as far as the file and its snapshot know',
    }),
  };

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Decode);
    const input = await inputFile(args.file);
    if (flags.json && flags.format !== undefined && flags.format !== 'json') {
      this.error(`--json and --format ${flags.format}: give one of them`, {exit: EXIT.usage});
    }
    const format = flags.json ? 'json' : flags.format ?? 'human';
    if (flags.fields && format === 'human') this.error('--fields goes with --format csv, tsv or json', {exit: EXIT.usage});
    const problems: Problem[] = [];
    // Into a file or a pipe, long work says how far it is (on stderr, when that is a terminal).
    const progress = this.startProgress({when: !process.stdout.isTTY});
    const trace = openTrace(input, {...traceOptions(flags), onProgress: progress.update, processes: flags.processes, ancestors: flags.ancestors, implicit: flags.implicit, fdPaths: flags['fd-paths'], onProblem: (p) => {
      problems.push(p);
      this.warnLine(`${args.file}: ${p.message}`);
    }});
    let r;
    try {
      r = await trace.write(1, {
        json: format === 'json', format: format === 'csv' || format === 'tsv' ? format : undefined, fields: flags.fields,
      });
    } finally {
      trace.close();
      progress.end();
    }
    for (const w of r.warnings) this.warnLine(w);
    if (r.unknownType || r.malformed) {
      this.warnLine(`${args.file}: ${r.unknownType} record(s) of unknown type and ${r.malformed} malformed record(s) skipped`);
    }
    if (!r.complete && !problems.some((p) => p.kind === 'truncated')) {
      this.warnLine(`${args.file}: no trailer: the recording did not end cleanly (everything up to the last chunk was decoded)`);
    }
    // A file without its trailer is incomplete even when every block read cleanly: say so in the status too.
    if (problems.length || !r.complete) process.exitCode = EXIT.damaged;
  }
}
