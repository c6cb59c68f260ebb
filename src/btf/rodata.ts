// The .rodata image of a BPF object with its `const volatile` options set.
// libbpf-style loaders let userspace rewrite .rodata between open and load;
// the native addon copies the image we build here, so the position and type
// of every option come from the object's own BTF (DATASEC ".rodata" and its
// VARs), not from TypeScript constants.

import { loadObject } from './parse';
import { printable } from './printable';
import { Btf, Datasec, Int, Type } from './types';

export type RodataValue = number | bigint;

export interface RodataVariable {
  name: string;
  /** Offset inside .rodata. */
  offset: number;
  size: number;
  /** The C type, e.g. "const volatile __u32". */
  typeName: string;
  /** Set for integers (and enums, and bools): what values fit. */
  integer?: { signed: boolean; bits: number };
  /** Declared volatile: the compiler kept loads, so a rewritten value takes effect. */
  volatile: boolean;
}

/**
 * A copy of the object's .rodata section with the named variables replaced.
 * Each value must fit the variable's integer type; unknown names are an error
 * that lists the known ones.
 */
export function rodataImage(elfBytes: Uint8Array, values: Readonly<Record<string, RodataValue>>): Buffer {
  const ctx = 'rodata image';
  const { data, vars } = readRodata(elfBytes, ctx);
  const image = Buffer.from(data);
  const byName = new Map(vars.map((v) => [v.name, v]));
  for (const [name, value] of Object.entries(values)) {
    const v = byName.get(name);
    if (v === undefined) {
      const known = vars.map((x) => x.name).join(', ') || 'none';
      throw new Error(`${ctx}: unknown variable '${printable(name)}' (known: ${printable(known)})`);
    }
    if (v.integer === undefined) throw new Error(`${ctx}: variable '${printable(name)}' is ${printable(v.typeName)}, only integers can be set`);
    if (!v.volatile) {
      throw new Error(`${ctx}: variable '${printable(name)}' is not volatile, the compiler may have folded its value (declare it const volatile)`);
    }
    writeInt(image, v.offset, v.size, checkedValue(name, value, v, ctx));
  }
  return image;
}

/** The values the object was compiled with, for every integer variable in .rodata. Sizes up to 4 bytes give numbers, larger ones bigints. */
export function rodataDefaults(elfBytes: Uint8Array): Record<string, RodataValue> {
  const { data, vars } = readRodata(elfBytes, 'rodata defaults', true);
  const out: Record<string, RodataValue> = {};
  for (const v of vars) {
    if (v.integer === undefined) continue;
    const raw = readInt(data, v.offset, v.size);
    const value = v.integer.signed ? BigInt.asIntN(v.size * 8, raw) : raw;
    out[v.name] = v.size <= 4 ? Number(value) : value;
  }
  return out;
}

/** The variables of .rodata as its BTF DATASEC describes them, in offset order. */
export function rodataVariables(elfBytes: Uint8Array): RodataVariable[] {
  return readRodata(elfBytes, 'rodata variables', true).vars;
}

function readRodata(elfBytes: Uint8Array, ctx: string, allowMissing = false): { data: Uint8Array; vars: RodataVariable[] } {
  const { elf, btf } = loadObject(elfBytes);
  const sec = elf.section('.rodata');
  if (sec === undefined) {
    if (allowMissing) return { data: new Uint8Array(0), vars: [] };
    throw new Error(`${ctx}: object has no .rodata section (no const volatile globals?)`);
  }
  const data = elf.sectionData(sec);
  const ds = btf.find('datasec', '.rodata');
  if (ds === undefined) return { data, vars: [] };
  return { data, vars: datasecVariables(btf, ds, data.length, ctx) };
}

function datasecVariables(btf: Btf, ds: Datasec, sectionSize: number, ctx: string): RodataVariable[] {
  const vars: RodataVariable[] = [];
  for (const e of ds.vars) {
    const v = btf.type(e.type);
    if (v.kind !== 'var') continue;
    const size = btf.sizeof(v.type);
    if (size !== e.size) throw new Error(`${ctx}: variable '${printable(v.name)}': datasec says ${e.size} bytes, its type ${size}`);
    if (e.offset + size > sectionSize) {
      throw new Error(`${ctx}: variable '${printable(v.name)}' (offset ${e.offset}, ${size} bytes) beyond .rodata (${sectionSize} bytes)`);
    }
    const base = btf.resolve(v.type);
    vars.push({
      name: v.name,
      offset: e.offset,
      size,
      typeName: btf.typeName(v.type),
      integer: integerInfo(base),
      volatile: btf.qualifiers(v.type).volatile,
    });
  }
  return vars.sort((a, b) => a.offset - b.offset);
}

function integerInfo(t: Type): { signed: boolean; bits: number } | undefined {
  if (t.kind === 'int') return { signed: t.signed, bits: intBits(t) };
  if (t.kind === 'enum' || t.kind === 'enum64') return { signed: t.signed, bits: t.size * 8 };
  return undefined;
}

function intBits(t: Int): number {
  return t.bool ? 1 : t.bits;
}

function checkedValue(name: string, value: RodataValue, v: RodataVariable, ctx: string): bigint {
  const int = v.integer!;
  let big: bigint;
  if (typeof value === 'bigint') {
    big = value;
  } else if (typeof value === 'number' && Number.isSafeInteger(value)) {
    big = BigInt(value);
  } else {
    throw new Error(`${ctx}: variable '${printable(name)}': value ${String(value)} is not an integer`);
  }
  const bits = BigInt(int.bits);
  const min = int.signed ? -(1n << (bits - 1n)) : 0n;
  const max = int.signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  if (big < min || big > max) {
    throw new Error(`${ctx}: variable '${printable(name)}': value ${big} out of range for ${printable(v.typeName)} (${min}..${max})`);
  }
  return big;
}

function writeInt(buf: Uint8Array, offset: number, size: number, value: bigint): void {
  let u = BigInt.asUintN(size * 8, value);
  for (let i = 0; i < size; i++) {
    buf[offset + i] = Number(u & 0xffn);
    u >>= 8n;
  }
}

function readInt(buf: Uint8Array, offset: number, size: number): bigint {
  let u = 0n;
  for (let i = size - 1; i >= 0; i--) u = (u << 8n) | BigInt(buf[offset + i]);
  return u;
}
