// From the events a filter keeps back to the raw records behind them, as the stream goes.
// Every record is decoded (the decision is made on the event), and each record type has its
// own rule for what the output needs:
//
//  - exec, exec_failed, fork, exit: the record is its event; kept when the event matches.
//  - lost: always kept (the kernel's loss is never filtered away).
//  - sys_exit / sys_enter: a syscall event is an entry and an exit record, or one of them.
//    An entry is held back (a copy) until the event it starts is complete; then both are
//    kept or both dropped. The entry is written just before the record that completes its
//    event: pairing is per thread, so that decodes to the same event.
//  - task (a thread's context): held, the latest per thread, and written just before the
//    first kept syscall record of that thread that follows it. Context only a kept event
//    reads is kept; a thread with no kept syscall leaves none behind.
//
// Context records. A decoder shows an exit with the process's last command line, which
// comes from its exec, or through its fork from its parent's; and an exec sets the context
// of the calls that follow it (until the thread's next task record). When a kept exit,
// fork (which passes the parent's command line on) or syscall depends on an exec or fork
// that did not match, that record is written just before it with the `context` header
// flag: readers decode it for what it tells and do not show it (formats/trace-format.md
// §10.5). Only records a kept event needs are written so, once per process image.
//
// Ancestry. A filtered file must still say who launched what it kept (decode --ancestors,
// tree): when a process's first record is kept, the records that introduce its ancestors
// the output lacks — each one's fork, the exec of the image that forked the one below, and
// its exit when it has ended — are written before it as context records, top down, read
// off the decoder's process table (src/processes). Never an image of a process older than
// one the output already holds (that would give it a wrong command line), never a record
// of a process whose pid another live process has now, never a fork whose parent's command
// line in the output is not the one it inherited: there the chain stops, and the output
// knows that ancestor by its pid and id only, as it would without these records.
//
// Memory: one held entry per thread inside a traced call, one context per live thread, one
// held exec (or fork) record per live process: the decoder's own bounds; and for ancestry
// the fork, exec and exit records of the processes the table keeps (the live ones and
// their ancestors), freed with them. Nothing is allocated per record beyond what decoding
// allocates, except copies of held records.

import type {OpenedTrace} from '../decode';
import type {Decoder, TraceEvent} from '../decode/events';
import {MAX_DEPTH, type Image as ProcessImage, type Process, type ProcessTable} from '../processes/model';
import type {SyscallParts, SyscallSink} from '../decode/syscalls';
import {helpers} from '../decode/records';
import {forEachFrame} from '../format';

export interface SelectSink {
  /** A matching event, in decode order (lost events always match). */
  event?(e: TraceEvent): void;
  /**
   * A record to keep, in output order: its bytes buf[off, off+len) (valid during the call
   * only), its type id and ts_ns, and whether it goes in as a context record. Without
   * frames (counting mode) buf is empty for records that were held.
   */
  record?(buf: Buffer, off: number, len: number, type: number, ts: number | bigint, context: boolean): void;
}

/** A record kept aside: a view into the current chunk until spill() copies it out. */
interface Held {
  type: number;
  pid: number;
  tid: number;
  /** ts_ns as a number, as syscall events carry it. */
  tsNum: number;
  buf: Buffer;
  off: number;
  len: number;
  /** buf is our own copy (not the reader's chunk buffer). */
  owned: boolean;
  /**
   * The exec this entry's thread made (an execve from a thread other than the leader): the
   * call completes under the leader's tid, which a decoder follows only when the exec
   * record comes between the entry and the exit. Written again there, as context.
   */
  exec?: Held;
  /** The process (and the image, for a fork or exec) a held process record is of: ancestry. */
  owner?: {process: Process; image: ProcessImage | null};
}

/** What the selector keeps on a process of the table (Process.out): what the output holds of it. */
interface ProcOut {
  /** The output holds a record of it. */
  inOutput: boolean;
  /** Its ancestry was seen to. */
  done: boolean;
  /** The latest image whose fork or exec record the output holds. */
  image: ProcessImage | null;
  /** Its exit, when it was not kept and the process forked (it may be an ancestor). */
  exit: Held | null;
}

