// Iterating the records of a decompressed chunk: concatenated frames
// `[u32 LE length][record bytes]`. Nothing is allocated per record: a
// FrameCursor is reset onto each chunk and exposes the current record as
// (buf, offset, length). A frame whose length runs past the end of the chunk
// stops the walk with an error the caller turns into a 'frames' problem; the
// records before it are still delivered.

import {FRAME_LENGTH_SIZE} from './constants';
import type {Problem} from './problems';

export class FrameCursor {
  /** The chunk being walked. */
  buf: Buffer = Buffer.alloc(0);
  /** Offset of the current record's bytes (after its length prefix). */
  offset = 0;
  /** Length of the current record. */
  length = 0;
  /** Index of the current record in the chunk; -1 before the first next(). */
  index = -1;
  /** Set when next() stopped on a malformed frame. */
  error: string | null = null;
  private end = 0;
  private pos = 0;

  /** Starts walking `buf` (or buf[start, end)). */
  reset(buf: Buffer, start = 0, end = buf.length): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.offset = start;
    this.length = 0;
    this.index = -1;
    this.error = null;
    return this;
  }

  /** Advances to the next record; false at the end of the chunk or on a malformed frame (see `error`). */
  next(): boolean {
    const pos = this.pos;
    if (pos >= this.end) return false;
    const left = this.end - pos;
    if (left < FRAME_LENGTH_SIZE) {
      this.error = `frame ${this.index + 1} at byte ${pos}: ${left} trailing bytes, too short for a length`;
      this.pos = this.end;
      return false;
    }
    const len = this.buf.readUInt32LE(pos);
    if (len > left - FRAME_LENGTH_SIZE) {
      this.error = `frame ${this.index + 1} at byte ${pos} claims ${len} bytes, only ${left - FRAME_LENGTH_SIZE} remain`;
      this.pos = this.end;
      return false;
    }
    this.index++;
    this.offset = pos + FRAME_LENGTH_SIZE;
    this.length = len;
    this.pos = this.offset + len;
    return true;
  }
}

/** What forEachFrame and checkFrames need to know about a chunk (a reader Chunk fits). */
export interface FramedChunk {
  data: Buffer;
  seq: number;
  offset: number;
  records: number;
}

export type FrameFn = (buf: Buffer, offset: number, length: number) => void;

/**
 * Calls fn for every well-formed frame of the chunk, in order. Returns the
 * number of frames delivered, and a 'frames' problem when the framing is
 * malformed or the count differs from the chunk's record_count. (One cursor
 * per chunk, none per record.)
 */
export function forEachFrame(chunk: FramedChunk, fn: FrameFn): {frames: number; problem: Problem | null} {
  const c = new FrameCursor().reset(chunk.data);
  let frames = 0;
  while (c.next()) {
    frames++;
    fn(c.buf, c.offset, c.length);
  }
  return {frames, problem: framesProblem(chunk, frames, c.error)};
}

/** Validates a chunk's framing without visiting records. */
export function checkFrames(chunk: FramedChunk): Problem | null {
  const c = new FrameCursor().reset(chunk.data);
  let frames = 0;
  while (c.next()) frames++;
  return framesProblem(chunk, frames, c.error);
}

/** The 'frames' problem for a walk that delivered `frames` records and ended with `error` (null: clean end). */
export function framesProblem(chunk: FramedChunk, frames: number, error: string | null): Problem | null {
  const where = `chunk seq ${chunk.seq} at offset ${chunk.offset}`;
  if (error !== null) {
    return {
      kind: 'frames', seq: chunk.seq, offset: chunk.offset, records: chunk.records,
      message: `${where}: ${error}; ${frames} of ${chunk.records} records read, the rest of the chunk skipped`,
    };
  }
  if (frames !== chunk.records) {
    return {
      kind: 'frames', seq: chunk.seq, offset: chunk.offset, records: chunk.records,
      message: `${where}: holds ${frames} records, its header says ${chunk.records}`,
    };
  }
  return null;
}

/** Counts the frames of a buffer; -1 if the framing is malformed. Used by the writer to check its input. */
export function countFrames(buf: Buffer): number {
  const c = new FrameCursor().reset(buf);
  let n = 0;
  while (c.next()) n++;
  return c.error === null ? n : -1;
}
