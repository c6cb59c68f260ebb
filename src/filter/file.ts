// `exectrace filter FILE -o OUT`: a new, valid trace file holding the records behind the
// events a filter keeps (select.ts), every loss record, the source's metadata with a
// `filter` note, and a trailer that carries the source's kernel counters (sent, lost) with
// this file's own record counts — so `stats OUT` still tells what the recording lost.
// Formats/trace-format.md §10.13 and §11 say what the note and the trailer hold.
//
// Streaming: chunks are read one at a time; kept records go into an output buffer written
// as a chunk whenever it reaches CHUNK_BYTES, and at the end. A chunk kept whole, in order,
// is copied as stored (no recompression). Memory: the output buffer, one input chunk, and
// the selector's per-thread state.

import type {Zone} from '../util/time';
import * as path from 'node:path';
import {Decoder, decodeMeta, type TraceEvent} from '../decode/events';
import {
  FrameCursor, type MetaMap, type Problem, TraceFormatError, TraceReader, TraceWriter, fileSha256, framesProblem,
  type ProgressFn,
} from '../format';
import {appliedSpec, compileFilter, type EventFilter, type FilterSpec} from './compile';
import {Selector} from './select';
import {explainEmpty, summarize} from './explain';
import {sameFile} from '../util/files';

/**
 * Output chunks are written when their frames reach this many bytes: at the next input
 * chunk boundary while everything kept from the current input chunk is still all of it
 * from its start (so that a chunk kept whole can be copied as stored; the recorder's
 * chunks are a little over this size), else at once; and never above twice this.
 */
const CHUNK_BYTES = 4 * 1024 * 1024;

export interface FilterFileOptions {
  force?: boolean;
  /** zstd level for the output chunks (chunks copied whole keep their bytes). */
  level?: number;
  /** Show the processes alive at start that match (default); false: none. */
  processes?: boolean;
  onProblem?: (p: Problem) => void;
  /** The zone of clock times given to --since/--until (UTC when not said). */
  zone?: Zone;
  /** The source's name in the output's notes (default: the input's file name; `-` for standard input). */
  sourceName?: string;
  /** Called after each chunk read from the input (a progress line). */
  onProgress?: ProgressFn;
}

export interface FilterFileReport {
  input: string;
  output: string;
  input_sha256: string;
  filter: string;
  /** Records read from the input, and kept. */
  records_in: number;
  records_out: number;
  /** Kept records by record type (context records not included). */
  kept: Record<string, number>;
  /** Context records written (records_out includes them). */
  context: number;
  /** Events that matched (lost markers included), and the processes alive at start shown. */
  events: number;
  /** Of those events, the lost markers (which pass every filter). */
  lost_markers: number;
  processes: number;
  /** Records that could not be decoded (unknown type, malformed), so could not match. */
  undecodable: number;
  chunks: number;
  /** Output chunks copied whole from the input, stored bytes unchanged. */
  copied: number;
  bytes: number;
  chain_head: string;
  /** Problems of the input (damage); each was passed to onProblem. */
  problems: number;
  /** The input had a readable trailer (its kernel counters were carried over). */
  source_trailer: boolean;
  /** The filter's warnings, then, when it was given and nothing matched, why (one line each). */
  warnings: string[];
}

interface TypeTotals {
  sent?: number;
  lost: number;
  filtered?: number;
  recorded: number;
  context?: number;
}

