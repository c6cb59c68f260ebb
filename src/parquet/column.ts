// One leaf column of the row group being built: its definition and repetition levels and
// its values, kept already encoded (PLAIN for numbers and booleans, dictionary indices or
// PLAIN bytes for strings) so that flushing is a compression and a copy. Nothing here
// allocates per value except a string the dictionary has not seen.

import * as os from 'node:os';
import {ByteSink} from './bytes';

// Numbers are kept in an Int32Array whose bytes are PLAIN's little-endian layout as they are.
if (os.endianness() !== 'LE') throw new Error('the Parquet writer needs a little-endian host');

/** LeafType is what a leaf column holds, as the schema names it. */
export type LeafType = 'boolean' | 'int32' | 'int64' | 'string' | 'timestamp';

/** Past this many distinct strings (or bytes of them) in a row group a column stops using a dictionary. */
const DICT_MAX_ENTRIES = 40000;
const DICT_MAX_BYTES = 1 << 20;

/**
 * Levels, kept as runs (value, length): a column is mostly present for every row of one
 * event type and null for every row of the others, so a row group's levels are a few long
 * runs, pushed in O(1) and encoded without looking at each level again (encodeRuns).
 */
export class Levels {
  vals = new Uint8Array(64);
  lens = new Int32Array(64);
  runs = 0;
  /** Levels pushed. */
  n = 0;
  private last = -1;

  push(v: number): void {
    this.n++;
    if (v === this.last) this.lens[this.runs - 1]++;
    else this.start(v, 1);
  }

  /** pushMany appends k copies of v. */
  pushMany(v: number, k: number): void {
    if (k <= 0) return;
    this.n += k;
    if (v === this.last) this.lens[this.runs - 1] += k;
    else this.start(v, k);
  }

  private start(v: number, k: number): void {
    if (this.runs === this.vals.length) {
      const vals = new Uint8Array(this.runs * 2);
      vals.set(this.vals);
      this.vals = vals;
      const lens = new Int32Array(this.runs * 2);
      lens.set(this.lens);
      this.lens = lens;
    }
    this.vals[this.runs] = v;
    this.lens[this.runs++] = k;
    this.last = v;
  }

  reset(): void {
    this.runs = 0;
    this.n = 0;
    this.last = -1;
  }
}

/** The min and max of an integer column, exact for int64 (compared as hi, then unsigned lo). */
class IntRange {
  has = false;
  minHi = 0;
  minLo = 0;
  maxHi = 0;
  maxLo = 0;
  add(lo: number, hi: number): void {
    if (!this.has) {
      this.has = true;
      this.minHi = this.maxHi = hi;
      this.minLo = this.maxLo = lo;
      return;
    }
    if (hi < this.minHi || (hi === this.minHi && lo < this.minLo)) {
      this.minHi = hi;
      this.minLo = lo;
    }
    if (hi > this.maxHi || (hi === this.maxHi && lo > this.maxLo)) {
      this.maxHi = hi;
      this.maxLo = lo;
    }
  }
  reset(): void {
    this.has = false;
  }
}

const TWO32 = 0x100000000;

/** ColumnData is one leaf's buffered values for the current row group. */
export class ColumnData {
  readonly defs = new Levels();
  readonly reps = new Levels();
  /** PLAIN values (int32, int64, boolean as one byte each until flush, strings once off the dictionary). */
  readonly values = new ByteSink(4096);
  /** Non-null values buffered. */
  count = 0;
  readonly range = new IntRange();
  /** int32 and int64 values (two slots each: lo, hi), as little-endian bytes are laid out. */
  private ints = new Int32Array(1024);
  private nInts = 0;
  /** Strings: the dictionary of this row group, and each value's index. */
  dict: Map<string, number> | null;
  dictList: string[] = [];
  dictBytes = 0;
  indices = new Int32Array(1024);
  /** Once a column's strings outgrow a dictionary, the file's later row groups skip it. */
  private plainOnly = false;
  /** Rows of the row group this column has a value or null for; rows it skipped are null. */
  private rows = 0;
  /** The last string and its dictionary index: a column often repeats its value (host, comm). */
  private lastStr: string | null = null;
  private lastIdx = 0;
  /** Whether the last row's value was present (else null), for again(); and a PLAIN column's last string. */
  private lastPresent = false;
  private lastPlain = '';

