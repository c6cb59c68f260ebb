// C types as tracefs spells them ('const char *', 'umode_t', 'struct stat *',
// 'const char *const *'), taken apart, and sized with the kernel's BTF: typedefs such as
// pid_t, size_t, loff_t, key_serial_t are whatever this kernel says they are.

import type { Btf, Type } from '../btf';

export interface CType {
  /** The words naming the base type, qualifiers dropped: 'char', 'unsigned long', 'struct stat', 'umode_t'. */
  base: string;
  /** Number of '*'. */
  pointers: number;
  /** 'const' qualifies the base type: for a pointer, the memory it points to is read-only. */
  constBase: boolean;
}

const QUALIFIER_WORDS = new Set(['const', 'volatile', '__user', 'restrict', '__restrict']);
const INT_WORDS = new Set(['signed', 'unsigned', 'char', 'short', 'int', 'long', '_Bool']);

export function parseCType(text: string): CType {
  const tokens = text.replace(/\*/g, ' * ').trim().split(/\s+/).filter((w) => w !== '');
  const firstStar = tokens.indexOf('*');
  const head = firstStar < 0 ? tokens : tokens.slice(0, firstStar);
  return {
    base: head.filter((w) => !QUALIFIER_WORDS.has(w)).join(' '),
    pointers: tokens.filter((w) => w === '*').length,
    constBase: head.includes('const'),
  };
}

export interface Scalar {
  size: number;
  signed: boolean;
}

/** Sizes of the LP64 (x86_64) integer types; plain char is signed there. */
function builtinInt(base: string): Scalar | undefined {
  const words = base.split(' ');
  if (words.length === 0 || !words.every((w) => INT_WORDS.has(w))) return undefined;
  const unsigned = words.includes('unsigned');
  if (words.includes('_Bool')) return { size: 1, signed: false };
  if (words.includes('char')) return { size: 1, signed: !unsigned };
  if (words.includes('short')) return { size: 2, signed: !unsigned };
  if (words.includes('long')) return { size: 8, signed: !unsigned };
  return { size: 4, signed: !unsigned };
}

/** What a base type name is, as far as a syscall argument is concerned. */
export type BaseType =
  | { kind: 'int'; size: number; signed: boolean }
  | { kind: 'char' } // plain char: strings and byte buffers
  | { kind: 'void' }
  | { kind: 'struct'; name: string; union: boolean } // name: how to find it again (struct or typedef name)
  | { kind: 'pointer' } // a typedef of a pointer (cap_user_header_t)
  | { kind: 'unknown' };

/** Resolves a base type name: builtins directly, the rest (typedefs, enums, structs) through BTF. */
export function resolveBase(btf: Btf, base: string): BaseType {
  if (base === 'void') return { kind: 'void' };
  if (base === 'char') return { kind: 'char' };
  const builtin = builtinInt(base);
  if (builtin !== undefined) return { kind: 'int', ...builtin };
  const tagged = /^(struct|union|enum) ([A-Za-z_][A-Za-z0-9_]*)$/.exec(base);
  if (tagged) {
    const [, tag, name] = tagged;
    if (tag === 'enum') {
      const e = btf.find('enum', name) ?? btf.find('enum64', name);
      return e === undefined ? { kind: 'unknown' } : { kind: 'int', size: e.size, signed: e.signed };
    }
    if (btf.find(tag as 'struct' | 'union', name) === undefined) return { kind: 'unknown' };
    return { kind: 'struct', name, union: tag === 'union' };
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(base)) return { kind: 'unknown' };
  const typedef = btf.byName(base).find((t) => t.kind === 'typedef');
  if (typedef === undefined) return { kind: 'unknown' };
  return fromBtf(btf, btf.resolve(typedef.id), base);
}

function fromBtf(btf: Btf, t: Type, typedefName: string): BaseType {
  switch (t.kind) {
    case 'int':
      return t.char && t.size === 1 && t.name === 'char' ? { kind: 'char' } : { kind: 'int', size: t.size, signed: t.signed };
    case 'enum':
    case 'enum64':
      return { kind: 'int', size: t.size, signed: t.signed };
    case 'ptr':
      return { kind: 'pointer' };
    case 'struct':
    case 'union':
      return { kind: 'struct', name: typedefName, union: t.kind === 'union' };
    case 'void':
      return { kind: 'void' };
    default:
      return { kind: 'unknown' };
  }
}
