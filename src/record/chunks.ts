// The chunk step of `record`: batches of frames in, chunks of the trace file out, and the
// count of every record per type. It knows frames and the record header, nothing of BPF
// or the addon, so it runs (and is tested, test/record-chunks.test.ts) without a kernel;
// without a file it only counts and hands each batch on, which is what a live consumer
// with no output needs.
//
// The hot path never builds an object per record: a batch the drain summarized (frames
// per type, time span) is taken as it is, and only a batch it could not summarize, or one
// the recorder made itself (lost and in-flight records), is scanned here.
//
// With a hasher, every exec record gets an et_hash record just before it in its chunk
// (formats/trace-format.md §10.16). The drain says where the exec frames of a batch are
// (with the descriptors it opened for them); a chunk that is due while some of its execs
// wait for their digest is parked, and written, in order, once they have arrived or
// `waitMs` later (then those execs are `late`). The drain never waits for it: the next
// chunk fills meanwhile in another buffer.

import type {RecordLayout} from '../btf';
import type {TraceWriter} from '../format';
import * as fs from 'node:fs';
import type {BatchSummary, ExeDescriptors} from './native';
import {pos} from './counters';
import type {Hasher, PendingHash} from './hasher';

/** Where every record's header keeps its type and timestamp (from the object's BTF). */
export interface FrameHeader {
  /** Bytes of the header: a shorter frame is neither counted by type nor timed. */
  size: number;
  typeOffset: number;
  typeSize: 2 | 4;
  /** A u64, boot-clock ns. */
  tsOffset: number;
}

/** The FrameHeader of struct et_header's layout. */
export function frameHeader(header: RecordLayout): FrameHeader {
  const typeAt = pos(header, 'type');
  if (typeAt.size !== 2 && typeAt.size !== 4) throw new Error(`bpf object: ${header.name}.type is ${typeAt.size} bytes, not 2 or 4`);
  return {size: header.size, typeOffset: typeAt.offset, typeSize: typeAt.size, tsOffset: pos(header, 'ts_ns').offset};
}

/** What the chunk step needs of the file: TraceWriter, or a test's stand-in. */
export type ChunkSink = Pick<TraceWriter, 'writeChunk'> & Partial<Pick<TraceWriter, 'syncSoon'>>;

export interface ChunkOptions {
  /** Uncompressed bytes of frames that make a chunk. */
  chunkBytes: number;
  header: FrameHeader;
  /** The type id of `lost` records: made by the recorder, yet counted as recorded. */
  lostType: number;
  /**
   * The live hand-off: every batch, as it is taken and before it is copied or written,
   * lost and in-flight records included. A drain batch may be a reused buffer: copy what
   * you keep.
   */
  onBatch?: (frames: Buffer) => void;
  /** The first write that failed; no chunk is written after it. */
  onWriteError?: (err: Error) => void;
  /** Hashes the file of every exec (none: record --no-hash, or no file). */
  hasher?: Hasher;
  /** How long a due chunk waits for the digests of its execs. */
  hashWaitMs?: number;
}

/** An exec frame at byte `at` of the pending chunk, and its digest to come. */
interface Mark {
  at: number;
  p: PendingHash;
}

/**
 * A chunk that was due while digests of its execs were still to come; or, with `cut`, the
 * end of a file of a series (no frames): everything before it goes to the file being ended.
 */
interface Parked {
  buffer: Buffer;
  bytes: number;
  records: number;
  first: bigint;
  last: bigint;
  marks: Mark[];
  /** Date.now() when it was due. */
  due: number;
  cut?: () => void;
}

/** Parked chunks are written anyway, digests or not, beyond this many bytes. */
const PARKED_MAX_BYTES = 64 << 20;

// A chunk overshoots chunkBytes by at most this much, as when batches were 1 MiB: a big
// batch on top of a well-filled chunk goes into a chunk of its own.
const OVERSHOOT = 1 << 20;

const EMPTY = Buffer.alloc(0);

