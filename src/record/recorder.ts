// `record`: load the BPF object, attach, and copy raw ring-buffer records into a trace file
// in large zstd chunks. The hot path never builds an object per event, nor reads one:
// batches arrive from the addon's drain thread as whole buffers of frames with a summary
// the drain made while it copied them (frames per type and the time span, read through
// the header layout taken from the object's BTF), and become chunks — a full batch as it
// is, smaller ones copied together. Lost-event counters are polled on the flush timer and
// turned into `lost` records at the point in the stream where the loss was seen.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import {btfFromElf, recordLayout, recordLayouts, rodataImage, rodataDefaults, RecordLayout} from '../btf';
import {createExclusive, removeForOverwrite, TraceWriter} from '../format';
import {BatchSummary, ChildStatus, loadNative, NativeBinding, NativeTracer, openTracer, packageRoot, SUMMARY_TYPES} from './native';
import {cgroupPaths, hostInfo, processIds, snapshotProcesses, tgidOf} from './procfs';
import {textOrBytes} from '../util/bytes';
import {decodeText, displayText} from '../decode/text';
import {checkBtf, checkKernel, checkRoot, ensureTracefs, exitHasGroupDead} from './preflight';
import {UserError} from '../util/errors';
import {RECORD_TYPES, STRUCTS, TRUNCATED_FLAG, LOST_TYPE_ID, SYS_ENTER_TYPE_ID, SYS_EXIT_TYPE_ID, SYSCALL_PROGRAMS, EXEC_SYSCALL_PROGRAMS, INFLIGHT_FLAG, NO_ENTER_FLAG, STASH_STRUCT, STASH_CALL, layoutsByStruct} from './types';
import {buildSyscallPlan, SyscallPlan} from '../syscalls';
import {describeFilters, filterMapSizes, filterMeta, filterRodata, FilterOptions, pidsFull, PIDS_MAX, resolveFilters, seedPids, writeFilterLists} from './filters';

export const PACKAGE_ROOT = packageRoot();
export const DEFAULT_OBJECT = path.join(PACKAGE_ROOT, 'bpf', 'exectrace.bpf.o');
const FORMAT_VERSION = '1.1';

