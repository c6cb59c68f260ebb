// Continuous recording: one recording written as a series of files (record --rotate-size,
// --rotate-time, --max-files; formats/trace-format.md §10.19). What this file guarantees:
//
//   - names: `-o DIR/NAME.EXT` becomes DIR/NAME-000001.EXT, -000002 …; a file is never
//     overwritten (each is created exclusively), and a new recording with the same -o
//     numbers on after the highest file of the pattern already there;
//   - the cut: a file ends between two chunks (ChunkWriter.cut), never inside one, so
//     every record is in exactly one file; the drain is not involved and never waits;
//   - the link: each file's META names the file before it and that file's chain head,
//     and each trailer names the file after it (`series.next`), so `verify` can say which
//     link is broken or which file is missing;
//   - --max-files: once a file is created, the lowest-numbered files of the pattern beyond
//     N are removed.
//
// The recorder supplies what a file holds (its META, its trailer); this file decides when a
// file ends, what it is called, and keeps the chunks flowing into whichever file is current.

import * as fs from 'node:fs';
import * as path from 'node:path';
import {randomBytes} from 'node:crypto';
import type {ChunkInfo, TraceWriter} from '../format';
import type {ChunkSink} from './chunks';
import {UserError} from '../util/errors';

/** SeriesNames are the parts of a series' file names, from the -o a user gave. */
export interface SeriesNames {
  dir: string;
  /** The name before its last `.` (the whole name when it has none). */
  stem: string;
  /** `.bin`, or '' */
  ext: string;
}

/** Digits of a file's number in its name, at least (more once it needs them). */
const DIGITS = 6;

/** seriesNames returns how `-o` names the files of its series: trace.bin → trace-000001.bin …. */
export function seriesNames(output: string): SeriesNames {
  const abs = path.resolve(output);
  const base = path.basename(abs);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? {dir: path.dirname(abs), stem: base.slice(0, dot), ext: base.slice(dot)} : {dir: path.dirname(abs), stem: base, ext: ''};
}

/** seriesPath returns the path of file number `seq` of the series. */
export function seriesPath(n: SeriesNames, seq: number): string {
  return path.join(n.dir, `${n.stem}-${String(seq).padStart(DIGITS, '0')}${n.ext}`);
}

/** seriesNumber returns the number in a file name of the pattern, or null for any other name. */
export function seriesNumber(n: SeriesNames, name: string): number | null {
  if (!name.startsWith(`${n.stem}-`) || !name.endsWith(n.ext)) return null;
  const digits = name.slice(n.stem.length + 1, name.length - n.ext.length);
  if (digits.length < DIGITS || !/^\d+$/.test(digits)) return null;
  const v = Number(digits);
  return Number.isSafeInteger(v) && v > 0 ? v : null;
}

