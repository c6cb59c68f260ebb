// Record readers generated from the layouts a trace file carries. Each record type gets one
// function, built once per file, that reads a raw record into a plain event object: no
// offsets live in TypeScript, they all come from the file's metadata.
//
// Naming rule (formats/trace-format.md, "From records to events"): a flattened field name
// keeps its last component (`task.uid` → `uid`); `ns_<x>` fields gather into `ns.<x>`;
// components starting with `_` are padding; the header's `type`, `size` and `flags` and the
// tail length fields are consumed by the decoder rather than shown.

import {FieldLayout, RecordLayout, RecordType} from './layout';
import {decodeText, type Text} from './text';

export type RawEvent = Record<string, unknown> & {type: string; ts_ns: number};

export type RecordReader = (b: Buffer, o: number, n: number) => RawEvent;

/**
 * The et_task identity fields (start_ns, exec_seq, parent_start_ns, parent_exec_seq) of the
 * record a generated reader read last: they become exec_id and parent_exec_id (identity.ts),
 * not fields of their own. Readers are called one at a time, so one array serves them all.
 */
export const lastIds: [number | bigint, number | bigint, number | bigint, number | bigint] = [0, 0, 0, 0];

/** The field names that make up lastIds, in its order. */
export const ID_FIELDS = ['start_ns', 'exec_seq', 'parent_start_ns', 'parent_exec_seq'];