export interface RecordOptions {
  /** The trace file; without it nothing is written (live mode only). */
  output?: string;
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

export interface TypeTotals {
  sent: number;
  lost: number;
  recorded: number;
  /** Records a record-time filter kept out of the ring buffer. */
  filtered: number;
}

export interface RecordSummary {
  output: string | null;
  durationNs: number;
  bytes: number;
  chunks: number;
  records: number;
  totals: Record<string, TypeTotals>;
  endReason: string;
  /** How the command ended (signal: its name, e.g. SIGTERM). */
  childExit?: {code: number | null; signal: string | null; core?: boolean};
  /** The signal record sent the command to stop it, when record stopped first (its exit is in the file). */
  childStopped?: 'SIGTERM' | 'SIGKILL';
  /** Processes --follow could not add (the kernel's set was full): their events are missing. */
  followOverflow: number;
}

function version(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

interface FieldPos {
  offset: number;
  size: number;
}

function pos(l: RecordLayout, name: string): FieldPos {
  const f = l.fields.find((x) => x.name === name);
  if (!f) throw new Error(`bpf object: ${l.name} has no field ${name}`);
  return {offset: f.offset, size: f.size};
}

function writeUint(b: Buffer, at: FieldPos, v: number | bigint): void {
  switch (at.size) {
    case 2: b.writeUInt16LE(Number(v), at.offset); break;
    case 4: b.writeUInt32LE(Number(v), at.offset); break;
    case 8: b.writeBigUInt64LE(BigInt(v), at.offset); break;
    default: throw new Error(`write field: unsupported size ${at.size}`);
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

/** The command as the metadata keeps it: strings where UTF-8, the exact bytes otherwise. */
function commandMeta(command: Buffer[]): (string | Uint8Array)[] {
  return command.map(textOrBytes);
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

/**
 * Creates the output (mode 0600) and takes a write lock on it, which every recorder checks:
 * with --force, a file another recorder is still writing is left alone instead of removed.
 */
function claimOutput(file: string, force: boolean, native: NativeBinding): ClaimedOutput {
  const lstat = (): fs.Stats | undefined => {
    try {
      return fs.lstatSync(file);
    } catch {
      return undefined;
    }
  };
  const old = lstat();
  if (old?.isFile()) {
    if (claimed.has(`${old.dev}:${old.ino}`)) throw busy(file, process.pid);
    let fd: number | undefined;
    try {
      fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    } catch {
      // unwritable: whoever holds it, it is not a recorder of ours writing it
    }
    if (fd !== undefined) {
      let holder: number;
      try {
        holder = native.lockFile(fd);
      } finally {
        fs.closeSync(fd); // drops the lock taken just to look
      }
      if (holder !== 0) throw busy(file, holder);
    }
  }
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

function signalName(n: number): string {
  return Object.entries(os.constants.signals).find(([, v]) => v === n)?.[0] ?? `signal ${n}`;
}

function statusOf(st: ChildStatus): NonNullable<RecordSummary['childExit']> {
  return st.signal !== null ? {code: null, signal: signalName(st.signal), core: st.core} : {code: st.code, signal: null};
}

/**
 * Stops the command when record ends first (--duration, a signal, a write error), so that
 * its exit is in the file: SIGTERM, then SIGKILL `killAfterMs` later, and waits for it. After
 * a SIGINT the command most likely had one too (the terminal signals the whole foreground
 * group): it gets `killAfterMs` to end on its own first. A second signal to record kills it
 * at once. Returns the last signal sent, if any.
 */
async function stopCommand(pid: number, done: Promise<void>, afterSigint: boolean, killAfterMs: number,
  onHurry: (f: () => void) => void): Promise<'SIGTERM' | 'SIGKILL' | undefined> {
  let ended = false;
  void done.then(() => (ended = true));
  let hurried = false;
  let cut: () => void = () => {};
  onHurry(() => {
    hurried = true;
    cut();
  });
  const within = async (ms: number): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((r) => {
      cut = r;
      timer = setTimeout(r, ms);
    })]);
    clearTimeout(timer);
  };
  const send = (sig: 'SIGTERM' | 'SIGKILL'): void => {
    try {
      process.kill(pid, sig);
    } catch {
      // gone meanwhile: wait() has or will have its status
    }
  };
  let sent: 'SIGTERM' | 'SIGKILL' | undefined;
  if (afterSigint && !hurried) await within(killAfterMs);
  if (!ended && !hurried) {
    send((sent = 'SIGTERM'));
    await within(killAfterMs);
  }
  if (!ended) {
    send((sent = 'SIGKILL'));
    await done;
  }
  return sent;
}

/** Every thread alive now (/proc/PID/task/TID), but those of this process. */
function liveThreads(): Uint32Array {
  const tids: number[] = [];
  for (const p of processIds()) {
    if (p === process.pid) continue;
    try {
      for (const t of fs.readdirSync(`/proc/${p}/task`)) if (/^\d+$/.test(t)) tids.push(Number(t));
    } catch {
      // exited meanwhile
    }
  }
  return Uint32Array.from(tids);
}

export async function record(opts: RecordOptions): Promise<RecordSummary> {
  const log = opts.log ?? (() => {});
  checkRoot();
  checkKernel();
  checkBtf();
  const tracefs = ensureTracefs();
  if (opts.output !== undefined) {
    const outDir = path.dirname(path.resolve(opts.output));
    try {
      fs.accessSync(outDir, fs.constants.W_OK);
    } catch {
      throw new UserError(`output directory ${outDir} is not writable (or does not exist)`);
    }
  }

  const command = opts.command && opts.command.length ? opts.command.map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(a))) : undefined;
  const program = command ? resolveCommand(command[0]) : undefined;
  const filters = resolveFilters({...opts.filters, syscall: opts.syscalls === 'all' ? [] : opts.syscalls}, command !== undefined);

  const objectPath = opts.object ?? DEFAULT_OBJECT;
  const objBytes = fs.readFileSync(objectPath);
  const btf = btfFromElf(objBytes);
  const layouts = layoutsByStruct(recordLayouts(btf, STRUCTS));
  let plan: SyscallPlan | undefined;
  if (opts.syscalls !== undefined) {
    plan = buildSyscallPlan({
      names: opts.syscalls === 'all' ? undefined : opts.syscalls,
      maxStr: opts.maxStr ?? 4096,
      maxBytes: opts.bytes ?? 64,
      comm: filters.comm,
      tracefs,
      kernelBtf: '/sys/kernel/btf/vmlinux',
      objectBtf: btf,
    });
    for (const w of plan.warnings) log(w);
    if (opts.verbose) for (const n of plan.notes) log(n);
  }
  const rodataValues: Record<string, number> = {
    max_args: opts.maxArgs,
    max_arg_bytes: opts.maxArgBytes,
    trace_syscalls: plan ? 1 : 0,
    max_str: opts.maxStr ?? 4096,
    max_bytes: opts.bytes ?? 64,
    self_tgid: process.pid,
    exit_group_dead: exitHasGroupDead(tracefs) ? 1 : 0,
    ...filterRodata(filters),
  };
  const rodata = rodataImage(objBytes, rodataValues);
  writeFilterLists(rodata, objBytes, filters);
  const effective = {...rodataDefaults(objBytes), ...rodataValues};

  const header = layouts.et_header;
  const typeAt = pos(header, 'type');
  const tsAt = pos(header, 'ts_ns');
  const lostL = layouts.et_lost;
  const counterL = layouts.et_counter;
  const sentAt = pos(counterL, 'sent');
  const lostAt = pos(counterL, 'lost');
  const names = new Map(RECORD_TYPES.map((t) => [t.id, t.event]));
  // Records per type id: an array for the ids a u16 holds (a Map lookup per record costs
  // more than the rest of the scan), a Map for anything larger a layout could give.
  const recordedSmall = new Float64Array(1 << 16);
  const recordedLarge = new Map<number, number>();
  const recordedCounts = (): Map<number, number> => {
    const m = new Map<number, number>();
    recordedSmall.forEach((n, id) => {
      if (n) m.set(id, n);
    });
    for (const [id, n] of recordedLarge) m.set(id, (m.get(id) ?? 0) + n);
    return m;
  };
  let inflight = 0; // calls still open at stop, written as et_sys_enter records by the recorder

  const native = loadNative();
  // The output is created and locked before anything is loaded: a second recorder given the
  // same file fails here, at once, and the recording in progress keeps it.
  let output = opts.output !== undefined ? claimOutput(opts.output, !!opts.force, native) : undefined;
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
  let tracer: NativeTracer;
  try {
    tracer = openTracer({
      object: objectPath,
      rodata,
      ringBytes: opts.ringBytes,
      // Load only one of the two paths that see failed execs.
      disable: plan ? EXEC_SYSCALL_PROGRAMS : SYSCALL_PROGRAMS,
      maxEntries: filterMapSizes(filters),
    }, native);
  } catch (err) {
    dropOutput();
    throw err;
  }
  const host = hostInfo(native.pageSize);
  const cgroups = cgroupPaths();
  const clockStart = native.clocks();
  try {
    if (plan) {
      const key = Buffer.alloc(4);
      for (const [nr, desc] of plan.descs) {
        key.writeUInt32LE(nr);
        tracer.mapUpdate('sys_descs', key, desc);
      }
    }
  } catch (err) {
    tracer.close();
    dropOutput();
    throw err;
  }
  const nrCpus = tracer.nrCpus;
  let writer: TraceWriter | undefined;
  let childPid: number | undefined;
  let childDone: Promise<void> | undefined;
  let childStopped: RecordSummary['childStopped'];
  // The next chunk's frames, copied in batch by batch: one buffer reused for every chunk,
  // so the hot path neither allocates nor faults in fresh pages (the batch itself is freed
  // once copied). Grown, rarely, when a batch does not fit.
  let pending = Buffer.allocUnsafeSlow(opts.chunkBytes + (2 << 20));
  let pendingBytes = 0;
  let pendingRecords = 0;
  let pendingStamped = false; // firstTs/lastTs hold a span
  let firstTs = 0n;
  let lastTs = 0n;
  let totalRecords = 0;
  let prevPollNs = Number(clockStart.boot_ns);
  let writeError: Error | undefined;

  // Type ids the drain counts; a batch holding any other (or a frame too short for a
  // header) is read here instead.
  const summaryTypes = Math.min(SUMMARY_TYPES, Math.max(...RECORD_TYPES.map((t) => t.id)) + 1);

  /**
   * Takes one batch of frames from the drain. The batch may be a reused buffer: it is
   * written or copied before this returns.
   */
  const onDrainBatch = (batch: Buffer, summary?: BatchSummary): void => {
    if (!summary || summary.frames[2] !== 0) {
      onBatch(batch);
      return;
    }
    const counts = summary.counts;
    for (let t = 0; t < counts.length; t++) recordedSmall[t] += counts[t];
    const stamped = summary.frames[1] !== 0;
    take(batch, summary.frames[0], stamped, stamped ? summary.ts[0] : 0n, stamped ? summary.ts[1] : 0n);
  };

  /**
   * Takes one batch of frames, read here: from the drain when it could not summarize them,
   * or `synthesized` (lost and in-flight records the recorder writes itself), which go into
   * the file but are not counted as records the kernel sent.
   */
  const onBatch = (batch: Buffer, synthesized = false): void => {
    // One pass over the frames: count per type and keep the time span of the batch.
    let p = 0;
    const n = batch.length;
    let records = 0;
    let stamped = false;
    let first = 0n;
    let last = 0n;
    while (p + 4 <= n) {
      const len = batch.readUInt32LE(p);
      const o = p + 4;
      if (o + len > n) break; // the addon never splits a frame; stop rather than misread
      if (len >= header.size) {
        const t = typeAt.size === 2 ? batch.readUInt16LE(o + typeAt.offset) : batch.readUInt32LE(o + typeAt.offset);
        if (!synthesized || t === LOST_TYPE_ID) {
          if (t < 65536) recordedSmall[t]++;
          else recordedLarge.set(t, (recordedLarge.get(t) ?? 0) + 1);
        }
        else inflight++;
        const ts = batch.readBigUInt64LE(o + tsAt.offset);
        if (!stamped || ts < first) first = ts;
        if (ts > last) last = ts;
        stamped = true;
      }
      records++;
      p = o + len;
    }
    take(batch, records, stamped, first, last);
  };

  /** Queues a batch of `records` frames for the next chunk, or writes it as one when it is a chunk's worth. */
  const take = (batch: Buffer, records: number, stamped: boolean, first: bigint, last: bigint): void => {
    if (opts.onBatch) opts.onBatch(batch);
    if (!writer) {
      pendingRecords += records;
      return;
    }
    const n = batch.length;
    // A chunk overshoots chunkBytes by at most 1 MiB, as when batches were 1 MiB: a big
    // batch on top of a well-filled chunk goes into a chunk of its own.
    if (pendingBytes > 0 && pendingBytes + n > opts.chunkBytes + (1 << 20)) flush();
    if (pendingBytes === 0 && n >= opts.chunkBytes) {
      // A full batch from the drain is a chunk already: no copy.
      writeFrames(batch, records, first, last);
      return;
    }
    if (pendingBytes + n > pending.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(pending.length * 2, pendingBytes + n));
      pending.copy(grown, 0, 0, pendingBytes);
      pending = grown;
    }
    batch.copy(pending, pendingBytes);
    pendingBytes += n;
    pendingRecords += records;
    if (stamped) {
      if (!pendingStamped || first < firstTs) firstTs = first;
      if (last > lastTs) lastTs = last;
      pendingStamped = true;
    }
    if (pendingBytes >= opts.chunkBytes) flush();
  };

