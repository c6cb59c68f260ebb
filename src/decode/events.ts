// From raw records to the event model of PRODUCT.md: the generated readers give the
// fields; this adds what needs state or meaning — wall-clock time, errno and signal names,
// the argv limit in force when recording, the cgroup path, and the last known image of a
// process when it exits. Syscall records (entry, exit, task context) go to syscalls.ts,
// which pairs them into `syscall` events: so one record may complete zero, one or several
// events, and feed() emits them through a callback.

import {decodeText, sameText, type Text} from './text';
import {errnoName} from '../util/errno';
import {ET_F_INFLIGHT} from '../abi';
import {epochRfc3339, WallClock} from '../util/time';
import {Identities} from './identity';
import {containerIdOf} from './container';
import {checkLayout, checkRecordTypes, RecordLayout, RecordType} from './layout';
import {compileType, CompiledType, EVENT_ORDER, lastIds, RawEvent} from './records';
import {ExecHashes} from './hashes';
import {ArgInfo, fdDesc, SyscallDecoder, SyscallParts, SyscallSink, TaskContext} from './syscalls';
import {FD_FLAG_DEFAULTS, targetText, type FdFlagBits} from '../fds/target';
import {MAX_TABLE_FDS, type SnapshotFd} from '../fds/model';
import {ProcessTable} from '../processes/model';

export type TraceEvent = RawEvent & {time: string};

/** The parts of a file's metadata the decoder relies on (see formats/trace-format.md). */
export interface DecodeMeta {
  record_header: RecordLayout;
  record_types: RecordType[];
  clock: {start: {boot_ns: number | bigint; realtime_ns: number | bigint}};
  options?: {max_args?: number; hash?: unknown};
  host?: {boot_id?: string};
  /** et_exec.exec_flags: name → bit (formats/trace-format.md §10.5). */
  exec_flags?: Record<string, number>;
  flags?: {truncated?: number; no_enter?: number; in_flight?: number; inflight?: number; context?: number};
  /** et_fork.fork_flags and et_fd.fd_flags: name → bit (§10.5). */
  fork_flags?: Record<string, number>;
  fd_flags?: Record<string, number>;
  cgroups?: Record<string, string>;
  processes?: SnapshotProcess[];
  syscalls?: unknown;
  /** Present in a file written by `exectrace filter` (formats/trace-format.md §10.13). */
  filter?: {processes?: unknown};
}

/**
 * The one way from a file's metadata (TraceReader.meta, or what record() builds) to what
 * the Decoder takes. The parts the Decoder checks itself (record_header, record_types,
 * clock) are left to it, so its messages stay the same; the optional parts it only walks
 * are checked here, so damaged metadata is one line, not a TypeError from inside.
 */
export function decodeMeta(meta: Readonly<Record<string, unknown>>): DecodeMeta {
  const isMap = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
  for (const k of ['options', 'flags', 'cgroups', 'filter', 'exec_flags', 'host', 'fork_flags', 'fd_flags']) {
    if (meta[k] !== undefined && meta[k] !== null && !isMap(meta[k])) throw new Error(`bad metadata: ${k} is not a map`);
  }
  const ps = meta.processes;
  if (ps !== undefined && ps !== null && !(Array.isArray(ps) && ps.every(isMap))) throw new Error('bad metadata: processes is not a list of maps');
  return meta as unknown as DecodeMeta;
}

export interface SnapshotProcess {
  pid: number;
  ppid: number;
  comm: string;
  filename?: string | null;
  argv?: string[];
  start_time_ns?: number;
  [k: string]: unknown;
}

export interface DecodeCounts {
  records: number;
  decoded: number;
  unknownType: number;
  malformed: number;
}

interface Known {
  filename?: Text | null;
  argv?: Text[];
}


/** The record types syscalls.ts decodes, by their `event` name in record_types. */
const SYS_EVENTS = new Set(['sys_enter', 'sys_exit', 'task', 'fd']);

export type Emit = (e: TraceEvent) => void;