export const helpers = {
  ids(b: Buffer, o: number, a: number, c: number, d: number, f: number): void {
    lastIds[0] = helpers.u64(b, o + a);
    lastIds[1] = helpers.u64(b, o + c);
    lastIds[2] = helpers.u64(b, o + d);
    lastIds[3] = helpers.u64(b, o + f);
  },
  u64(b: Buffer, o: number): number | bigint {
    const lo = b.readUInt32LE(o);
    const hi = b.readUInt32LE(o + 4);
    return hi < 0x200000 ? hi * 4294967296 + lo : (BigInt(hi) << 32n) | BigInt(lo);
  },
  s64(b: Buffer, o: number): number | bigint {
    const lo = b.readUInt32LE(o);
    const hi = b.readInt32LE(o + 4);
    // Within ±2^53 the double is exact; no BigInt on the common path.
    if (hi > -0x200000 && hi < 0x200000) return hi * 4294967296 + lo;
    const v = b.readBigInt64LE(o);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  },
  // u64 and s64 over a DataView of the record's buffer (cheaper reads than Buffer's), same values.
  u64v(dv: DataView, o: number): number | bigint {
    const lo = dv.getUint32(o, true);
    const hi = dv.getUint32(o + 4, true);
    return hi < 0x200000 ? hi * 4294967296 + lo : (BigInt(hi) << 32n) | BigInt(lo);
  },
  s64v(dv: DataView, o: number): number | bigint {
    const lo = dv.getUint32(o, true);
    const hi = dv.getInt32(o + 4, true);
    if (hi > -0x200000 && hi < 0x200000) return hi * 4294967296 + lo;
    const v = dv.getBigInt64(o, true);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  },
  cstr(b: Buffer, o: number, n: number): string {
    let end = b.indexOf(0, o);
    if (end < 0 || end > o + n) end = o + n;
    return b.toString('utf8', o, end);
  },
  /** One NUL-terminated string segment (RawText when its bytes are not UTF-8: text.ts). */
  str(b: Buffer, o: number, n: number): Text {
    let end = o + n;
    const nul = b.indexOf(0, o);
    if (nul >= 0 && nul < end) end = nul;
    return decodeText(b, o, end);
  },
  /** NUL-separated strings (argv): a final NUL ends the list, it does not add an empty one. */
  strs(b: Buffer, o: number, n: number): Text[] {
    const out: Text[] = [];
    const end = o + n;
    let p = o;
    while (p < end) {
      let q = b.indexOf(0, p);
      if (q < 0 || q >= end) q = end;
      out.push(decodeText(b, p, q));
      p = q + 1;
    }
    return out;
  },
  bytes(b: Buffer, o: number, n: number): Buffer {
    return Buffer.from(b.subarray(o, o + n));
  },
  hex(b: Buffer, o: number, n: number): string {
    return b.toString('hex', o, o + n);
  },
  /** An array of integers (kind uint/int/enum/pointer) of `count` elements of `size` bytes. */
  ints(b: Buffer, o: number, count: number, size: number, signed: boolean): (number | bigint)[] {
    const out: (number | bigint)[] = new Array(count);
    for (let i = 0, p = o; i < count; i++, p += size) {
      switch (size) {
        case 1: out[i] = signed ? b.readInt8(p) : b.readUInt8(p); break;
        case 2: out[i] = signed ? b.readInt16LE(p) : b.readUInt16LE(p); break;
        case 4: out[i] = signed ? b.readInt32LE(p) : b.readUInt32LE(p); break;
        default: out[i] = signed ? helpers.s64(b, p) : helpers.u64(b, p);
      }
    }
    return out;
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

/** The event model's common keys, in the order JSON output shows them. */
export const EVENT_ORDER = ['type', 'time', 'ts_ns', 'pid', 'tid', 'ppid', 'uid', 'gid', 'comm', 'exec_id', 'parent_exec_id', 'prev_exec_id'];

function outputName(f: FieldLayout): string | null {
  const parts = f.name.split('.');
  if (parts.some((p) => p.startsWith('_'))) return null;
  return parts[parts.length - 1];
}

export function scalar(f: FieldLayout, at: string): string | null {
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
  const file: string[] = [];
  const idAt = new Map<string, number>();
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
    if (ID_FIELDS.includes(name) && f.kind === 'uint' && f.size === 8) {
      idAt.set(name, f.offset);
      continue;
    }
    let expr = scalar(f, `o + ${f.offset}`);
    if (expr === null) expr = `h.bytes(b, o + ${f.offset}, ${f.size})`;
    const parts = f.name.split('.');
    if (name.startsWith('ns_') && name.length > 3) ns.push(`${JSON.stringify(name.slice(3))}: ${expr}`);
    else if (parts.length > 1 && parts[parts.length - 2] === 'file') file.push(`${JSON.stringify(name)}: ${expr}`);
    else props.push(`${JSON.stringify(name)}: ${expr}`);
  }
  if (ns.length) props.push(`ns: {${ns.join(', ')}}`);
  if (file.length) props.push(`file: {${file.join(', ')}}`);
  if (idAt.size === ID_FIELDS.length) {
    lines.push(`h.ids(b, o, ${ID_FIELDS.map((k) => idAt.get(k)).join(', ')});`);
    props.push('exec_id: null', 'parent_exec_id: null');
    if (rt.event === 'exec') props.push('prev_exec_id: null');
  }
  if (flagsField && flagsField.size <= 4 && truncatedBit) {
    const fl = scalar(flagsField, `o + ${flagsField.offset}`);
    props.push(`truncated: (${fl} & ${truncatedBit}) !== 0`);
  }
  // Built in the event model's key order (type, time, ts_ns, pid, …), so that JSON output
  // needs no reordering per event; `time` is filled in by the decoder.
  props.splice(1, 0, 'time: ""');
  const rank = (p: string): number => {
    const key = p.startsWith('"') ? JSON.parse(p.slice(0, p.indexOf('":') + 1)) : p.slice(0, p.indexOf(':'));
    const i = EVENT_ORDER.indexOf(key);
    return i < 0 ? EVENT_ORDER.length : i;
  };
  props.sort((a, b) => rank(a) - rank(b));
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


/** Reads a struct captured from user memory: `n` bytes at b[o], possibly fewer than its size. */
export type StructReader = (b: Buffer, o: number, n: number) => Record<string, unknown>;

function arrayExpr(f: FieldLayout, at: string): string {
  const count = f.count as number;
  const size = f.elemSize ?? (count ? f.size / count : 0);
  if (f.kind === 'char') return `h.cstr(b, ${at}, ${f.size})`;
  if ((f.kind === 'uint' || f.kind === 'int' || f.kind === 'enum' || f.kind === 'pointer') && [1, 2, 4, 8].includes(size)) {
    return `h.ints(b, ${at}, ${count}, ${size}, ${f.kind === 'int'})`;
  }
  return `h.hex(b, ${at}, ${f.size})`;
}

/**
 * Builds the reader of a struct that a syscall argument points to (its layout from the
 * kernel's BTF, stored in the file). Nested members become nested objects (`a.b` → {a: {b}}),
 * arrays become arrays (char arrays strings), unions and arrays of structs hex strings, and
 * members whose name starts with `_` (padding, reserved) are left out, as in records. When
 * fewer than sizeof bytes were captured, the members that do not fit are left out too.
 */
export function compileStruct(l: RecordLayout): StructReader {
  const full: string[] = [];
  const part: string[] = [];
  const made = new Set<string>();
  for (const f of l.fields) {
    const parts = f.name.split('.');
    if (parts.some((p) => p.startsWith('_'))) continue;
    const at = `o + ${f.offset}`;
    let expr = f.count !== undefined ? arrayExpr(f, at) : scalar(f, at);
    if (expr === null) expr = `h.hex(b, ${at}, ${f.size})`;
    // r.a.b = …, creating r.a on first use (members of one struct are consecutive in BTF).
    let path = 'r';
    const make: string[] = [];
    for (const p of parts.slice(0, -1)) {
      path += `[${JSON.stringify(p)}]`;
      if (!made.has(path)) {
        made.add(path);
        make.push(`if (typeof ${path} !== 'object') ${path} = {};`);
      }
    }
    const target = `${path}[${JSON.stringify(parts[parts.length - 1])}]`;
    full.push(...make, `${target} = ${expr};`);
    part.push(`if (n >= ${f.offset + f.size}) { ${make.join(' ')} ${target} = ${expr}; }`);
  }
  // As for records: the layout was validated and names pass through JSON.stringify (and
  // none starts with '_', so none is __proto__).
  const body = `const r = {};\nif (n >= ${l.size}) {\n${full.join('\n')}\n} else {\n${part.join('\n')}\n}\nreturn r;`;
  const make = new Function('h', `return function read_struct_${l.name.replace(/\W/g, '_')}(b, o, n) {\n${body}\n};`);
  return make(helpers) as StructReader;
}