  /** One chunk; the frames were counted as they arrived (by the drain or onBatch), so the writer need not count them again. */
  const writeFrames = (frames: Buffer, records: number, first: bigint, last: bigint): void => {
    if (!writer || records === 0 || writeError) return;
    try {
      writer.writeChunk(frames, {records, firstTs: first, lastTs: last, counted: true});
    } catch (err) {
      writeError = err as Error;
      stop(`write error: ${(err as Error).message}`);
    }
    totalRecords += records;
  };

  const flush = (): void => {
    if (!writer || pendingRecords === 0 || writeError) return;
    writeFrames(pending.subarray(0, pendingBytes), pendingRecords, firstTs, lastTs);
    pendingBytes = 0;
    pendingRecords = 0;
    pendingStamped = false;
    firstTs = 0n;
    lastTs = 0n;
  };

  /** Per-key sums of a per-CPU counter map (`counters` by record type, `sys_counters` by syscall). */
  interface CounterSums {
    sent: number[];
    lost: number[];
    filtered: number[];
  }
  const prevLost = new Map<string, Float64Array>();
  const filteredAt = counterL.fields.some((f) => f.name === 'filtered') ? pos(counterL, 'filtered') : null;
  const stride = Math.ceil(counterL.size / 8) * 8; // the kernel rounds per-CPU values to 8 bytes