export class Decoder {
  readonly types = new Map<number, CompiledType>();
  readonly eventNames: string[] = [];
  readonly clock: WallClock;
  /** The layout of et_header every record starts with (validated). */
  readonly header: RecordLayout;
  readonly counts: DecodeCounts = {records: 0, decoded: 0, unknownType: 0, malformed: 0};
  /** Context records of a filtered file, decoded (counted in counts.decoded) but not shown. */
  contextRecords = 0;
  /** The event of the last context record, for a filter reading a filtered file. */
  lastContext: TraceEvent | null = null;
  /** The `context` header flag of a filtered file (formats/trace-format.md §10.5); 0: none. */
  readonly contextBit: number;
  private readonly flagsField: {offset: number; size: number} | undefined;
  private readonly typeField: {offset: number; size: number};
  private readonly sizeField: {offset: number; size: number} | undefined;
  private readonly maxArgs: number;
  private readonly cgroups: Map<number, string>;
  private readonly known = new Map<number, Known>();
  private readonly enums = new Map<string, Map<string, Record<string, string>>>();
  private readonly snapshotBootNs: number;
  /** exec_id and parent_exec_id (identity.ts). */
  readonly ids: Identities;
  /** An exec's sha256 from the hash record before it (hashes.ts); null when the file has none. */
  private readonly hashes: ExecHashes | null = null;
  private readonly execFlags: [string, number][];
  /** et_fork.fork_flags bits (0: the file does not have them). */
  private readonly forkBits: {files: number; fs: number};
  private readonly fdBits: FdFlagBits;
  private readonly sys: SyscallDecoder | null = null;
  private last: TraceEvent | null = null;
  private withTimes = true;
  private viewOf: Buffer | null = null;
  private view: DataView = new DataView(new ArrayBuffer(0));
  /** Records decoded, by type id. */
  private readonly byType: number[] = [];
  private readonly keepLast: Emit = (e) => {
    this.last = e;
  };
  /** The process table (src/processes) once trackProcesses() asked for one; null: none is kept, at no cost. */
  private table: ProcessTable | null = null;
  /** exec and exec_failed events get `ancestors` from the table. */
  private withAncestors = false;

