// `record`: load the BPF object, attach, and copy raw ring-buffer records into a trace file
// in large zstd chunks. record() puts together parts that each do one thing:
//
//   object.ts   what is loaded: the object, its layouts, the syscall plan, .rodata
//   drain.ts    the drain source: the loaded object and the addon's drain thread
//   chunks.ts   the chunk step: batches to chunks, flushed on size and on the interval,
//               records counted per type; each batch also handed to a live consumer
//   counters.ts the kernel's counters, and `lost` records where their lost counts grew
//   stop.ts     what asks to stop, and the stop sequence: the command, detach, the last
//               drain, calls in progress, the counters, the trailer
//
// and does what is record's own: the output file claimed and locked, the metadata, the
// command run and waited for, the summary.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import {createHash} from 'node:crypto';
import {createExclusive, removeForOverwrite, TraceWriter} from '../format';
import {loadNative, NativeBinding, packageRoot} from './native';
import {addIdentities, cgroupPaths, hostInfo, snapshotProcesses, type ProcSnapshot, type TaskIdentity} from './procfs';
import {textOrBytes} from '../util/bytes';
import {decodeText, displayText} from '../decode/text';
import {checkBtf, checkKernel, checkRoot, ensureTracefs} from './preflight';
import {UserError} from '../util/errors';
import {passwdUsers} from '../util/users';
import {RECORD_TYPES, SNAP_FDS_PROGRAM, SNAP_PROGRAM, SNAP_STRUCT} from './types';
import {addSnapshotFds, parseSnapshotFds} from './fds';
import {helpers} from '../decode/records';
import type {RecordLayout} from '../btf';
import {ET_EXEC_CWD, ET_EXEC_CWD_TRUNCATED, ET_F_INFLIGHT, ET_F_NO_ENTER, ET_F_TRUNCATED, ET_FORK_FILES, ET_FORK_FS, ET_LOST, ET_SYS_EXIT, EXEC_FLAGS, FD_FLAGS} from '../abi';
import {describeFilters, filterMeta, FilterOptions, PIDS_MAX, resolveFilters} from './filters';
import {prepareObject} from './object';
import {Drain} from './drain';
import {ChunkWriter} from './chunks';
import {LossCounter} from './counters';
import {
  countersSince, recordedSince, StopControl, statusOf, stopSequence, syscallTotals, typeTotals, writeTrailer, type ChildExit, type EndCounters,
  type Stopped, type Trailer, type TypeTotals,
} from './stop';
import {Series, type RotateOptions, type SeriesMeta} from './series';
import {HASH_DEFAULTS, Hasher, type HashStats} from './hasher';

export type {TypeTotals, HashStats};

export const PACKAGE_ROOT = packageRoot();
export const DEFAULT_OBJECT = path.join(PACKAGE_ROOT, 'bpf', 'exectrace.bpf.o');
const FORMAT_VERSION = '1.1';
const RECORD_TYPE_NAMES = new Map(RECORD_TYPES.map((t) => [t.id, t.event]));

