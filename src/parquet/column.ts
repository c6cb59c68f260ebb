// One leaf column of the row group being built: its definition and repetition levels and
// its values, kept already encoded (PLAIN for numbers and booleans, dictionary indices or
// PLAIN bytes for strings) so that flushing is a compression and a copy. Nothing here
// allocates per value except a string the dictionary has not seen.

import {ByteSink} from './bytes';

/** LeafType is what a leaf column holds, as the schema names it. */
export type LeafType = 'boolean' | 'int32' | 'int64' | 'string' | 'timestamp';

/** Past this many distinct strings (or bytes of them) in a row group a column stops using a dictionary. */
const DICT_MAX_ENTRIES = 40000;
const DICT_MAX_BYTES = 1 << 20;

/** Levels: a byte each (max levels here are 0..3). */
class Levels {
  a = new Uint8Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const next = new Uint8Array(this.a.length * 2);
      next.set(this.a);
      this.a = next;
    }
    this.a[this.n++] = v;
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
  /** Strings: the dictionary of this row group, and each value's index. */
  dict: Map<string, number> | null;
  dictList: string[] = [];
  dictBytes = 0;
  indices = new Int32Array(1024);
  /** Once a column's strings outgrow a dictionary, the file's later row groups skip it. */
  private plainOnly = false;

  constructor(readonly type: LeafType, readonly maxDef: number, readonly maxRep: number) {
    this.dict = type === 'string' ? new Map() : null;
  }

  /** null records a missing value at definition level def (0: the top-level field is null). */
  null(def = 0, rep = 0): void {
    this.defs.push(def);
    if (this.maxRep) this.reps.push(rep);
  }

  private present(rep: number): void {
    if (this.maxDef) this.defs.push(this.maxDef);
    if (this.maxRep) this.reps.push(rep);
    this.count++;
  }

  /** int32 (also a small int64: callers keep to the column's type). */
  int32(v: number): void {
    this.present(0);
    this.values.i32(v);
    this.range.add(0, v | 0);
  }

  /** int64 from a safe integer or a bigint (wrapped to 64 bits two's complement). */
  int64(v: number | bigint): void {
    let lo: number;
    let hi: number;
    if (typeof v === 'number') {
      hi = Math.floor(v / TWO32);
      lo = v - hi * TWO32;
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
    this.values.i64(lo, hi);
    this.range.add(lo, hi);
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
    let k = dict.get(s);
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
    if (this.dictList.length > DICT_MAX_ENTRIES || this.dictBytes > DICT_MAX_BYTES) this.toPlain();
  }

  private plain(s: string): void {
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
    return this.values.len + this.dictBytes + this.count * (this.dict ? 4 : 0) + this.defs.n + this.reps.n;
  }

  /** reset empties the column for the next row group. */
  reset(): void {
    this.defs.n = 0;
    this.reps.n = 0;
    this.values.clear();
    this.count = 0;
    this.range.reset();
    if (this.type === 'string') {
      this.dict = this.plainOnly ? null : new Map();
      this.dictList = [];
      this.dictBytes = 0;
    }
  }
}