/** What the selector keeps on an image of the table (Image.out). */
interface ImageOut {
  /** The output holds the fork or exec record that began it. */
  written: boolean;
  /** That record, when it was not kept. */
  held: Held | null;
}

function procOut(p: Process): ProcOut {
  return (p.out ??= {inOutput: false, done: false, image: null, exit: null}) as ProcOut;
}

function imageOut(i: ProcessImage): ImageOut {
  return (i.out ??= {written: false, held: null}) as ImageOut;
}

const isWritten = (i: ProcessImage): boolean => i.how === 'snapshot' || (i.out !== null && (i.out as ImageOut).written);
const heldOf = (i: ProcessImage): Held | null => (i.out === null ? null : (i.out as ImageOut).held);
const inOutput = (p: Process): boolean => p.out !== null && (p.out as ProcOut).inOutput;

interface HeldTask extends Held {
  written: boolean;
}

/** Where a live process's command line comes from, and whether the output has it yet. */
interface Image {
  /** The output's decoder knows this process's current command line. */
  inOut: boolean;
  /** Bumped at each exec: a fork taken from an older image cannot be replayed. */
  version: number;
  /** The record that gave the current image, when it was not kept: an exec, or the fork from `parent`. */
  rec: Held | null;
  parent: number;
  parentImage: Image | null;
  parentVersion: number;
}

const EMPTY: Buffer = Buffer.alloc(0);
/** In the batch: a syscall event decided from its parts (its values are in the batch's arrays). */
const PARTS = {type: 'syscall'} as unknown as TraceEvent;
/** Fork chains replayed at most this deep (a process that never exec'd, its parent, ...). */
const MAX_CHAIN = 64;

export class Selector {
  /** Records read, kept (context included), and dropped because they could not be decoded; events tested and matched. */
  readonly counts = {records: 0, kept: 0, context: 0, unknown: 0, malformed: 0, events: 0, matched: 0};
  private readonly enterId: number;
  private readonly exitId: number;
  private readonly taskId: number;
  private readonly lostId: number;
  private readonly hashId: number;
  private readonly pidAt: number;
  private readonly tidAt: number;
  private readonly tsAt: number;
  /** Held entries by tid (one call at a time per thread). */
  private readonly held = new Map<number, Held>();
  private readonly tasks = new Map<number, HeldTask>();
  private readonly threads = new Map<number, number[]>();
  private readonly images = new Map<number, Image>();
  /** The latest hash record of each pid, held for its exec (formats/trace-format.md §10.16). */
  private readonly hashes = new Map<number, Held>();
  private readonly fdId: number;
  /**
   * A thread's et_fd records (formats/trace-format.md §10.18), held for the call whose exit
   * follows: written just before it when it is kept, dropped with it otherwise.
   */
  private readonly fds = new Map<number, Held[]>();
  private viewOf: Buffer | null = null;
  private view: DataView = new DataView(new ArrayBuffer(0));
  /** Held entries still pointing into the current chunk. */
  private unowned = 0;
  /**
   * Events the current record completed: batch[0, nb), with each one's pid, tid and ts_ns
   * (a PARTS entry has no more), and for a PARTS entry its decision.
   */
  private readonly batch: TraceEvent[] = [];
  private readonly bPid: number[] = [];
  private readonly bTid: number[] = [];
  private readonly bTs: number[] = [];
  private readonly bMatch: boolean[] = [];
  private nb = 0;
  private readonly collect = (e: TraceEvent): void => {
    this.put(e, e.pid as number, e.tid as number, e.ts_ns as number);
  };
  /**
   * Bumped by every change to thread contexts and command lines (holdTask, track): while it
   * stays, a syscall of the thread last settled needs no replay nor task (both were done).
   */
  private gen = 0;
  private doneGen = -1;
  private donePid = -1;
  private doneTid = -1;
  /** With a parts test: syscall events decided without their objects. */
  private readonly partsSink: SyscallSink | null = null;
  /** The decoder's process table, when context records bring ancestry (writing, with context records). */
  private readonly table: ProcessTable | null = null;

