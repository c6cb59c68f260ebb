// record --stats-only: execve-tracker's mode. The exec programs count execs (and failed
// execs) per process and image name in a kernel hash map, and write no record; every
// interval the recorder takes the counts out of the map and hands them over; at the end,
// the totals over the whole run. No file, no ring buffer traffic.
//
// How an interval is read without losing or doubling an exec (bpf/exectrace.bpf.c, "record
// --stats-only"): the programs count into generation `gen`, which is part of the map's key.
// To close an interval the recorder flips `gen`, waits until every program that may have
// read the old value has returned (waitForPrograms: an RCU grace period), then reads the
// old generation's entries and deletes them; no program writes them any more, and the new
// interval's execs are in the other generation. At the end the programs are detached
// first (no program runs after detach returns), so the last read sees every exec.
//
// Linux-only, like the rest of src/record: the offline side never imports this.

import {recordLayout, type RecordLayout} from '../btf';
import {decodeText, type Text} from '../decode/text';
import {UsageError} from '../util/errors';
import {epochRfc3339} from '../util/time';
import {ET_EXEC, ET_EXEC_FAILED} from '../abi';
import {pos, type FieldPos} from './counters';
import {describeFilters, filterMapSizes, pidsFull, PIDS_MAX, resolveFilters, seedPids, type FilterOptions} from './filters';
import {loadNative, openTracer, type NativeBinding, type NativeTracer} from './native';
import {prepareObject} from './object';
import {checkBtf, checkKernel, checkRoot, ensureTracefs} from './preflight';
import {DEFAULT_OBJECT, resolveCommand, startCommand, type RunningCommand} from './recorder';
import {StopControl, stopCommand, type ChildExit} from './stop';
import {SYSCALL_PROGRAMS} from './types';

/** EXEC_COUNT_ENTRIES is how many (pid, name) pairs the kernel counts in one interval by default. */
export const EXEC_COUNT_ENTRIES = 16384;
/** TOTAL_PAIRS_MAX is how many (pid, name) pairs the totals keep; execs of pairs beyond are in the total, not listed. */
export const TOTAL_PAIRS_MAX = 65536;
/** Without membarrier, how long to wait for the programs still counting into the old generation. */
const GRACE_FALLBACK_MS = 100;

/** ExecCount is one process and image name: its execs in an interval (or the whole run). */
export interface ExecCount {
  pid: number;
  /** The image's name (comm): the new image's for an exec, the caller's for a failed one. */
  name: Text;
  /** Successful execs. */
  count: number;
  /** Execs that returned an error. */
  failed: number;
}

/** ExecCountInterval is what one interval counted (type `interval`), or the whole run (type `totals`). */
export interface ExecCountInterval {
  type: 'interval' | 'totals';
  /** RFC 3339 UTC: when the interval (or the run) began and ended. */
  start: string;
  end: string;
  /** Per process and name, most execs first, then by pid. */
  execs: ExecCount[];
  /** Successful execs counted by pid and name (the sum of `execs[].count`, and `unlisted` ones). */
  total: number;
  /** Failed execs counted by pid and name (the sum of `execs[].failed`, and `unlisted` ones). */
  failed: number;
  /** Execs and failed execs that could not be counted by pid and name (the kernel's table was full): in neither `total` nor `failed`. */
  overflow: number;
  /** Totals: intervals reported. */
  intervals?: number;
  /** Totals: execs and failed execs (in `total` and `failed`) of pairs beyond TOTAL_PAIRS_MAX, not listed in `execs`. */
  unlisted?: number;
  /** Totals: execs and failed execs the record-time filters left out. */
  filtered?: number;
  /** Totals: why counting stopped ("command exited", "signal SIGINT", "duration reached"). */
  end_reason?: string;
}

