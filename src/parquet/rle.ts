// Parquet's RLE / bit-packed hybrid: what definition and repetition levels and dictionary
// indices are written in. A run of at least 8 equal values becomes an RLE run (varint
// header count<<1, then the value in ceil(width/8) bytes); anything else goes into
// bit-packed groups of 8 values (header groups<<1|1, values packed LSB first). Only the
// last bit-packed run of a page may end in a partial group (padded with zeros): readers
// stop at the page's value count.

import type {ByteSink} from './bytes';

let scratch = new Uint8Array(1024);

/**
 * encodeRuns appends levels given as runs (vals[i] repeated lens[i] times, i < runs) in
 * the hybrid encoding at `width` bits: what encodeHybrid makes of the same values, without
 * visiting each level of a long run.
 */
export function encodeRuns(out: ByteSink, vals: Uint8Array, lens: Int32Array, runs: number, width: number): void {
  if (width === 0) return;
  const valueBytes = (width + 7) >> 3;
  let np = 0; // levels waiting to be bit-packed, in scratch
  const pend = (v: number, k: number) => {
    if (np + k > scratch.length) {
      let size = scratch.length * 2;
      while (size < np + k) size *= 2;
      const next = new Uint8Array(size);
      next.set(scratch.subarray(0, np));
      scratch = next;
    }
    scratch.fill(v, np, np + k);
    np += k;
  };
  for (let r = 0; r < runs; r++) {
    const v = vals[r];
    let len = lens[r];
    if (len < 8) {
      pend(v, len);
      continue;
    }
    if (np > 0) {
      // Complete the waiting levels' last group of 8 from this run, then RLE the rest.
      const fill = (8 - (np & 7)) & 7;
      if (len - fill < 8) {
        pend(v, len);
        continue;
      }
      pend(v, fill);
      len -= fill;
      packRun(out, scratch, 0, np, width);
      np = 0;
    }
    out.varint(len * 2);
    out.room(valueBytes);
    for (let b = 0; b < valueBytes; b++) out.buf[out.len++] = (v >>> (8 * b)) & 0xff;
  }
  if (np > 0) packRun(out, scratch, 0, np, width);
}

/** bitWidth is the number of bits needed for values up to max (0 for max 0). */
export function bitWidth(max: number): number {
  return max === 0 ? 0 : 32 - Math.clz32(max);
}

/**
 * encodeHybrid appends values[0..n) in the hybrid encoding at `width` bits each. Width 0
 * (every value 0, a column that can never be null) appends nothing: the reader needs no
 * bytes to know every value is 0.
 */
export function encodeHybrid(out: ByteSink, values: ArrayLike<number>, n: number, width: number): void {
  if (width === 0 || n === 0) return;
  const valueBytes = (width + 7) >> 3;
  let pending = -1; // start of values waiting to be bit-packed; -1: none
  let i = 0;
  while (i < n) {
    const v = values[i];
    let j = i + 1;
    while (j < n && values[j] === v) j++;
    let run = j - i;
    if (run >= 8) {
      // Complete the waiting values' last group of 8 from this run, then RLE the rest.
      if (pending >= 0) {
        const fill = (8 - ((i - pending) & 7)) & 7;
        if (run - fill >= 8) {
          i += fill;
          run -= fill;
          packRun(out, values, pending, i, width);
          pending = -1;
        } else {
          i = j;
          continue;
        }
      }
      out.varint(run * 2);
      out.room(valueBytes);
      for (let b = 0; b < valueBytes; b++) out.buf[out.len++] = (v >>> (8 * b)) & 0xff;
      i = j;
    } else {
      if (pending < 0) pending = i;
      i = j;
    }
  }
  if (pending >= 0) packRun(out, values, pending, n, width);
}

/** Bit-packs values[from..to) as one run, the last group padded with zeros. */
function packRun(out: ByteSink, values: ArrayLike<number>, from: number, to: number, width: number): void {
  const groups = Math.ceil((to - from) / 8);
  out.varint(groups * 2 + 1);
  const bytes = groups * width;
  out.room(bytes);
  const buf = out.buf;
  const start = out.len;
  buf.fill(0, start, start + bytes);
  let bit = 0;
  for (let k = from; k < to; k++) {
    let v = values[k];
    let at = bit;
    let left = width;
    while (left > 0) {
      const byte = start + (at >> 3);
      const off = at & 7;
      const take = Math.min(8 - off, left);
      buf[byte] |= (v & ((1 << take) - 1)) << off;
      v >>>= take;
      at += take;
      left -= take;
    }
    bit += width;
  }
  out.len = start + bytes;
}
