// Recovery (`exectrace recover`): rewrites what survives of a damaged, cut or unfinished
// trace file as a clean one. The metadata is kept, with a `recovered_from` note naming
// the source, its SHA-256 and every finding of verify; each intact chunk is copied with its
// stored payload byte for byte (only seq and prev_hash are new, so the chain is whole
// again); a chunk whose framing broke, or that the end of the file cut, keeps the records
// before the break; and a trailer is rebuilt from the records that survived. The writer
// stores the metadata twice again, from whichever copy of the source was intact. Offline-safe: format and decode only.

import * as path from 'node:path';
import {Decoder, decodeMeta} from '../decode';
import {
  type Finding, type ProgressFn, FrameCursor, type MetaMap, TraceFormatError, TraceReader, TraceWriter, type VerifyReport, framesProblem,
  verifyFile,
} from '../format';
import {sameFile} from '../util/files';

/** A file of random bytes yields a problem per resync: keep the note in the metadata bounded. */
const MAX_NOTED_PROBLEMS = 1000;

export interface RecoverOptions {
  /** Replace the output file if it exists. */
  force?: boolean;
  /** zstd level for chunks that have to be re-compressed (salvaged frames); copied chunks keep their bytes. */
  level?: number;
  /** Called for each finding of verify on the input (its problems, a missing trailer), in file order. */
  onFinding?: (f: Finding) => void;
  /** Called as the work goes (a progress line): verify's passes over the input (stages `checking`, `hashing`), then `copying`. */
  onProgress?: ProgressFn;
}

export interface RecoverReport {
  input: string;
  output: string;
  /** Hex SHA-256 of the input, as written into the output's `recovered_from`. */
  input_sha256: string;
  /** What verify found in the input (also in the output's `recovered_from.problems`). */
  findings: Finding[];
  /** Chunks written to the output: copied whole, or re-framed from the intact start of a chunk. */
  chunks: number;
  records: number;
  copied: number;
  reframed: number;
  /** Records known to be lost (from verified headers of chunks that could not be kept; a lower bound). */
  records_dropped: number;
  /** 'original' when the input's trailer was readable (its kernel counters are kept), else 'rebuilt'. */
  trailer: 'original' | 'rebuilt';
  /** Hex SHA-256 of the last block header of the output. */
  chain_head: string;
  bytes: number;
  /**
   * Why the source's record layouts cannot be used, or null. Its chunks are still copied
   * as stored (the bytes are the evidence), but decode will refuse the recovered file too.
   */
  layouts_error: string | null;
}

interface TypeTotals {
  sent?: number;
  lost: number;
  recorded: number;
}