  constructor(private readonly meta: DecodeMeta) {
    const header = checkLayout(meta.record_header, 'record_header');
    this.header = header;
    const tf = header.fields.find((f) => f.name === 'type');
    if (!tf || (tf.size !== 2 && tf.size !== 4 && tf.size !== 1)) throw new Error('bad metadata: record_header has no type field');
    this.typeField = tf;
    this.sizeField = header.fields.find((f) => f.name === 'size');
    const truncatedBit = Number(meta.flags?.truncated ?? 0) >>> 0;
    this.flagsField = header.fields.find((f) => f.name === 'flags' && (f.size === 1 || f.size === 2 || f.size === 4));
    this.contextBit = this.flagsField ? Number(meta.flags?.context ?? 0) >>> 0 : 0;
    const sysTypes = new Map<string, RecordType>();
    for (const rt of checkRecordTypes(meta.record_types)) {
      this.eventNames[rt.id] = rt.event;
      if (SYS_EVENTS.has(rt.event)) {
        sysTypes.set(rt.event, rt);
        continue;
      }
      const en = (meta.record_types.find((r) => r.id === rt.id) as unknown as {enums?: unknown}).enums;
      if (rt.event === 'hash') {
        const names = en && typeof en === 'object' ? (en as Record<string, unknown>).status : undefined;
        this.hashes = new ExecHashes(rt, header, names, meta.options?.hash != null);
        continue;
      }
      this.types.set(rt.id, compileType(rt, header, truncatedBit));
      if (en && typeof en === 'object') this.enums.set(rt.event, new Map(Object.entries(en as Record<string, Record<string, string>>)));
    }
    if (!meta.clock || !meta.clock.start) throw new Error('bad metadata: no clock');
    this.clock = new WallClock(meta.clock.start);
    this.snapshotBootNs = Number(meta.clock.start.boot_ns);
    const ma = meta.options?.max_args;
    this.maxArgs = typeof ma === 'number' && ma > 0 ? ma : Infinity;
    this.cgroups = new Map(Object.entries(meta.cgroups ?? {}).map(([k, v]) => [Number(k), String(v)]));
    this.ids = new Identities(meta.host?.boot_id);
    this.execFlags = Object.entries(meta.exec_flags ?? {}).filter(([k, v]) => EXEC_FLAG_NAMES.has(k) && typeof v === 'number') as [string, number][];
    const bit = (m: Record<string, number> | undefined, k: string, d: number): number => (m && typeof m[k] === 'number' ? m[k] >>> 0 : d);
    this.forkBits = {files: bit(meta.fork_flags, 'files', 0), fs: bit(meta.fork_flags, 'fs', 0)};
    const fl = meta.fd_flags;
    this.fdBits = {
      cloexec: bit(fl, 'cloexec', FD_FLAG_DEFAULTS.cloexec), deleted: bit(fl, 'deleted', FD_FLAG_DEFAULTS.deleted),
      path: bit(fl, 'path', FD_FLAG_DEFAULTS.path), path_truncated: bit(fl, 'path_truncated', FD_FLAG_DEFAULTS.path_truncated),
      name: bit(fl, 'name', FD_FLAG_DEFAULTS.name),
    };
    for (const p of meta.processes ?? []) this.known.set(p.pid, {filename: p.filename, argv: p.argv});
    if (sysTypes.size || meta.syscalls !== undefined) {
      const snapshot = new Map<number, TaskContext>();
      for (const p of meta.processes ?? []) {
        snapshot.set(p.pid, {
          ...this.ids.ofSnapshot(p),
          ppid: p.ppid, uid: p.uid as number, gid: p.gid as number, comm: p.comm, euid: p.euid as number,
          egid: p.egid as number, loginuid: p.loginuid as number, sessionid: p.sessionid as number,
          cgroup: typeof p.cgroup === 'string' ? p.cgroup : undefined, ns: p.ns as Record<string, number> | undefined,
          container_id: typeof p.cgroup === 'string' ? containerIdOf(p.cgroup) : undefined,
        });
      }
      const fl = meta.flags ?? {};
      const fdType = sysTypes.get('fd');
      this.sys = new SyscallDecoder({
        header, meta: meta.syscalls, clock: this.clock, cgroups: this.cgroups, snapshot, ids: this.ids,
        enter: sysTypes.get('sys_enter'), exit: sysTypes.get('sys_exit'), task: sysTypes.get('task'),
        // Descriptors are followed in a file that describes them (with syscalls, since exectrace has fd records).
        ...(fdType && meta.syscalls != null && meta.fd_flags !== undefined && {
          fd: fdType, fdFlags: this.fdBits, snapshotFds: (meta.processes ?? []).map((p) => snapshotFdsOf(p, this.fdBits)),
          // A filtered file holds some of the calls that changed descriptors: replaying them would mislead.
          fdReplay: meta.filter === undefined,
        }),
        flags: {
          noEnter: Number(fl.no_enter ?? 0) >>> 0,
          // The bit itself for files whose `flags` metadata does not name it.
          inFlight: Number(fl.in_flight ?? fl.inflight ?? ET_F_INFLIGHT) >>> 0,
        },
      });
    }
  }

  /**
   * Where syscall events go before they are built as objects (see SyscallSink); null: they
   * are always built and emitted. Set it only around a walk whose emit treats an event the
   * sink took and an event it emits alike (printing both, counting both).
   */
  get direct(): SyscallSink | null {
    return this.sys?.direct ?? null;
  }

  set direct(sink: SyscallSink | null) {
    if (this.sys) this.sys.direct = sink;
  }

  /**
   * The object of the syscall event a direct sink is handed (SyscallSink), as it would be
   * emitted; without its time string ('') when `times` is false.
   */
  syscallEvent(p: SyscallParts, times = this.withTimes): TraceEvent {
    return (this.sys as SyscallDecoder).event(p, times) as TraceEvent;
  }

  /**
   * Whether events get their `time` (RFC 3339) string. false: `time` is '' — for a walk
   * whose events are tested but never shown nor counted by time (filter -o without a
   * --where on time); everything else about the events is the same.
   */
  get times(): boolean {
    return this.withTimes;
  }