  /**
   * Reads one per-CPU counter map and appends a `lost` record (event type and syscall from
   * `lostOf(key)`) for every per-CPU lost counter that grew since the last poll.
   */
  const pollMap = (map: string, now: number, lostOf: (key: number) => [number, number]): CounterSums => {
    const raw = tracer.counters(map);
    const keys = raw.length / (nrCpus * stride);
    const sums: CounterSums = {sent: new Array(keys).fill(0), lost: new Array(keys).fill(0), filtered: new Array(keys).fill(0)};
    let prev = prevLost.get(map);
    if (!prev || prev.length !== keys * nrCpus) prevLost.set(map, (prev = new Float64Array(keys * nrCpus)));
    for (let k = 0; k < keys; k++) {
      for (let c = 0; c < nrCpus; c++) {
        const o = (k * nrCpus + c) * stride;
        const l = Number(raw.readBigUInt64LE(o + lostAt.offset));
        sums.sent[k] += Number(raw.readBigUInt64LE(o + sentAt.offset));
        sums.lost[k] += l;
        if (filteredAt) sums.filtered[k] += Number(raw.readBigUInt64LE(o + filteredAt.offset));
        const delta = l - prev[k * nrCpus + c];
        if (delta > 0) {
          prev[k * nrCpus + c] = l;
          const [eventType, nr] = lostOf(k);
          onBatch(lostFrame(c, eventType, nr, delta, now), true);
        }
      }
    }
    return sums;
  };

