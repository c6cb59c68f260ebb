// Parsing a raw BTF blob (the .BTF section of a BPF object, or
// /sys/kernel/btf/vmlinux): raw.ts scans and checks each record, then this
// file checks the graph the way the kernel's verifier does (kernel/bpf/btf.c),
// so that code walking the model can rely on: every referenced id exists and
// has an acceptable kind, every member lies inside its struct, and every
// typedef/qualifier/pointer/array chain ends within MAX_RESOLVE_DEPTH steps.

import {
  BTF_MEMBER_SIZE,
  BTF_PARAM_SIZE,
  BTF_VAR_SECINFO_SIZE,
  BtfKind,
  btfIntBits,
  btfIntOffset,
  btfMemberBitOffset,
  btfMemberBitfieldSize,
} from './btf_types';
import { ElfFile, SHT_NOBITS, STT_NOTYPE, STT_OBJECT, readElf } from './elf';
import { printable } from './printable';
import { RawBtf, scanBtf } from './raw';
import { Btf, BtfOptions, Datasec, MAX_RESOLVE_DEPTH, TypeId, describeKind } from './types';

/**
 * Parses a raw BTF blob: header (magic 0xeb9f, version 1), type section and
 * string section. Throws a one-line Error ("parse btf: type 12: ...") on any
 * malformed input. Types are decoded lazily, on first use.
 */
export function parseBtf(bytes: Uint8Array, options: BtfOptions = {}): Btf {
  const raw = scanBtf(bytes);
  const btf = new Btf(raw, options);
  validate(btf, raw);
  return btf;
}

/** The BTF of a BPF object file (its .BTF section), with DATASEC sizes and offsets filled in from the ELF. */
export function btfFromElf(bytes: Uint8Array, options: BtfOptions = {}): Btf {
  return loadObject(bytes, options).btf;
}

/** @internal Both views of one object file, parsed once. */
export function loadObject(bytes: Uint8Array, options: BtfOptions = {}): { elf: ElfFile; btf: Btf } {
  const elf = readElf(bytes);
  const sec = elf.section('.BTF');
  if (sec === undefined) throw new Error('btf from elf: no .BTF section (compile the object with -g)');
  const btf = parseBtf(elf.sectionData(sec), options);
  fixupDatasecs(btf, elf);
  return { elf, btf };
}

