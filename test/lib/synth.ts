// Synthetic trace files for offline tests: records built by field name from the layouts a
// real recording carries (so no offsets here either), written with the real writer.

import {TraceReader, TraceWriter, type MetaMap} from '../../src/format';
import type {RecordLayout, RecordType} from '../../src/decode/layout';

export interface Hdr {
  ts: number;
  pid: number;
  tid?: number;
  cpu?: number;
  flags?: number;
}

type Value = number | bigint | string | (number | bigint)[];
/** A string segment: text (written as UTF-8), or exact bytes. */
type Str = string | Buffer;

export class Synth {
  readonly meta: MetaMap;
  private readonly types = new Map<string, RecordType>();
  private readonly tsAt: number;

  /** Takes the metadata (layouts, clock, flags) of a real recording. */
  constructor(fixture: string, overrides: MetaMap = {}) {
    const r = TraceReader.open(fixture);
    this.meta = {...r.meta, ...overrides};
    r.close();
    for (const t of this.meta.record_types as unknown as RecordType[]) this.types.set(t.event, t);
    this.tsAt = (this.meta.record_header as unknown as RecordLayout).fields.find((f) => f.name === 'ts_ns')!.offset;
  }

  /** Boot-clock ns at `ms` milliseconds after the recording's start. */
  at(ms: number): number {
    return Number((this.meta.clock as {start: {boot_ns: number}}).start.boot_ns) + Math.round(ms * 1e6);
  }

  /**
   * One record of type `event`: header, fields by name (`task.comm`, `exit_code`), tail
   * segments by name (a Buffer: bytes as they are, for strings that are not UTF-8).
   */
  record(event: string, h: Hdr, fields: Record<string, Value> = {}, tail: Record<string, Str | Str[]> = {}): Buffer {
    const t = this.types.get(event);
    if (!t) throw new Error(`no record type ${event}`);
    const l = t.layout;
    const segs: Buffer[] = [];
    const lens: Record<string, number> = {};
    for (const s of t.tail ?? []) {
      const v = tail[s.name];
      const b = v === undefined ? Buffer.alloc(0) : Buffer.concat((Array.isArray(v) ? v : [v]).map((x) => Buffer.concat([typeof x === 'string' ? Buffer.from(x) : x, Buffer.alloc(1)])));
      segs.push(b);
      lens[s.len_field] = b.length;
    }
    const body = Buffer.concat(segs);
    const b = Buffer.alloc(l.size + body.length);
    put(b, l, 'hdr.type', t.id);
    put(b, l, 'hdr.flags', h.flags ?? 0);
    put(b, l, 'hdr.size', b.length);
    put(b, l, 'hdr.ts_ns', h.ts);
    put(b, l, 'hdr.pid', h.pid);
    put(b, l, 'hdr.tid', h.tid ?? h.pid);
    put(b, l, 'hdr.cpu', h.cpu ?? 0);
    for (const [k, v] of Object.entries({...lens, ...fields})) put(b, l, k, v);
    b.set(body, l.size);
    return b;
  }

  /**
   * A syscall record ('sys_enter' or 'sys_exit'): fields by name (nr, ret, enter_ts_ns,
   * cut), the six register values, and one tail segment per argument in argument order
   * (undefined: nothing captured for it), with seg_len filled from them.
   */
  sys(event: 'sys_enter' | 'sys_exit', h: Hdr, fields: Record<string, Value>, args: (number | bigint)[], segs: (Buffer | undefined)[] = []): Buffer {
    const seg = [0, 1, 2, 3, 4, 5].map((i) => segs[i] ?? Buffer.alloc(0));
    const six = [...args, 0, 0, 0, 0, 0, 0].slice(0, 6);
    const fixed = this.record(event, h, {...fields, args: six, seg_len: seg.map((b) => b.length)});
    const b = Buffer.concat([fixed, ...seg]);
    const l = (this.types.get(event) as RecordType).layout;
    put(b, l, 'hdr.size', b.length);
    return b;
  }

  /** The common process records. */
  fork(ts: number, pid: number, ppid: number, comm: string): Buffer {
    return this.record('fork', {ts, pid}, {'task.ppid': ppid, 'task.comm': comm, parent_tid: ppid});
  }

  exec(ts: number, pid: number, ppid: number, argv: Str[], filename: Str = argv[0]): Buffer {
    const name = typeof filename === 'string' ? filename : filename.toString('latin1');
    const comm = name.slice(name.lastIndexOf('/') + 1).slice(0, 15).replace(/[^\x20-\x7e]/g, '?');
    return this.record('exec', {ts, pid}, {'task.ppid': ppid, 'task.comm': comm, old_tid: pid, argc: argv.length},
      {filename, argv});
  }

  exit(ts: number, pid: number, ppid: number, comm: string, code = 0): Buffer {
    return this.record('exit', {ts, pid}, {'task.ppid': ppid, 'task.comm': comm, exit_code: code << 8, nr_threads: 1});
  }

  lost(ts: number, cpu: number, event: string, count: number, fromTs: number): Buffer {
    const id = (this.meta.record_types as unknown as RecordType[]).find((t) => t.event === event)?.id ?? 0;
    return this.record('lost', {ts, pid: 0, cpu}, {event_type: id, count, window_start_ns: fromTs, window_end_ns: ts});
  }

  /** Writes a file: one chunk per array of records, and a trailer (none when trailer is null). */
  write(path: string, chunks: Buffer[][], trailer: object | null = {end_reason: 'test'}): void {
    const w = TraceWriter.create(path, this.meta, {force: true});
    for (const recs of chunks) {
      const frames = Buffer.concat(recs.flatMap((r) => {
        const len = Buffer.alloc(4);
        len.writeUInt32LE(r.length);
        return [len, r];
      }));
      const ts = recs.map((r) => Number(r.readBigUInt64LE(this.tsAt)));
      w.writeChunk(frames, {records: recs.length, firstTs: Math.min(...ts), lastTs: Math.max(...ts)});
    }
    if (trailer) w.close(trailer);
    else w.destroy();
  }
}

function put(b: Buffer, l: RecordLayout, name: string, val: Value): void {
  const f = l.fields.find((x) => x.name === name);
  if (!f) throw new Error(`no field ${name} in ${l.name}`);
  if (Array.isArray(val)) {
    const size = f.elemSize ?? f.size;
    if (val.length > (f.count ?? 1)) throw new Error(`${name}: ${val.length} values for ${f.count ?? 1} elements`);
    val.forEach((x, i) => {
      const big = BigInt.asUintN(size * 8, BigInt(x));
      for (let k = 0; k < size; k++) b[f.offset + i * size + k] = Number((big >> BigInt(8 * k)) & 0xffn);
    });
    return;
  }
  if (typeof val === 'string') {
    b.fill(0, f.offset, f.offset + f.size);
    b.write(val, f.offset, f.size);
    return;
  }
  const big = BigInt.asUintN(f.size * 8, BigInt(val));
  for (let i = 0; i < f.size; i++) b[f.offset + i] = Number((big >> BigInt(8 * i)) & 0xffn);
}