  /**
   * `frames`: copy held records (to write them); without it the selector only counts
   * (stats): sink.record gets an empty buffer for held records. `context`: write context
   * records (false when the output cannot mark them). `testSyscall`: the test over a
   * syscall's parts (EventFilter.testSyscall); with it syscall events are never built, and
   * sink.event sees only the other events. The selector then owns decoder.direct until end().
   */
  constructor(private readonly decoder: Decoder, private readonly test: (e: TraceEvent) => boolean,
    private readonly sink: SelectSink, private readonly frames = true, private readonly context = true,
    testSyscall: ((p: SyscallParts) => boolean) | null = null) {
    const id = (name: string) => decoder.eventNames.indexOf(name);
    this.enterId = id('sys_enter');
    this.exitId = id('sys_exit');
    this.taskId = id('task');
    this.lostId = id('lost');
    this.hashId = id('hash');
    this.fdId = id('fd');
    const field = (name: string, size: number): number => {
      const f = decoder.header.fields.find((x) => x.name === name);
      if (!f || f.size !== size || f.count !== undefined) throw new Error(`bad metadata: record_header has no ${size}-byte ${name} field`);
      return f.offset;
    };
    this.pidAt = field('pid', 4);
    this.tidAt = field('tid', 4);
    this.tsAt = field('ts_ns', 8);
    if (testSyscall !== null) {
      const t = testSyscall;
      this.partsSink = {
        syscall: (p: SyscallParts): boolean => {
          this.bMatch[this.put(PARTS, p.pid, p.tid, p.ts_ns)] = t(p);
          return true;
        },
      };
      decoder.direct = this.partsSink;
    }
    if (frames && context) this.table = decoder.trackProcesses();
  }

  /** Appends an event to the batch; returns its index. */
  private put(e: TraceEvent, pid: number, tid: number, ts: number): number {
    const i = this.nb++;
    this.batch[i] = e;
    this.bPid[i] = pid;
    this.bTid[i] = tid;
    this.bTs[i] = ts;
    return i;
  }

  /** One record of n bytes at b[o]. b stays valid until spill() (the end of the chunk). */
  feed(b: Buffer, o: number, n: number): void {
    this.counts.records++;
    const d = this.decoder;
    const before = d.counts.decoded;
    const unknownBefore = d.counts.unknownType;
    const contextBefore = d.contextRecords;
    this.nb = 0;
    d.feed(b, o, n, this.collect);
    if (d.counts.decoded === before) {
      // Not decodable (unknown type, too short): it cannot match anything.
      if (d.counts.unknownType > unknownBefore) this.counts.unknown++;
      else this.counts.malformed++;
      return;
    }
    // A decoded record is at least as long as the header.
    const type = d.typeOf(b, o);
    const batch = this.batch;
    const last = this.nb - 1;
    if (type === this.exitId && last < 0 && this.fds.size !== 0) {
      // A call that gave no event (recorded implicitly, not shown): its descriptors go with it.
      this.fds.delete(b.readUInt32LE(o + this.tidAt));
      return;
    }
    if (type === this.exitId && last >= 0) {
      // The common case: the call's own event, after any older entry of the thread it settled.
      for (let i = 0; i < last; i++) this.settle(i, null, 0, 0, type);
      this.settle(last, b, o, n, type);
      return;
    }
    if (type === this.taskId) {
      this.holdTask(b, o, n, type);
      return;
    }
    if (type === this.hashId) {
      // Not an event: written just before its exec when that is kept, else dropped with it.
      const h = this.copy(b, o, n, type);
      this.hashes.set(h.pid, h);
      return;
    }
    if (type === this.fdId && this.fdId >= 0) {
      const h = this.copy(b, o, n, type);
      const list = this.fds.get(h.tid);
      if (list === undefined) this.fds.set(h.tid, [h]);
      else if (list.length < 8) list.push(h);
      return;
    }
    if (type === this.enterId) {
      const tid = b.readUInt32LE(o + this.tidAt);
      const tsNum = Number(helpers.u64(b, o + this.tsAt));
      let own = false;
      for (let i = 0; i <= last; i++) {
        // The entry's own event (in flight at stop, or a call that never returns) carries
        // its thread and time; an older entry of the thread it settles does not.
        const mine = this.bTid[i] === tid && this.bTs[i] === tsNum;
        this.settle(i, mine ? b : null, o, n, type);
        if (mine) own = true;
      }
      if (!own) {
        this.held.set(tid, {type, pid: b.readUInt32LE(o + this.pidAt), tid, tsNum, buf: b, off: o, len: n, owned: false});
        this.unowned++;
      }
      return;
    }
    if (d.contextRecords > contextBefore) {
      // A context record of a filtered file being filtered again: what it tells may be
      // needed again, as for any record that did not match.
      for (let i = 0; i <= last; i++) this.settle(i, null, 0, 0, type);
      if (d.lastContext) this.track(d.lastContext, false, b, o, n, type);
      return;
    }
    // lost, and the process records: the last event is the record's own; any before it
    // are entries it settled (an exec or exit ends the calls left open).
    let kept = false;
    for (let i = 0; i <= last; i++) kept = this.settle(i, i === last ? b : null, o, n, type);
    if (type !== this.lostId && last >= 0 && batch[last] !== PARTS) this.track(batch[last], kept, b, o, n, type);
  }

