// The chunk step of `record`: batches of frames in, chunks of the trace file out, and the
// count of every record per type. It knows frames and the record header, nothing of BPF
// or the addon, so it runs (and is tested, test/record-chunks.test.ts) without a kernel;
// without a file it only counts and hands each batch on, which is what a live consumer
// with no output needs.
//
// The hot path never builds an object per record: a batch the drain summarized (frames
// per type, time span) is taken as it is, and only a batch it could not summarize, or one
// the recorder made itself (lost and in-flight records), is scanned here.

import type {RecordLayout} from '../btf';
import type {TraceWriter} from '../format';
import type {BatchSummary} from './native';
import {pos} from './counters';

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
}

// A chunk overshoots chunkBytes by at most this much, as when batches were 1 MiB: a big
// batch on top of a well-filled chunk goes into a chunk of its own.
const OVERSHOOT = 1 << 20;

export class ChunkWriter {
  /** Records in the chunks written so far (the trailer's `records`). */
  written = 0;
  /** Records the recorder made that are not lost records (in-flight calls): in the file, not counted by type. */
  inflight = 0;
  /** Why the file stopped taking chunks, if it did. */
  writeError: Error | undefined;
  private sink: ChunkSink | undefined;
  // The next chunk's frames, copied in batch by batch: one buffer reused for every chunk,
  // so the hot path neither allocates nor faults in fresh pages (the batch itself is freed
  // once copied). Grown, rarely, when a batch does not fit.
  private pending = Buffer.alloc(0);
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

  constructor(private readonly opts: ChunkOptions, sink?: ChunkSink) {
    if (sink) this.writeTo(sink);
  }

  /**
   * Starts writing chunks to `sink`. Until then (and with none) batches are counted and
   * handed on only: the file is created once the drain already runs.
   */
  writeTo(sink: ChunkSink): void {
    this.sink = sink;
    if (this.pending.length === 0) this.pending = Buffer.allocUnsafeSlow(this.opts.chunkBytes + (2 << 20));
  }

  /** Takes a batch the drain summarized as it copied it; one it could not summarize is scanned here. */
  summarized(batch: Buffer, summary?: BatchSummary): void {
    if (!summary || summary.frames[2] !== 0) {
      this.frames(batch);
      return;
    }
    const counts = summary.counts;
    for (let t = 0; t < counts.length; t++) this.recordedSmall[t] += counts[t];
    const stamped = summary.frames[1] !== 0;
    this.take(batch, summary.frames[0], stamped, stamped ? summary.ts[0] : 0n, stamped ? summary.ts[1] : 0n);
  }

  /**
   * Takes a batch of frames, scanned here: from the drain when it could not summarize
   * them, or `synthesized` (lost and in-flight records the recorder writes itself), which
   * go into the file but, lost records aside, are not counted as records the kernel sent.
   */
  frames(batch: Buffer, synthesized = false): void {
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
    this.take(batch, records, stamped, first, last);
  }

  /** Writes what is pending as one chunk (on the flush interval, and at the end). */
  flush(): void {
    if (!this.sink || this.pendingRecords === 0 || this.writeError) return;
    this.write(this.pending.subarray(0, this.pendingBytes), this.pendingRecords, this.firstTs, this.lastTs);
    this.pendingBytes = 0;
    this.pendingRecords = 0;
    this.pendingStamped = false;
    this.firstTs = 0n;
    this.lastTs = 0n;
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
  private take(batch: Buffer, records: number, stamped: boolean, first: bigint, last: bigint): void {
    if (this.opts.onBatch) this.opts.onBatch(batch);
    // Without a file yet, nothing is pending: a chunk holds only frames taken after writeTo.
    if (!this.sink) return;
    const chunkBytes = this.opts.chunkBytes;
    const n = batch.length;
    if (this.pendingBytes > 0 && this.pendingBytes + n > chunkBytes + OVERSHOOT) this.flush();
    if (this.pendingBytes === 0 && n >= chunkBytes) {
      // A full batch from the drain is a chunk already: no copy.
      this.write(batch, records, first, last);
      return;
    }
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
