// Record readers generated from the layouts a trace file carries. Each record type gets one
// function, built once per file, that reads a raw record into a plain event object: no
// offsets live in TypeScript, they all come from the file's metadata.
//
// Naming rule (formats/trace-format.md, "From records to events"): a flattened field name
// keeps its last component (`task.uid` → `uid`); `ns_<x>` fields gather into `ns.<x>`;
// components starting with `_` are padding; the header's `type`, `size` and `flags` and the
// tail length fields are consumed by the decoder rather than shown.

import {FieldLayout, RecordLayout, RecordType} from './layout';

export type RawEvent = Record<string, unknown> & {type: string; ts_ns: number};

export type RecordReader = (b: Buffer, o: number, n: number) => RawEvent;

export const helpers = {
  u64(b: Buffer, o: number): number | bigint {
    const lo = b.readUInt32LE(o);
    const hi = b.readUInt32LE(o + 4);
    return hi < 0x200000 ? hi * 4294967296 + lo : (BigInt(hi) << 32n) | BigInt(lo);
  },
  s64(b: Buffer, o: number): number | bigint {
    const v = b.readBigInt64LE(o);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  },
  cstr(b: Buffer, o: number, n: number): string {
    let end = b.indexOf(0, o);
    if (end < 0 || end > o + n) end = o + n;
    return b.toString('utf8', o, end);
  },
  /** One NUL-terminated string segment. */
  str(b: Buffer, o: number, n: number): string {
    let end = o + n;
    const nul = b.indexOf(0, o);
    if (nul >= 0 && nul < end) end = nul;
    return b.toString('utf8', o, end);
  },
  /** NUL-separated strings (argv): a final NUL ends the list, it does not add an empty one. */
  strs(b: Buffer, o: number, n: number): string[] {
    const out: string[] = [];
    const end = o + n;
    let p = o;
    while (p < end) {
      let q = b.indexOf(0, p);
      if (q < 0 || q >= end) q = end;
      out.push(b.toString('utf8', p, q));
      p = q + 1;
    }
    return out;
  },
  bytes(b: Buffer, o: number, n: number): Buffer {
    return Buffer.from(b.subarray(o, o + n));
  },
};

/** What the event-level code needs to know about a type beyond its reader. */
export interface CompiledType {
  id: number;
  event: string;
  minSize: number;
  read: RecordReader;
}

const CONSUMED_HEADER = new Set(['type', 'size', 'flags']);

function outputName(f: FieldLayout): string | null {
  const parts = f.name.split('.');
  if (parts.some((p) => p.startsWith('_'))) return null;
  return parts[parts.length - 1];
}

function scalar(f: FieldLayout, at: string): string | null {
  const k = f.kind;
  if ((k === 'uint' || k === 'enum' || k === 'pointer') && f.count === undefined) {
    switch (f.size) {
      case 1: return `b.readUInt8(${at})`;
      case 2: return `b.readUInt16LE(${at})`;
      case 4: return `b.readUInt32LE(${at})`;
      case 8: return `h.u64(b, ${at})`;
    }
  }
  if (k === 'int' && f.count === undefined) {
    switch (f.size) {
      case 1: return `b.readInt8(${at})`;
      case 2: return `b.readInt16LE(${at})`;
      case 4: return `b.readInt32LE(${at})`;
      case 8: return `h.s64(b, ${at})`;
    }
  }
  if (k === 'float' && f.count === undefined) {
    if (f.size === 4) return `b.readFloatLE(${at})`;
    if (f.size === 8) return `b.readDoubleLE(${at})`;
  }
  if (k === 'char') return `h.cstr(b, ${at}, ${f.size})`;
  return null;
}

/**
 * Builds the reader of one record type. `flags` is read so the event can say whether a
 * tail was truncated; the caller has checked that n >= layout.size.
 */
export function compileType(rt: RecordType, header: RecordLayout, truncatedBit: number): CompiledType {
  const l = rt.layout;
  const lines: string[] = [];
  const props: string[] = [`type: ${JSON.stringify(rt.event)}`];
  const ns: string[] = [];
  const tailLens = new Set((rt.tail ?? []).map((s) => s.len_field));
  const flagsField = header.fields.find((f) => f.name === 'flags');
  const lenVar = new Map<string, string>();

  // Every record starts with the header, so its consumed fields are found by position.
  const consumed = new Set(header.fields.filter((f) => CONSUMED_HEADER.has(f.name)).map((f) => `${f.offset}:${f.size}`));
  for (const f of l.fields) {
    if (tailLens.has(f.name)) {
      const v = `L${lenVar.size}`;
      lenVar.set(f.name, v);
      lines.push(`const ${v} = ${scalar(f, `o + ${f.offset}`)};`);
      continue;
    }
    if (consumed.has(`${f.offset}:${f.size}`) && f.offset < header.size) continue;
    const name = outputName(f);
    if (name === null) continue;
    let expr = scalar(f, `o + ${f.offset}`);
    if (expr === null) expr = `h.bytes(b, o + ${f.offset}, ${f.size})`;
    if (name.startsWith('ns_') && name.length > 3) ns.push(`${JSON.stringify(name.slice(3))}: ${expr}`);
    else props.push(`${JSON.stringify(name)}: ${expr}`);
  }
  if (ns.length) props.push(`ns: {${ns.join(', ')}}`);
  if (flagsField && flagsField.size <= 4 && truncatedBit) {
    const fl = scalar(flagsField, `o + ${flagsField.offset}`);
    props.push(`truncated: (${fl} & ${truncatedBit}) !== 0`);
  }
  lines.push(`const e = {${props.join(', ')}};`);
  if (rt.tail && l.tail) {
    lines.push(`let p = o + ${l.tail.offset}; const end = o + n; let len = 0;`);
    for (const s of rt.tail) {
      const v = lenVar.get(s.len_field) as string;
      const fn = s.kind === 'string' ? 'str' : s.kind === 'strings' ? 'strs' : 'bytes';
      lines.push(`len = ${v} > end - p ? (e.malformed = true, end - p) : ${v};`);
      lines.push(`e[${JSON.stringify(s.name)}] = h.${fn}(b, p, len); p += len;`);
    }
  }
  lines.push('return e;');
  const body = lines.join('\n');
  // The layout was validated (identifiers, integer offsets within the record), and names
  // are emitted through JSON.stringify, so the generated source holds no file-supplied code.
  const make = new Function('h', `return function read_${rt.event}(b, o, n) {\n${body}\n};`);
  return {id: rt.id, event: rt.event, minSize: l.size, read: make(helpers) as RecordReader};
}
