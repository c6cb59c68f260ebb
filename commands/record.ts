import * as os from 'node:os';
import {Args, Flags, type Interfaces} from '@oclif/core';
import {BaseCommand, EXIT, parseDuration, parseSize} from '../src/cli/base';
import {record, RECORD_DEFAULTS} from '../src';
import {splitCommand} from '../src/cli/command-line';
import {printExecCounts} from '../src/cli/counts';
import {live} from '../src/cli/live';

export default class Record extends BaseCommand {
  static override summary = 'Record process activity system-wide into a trace file (needs root).';
  static override description = `Loads exectrace's BPF programs, and copies the raw ring-buffer records \
(exec with full argv, failed exec, fork, exit) into a zstd-compressed, self-describing trace file, \
with lost-event counts. Records while COMMAND runs (after --), for --duration, or until Ctrl+C. \
Everything after the first -- is the command, byte for byte: record reads no flag there. \
When record stops first (--duration, a signal), the command gets SIGTERM, then SIGKILL after --kill-after, \
so that its exit is in the file. \
The file is created with mode 0600: it can hold secrets from command lines. \
The FILTERS flags are applied in the kernel to every record (exec, exec_failed, fork, exit, syscalls): \
all the kinds given must match, and any value of a repeated one; a fork is matched on the new child. \
What they leave out is counted as filtered, never as lost. \
ROTATION: with --rotate-size or --rotate-time, -o DIR/NAME.EXT names a series of files, DIR/NAME-000001.EXT, \
DIR/NAME-000002.EXT, …, each complete on its own (metadata, the processes alive at its start, chunks, trailer) \
and naming the file before it and its chain head, so that 'exectrace verify DIR/NAME-*.EXT' checks the whole \
series; a file ends at the first chunk boundary past the size or time, so no event is lost or doubled. \
No file is overwritten: a new recording numbers on after the files already there. DIR must exist.`;

  static override examples = [
    '<%= config.bin %> record --raw -o trace.bin -- make -j2',
    '<%= config.bin %> record --raw -o trace.bin --duration 30s',
    '<%= config.bin %> record -o trace.bin --max-args 1024 --max-arg-bytes 128K',
    '<%= config.bin %> record --syscalls -o t.bin -- cat /etc/hosts',
    '<%= config.bin %> record --syscall openat --syscall read --comm cat --bytes 64 -o t.bin',
    '<%= config.bin %> record --syscall openat --stdout  # live, no file',
    '<%= config.bin %> record --stdout                 # live human lines, no file',
    '<%= config.bin %> record --stdout --json -o t.bin  # live NDJSON, and the file too',
    '<%= config.bin %> record --follow -o t.bin -- ./build.sh           # the command and its descendants only',
    '<%= config.bin %> record --pid 1234 --follow -o t.bin               # a running process and its descendants',
    '<%= config.bin %> record --pidns 4026532198 -o t.bin                # a PID namespace and the ones below it',
    '<%= config.bin %> record --cgroup /sys/fs/cgroup/app --uid 1000 -o t.bin',
    '<%= config.bin %> record --rotate-size 256M --rotate-time 1h --max-files 48 -o /var/log/exectrace/trace.bin  # trace-000001.bin …',
    '<%= config.bin %> record --stats-only --interval 2s  # execs per pid and name every 2s, no file; totals on Ctrl+C',
    '<%= config.bin %> record --stats-only --follow --json -- make -j2',
  ];

  static override strict = false;
  static override args = {
    command: Args.string({description: 'command to run (and record), after --; recording ends when it exits', required: false}),
  };

