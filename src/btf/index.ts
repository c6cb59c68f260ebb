// src/btf: BTF (BPF Type Format) reading, pure TypeScript, no native code and
// nothing Linux-only, so the offline side can use it on any OS.
//
// What it is for: the trace file is self-describing. At record time the
// recorder parses the BPF object's own .BTF section and derives the layout of
// every wire record (et_header, et_exec, ...) with recordLayouts(); those
// plain-data layouts go into the file's metadata and drive the decoder. The
// same parser reads the kernel's raw BTF (/sys/kernel/btf/vmlinux) for the
// structs that syscall arguments point to. rodataImage() builds the .rodata
// image that carries the object's `const volatile` options into the kernel.
//
// Files: elf.ts (minimal ELF64 reader), btf_types.ts (wire structs of
// include/uapi/linux/btf.h), raw.ts (scan of a blob, decoding on demand),
// types.ts (the model and the Btf class), parse.ts (checks of the type graph,
// DATASEC fix-ups from the ELF), layout.ts (record layouts), rodata.ts
// (.rodata options), printable.ts (names made safe for one-line errors).

export { parseBtf, btfFromElf } from './parse';
export {
  Btf,
  MAX_RESOLVE_DEPTH,
  describeKind,
  isQualifier,
} from './types';
export type {
  BtfOptions,
  TypeId,
  Type,
  Kind,
  TypeOfKind,
  Void,
  Int,
  Pointer,
  ArrayType,
  Member,
  Struct,
  Union,
  Enum,
  EnumValue,
  Enum64,
  Enum64Value,
  Fwd,
  Typedef,
  Volatile,
  Const,
  Restrict,
  Linkage,
  Func,
  Param,
  FuncProto,
  Var,
  VarSecinfo,
  Datasec,
  Float,
  DeclTag,
  TypeTag,
} from './types';
export { recordLayouts, recordLayout } from './layout';
export type { RecordLayout, FieldLayout, FieldKind, LayoutOptions } from './layout';
export { rodataImage, rodataDefaults, rodataVariables } from './rodata';
export type { RodataValue, RodataVariable } from './rodata';
export { ElfFile, readElf } from './elf';
export type { ElfSection, ElfSymbol } from './elf';