  /** `cursor.row` is the row being written (the writer's): a column not given a value in a row is null there. */
  constructor(readonly type: LeafType, readonly maxDef: number, readonly maxRep: number, private readonly cursor: {row: number}) {
    this.dict = type === 'string' ? new Map() : null;
  }

  /** fill makes the rows before `row` that got nothing null (definition level 0). */
  fill(row: number): void {
    const k = row - this.rows;
    if (k <= 0) return;
    this.defs.pushMany(0, k);
    if (this.maxRep) this.reps.pushMany(0, k);
    this.rows = row;
  }

  /** null records a missing value at definition level def (0: the top-level field is null). */
  null(def = 0, rep = 0): void {
    if (rep === 0) {
      const row = this.cursor.row;
      if (this.rows < row) this.fill(row);
      this.rows = row + 1;
    }
    this.defs.push(def);
    if (this.maxRep) this.reps.push(rep);
    if (rep === 0) this.lastPresent = false;
  }

  /**
   * again repeats the value (or null) of row start - 1 in rows start … start + k - 1, as k
   * more calls with the same value would: for a run of rows whose value is known to repeat
   * (the calls of one thread share its context). Columns without repetition only; rows
   * before `start` must have been written or padded up to it (the run follows its base).
   */
  again(k: number, start: number): void {
    if (k <= 0) return;
    // Not given a value in the row before the run: it was null there, and stays null.
    if (this.rows < start) return this.fill(start + k);
    this.rows += k;
    if (!this.lastPresent) {
      this.defs.pushMany(this.defs.vals[this.defs.runs - 1] ?? 0, k);
      return;
    }
    if (this.maxDef) this.defs.pushMany(this.maxDef, k);
    const n = this.count;
    this.count += k;
    switch (this.type) {
      case 'int32': {
        const v = this.ints[this.nInts - 1];
        const at = this.slot(k);
        this.ints.fill(v, at, at + k);
        return;
      }
      case 'boolean': {
        const v = this.values.buf[this.values.len - 1];
        this.values.room(k);
        this.values.buf.fill(v, this.values.len, this.values.len + k);
        this.values.len += k;
        return;
      }
      case 'string': {
        if (this.dict !== null) {
          const idx = this.indices[n - 1];
          if (this.indices.length < n + k) {
            let size = this.indices.length * 2;
            while (size < n + k) size *= 2;
            const next = new Int32Array(size);
            next.set(this.indices.subarray(0, n));
            this.indices = next;
          }
          this.indices.fill(idx, n, n + k);
        } else for (let i = 0; i < k; i++) this.plain(this.lastPlain);
        return;
      }
      default: {
        const lo = this.ints[this.nInts - 2];
        const hi = this.ints[this.nInts - 1];
        const at = this.slot(2 * k);
        const a = this.ints;
        for (let i = at; i < at + 2 * k; i += 2) {
          a[i] = lo;
          a[i + 1] = hi;
        }
      }
    }
  }

  private present(rep: number): void {
    if (rep === 0) {
      const row = this.cursor.row;
      if (this.rows < row) this.fill(row);
      this.rows = row + 1;
    }
    if (this.maxDef) this.defs.push(this.maxDef);
    if (this.maxRep) this.reps.push(rep);
    this.count++;
    this.lastPresent = true;
  }

  private slot(n: number): number {
    const at = this.nInts;
    if (at + n > this.ints.length) {
      let size = this.ints.length * 2;
      while (size < at + n) size *= 2;
      const next = new Int32Array(size);
      next.set(this.ints);
      this.ints = next;
    }
    this.nInts = at + n;
    return at;
  }

  /** int32 (also a small int64: callers keep to the column's type). */
  int32(v: number): void {
    this.present(0);
    // slot() may grow the array: take the index first, then the (new) array.
    const at = this.slot(1);
    this.ints[at] = v;
  }

  /** int64 from a safe integer or a bigint (wrapped to 64 bits two's complement). */
  int64(v: number | bigint): void {
    let lo: number;
    let hi: number;
    if (typeof v === 'number') {
      if (v >>> 0 === v) {
        // 0 ≤ v < 2^32, the common case (ids, sizes, most times): no division.
        lo = v;
        hi = 0;
      } else {
        hi = Math.floor(v / TWO32);
        lo = v - hi * TWO32;
      }
    } else {
      const w = BigInt.asIntN(64, v);
      hi = Number(w >> 32n);
      lo = Number(w & 0xffffffffn);
    }
    this.int64Parts(lo, hi);
  }