function validate(btf: Btf, raw: RawBtf): void {
  const n = raw.count;
  const what = (id: TypeId) => describeKind(btf.type(id));
  const ref = (target: number, owner: TypeId, role: string, allowVoid: boolean): void => {
    if (target >= n) throw new Error(`parse btf: type ${owner}: ${role} refers to type ${target}, beyond the last type ${n - 1}`);
    if (target === 0 && !allowVoid) throw new Error(`parse btf: type ${owner}: ${role} is void`);
  };
  const memberName = (id: TypeId, i: number) => printable(raw.str(raw.u32(raw.extra(id) + i * BTF_MEMBER_SIZE)));
  const memberCtx = (id: TypeId, i: number) => `parse btf: type ${id}: member '${memberName(id, i)}'`;

  // 1. Every reference points at an existing type of an acceptable kind.
  for (let id = 1; id < n; id++) {
    const kind = raw.kind(id);
    const extra = raw.extra(id);
    const vlen = raw.vlen(id);
    switch (kind) {
      case BtfKind.Ptr:
      case BtfKind.Typedef:
      case BtfKind.Const:
      case BtfKind.Volatile:
      case BtfKind.Restrict:
      case BtfKind.TypeTag:
        ref(raw.sizeOrType(id), id, 'target', true);
        break;
      case BtfKind.Array:
        ref(raw.u32(extra), id, 'element type', false);
        ref(raw.u32(extra + 4), id, 'index type', true);
        break;
      case BtfKind.Struct:
      case BtfKind.Union:
        for (let i = 0; i < vlen; i++) {
          const target = raw.u32(extra + i * BTF_MEMBER_SIZE + 4);
          if (target >= n || target === 0) ref(target, id, `member '${memberName(id, i)}'`, false);
        }
        break;
      case BtfKind.Func: {
        const proto = raw.sizeOrType(id);
        ref(proto, id, 'prototype', false);
        if (raw.kind(proto) !== BtfKind.FuncProto) {
          throw new Error(`parse btf: type ${id}: func prototype is ${what(proto)}, not func_proto`);
        }
        break;
      }
      case BtfKind.FuncProto:
        ref(raw.sizeOrType(id), id, 'return type', true);
        for (let i = 0; i < vlen; i++) {
          const target = raw.u32(extra + i * BTF_PARAM_SIZE + 4);
          if (target !== 0) ref(target, id, `parameter ${i}`, false); // 0: the `...` marker, checked by the scan
        }
        break;
      case BtfKind.Var:
        ref(raw.sizeOrType(id), id, 'type', false);
        break;
      case BtfKind.Datasec: {
        const size = raw.sizeOrType(id);
        for (let i = 0; i < vlen; i++) {
          const p = extra + i * BTF_VAR_SECINFO_SIZE;
          const target = raw.u32(p);
          ref(target, id, 'variable', false);
          const k = raw.kind(target);
          if (k !== BtfKind.Var && k !== BtfKind.Func) {
            throw new Error(`parse btf: type ${id}: datasec entry ${target} is ${what(target)}, not var`);
          }
          const offset = raw.u32(p + 4);
          if (size > 0 && offset + raw.u32(p + 8) > size) {
            throw new Error(`parse btf: type ${id}: variable ${target} at offset ${offset} beyond datasec size ${size}`);
          }
        }
        break;
      }
      case BtfKind.DeclTag: {
        const target = raw.sizeOrType(id);
        ref(target, id, 'target', false);
        const component = raw.u32(extra) | 0;
        if (component >= 0) {
          const tk = raw.kind(target);
          const proto = tk === BtfKind.Func ? raw.sizeOrType(target) : 0;
          const count =
            tk === BtfKind.Struct || tk === BtfKind.Union ? raw.vlen(target)
            : proto !== 0 && proto < n && raw.kind(proto) === BtfKind.FuncProto ? raw.vlen(proto)
            : 0;
          if (component >= count) {
            throw new Error(`parse btf: type ${id}: decl_tag component ${component} out of range for ${what(target)}`);
          }
        }
        break;
      }
      default:
        break;
    }
  }

  // 2. Chains of references that do not pass through a struct end within the limit.
  checkChains(raw);

  // 3. Members lie inside their struct, and their types have a size.
  for (let id = 1; id < n; id++) {
    const kind = raw.kind(id);
    if (kind !== BtfKind.Struct && kind !== BtfKind.Union) continue;
    const limit = raw.sizeOrType(id) * 8;
    const kflag = raw.kflag(id);
    const extra = raw.extra(id);
    const vlen = raw.vlen(id);
    for (let i = 0; i < vlen; i++) {
      const p = extra + i * BTF_MEMBER_SIZE;
      const type = raw.u32(p + 4);
      const offsetField = raw.u32(p + 8);
      const bitOffset = kflag ? btfMemberBitOffset(offsetField) : offsetField;
      const bitfieldSize = kflag ? btfMemberBitfieldSize(offsetField) : 0;
      const base = btf.resolveId(type);
      const baseKind = raw.kind(base);
      let end: number;
      if (bitfieldSize > 0) {
        if (baseKind !== BtfKind.Int && baseKind !== BtfKind.Enum && baseKind !== BtfKind.Enum64) {
          throw new Error(`${memberCtx(id, i)}: bitfield of ${what(base)}, not an integer`);
        }
        if (bitfieldSize > raw.sizeOrType(base) * 8) throw new Error(`${memberCtx(id, i)}: bitfield wider than its type`);
        end = bitOffset + bitfieldSize;
      } else {
        let size: number;
        try {
          size = btf.sizeof(type);
        } catch (e) {
          throw new Error(`${memberCtx(id, i)}: ${(e as Error).message.replace(/^btf: /, '')}`);
        }
        const intData = baseKind === BtfKind.Int ? raw.u32(raw.extra(base)) : 0;
        // Legacy bitfields (kind_flag clear): the member's int carries bits and offset.
        end = baseKind === BtfKind.Int && btfIntBits(intData) < raw.sizeOrType(base) * 8
          ? bitOffset + btfIntOffset(intData) + btfIntBits(intData)
          : bitOffset + size * 8;
      }
      if (bitOffset > limit || end > limit) {
        throw new Error(`parse btf: type ${id}: member offset beyond struct size (member '${memberName(id, i)}' ends at bit ${end}, ${what(id)} is ${limit} bits)`);
      }
    }
  }
}

