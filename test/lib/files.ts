// Trace files made from the committed recordings for offline format tests: the same
// records and metadata, written again by today's TraceWriter (so in the current format
// version, with its metadata copy) and laid out as the test needs.

import * as fs from 'node:fs';
import {createHash} from 'node:crypto';
import {type BlockInfo, FrameCursor, type MetaMap, TraceReader, TraceWriter} from '../../src/format';
import {forEachEvent, openTrace, ordered} from '../../src/decode';
import {toJson} from '../../src/util/json';

export interface Recording {
  meta: MetaMap;
  /** The trailer's own keys (the writer adds chunks, records and final_hash again). */
  trailer: MetaMap;
  /** Every record of the file in order, each with its u32 LE length prefix (a frame). */
  frames: Buffer[];
}

/** The metadata, trailer and records of an intact trace file. */
export function readRecording(file: string): Recording {
  const r = TraceReader.open(file);
  const frames: Buffer[] = [];
  try {
    for (const c of r.chunks()) {
      const cur = new FrameCursor().reset(Buffer.from(c.data));
      while (cur.next()) frames.push(cur.buf.subarray(cur.offset - 4, cur.offset + cur.length));
    }
  } finally {
    r.close();
  }
  if (r.problems.length || !r.trailer) throw new Error(`${file} is not intact`);
  const {chunks: _c, records: _r, final_hash: _f, ...trailer} = r.trailer;
  return {meta: r.meta, trailer, frames};
}

/**
 * Writes `rec` to `out` with today's writer, its records cut into chunks of the given sizes
 * (the rest, if any, in one more chunk). `stored` may supply a chunk's stored payload itself
 * (index → zstd frame of that chunk's frames), for layouts the writer would not choose.
 */
export function writeRecording(out: string, rec: Recording, sizes: number[], stored: Map<number, Buffer> = new Map()): void {
  const w = TraceWriter.create(out, rec.meta, {force: true});
  const rest = rec.frames.length - sizes.reduce((a, b) => a + b, 0);
  const parts = rest > 0 ? [...sizes, rest] : sizes;
  let at = 0;
  parts.forEach((n, i) => {
    const frames = Buffer.concat(rec.frames.slice(at, at + n));
    at += n;
    const payload = stored.get(i);
    if (payload) w.copyChunk({payload, flags: 1, rawSize: frames.length, records: n, firstTs: 0, lastTs: 0});
    else w.writeChunk(frames, {records: n, firstTs: 0, lastTs: 0});
  });
  w.close(rec.trailer);
}

/** decode --json --no-processes, in-process; problems go to `problems` when given. */
export function decodeLines(file: string, problems?: string[]): string[] {
  const tr = openTrace(file, (p) => problems?.push(p.message));
  const out: string[] = [];
  try {
    forEachEvent(tr, {processes: false}, (e) => out.push(toJson(ordered(e))));
  } finally {
    tr.reader.close();
  }
  return out;
}

export const fileSha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Every block header of an intact file, as the reader meets them. */
export function blocksOf(file: string): BlockInfo[] {
  const blocks: BlockInfo[] = [];
  const r = TraceReader.open(file, {onBlock: (b) => blocks.push(b)});
  for (const c of r.chunks()) void c;
  r.close();
  return blocks;
}