  /**
   * The reader is about to reuse its chunk buffer: copy out the held records that still
   * point into it. Most entries complete within their chunk and are never copied.
   */
  spill(): void {
    if (this.unowned === 0) return;
    for (const h of this.held.values()) {
      if (h.owned) continue;
      h.buf = this.frames ? Buffer.from(h.buf.subarray(h.off, h.off + h.len)) : EMPTY;
      h.off = 0;
      h.len = h.buf.length;
      h.owned = true;
    }
    this.unowned = 0;
  }

  /** End of the stream: the entries still open become events. */
  end(): void {
    this.nb = 0;
    this.decoder.end(this.collect);
    for (let i = 0; i < this.nb; i++) this.settle(i, null, 0, 0, -1);
    this.held.clear();
    this.fds.clear();
    if (this.partsSink !== null && this.decoder.direct === this.partsSink) this.decoder.direct = null;
  }

  /**
   * Event batch[i] is complete: decide, and keep its records — the held entry it started
   * with, then `own` (the record that completed it) when given. Returns whether it matched.
   */
  private settle(i: number, own: Buffer | null, o: number, n: number, type: number): boolean {
    this.counts.events++;
    const e = this.batch[i];
    const parts = e === PARTS;
    const pid = this.bPid[i];
    const tid = this.bTid[i];
    const entry = e.type === 'syscall' ? this.takeHeld(pid, tid, this.bTs[i]) : null;
    // The descriptors a call's exit record follows: its own, whether it is kept or not.
    const fds = own !== null && type === this.exitId && this.fds.size !== 0 ? this.fds.get(tid) ?? null : null;
    if (fds !== null) this.fds.delete(tid);
    if (parts ? !this.bMatch[i] : e.type !== 'lost' && !this.test(e)) return false;
    this.counts.matched++;
    if (!parts) this.sink.event?.(e);
    if (this.table !== null && e.type !== 'lost') {
      const p = parts || e.type === 'syscall' ? (pid !== this.donePid ? this.table.live(pid) : undefined) : this.table.processOf(e);
      if (p !== undefined && p !== null && (p.out === null || !(p.out as ProcOut).done)) this.ancestry(p);
    }
    if (e.type === 'syscall') {
      // An exec filtered out also set the context its thread's next calls run in.
      if (pid !== this.donePid || tid !== this.doneTid || this.gen !== this.doneGen) {
        this.replay(pid, 0);
        this.writeTask(tid);
        this.donePid = pid;
        this.doneTid = tid;
        this.doneGen = this.gen;
      }
    } else if (e.type === 'exit') this.replay(pid, 0);
    else if (e.type === 'fork' && e.ppid !== e.pid) this.replay(e.ppid as number, 0);
    if (entry) {
      this.write(entry.buf, entry.off, entry.len, entry.type, false);
      if (entry.exec) {
        this.write(entry.exec.buf, entry.exec.off, entry.exec.len, entry.exec.type, true);
        this.wrote(entry.exec.owner);
      }
    }
    if (own && e.type === 'exec') {
      const h = this.hashes.get(pid);
      if (h) this.write(h.buf, h.off, h.len, h.type, false);
    }
    if (fds !== null) for (const h of fds) this.write(h.buf, h.off, h.len, h.type, false);
    if (own) this.write(own, o, n, type, false);
    return true;
  }

