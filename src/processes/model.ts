// The process model: fed every process event of a trace in stream order (the snapshot of
// the processes alive at start first), it keeps who each process is, what it ran and who
// forked it. `tree`, `decode --ancestors` and the `--tree` filter all read this one table,
// so they agree by construction on who descends from whom.
//
// Identity. A process is its pid and its start (the exec_id without its exec_seq,
// formats/trace-format.md §10.14): two processes given the same pid one after the other are
// two processes. A file without ids (recorded before they existed) falls back to the pid
// and the order of forks: a fork of a pid starts a new process, and every later event of
// that pid is that process's until the next fork.
//
// Parents. A process's parent is the process that forked it, and the image that parent ran
// at the fork (parent_exec_id of the fork): ancestry is who launched you, not who you were
// reparented to (an orphan's later events name pid 1 or a subreaper as ppid; that is
// noted, not followed). A process whose fork is not in the file (filtered out in the
// kernel, lost) gets the parent its first event names; a parent the file never introduced
// is kept as a placeholder that knows only its pid and image id.
//
// Memory. The table holds the live processes (the pids alive now) and, through parent
// links, the exited ancestors a live process still names; an exited process that no live
// process descends from is left to the garbage collector: nothing else refers to it (no
// child lists: those would keep every exited child of a long-lived parent). So memory
// follows the processes alive at a time, not the length of the file. Bounds for a hostile
// or pathological file: MAX_IMAGES images and MAX_FAILED failed execs per process (the
// rest counted), ancestry chains of at most MAX_DEPTH (a longer chain is cut), and the
// RECENT_EXITS latest exited processes by id (for a filtered file's late fork records).
//
// Cost. Only process records (fork, exec, exec_failed, exit) change the table; a syscall
// event never reaches it unless a consumer asks who made it (live(), sight()).

import type {Text} from '../decode/text';

/** A 64-bit value: a number while exact (|v| < 2^53), else a bigint. */
type U64 = number | bigint;

/** ImageOrigin says how the recording learned of an image. */
export type ImageOrigin = 'snapshot' | 'fork' | 'exec' | 'unseen';

/** Image is one program image of a process: what it ran from one exec (or its fork) to the next. */
export interface Image {
  /** `<boot>:<pid>:<start_ns>:<exec_seq>`; null in a file without ids. */
  exec_id: string | null;
  /**
   * `snapshot`: the image the process ran when recording started; `fork`: the image a fork
   * copied from the parent (the process had not exec'd yet); `exec`: a successful exec;
   * `unseen`: an image later events name but whose exec the file does not hold.
   */
  how: ImageOrigin;
  /** Boot-clock ns of the exec or fork that began it; null when unknown (a snapshot image). */
  ts_ns: U64 | null;
  filename: Text | null;
  argv: Text[] | null;
  comm: string;
  uid: number | null;
  euid: number | null;
  /** A script's interpreter. */
  interp?: Text;
  /** argv was cut at the recording's limit. */
  truncated?: boolean;
  /** The exec's flags that were set: memfd, deleted, setuid, setgid, privileged. */
  flags?: string[];
  /** The thread that called exec, when it was not the thread-group leader. */
  thread?: number;
  /** Kept for the one writer of a filtered file that reads the table (src/filter/select.ts); the table never reads it. */
  out: unknown;
}

/** FailedExec is an exec that failed: the image that tried it keeps running. */
export interface FailedExec {
  ts_ns: U64;
  /** The image that called exec. */
  exec_id: string | null;
  filename: Text | null;
  argv: Text[] | null;
  error_code: number | null;
  errno: string | null;
}

/** Exit is the end of a process, as its exit event says. */
export interface Exit {
  ts_ns: U64;
  exit_code: number;
  signal: number | null;
  core_dumped: boolean;
  running_time_ns: U64 | null;
}

/** ProcessOrigin says how the recording learned of a process. */
export type ProcessOrigin = 'snapshot' | 'fork' | 'unseen';

/** The exec flags a process image keeps (the event model's booleans). */
const IMAGE_FLAGS = ['memfd', 'deleted', 'setuid', 'setgid', 'privileged'];