export class ChunkWriter {
  /** Records in the chunks written so far (the trailer's `records`). */
  written = 0;
  /** Records the recorder made that are not lost records (in-flight calls): in the file, not counted by type. */
  inflight = 0;
  /** et_hash records written (formats/trace-format.md §10.16): in the file, not counted by type. */
  hashRecords = 0;
  /** Why the file stopped taking chunks, if it did. */
  writeError: Error | undefined;
  private sink: ChunkSink | undefined;
  // The next chunk's frames, copied in batch by batch: one buffer reused for every chunk,
  // so the hot path neither allocates nor faults in fresh pages (the batch itself is freed
  // once copied). Grown, rarely, when a batch does not fit.
  private pending: Buffer = Buffer.alloc(0);
  private pendingBytes = 0;
  private pendingRecords = 0;
  private pendingStamped = false; // firstTs/lastTs hold a span
  private firstTs = 0n;
  private lastTs = 0n;
  // Records per type id: an array for the ids a u16 holds (a Map lookup per record costs
  // more than the rest of the scan), a Map for anything larger a layout could give.
  private readonly recordedSmall = new Float64Array(1 << 16);
  private readonly recordedLarge = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private marks: Mark[] = [];
  private readonly parked: Parked[] = [];
  private parkedBytes = 0;
  private readonly spare: Buffer[] = [];
  private parkTimer: NodeJS.Timeout | undefined;
  private settled: (() => void) | undefined;

  constructor(private readonly opts: ChunkOptions, sink?: ChunkSink) {
    if (sink) this.writeTo(sink);
    if (opts.hasher) opts.hasher.onDone = () => this.writeParked(false);
  }

  /**
   * Starts writing chunks to `sink`. Until then (and with none) batches are counted and
   * handed on only: the file is created once the drain already runs.
   */
  writeTo(sink: ChunkSink): void {
    this.sink = sink;
    if (this.pending.length === 0) this.pending = Buffer.allocUnsafeSlow(this.opts.chunkBytes + (2 << 20));
  }

  /**
   * Takes a batch the drain summarized as it copied it; one it could not summarize is
   * scanned here. `exe`: where its exec frames are, with their descriptors (taken: closed
   * here or by the hasher).
   */
  summarized(batch: Buffer, summary?: BatchSummary, exe?: ExeDescriptors): void {
    if (!summary || summary.frames[2] !== 0) {
      this.frames(batch, false, exe);
      return;
    }
    const counts = summary.counts;
    for (let t = 0; t < counts.length; t++) this.recordedSmall[t] += counts[t];
    const stamped = summary.frames[1] !== 0;
    this.take(batch, summary.frames[0], stamped, stamped ? summary.ts[0] : 0n, stamped ? summary.ts[1] : 0n, exe);
  }

