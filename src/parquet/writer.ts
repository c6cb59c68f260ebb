// ParquetWriter streams rows into a Parquet file: `PAR1`, then one row group at a time
// (each leaf column a chunk of an optional dictionary page and one data page v1, zstd
// compressed), then the FileMetaData footer in the Thrift compact protocol, its length
// and `PAR1` again. Only the current row group is held in memory, so memory stays flat
// however many rows go through; a row group ends at `rowGroupRows` rows or when its
// buffered values pass `rowGroupBytes`.
//
// The schema is what exectrace needs, no more: required or optional leaves (BOOLEAN, INT32,
// INT64, INT64 TIMESTAMP(NANOS, UTC), BYTE_ARRAY STRING), an optional list of strings (the
// standard 3-level LIST), and an optional struct of optional leaves.

import * as fs from 'node:fs';
import {PayloadCompressor} from '../format/zstd';
import {ByteSink} from './bytes';
import {ColumnData, type LeafType, type Levels} from './column';
import {bitWidth, encodeHybrid, encodeRuns} from './rle';
import {ThriftWriter} from './thrift';

export type {LeafType};

/** Field is one top-level field of a schema: a leaf, a list of strings, or a struct of leaves. */
export type Field =
  | {name: string; type: LeafType; required?: boolean}
  | {name: string; list: 'string'}
  | {name: string; struct: {name: string; type: LeafType}[]};

/** ParquetOptions tune a ParquetWriter. */
export interface ParquetOptions {
  /** Rows per row group (default 131072). */
  rowGroupRows?: number;
  /** A row group also ends once its buffered values pass this many bytes (default 128 MiB). */
  rowGroupBytes?: number;
  /** zstd level (default 1: the writer's time is mostly compression). */
  level?: number;
  /** Key-value metadata stored in the footer. */
  metadata?: Record<string, string>;
  /** The footer's created_by. */
  createdBy?: string;
}

// parquet.thrift's enums, as numbers.
const TYPE = {BOOLEAN: 0, INT32: 1, INT64: 2, BYTE_ARRAY: 6} as const;
const REP = {REQUIRED: 0, OPTIONAL: 1, REPEATED: 2} as const;
const CONVERTED = {UTF8: 0, LIST: 3} as const;
const ENC = {PLAIN: 0, RLE: 3, RLE_DICTIONARY: 8} as const;
const CODEC_ZSTD = 6;
const PAGE = {DATA: 0, DICTIONARY: 2} as const;
const MAGIC = Buffer.from('PAR1');

const physical = (t: LeafType): number => (t === 'boolean' ? TYPE.BOOLEAN : t === 'int32' ? TYPE.INT32 : t === 'string' ? TYPE.BYTE_ARRAY : TYPE.INT64);

interface ChunkMeta {
  encodings: number[];
  numValues: number;
  uncompressed: number;
  compressed: number;
  dataOffset: number;
  dictOffset: number | null;
  nulls: number;
  min: Buffer | null;
  max: Buffer | null;
}

interface RowGroupMeta {
  rows: number;
  offset: number;
  chunks: ChunkMeta[];
}

/** Leaf is one column of the file as the footer describes it. */
interface Leaf {
  path: string[];
  type: LeafType;
  data: ColumnData;
}

/**
 * ParquetWriter writes one Parquet file. Fill a row through `col(i)` (or `leaf(j)`) — each
 * leaf at most one value or null per row (a list: one `strings()`), a leaf given nothing
 * is null in that row, a required one must be given a value — then call endRow(). close() writes the last row group and the footer. The file
 * descriptor is the caller's: the writer writes to it and never closes it. Synchronous;
 * write errors are thrown as they come from fs.writeSync.
 */
