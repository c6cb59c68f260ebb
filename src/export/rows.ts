// One event → one row of the events table (src/export/schema.ts). Every column gets
// exactly one value or null per row, in schema order; absent fields are nulls. The hot
// path allocates nothing for a syscall beyond the JSON text of its arguments.

import {displayText} from '../decode/text';
import type {WallClock} from '../util/time';
import type {Decoder} from '../decode';
import type {SyscallParts} from '../decode/syscalls';
import {symbolsOf} from '../decode/symbolic';
import type {Arch} from '../decode/constants';
import {toJson} from '../util/json';
import type {ColumnData, ParquetWriter} from '../parquet';
import type {TraceEvent} from '../api/events';
import {EVENT_FIELDS} from './schema';

type Any = Record<string, unknown>;

/** The leaf index of every top-level column (a struct's children follow its first). */
const LEAF: Record<string, number> = {};
{
  let j = 0;
  for (const f of EVENT_FIELDS) {
    LEAF[f.name] = j;
    j += 'struct' in f ? f.struct.length : 1;
  }
}
const NS_KEYS = ['pid', 'mnt', 'net', 'uts', 'ipc', 'user', 'cgroup'];
const FILE_KEYS: [string, 'i32' | 'i64' | 'ts'][] = [
  ['dev', 'i64'], ['ino', 'i64'], ['mode', 'i32'], ['uid', 'i64'], ['gid', 'i64'], ['size', 'i64'], ['mtime', 'ts'], ['ctime', 'ts'], ['nlink', 'i64'],
];

/** TimeParser turns RFC 3339 times (`YYYY-MM-DDTHH:MM:SS[.fffffffff]Z`) into ns since the epoch in an int64 column. */
export class TimeParser {
  private prefix = '';
  /** Seconds of `prefix` × 1953125 (= seconds × 1e9 / 512), exact in a double. */
  private scaled = 0;

  /** put writes s's time into c, or null when s is not an RFC 3339 UTC time. */
  put(c: ColumnData, s: unknown, nullDef = 0): void {
    if (typeof s !== 'string' || s.length < 20) return c.null(nullDef);
    if (!s.startsWith(this.prefix) || this.prefix === '') {
      const p = s.slice(0, 19);
      const ms = Date.parse(p + 'Z');
      if (Number.isNaN(ms)) return c.null(nullDef);
      this.prefix = p;
      this.scaled = (ms / 1000) * 1953125;
    }
    let frac = 0;
    if (s.charCodeAt(19) === 46 /* . */) {
      let digits = 0;
      for (let i = 20; i < s.length && digits < 9; i++, digits++) {
        const d = s.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        frac = frac * 10 + d;
      }
      for (; digits < 9; digits++) frac *= 10;
    }
    putScaled(c, this.scaled, frac);
  }
}

/** Writes seconds × 1e9 + nanos, given seconds × 1953125 (exact), as an int64, never leaving exact doubles. */
function putScaled(c: ColumnData, scaled: number, nanos: number): void {
  // ns = scaled × 512 + nanos, split into 32-bit halves.
  let hi = Math.floor(scaled / 0x800000);
  let lo = (scaled - hi * 0x800000) * 512 + nanos;
  if (lo >= 0x100000000) {
    hi += Math.floor(lo / 0x100000000);
    lo %= 0x100000000;
  }
  c.int64Parts(lo, hi);
}

/** The wall-clock time of a boot-clock time, by the file's clock pair, into an int64 column. */
function putBootTime(c: ColumnData, clock: WallClock, ts: unknown): void {
  if (typeof ts !== 'number') return c.null();
  putScaled(c, clock.secondsOf(ts) * 1953125, clock.nanosOf(ts));
}

/** Text → string: UTF-8 as it is, other bytes as \xNN (as decode shows them). */
const text = (v: unknown): string => (typeof v === 'string' ? v : displayText(v));

const i32 = (c: ColumnData, v: unknown): void => {
  if (typeof v === 'number') c.int32(v);
};
const i64 = (c: ColumnData, v: unknown): void => {
  if (typeof v === 'number' || typeof v === 'bigint') c.int64(v);
};
const bool = (c: ColumnData, v: unknown): void => {
  if (typeof v === 'boolean') c.bool(v);
};
const str = (c: ColumnData, v: unknown): void => {
  if (typeof v === 'string') c.str(v);
  else if (v !== undefined && v !== null) c.str(text(v));
};
/** Whether an object has no keys of its own (a call without arguments: `{}`). */
function isEmpty(v: object): boolean {
  for (const _ in v) return false;
  return true;
}
const json = (c: ColumnData, v: unknown): void => {
  if (v === undefined || v === null) return;
  c.str(typeof v === 'object' && !Array.isArray(v) && isEmpty(v) ? '{}' : toJson(v));
};
const list = (c: ColumnData, v: unknown): void => {
  if (!Array.isArray(v)) return;
  if (v.length === 0) return c.null(1, 0);
  for (let k = 0; k < v.length; k++) c.str(text(v[k]), k === 0 ? 0 : 1);
};