export interface RecordOptions {
  /** The trace file; without it nothing is written (live mode only). With `rotate`, the pattern of a series' names. */
  output?: string;
  /**
   * Write a series of files instead of one (formats/trace-format.md §10.19): a new file
   * once the current one holds `bytes` or has been written for `ms`; at most `maxFiles`
   * kept. Needs `output`; `force` does not go with it (a series never overwrites).
   */
  rotate?: RotateOptions;
  force?: boolean;
  /**
   * The command to run and record, exactly as given: each argument's bytes reach the
   * program unchanged (Buffers for arguments that are not UTF-8). argv[0] is the first
   * element; the program is found on PATH when it has no slash.
   */
  command?: (string | Buffer)[];
  /** When record stops first, the command gets SIGTERM, then SIGKILL this long after (default 2000). */
  killAfterMs?: number;
  durationMs?: number;
  maxArgs: number;
  maxArgBytes: number;
  ringBytes: number;
  chunkBytes: number;
  flushMs: number;
  level: number;
  object?: string;
  /** Syscalls to record: names, 'all', or none (undefined: exec/fork/exit only). */
  syscalls?: string[] | 'all';
  /**
   * Record-time filters, applied in the kernel to every record (--pid, --follow, --pidns,
   * --cgroup, --uid, --comm; --syscall is `syscalls`). See src/record/filters.ts.
   */
  filters?: FilterOptions;
  /**
   * Hash the file each exec ran (default true; only with `output`): its SHA-256 goes into
   * the file beside the exec (formats/trace-format.md §10.16).
   */
  hash?: boolean;
  /** Files larger than this are not hashed (--hash-max; default 256 MiB). */
  hashMaxBytes?: number;
  /** Bytes kept of a buffer argument (--bytes) and of a string argument. */
  bytes?: number;
  maxStr?: number;
  /** Stops the recording as a signal would (the command is stopped, the file completed); its reason is the end reason. */
  signal?: AbortSignal;
  /** Also log what is the same on every run on this kernel (--verbose). */
  verbose?: boolean;
  /** Where progress lines go (stderr in the CLI). */
  log?: (line: string) => void;
  /** Live mode: the file's metadata once known, then every batch of frames as it arrives. */
  onStart?: (meta: Record<string, unknown>) => void;
  onBatch?: (frames: Buffer) => void;
}

export interface RecordSummary {
  /** The file written (with rotation: the last file of the series). */
  output: string | null;
  /** With rotation: every file of the series written, in order (those --max-files removed included). */
  files?: string[];
  /** With rotation: files --max-files removed. */
  removed?: number;
  durationNs: number;
  bytes: number;
  chunks: number;
  records: number;
  totals: Record<string, TypeTotals>;
  endReason: string;
  /** How the command ended (signal: its name, e.g. SIGTERM). */
  childExit?: ChildExit;
  /** The signal record sent the command to stop it, when record stopped first (its exit is in the file). */
  childStopped?: 'SIGTERM' | 'SIGKILL';
  /** The signal that stopped the recording (SIGINT, SIGTERM, SIGHUP), when one did. */
  stoppedBy?: NodeJS.Signals;
  /** Processes --follow could not add (the kernel's set was full): their events are missing. */
  followOverflow: number;
  /** What was hashed, when exec files were (the trailer's `hashes`). */
  hashes?: HashStats;
}

function version(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Finds a command on PATH before it runs, as a shell would: otherwise an execvp walk
 * would leave one failed exec per PATH entry in the recording. Bytes in, bytes out: a
 * name that is not UTF-8 is looked up as it is.
 */
export function resolveCommand(name: Buffer): Buffer {
  if (name.includes(0x2f)) return name;
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = Buffer.concat([Buffer.from(dir || '.'), Buffer.from('/'), name]);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  // 127, as a shell says it.
  throw Object.assign(new UserError(`command not found: ${printableArg(name)}`), {exitCode: 127});
}

/** An argument as a user reads it: text where it is UTF-8, \xNN for the bytes that are not. */
export function printableArg(b: Buffer): string {
  return displayText(decodeText(b, 0, b.length));
}

/** The command after --, once started: it ends the recording when it exits. */
export interface RunningCommand {
  /** Its pid; undefined when it could not be started (then `exit` says 127 or 126). */
  pid: number | undefined;
  /** Resolves once it has exited and been waited for. */
  done: Promise<void> | undefined;
  /** How it ended, once it has. */
  exit: ChildExit | undefined;
}

/**
 * Starts the command (record's, or --stats-only's) and watches it: its exit, or a failure
 * to start it (127 for a program that is not there, 126 for one that cannot run, as a
 * shell says), stops the recording through `control`.
 */
export function startCommand(native: NativeBinding, program: Buffer, command: Buffer[], control: StopControl,
  log: (line: string) => void): RunningCommand {
  const run: RunningCommand = {pid: undefined, done: undefined, exit: undefined};
  try {
    run.pid = native.spawn(program, command);
  } catch (err) {
    const errno = (err as {errno?: number}).errno;
    run.exit = {code: errno === os.constants.errno.ENOENT ? 127 : 126, signal: null};
    log(`cannot run ${printableArg(command[0])}: ${(err as Error).message}`);
    control.stop('command failed to start');
    return run;
  }
  run.done = native.wait(run.pid).then(
    (st) => {
      run.exit = statusOf(st);
      control.stop('command exited');
    },
    (err) => {
      log(`lost track of the command: ${(err as Error).message}`);
      run.exit = {code: null, signal: null};
      control.stop('command lost');
    },
  );
  return run;
}

interface ClaimedOutput {
  path: string;
  fd: number;
  /** dev:ino, for the recordings of this process (fcntl locks do not exclude their own process). */
  key: string;
}

const claimed = new Set<string>();

function busy(file: string, holder: number): UserError {
  const who = holder > 0 ? `another recorder (pid ${holder})` : 'another recorder';
  return new UserError(`output file ${file} is being written by ${who}: stop it or choose another file`);
}

/** Fails when a recorder (this one, or another: its write lock says) is writing `file`. */
function checkNotBusy(file: string, st: fs.Stats, native: NativeBinding): void {
  if (claimed.has(`${st.dev}:${st.ino}`)) throw busy(file, process.pid);
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    // unwritable: whoever holds it, it is not a recorder of ours writing it
  }
  if (fd === undefined) return;
  let holder: number;
  try {
    holder = native.lockFile(fd);
  } finally {
    fs.closeSync(fd); // drops the lock taken just to look
  }
  if (holder !== 0) throw busy(file, holder);
}