export class ParquetWriter {
  private readonly leaves: Leaf[] = [];
  /** Per top-level field: the index of its first leaf. */
  private readonly firstLeaf: number[] = [];
  private readonly groups: RowGroupMeta[] = [];
  private readonly zstd: PayloadCompressor;
  private readonly page = new ByteSink(1 << 16);
  private readonly thrift = new ThriftWriter();
  private readonly rowGroupRows: number;
  private readonly rowGroupBytes: number;
  private offset = 0;
  /** The row being written, shared with every column (ColumnData pads the rows it was not given as nulls). */
  private readonly cursor = {row: 0};
  private rows = 0;
  private total = 0;
  private closed = false;

  constructor(private readonly fd: number, readonly fields: readonly Field[], private readonly opts: ParquetOptions = {}) {
    this.rowGroupRows = opts.rowGroupRows ?? 131072;
    this.rowGroupBytes = opts.rowGroupBytes ?? 128 << 20;
    if (!(this.rowGroupRows >= 1)) throw new Error(`row group size ${this.rowGroupRows}: give at least 1 row`);
    this.zstd = PayloadCompressor.shared(opts.level ?? 1);
    for (const f of fields) {
      this.firstLeaf.push(this.leaves.length);
      if ('list' in f) this.leaves.push({path: [f.name, 'list', 'element'], type: 'string', data: new ColumnData('string', 2, 1, this.cursor)});
      else if ('struct' in f) for (const c of f.struct) this.leaves.push({path: [f.name, c.name], type: c.type, data: new ColumnData(c.type, 2, 0, this.cursor)});
      else this.leaves.push({path: [f.name], type: f.type, data: new ColumnData(f.type, f.required ? 0 : 1, 0, this.cursor)});
    }
    this.write(MAGIC);
  }

  /** col is the first leaf of top-level field i (a struct's children follow it: col(i + k)). */
  col(i: number): ColumnData {
    return this.leaves[this.firstLeaf[i]].data;
  }

  /** leaf is leaf column j, counting every struct child. */
  leaf(j: number): ColumnData {
    return this.leaves[j].data;
  }

  /** leafCount is the number of leaf columns. */
  get leafCount(): number {
    return this.leaves.length;
  }

  /** strings writes a list of strings into list field i (null: no list). */
  strings(i: number, list: readonly string[] | null): void {
    const c = this.col(i);
    if (list === null) c.null(0, 0);
    else if (list.length === 0) c.null(1, 0);
    else for (let k = 0; k < list.length; k++) c.str(list[k], k === 0 ? 0 : 1);
  }

  /** endRow closes the row; a full row group is written out. */
  endRow(): void {
    this.rows++;
    this.cursor.row = this.rows;
    if (this.rows >= this.rowGroupRows || ((this.rows & 1023) === 0 && this.buffered() >= this.rowGroupBytes)) this.flush();
  }

  /** groupRow is the row being written, counted from the start of the row group. */
  get groupRow(): number {
    return this.rows;
  }

  /**
   * beforeFlush, when set, is called before a row group is written out (full, or at
   * close): a caller that defers values (EventRows' runs) writes them there.
   */
  beforeFlush: (() => void) | null = null;

  /** Rows written so far, the buffered ones included. */
  get rowCount(): number {
    return this.total + this.rows;
  }

  private buffered(): number {
    let n = 0;
    for (const l of this.leaves) n += l.data.size;
    return n;
  }

  private write(b: Uint8Array): void {
    let at = 0;
    while (at < b.length) at += fs.writeSync(this.fd, b, at, b.length - at, null);
    this.offset += b.length;
  }

  /** flush writes the buffered rows as one row group (nothing when there are none). */
  flush(): void {
    this.beforeFlush?.();
    if (this.rows === 0) return;
    const group: RowGroupMeta = {rows: this.rows, offset: this.offset, chunks: []};
    for (const l of this.leaves) {
      if (l.data.maxDef === 0 && l.data.count < this.rows) throw new Error(`parquet: required column ${l.path.join('.')} has ${l.data.count} values for ${this.rows} rows`);
      l.data.fill(this.rows);
      group.chunks.push(this.writeChunk(l.data));
      l.data.reset();
    }
    this.groups.push(group);
    this.total += this.rows;
    this.rows = 0;
    this.cursor.row = 0;
  }