/** The columns by name: one object of fixed shape, so that every access is a plain field load. */
type Cols = Record<string, ColumnData>;

/**
 * EventRows writes trace events as rows of the events table into a ParquetWriter. Each
 * event type writes its own columns; a column a row does not write is null there (the
 * writer pads it), so a syscall row costs its ~30 columns, not all of them.
 */
export class EventRows {
  private readonly time = new TimeParser();
  private readonly k: Cols;
  private readonly ns: ColumnData[];
  private readonly file: ColumnData[];

  /** `clock` gives the time of events whose `time` is '' (Trace.forEach with times: false), from ts_ns. */
  constructor(readonly w: ParquetWriter, private readonly host: string | null, private readonly bootId: string | null, private readonly clock: WallClock | null = null) {
    // fromEntries makes an object of fast properties; one filled key by key would turn into
    // a dictionary past a dozen keys, and every column access into a hash lookup.
    this.k = Object.fromEntries(Object.entries(LEAF).map(([name, j]) => [name, w.leaf(j)]));
    this.ns = NS_KEYS.map((_, i) => w.leaf(LEAF.ns + i));
    this.file = FILE_KEYS.map((_, i) => w.leaf(LEAF.file + i));
    const k = this.k;
    this.runCols = [k.type, k.host, k.boot_id, k.exec_id, k.parent_exec_id, k.pid, k.tid, k.ppid, k.uid, k.gid, k.euid, k.egid, k.loginuid,
      k.sessionid, k.comm, k.cgroup_id, k.cgroup, k.container_id, ...this.ns];
    w.beforeFlush = () => this.settle();
  }

  // A run: syscall rows of one thread in a row, whose context (the decoder's TaskContext, an
  // object replaced, never changed, when the context changes) is the same object. Their
  // context columns repeat the run's base row, and are written once per run (settle).
  private readonly runCols: ColumnData[];
  private runCtx: object | null = null;
  private runPid = -1;
  private runTid = -1;
  private runStart = 0;
  private run = 0;

  /** settle writes the context columns of the rows of the current run; the next row starts afresh. */
  settle(): void {
    if (this.run > 0) for (const c of this.runCols) c.again(this.run, this.runStart);
    this.run = 0;
    this.runCtx = null;
  }

  /**
   * addParts writes a syscall from the decoder's parts (Trace.forEach's `syscall`), as
   * add() writes the event SyscallDecoder.event builds of them, without building it.
   */
  addParts(p: SyscallParts, d: Decoder): boolean {
    if (!this.clock || p.malformed) return false;
    const k = this.k;
    const c = p.ctx;
    if (c === this.runCtx && p.pid === this.runPid && p.tid === this.runTid) {
      if (this.run++ === 0) this.runStart = this.w.groupRow;
    } else {
      this.settle();
      this.context(p);
      this.runCtx = c;
      this.runPid = p.pid;
      this.runTid = p.tid;
    }
    putBootTime(k.time, this.clock, p.ts_ns);
    i64(k.ts_ns, p.ts_ns);
    i32(k.cpu, p.cpu);
    str(k.syscall, p.syscall);
    i32(k.nr, p.nr);
    const args = p.args;
    if (args !== null) {
      if (isEmpty(args)) k.args.str('{}');
      else {
        k.args.str(toJson(args));
        json(k.sym, symbolsOf(p.plan, args, d.arch as Arch));
      }
    }
    i64(k.ret, p.ret);
    str(k.errno, p.errno);
    i64(k.duration_ns, p.duration_ns);
    if (p.fd_paths !== null) json(k.fd_paths, p.fd_paths.object());
    if (p.paths !== null) json(k.paths, p.paths.object());
    str(k.incomplete, p.incomplete);
    if (p.in_flight) k.in_flight.bool(true);
    list(k.cut, p.cut);
    if (p.implicit) k.implicit.bool(true);
    this.w.endRow();
    return true;
  }

  /** The context columns of a syscall row (runCols): its type, host, task and namespaces. */
  private context(p: SyscallParts): void {
    const k = this.k;
    const c = p.ctx;
    k.type.str('syscall');
    if (this.host !== null) k.host.str(this.host);
    if (this.bootId !== null) k.boot_id.str(this.bootId);
    str(k.exec_id, c.exec_id);
    str(k.parent_exec_id, c.parent_exec_id);
    i32(k.pid, p.pid);
    i32(k.tid, p.tid);
    i32(k.ppid, c.ppid);
    i64(k.uid, c.uid);
    i64(k.gid, c.gid);
    i64(k.euid, c.euid);
    i64(k.egid, c.egid);
    i64(k.loginuid, c.loginuid);
    i64(k.sessionid, c.sessionid);
    str(k.comm, c.comm);
    i64(k.cgroup_id, c.cgroup_id);
    str(k.cgroup, c.cgroup);
    str(k.container_id, c.container_id);
    const ns = c.ns;
    if (ns && typeof ns === 'object') {
      for (let i = 0; i < NS_KEYS.length; i++) {
        const v = ns[NS_KEYS[i]];
        if (typeof v === 'number' || typeof v === 'bigint') this.ns[i].int64(v);
        else this.ns[i].null(1);
      }
    }
  }