/** Writes the records of `input` that `spec` keeps to `output`. Throws a one-line Error when it cannot. */
export function filterFile(input: string, output: string, spec: FilterSpec, opts: FilterFileOptions = {}): FilterFileReport {
  if (sameFile(input, output)) throw new Error(`output ${output} is the input file: write the filtered copy elsewhere`);
  let problems = 0;
  const reader = TraceReader.open(input, {
    reuseBuffers: true,
    onProgress: opts.onProgress,
    onProblem: (p) => {
      problems++;
      opts.onProblem?.(p);
    },
  });
  let writer: TraceWriter | undefined;
  try {
    const decoder = new Decoder(decodeMeta(reader.meta));
    const filter: EventFilter = compileFilter(spec, {path: input, decoder, zone: opts.zone, meta: reader.meta as never});
    // The events are only tested here, never shown: their time strings are made only
    // when the filter reads them.
    decoder.times = filter.reads('time');
    const {sha256, size} = fileSha256(input);

    // The snapshot stays whole in the metadata (the context of exits and syscalls of those
    // processes); `filter.processes` names the entries the filter kept, which readers show.
    const shown: number[] = [];
    for (const p of decoder.processEvents()) {
      if (filter.test(p) && opts.processes !== false) shown.push(p.pid as number);
    }
    const meta: MetaMap = {...reader.meta};
    const mark = contextFlag(decoder, reader.meta.flags);
    if (mark) meta.flags = {...(reader.meta.flags as MetaMap | undefined), context: mark.bit};
    const note: Record<string, unknown> = {
      applied: appliedSpec(spec),
      source: {file: opts.sourceName ?? path.basename(input), sha256, size},
      at: new Date().toISOString(),
      processes: shown,
    };
    if (filter.window.since !== undefined || filter.window.until !== undefined) note.window = filter.window;
    if (reader.meta.filter !== undefined) note.previous = reader.meta.filter;
    meta.filter = note as MetaMap;
    writer = TraceWriter.create(output, meta, {force: opts.force, level: opts.level});
    const w = writer;

    const out = new ChunkBuilder(mark);
    const kept = new Map<number, number>();
    const context = new Map<number, number>();
    const lost = new Map<string, number>();
    let copied = 0;
    let lostMarkers = 0;
    const flush = () => {
      if (out.count === 0) return;
      w.writeChunk(out.frames(), {records: out.count, firstTs: out.firstTs, lastTs: out.lastTs});
      out.reset();
    };
    let chunkData: Buffer | null = null;
    const selector = new Selector(decoder, filter.test, {
      event: (e: TraceEvent) => {
        if (e.type !== 'lost') return;
        lostMarkers++;
        if (typeof e.event === 'string') lost.set(e.event, (lost.get(e.event) ?? 0) + Number(e.count ?? 0));
      },
      record: (b, o, n, type, ts, ctx) => {
        const m = ctx ? context : kept;
        m.set(type, (m.get(type) ?? 0) + 1);
        out.add(b, o, n, ts, ctx, b === chunkData);
        if (out.bytes >= CHUNK_BYTES && (out.bytes >= 2 * CHUNK_BYTES || !out.wholeSoFar(chunkData))) flush();
      },
      // Syscall events are decided from their parts (filter.testSyscall, null with a --where):
      // event() above then sees the other events only, which is all it counts.
    }, true, mark !== null, filter.testSyscall);

    const cursor = new FrameCursor();
    for (const c of reader.chunks()) {
      chunkData = c.data;
      if (out.bytes >= CHUNK_BYTES) flush();
      out.startInput();
      cursor.reset(c.data);
      let frames = 0;
      while (cursor.next()) {
        frames++;
        selector.feed(cursor.buf, cursor.offset, cursor.length);
      }
      const problem = framesProblem(c, frames, cursor.error);
      // A cut chunk's stored bytes are a partial payload (spec §8.2.1): never copied, its records are framed anew.
      if (!problem && !c.cut && out.wholeInput(c.data, c.records)) {
        // Every record of the chunk, in order and nothing else: copy it as stored.
        flush();
        w.copyChunk({payload: c.stored, flags: c.flags, rawSize: c.data.length, records: c.records, firstTs: c.firstTs, lastTs: c.lastTs});
        copied++;
      }
      // The reader reuses its buffer for the next chunk: nothing may point into it after this.
      out.endInput();
      selector.spill();
      chunkData = null;
      if (problem) {
        reader.problems.push(problem);
        problems++;
        opts.onProblem?.(problem);
      }
    }
    selector.end();
    flush();

    // The trailer: the source's kernel counters, this file's records.
    const source = reader.trailer;
    const srcTotals = (source?.totals ?? {}) as Record<string, {sent?: unknown; lost?: unknown; filtered?: unknown}>;
    const names = new Set<string>([...decoder.eventNames.filter((x) => x), ...Object.keys(srcTotals)]);
    const totals: Record<string, TypeTotals> = {};
    const keptByName: Record<string, number> = {};
    const contextByName: Record<string, number> = {};
    decoder.eventNames.forEach((name, id) => {
      if (name && kept.has(id)) keptByName[name] = kept.get(id) as number;
      if (name && context.has(id)) contextByName[name] = context.get(id) as number;
    });
    names.delete('hash'); // not events (formats/trace-format.md §10.16)
    for (const name of names) {
      const s = srcTotals[name] ?? {};
      const t: TypeTotals = {
        lost: typeof s.lost === 'number' ? Math.max(s.lost, lost.get(name) ?? 0) : lost.get(name) ?? 0,
        recorded: keptByName[name] ?? 0,
      };
      if (typeof s.sent === 'number') t.sent = s.sent;
      if (typeof s.filtered === 'number') t.filtered = s.filtered;
      if (contextByName[name]) t.context = contextByName[name];
      totals[name] = t;
    }
    const trailer: Record<string, unknown> = {};
    if (source) {
      for (const [k, v] of Object.entries(source)) if (!['chunks', 'records', 'final_hash', 'totals', 'end_reason'].includes(k)) trailer[k] = v;
      // A filtered file filtered again keeps the recording's own end reason.
      const original = source.original_end_reason ?? source.end_reason;
      if (typeof original === 'string') trailer.original_end_reason = original;
    }
    trailer.totals = totals;
    trailer.end_reason = 'filtered';
    trailer.filtered_from = {
      file: opts.sourceName ?? path.basename(input), sha256,
      chunks: reader.stats.chunks, records: reader.stats.records,
      trailer: source !== null, problems,
    };
    const stats = w.close(trailer);
    const counts = selector.counts;
    const warnings = filter.warnings();
    if (filter.active && counts.matched - lostMarkers + shown.length === 0) {
      warnings.push(...explainEmpty(filter, summarize(input, opts.processes !== false), opts.zone ?? 'utc'));
    }
    return {
      input, output, input_sha256: sha256, filter: filter.describe(),
      records_in: counts.records, records_out: stats.records, kept: keptByName, context: counts.context,
      events: counts.matched, lost_markers: lostMarkers, processes: shown.length, undecodable: counts.unknown + counts.malformed,
      chunks: stats.chunks, copied, bytes: stats.bytes, chain_head: w.chainHead,
      problems, source_trailer: source !== null, warnings,
    };
  } catch (err) {
    writer?.discard();
    throw err instanceof TraceFormatError ? new Error(`cannot filter ${input}: ${err.message}`) : err;
  } finally {
    reader.close();
  }
}