/** seriesFiles lists the regular files of the pattern in the directory, lowest number first; UserError when it cannot be read. */
export function seriesFiles(n: SeriesNames): {seq: number; path: string}[] {
  let names: string[];
  try {
    names = fs.readdirSync(n.dir);
  } catch (err) {
    throw new UserError(`output directory ${n.dir}: ${(err as Error).message}`);
  }
  const out: {seq: number; path: string}[] = [];
  for (const name of names) {
    const seq = seriesNumber(n, name);
    if (seq === null) continue;
    const p = path.join(n.dir, name);
    try {
      if (!fs.lstatSync(p).isFile()) continue;
    } catch {
      continue;
    }
    out.push({seq, path: p});
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/**
 * pruneSeries is --max-files: it removes the lowest-numbered files of the pattern until at most `max` remain.
 * Returns the paths removed; a file that cannot be removed is reported through `log` and kept.
 */
export function pruneSeries(n: SeriesNames, max: number, log: (line: string) => void): string[] {
  const files = seriesFiles(n);
  const removed: string[] = [];
  for (const f of files.slice(0, Math.max(0, files.length - max))) {
    try {
      fs.unlinkSync(f.path);
      removed.push(f.path);
    } catch (err) {
      log(`--max-files: cannot remove ${f.path}: ${(err as Error).message}`);
    }
  }
  return removed;
}

/** RotateOptions are record's rotation options (RecordOptions.rotate). */
export interface RotateOptions {
  /** End a file once it holds this many bytes (at the next chunk boundary). */
  bytes?: number;
  /** End a file once it has been written to for this long. */
  ms?: number;
  /** Keep at most this many files of the pattern (the current one included). */
  maxFiles?: number;
}

/** SeriesMeta is the `series` key of a file's META (formats/trace-format.md §10.19). */
export interface SeriesMeta {
  id: string;
  seq: number;
  first: boolean;
  prev: {file: string; seq: number; chain_head: string} | null;
  started: string;
}

/** SeriesHooks are what the recorder does at the two ends of a file (all called on the main thread). */
export interface SeriesHooks {
  /** Creates file `file` (exclusively, mode 0600, locked) and writes its META with `series`. */
  open(file: string, series: SeriesMeta): TraceWriter;
  /**
   * Called at the instant a file is to end, before its last chunk is flushed: reads what
   * the file's trailer needs (the kernel's counters), and may add records (loss records)
   * that belong in it. Returns the trailer's close function, run once its chunks are all written.
   */
  ending(why: 'size' | 'time'): (writer: TraceWriter, series: {id: string; seq: number; next: string}) => void;
  log(line: string): void;
  /** A file could not be ended or the next one created: the recording stops (nothing can be written any more). */
  fail(err: Error): void;
}

/**
 * Series is the files of one recording, and the sink its chunks go to (the file being written);
 * main thread only.
 * Rotation is asked for by size (checked after each chunk) or time (a timer per file), and
 * carried out between chunks through `cut`, which the recorder wires to ChunkWriter.cut.
 */
export class Series implements ChunkSink {
  readonly id = randomBytes(16).toString('hex');
  readonly names: SeriesNames;
  /** Every file written, in order (removed ones included). */
  readonly files: string[] = [];
  /** Files --max-files removed. */
  removed = 0;
  /** Bytes and chunks of the files already ended. */
  endedBytes = 0;
  endedChunks = 0;
  private current: TraceWriter | null = null;
  /** The number of the file being written (before start: of the highest file already there, or 0). */
  seq = 0;
  private readonly started = new Date().toISOString();
  private timer: NodeJS.Timeout | undefined;
  private rotating = false;
  private stopped = false;
  private cutFn: ((then: () => void) => void) | undefined;

  constructor(output: string, private readonly o: RotateOptions, private readonly hooks: SeriesHooks) {
    this.names = seriesNames(output);
    const existing = seriesFiles(this.names);
    this.seq = existing.length ? existing[existing.length - 1].seq : 0;
  }

  /** latest is the highest-numbered file of the pattern that was there when the series began, if any (to check no recorder is writing it). */
  get latest(): string | undefined {
    return this.seq > 0 ? seriesPath(this.names, this.seq) : undefined;
  }

  /** nextPath is the file the series writes next (the first one, before start). */
  get nextPath(): string {
    return seriesPath(this.names, this.seq + 1);
  }

  /** writer is the file being written (null once a rotation failed). */
  get writer(): TraceWriter | null {
    return this.current;
  }

  /** start opens the first file and returns its writer; `cut` ends a file between chunks (ChunkWriter.cut). Throws what hooks.open throws. */
  start(cut: (then: () => void) => void): TraceWriter {
    this.cutFn = cut;
    return this.openNext(null);
  }

  writeChunk(frames: Buffer, info: ChunkInfo): void {
    const w = this.current;
    if (!w) throw new Error(`write ${seriesPath(this.names, this.seq + 1)}: the next file of the series could not be created`);
    w.writeChunk(frames, info);
    if (this.o.bytes !== undefined && w.stats.bytes >= this.o.bytes) this.due('size');
  }

  syncSoon(): void {
    this.current?.syncSoon();
  }

  /** stop: no rotation after this (the recording is stopping); the current file is the last. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * A file is due to end: the cut runs from the event loop, not from inside the chunk
   * write that noticed it (the chunk step is not re-entrant).
   */
  private due(why: 'size' | 'time'): void {
    if (this.rotating || this.stopped) return;
    this.rotating = true;
    setImmediate(() => this.rotate(why));
  }

  private rotate(why: 'size' | 'time'): void {
    if (this.stopped || !this.current || !this.cutFn) {
      this.rotating = false;
      return;
    }
    const close = this.hooks.ending(why);
    this.cutFn(() => {
      const t0 = process.hrtime.bigint();
      const old = this.current;
      this.current = null;
      if (!old) return;
      const oldSeq = this.seq;
      const next = seriesPath(this.names, oldSeq + 1);
      this.rotating = false;
      try {
        close(old, {id: this.id, seq: oldSeq, next: path.basename(next)});
      } catch (err) {
        // The writer cut off what it could not finish: the file ends at its last whole chunk.
        old.destroy();
        this.hooks.fail(new Error(`${old.path} could not be ended: ${(err as Error).message}`));
        return;
      }
      const {bytes, chunks} = old.stats;
      this.endedBytes += bytes;
      this.endedChunks += chunks;
      const head = old.chainHead;
      try {
        this.openNext({file: path.basename(old.path), seq: oldSeq, chain_head: head});
      } catch (err) {
        this.hooks.fail(new Error(`the next file of the series, ${next}: ${(err as Error).message}`));
        return;
      }
      // How long the main thread spent ending one file and beginning the next (trailer, fsync, snapshot, metadata).
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      this.hooks.log(`rotated (${why}) to ${next} in ${ms.toFixed(0)} ms: ${old.path} ended with ${bytes} bytes in ${chunks} chunks, chain head ${head}`);
    });
  }

  private openNext(prev: SeriesMeta['prev']): TraceWriter {
    const seq = this.seq + 1;
    const file = seriesPath(this.names, seq);
    const w = this.hooks.open(file, {id: this.id, seq, first: prev === null, prev, started: this.started});
    this.seq = seq;
    this.current = w;
    this.files.push(file);
    if (this.o.maxFiles !== undefined) {
      const gone = pruneSeries(this.names, this.o.maxFiles, this.hooks.log);
      this.removed += gone.length;
      if (gone.length) this.hooks.log(`--max-files ${this.o.maxFiles}: removed ${gone.map((g) => path.basename(g)).join(', ')}`);
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.o.ms !== undefined && !this.stopped) this.timer = setTimeout(() => this.due('time'), this.o.ms);
    return w;
  }
}