  private write(b: Buffer, o: number, n: number, type: number, context: boolean): void {
    this.counts.kept++;
    if (context) this.counts.context++;
    // Held records without frames (counting mode) have no bytes, hence no time.
    const ts = n >= this.tsAt + 8 ? helpers.u64v(b === this.viewOf ? this.view : this.newView(b), o + this.tsAt) : 0;
    this.sink.record?.(b, o, n, type, ts, context);
  }

  /** A DataView of a record buffer, kept while records come from it: cheaper reads than Buffer's. */
  private newView(b: Buffer): DataView {
    this.viewOf = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return this.view;
  }

  /** An owned copy of a record (or, counting, its description only). */
  private copy(b: Buffer, o: number, n: number, type: number): Held {
    const buf = this.frames ? Buffer.allocUnsafe(n) : EMPTY;
    if (this.frames) b.copy(buf, 0, o, o + n);
    return {
      type, pid: b.readUInt32LE(o + this.pidAt), tid: b.readUInt32LE(o + this.tidAt), tsNum: 0,
      buf, off: 0, len: buf.length, owned: true,
    };
  }

  /** The held entry an event started with, if any (found by thread, or by process after an exec moved it). */
  private takeHeld(pid: number, tid: number, ts: number): Held | null {
    if (this.held.size === 0) return null;
    let h = this.held.get(tid);
    if (h === undefined || h.tsNum !== ts) {
      h = undefined;
      for (const x of this.held.values()) {
        if (x.pid === pid && x.tsNum === ts) {
          h = x;
          break;
        }
      }
      if (h === undefined) return null;
    }
    this.held.delete(h.tid);
    if (!h.owned) this.unowned--;
    return h;
  }

  // ---- thread contexts ----

  private holdTask(b: Buffer, o: number, n: number, type: number): void {
    this.gen++;
    const pid = b.readUInt32LE(o + this.pidAt);
    const tid = b.readUInt32LE(o + this.tidAt);
    const prev = this.tasks.get(tid);
    let buf: Buffer = EMPTY;
    if (this.frames) {
      // Reuse the thread's buffer: task records have one size, and a written one was copied out.
      buf = prev !== undefined && prev.buf.length === n ? prev.buf : Buffer.allocUnsafe(n);
      b.copy(buf, 0, o, o + n);
    }
    if (prev === undefined) {
      const list = this.threads.get(pid);
      if (list) list.push(tid);
      else this.threads.set(pid, [tid]);
    }
    this.tasks.set(tid, {type, pid, tid, tsNum: 0, buf, off: 0, len: buf.length, owned: true, written: false});
  }

  private writeTask(tid: number): void {
    const t = this.tasks.get(tid);
    if (t === undefined || t.written) return;
    t.written = true;
    this.write(t.buf, t.off, t.len, t.type, false);
  }

  /** An exec or exit resets the contexts of the process's threads (the decoder does the same). */
  private forgetTasks(pid: number): void {
    const list = this.threads.get(pid);
    if (list === undefined) return;
    for (const tid of list) {
      const t = this.tasks.get(tid);
      if (t !== undefined && t.pid === pid) this.tasks.delete(tid);
    }
    this.threads.delete(pid);
  }

  /** An exec written late resets the decoder's thread contexts there: write them again before they are next needed. */
  private rewriteTasks(pid: number): void {
    for (const tid of this.threads.get(pid) ?? []) {
      const t = this.tasks.get(tid);
      if (t !== undefined && t.pid === pid) t.written = false;
    }
  }

  // ---- command lines ----

