import {Args, Flags} from '@oclif/core';
import {inputFiles} from '../src/cli/files';
import {BaseCommand, EXIT} from '../src/cli/base';
import {filterFlags, traceOptions} from '../src/cli/filter-flags';
import {openTraces, type Problem, SCHEMAS, type Schema} from '../src';

export default class Decode extends BaseCommand {
  static override summary = 'Decode trace files into human-readable lines, NDJSON, CSV, or ECS/OCSF for SIEMs (no root needed); several are merged in time order.';
  static override description = `Works offline, on any machine with Node: every record layout comes from the \
file itself. Damaged chunks are reported on stderr and skipped; the exit status is 3 when the file was \
damaged or cut short, so scripts can tell. Human lines show times in the local time zone (TZ), with the \
date when the recording spans days; --utc shows UTC. JSON times are always UTC (RFC 3339). A string that is \
not UTF-8 shows each byte that is not as \\xNN, and is {"base64": ...} in JSON.

Several files (decode a.bin b.bin, a glob, - among them) are merged in wall-clock order, streaming (memory \
stays flat); each file's own order is kept. When they come from more than one host, every event says which: \
"host" in JSON and CSV, the host name first in human lines; from one host, each event is what its file alone \
gives. Filters apply to each file: --pid, --tree and --comm name processes of each file's host; --since and \
--until given as a time are one instant for all files, as +DURATION they count from each file's own start. \
Problems are reported per file, naming it.`;

  static override examples = [
    '<%= config.bin %> decode trace.bin',
    '<%= config.bin %> decode trace.bin --json | jq -c \'select(.type == "exec") | .argv\'',
    '<%= config.bin %> decode trace.bin --no-processes',
    '<%= config.bin %> decode trace.bin --where \'syscall == "openat" and ret < 0\'',
    '<%= config.bin %> decode trace.bin --comm curl --since 10:42 --until 10:43',
    '<%= config.bin %> decode trace.bin --format csv --fields time,pid,comm,argv > execs.csv',
    '<%= config.bin %> decode trace.bin --json --fields pid,syscall,args.filename --syscall openat',
    '<%= config.bin %> decode web-1.bin web-2.bin --json          # merged in time order, each event with its host',
    '<%= config.bin %> decode \'/var/log/exectrace/*.bin\' --schema ecs   # Elastic Common Schema (or ocsf) for a SIEM',
    '<%= config.bin %> decode trace.bin --ancestors --json --type exec | jq -c \'select(.comm == "curl") | [.argv, [.ancestors[].comm]]\'',
  ];

  // FILE… : several files are merged in time order (oclif's strict mode allows one argument).
  static override strict = false;

  static override args = {
    file: Args.string({
      description: 'trace file written by `exectrace record` (several: merged in time order; - for standard input)',
      required: true,
    }),
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
    schema: Flags.string({
      description: 'JSON events mapped onto Elastic Common Schema (ecs) or OCSF Process Activity (ocsf), for SIEMs and shippers; implies --json',
      options: [...SCHEMAS],
    }),
    ancestors: Flags.boolean({
      description: 'give exec and exec_failed events their ancestors: who forked the process, from the parent upward (pid, exec_id, comm, uid, filename, argv), as far as the file and its snapshot know',
    }),
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Decode);
    const {paths, names} = await inputFiles(argv as string[]);
    if (flags.json && flags.format !== undefined && flags.format !== 'json') {
      this.error(`--json and --format ${flags.format}: give one of them`, {exit: EXIT.usage});
    }
    if (flags.schema !== undefined && flags.format !== undefined && flags.format !== 'json') {
      this.error(`--schema ${flags.schema} maps JSON events: it goes with --json, not --format ${flags.format}`, {exit: EXIT.usage});
    }
    const format = flags.json || flags.schema !== undefined ? 'json' : flags.format ?? 'human';
    if (flags.fields && format === 'human') this.error('--fields goes with --format csv, tsv or json', {exit: EXIT.usage});
    if (flags.fields && flags.schema !== undefined) this.error(`--fields and --schema: give one of them (--schema writes the schema's fields)`, {exit: EXIT.usage});
    const problems = new Map<string, Problem[]>();
    // Into a file or a pipe, long work says how far it is (on stderr, when that is a terminal).
    const progress = this.startProgress({when: !process.stdout.isTTY});
    const set = openTraces(paths, {
      ...traceOptions(flags), names, processes: flags.processes, ancestors: flags.ancestors, implicit: flags.implicit,
      fdPaths: flags['fd-paths'],
      onProgress: progress.update,
      onProblem: (p, file) => {
        problems.set(file, [...(problems.get(file) ?? []), p]);
        this.warnLine(`${file}: ${p.message}`);
      },
    });
    let reports;
    try {
      reports = await set.write(1, {
        json: format === 'json', format: format === 'csv' || format === 'tsv' ? format : undefined, fields: flags.fields,
        schema: flags.schema as Schema | undefined,
      });
    } finally {
      set.close();
      progress.end();
    }
    const warned = new Set<string>();
    let damaged = false;
    // Why a file had no match matters only when no file had one.
    const someMatched = reports.some((r) => (r.matched ?? 0) > 0);
    for (const r of reports) {
      // A filter's warnings are the same for every file: said once.
      for (const w of r.warnings) {
        if (someMatched && w.startsWith('no event matched')) continue;
        if (!warned.has(w)) this.warnLine(reports.length > 1 ? `${r.file}: ${w}` : w);
        warned.add(w);
      }
      if (r.unknownType || r.malformed) {
        this.warnLine(`${r.file}: ${r.unknownType} record(s) of unknown type and ${r.malformed} malformed record(s) skipped`);
      }
      const found = problems.get(r.file) ?? [];
      if (!r.complete && !found.some((p) => p.kind === 'truncated')) {
        this.warnLine(`${r.file}: no trailer: the recording did not end cleanly (everything up to the last chunk was decoded)`);
      }
      // A file without its trailer is incomplete even when every block read cleanly: say so in the status too.
      if (found.length || !r.complete) damaged = true;
    }
    if (damaged) process.exitCode = EXIT.damaged;
  }
}