  const lostFrame = (cpu: number, eventType: number, nr: number, count: number, now: number): Buffer => {
    const frame = Buffer.alloc(4 + lostL.size);
    frame.writeUInt32LE(lostL.size, 0);
    const rec = frame.subarray(4);
    writeUint(rec, pos(lostL, 'hdr.type'), LOST_TYPE_ID);
    writeUint(rec, pos(lostL, 'hdr.size'), lostL.size);
    writeUint(rec, pos(lostL, 'hdr.ts_ns'), BigInt(now));
    writeUint(rec, pos(lostL, 'hdr.cpu'), cpu);
    writeUint(rec, pos(lostL, 'event_type'), eventType);
    if (lostL.fields.some((f) => f.name === 'nr')) writeUint(rec, pos(lostL, 'nr'), nr);
    writeUint(rec, pos(lostL, 'count'), BigInt(count));
    writeUint(rec, pos(lostL, 'window_start_ns'), BigInt(prevPollNs));
    writeUint(rec, pos(lostL, 'window_end_ns'), BigInt(now));
    return frame;
  };

  /** Polls every counter map; returns the sums (used for the trailer at the end). */
  const pollCounters = (): {types: CounterSums; sys: CounterSums | null} => {
    const now = Number(native.clocks().boot_ns);
    const types = pollMap('counters', now, (k) => [k, 0]);
    const sys = plan ? pollMap('sys_counters', now, (k) => [SYS_EXIT_TYPE_ID, k]) : null;
    prevPollNs = now;
    return {types, sys};
  };