/**
 * Creates the output (mode 0600) and takes a write lock on it, which every recorder checks:
 * with --force, a file another recorder is still writing is left alone instead of removed.
 */
function claimOutput(file: string, force: boolean, native: NativeBinding): ClaimedOutput {
  let old: fs.Stats | undefined;
  try {
    old = fs.lstatSync(file);
  } catch {
    // absent (or not ours to look at: creating it says why)
  }
  if (old?.isFile()) checkNotBusy(file, old, native);
  if (old && !force) throw new UserError(`output file ${file} exists (use --force to overwrite)`);
  let fd: number;
  try {
    if (force) removeForOverwrite(file);
    fd = createExclusive(file);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  let holder: number;
  try {
    holder = native.lockFile(fd);
  } catch (err) {
    fs.closeSync(fd);
    throw new UserError(`output file ${file}: ${(err as Error).message}`);
  }
  if (holder !== 0) {
    fs.closeSync(fd); // another recorder created it in between: it is theirs
    throw busy(file, holder);
  }
  const st = fs.fstatSync(fd);
  const key = `${st.dev}:${st.ino}`;
  claimed.add(key);
  return {path: file, fd, key};
}

function releaseOutput(o: ClaimedOutput, closeFd = true): void {
  claimed.delete(o.key);
  if (!closeFd) return;
  try {
    fs.closeSync(o.fd);
  } catch {
    // closed already
  }
}

export async function record(opts: RecordOptions): Promise<RecordSummary> {
  const log = opts.log ?? (() => {});
  checkRoot();
  checkKernel();
  checkBtf();
  const tracefs = ensureTracefs();
  if (opts.output !== undefined) {
    const outDir = path.dirname(path.resolve(opts.output));
    if (!fs.existsSync(outDir)) throw new UserError(`output directory ${outDir} does not exist (create it first: mkdir -p ${outDir})`);
    try {
      fs.accessSync(outDir, fs.constants.W_OK);
    } catch {
      throw new UserError(`output directory ${outDir} is not writable`);
    }
  }
  const rotate = opts.rotate && (opts.rotate.bytes !== undefined || opts.rotate.ms !== undefined) ? opts.rotate : undefined;
  if (rotate && opts.output === undefined) throw new UserError('rotation writes a series of files: give -o with it');
  if (rotate && opts.force) throw new UserError('--force does not go with rotation: a series never overwrites a file (it numbers on after the files already there)');
  if (opts.rotate?.maxFiles !== undefined && !rotate) throw new UserError('--max-files goes with --rotate-size or --rotate-time');

  const command = opts.command && opts.command.length ? opts.command.map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(a))) : undefined;
  const program = command ? resolveCommand(command[0]) : undefined;
  const filters = resolveFilters({...opts.filters, syscall: opts.syscalls === 'all' ? [] : opts.syscalls}, command !== undefined);
  // Digests go into the file: without one there is nothing to hash for.
  const hashing = opts.hash !== false && opts.output !== undefined;
  const hashMaxBytes = opts.hashMaxBytes ?? HASH_DEFAULTS.maxBytes;
  const obj = prepareObject({
    object: opts.object ?? DEFAULT_OBJECT,
    maxArgs: opts.maxArgs,
    maxArgBytes: opts.maxArgBytes,
    syscalls: opts.syscalls,
    bytes: opts.bytes,
    maxStr: opts.maxStr,
    verbose: opts.verbose,
    hashExecs: hashing,
  }, filters, tracefs, log);
  const {layouts, plan} = obj;

  const native = loadNative();
  // The output is created and locked before anything is loaded: a second recorder given the
  // same file fails here, at once, and the recording in progress keeps it. A series' first
  // file likewise, once no recorder is found writing the series' latest file.
  let series: Series | undefined;
  if (rotate && opts.output !== undefined) {
    series = new Series(opts.output, rotate, {
      open: (file, s) => openSeriesFile(file, s),
      ending: (why) => endingSeriesFile(why),
      log,
      fail: (err) => control.stop(`write error: ${err.message}`),
    });
    const last = series.latest;
    if (last) checkNotBusy(last, fs.lstatSync(last), native);
  }
  let output = opts.output !== undefined ? claimOutput(series ? series.nextPath : opts.output, !!opts.force, native) : undefined;
  const dropOutput = (): void => {
    if (!output) return;
    releaseOutput(output);
    try {
      fs.unlinkSync(output.path); // created empty above: nothing of anyone's is lost
    } catch {
      // already gone
    }
    output = undefined;
  };
  let drain: Drain;
  try {
    drain = Drain.open(obj, filters, opts.ringBytes, native);
  } catch (err) {
    dropOutput();
    throw err;
  }
  const host = hostInfo(native.pageSize);
  const cgroups = cgroupPaths();
  const clockStart = native.clocks();
  const nrCpus = drain.nrCpus;
  const control = new StopControl(opts.signal);
  const hasher = hashing ? new Hasher({maxBytes: hashMaxBytes, waitMs: HASH_DEFAULTS.waitMs}, {
    exec: layouts.et_exec, hash: layouts.et_hash, fileKey: layouts.et_file_key, headerSize: layouts.et_header.size,
    cwdFlag: ET_EXEC_CWD, cwdTruncated: ET_EXEC_CWD_TRUNCATED,
  }) : undefined;
  // Once a file is hashed, its next execs need no early wakeup and no descriptor.
  if (hasher) hasher.onKnown = (key) => drain.markHashed(key);
  const chunks = new ChunkWriter({
    hasher,
    hashWaitMs: HASH_DEFAULTS.waitMs,
    chunkBytes: opts.chunkBytes,
    header: drain.header,
    lostType: ET_LOST,
    onBatch: opts.onBatch,
    onWriteError: (err) => control.stop(`write error: ${err.message}`),
  });
  const losses = new LossCounter({
    counter: layouts.et_counter,
    lost: layouts.et_lost,
    lostType: ET_LOST,
    sysExitType: ET_SYS_EXIT,
    nrCpus,
    read: (map) => drain.counters(map),
    now: () => Number(native.clocks().boot_ns),
    startNs: Number(clockStart.boot_ns),
    emit: (frame) => chunks.frames(frame, true),
  });
  let writer: TraceWriter | undefined;
  let child: RunningCommand | undefined;
  let stopped: Stopped;
  // With rotation, where the current file began: the counters then, which it counts from.
  let since: {end: EndCounters; recorded: Map<number, number>; followOverflow: number} | undefined;

  // What every file's META holds, but for what is taken anew for each file of a series.
  const fixedMeta = {
    exectrace: version(),
    format: FORMAT_VERSION,
    host: {...host, nr_cpus: nrCpus},
    options: {
      ...obj.effective,
      ring_bytes: opts.ringBytes,
      chunk_bytes: opts.chunkBytes,
      flush_ms: opts.flushMs,
      zstd_level: opts.level,
      // Strings where UTF-8, the exact bytes otherwise.
      command: command ? command.map(textOrBytes) : null,
      duration_ms: opts.durationMs ?? null,
      object: path.basename(obj.path),
      object_sha256: createHash('sha256').update(obj.bytes).digest('hex'),
      filters: filterMeta(filters),
      ...(hashing && {hash: {max_bytes: hashMaxBytes, wait_ms: HASH_DEFAULTS.waitMs}}),
      ...(rotate && {rotate: {bytes: rotate.bytes ?? null, ms: rotate.ms ?? null, max_files: rotate.maxFiles ?? null}}),
    },
    flags: {truncated: ET_F_TRUNCATED, no_enter: ET_F_NO_ENTER, inflight: ET_F_INFLIGHT},
    exec_flags: EXEC_FLAGS,
    fork_flags: {files: ET_FORK_FILES, fs: ET_FORK_FS},
    ...(plan && {fd_flags: FD_FLAGS}),
    record_header: layouts.et_header,
    record_types: RECORD_TYPES.map((t) => ({...t, layout: layouts[t.struct]})),
    syscalls: plan ? plan.meta : null,
    counters: {struct: layouts.et_counter, types: Object.fromEntries(RECORD_TYPES.map((t) => [t.id, t.event]))},
  };
  // The processes alive now, taken while attached: a process started in between shows up
  // twice (snapshot and exec), never not at all.
  const snapshot = (): ProcSnapshot[] => {
    const processes = snapshotProcesses(host.clk_tck);
    addIdentities(processes, taskIdentities(drain.runIter(SNAP_PROGRAM), layouts[SNAP_STRUCT]), host.clk_tck);
    // With syscalls, what each process's descriptors and cwd are, for the decoder's tables (src/fds).
    if (plan) addSnapshotFds(processes, parseSnapshotFds(drain.runIter(SNAP_FDS_PROGRAM), layouts.et_fd, layouts.et_header));
    return processes;
  };
  const metaOf = (processes: ProcSnapshot[], clock: unknown, cgroupMap: Record<string, string>, seriesMeta?: SeriesMeta) => ({
    ...fixedMeta,
    created: new Date().toISOString(),
    clock: {start: clock},
    cgroups: cgroupMap,
    // The host's user names (§10.17): stats --by user shows them on any machine.
    users: passwdUsers(),
    processes,
    ...(seriesMeta && {series: seriesMeta}),
  });
  let startProcesses: ProcSnapshot[] = [];

  // A file of a series: the first one with what was taken at start (claimed before the load),
  // each later one with a snapshot of its own, claimed as it is created.
  function openSeriesFile(file: string, s: SeriesMeta): TraceWriter {
    if (!output || output.path !== file) {
      if (output) releaseOutput(output, false); // its fd closed with its writer
      output = undefined;
      output = claimOutput(file, false, native);
    }
    const meta = s.first ? metaOf(startProcesses, clockStart, cgroups, s) : metaOf(snapshot(), native.clocks(), cgroupPaths(), s);
    return TraceWriter.create(file, meta, {fd: output.fd, level: opts.level});
  }

  // A file of a series ends: the counters now are its end (the loss records of their growth
  // go into its last chunk); its trailer is written once its chunks all are.
  function endingSeriesFile(why: string): (w: TraceWriter, s: {id: string; seq: number; next: string}) => void {
    const end = losses.poll(plan !== undefined);
    const recordedNow = chunks.recorded();
    const followNow = filters.follow ? drain.followOverflow() : 0;
    const clockNow = native.clocks();
    return (w, s) => {
      writeTrailer(w, chunks.writeError, trailerOf({end, recorded: recordedNow, followOverflow: followNow, clockEnd: clockNow,
        endReason: `rotated (${why})`, series: s, last: false}));
      since = {end, recorded: recordedNow, followOverflow: followNow};
    };
  }

  // A file's trailer: what it holds, and what the kernel's counters grew by while it was written.
  const trailerOf = (p: {end: EndCounters; recorded: Map<number, number>; followOverflow: number; clockEnd: unknown; endReason: string;
    series?: Trailer['series']; last: boolean}): Trailer => {
    const end = countersSince(p.end, since?.end);
    const recorded = recordedSince(p.recorded, since?.recorded);
    return {
      clock_end: p.clockEnd,
      chunks: 0, // the writer counts its own
      records: 0,
      totals: typeTotals(recorded, end),
      totals_sys: plan && end.sys ? syscallTotals(plan, end.sys) : plan ? {} : undefined,
      inflight_calls: plan && p.last ? chunks.inflight : undefined,
      end_reason: p.endReason,
      follow_overflow: filters.follow ? p.followOverflow - (since?.followOverflow ?? 0) : undefined,
      hashes: hasher?.stats,
      unknown_types: [...recorded.keys()].filter((k) => !RECORD_TYPE_NAMES.has(k)),
      ...(p.series && {series: p.series}),
    };
  };

  try {
    control.listen();
    // A live consumer may keep what it is given; the file alone never does.
    drain.start(chunks, {chunkBytes: opts.chunkBytes, flushMs: opts.flushMs, keepsBatches: opts.onBatch !== undefined, openExe: hashing});
    startProcesses = snapshot();
    const meta = metaOf(startProcesses, clockStart, cgroups);
    // A live consumer gets each batch before the digests of its execs exist: its execs have
    // none, and must not say `missing` as a file's would.
    opts.onStart?.(hashing ? {...meta, options: {...meta.options, hash: undefined}} : meta);
    const alive = `${startProcesses.length} processes alive at start`;
    if (series) {
      writer = series.start((then) => chunks.cut(then));
      chunks.writeTo(series);
      const every = [rotate?.bytes !== undefined && `${sizeText(rotate.bytes)}`, rotate?.ms !== undefined && `${durationText(rotate.ms)}`].filter(Boolean);
      log(`recording to ${writer.path} (${alive}), then a new file every ${every.join(' or ')}` +
        `${rotate?.maxFiles !== undefined ? `, keeping the last ${rotate.maxFiles}` : ''}`);
    } else if (opts.output !== undefined) {
      writer = TraceWriter.create(opts.output, meta, {fd: (output as ClaimedOutput).fd, level: opts.level});
      chunks.writeTo(writer);
      log(`recording to ${opts.output} (${alive})`);
    } else {
      log(`recording (live, no file; ${alive})`);
    }
    const described = describeFilters(filters);
    if (described) log(described);
    else if (plan) {
      log(`recording the syscalls of every process on the system${command ? ', not only the command' : ''}: ` +
        '--follow keeps the command and its descendants (or --pid, --comm, --uid, --cgroup)');
    }

    chunks.startInterval(opts.flushMs, () => losses.poll(plan !== undefined));
    if (opts.durationMs !== undefined) control.stopAfter(opts.durationMs);
    if (command && program) child = startCommand(native, program, command, control, log);
    await control.stopped;
  } finally {
    stopped = await stopSequence({
      control,
      command: child?.done && child.pid !== undefined ?
        {pid: child.pid, done: child.done, ended: () => child?.exit !== undefined, killAfterMs: opts.killAfterMs ?? 2000} : undefined,
      chunks,
      drain,
      losses,
      syscalls: plan !== undefined,
      follow: filters.follow,
      stopped: () => {
        // No file is begun after this: the records of a cut still waiting stay in the current one.
        series?.stop();
        chunks.cancelCut();
        if (!writer) dropOutput();
      },
    });
  }
  // Execs still waiting for their digest hold their chunk back, for HASH_DEFAULTS.waitMs at most.
  await chunks.settle();
  await hasher?.close();
  const clockEnd = native.clocks();
  const recorded = chunks.recorded();
  const {childStopped, followOverflow} = stopped;
  const totals = typeTotals(recorded, stopped.end);
  if (followOverflow) {
    log(`warning: ${followOverflow} processes could not be followed (the kernel's set of ${PIDS_MAX} processes was full): ` +
      'their events are missing; narrow --pid/--follow');
  }
  const endReason = (control.reason ?? 'stopped') + (childStopped ? `; the command was stopped with ${childStopped}` : '');
  const records = [...recorded.values()].reduce((a, b) => a + b, 0) + chunks.inflight + chunks.hashRecords;
  let bytes = 0;
  let nChunks = 0;
  const last = series ? series.writer ?? undefined : writer;
  if (series && !last) {
    // A file could not be ended or begun: the files before it are complete.
    throw new UserError(`recording stopped: ${control.reason ?? 'stopped'}; the files of the series before it are complete ` +
      `(${series.files.map((f) => path.basename(f)).join(', ')})`);
  }
  if (last) {
    nChunks = last.stats.chunks;
    try {
      writeTrailer(last, chunks.writeError, trailerOf({
        end: stopped.end, recorded, followOverflow, clockEnd, endReason, last: true,
        ...(series && {series: {id: series.id, seq: series.seq, next: null}}),
      }));
    } catch (err) {
      // The writer cut off the block it could not finish: the file ends at its last complete chunk.
      last.destroy();
      if (output) releaseOutput(output, false);
      const {chunks: kept, records: keptRecords} = last.stats;
      throw new UserError(`recording stopped: ${(err as Error).message}; ${last.path} keeps its first ${kept} chunks ` +
        `(${keptRecords} records), without a trailer (exectrace recover can add one)`);
    }
    if (output) releaseOutput(output, false); // closed with the writer, and its lock with it
    bytes = fs.statSync(last.path).size;
    if (series) {
      bytes += series.endedBytes;
      nChunks += series.endedChunks;
    }
  }
  return {
    output: last?.path ?? null,
    ...(series && {files: series.files, removed: series.removed}),
    durationNs: Number(clockEnd.boot_ns) - Number(clockStart.boot_ns),
    bytes,
    chunks: nChunks,
    records,
    totals,
    endReason,
    childExit: child?.exit,
    ...(childStopped && {childStopped}),
    ...(control.bySignal && {stoppedBy: control.bySignal}),
    followOverflow,
    ...(hasher && {hashes: hasher.stats}),
  };
}