  static override flags = {
    output: Flags.string({char: 'o', description: 'trace file to write (required unless --stdout)'}),
    stdout: Flags.boolean({description: 'also decode live to stdout, as decode would (costs more CPU than recording alone)'}),
    json: Flags.boolean({description: 'with --stdout: NDJSON instead of human lines; with --stats-only: one object per interval'}),
    utc: Flags.boolean({description: 'with --stdout or --stats-only: human times in UTC, not the local time zone (TZ)'}),
    'stats-only': Flags.boolean({
      description: 'count execs (and failed execs) per pid and name in the kernel and print them every --interval, ' +
        'totals at the end; no event is recorded, no file written (the in-kernel filters apply)',
      helpGroup: 'STATS-ONLY',
    }),
    interval: Flags.string({description: 'with --stats-only: print the counts this often (default 2s)', helpGroup: 'STATS-ONLY'}),
    'stats-entries': Flags.integer({description: '(pid, name) pairs the kernel counts per interval (for tests)', hidden: true, min: 1, max: 1 << 22}),
    force: Flags.boolean({char: 'f', description: 'overwrite the output file if it exists'}),
    raw: Flags.boolean({description: 'write raw ring-buffer records, decoded later (the default; kept for scripts)', default: true, allowNo: false}),
    duration: Flags.string({char: 'd', description: 'stop after this long (500ms, 30s, 5m, 1h)'}),
    'kill-after': Flags.string({description: 'when record stops before its command: SIGTERM, then SIGKILL this long after', default: '2s'}),
    'max-args': Flags.integer({description: 'arguments kept per exec (the real argc is always recorded)', default: 256, min: 1, max: 65536}),
    'max-arg-bytes': Flags.string({description: 'argv bytes read per exec (up to 128K)', default: '32K'}),
    'ring-size': Flags.string({description: 'BPF ring buffer size (a power of two)', default: '16M'}),
    'chunk-size': Flags.string({description: 'uncompressed bytes per chunk before it is written', default: '4M'}),
    'flush-interval': Flags.string({description: 'write a chunk at least this often', default: '1s'}),
    level: Flags.integer({description: 'zstd compression level (1 is fastest; higher levels trade recorder CPU for a few per cent of size)', default: RECORD_DEFAULTS.level, min: 1, max: 19}),
    syscalls: Flags.boolean({description: 'record every syscall with its arguments (entry and exit)', helpGroup: 'SYSCALLS'}),
    syscall: Flags.string({description: 'record this syscall (repeatable)', multiple: true, multipleNonGreedy: true, helpGroup: 'SYSCALLS'}),
    comm: Flags.string({description: 'only tasks with this command name (repeatable)', multiple: true, multipleNonGreedy: true, helpGroup: 'FILTERS'}),
    pid: Flags.integer({description: 'only this process (repeatable); with --follow, and its descendants', multiple: true, multipleNonGreedy: true, min: 1, helpGroup: 'FILTERS'}),
    follow: Flags.boolean({description: 'with the command after -- (from its first event) and the --pid processes, every process they fork, and so on down', helpGroup: 'FILTERS'}),
    pidns: Flags.string({description: 'only tasks in this PID namespace or one below it (its inode number, as `lsns -t pid` shows, or /proc/PID/ns/pid)', helpGroup: 'FILTERS'}),
    cgroup: Flags.string({description: 'only tasks in this cgroup v2 directory or one below it', helpGroup: 'FILTERS'}),
    container: Flags.string({description: 'only tasks of this container (docker, containerd, cri-o, podman): its id or a prefix of it, resolved to its cgroup at start', helpGroup: 'FILTERS'}),
    uid: Flags.string({description: 'only tasks with this real uid (a number or a user name; repeatable)', multiple: true, multipleNonGreedy: true, helpGroup: 'FILTERS'}),
    bytes: Flags.integer({description: 'bytes kept of each buffer argument (read/write data …)', default: 64, min: 0, max: 4096, helpGroup: 'SYSCALLS'}),
    hash: Flags.boolean({description: 'hash the file each exec ran (SHA-256, read in the background, never a file other than the one that ran); --no-hash: do not', default: true, allowNo: true}),
    'hash-max': Flags.string({description: 'files larger than this are not hashed (sha256_error "too_large")', default: '256M'}),
    'rotate-size': Flags.string({description: 'write a series of files: a new one once the current one holds this much (e.g. 256M; at the next chunk boundary)', helpGroup: 'ROTATION'}),
    'rotate-time': Flags.string({description: 'write a series of files: a new one once the current one has been written for this long (e.g. 1h; at least 1s)', helpGroup: 'ROTATION'}),
    'max-files': Flags.integer({description: 'with rotation: keep at most this many files of the series\' name (the oldest are removed)', min: 1, helpGroup: 'ROTATION'}),
    verbose: Flags.boolean({char: 'v', description: 'also say what is the same on every run on this kernel (syscalls without a tracepoint)'}),
    object: Flags.string({description: 'BPF object to load (for development)', hidden: true}),
  };