/** The header flag that marks context records: the file's own, else the highest bit its `flags` map leaves free. */
function contextFlag(d: Decoder, flags: unknown): ContextMark | null {
  const f = d.header.fields.find((x) => x.name === 'flags');
  if (!f || (f.size !== 1 && f.size !== 2 && f.size !== 4) || f.count !== undefined) return null;
  if (d.contextBit) return {offset: f.offset, size: f.size, bit: d.contextBit};
  let used = 0;
  if (typeof flags === 'object' && flags !== null) for (const v of Object.values(flags)) if (typeof v === 'number') used |= v;
  for (let bit = f.size * 8 - 1; bit >= 0; bit--) {
    const v = 2 ** bit;
    if ((used & v) === 0) return {offset: f.offset, size: f.size, bit: v};
  }
  return null;
}

interface ContextMark {
  offset: number;
  size: number;
  bit: number;
}

/**
 * Kept frames, `[u32 length][record]`, in one growing buffer reused from chunk to chunk.
 * Records kept in a row from the input chunk are copied as one run (their frames are
 * byte for byte the input's), so keeping most of a file costs one copy per run, not per
 * record; and a run that turns out to be the whole input chunk is not copied at all.
 */
class ChunkBuilder {
  private buf = Buffer.allocUnsafe(1 << 16);
  /** Bytes in buf; `bytes` also counts the pending run. */
  private used = 0;
  bytes = 0;
  count = 0;
  firstTs: number | bigint = 0;
  lastTs: number | bigint = 0;
  private runSrc: Buffer | null = null;
  private runStart = 0;
  private runEnd = 0;
  private runCount = 0;
  /** State when the current input chunk began (to take back a run that was the whole chunk). */
  private at = {bytes: 0, count: 0, firstTs: 0 as number | bigint, lastTs: 0 as number | bigint};