  /** add writes one event as one row. */
  add(ev: TraceEvent): void {
    this.settle();
    const e = ev as unknown as Any;
    const k = this.k;
    const type = e.type as string;
    k.type.str(type);
    if (e.time === '' && this.clock) putBootTime(k.time, this.clock, e.ts_ns);
    else this.time.put(k.time, e.time);
    i64(k.ts_ns, e.ts_ns);
    if (this.host !== null) k.host.str(this.host);
    if (this.bootId !== null) k.boot_id.str(this.bootId);
    i32(k.cpu, e.cpu);
    bool(k.truncated, e.truncated);
    if (type === 'lost') {
      i32(k.nr, e.nr);
      str(k.lost_event, e.event);
      i64(k.count, e.count);
      this.time.put(k.window_start, e.window_start);
      this.time.put(k.window_end, e.window_end);
      k.queue.bool(e.queue === true);
      this.w.endRow();
      return;
    }
    str(k.exec_id, e.exec_id);
    str(k.parent_exec_id, e.parent_exec_id);
    str(k.prev_exec_id, e.prev_exec_id);
    i32(k.pid, e.pid);
    i32(k.tid, e.tid);
    i32(k.ppid, e.ppid);
    i64(k.uid, e.uid);
    i64(k.gid, e.gid);
    i64(k.euid, e.euid);
    i64(k.egid, e.egid);
    i64(k.loginuid, e.loginuid);
    i64(k.sessionid, e.sessionid);
    str(k.comm, e.comm);
    i64(k.cgroup_id, e.cgroup_id);
    str(k.cgroup, e.cgroup);
    str(k.container_id, e.container_id);
    const ns = e.ns as Any | undefined;
    if (ns && typeof ns === 'object') {
      for (let i = 0; i < NS_KEYS.length; i++) {
        const v = ns[NS_KEYS[i]];
        if (typeof v === 'number' || typeof v === 'bigint') this.ns[i].int64(v);
        else this.ns[i].null(1);
      }
    }
    if (type === 'syscall') {
      str(k.syscall, e.syscall);
      i32(k.nr, e.nr);
      json(k.args, e.args);
      i64(k.ret, e.ret);
      str(k.errno, e.errno);
      i64(k.duration_ns, e.duration_ns);
      json(k.sym, e.sym);
      json(k.fd_paths, e.fd_paths);
      json(k.paths, e.paths);
      str(k.incomplete, e.incomplete);
      bool(k.in_flight, e.in_flight);
      list(k.cut, e.cut);
      bool(k.implicit, e.implicit);
      this.w.endRow();
      return;
    }
    // process, exec, exec_failed, fork, exit, and any type to come: every field they may have.
    str(k.filename, e.filename);
    list(k.argv, e.argv);
    i32(k.argc, e.argc);
    i64(k.args_size, e.args_size);
    str(k.interp, e.interp);
    str(k.cwd, e.cwd);
    str(k.parent_comm, e.parent_comm);
    i32(k.old_tid, e.old_tid);
    this.time.put(k.start_time, e.start_time);
    str(k.sha256, e.sha256);
    const f = e.file as Any | undefined;
    if (f && typeof f === 'object') {
      for (let i = 0; i < FILE_KEYS.length; i++) {
        const [name, kind] = FILE_KEYS[i];
        const c = this.file[i];
        const v = f[name];
        if (kind === 'ts') this.time.put(c, v, 1);
        else if (typeof v === 'number' || typeof v === 'bigint') {
          if (kind === 'i32') c.int32(Number(v));
          else c.int64(v);
        } else c.null(1);
      }
    }
    bool(k.deleted, e.deleted);
    bool(k.memfd, e.memfd);
    bool(k.setuid, e.setuid);
    bool(k.setgid, e.setgid);
    bool(k.privileged, e.privileged);
    json(k.ancestors, e.ancestors);
    i32(k.error_code, e.error_code);
    i32(k.dfd, e.dfd);
    i32(k.at_flags, e.at_flags);
    str(k.syscall, e.syscall);
    str(k.errno, e.errno);
    i32(k.parent_tid, e.parent_tid);
    i64(k.clone_flags, e.clone_flags);
    i32(k.exit_code, e.exit_code);
    i32(k.signal, e.signal);
    bool(k.core_dumped, e.core_dumped);
    i64(k.running_time_ns, e.running_time_ns);
    i32(k.nr_threads, e.nr_threads);
    json(k.fds, e.fds);
    i32(k.fds_omitted, e.fds_omitted);
    this.w.endRow();
  }
}