  async run(): Promise<void> {
    const {own, command} = splitCommand(this.argv);
    if (own.length < this.argv.length && command.length === 0) {
      this.error('nothing after --: give the command to record, or leave out -- to record until Ctrl+C', {exit: EXIT.usage});
    }
    const {flags, argv} = await this.parse(Record, own);
    if ((argv as string[]).length) {
      this.error(`unexpected argument "${(argv as string[])[0]}": the command to record goes after --, as in ` +
        `'exectrace record -o t.bin -- ${(argv as string[]).join(' ')}'`, {exit: EXIT.usage});
    }
    if (flags.syscalls && flags.syscall) this.error('--syscalls records every syscall: drop --syscall, or drop --syscalls to record only the named ones', {exit: EXIT.usage});
    if (flags['stats-only']) {
      await this.countOnly(flags, command);
      return;
    }
    const rotating = flags['rotate-size'] !== undefined || flags['rotate-time'] !== undefined;
    if (flags['max-files'] !== undefined && !rotating) this.error('--max-files goes with --rotate-size or --rotate-time', {exit: EXIT.usage});
    if (rotating && !flags.output) this.error('--rotate-size and --rotate-time write a series of files: give -o DIR/NAME.bin', {exit: EXIT.usage});
    if (rotating && flags.output === '-') this.error('-o -: standard output is one stream and cannot be rotated; give -o DIR/NAME.bin', {exit: EXIT.usage});
    if (rotating && flags.force) this.error('--force does not go with rotation: a series never overwrites a file (it numbers on after the files already there)', {exit: EXIT.usage});
    const rotateBytes = flags['rotate-size'] !== undefined ? parseSize(flags['rotate-size'], 'rotate-size') : undefined;
    if (rotateBytes !== undefined && rotateBytes < 4096) this.error('--rotate-size must be at least 4K (e.g. 256M)', {exit: EXIT.usage});
    const rotateMs = flags['rotate-time'] !== undefined ? parseDuration(flags['rotate-time'], 'rotate-time') : undefined;
    if (rotateMs !== undefined && rotateMs < 1000) this.error('--rotate-time must be at least 1s (e.g. 1h)', {exit: EXIT.usage});
    if (flags.interval !== undefined) {
      this.error('--interval goes with --stats-only (for a time series of a recording: exectrace stats FILE --interval 1s)', {exit: EXIT.usage});
    }
    if (flags.json && !flags.stdout) this.error('--json goes with --stdout (or --stats-only): the file is always the raw records', {exit: EXIT.usage});
    if (flags.utc && !flags.stdout) this.error('--utc goes with --stdout (or --stats-only): the file keeps the clock, not a zone', {exit: EXIT.usage});
    if (!flags.output && !flags.stdout) this.error('give -o FILE to record into a file, or --stdout to watch live (or both)', {exit: EXIT.usage});
    const maxArgBytes = parseSize(flags['max-arg-bytes'], 'max-arg-bytes');
    if (maxArgBytes < 1 || maxArgBytes > 128 * 1024) this.error('--max-arg-bytes must be between 1 and 128K', {exit: EXIT.usage});
    const ringBytes = parseSize(flags['ring-size'], 'ring-size');
    if (ringBytes < 4096 || (ringBytes & (ringBytes - 1)) !== 0) this.error('--ring-size must be a power of two, at least 4K (e.g. 16M)', {exit: EXIT.usage});
    const chunkBytes = parseSize(flags['chunk-size'], 'chunk-size');
    if (chunkBytes < 4096 || chunkBytes > 64 * 1024 * 1024) this.error('--chunk-size must be between 4K and 64M', {exit: EXIT.usage});
    const options = {
      output: flags.output,
      force: flags.force,
      rotate: rotating ? {bytes: rotateBytes, ms: rotateMs, maxFiles: flags['max-files']} : undefined,
      command: command.length ? command : undefined,
      durationMs: flags.duration !== undefined ? parseDuration(flags.duration, 'duration') : undefined,
      killAfterMs: parseDuration(flags['kill-after'], 'kill-after'),
      maxArgs: flags['max-args'],
      maxArgBytes,
      ringBytes,
      chunkBytes,
      flushMs: Math.max(10, parseDuration(flags['flush-interval'], 'flush-interval')),
      level: flags.level,
      object: flags.object,
      syscalls: flags.syscalls ? ('all' as const) : flags.syscall,
      bytes: flags.bytes,
      hash: flags.hash,
      hashMaxBytes: parseSize(flags['hash-max'], 'hash-max'),
      verbose: flags.verbose,
      log: (line: string) => process.stderr.write(`exectrace: ${line}\n`),
    };
    const filters = {pid: flags.pid, follow: flags.follow, cgroup: flags.cgroup, container: flags.container, uid: flags.uid, comm: flags.comm};
    const summary = flags.stdout
      ? await live({...options, ...filters, pidNs: flags.pidns}, flags.json, flags.utc ? 'utc' : 'local')
      : await record({...options, filters: {...filters, pidns: flags.pidns}});
    const parts = Object.entries(summary.totals)
      .filter(([, t]) => t.recorded || t.lost)
      .map(([k, t]) => `${k} ${t.recorded}${t.lost ? ` (lost ${t.lost})` : ''}`);
    const lost = Object.values(summary.totals).reduce((a, t) => a + t.lost, 0);
    const filtered = Object.values(summary.totals).reduce((a, t) => a + t.filtered, 0);
    const files = summary.files;
    const where = files && files.length > 1
      ? `${files.length} files, ${files[0]} … ${files[files.length - 1]}: ${summary.bytes} bytes in ${summary.chunks} chunks` +
        `${summary.removed ? `; --max-files removed ${summary.removed}` : ''}`
      : summary.output ? `${summary.output}: ${summary.bytes} bytes in ${summary.chunks} chunks` : 'no file';
    const h = summary.hashes;
    const missed = h ? Object.entries(h.errors).map(([k, n]) => `${k} ${n}`).join(', ') : '';
    const hashed = h && h.execs ? `; sha256 of ${h.execs - Object.values(h.errors).reduce((a, n) => a + n, 0)} of ${h.execs} execs${missed ? ` (${missed})` : ''}` : '';
    process.stderr.write(
      `exectrace: recorded ${summary.records} events in ${(summary.durationNs / 1e9).toFixed(2)}s ` +
        `(${parts.join(', ') || 'none'}); lost ${lost}${filtered ? `; filtered ${filtered}` : ''}${hashed}; ${where} (${summary.endReason})\n`,
    );
    exitLike(summary);
  }