  /** After a process record's own event: where the process's command line now comes from. */
  private track(e: TraceEvent, kept: boolean, b: Buffer, o: number, n: number, type: number): void {
    this.gen++;
    const pid = e.pid as number;
    // The process and image this record is of, in the table (ancestry), when there is one.
    const proc = this.table?.processOf(e) ?? null;
    // (An exit not kept of a process that forked nothing is never needed: nobody's ancestor.)
    const owner = proc === null || (!kept && e.type === 'exit' && proc.forks === 0) ? undefined
      : {process: proc, image: e.type === 'exit' || e.type === 'exec_failed' ? null : proc.image};
    if (kept) this.wrote(owner);
    switch (e.type) {
      case 'exec': {
        const caller = e.old_tid;
        if (typeof caller === 'number' && caller !== pid) {
          const h = this.held.get(caller);
          if (h !== undefined && h.pid === pid) h.exec = {...this.copy(b, o, n, type), owner};
        }
        this.hashes.delete(pid);
        const img = this.image(pid);
        img.version++;
        img.inOut = kept;
        img.rec = kept ? null : this.copy(b, o, n, type);
        img.parentImage = null;
        this.forgetTasks(pid);
        this.holdImage(img.rec, owner);
        break;
      }
      case 'fork': {
        const ppid = e.ppid as number;
        if (ppid === pid) break; // a thread
        const parent = kept ? null : this.image(ppid);
        const rec = kept ? null : this.copy(b, o, n, type);
        this.images.set(pid, {
          inOut: kept, version: 0, rec, parent: ppid, parentImage: parent, parentVersion: parent ? parent.version : 0,
        });
        this.holdImage(rec, owner);
        break;
      }
      case 'exit':
        this.images.delete(pid);
        this.forgetTasks(pid);
        // A process that forked may be an ancestor, whose exit a descendant's ancestry may need.
        if (!kept && owner !== undefined) procOut(owner.process).exit = {...this.copy(b, o, n, type), owner};
        break;
    }
  }

  /** Keeps the record that began an image (not kept), for the ancestry of its descendants. */
  private holdImage(rec: Held | null, owner: Held['owner']): void {
    if (rec === null || owner === undefined || owner.image === null) return;
    rec.owner = owner;
    imageOut(owner.image).held = rec;
  }

  /** A record of a process went into the output (kept, or as context): what its decoder now knows. */
  private wrote(w: Held['owner']): void {
    if (w === undefined) return;
    const po = procOut(w.process);
    po.inOutput = true;
    if (w.image !== null) {
      imageOut(w.image).written = true;
      po.image = w.image;
    }
  }

  /** The image the output's decoder takes as p's command line now: the latest written, else the snapshot's. */
  private outImageOf(p: Process): ProcessImage | null {
    const written = p.out === null ? null : (p.out as ProcOut).image;
    return written ?? (p.origin === 'snapshot' ? p.images[0] : null);
  }