/**
 * Follows ptr/typedef/qualifier/array/var references from every type,
 * memoizing the remaining chain length, and rejects chains longer than the
 * limit (a cycle is an infinitely long chain).
 */
function checkChains(raw: RawBtf): void {
  const depth = new Int32Array(raw.count); // 0: unknown; d: d types from here to the end of the chain
  const path: TypeId[] = [];
  for (let start = 0; start < raw.count; start++) {
    if (depth[start] !== 0) continue;
    path.length = 0;
    let id = start;
    let d = 1;
    for (;;) {
      if (depth[id] !== 0) {
        d = depth[id] + 1;
        break;
      }
      path.push(id);
      if (path.length > MAX_RESOLVE_DEPTH + 1) {
        throw new Error(`parse btf: type ${start}: reference chain too long or cyclic`);
      }
      const next = chainNext(raw, id);
      if (next === undefined) break;
      id = next;
    }
    for (let i = path.length - 1; i >= 0; i--, d++) {
      if (d > MAX_RESOLVE_DEPTH + 1) throw new Error(`parse btf: type ${path[i]}: reference chain too long or cyclic`);
      depth[path[i]] = d;
    }
  }
}

function chainNext(raw: RawBtf, id: TypeId): TypeId | undefined {
  switch (raw.kind(id)) {
    case BtfKind.Ptr:
    case BtfKind.Typedef:
    case BtfKind.Const:
    case BtfKind.Volatile:
    case BtfKind.Restrict:
    case BtfKind.TypeTag:
    case BtfKind.Var:
      return raw.sizeOrType(id);
    case BtfKind.Array:
      return raw.u32(raw.extra(id));
    default:
      return undefined;
  }
}

/**
 * An unlinked object (clang -c) leaves DATASEC sizes at 0 and the offsets of
 * global variables as relocations; like libbpf, take the section size from
 * the ELF section and each variable's offset from its symbol.
 */
function fixupDatasecs(btf: Btf, elf: ElfFile): void {
  for (let id = 1; id < btf.count; id++) {
    if (btf.kindOf(id) !== 'datasec') continue;
    const t = btf.type(id) as Datasec;
    if (t.size !== 0) continue;
    const sec = elf.section(t.name);
    if (sec === undefined) continue; // .kconfig, .ksyms: filled in by the loader
    fixupDatasec(btf, elf, t, sec.index, sec.size, sec.type === SHT_NOBITS);
  }
}

function fixupDatasec(btf: Btf, elf: ElfFile, t: Datasec, shndx: number, size: number, nobits: boolean): void {
  const ctx = `btf from elf: datasec ${printable(t.name)}`;
  t.size = size;
  for (const e of t.vars) {
    const v = btf.type(e.type);
    if (v.kind !== 'var') continue;
    if (v.linkage !== 'static') {
      const sym = elf.symbols().find(
        (s) => s.name === v.name && s.shndx === shndx && (s.type === STT_OBJECT || s.type === STT_NOTYPE),
      );
      if (sym === undefined) throw new Error(`${ctx}: variable ${printable(v.name)} has no symbol in section ${shndx}`);
      e.offset = sym.value;
    }
    if (e.offset + e.size > size) {
      throw new Error(`${ctx}: variable ${printable(v.name)} (offset ${e.offset}, ${e.size} bytes) beyond the section (${size} bytes${nobits ? ', nobits' : ''})`);
    }
  }
}