/** ExecCountOptions are record --stats-only's options. */
export interface ExecCountOptions {
  /** The interval in milliseconds (record --interval; default 2000). */
  intervalMs?: number;
  /** A command to run; counting stops when it exits (its exit status is in the summary). */
  command?: (string | Buffer)[];
  durationMs?: number;
  /** When counting stops before the command: SIGTERM, then SIGKILL this long after (default 2000). */
  killAfterMs?: number;
  /** The record-time filters (--pid, --follow, --pidns, --cgroup, --container, --uid, --comm). */
  filters?: FilterOptions;
  /** Stops counting as a signal would. */
  signal?: AbortSignal;
  /** (pid, name) pairs the kernel counts per interval before it overflows (default EXEC_COUNT_ENTRIES). */
  entries?: number;
  /** The BPF object (for development). */
  object?: string;
  /** Where progress lines go (stderr in the CLI). */
  log?: (line: string) => void;
  /** Each interval, once closed, in order. */
  onInterval?: (interval: ExecCountInterval) => void;
}

/** ExecCountSummary is what countExecs() resolves with. */
export interface ExecCountSummary {
  totals: ExecCountInterval;
  endReason: string;
  childExit?: ChildExit;
  childStopped?: 'SIGTERM' | 'SIGKILL';
  stoppedBy?: NodeJS.Signals;
  /** Processes --follow could not add (the kernel's set was full): their execs are missing. */
  followOverflow: number;
}

/** Where the map's key and value fields are (from the object's BTF). */
interface CountLayout {
  keySize: number;
  pid: FieldPos;
  gen: FieldPos;
  comm: FieldPos;
  execs: FieldPos;
  failed: FieldPos;
}

function countLayout(key: RecordLayout, value: RecordLayout): CountLayout {
  return {keySize: key.size, pid: pos(key, 'pid'), gen: pos(key, 'gen'), comm: pos(key, 'comm'), execs: pos(value, 'execs'), failed: pos(value, 'failed')};
}

/** The counts of one interval, keyed by pid and the comm's bytes. */
type Counts = Map<string, ExecCount>;

const KEY0 = Buffer.alloc(4);

/** The loaded object and the reads of exec_counts (see the opening comment). */
class ExecCounter {
  private gen = 0;
  /** exec_counts_full per generation, as last read (the per-CPU counters only grow). */
  private readonly full = [0, 0];

  constructor(private readonly tracer: NativeTracer, private readonly native: NativeBinding, private readonly l: CountLayout) {}

  /** Closes the interval: the programs count into the other generation from now on; returns the closed one's counts. */
  async flip(): Promise<{counts: Counts; overflow: number}> {
    const old = this.gen;
    this.gen ^= 1;
    const v = Buffer.alloc(4);
    v.writeUInt32LE(this.gen);
    this.tracer.mapUpdate('exec_count_gen', KEY0, v);
    if (!this.native.waitForPrograms()) await new Promise((r) => setTimeout(r, GRACE_FALLBACK_MS));
    return this.take(old);
  }

  /** After detach: every count left, of either generation. */
  rest(): {counts: Counts; overflow: number} {
    const a = this.take(0);
    const b = this.take(1);
    for (const [k, c] of b.counts) merge(a.counts, k, c);
    return {counts: a.counts, overflow: a.overflow + b.overflow};
  }

  /** Reads and deletes generation g's entries; the overflow counted in it since the last read. */
  private take(g: number): {counts: Counts; overflow: number} {
    const l = this.l;
    const dump = this.tracer.mapDump('exec_counts');
    const counts: Counts = new Map();
    for (let i = 0; i < dump.count; i++) {
      const key = dump.keys.subarray(i * dump.keySize, (i + 1) * dump.keySize);
      if (key.readUInt32LE(l.gen.offset) !== g) continue;
      const val = dump.values.subarray(i * dump.valueSize, (i + 1) * dump.valueSize);
      const pid = key.readUInt32LE(l.pid.offset);
      const comm = key.subarray(l.comm.offset, l.comm.offset + l.comm.size);
      const end = comm.indexOf(0);
      const name = comm.subarray(0, end < 0 ? comm.length : end);
      merge(counts, `${pid}/${name.toString('hex')}`, {
        pid, name: decodeText(name, 0, name.length),
        count: Number(val.readBigUInt64LE(l.execs.offset)), failed: Number(val.readBigUInt64LE(l.failed.offset)),
      });
      this.tracer.mapDelete('exec_counts', Buffer.from(key));
    }
    // Per CPU, per generation, a u64 that only grows: what grew since the last read.
    const raw = this.tracer.counters('exec_counts_full');
    const cpus = this.tracer.nrCpus;
    let sum = 0;
    for (let c = 0; c < cpus; c++) sum += Number(raw.readBigUInt64LE((g * cpus + c) * 8));
    const overflow = sum - this.full[g];
    this.full[g] = sum;
    return {counts, overflow};
  }