  set times(on: boolean) {
    this.withTimes = on;
    if (this.sys) this.sys.times = on;
  }

  /**
   * Whether the calls recorded implicitly (with --syscall, formats/trace-format.md §10.11)
   * are events: false (the default) leaves them to the descriptor model only, as the user
   * asked for other calls.
   */
  get implicit(): boolean {
    return this.sys?.showImplicit ?? false;
  }

  set implicit(on: boolean) {
    if (this.sys) this.sys.showImplicit = on;
  }

  /** Whether syscall nr was recorded implicitly. */
  isImplicit(nr: number): boolean {
    return this.sys?.isImplicit(nr) ?? false;
  }

  /** The names of the syscalls the file recorded implicitly (empty: none). */
  implicitNames(): Set<string> {
    return this.sys?.implicitNames() ?? new Set();
  }

  /** Whether descriptors are followed: syscall events then have fd_paths and paths (a file that describes them). */
  get followsFds(): boolean {
    return this.sys?.fds != null;
  }

  /**
   * Whether to follow descriptors (true by default, in a file that describes them): false
   * leaves syscall events without fd_paths and paths, and costs nothing (decode
   * --no-fd-paths). Set it before the first record.
   */
  set followsFds(on: boolean) {
    if (!on) this.sys?.dropFds();
  }

  /**
   * Records were skipped between two chunks (a damaged or missing one): what they would
   * have told the descriptor model is unknown, so it forgets what it knew.
   */
  gap(): void {
    this.sys?.onGap();
  }

  /** The architecture syscall numbers and flag values belong to (for human output). */
  get arch(): string {
    return this.sys?.arch ?? 'x86_64';
  }

  /** The argument descriptions of syscall nr, from the file. */
  argInfo(nr: number): readonly ArgInfo[] | undefined {
    return this.sys?.argInfo(nr);
  }

  /** Whether the captured struct `name` is a scalar read through a pointer (e.g. pipe2's int[2]). */
  scalarStruct(name: string): boolean {
    return this.sys?.scalarStruct(name) ?? false;
  }

  /**
   * The processes alive when recording started, as `process` events. A filtered file
   * (metadata `filter`) keeps the whole snapshot as context and names in `filter.processes`
   * the ones its filter kept: only those are shown.
   */
  processEvents(): TraceEvent[] {
    const out: TraceEvent[] = [];
    const shown = this.meta.filter?.processes;
    const only = Array.isArray(shown) ? new Set(shown) : null;
    for (const p of this.meta.processes ?? []) {
      if (only && !only.has(p.pid)) continue;
      const e: Record<string, unknown> = {type: 'process', time: this.clock.rfc3339(this.snapshotBootNs), ts_ns: this.snapshotBootNs};
      for (const [k, v] of Object.entries(p)) if (!SNAPSHOT_RAW.has(k)) e[k] = k === 'filename' || k === 'argv' || k === 'cwd' ? snapshotText(v) : v;
      // Descriptors as decode names them in calls: number → what it refers to.
      if (Array.isArray(p.fds)) e.fds = snapshotFdNames(p, this.fdBits);
      if (this.ids.boot !== null) Object.assign(e, this.ids.ofSnapshot(p));
      if (typeof p.cgroup === 'string') e.container_id = containerIdOf(p.cgroup);
      if (typeof p.start_time_ns === 'number') e.start_time = this.clock.rfc3339(p.start_time_ns);
      out.push(ordered(e) as TraceEvent);
    }
    return out;
  }

  /**
   * trackProcesses gives the process table (src/processes) this decoder keeps from now on, fed
   * every process record it decodes (a filtered file's context records too) before the
   * event is emitted, so any consumer of the events finds the table up to date with them.
   * With `ancestors`, exec and exec_failed events get `ancestors` from it. One table per
   * decoder: `--tree` and `--ancestors` read the same one. Call it before the first record.
   */
  trackProcesses(o: {ancestors?: boolean} = {}): ProcessTable {
    // A filtered file's context records may bring a fork after its parent's exit: the table keeps recent exits for it.
    this.table ??= new ProcessTable(this.meta.processes ?? [], {idsOf: (p) => this.ids.ofSnapshot(p), text: snapshotText}, this.contextBit !== 0);
    if (o.ancestors) this.withAncestors = true;
    return this.table;
  }

