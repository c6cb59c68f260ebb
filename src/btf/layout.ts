// Record layouts: the flattened, plain-data description of a wire struct
// that the recorder stores in the trace file's metadata and the decoder is
// generated from. Derived from BTF so that TypeScript never hard-codes an
// offset; kept to numbers, strings and arrays so it survives msgpack.

import { printable } from './printable';
import { Btf, Struct, Type, TypeId, describeKind } from './types';

export type FieldKind = 'uint' | 'int' | 'char' | 'bytes' | 'float' | 'enum' | 'pointer';

export interface FieldLayout {
  /**
   * Flattened path: nested struct members are joined with '.', e.g. 'hdr.ts_ns', 'task.uid'.
   * Members of an anonymous struct appear at the outer level (as in C); an
   * anonymous union, which has no name to use, is called '_union<offset in its parent>'.
   */
  name: string;
  /** Byte offset from the start of the record. */
  offset: number;
  /** Total bytes (count * elemSize for arrays). */
  size: number;
  kind: FieldKind;
  /** Arrays only: number of elements (multi-dimensional arrays are flattened). char[16] is kind 'char', count 16. */
  count?: number;
  /** Arrays only: bytes per element. */
  elemSize?: number;
}

export interface RecordLayout {
  /** The struct's name, e.g. 'et_exec'. */
  name: string;
  /** sizeof(struct). */
  size: number;
  fields: FieldLayout[];
  /** Present when the struct ends in a flexible array member (`__u8 tail[]`): where the tail starts. */
  tail?: { offset: number };
}

/** Bounds against hostile BTF: nesting depth and the number of fields one record may expand to. */
const MAX_NESTING = 32;
const MAX_FIELDS = 65536;

export interface LayoutOptions {
  /**
   * 'error' (default): a bitfield member makes the struct unusable as a record.
   * 'omit': bitfield members are left out (for kernel structs read field by field).
   */
  bitfields?: 'error' | 'omit';
}

/** Layouts of the named structs, in the order given. Throws if one is missing or cannot be laid out. */
export function recordLayouts(btf: Btf, names: readonly string[], options: LayoutOptions = {}): RecordLayout[] {
  return names.map((name) => recordLayout(btf, name, options));
}

export function recordLayout(btf: Btf, name: string, options: LayoutOptions = {}): RecordLayout {
  const ctx = `record layout: struct ${printable(name)}`;
  const st = findStruct(btf, name);
  if (st === undefined) throw new Error(`${ctx}: not found in BTF`);
  const layout: RecordLayout = { name, size: st.size, fields: [] };
  const walker = new Flattener(btf, ctx, layout.fields, options.bitfields === 'omit', st);
  const last = st.members.length - 1;
  st.members.forEach((m, i) => {
    if (i === last && m.bitfieldSize === 0) {
      const t = btf.resolve(m.type);
      if (t.kind === 'array' && t.nelems === 0) {
        if (m.bitOffset % 8 !== 0) throw new Error(`${ctx}: member ${printable(m.name)} is not byte aligned`);
        layout.tail = { offset: m.bitOffset / 8 };
        return;
      }
    }
    walker.member(st, m.name, m.type, m.bitOffset, m.bitfieldSize, '', 0);
  });
  return layout;
}

/** A struct named `name`, or a typedef of one (typedef struct {...} name). */
function findStruct(btf: Btf, name: string): Struct | undefined {
  for (const t of btf.byName(name)) {
    if (t.kind === 'struct') return t;
  }
  for (const t of btf.byName(name)) {
    if (t.kind !== 'typedef') continue;
    const r = btf.resolve(t.id);
    if (r.kind === 'struct') return r;
  }
  return undefined;
}

class Flattener {
  /** The structs being flattened, outermost first: one seen again means a struct contains itself. */
  private readonly stack: TypeId[];

  constructor(
    private readonly btf: Btf,
    private readonly ctx: string,
    private readonly out: FieldLayout[],
    private readonly omitBitfields: boolean,
    root: Struct,
  ) {
    this.stack = [root.id];
  }

  member(owner: Type, name: string, typeId: TypeId, bitOffset: number, bitfieldSize: number, prefix: string, base: number): void {
    const path = `${prefix}${name}`;
    const where = `${this.ctx}: member ${path === '' ? `at bit ${bitOffset} of ${describeKind(owner)}` : printable(path)}`;
    const t = this.btf.resolve(typeId);
    if (bitfieldSize > 0 || (t.kind === 'int' && t.bits !== t.size * 8)) {
      if (this.omitBitfields) return;
      throw new Error(`${where}: bitfields are not supported in record layouts`);
    }
    if (bitOffset % 8 !== 0) throw new Error(`${where}: not byte aligned (bit offset ${bitOffset})`);
    const offset = base + bitOffset / 8;

    if (t.kind === 'struct') {
      // An anonymous struct member (C11) contributes its members at this level.
      this.nested(t, name === '' ? prefix : `${path}.`, offset, where);
      return;
    }
    if (t.kind === 'union') {
      this.push({ name: name === '' ? `${prefix}_union${offset - base}` : path, offset, size: t.size, kind: 'bytes' }, where);
      return;
    }
    if (t.kind === 'array') {
      let count = 1;
      let elem: Type = t;
      for (let depth = 0; elem.kind === 'array'; depth++) {
        if (depth > MAX_NESTING) throw new Error(`${where}: array nesting too deep`);
        count *= elem.nelems;
        elem = this.btf.resolve(elem.type);
      }
      if (count === 0) throw new Error(`${where}: zero-length array (only the last member of a record may be a flexible array)`);
      const elemSize = this.btf.sizeof(elem.id);
      const kind = scalarKind(elem) ?? (elem.kind === 'struct' || elem.kind === 'union' ? 'bytes' : undefined);
      if (kind === undefined) throw new Error(`${where}: array of ${describeKind(elem)} cannot be laid out`);
      this.push({ name: path, offset, size: count * elemSize, kind, count, elemSize }, where);
      return;
    }
    const kind = scalarKind(t);
    if (kind === undefined) throw new Error(`${where}: ${describeKind(t)} cannot be laid out`);
    this.push({ name: path, offset, size: this.btf.sizeof(t.id), kind }, where);
  }

  private nested(st: Struct, prefix: string, base: number, where: string): void {
    if (this.stack.includes(st.id)) throw new Error(`${where}: ${describeKind(st)} contains itself`);
    if (this.stack.length >= MAX_NESTING) throw new Error(`${where}: structs nested too deep`);
    this.stack.push(st.id);
    for (const m of st.members) this.member(st, m.name, m.type, m.bitOffset, m.bitfieldSize, prefix, base);
    this.stack.pop();
  }

  private push(f: FieldLayout, where: string): void {
    if (this.out.length >= MAX_FIELDS) throw new Error(`${where}: more than ${MAX_FIELDS} fields`);
    this.out.push(f);
  }
}

function scalarKind(t: Type): FieldKind | undefined {
  switch (t.kind) {
    case 'int':
      if (t.char) return 'char';
      return t.signed ? 'int' : 'uint';
    case 'enum':
    case 'enum64':
      return 'enum';
    case 'float':
      return 'float';
    case 'ptr':
      return 'pointer';
    default:
      return undefined;
  }
}