  /**
   * Takes a batch of frames, scanned here: from the drain when it could not summarize
   * them, or `synthesized` (lost and in-flight records the recorder writes itself), which
   * go into the file but, lost records aside, are not counted as records the kernel sent.
   */
  frames(batch: Buffer, synthesized = false, exe?: ExeDescriptors): void {
    const {size: headerSize, typeOffset, typeSize, tsOffset} = this.opts.header;
    const lostType = this.opts.lostType;
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
      if (len >= headerSize) {
        const t = typeSize === 2 ? batch.readUInt16LE(o + typeOffset) : batch.readUInt32LE(o + typeOffset);
        if (!synthesized || t === lostType) {
          if (t < 65536) this.recordedSmall[t]++;
          else this.recordedLarge.set(t, (this.recordedLarge.get(t) ?? 0) + 1);
        }
        else this.inflight++;
        const ts = batch.readBigUInt64LE(o + tsOffset);
        if (!stamped || ts < first) first = ts;
        if (ts > last) last = ts;
        stamped = true;
      }
      records++;
      p = o + len;
    }
    this.take(batch, records, stamped, first, last, exe);
  }

  /**
   * Writes what is pending as one chunk (on the flush interval, and at the end); parks it
   * instead while digests of its execs, or of an earlier parked chunk's, are still to come.
   */
  flush(): void {
    if (!this.sink || this.pendingRecords === 0 || this.writeError) return;
    if (this.marks.length === 0 && this.parked.length === 0) {
      this.write(this.pending.subarray(0, this.pendingBytes), this.pendingRecords, this.firstTs, this.lastTs);
    } else {
      this.parked.push({
        buffer: this.pending, bytes: this.pendingBytes, records: this.pendingRecords,
        first: this.firstTs, last: this.lastTs, marks: this.marks, due: Date.now(),
      });
      this.parkedBytes += this.pendingBytes;
      this.marks = [];
      this.pending = this.spare.pop() ?? Buffer.allocUnsafeSlow(this.pending.length);
    }
    this.pendingBytes = 0;
    this.pendingRecords = 0;
    this.pendingStamped = false;
    this.firstTs = 0n;
    this.lastTs = 0n;
    if (this.parked.length) this.writeParked(false);
  }

  /**
   * cut ends the file between chunks (a rotation, src/record/series.ts): what is pending is
   * flushed, and `then` runs once every chunk taken so far is written — at once, or after
   * the parked chunks ahead of it — and before any chunk taken later, so `then` can switch
   * the sink to the next file and no record is in two files or none. Returns whether
   * `then` already ran.
   */
  cut(then: () => void): boolean {
    this.flush();
    if (this.parked.length === 0) {
      then();
      return true;
    }
    this.parked.push({buffer: EMPTY, bytes: 0, records: 0, first: 0n, last: 0n, marks: [], due: Date.now(), cut: then});
    return false;
  }

  /** cancelCut drops a cut still waiting behind parked chunks: the records after it stay in the current file. Returns whether there was one. */
  cancelCut(): boolean {
    const i = this.parked.findIndex((h) => h.cut !== undefined);
    if (i < 0) return false;
    this.parked.splice(i, 1);
    return true;
  }

  /**
   * Flushes, then resolves once every parked chunk is written: at the latest `hashWaitMs`
   * after the last one was due.
   */
  settle(): Promise<void> {
    this.flush();
    if (this.parked.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.settled = resolve;
      this.writeParked(false);
    });
  }

  /**
   * Writes the parked chunks that can go, in order: the first one whose digests are all
   * there, or whose wait is over (`force`, or too many bytes parked), each exec with its
   * et_hash record spliced in just before it.
   */
  private writeParked(force: boolean): void {
    const wait = this.opts.hashWaitMs ?? 0;
    while (this.parked.length) {
      const h = this.parked[0];
      if (h.cut) {
        this.parked.shift();
        h.cut();
        continue;
      }
      const left = h.due + wait - Date.now();
      if (!force && left > 0 && this.parkedBytes <= PARKED_MAX_BYTES && h.marks.some((m) => !m.p.done)) {
        if (!this.parkTimer) {
          this.parkTimer = setTimeout(() => {
            this.parkTimer = undefined;
            this.writeParked(false);
          }, left);
        }
        return;
      }
      for (const m of h.marks) if (!m.p.done) this.opts.hasher?.giveUp(m.p);
      this.parked.shift();
      this.parkedBytes -= h.bytes;
      this.write(spliced(h), h.records + h.marks.length, h.first, h.last);
      this.hashRecords += h.marks.length;
      if (this.spare.length < 2) this.spare.push(h.buffer);
    }
    if (this.parkTimer) clearTimeout(this.parkTimer);
    this.parkTimer = undefined;
    const done = this.settled;
    this.settled = undefined;
    done?.();
  }

  /**
   * Every `ms`: `before` (the loss poll, whose records belong in this chunk), a flush, and
   * an fdatasync in the background, so a power loss costs at most a tick or two.
   */
  startInterval(ms: number, before: () => void = () => {}): void {
    this.stopInterval();
    this.timer = setInterval(() => {
      before();
      this.flush();
      this.sink?.syncSoon?.();
    }, ms);
  }

  stopInterval(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Records taken so far per type id (lost records included, in-flight calls not). */
  recorded(): Map<number, number> {
    const m = new Map<number, number>();
    this.recordedSmall.forEach((n, id) => {
      if (n) m.set(id, n);
    });
    for (const [id, n] of this.recordedLarge) m.set(id, (m.get(id) ?? 0) + n);
    return m;
  }

  /** Queues a batch of `records` frames for the next chunk, or writes it as one when it is a chunk's worth. */
  private take(batch: Buffer, records: number, stamped: boolean, first: bigint, last: bigint, exe?: ExeDescriptors): void {
    if (this.opts.onBatch) this.opts.onBatch(batch);
    // Without a file yet, nothing is pending: a chunk holds only frames taken after writeTo.
    if (!this.sink || !this.opts.hasher) closeAll(exe);
    if (!this.sink) return;
    const marks = exe && this.opts.hasher ? this.hashExecs(batch, exe, this.opts.hasher) : null;
    const chunkBytes = this.opts.chunkBytes;
    const n = batch.length;
    if (this.pendingBytes > 0 && this.pendingBytes + n > chunkBytes + OVERSHOOT) this.flush();
    if (this.pendingBytes === 0 && n >= chunkBytes && !marks && this.parked.length === 0) {
      // A full batch from the drain is a chunk already: no copy.
      this.write(batch, records, first, last);
      return;
    }
    if (marks) for (const m of marks) this.marks.push({at: m.at + this.pendingBytes, p: m.p});
    if (this.pendingBytes + n > this.pending.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.pending.length * 2, this.pendingBytes + n));
      this.pending.copy(grown, 0, 0, this.pendingBytes);
      this.pending = grown;
    }
    batch.copy(this.pending, this.pendingBytes);
    this.pendingBytes += n;
    this.pendingRecords += records;
    if (stamped) {
      if (!this.pendingStamped || first < this.firstTs) this.firstTs = first;
      if (last > this.lastTs) this.lastTs = last;
      this.pendingStamped = true;
    }
    if (this.pendingBytes >= chunkBytes) this.flush();
  }

  /** The exec frames of a batch, each with its digest to come (exe: frame offset, descriptor pairs). */
  private hashExecs(batch: Buffer, exe: ExeDescriptors, hasher: Hasher): Mark[] {
    const marks: Mark[] = [];
    for (let i = 0; i + 1 < exe.length; i += 2) {
      const at = exe[i];
      const len = at + 4 <= batch.length ? batch.readUInt32LE(at) : 0;
      if (len === 0 || at + 4 + len > batch.length) {
        closeAll(exe.subarray(i, i + 2));
        continue;
      }
      marks.push({at, p: hasher.take(batch.subarray(at + 4, at + 4 + len), exe[i + 1])});
    }
    return marks;
  }

  /** One chunk; its frames were counted as they arrived, so the writer need not count them again. */
  private write(frames: Buffer, records: number, first: bigint, last: bigint): void {
    if (!this.sink || records === 0 || this.writeError) return;
    try {
      this.sink.writeChunk(frames, {records, firstTs: first, lastTs: last, counted: true});
    } catch (err) {
      this.writeError = err as Error;
      this.opts.onWriteError?.(err as Error);
    }
    this.written += records;
  }
}

/** The frames of a parked chunk with each exec's et_hash frame just before it. */
function spliced(h: Parked): Buffer {
  if (h.marks.length === 0) return h.buffer.subarray(0, h.bytes);
  let extra = 0;
  for (const m of h.marks) extra += m.p.frame.length;
  const out = Buffer.allocUnsafe(h.bytes + extra);
  let from = 0;
  let to = 0;
  for (const m of h.marks) {
    to += h.buffer.copy(out, to, from, m.at);
    to += m.p.frame.copy(out, to);
    from = m.at;
  }
  h.buffer.copy(out, to, from, h.bytes);
  return out;
}

/** Closes the descriptors of (frame offset, fd) pairs. */
function closeAll(exe: ExeDescriptors | undefined): void {
  if (!exe) return;
  for (let i = 1; i < exe.length; i += 2) {
    if (exe[i] < 0) continue;
    try {
      fs.closeSync(exe[i]);
    } catch {
      // closed already
    }
  }
}