  /**
   * --stats-only: execs counted per pid and name in the kernel, printed every --interval,
   * totals at the end. No file: -o, --stdout and the syscall flags are usage errors.
   */
  private async countOnly(flags: Interfaces.InferredFlags<typeof Record.flags>, command: Buffer[]): Promise<void> {
    const no = (what: string, why: string) => this.error(`--stats-only and ${what}: ${why}`, {exit: EXIT.usage});
    if (flags.output) no('-o', 'stats-only counts execs in the kernel and writes no file; record without --stats-only to keep the events');
    if (flags['rotate-size'] !== undefined || flags['rotate-time'] !== undefined || flags['max-files'] !== undefined) {
      no('rotation', 'stats-only writes no file to rotate; record -o DIR/NAME.bin --rotate-size/--rotate-time to keep a series of files');
    }
    if (flags.stdout) no('--stdout', 'stats-only prints counts, not events; drop --stdout');
    if (flags.syscalls || flags.syscall) no('--syscalls', 'stats-only counts execs only; record with -o to keep syscalls');
    const summary = await printExecCounts({
      intervalMs: parseDuration(flags.interval ?? '2s', 'interval'),
      command: command.length ? command : undefined,
      durationMs: flags.duration !== undefined ? parseDuration(flags.duration, 'duration') : undefined,
      killAfterMs: parseDuration(flags['kill-after'], 'kill-after'),
      filters: {pid: flags.pid, follow: flags.follow, pidns: flags.pidns, cgroup: flags.cgroup, container: flags.container, uid: flags.uid, comm: flags.comm},
      entries: flags['stats-entries'],
      object: flags.object,
      log: (line: string) => process.stderr.write(`exectrace: ${line}\n`),
    }, flags.json, flags.utc ? 'utc' : 'local');
    exitLike(summary);
  }
}

/**
 * The exit status: the command's when it ended on its own; when record stopped it, record's
 * own: 128 + the signal record was given, 0 after --duration.
 */
function exitLike(summary: {childStopped?: string; stoppedBy?: NodeJS.Signals; childExit?: {code: number | null; signal: string | null}}): void {
  const signals = os.constants.signals as {[name: string]: number};
  if (summary.childStopped) {
    process.exitCode = summary.stoppedBy ? 128 + (signals[summary.stoppedBy] ?? 0) : 0;
  } else if (summary.childExit) {
    if (summary.childExit.signal) process.exitCode = 128 + (signals[summary.childExit.signal] ?? 0);
    else process.exitCode = summary.childExit.code ?? 0;
  }
}
