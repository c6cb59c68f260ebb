import {Args, Flags} from '@oclif/core';
import {inputFile} from '../src/cli/stdin';
import {BaseCommand, EXIT} from '../src/cli/base';
import {zoneOf} from '../src/cli/filter-flags';
import {formatTime, formatTree, processTree, toJson} from '../src';

export default class Tree extends BaseCommand {
  static override summary = 'Show the process forest of a trace file: who launched what, with each process\'s exec chain (no root needed).';
  static override description = `One line per process, as ps -ef --forest: when it started, how long it ran, how it \
ended (exit code, signal, core dump, or still running at the end of the recording), its uid, its pid, then the \
tree and its exec chain: the argv of each program it ran, → between them (a process that never exec'd shows the \
command it inherited, marked [no exec]); failed execs follow ✗. A process sits under the process that forked it, \
also when it was reparented later (marked). --pid (or --exec-id) shows one process's ancestry from the root down, \
then its whole subtree. Without them, processes alive at start that did nothing during the recording (nor any \
process below them) are left out, and counted on stderr; --all shows them. --comm, --uid, --since and --until \
keep the processes that match, each under its ancestors. Two processes given the same pid are two processes. \
Times are local (TZ), or UTC with --utc; --json prints the forest as one JSON object, nodes nested in \
"children", times in RFC 3339 UTC.`;

  static override examples = [
    '<%= config.bin %> tree trace.bin',
    '<%= config.bin %> tree trace.bin --pid 4242',
    '<%= config.bin %> tree trace.bin --comm curl',
    '<%= config.bin %> tree trace.bin --json | jq \'.roots[0].children[].images[].argv\'',
  ];

  static override args = {
    file: Args.string({description: 'trace file written by `exectrace record`', required: true}),
  };

  static override flags = {
    pid: Flags.integer({description: 'the ancestry and subtree of the process(es) that had this pid (repeatable)', multiple: true, multipleNonGreedy: true, min: 0}),
    'exec-id': Flags.string({description: 'the ancestry and subtree of the process this exec id names (any image of its chain; repeatable)', multiple: true, multipleNonGreedy: true}),
    comm: Flags.string({description: 'only processes that ran under this comm, with their ancestors (repeatable)', multiple: true, multipleNonGreedy: true}),
    uid: Flags.string({description: 'only processes of this real user id, a number or a user name, with their ancestors (repeatable)', multiple: true, multipleNonGreedy: true}),
    since: Flags.string({description: 'only processes alive at or after this time (forms as decode --since)'}),
    until: Flags.string({description: 'only processes started before this time (same forms)'}),
    all: Flags.boolean({description: 'also the processes alive at start that did nothing during the recording'}),
    utc: Flags.boolean({description: 'times in UTC, not the local time zone (TZ): the times shown, and clock times given to --since/--until'}),
    json: Flags.boolean({description: 'the forest as one JSON object: roots, each node with its images, exit and children'}),
  };

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Tree);
    const input = await inputFile(args.file);
    const zone = zoneOf(flags);
    const forest = processTree(input, {
      pid: flags.pid, execId: flags['exec-id'], comm: flags.comm, uid: flags.uid, since: flags.since, until: flags.until,
      all: flags.all, zone, onProblem: (p) => this.warnLine(`${args.file}: ${p.message}`),
    });
    // Written before the notes on stderr, so that a terminal shows them after the tree.
    await new Promise<void>((resolve) => process.stdout.write(flags.json ? toJson({...forest, file: args.file}) + '\n' : formatTree(forest, {zone}), () => resolve()));
    for (const r of forest.reused) {
      const starts = r.processes.map((p) => formatTime(forest, p.start_ns, zone)).join(', ');
      this.warnLine(`pid ${r.pid} names ${r.processes.length} processes in this file (started ${starts}): all are shown; --exec-id picks one`);
    }
    if (forest.idle) {
      this.warnLine(`${forest.idle} process${forest.idle === 1 ? '' : 'es'} alive at start left out: nothing happened to them during the recording (--all shows them)`);
    }
    if (forest.roots.length === 0 && !forest.idle) this.warnLine(`no process matched ${forest.selection}`.trimEnd());
    if (!forest.complete && !forest.problems.length) {
      this.warnLine(`${args.file}: no trailer: the recording did not end cleanly (processes without an exit are shown as running)`);
    }
    if (forest.problems.length || !forest.complete) process.exitCode = EXIT.damaged;
  }
}