  private writeChunk(c: ColumnData): ChunkMeta {
    let dictOffset: number | null = null;
    let uncompressed = 0;
    let compressed = 0;
    const encodings: number[] = [ENC.RLE];
    const dict = c.dictionary && c.count > 0;
    if (dict) {
      dictOffset = this.offset;
      const body = this.page;
      body.clear();
      for (const s of c.dictList) {
        body.room(4 + s.length * 3);
        const at = body.len;
        body.len += 4;
        body.dv.setUint32(at, body.utf8(s), true);
      }
      const n = this.writePage(PAGE.DICTIONARY, body.view(), c.dictList.length);
      uncompressed += n.uncompressed;
      compressed += n.compressed;
      encodings.push(ENC.PLAIN, ENC.RLE_DICTIONARY);
    } else encodings.push(ENC.PLAIN);
    const dataOffset = this.offset;
    const body = this.page;
    body.clear();
    const levels = c.maxDef > 0 ? c.defs.n : c.count;
    if (c.maxRep > 0) levelBlock(body, c.reps, bitWidth(c.maxRep));
    if (c.maxDef > 0) levelBlock(body, c.defs, bitWidth(c.maxDef));
    if (dict) {
      const w = Math.max(1, bitWidth(c.dictList.length - 1));
      body.u8(w);
      encodeHybrid(body, c.indices, c.count, w);
    } else if (c.type === 'boolean') {
      // PLAIN booleans are bit-packed, LSB first.
      const src = c.values.buf;
      const n = (c.count + 7) >> 3;
      body.room(n);
      body.buf.fill(0, body.len, body.len + n);
      for (let i = 0; i < c.count; i++) if (src[i]) body.buf[body.len + (i >> 3)] |= 1 << (i & 7);
      body.len += n;
    } else body.bytes(c.plainValues());
    const n = this.writePage(PAGE.DATA, body.view(), levels, dict ? ENC.RLE_DICTIONARY : ENC.PLAIN);
    uncompressed += n.uncompressed;
    compressed += n.compressed;
    let min: Buffer | null = null;
    let max: Buffer | null = null;
    if (c.range.has) {
      const r = c.range;
      if (c.type === 'int32') {
        min = Buffer.alloc(4);
        min.writeInt32LE(r.minHi);
        max = Buffer.alloc(4);
        max.writeInt32LE(r.maxHi);
      } else {
        min = Buffer.alloc(8);
        min.writeUInt32LE(r.minLo);
        min.writeInt32LE(r.minHi, 4);
        max = Buffer.alloc(8);
        max.writeUInt32LE(r.maxLo);
        max.writeInt32LE(r.maxHi, 4);
      }
    }
    return {encodings, numValues: levels, uncompressed, compressed, dataOffset, dictOffset, nulls: levels - c.count, min, max};
  }

  /** Writes a page header and its zstd-compressed body; returns both sizes (header included). */
  private writePage(type: number, body: Buffer, values: number, encoding: number = ENC.PLAIN): {uncompressed: number; compressed: number} {
    const z = this.zstd.compress(body);
    const t = this.thrift.reset();
    t.i32(1, type).i32(2, body.length).i32(3, z.length);
    if (type === PAGE.DATA) t.beginStruct(5).i32(1, values).i32(2, encoding).i32(3, ENC.RLE).i32(4, ENC.RLE).endStruct();
    else t.beginStruct(7).i32(1, values).i32(2, ENC.PLAIN).endStruct();
    t.stop();
    const header = t.bytes();
    const hlen = header.length;
    this.write(header);
    this.write(z);
    return {uncompressed: hlen + body.length, compressed: hlen + z.length};
  }