  /**
   * Calls still open when recording stops never reach sys_exit: the per-thread stash holds
   * their entry, so each becomes an et_sys_enter marked in flight (ET_F_INFLIGHT), and decode
   * shows it as a call without an exit instead of dropping it.
   */
  const inflightCalls = (): void => {
    const st = recordLayout(btf, STASH_STRUCT);
    const enterL = layouts.et_sys_enter;
    const dump = tracer.taskStorage('sys_stash', liveThreads());
    const argsF = enterL.fields.find((f) => f.name === 'args');
    const stArgs = st.fields.find((f) => f.name === 'args');
    if (!argsF || !stArgs) throw new Error('bpf object: et_sys_enter or et_sys_stash has no args');
    for (let i = 0; i < dump.count; i++) {
      const v = dump.values.subarray(i * dump.valueSize, (i + 1) * dump.valueSize);
      if (v.readUInt32LE(pos(st, 'in_call').offset) !== STASH_CALL) continue;
      const tid = dump.keys.readUInt32LE(i * dump.keySize);
      const frame = Buffer.alloc(4 + enterL.size);
      frame.writeUInt32LE(enterL.size, 0);
      const rec = frame.subarray(4);
      writeUint(rec, pos(enterL, 'hdr.type'), SYS_ENTER_TYPE_ID);
      writeUint(rec, pos(enterL, 'hdr.flags'), INFLIGHT_FLAG);
      writeUint(rec, pos(enterL, 'hdr.size'), enterL.size);
      v.copy(rec, pos(enterL, 'hdr.ts_ns').offset, pos(st, 'enter_ts').offset, pos(st, 'enter_ts').offset + 8);
      writeUint(rec, pos(enterL, 'hdr.pid'), tgidOf(tid) ?? tid); // alive: it is inside a call
      writeUint(rec, pos(enterL, 'hdr.tid'), tid);
      writeUint(rec, pos(enterL, 'nr'), v.readUInt32LE(pos(st, 'nr').offset));
      v.copy(rec, argsF.offset, stArgs.offset, stArgs.offset + Math.min(argsF.size, stArgs.size));
      onBatch(frame, true);
    }
  };

