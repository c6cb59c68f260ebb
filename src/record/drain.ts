// The drain source of a recording: the loaded BPF object (native.ts), its programs
// attached, and the addon's drain thread handing batches of raw frames to a sink (the
// chunk step, chunks.ts). Also what only the loaded object can tell at the end: the calls
// still in progress, and how many processes --follow could not add.

import * as fs from 'node:fs';
import {recordLayout} from '../btf';
import {SUMMARY_TYPES, openTracer, type BatchSummary, type ExeDescriptors, type NativeBinding, type NativeTracer} from './native';
import {processIds, tgidOf} from './procfs';
import {filterMapSizes, pidsFull, seedPids, type Filters} from './filters';
import {pos, writeUint} from './counters';
import {EXEC_SYSCALL_PROGRAMS, RECORD_TYPES, STASH_CALL, STASH_STRUCT, SYSCALL_PROGRAMS} from './types';
import {ET_EXEC, ET_EXEC_KNOWN, ET_F_INFLIGHT, ET_SYS_ENTER} from '../abi';
import {frameHeader, type FrameHeader} from './chunks';
import type {PreparedObject} from './object';

/** Where the drain's batches go: ChunkWriter. */
export interface BatchSink {
  /**
   * A batch the drain summarized as it copied it (no summary: the drain could not); `exe`
   * with DrainStart.openExe: its exec frames and their /proc/PID/exe descriptors, to close.
   */
  summarized(batch: Buffer, summary?: BatchSummary, exe?: ExeDescriptors): void;
}

export interface DrainStart {
  chunkBytes: number;
  flushMs: number;
  /** Whether the sink may keep a batch past its call (a live consumer may): then no buffer is reused. */
  keepsBatches: boolean;
  /** Open /proc/PID/exe of every exec as its record is drained (the recorder hashes exec files). */
  openExe?: boolean;
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

const LIVE_BATCH_BYTES = 256 << 10;
const ONE = Buffer.from([1]);

export class Drain {
  readonly nrCpus: number;
  readonly header: FrameHeader;
  private closed = false;

  private constructor(private readonly tracer: NativeTracer, private readonly obj: PreparedObject, private readonly filters: Filters) {
    this.nrCpus = tracer.nrCpus;
    this.header = frameHeader(obj.layouts.et_header);
  }

  /** Loads the object (nothing attached yet) and fills in the syscall descriptions; on failure nothing stays loaded. */
  static open(obj: PreparedObject, filters: Filters, ringBytes: number, native: NativeBinding): Drain {
    const tracer = openTracer({
      object: obj.path,
      rodata: obj.rodata,
      ringBytes,
      // Load only one of the two paths that see failed execs.
      disable: obj.plan ? EXEC_SYSCALL_PROGRAMS : SYSCALL_PROGRAMS,
      maxEntries: filterMapSizes(filters),
    }, native);
    try {
      if (obj.plan) {
        const key = Buffer.alloc(4);
        for (const [nr, desc] of obj.plan.descs) {
          key.writeUInt32LE(nr);
          tracer.mapUpdate('sys_descs', key, desc);
        }
      }
    } catch (err) {
      tracer.close();
      throw err;
    }
    return new Drain(tracer, obj, filters);
  }

  /**
   * Attaches the programs and starts the drain thread. After attach, the followed pids
   * are seeded, so that no fork of a process being added is missed (see seedPids). With
   * --follow and a command, the recorder itself goes in: the kernel adds the command at
   * its fork, before it runs, so even its first event is kept — no wrapper, no handshake.
   */
  start(sink: BatchSink, o: DrainStart): void {
    this.tracer.attach();
    // Type ids the drain counts; a batch holding any other (or a frame too short for a
    // header) is left for the sink to read.
    const types = Math.min(SUMMARY_TYPES, Math.max(...RECORD_TYPES.map((t) => t.id)) + 1);
    this.tracer.start((batch, summary, exe) => sink.summarized(batch, summary, exe), {
      // A chunk's worth per batch (up to 4 MiB), so a full batch is written without a copy.
      // A live consumer gets smaller ones: the events of a batch live until it has taken
      // them, and a few thousand die young where a 4 MiB batch's outlive the collector's
      // young generation (300,000 syscalls under record --stdout --json: 2.2 s of CPU with
      // 4 MiB batches, 1.75 s with these).
      batchBytes: Math.min(o.chunkBytes, o.keepsBatches ? LIVE_BATCH_BYTES : 4 << 20),
      flushMs: Math.min(o.flushMs, 100),
      header: {...this.header, types, pidOffset: pos(this.obj.layouts.et_header, 'pid').offset},
      pool: o.keepsBatches ? 0 : 4,
      ...(o.openExe && {openExeType: ET_EXEC, openExeSkip: {offset: pos(this.obj.layouts.et_exec, 'exec_flags').offset, mask: ET_EXEC_KNOWN}}),
    });
    seedPids(this.tracer, this.filters);
  }