  constructor(private readonly mark: ContextMark | null) {}

  /** A record of n bytes at b[o]; `inInput`: b is the input chunk, whose frame prefix precedes it. */
  add(b: Buffer, o: number, n: number, ts: number | bigint, context: boolean, inInput: boolean): void {
    if (this.count === 0 || ts < this.firstTs) this.firstTs = ts;
    if (this.count === 0 || ts > this.lastTs) this.lastTs = ts;
    this.count++;
    this.bytes += 4 + n;
    if (inInput && !context && o >= 4) {
      if (this.runSrc === b && o - 4 === this.runEnd) {
        this.runEnd = o + n;
        this.runCount++;
        return;
      }
      this.flushRun();
      this.runSrc = b;
      this.runStart = o - 4;
      this.runEnd = o + n;
      this.runCount = 1;
      return;
    }
    this.flushRun();
    const at = this.reserve(4 + n);
    this.buf.writeUInt32LE(n, at);
    b.copy(this.buf, at + 4, o, o + n);
    const m = this.mark;
    if (context && m !== null && m.offset + m.size <= n) {
      // The one change made to a copied record: the context flag.
      const f = at + 4 + m.offset;
      if (m.size === 2) this.buf.writeUInt16LE((this.buf.readUInt16LE(f) | m.bit) & 0xffff, f);
      else if (m.size === 4) this.buf.writeUInt32LE((this.buf.readUInt32LE(f) | m.bit) >>> 0, f);
      else this.buf.writeUInt8((this.buf.readUInt8(f) | m.bit) & 0xff, f);
    }
  }

  startInput(): void {
    this.at = {bytes: this.bytes, count: this.count, firstTs: this.firstTs, lastTs: this.lastTs};
  }

  /**
   * Whether this input chunk's contribution is exactly all its records, in order: then it
   * is taken back (the caller copies the stored chunk instead).
   */
  wholeInput(data: Buffer, records: number): boolean {
    if (this.runSrc !== data || this.runStart !== 0 || this.runEnd !== data.length || this.runCount !== records) return false;
    if (this.count - this.at.count !== records) return false;
    this.runSrc = null;
    this.bytes = this.at.bytes;
    this.count = this.at.count;
    this.firstTs = this.at.firstTs;
    this.lastTs = this.at.lastTs;
    return true;
  }

  /** Whether what this input chunk gave so far is one run of its records from its first one. */
  wholeSoFar(data: Buffer | null): boolean {
    return this.runSrc === data && this.runStart === 0 && this.count - this.at.count === this.runCount;
  }

  /** The input chunk's buffer is about to be reused: copy the pending run out of it. */
  endInput(): void {
    this.flushRun();
  }

  frames(): Buffer {
    this.flushRun();
    return this.buf.subarray(0, this.used);
  }

  reset(): void {
    this.runSrc = null;
    this.used = 0;
    this.bytes = 0;
    this.count = 0;
    this.firstTs = 0;
    this.lastTs = 0;
    this.at = {bytes: 0, count: 0, firstTs: 0, lastTs: 0};
  }

  private flushRun(): void {
    const src = this.runSrc;
    if (src === null) return;
    this.runSrc = null;
    const at = this.reserve(this.runEnd - this.runStart);
    src.copy(this.buf, at, this.runStart, this.runEnd);
  }

  /** Room for n more bytes in buf; returns where they go. */
  private reserve(n: number): number {
    const need = this.used + n;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    const at = this.used;
    this.used = need;
    return at;
  }
}