  let stopping: string | undefined;
  let wake: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (wake = resolve));
  const stop = (reason: string): void => {
    if (stopping) return;
    stopping = reason;
    wake();
  };
  // A second signal while the command is being stopped: kill it now.
  let hurry: () => void = () => {};
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) hurry();
    stop(`signal ${sig}`);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  let timer: NodeJS.Timeout | undefined;
  let durationTimer: NodeJS.Timeout | undefined;
  let childExit: RecordSummary['childExit'];
  let endCounters: ReturnType<typeof pollCounters> | undefined;
  let followOverflow = 0;

  const onAbort = (): void => stop(String(opts.signal?.reason ?? 'stopped by the caller'));
  opts.signal?.addEventListener('abort', onAbort);
  try {
    for (const s of signals) process.on(s, onSignal);
    if (opts.signal?.aborted) onAbort();
    tracer.attach();
    tracer.start(onDrainBatch, {
      // A chunk's worth per batch (up to 4 MiB), so a full batch is written without a copy.
      batchBytes: Math.min(opts.chunkBytes, 4 << 20),
      flushMs: Math.min(opts.flushMs, 100),
      header: {size: header.size, typeOffset: typeAt.offset, typeSize: typeAt.size as 2 | 4, tsOffset: tsAt.offset, types: summaryTypes},
      // A live consumer may keep what it is given; the file alone never does.
      pool: opts.onBatch ? 0 : 4,
    });
    // After attach, so that no fork of a process being added is missed (see seedPids). With
    // --follow and a command, the recorder itself goes in: the kernel adds the command at its
    // fork, before it runs, so even its first event is kept — no wrapper, no handshake.
    seedPids(tracer, filters);
    // The snapshot is taken after attach: a process started in between shows up twice
    // (snapshot and exec), never not at all.
    const processes = snapshotProcesses(host.clk_tck);
    const meta = {
      exectrace: version(),
      format: FORMAT_VERSION,
      created: new Date().toISOString(),
      host: {...host, nr_cpus: nrCpus},
      clock: {start: clockStart},
      options: {
        ...effective,
        ring_bytes: opts.ringBytes,
        chunk_bytes: opts.chunkBytes,
        flush_ms: opts.flushMs,
        zstd_level: opts.level,
        command: command ? commandMeta(command) : null,
        duration_ms: opts.durationMs ?? null,
        object: path.basename(objectPath),
        object_sha256: require('node:crypto').createHash('sha256').update(objBytes).digest('hex'),
        filters: filterMeta(filters),
      },
      flags: {truncated: TRUNCATED_FLAG, no_enter: NO_ENTER_FLAG, inflight: INFLIGHT_FLAG},
      record_header: header,
      record_types: RECORD_TYPES.map((t) => ({...t, layout: layouts[t.struct]})),
      syscalls: plan ? plan.meta : null,
      counters: {struct: counterL, types: Object.fromEntries(RECORD_TYPES.map((t) => [t.id, t.event]))},
      cgroups,
      processes,
    };
    opts.onStart?.(meta);
    if (opts.output !== undefined) {
      writer = TraceWriter.create(opts.output, meta, {fd: (output as ClaimedOutput).fd, level: opts.level});
      log(`recording to ${opts.output} (${processes.length} processes alive at start)`);
    } else {
      log(`recording (live, no file; ${processes.length} processes alive at start)`);
    }
    const described = describeFilters(filters);
    if (described) log(described);
    else if (plan) {
      log(`recording the syscalls of every process on the system${command ? ', not only the command' : ''}: ` +
        '--follow keeps the command and its descendants (or --pid, --comm, --uid, --cgroup)');
    }

    timer = setInterval(() => {
      pollCounters();
      flush();
      writer?.syncSoon(); // fdatasync in the background: a power loss costs at most a tick or two
    }, opts.flushMs);
    if (opts.durationMs !== undefined) durationTimer = setTimeout(() => stop('duration reached'), opts.durationMs);
    if (command && program) {
      try {
        childPid = native.spawn(program, command);
      } catch (err) {
        const errno = (err as {errno?: number}).errno;
        childExit = {code: errno === os.constants.errno.ENOENT ? 127 : 126, signal: null};
        log(`cannot run ${printableArg(command[0])}: ${(err as Error).message}`);
        stop('command failed to start');
      }
      if (childPid !== undefined) {
        childDone = native.wait(childPid).then(
          (st) => {
            childExit = statusOf(st);
            stop('command exited');
          },
          (err) => {
            log(`lost track of the command: ${(err as Error).message}`);
            childExit = {code: null, signal: null};
            stop('command lost');
          },
        );
      }
    }
    await stopped;
  } finally {
    // The command's end belongs in the file: stop it first, while the drain still runs.
    if (childDone && !childExit) {
      childStopped = await stopCommand(childPid as number, childDone, stopping === 'signal SIGINT', opts.killAfterMs ?? 2000,
        (f) => (hurry = f));
    }
    if (timer) clearInterval(timer);
    if (durationTimer) clearTimeout(durationTimer);
    for (const s of signals) process.off(s, onSignal);
    opts.signal?.removeEventListener('abort', onAbort);
    if (!writer) dropOutput();
    try {
      // Detach before the last drain and the counters: a record sent after the drain would
      // be counted as sent, yet be neither in the file nor lost.
      tracer.detach();
      await tracer.stop();
      if (plan) inflightCalls();
      endCounters = pollCounters();
      if (filters.follow) followOverflow = pidsFull(tracer);
    } finally {
      tracer.close();
    }
  }
  flush();
  const clockEnd = native.clocks();
  const recorded = recordedCounts();
  const totals: Record<string, TypeTotals> = {};
  for (const t of RECORD_TYPES) {
    const c = endCounters?.types;
    totals[t.event] = {
      sent: t.id === LOST_TYPE_ID ? recorded.get(t.id) ?? 0 : c?.sent[t.id] ?? 0,
      lost: t.id === LOST_TYPE_ID ? 0 : c?.lost[t.id] ?? 0,
      recorded: recorded.get(t.id) ?? 0,
      filtered: t.id === LOST_TYPE_ID ? 0 : c?.filtered[t.id] ?? 0,
    };
  }
  if (followOverflow) {
    log(`warning: ${followOverflow} processes could not be followed (the kernel's set of ${PIDS_MAX} processes was full): ` +
      'their events are missing; narrow --pid/--follow');
  }
  // Per syscall: sys_exit records sent and lost, and calls a filter left out.
  const totalsSys: Record<string, {sent: number; lost: number; filtered: number}> = {};
  const sc = endCounters?.sys;
  if (plan && sc) {
    for (let nr = 0; nr < sc.sent.length; nr++) {
      if (!sc.sent[nr] && !sc.lost[nr] && !sc.filtered[nr]) continue;
      const name = plan.meta.table[String(nr)] ?? `syscall_${nr}`;
      totalsSys[name] = {sent: sc.sent[nr], lost: sc.lost[nr], filtered: sc.filtered[nr]};
    }
  }
  const endReason = (stopping ?? 'stopped') + (childStopped ? `; the command was stopped with ${childStopped}` : '');
  const records = [...recorded.values()].reduce((a, b) => a + b, 0) + inflight;
  let bytes = 0;
  let chunks = 0;
  if (writer) {
    chunks = writer.stats.chunks;
    try {
      if (writeError) throw writeError;
      writer.close({
        clock_end: clockEnd,
        chunks,
        records: totalRecords,
        totals,
        totals_sys: plan ? totalsSys : undefined,
        inflight_calls: plan ? inflight : undefined,
        end_reason: endReason,
        follow_overflow: filters.follow ? followOverflow : undefined,
        unknown_types: [...recorded.keys()].filter((k) => !names.has(k)),
      });
    } catch (err) {
      // The writer cut off the block it could not finish: the file ends at its last complete chunk.
      writer.destroy();
      if (output) releaseOutput(output, false);
      const {chunks: kept, records: keptRecords} = writer.stats;
      throw new UserError(`recording stopped: ${(err as Error).message}; ${opts.output} keeps its first ${kept} chunks ` +
        `(${keptRecords} records), without a trailer (exectrace recover can add one)`);
    }
    if (output) releaseOutput(output, false); // closed with the writer, and its lock with it
    bytes = fs.statSync(opts.output as string).size;
  }
  return {
    output: opts.output ?? null,
    durationNs: Number(clockEnd.boot_ns) - Number(clockStart.boot_ns),
    bytes,
    chunks,
    records,
    totals,
    endReason,
    childExit,
    ...(childStopped && {childStopped}),
    followOverflow,
  };
}