  /** The type id of a record, read through the header layout. */
  typeOf(b: Buffer, o: number): number {
    const f = this.typeField;
    // Through a DataView of the buffer (kept while records come from it): cheaper reads.
    const dv = b === this.viewOf ? this.view : this.newView(b);
    return f.size === 2 ? dv.getUint16(o + f.offset, true) : f.size === 4 ? dv.getUint32(o + f.offset, true) : dv.getUint8(o + f.offset);
  }

  private newView(b: Buffer): DataView {
    this.viewOf = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return this.view;
  }

  /**
   * Decodes one record of n bytes at b[o] and emits the events it completes: one for most
   * records, none for a task record or a syscall entry (its event waits for the exit), and
   * possibly several when it also settles calls that will never return. A record of an
   * unknown type or too short for its layout is counted and skipped.
   */
  feed(b: Buffer, o: number, n: number, emit: Emit): void {
    this.counts.records++;
    if (n < this.typeField.offset + this.typeField.size) {
      this.counts.malformed++;
      return;
    }
    const id = this.typeOf(b, o);
    const sys = this.sys;
    if (sys !== null && (id === sys.exitId || id === sys.enterId || id === sys.taskId || id === sys.fdId)) {
      if (n < sys.minSize(id)) {
        this.counts.malformed++;
        return;
      }
      if (id === sys.exitId) sys.exit(b, o, n, emit);
      else if (id === sys.enterId) sys.enter(b, o, n, emit);
      else if (id === sys.taskId) sys.taskRecord(b, o, n);
      else sys.fdRecord(b, o, n);
      this.counts.decoded++;
      this.byType[id] = (this.byType[id] ?? 0) + 1;
      return;
    }
    const t = this.types.get(id);
    if (!t) {
      if (this.hashes !== null && id === this.hashes.id) {
        // Not an event: what it says goes on the exec that follows.
        if (n < this.hashes.minSize) {
          this.counts.malformed++;
          return;
        }
        this.hashes.take(b, o);
        this.counts.decoded++;
        this.byType[id] = (this.byType[id] ?? 0) + 1;
        return;
      }
      this.counts.unknownType++;
      return;
    }
    if (n < t.minSize) {
      this.counts.malformed++;
      return;
    }
    const e = t.read(b, o, n) as TraceEvent;
    this.finish(e, emit);
    this.counts.decoded++;
    if (this.contextBit !== 0 && this.isContext(b, o)) {
      // A filtered file's context record: it sets what later events rely on (a process's
      // command line, a thread's context); its own event did not match, so it is not shown.
      this.contextRecords++;
      this.lastContext = e;
      return;
    }
    this.byType[id] = (this.byType[id] ?? 0) + 1;
    emit(e);
  }

  /** Whether the record at b[o] carries the `context` flag of a filtered file. */
  isContext(b: Buffer, o: number): boolean {
    const f = this.flagsField;
    if (this.contextBit === 0 || f === undefined) return false;
    const v = f.size === 2 ? b.readUInt16LE(o + f.offset) : f.size === 4 ? b.readUInt32LE(o + f.offset) : b.readUInt8(o + f.offset);
    return (v & this.contextBit) !== 0;
  }