/** 268435456 → "256M", as the size flags take it. */
function sizeText(n: number): string {
  for (const [unit, m] of [['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) if (n >= m && n % m === 0) return `${n / m}${unit}`;
  return `${n} bytes`;
}

/** 3600000 → "1h", as the duration flags take it. */
function durationText(ms: number): string {
  for (const [unit, m] of [['h', 3600000], ['m', 60000], ['s', 1000]] as const) if (ms >= m && ms % m === 0) return `${ms / m}${unit}`;
  return `${ms}ms`;
}

/** The et_snap records of one snapshot_tasks run, by pid (offsets from the object's BTF). */
function taskIdentities(b: Buffer, l: RecordLayout): Map<number, TaskIdentity> {
  const at = (name: string): number => {
    const f = l.fields.find((x) => x.name === name);
    if (!f) throw new Error(`bpf object: ${l.name} has no field ${name}`);
    return f.offset;
  };
  const [pid, ppid, start, seq, pstart, pseq] = ['pid', 'ppid', 'start_ns', 'exec_seq', 'parent_start_ns', 'parent_exec_seq'].map(at);
  const out = new Map<number, TaskIdentity>();
  for (let o = 0; o + l.size <= b.length; o += l.size) {
    out.set(b.readUInt32LE(o + pid), {
      ppid: b.readUInt32LE(o + ppid),
      start_ns: helpers.u64(b, o + start),
      exec_seq: helpers.u64(b, o + seq),
      parent_start_ns: helpers.u64(b, o + pstart),
      parent_exec_seq: helpers.u64(b, o + pseq),
    });
  }
  return out;
}