  /** The raw values of a per-CPU counter map. */
  /** What the iterator program `name` writes in one run (snapshot_tasks: et_snap per process). */
  runIter(name: string): Buffer {
    return this.tracer.runIter(name);
  }

  /**
   * Tells the exec program that a file identity is hashed (the map `hashed_files`, key
   * struct et_file_key): its later execs need no wakeup and no /proc/PID/exe.
   */
  markHashed(key: Buffer): void {
    // A digest can arrive after the stop sequence closed the object: nothing is left to tell.
    if (this.closed) return;
    this.tracer.mapUpdate('hashed_files', key, ONE);
  }

  counters(map: string): Buffer {
    return this.tracer.counters(map);
  }

  /**
   * Detaches, then drains what the ring still holds into the sink. Detach comes first: a
   * record sent after the last drain would be counted as sent, yet be neither in the file
   * nor lost.
   */
  async finish(): Promise<void> {
    this.tracer.detach();
    await this.tracer.stop();
  }

  /**
   * Calls still open when recording stops never reach sys_exit: the per-thread stash holds
   * their entry, so each becomes an et_sys_enter marked in flight (ET_F_INFLIGHT), and decode
   * shows it as a call without an exit instead of dropping it. One frame each.
   */
  inflightCalls(): Buffer[] {
    const st = recordLayout(this.obj.btf, STASH_STRUCT);
    const enterL = this.obj.layouts.et_sys_enter;
    const dump = this.tracer.taskStorage('sys_stash', liveThreads());
    const argsF = enterL.fields.find((f) => f.name === 'args');
    const stArgs = st.fields.find((f) => f.name === 'args');
    if (!argsF || !stArgs) throw new Error('bpf object: et_sys_enter or et_sys_stash has no args');
    const frames: Buffer[] = [];
    for (let i = 0; i < dump.count; i++) {
      const v = dump.values.subarray(i * dump.valueSize, (i + 1) * dump.valueSize);
      if (v.readUInt32LE(pos(st, 'in_call').offset) !== STASH_CALL) continue;
      const tid = dump.keys.readUInt32LE(i * dump.keySize);
      const frame = Buffer.alloc(4 + enterL.size);
      frame.writeUInt32LE(enterL.size, 0);
      const rec = frame.subarray(4);
      writeUint(rec, pos(enterL, 'hdr.type'), ET_SYS_ENTER);
      writeUint(rec, pos(enterL, 'hdr.flags'), ET_F_INFLIGHT);
      writeUint(rec, pos(enterL, 'hdr.size'), enterL.size);
      v.copy(rec, pos(enterL, 'hdr.ts_ns').offset, pos(st, 'enter_ts').offset, pos(st, 'enter_ts').offset + 8);
      writeUint(rec, pos(enterL, 'hdr.pid'), tgidOf(tid) ?? tid); // alive: it is inside a call
      writeUint(rec, pos(enterL, 'hdr.tid'), tid);
      writeUint(rec, pos(enterL, 'nr'), v.readUInt32LE(pos(st, 'nr').offset));
      v.copy(rec, argsF.offset, stArgs.offset, stArgs.offset + Math.min(argsF.size, stArgs.size));
      frames.push(frame);
    }
    return frames;
  }

  /** Processes --follow could not add (the kernel's set was full). */
  followOverflow(): number {
    return pidsFull(this.tracer);
  }

  /** Frees the object, links and maps. Idempotent. */
  close(): void {
    this.closed = true;
    this.tracer.close();
  }
}