  /** Records decoded so far per record type (event name), every known type included. */
  recordCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    this.eventNames.forEach((name, id) => {
      if (name) out[name] = this.byType[id] ?? 0;
    });
    return out;
  }

  /** End of the stream: syscalls still waiting for their exit are emitted as incomplete. */
  end(emit: Emit): void {
    this.sys?.end(emit);
  }

  /**
   * An exec's file and flags as the event model has them: `file` {dev, ino, mode, uid, gid,
   * size, mtime, ctime, nlink}, a boolean per flag, and `cwd` as a path (the kernel gives
   * its components from the cwd up), with `cwd_truncated` when leading ones are missing.
   */
  private execFile(e: TraceEvent): void {
    const bits = Number(e.exec_flags) >>> 0;
    delete e.exec_flags;
    const f = e.file as Record<string, number | bigint> | undefined;
    if (f) {
      e.file = {
        dev: f.dev, ino: f.ino, mode: f.mode, uid: f.uid, gid: f.gid, size: f.size,
        mtime: epochRfc3339(f.mtime_ns), ctime: epochRfc3339(f.ctime_ns), nlink: f.nlink,
      };
    }
    let cwdRead = false;
    for (const [name, bit] of this.execFlags) {
      const on = (bits & bit) !== 0;
      if (name === 'cwd') cwdRead = on;
      else if (name === 'cwd_truncated') {
        if (on) e.cwd_truncated = true;
      } else e[name] = on;
    }
    const parts = e.cwd as Text[] | undefined;
    if (parts !== undefined) e.cwd = cwdRead ? joinCwd(parts, e.cwd_truncated === true) : null;
  }

  /**
   * One record → its event, for callers that go record by record: the last event the
   * record completed, or null. Events it settled besides (calls that never returned) are
   * only seen through feed().
   */
  decode(b: Buffer, o: number, n: number): TraceEvent | null {
    this.last = null;
    this.feed(b, o, n, this.keepLast);
    return this.last;
  }

  private finish(e: TraceEvent, emit: Emit): void {
    if (e.exec_id !== undefined) this.ids.stamp(e);
    e.time = this.withTimes ? this.clock.rfc3339(e.ts_ns) : '';
    const cg = e.cgroup_id;
    if (typeof cg === 'number' && this.cgroups.has(cg)) {
      e.cgroup = this.cgroups.get(cg);
      e.container_id = containerIdOf(e.cgroup as string);
    }
    const en = this.enums.get(e.type);
    if (en) for (const [k, names] of en) if (e[k] !== undefined && names[String(e[k])]) e[k] = names[String(e[k])];
    switch (e.type) {
      case 'exec': {
        const argv = e.argv as Text[] | undefined;
        if (argv && argv.length > this.maxArgs) {
          argv.length = this.maxArgs;
          e.truncated = true;
        }
        if (argv && typeof e.argc === 'number' && argv.length < e.argc) e.truncated = true;
        if (e.interp !== undefined && sameText(e.interp, e.filename)) delete e.interp;
        if (e.exec_flags !== undefined) this.execFile(e);
        // lastIds: this record's process start and exec count, read with it.
        if (this.hashes !== null) this.hashes.stamp(e, lastIds[0], lastIds[1]);
        this.known.set(e.pid as number, {filename: e.filename as Text, argv});
        this.sys?.onExec(e, emit);
        break;
      }
      case 'exec_failed': {
        if (typeof e.error_code === 'number') e.errno = errnoName(e.error_code);
        break;
      }
      case 'fork': {
        const parent = this.known.get(e.ppid as number);
        if (parent) this.known.set(e.pid as number, parent);
        // What the child shares with its parent (formats/trace-format.md §10.5): read here, not shown.
        const shares = Number(e.fork_flags ?? 0) >>> 0;
        delete e.fork_flags;
        this.sys?.onFork(e, {files: (shares & this.forkBits.files) !== 0, fs: (shares & this.forkBits.fs) !== 0});
        break;
      }
      case 'exit': {
        const c = Number(e.exit_code) >>> 0;
        const sig = c & 0x7f;
        e.exit_code = (c >> 8) & 0xff;
        e.signal = sig === 0 ? null : sig;
        e.core_dumped = (c & 0x80) !== 0;
        const k = this.known.get(e.pid as number);
        if (k) {
          if (k.filename != null) e.filename = k.filename;
          if (k.argv) e.argv = k.argv;
        }
        this.known.delete(e.pid as number);
        this.sys?.onExit(e, emit);
        break;
      }
      case 'lost': {
        const name = this.eventNames[e.event_type as number];
        e.event = name ?? `type${e.event_type}`;
        this.sys?.onLost(name, e.nr);
        delete e.event_type;
        delete e.pid;
        delete e.tid;
        if (typeof e.window_start_ns === 'number') e.window_start = this.clock.rfc3339(e.window_start_ns);
        if (typeof e.window_end_ns === 'number') e.window_end = this.clock.rfc3339(e.window_end_ns);
        break;
      }
    }
    const table = this.table;
    if (table !== null && e.type !== 'lost') {
      const p = table.step(e);
      if (p !== null && this.withAncestors && (e.type === 'exec' || e.type === 'exec_failed')) e.ancestors = table.ancestors(p);
    }
  }
}