  /** Execs and failed execs the filters left out (the `counters` map, summed over CPUs). */
  filtered(counter: RecordLayout): number {
    const raw = this.tracer.counters('counters');
    const cpus = this.tracer.nrCpus;
    const stride = Math.ceil(counter.size / 8) * 8;
    const at = pos(counter, 'filtered').offset;
    let n = 0;
    for (const type of [ET_EXEC, ET_EXEC_FAILED]) {
      for (let c = 0; c < cpus; c++) n += Number(raw.readBigUInt64LE((type * cpus + c) * stride + at));
    }
    return n;
  }
}

function merge(into: Counts, key: string, c: ExecCount): void {
  const had = into.get(key);
  if (had) {
    had.count += c.count;
    had.failed += c.failed;
  } else {
    into.set(key, {...c});
  }
}

/** Most execs first, then failed execs, then by pid (and name). */
function sorted(counts: Iterable<ExecCount>): ExecCount[] {
  return [...counts].sort((a, b) => b.count - a.count || b.failed - a.failed || a.pid - b.pid ||
    (JSON.stringify(a.name) < JSON.stringify(b.name) ? -1 : JSON.stringify(a.name) > JSON.stringify(b.name) ? 1 : 0));
}

function interval(type: 'interval' | 'totals', start: bigint, end: bigint, counts: Iterable<ExecCount>, overflow: number): ExecCountInterval {
  const execs = sorted(counts);
  return {
    type, start: epochRfc3339(start), end: epochRfc3339(end), execs,
    total: execs.reduce((a, c) => a + c.count, 0), failed: execs.reduce((a, c) => a + c.failed, 0), overflow,
  };
}

/**
 * countExecs is `exectrace record --stats-only`: it loads the programs in counting mode
 * (root), counts execs per process and name for `intervalMs` at a time, hands each interval
 * to onInterval, and resolves with the totals when the command exits, `durationMs` passes,
 * `signal` aborts, or SIGINT/SIGTERM/SIGHUP arrive. Errors a user can fix are UsageError
 * and UserError, one line each. Main thread.
 */