  /**
   * Writes, as context records, what introduces p's ancestors to the output, top down: for
   * each ancestor it lacks, its fork (after its parent's), the exec of the image that forked
   * the next one down, then the exits of those that have ended. Stops where that would
   * mislead the output's decoder (see the top of this file).
   */
  private ancestry(p: Process): void {
    procOut(p).done = true;
    const t = this.table as ProcessTable;
    // Most processes have their parent's image in the output already: no chain, nothing allocated.
    let chain: {q: Process; img: ProcessImage | null}[] | null = null;
    let img = p.parentImage;
    for (let q = p.parent; q !== null && (chain?.length ?? 0) < MAX_DEPTH; img = q.parentImage, q = q.parent) {
      if (img !== null && isWritten(img)) break;
      if (inOutput(q)) break;
      const now = t.live(q.pid);
      if (now !== undefined && now !== q) break;
      (chain ??= []).push({q, img});
      if (q.origin === 'snapshot') break;
    }
    let ended: Held[] | null = null;
    for (let i = (chain?.length ?? 0) - 1; i >= 0; i--) {
      const {q, img} = (chain as {q: Process; img: ProcessImage | null}[])[i];
      const qo = procOut(q);
      qo.done = true;
      const begun = img !== null && img.how === 'exec' ? heldOf(img) : null;
      if (q.origin === 'fork') {
        const fork = heldOf(q.images[0]);
        // Until it execs, its command line in the output is its parent's there: the image that forked it, or stop.
        if (fork === null || (q.parent !== null && this.outImageOf(q.parent) !== q.parentImage)) break;
        this.writeContext(fork);
      } else if (q.origin === 'unseen' && begun === null) {
        break; // no record of its own to introduce it by
      }
      if (img !== null && img.how === 'exec' && !isWritten(img)) {
        if (begun === null) break;
        this.writeContext(begun);
        this.rewriteTasks(q.pid);
      }
      qo.inOutput = true;
      const st = t.live(q.pid) === q ? this.images.get(q.pid) : undefined;
      // The output now knows this image: the process's current one, or an older one to be replayed over.
      if (st !== undefined) st.inOut = q.image === img;
      if (qo.exit !== null) (ended ??= []).push(qo.exit);
    }
    // p itself, when its first record alone would name another parent than the one that
    // forked it (it was reparented) or another image of it (the parent exec'd since): its fork.
    const first = p.images[0];
    if (p.origin === 'fork' && !inOutput(p) && !isWritten(first) && p.parent !== null &&
      (p.reparented !== null || p.parent.image !== p.parentImage) && this.outImageOf(p.parent) === p.parentImage) {
      const fork = heldOf(first);
      if (fork !== null) {
        this.writeContext(fork);
        const st = t.live(p.pid) === p ? this.images.get(p.pid) : undefined;
        if (st !== undefined) st.inOut = p.image === first;
      }
    }
    // After the forks below them, so that the output's table finds each parent alive at its child's fork.
    for (const x of ended ?? []) this.writeContext(x);
    if (chain !== null) this.gen++;
  }

  private writeContext(h: Held): void {
    this.write(h.buf, h.off, h.len, h.type, true);
    this.wrote(h.owner);
  }

  /** A process first seen alive (in the snapshot, or never introduced): the output's decoder knows as much as the source's. */
  private image(pid: number): Image {
    let img = this.images.get(pid);
    if (img === undefined) {
      img = {inOut: true, version: 0, rec: null, parent: 0, parentImage: null, parentVersion: 0};
      this.images.set(pid, img);
    }
    return img;
  }

  /**
   * Makes the output's decoder know pid's current command line, writing the exec (or fork,
   * after its parent's) that gave it as context records. False when it cannot: a fork
   * whose parent has exec'd or exited since.
   */
  private replay(pid: number, depth: number): boolean {
    const img = this.images.get(pid);
    if (img === undefined || img.inOut) return true;
    if (img.rec === null || depth > MAX_CHAIN || !this.context) return false;
    if (img.parentImage !== null) {
      const p = img.parentImage;
      if (this.images.get(img.parent) !== p || p.version !== img.parentVersion) return false;
      if (!this.replay(img.parent, depth + 1)) return false;
    }
    const r = img.rec;
    this.write(r.buf, r.off, r.len, r.type, true);
    this.wrote(r.owner);
    img.inOut = true;
    if (img.parentImage === null) this.rewriteTasks(pid); // it was an exec
    return true;
  }
}

/**
 * Walks a whole trace through a selector, as forEachEvent does without one: the processes
 * alive at start first (each tested; matching ones go to sink.event), then every record of
 * every intact chunk, then the entries left open. Frame problems become reader problems.
 */
export function selectTrace(t: OpenedTrace, test: (e: TraceEvent) => boolean, sink: SelectSink, opts: {processes?: boolean; frames?: boolean} = {}): Selector {
  const {reader, decoder} = t;
  if (opts.processes !== false) {
    for (const e of decoder.processEvents()) if (test(e)) sink.event?.(e);
  }
  const sel = new Selector(decoder, test, sink, opts.frames ?? false);
  const feed = (b: Buffer, o: number, n: number) => sel.feed(b, o, n);
  for (const chunk of reader.chunks()) {
    const {problem} = forEachFrame(chunk, feed);
    sel.spill();
    if (problem) {
      reader.problems.push(problem);
      t.onProblem(problem);
    }
  }
  sel.end();
  return sel;
}