/** A snapshot process's descriptors (metadata `fds`, formats/trace-format.md §10.10) for the model. */
function snapshotFdsOf(p: SnapshotProcess, bits: FdFlagBits): {pid: number; fds: SnapshotFd[] | undefined; omitted: number; cwd: Text | null} {
  const cwd = snapshotText(p.cwd);
  const omitted = typeof p.fds_omitted === 'number' && p.fds_omitted > 0 ? p.fds_omitted : 0;
  if (!Array.isArray(p.fds)) return {pid: p.pid, fds: undefined, omitted, cwd: typeof cwd === 'string' || isText(cwd) ? (cwd as Text) : null};
  const fds: SnapshotFd[] = [];
  for (const f of p.fds.slice(0, MAX_TABLE_FDS)) {
    if (typeof f !== 'object' || f === null || typeof (f as {fd?: unknown}).fd !== 'number') continue;
    const r = f as Record<string, unknown>;
    fds.push({fd: r.fd as number, cloexec: (Number(r.fd_flags) & bits.cloexec) !== 0, desc: fdDesc(r)});
  }
  return {pid: p.pid, fds, omitted: omitted + Math.max(0, p.fds.length - MAX_TABLE_FDS), cwd: isText(cwd) ? cwd : null};
}

/** A snapshot process's descriptors as its `process` event shows them: {"0": "/dev/null<char 1:3>", …}. */
function snapshotFdNames(p: SnapshotProcess, bits: FdFlagBits): Record<string, Text | null> {
  const out: Record<string, Text | null> = {};
  for (const f of snapshotFdsOf(p, bits).fds ?? []) out[String(f.fd)] = targetText(f.desc, bits);
  return out;
}

const isText = (v: unknown): v is Text => typeof v === 'string' || (typeof v === 'object' && v !== null && typeof (v as {base64?: unknown}).base64 === 'string');

/** The exec_flags a reader shows (as booleans); cwd and cwd_truncated describe `cwd`. */
const EXEC_FLAG_NAMES = new Set(['deleted', 'memfd', 'setuid', 'setgid', 'privileged', 'cwd', 'cwd_truncated']);

/** Snapshot keys that are not fields of the process event (start_time_ns is shown as start_time). */
const SNAPSHOT_RAW = new Set(['start_time_ns', 'start_ns', 'exec_seq', 'parent_start_ns', 'parent_exec_seq']);

/**
 * Puts the common keys first, in the event model's order, for readable JSON. Events from
 * records are built in that order already; this is for the few built from other data.
 */
export function ordered(e: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of EVENT_ORDER) if (k in e) out[k] = e[k];
  for (const k of Object.keys(e)) if (!(k in out)) out[k] = e[k];
  return out;
}

/**
 * snapshotText gives a snapshot's filename or argv as the event model has it: msgpack binaries (bytes read
 * from /proc that are not UTF-8) become strings or RawText as record strings do (text.ts).
 */
export function snapshotText(v: unknown): unknown {
  if (v instanceof Uint8Array) {
    const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    return decodeText(b, 0, b.length);
  }
  if (Array.isArray(v)) return v.map(snapshotText);
  return v;
}

/** cwd components, from the cwd up, as one path; one that is not UTF-8 as its bytes in base64. */
function joinCwd(parts: Text[], truncated: boolean): Text {
  const up = [...parts].reverse();
  const lead = truncated ? '' : '/';
  if (up.every((p) => typeof p === 'string')) return lead + (up as string[]).join('/');
  const bytes = up.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p.base64, 'base64')));
  const out: Buffer[] = [];
  bytes.forEach((b, i) => out.push(Buffer.from(i === 0 ? lead : '/'), b));
  return {base64: Buffer.concat(out).toString('base64')};
}