/** MAX_IMAGES: images kept per process (the first and the latest); the others are counted in imagesOmitted. */
export const MAX_IMAGES = 64;
/** MAX_FAILED: failed execs kept per process (the first ones); the others are counted in failedOmitted. */
export const MAX_FAILED = 64;
/** MAX_DEPTH: the longest ancestry chain kept; a process forked deeper is cut from its ancestors MAX_DEPTH / 2 up. */
export const MAX_DEPTH = 512;
/**
 * RECENT_EXITS: exited processes kept by id besides (the latest ones): a filtered file may carry a fork as
 * context after its parent's exit (src/filter/select.ts), and its parent is found here.
 */
export const RECENT_EXITS = 4096;

/** Process is one process: a pid from one start to its end. */
export class Process {
  /** Creation order in the table: the snapshot first, then as the stream introduces them. */
  readonly serial: number;
  /** pid and start (`<boot>:<pid>:<start_ns>`), null when the file has no ids or the snapshot lacked them. */
  key: string | null;
  /** When it was forked (boot clock, ns): from the id, else the fork's time or the snapshot's start_time. */
  start_ns: U64 | null;
  /** The process that forked it (the snapshot's ppid for one alive at start), or null. */
  parent: Process | null = null;
  /** The image `parent` ran when it forked this process. */
  parentImage: Image | null = null;
  /** The pid of the parent as first known (the forking parent's); null for a placeholder parent until an event of its own names it. */
  ppid: number | null;
  /** Set when a later event names another ppid: the process was reparented (its parent died first). */
  reparented: {ppid: number; ts_ns: U64} | null = null;
  readonly images: Image[] = [];
  imagesOmitted = 0;
  readonly failed: FailedExec[] = [];
  failedOmitted = 0;
  exit: Exit | null = null;
  /** It ended: its exit was seen, or a later process took its pid without its exit in between. */
  ended = false;
  /** Something happened to it during the recording (an event of its own, or a fork of a child). */
  active: boolean;
  /** Its ancestry was cut here (a chain deeper than MAX_DEPTH). */
  cut = false;
  /** Children it forked that the table saw: one that forked none is nobody's ancestor. */
  forks = 0;
  /**
   * Kept for the one writer of a filtered file that reads the table (src/filter/select.ts):
   * on the process, not in a WeakMap beside it, because a weak map's entries cost the
   * garbage collector on every process of a busy file. The table never reads it.
   */
  out: unknown = null;
  depth = 0;

  constructor(serial: number, readonly pid: number, ppid: number | null, key: string | null, start: U64 | null, readonly origin: ProcessOrigin) {
    this.serial = serial;
    this.ppid = ppid;
    this.key = key;
    this.start_ns = start;
    this.active = origin !== 'snapshot';
  }

  /** The image it runs now (or ran last); null when no event told it. */
  get image(): Image | null {
    return this.images.length ? this.images[this.images.length - 1] : null;
  }

  /** The latest comm known. */
  get comm(): string {
    return this.image?.comm ?? '?';
  }

  /** The image with this exec_id, latest first. */
  imageById(id: string): Image | null {
    for (let i = this.images.length - 1; i >= 0; i--) if (this.images[i].exec_id === id) return this.images[i];
    return null;
  }

  addImage(img: Image): void {
    if (this.images.length >= MAX_IMAGES) {
      // The first image (how it began) and the latest ones say most; a child that names a
      // dropped image keeps its own reference to it.
      this.images.splice(1, 1);
      this.imagesOmitted++;
    }
    this.images.push(img);
  }
}

/** Ancestor is one ancestor of a process as `decode --ancestors` shows it: the image that forked the next one down. */
export interface Ancestor {
  pid: number;
  /** The image that forked the process below it (null in a file without ids). */
  exec_id: string | null;
  comm: string;
  uid: number | null;
  /** null when the file never showed that image (its exec was not recorded). */
  filename: Text | null;
  argv: Text[] | null;
}

/** SnapshotEntry holds the parts of a snapshot process (metadata `processes`) the table reads. */
export interface SnapshotEntry {
  pid: number;
  ppid: number;
  comm: string;
  uid?: unknown;
  euid?: unknown;
  filename?: unknown;
  argv?: unknown;
  start_time_ns?: unknown;
  start_ns?: unknown;
  [k: string]: unknown;
}