  /** close writes what is buffered and the footer. The descriptor stays open. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    const t = this.thrift.reset();
    t.i32(1, 2);
    const schema: {name: string; type?: number; rep?: number; children?: number; converted?: number; logical?: 'string' | 'list' | 'timestamp'}[] = [
      {name: 'schema', children: this.fields.length},
    ];
    const leafElement = (name: string, type: LeafType, rep: number) => ({
      name, type: physical(type), rep,
      converted: type === 'string' ? CONVERTED.UTF8 : undefined,
      logical: type === 'string' ? 'string' as const : type === 'timestamp' ? 'timestamp' as const : undefined,
    });
    for (const f of this.fields) {
      if ('list' in f) {
        schema.push({name: f.name, rep: REP.OPTIONAL, children: 1, converted: CONVERTED.LIST, logical: 'list'});
        schema.push({name: 'list', rep: REP.REPEATED, children: 1});
        schema.push(leafElement('element', 'string', REP.REQUIRED));
      } else if ('struct' in f) {
        schema.push({name: f.name, rep: REP.OPTIONAL, children: f.struct.length});
        for (const c of f.struct) schema.push(leafElement(c.name, c.type, REP.OPTIONAL));
      } else schema.push(leafElement(f.name, f.type, f.required ? REP.REQUIRED : REP.OPTIONAL));
    }
    t.listStruct(2, schema, (w, e) => {
      if (e.type !== undefined) w.i32(1, e.type);
      if (e.rep !== undefined) w.i32(3, e.rep);
      w.binary(4, e.name);
      if (e.children !== undefined) w.i32(5, e.children);
      if (e.converted !== undefined) w.i32(6, e.converted);
      if (e.logical === 'string') w.beginStruct(10).emptyStruct(1).endStruct();
      else if (e.logical === 'list') w.beginStruct(10).emptyStruct(3).endStruct();
      else if (e.logical === 'timestamp') w.beginStruct(10).beginStruct(8).bool(1, true).beginStruct(2).emptyStruct(3).endStruct().endStruct().endStruct();
    });
    t.i64(3, this.total);
    t.listStruct(4, this.groups, (w, g) => {
      let bytes = 0;
      let comp = 0;
      for (const c of g.chunks) {
        bytes += c.uncompressed;
        comp += c.compressed;
      }
      w.listStruct(1, g.chunks, (w2, c, j) => {
        w2.i64(2, c.dictOffset ?? c.dataOffset);
        w2.beginStruct(3);
        const leaf = this.leaves[j];
        w2.i32(1, physical(leaf.type)).listI32(2, c.encodings).listString(3, leaf.path).i32(4, CODEC_ZSTD);
        w2.i64(5, c.numValues).i64(6, c.uncompressed).i64(7, c.compressed).i64(9, c.dataOffset);
        if (c.dictOffset !== null) w2.i64(11, c.dictOffset);
        w2.beginStruct(12).i64(3, c.nulls);
        if (c.max && c.min) w2.binary(5, c.max).binary(6, c.min);
        w2.endStruct();
        w2.endStruct();
      });
      w.i64(2, bytes).i64(3, g.rows).i64(5, g.offset).i64(6, comp);
    });
    const kv = Object.entries(this.opts.metadata ?? {});
    if (kv.length) t.listStruct(5, kv, (w, [k, v]) => void w.binary(1, k).binary(2, v));
    t.binary(6, this.opts.createdBy ?? 'exectrace');
    // TYPE_ORDER for every leaf: readers may then trust min_value/max_value.
    t.listStruct(7, this.leaves, (w) => void w.emptyStruct(1));
    t.stop();
    const footer = Buffer.from(t.bytes());
    this.write(footer);
    const tail = Buffer.alloc(8);
    tail.writeUInt32LE(footer.length, 0);
    MAGIC.copy(tail, 4);
    this.write(tail);
  }
}

/** A v1 data page's levels: their byte length (4 bytes LE), then the hybrid encoding. */
function levelBlock(out: ByteSink, levels: Levels, width: number): void {
  out.room(4);
  const at = out.len;
  out.len += 4;
  encodeRuns(out, levels.vals, levels.lens, levels.runs, width);
  out.dv.setUint32(at, out.len - at - 4, true);
}