/** Writes a clean copy of what survives of `input` to `output`. Throws a one-line Error when it cannot. */
export function recoverFile(input: string, output: string, opts: RecoverOptions = {}): RecoverReport {
  if (sameFile(input, output)) throw new Error(`output ${output} is the input file: write the recovered copy elsewhere`);
  // Pass 1: everything known about the damage, so the note in the metadata (written first) can name it.
  let check: VerifyReport;
  let reader: TraceReader;
  try {
    const progress = opts.onProgress;
    check = verifyFile(input, {onProgress: progress});
    reader = TraceReader.open(input, {reuseBuffers: true, onProgress: progress && ((p) => progress({...p, stage: 'copying'}))});
  } catch (err) {
    throw err instanceof TraceFormatError ? new Error(`cannot recover ${input}: ${err.message}`) : err;
  }
  const findings = check.findings;
  for (const f of findings) opts.onFinding?.(f);

  let writer: TraceWriter | undefined;
  try {
    const meta: MetaMap = {...reader.meta};
    let decoder: Decoder | null = null;
    let layoutsError: string | null = null;
    try {
      decoder = new Decoder(decodeMeta(meta));
    } catch (e) {
      // No usable record layouts: chunks are still copied; the trailer then counts no types.
      layoutsError = (e as Error).message;
    }
    meta.recovered_from = {
      file: path.basename(input),
      sha256: check.sha256,
      size: check.size,
      recovered_at: new Date().toISOString(),
      problems: findings.slice(0, MAX_NOTED_PROBLEMS).map((f) => ({...f})),
      ...(findings.length > MAX_NOTED_PROBLEMS && {problems_not_listed: findings.length - MAX_NOTED_PROBLEMS}),
    };
    writer = TraceWriter.create(output, meta, {force: opts.force, level: opts.level});

    const recorded = new Map<string, number>();
    const lost = new Map<string, number>();
    const unknownTypes = new Set<number>();
    const count = (d: Decoder, buf: Buffer, off: number, len: number): void => {
      const unknownBefore = d.counts.unknownType;
      const e = d.decode(buf, off, len);
      if (e) {
        recorded.set(e.type, (recorded.get(e.type) ?? 0) + 1);
        if (e.type === 'lost' && typeof e.event === 'string') lost.set(e.event, (lost.get(e.event) ?? 0) + Number(e.count ?? 0));
      } else if (d.counts.unknownType > unknownBefore) {
        unknownTypes.add(d.typeOf(buf, off)); // decode checked the type field is within the record
      }
    };

    let copied = 0;
    let reframed = 0;
    let dropped = 0;
    /** Chunks cut by the end of the file: their loss is counted here, not from the finding. */
    const cutSeqs = new Set<number>();
    const cursor = new FrameCursor();
    for (const c of reader.chunks()) {
      cursor.reset(c.data);
      let frames = 0;
      let good = 0; // bytes of well-formed frames from the start
      while (cursor.next()) {
        frames++;
        good = cursor.offset + cursor.length;
        if (decoder) count(decoder, cursor.buf, cursor.offset, cursor.length);
      }
      if (c.cut) {
        // The partial payload is no block to copy: its complete records get a chunk of their own.
        cutSeqs.add(c.seq);
        dropped += Math.max(0, c.cut.declared - frames);
        writer.writeChunk(c.data.subarray(0, good), {records: frames, firstTs: c.firstTs, lastTs: c.lastTs});
        reframed++;
      } else if (framesProblem(c, frames, cursor.error) === null) {
        writer.copyChunk({payload: c.stored, flags: c.flags, rawSize: c.data.length, records: c.records, firstTs: c.firstTs, lastTs: c.lastTs});
        copied++;
      } else {
        dropped += Math.max(0, c.records - frames);
        if (frames > 0) {
          writer.writeChunk(c.data.subarray(0, good), {records: frames, firstTs: c.firstTs, lastTs: c.lastTs});
          reframed++;
        }
      }
    }

    const original = reader.trailer;
    const origTotals = (original?.totals ?? {}) as Record<string, {sent?: unknown; lost?: unknown}>;
    const totals: Record<string, TypeTotals> = {};
    const names = [...(decoder?.eventNames.filter((n) => n) ?? []), ...recorded.keys(), ...lost.keys(), ...Object.keys(origTotals)];
    for (const name of new Set(names)) {
      if (name === 'hash') continue; // not events (formats/trace-format.md §10.16)
      const o = origTotals[name] ?? {};
      // The kernel's own counters survive only in the original trailer; else the stream's lost records.
      const t: TypeTotals = {
        lost: typeof o.lost === 'number' ? Math.max(o.lost, lost.get(name) ?? 0) : lost.get(name) ?? 0,
        recorded: recorded.get(name) ?? 0,
      };
      if (typeof o.sent === 'number') t.sent = o.sent;
      totals[name] = t;
    }
    const trailer: Record<string, unknown> = {};
    if (original) {
      for (const [k, v] of Object.entries(original)) if (!['chunks', 'records', 'final_hash', 'totals'].includes(k)) trailer[k] = v;
      if (typeof original.end_reason === 'string') trailer.original_end_reason = original.end_reason;
    }
    trailer.totals = totals;
    trailer.end_reason = 'recovered';
    if (unknownTypes.size) trailer.unknown_types = [...unknownTypes].sort((a, b) => a - b);

    const kept = writer.stats;
    const stats = writer.close(trailer);
    return {
      input,
      output,
      input_sha256: check.sha256,
      findings,
      chunks: kept.chunks,
      records: kept.records,
      copied,
      reframed,
      records_dropped: dropped + droppedBySkip(findings, cutSeqs),
      trailer: original ? 'original' : 'rebuilt',
      chain_head: writer.chainHead,
      bytes: stats.bytes,
      layouts_error: layoutsError,
    };
  } catch (err) {
    writer?.discard();
    throw err instanceof TraceFormatError ? new Error(`cannot recover ${input}: ${err.message}`) : err;
  } finally {
    reader.close();
  }
}

/** Records of chunks the reader skipped, as their verified headers state them (`cut`: chunks already counted). */
function droppedBySkip(findings: Finding[], cut: Set<number>): number {
  let n = 0;
  for (const f of findings) {
    if (f.records === null || (f.problem === 'truncated' && f.seq !== null && cut.has(f.seq))) continue;
    if (f.problem === 'checksum' || f.problem === 'decompress' || f.problem === 'truncated' || f.kind === 'reordered') n += f.records;
  }
  return n;
}