/** TableContext is what the table needs from the decoder: ids of snapshot processes, and strings as the event model has them. */
export interface TableContext {
  /** exec_id and parent_exec_id of a snapshot process (Identities.ofSnapshot). */
  idsOf(p: SnapshotEntry): {exec_id: string | null; parent_exec_id: string | null};
  /** A snapshot filename or argv as the event model has it (msgpack binaries become Text). */
  text(v: unknown): unknown;
}

/** A process event as the table reads it (the decoder's event objects). */
type Ev = Record<string, unknown>;

/** keyOf gives the `<boot>:<pid>:<start>` of an exec_id (a process's identity), or null. */
export function keyOf(execId: unknown): string | null {
  if (typeof execId !== 'string') return null;
  const i = execId.lastIndexOf(':');
  return i > 0 ? execId.slice(0, i) : null;
}

/** The start (boot clock, ns) an exec_id or key carries. */
function startOfKey(key: string | null): U64 | null {
  if (key === null) return null;
  const s = key.slice(key.lastIndexOf(':') + 1);
  if (!/^\d{1,20}$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : BigInt(s);
}

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const u64 = (v: unknown): U64 | null => (typeof v === 'number' || typeof v === 'bigint' ? v : null);
const textOrNull = (v: unknown): Text | null => (typeof v === 'string' || (typeof v === 'object' && v !== null && !Array.isArray(v)) ? (v as Text) : null);
const argvOrNull = (v: unknown): Text[] | null => (Array.isArray(v) ? (v as Text[]) : null);

/** ProcessTable is the process model (see the top of this file): one per decoder, fed in stream order. */
export class ProcessTable {
  /** The processes alive when recording started, in start order. */
  readonly snapshot: Process[] = [];
  /**
   * The last event step() placed, and its process: processOf() is asked right after the
   * decoder gives an event (by a filter, the selector), so one pair serves, where a map of
   * every event would cost the garbage collector on every process record.
   */
  private lastEvent: object | null = null;
  private lastProcess: Process | null = null;
  /** The process alive now under each pid. */
  private readonly alive = new Map<number, Process>();
  private readonly snapshotByPid = new Map<number, Process>();
  /**
   * A process whose exit was the last record: it leaves `alive` at the next change, so that
   * the calls its exit settled (emitted with it, tested after it) still find it by pid.
   */
  private leaving: Process | null = null;
  private serials = 0;
  private readonly listeners: ((p: Process) => void)[] = [];
  /** The latest RECENT_EXITS exited processes, by key (only for a filtered file: `recentExits`). */
  private readonly exited = new Map<string, Process>();

  /**
   * `recentExits`: keep the latest RECENT_EXITS exited processes by id, for a filtered file,
   * whose context records may bring a fork after its parent's exit (src/filter/select.ts).
   */
  constructor(snapshot: readonly SnapshotEntry[], private readonly ctx: TableContext, private readonly recentExits = false) {
    const entries = snapshot.filter((p) => typeof p === 'object' && p !== null && typeof p.pid === 'number');
    // Start order (pid order among equals), so that siblings read oldest first.
    const startOf = (p: SnapshotEntry): number => Number(u64(p.start_ns) ?? u64(p.start_time_ns) ?? 0);
    const sorted = [...entries].sort((a, b) => startOf(a) - startOf(b) || a.pid - b.pid);
    for (const s of sorted) {
      if (this.snapshotByPid.has(s.pid)) continue; // a hostile snapshot naming a pid twice
      const id = ctx.idsOf(s);
      const key = keyOf(id.exec_id);
      const p = new Process(this.serials++, s.pid, typeof s.ppid === 'number' ? s.ppid : 0, key,
        startOfKey(key) ?? u64(s.start_ns) ?? u64(s.start_time_ns), 'snapshot');
      p.addImage(image(id.exec_id, 'snapshot', null, textOrNull(ctx.text(s.filename)), argvOrNull(ctx.text(s.argv)),
        typeof s.comm === 'string' ? s.comm : '?', num(s.uid), num(s.euid)));
      this.snapshot.push(p);
      this.snapshotByPid.set(s.pid, p);
      this.alive.set(s.pid, p);
    }
    for (const p of this.snapshot) {
      const q = p.ppid === 0 || p.ppid === null ? undefined : this.snapshotByPid.get(p.ppid);
      if (q === undefined || q === p) continue;
      // No cycles, whatever a hostile snapshot says: link only to a parent that does not descend from p.
      let a: Process | null = q;
      let n = 0;
      while (a !== null && a !== p && n++ <= MAX_DEPTH) a = a.parent;
      if (a === p) continue;
      p.parent = q;
      p.parentImage = q.image;
    }
    for (const p of this.snapshot) {
      let d = 0;
      for (let a = p.parent; a !== null && d <= MAX_DEPTH; a = a.parent) d++;
      p.depth = d;
    }
  }

  /** Calls fn with every process the stream introduces from now on (the snapshot's are in `snapshot`). */
  listen(fn: (p: Process) => void): void {
    this.listeners.push(fn);
  }

  /** The process alive now under pid (the latest to have it), if the table knows one. */
  live(pid: number): Process | undefined {
    return this.alive.get(pid);
  }

  /** The snapshot's process of pid (a `process` event's). */
  fromSnapshot(pid: number): Process | undefined {
    return this.snapshotByPid.get(pid);
  }

  /**
   * processOf gives the process an event belongs to: a process record's, when it is the last
   * event step() placed (ask right after the decoder gives it, as filters and the selector
   * do); a `process` event's (the snapshot's); a syscall's (the process alive under its pid
   * now); null for others.
   */
  processOf(e: Ev): Process | null {
    if (e === this.lastEvent) return this.lastProcess;
    if (typeof e.pid !== 'number') return null;
    if (e.type === 'process') return this.snapshotByPid.get(e.pid) ?? null;
    if (e.type === 'syscall') return this.alive.get(e.pid) ?? null;
    return null;
  }

  /**
   * Feeds one decoded event, in stream order; returns the process it belongs to (null for
   * events that are not a process record's: syscalls, lost markers, snapshot events).
   */
  step(e: Ev): Process | null {
    const pid = e.pid;
    if (typeof pid !== 'number') return null;
    let p: Process;
    switch (e.type) {
      case 'fork':
        p = this.fork(e, pid);
        break;
      case 'exec': {
        p = this.ownerOf(e, pid);
        this.noteParent(p, e);
        p.active = true;
        const img = image(typeof e.exec_id === 'string' ? e.exec_id : null, 'exec', u64(e.ts_ns), textOrNull(e.filename),
          argvOrNull(e.argv), String(e.comm ?? '?'), num(e.uid), num(e.euid));
        if (e.interp !== undefined) img.interp = e.interp as Text;
        if (e.truncated === true) img.truncated = true;
        for (const f of IMAGE_FLAGS) if (e[f] === true) (img.flags ??= []).push(f);
        if (typeof e.old_tid === 'number' && e.old_tid !== pid) img.thread = e.old_tid;
        p.addImage(img);
        break;
      }
      case 'exec_failed':
        p = this.ownerOf(e, pid);
        p.active = true;
        if (p.failed.length < MAX_FAILED) {
          p.failed.push({
            ts_ns: u64(e.ts_ns) ?? 0, exec_id: typeof e.exec_id === 'string' ? e.exec_id : null,
            filename: textOrNull(e.filename), argv: argvOrNull(e.argv),
            error_code: num(e.error_code), errno: typeof e.errno === 'string' ? e.errno : null,
          });
        } else p.failedOmitted++;
        break;
      case 'exit':
        p = this.ownerOf(e, pid);
        this.noteParent(p, e);
        p.active = true;
        p.exit = {
          ts_ns: u64(e.ts_ns) ?? 0, exit_code: num(e.exit_code) ?? 0, signal: num(e.signal),
          core_dumped: e.core_dumped === true, running_time_ns: u64(e.running_time_ns),
        };
        p.ended = true;
        this.settle();
        this.leaving = p;
        if (this.recentExits && p.key !== null) {
          this.exited.delete(p.key);
          this.exited.set(p.key, p);
          if (this.exited.size > RECENT_EXITS) this.exited.delete(this.exited.keys().next().value as string);
        }
        break;
      default:
        return null;
    }
    this.lastEvent = e;
    this.lastProcess = p;
    return p;
  }

  /**
   * The process alive under pid for a syscall of it, made (as `unseen`) when the table
   * knows none: a process whose fork, exec and exit the file does not hold. `ctx` is the
   * call's task context (comm, uid, exec_id, ppid).
   */
  sight(pid: number, ctx: {comm?: unknown; uid?: unknown; euid?: unknown; exec_id?: unknown; parent_exec_id?: unknown; ppid?: unknown}, comm?: unknown): Process {
    const p = this.alive.get(pid);
    if (p !== undefined) {
      p.active = true;
      return p;
    }
    return this.unseen(pid, {
      type: 'syscall', pid, ppid: ctx.ppid, comm: comm ?? ctx.comm, uid: ctx.uid, euid: ctx.euid,
      exec_id: ctx.exec_id, parent_exec_id: ctx.parent_exec_id,
    });
  }

  /**
   * The ancestors of p, from its parent upward: for each, the image that forked the one
   * below it. As far as the file knows: the chain stops at a process whose parent the
   * snapshot and the stream never showed.
   */
  ancestors(p: Process): Ancestor[] {
    const out: Ancestor[] = [];
    let img = p.parentImage;
    for (let q = p.parent; q !== null && out.length <= MAX_DEPTH; q = q.parent) {
      out.push({
        pid: q.pid, exec_id: img?.exec_id ?? null, comm: img?.comm ?? q.comm, uid: img?.uid ?? null,
        filename: img?.filename ?? null, argv: img?.argv ?? null,
      });
      img = q.parentImage;
    }
    return out;
  }

  /** The exited process of the last exit leaves `alive` now (unless its pid was taken since). */
  private settle(): void {
    const l = this.leaving;
    if (l === null) return;
    this.leaving = null;
    if (this.alive.get(l.pid) === l) this.alive.delete(l.pid);
  }

  private fork(e: Ev, pid: number): Process {
    this.settle();
    const key = keyOf(e.exec_id);
    const old = this.alive.get(pid);
    // The same fork again: a filtered file may carry it once more as context (§10.13).
    if (old !== undefined && key !== null && old.key === key && old.origin === 'fork') return old;
    if (old !== undefined) old.ended = true; // its exit is not in the file
    const ppid = typeof e.ppid === 'number' ? e.ppid : 0;
    const parent = this.parentOf(ppid, e.parent_exec_id, String(e.comm ?? '?'));
    const p = this.make(pid, ppid, key, startOfKey(key) ?? u64(e.ts_ns), 'fork');
    if (parent !== null) {
      parent.process.active = true;
      this.link(p, parent.process, parent.image);
    }
    // Until it execs, a child runs its parent's program.
    const from = parent?.image ?? null;
    p.addImage(image(typeof e.exec_id === 'string' ? e.exec_id : null, 'fork', u64(e.ts_ns), from?.filename ?? null, from?.argv ?? null,
      String(e.comm ?? from?.comm ?? '?'), num(e.uid), num(e.euid)));
    this.alive.set(pid, p);
    return p;
  }

  /** The process an exec, exec_failed or exit of pid belongs to: the live one, or one made for it. */
  private ownerOf(e: Ev, pid: number): Process {
    if (this.leaving !== null && this.leaving.pid !== pid) this.settle();
    const key = keyOf(e.exec_id);
    const p = this.alive.get(pid);
    if (p !== undefined && (key === null || p.key === null || p.key === key) && !(p.ended && e.type !== 'exit')) {
      if (p.key === null && key !== null) this.learnKey(p, key);
      if (this.leaving === p && e.type !== 'exit') this.leaving = null;
      return p;
    }
    if (p !== undefined) p.ended = true; // another process had the pid; its exit is not in the file
    return this.unseen(pid, e);
  }

  /** A process the file did not introduce (no snapshot entry, no fork): made from its first event. */
  private unseen(pid: number, e: Ev): Process {
    const key = keyOf(e.exec_id);
    const ppid = typeof e.ppid === 'number' ? e.ppid : 0;
    const parent = this.parentOf(ppid, e.parent_exec_id, typeof e.parent_comm === 'string' ? e.parent_comm : '?');
    const p = this.make(pid, ppid, key, startOfKey(key), 'unseen');
    if (parent !== null) this.link(p, parent.process, parent.image);
    if (e.type !== 'exec') {
      // What it ran before this event, as far as the event tells (an exit carries the last
      // command line the decoder knew).
      p.addImage(image(typeof e.exec_id === 'string' ? e.exec_id : null, 'unseen', null, e.type === 'exit' ? textOrNull(e.filename) : null,
        e.type === 'exit' ? argvOrNull(e.argv) : null, String(e.comm ?? '?'), num(e.uid), num(e.euid)));
    }
    this.alive.set(pid, p);
    return p;
  }

  /**
   * The parent (and its image) a new process names: the live process of ppid when it is
   * the one parent_exec_id names (or either has no id), else a placeholder for it.
   */
  private parentOf(ppid: number, parentExecId: unknown, comm: string): {process: Process; image: Image | null} | null {
    if (ppid === 0) return null; // the idle task: parent of init and kthreadd, no process
    const id = typeof parentExecId === 'string' ? parentExecId : null;
    const key = keyOf(id);
    let q = this.alive.get(ppid);
    if (q !== undefined && key !== null && q.key !== null && q.key !== key) {
      q.ended = true;
      q = undefined;
    }
    // A fork after its parent's exit: a filtered file's context record, written late.
    if (q === undefined && key !== null) q = this.exited.get(key);
    if (q === undefined) {
      q = this.make(ppid, null, key, startOfKey(key), 'unseen');
      q.addImage(image(id, 'unseen', null, null, null, comm, null, null));
      this.alive.set(ppid, q);
      return {process: q, image: q.image};
    }
    if (id === null) return {process: q, image: q.image};
    let img = q.imageById(id);
    if (img === null) {
      const last = q.image;
      // A snapshot entry without ids (the iterator saw its pid otherwise, §10.10) keeps none:
      // learning one from a child's record would make the answers depend on which records a
      // file holds (a filtered file lacks most), where they should be the same.
      if (last !== null && last.exec_id === null && q.key === null) return {process: q, image: last};
      // An exec of the parent the file does not hold (lost, filtered): known by its id only.
      img = image(id, 'unseen', null, null, null, comm, null, null);
      q.addImage(img);
    }
    return {process: q, image: img};
  }

  /** A process of the snapshot named without ids takes the id an event gives it. */
  private learnKey(p: Process, key: string): void {
    p.key = key;
    p.start_ns = startOfKey(key) ?? p.start_ns;
  }

  private make(pid: number, ppid: number | null, key: string | null, start: U64 | null, origin: ProcessOrigin): Process {
    const p = new Process(this.serials++, pid, ppid, key, start, origin);
    for (const fn of this.listeners) fn(p);
    return p;
  }

  private link(p: Process, parent: Process, image: Image | null): void {
    p.parent = parent;
    parent.forks++;
    p.parentImage = image;
    p.depth = parent.depth + 1;
    if (p.depth > MAX_DEPTH) {
      // A chain this deep (a process that forks and exits, generation after generation)
      // would keep every generation: cut it halfway up.
      let a = parent;
      for (let i = 0; i < MAX_DEPTH / 2 && a.parent !== null; i++) a = a.parent;
      a.parent = null;
      a.parentImage = null;
      a.cut = true;
      p.depth = MAX_DEPTH / 2 + 1;
    }
  }

  /** A later event naming another ppid: the process was reparented (its parent ended first). */
  private noteParent(p: Process, e: Ev): void {
    const ppid = e.ppid;
    if (typeof ppid !== 'number') return;
    if (p.ppid === null) p.ppid = ppid; // a placeholder learns its parent's pid
    else if (ppid !== (p.reparented?.ppid ?? p.ppid)) p.reparented = {ppid, ts_ns: u64(e.ts_ns) ?? 0};
  }
}

function image(exec_id: string | null, how: ImageOrigin, ts_ns: U64 | null, filename: Text | null, argv: Text[] | null,
  comm: string, uid: number | null, euid: number | null): Image {
  return {exec_id, how, ts_ns, filename, argv, comm, uid, euid, out: null};
}