export async function countExecs(o: ExecCountOptions): Promise<ExecCountSummary> {
  const log = o.log ?? (() => {});
  const intervalMs = o.intervalMs ?? 2000;
  if (!Number.isFinite(intervalMs) || intervalMs < 10) throw new UsageError(`--interval: at least 10ms (got ${intervalMs}ms)`);
  const entries = o.entries ?? EXEC_COUNT_ENTRIES;
  if (!Number.isSafeInteger(entries) || entries < 1 || entries > 1 << 22) throw new UsageError(`stats-only entries: 1 to ${1 << 22} (got ${entries})`);
  checkRoot();
  checkKernel();
  checkBtf();
  const tracefs = ensureTracefs();
  const command = o.command && o.command.length ? o.command.map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(a))) : undefined;
  const program = command ? resolveCommand(command[0]) : undefined;
  const filters = resolveFilters({...o.filters}, command !== undefined);
  const obj = prepareObject({object: o.object ?? DEFAULT_OBJECT, maxArgs: 256, maxArgBytes: 32 * 1024, statsOnly: true}, filters, tracefs, log);
  const layout = countLayout(recordLayout(obj.btf, 'et_exec_count_key'), recordLayout(obj.btf, 'et_exec_count'));
  const native = loadNative();
  const tracer = openTracer({
    object: obj.path,
    rodata: obj.rodata,
    // Nothing goes through the ring in this mode: the smallest one.
    ringBytes: native.pageSize,
    disable: SYSCALL_PROGRAMS,
    // Both generations' entries can be in the map at once, for a moment.
    maxEntries: {...filterMapSizes(filters), exec_counts: 2 * entries},
  }, native);
  const counter = new ExecCounter(tracer, native, layout);
  const control = new StopControl(o.signal);
  const totals: Counts = new Map();
  const unlisted = {count: 0, failed: 0};
  let overflowTotal = 0;
  let intervals = 0;
  let child: RunningCommand | undefined;
  let childStopped: 'SIGTERM' | 'SIGKILL' | undefined;
  let timer: NodeJS.Timeout | undefined;
  let followOverflow = 0;
  let filtered = 0;
  const now = (): bigint => BigInt(native.clocks().realtime_ns);
  // Counting starts at attach.
  let runStart = 0n;
  let start = 0n;
  const hand = (counts: Counts, overflow: number, end: bigint): void => {
    for (const [k, c] of counts) {
      if (totals.has(k) || totals.size < TOTAL_PAIRS_MAX) {
        merge(totals, k, c);
      } else {
        unlisted.count += c.count;
        unlisted.failed += c.failed;
      }
    }
    overflowTotal += overflow;
    intervals++;
    o.onInterval?.(interval('interval', start, end, counts.values(), overflow));
    start = end;
  };
  let reading: Promise<void> = Promise.resolve();
  let attached = false;
  try {
    tracer.attach();
    attached = true;
    runStart = start = now();
    seedPids(tracer, filters);
    control.listen();
    const every = intervalMs % 1000 ? `${intervalMs}ms` : `${intervalMs / 1000}s`;
    log(`counting execs every ${every} by pid and name; no file is written, no event recorded`);
    const described = describeFilters(filters);
    if (described) log(described.replace(/^recording only/, 'counting only'));
    if (o.durationMs !== undefined) control.stopAfter(o.durationMs);
    // Each tick at start + k × interval, whatever a read took.
    const t0 = Date.now();
    let k = 0;
    const tick = (): void => {
      k++;
      timer = setTimeout(() => {
        reading = reading.then(async () => {
          if (control.reason) return;
          // The interval ends when the generation flips.
          const end = now();
          const r = await counter.flip();
          hand(r.counts, r.overflow, end);
        }).catch((err: Error) => control.stop(`read error: ${err.message}`));
        tick();
      }, Math.max(0, t0 + k * intervalMs - Date.now()));
    };
    tick();
    if (command && program) child = startCommand(native, program, command, control, log);
    await control.stopped;
  } finally {
    // The command first, while counting goes on: its last execs belong in the totals.
    if (child?.done && child.pid !== undefined && child.exit === undefined) {
      childStopped = await stopCommand(child.pid, child.done, control.bySignal === 'SIGINT', o.killAfterMs ?? 2000, (f) => control.onHurry(f));
    }
    if (timer) clearTimeout(timer);
    control.close();
    try {
      await reading;
      // Only after a start: otherwise the error that ended it is the one to report.
      if (attached) {
        // No program runs once detach returns: what the map holds now is every exec.
        tracer.detach();
        const end = now();
        const r = counter.rest();
        hand(r.counts, r.overflow, end);
        followOverflow = filters.follow ? pidsFull(tracer) : 0;
        filtered = counter.filtered(obj.layouts.et_counter);
      }
    } finally {
      tracer.close();
    }
  }
  const endReason = (control.reason ?? 'stopped') + (childStopped ? `; the command was stopped with ${childStopped}` : '');
  if (followOverflow) {
    log(`warning: ${followOverflow} processes could not be followed (the kernel's set of ${PIDS_MAX} processes was full): ` +
      'their execs are missing; narrow --pid/--follow');
  }
  const t = interval('totals', runStart, start, totals.values(), overflowTotal);
  // The totals count every exec, those of pairs they could not list too.
  t.total += unlisted.count;
  t.failed += unlisted.failed;
  return {
    totals: {...t, intervals, unlisted: unlisted.count + unlisted.failed, filtered, end_reason: endReason},
    endReason, childExit: child?.exit, ...(childStopped && {childStopped}), ...(control.bySignal && {stoppedBy: control.bySignal}), followOverflow,
  };
}