  /** int64 from its halves: lo in [0, 2^32), hi a signed 32-bit value. */
  int64Parts(lo: number, hi: number): void {
    this.present(0);
    const at = this.slot(2);
    this.ints[at] = lo;
    this.ints[at + 1] = hi;
  }

  /**
   * plainValues is the PLAIN bytes of the buffered numbers or booleans (int32 and int64
   * little-endian, as Int32Array holds them on the little-endian hosts Node runs on), and
   * computes `range` for the statistics.
   */
  plainValues(): Buffer {
    if (this.type === 'boolean' || this.type === 'string') return this.values.view();
    const a = this.ints;
    const r = this.range;
    r.reset();
    const n = this.nInts;
    if (n > 0) {
      // One pass with the extremes in locals (a loop over every value of the row group).
      if (this.type === 'int32') {
        let min = a[0];
        let max = a[0];
        for (let i = 1; i < n; i++) {
          const v = a[i];
          if (v < min) min = v;
          else if (v > max) max = v;
        }
        r.add(0, min);
        r.add(0, max);
      } else {
        let minHi = a[1];
        let minLo = a[0] >>> 0;
        let maxHi = minHi;
        let maxLo = minLo;
        for (let i = 2; i < n; i += 2) {
          const hi = a[i + 1];
          if (hi > minHi && hi < maxHi) continue;
          const lo = a[i] >>> 0;
          if (hi < minHi || (hi === minHi && lo < minLo)) {
            minHi = hi;
            minLo = lo;
          }
          if (hi > maxHi || (hi === maxHi && lo > maxLo)) {
            maxHi = hi;
            maxLo = lo;
          }
        }
        r.add(minLo, minHi);
        r.add(maxLo, maxHi);
      }
    }
    return Buffer.from(a.buffer, a.byteOffset, n * 4);
  }

  bool(b: boolean): void {
    this.present(0);
    this.values.u8(b ? 1 : 0);
  }

  /** string at repetition level rep (list elements after the first: 1). */
  str(s: string, rep = 0): void {
    this.present(rep);
    const dict = this.dict;
    if (dict === null) {
      this.plain(s);
      return;
    }
    let k: number | undefined;
    if (s === this.lastStr) k = this.lastIdx;
    else k = dict.get(s);
    if (k === undefined) {
      k = this.dictList.length;
      dict.set(s, k);
      this.dictList.push(s);
      this.dictBytes += s.length + 4;
    }
    const i = this.count - 1;
    if (i === this.indices.length) {
      const next = new Int32Array(this.indices.length * 2);
      next.set(this.indices);
      this.indices = next;
    }
    this.indices[i] = k;
    this.lastStr = s;
    this.lastIdx = k;
    if (this.dictList.length > DICT_MAX_ENTRIES || this.dictBytes > DICT_MAX_BYTES) this.toPlain();
  }

  private plain(s: string): void {
    this.lastPlain = s;
    const v = this.values;
    v.room(4 + s.length * 3);
    const at = v.len;
    v.len += 4;
    const n = v.utf8(s);
    v.dv.setUint32(at, n, true);
  }

  /** Leaves the dictionary: the values so far become PLAIN bytes. */
  private toPlain(): void {
    const list = this.dictList;
    const idx = this.indices;
    this.dict = null;
    this.lastStr = null;
    this.plainOnly = true;
    this.values.clear();
    for (let i = 0; i < this.count; i++) this.plain(list[idx[i]]);
    this.dictList = [];
    this.dictBytes = 0;
  }

  /** Whether the row group's strings are dictionary indices. */
  get dictionary(): boolean {
    return this.dict !== null;
  }

  /** Buffered bytes, roughly: what a row group's size limit counts. */
  get size(): number {
    return this.values.len + this.nInts * 4 + this.dictBytes + this.count * (this.dict ? 4 : 0) + this.defs.n + this.reps.n;
  }

  /** reset empties the column for the next row group. */
  reset(): void {
    this.defs.reset();
    this.reps.reset();
    this.values.clear();
    this.count = 0;
    this.nInts = 0;
    this.rows = 0;
    this.lastStr = null;
    this.lastPresent = false;
    this.range.reset();
    if (this.type === 'string') {
      this.dict = this.plainOnly ? null : new Map();
      this.dictList = [];
      this.dictBytes = 0;
    }
  }
}
