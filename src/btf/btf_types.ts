// Raw BTF wire structures, as laid out in the kernel's include/uapi/linux/btf.h
// (the "BPF Type Format" documented in Documentation/bpf/btf.rst). Everything
// here is a plain transcription of that header: constants, sizes of the
// on-disk records and readers that decode one record at a byte offset. The
// public model built from these records lives in types.ts.
//
// All readers take a DataView and an absolute offset and trust the caller to
// have checked bounds (parse.ts does, once per record, before reading).

export const BTF_MAGIC = 0xeb9f;
/** The magic as read little-endian from a big-endian blob. */
export const BTF_MAGIC_SWAPPED = 0x9feb;
export const BTF_VERSION = 1;

/** Largest type id (BTF_MAX_TYPE). */
export const BTF_MAX_TYPE = 0x000fffff;
/** Largest offset into the string section (BTF_MAX_NAME_OFFSET). */
export const BTF_MAX_NAME_OFFSET = 0x00ffffff;
/** Largest number of members, enumerators or parameters (BTF_MAX_VLEN). */
export const BTF_MAX_VLEN = 0xffff;

/** struct btf_header: the part every version has; hdr_len may be larger. */
export interface RawBtfHeader {
  magic: number;
  version: number;
  flags: number;
  hdrLen: number;
  /** Offsets are relative to the end of the header (hdrLen). */
  typeOff: number;
  typeLen: number;
  strOff: number;
  strLen: number;
}
export const BTF_HEADER_SIZE = 24;

export function readRawHeader(v: DataView, off: number): RawBtfHeader {
  return {
    magic: v.getUint16(off, true),
    version: v.getUint8(off + 2),
    flags: v.getUint8(off + 3),
    hdrLen: v.getUint32(off + 4, true),
    typeOff: v.getUint32(off + 8, true),
    typeLen: v.getUint32(off + 12, true),
    strOff: v.getUint32(off + 16, true),
    strLen: v.getUint32(off + 20, true),
  };
}

/** enum { BTF_KIND_* } */
export enum BtfKind {
  Unkn = 0,
  Int = 1,
  Ptr = 2,
  Array = 3,
  Struct = 4,
  Union = 5,
  Enum = 6,
  Fwd = 7,
  Typedef = 8,
  Volatile = 9,
  Const = 10,
  Restrict = 11,
  Func = 12,
  FuncProto = 13,
  Var = 14,
  Datasec = 15,
  Float = 16,
  DeclTag = 17,
  TypeTag = 18,
  Enum64 = 19,
}
export const BTF_KIND_MAX = 19;

/** Lowercase kind names, indexed by BtfKind, as the model spells them. */
export const KIND_NAMES = [
  'void', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile',
  'const', 'restrict', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag',
  'type_tag', 'enum64',
] as const;

/**
 * struct btf_type: name_off, info (vlen bits 0-15, kind bits 24-28, kind_flag
 * bit 31) and a union of size / type.
 */
export interface RawBtfType {
  nameOff: number;
  info: number;
  /** `size` for INT, ENUM, STRUCT, UNION, DATASEC, FLOAT, ENUM64; `type` otherwise. */
  sizeOrType: number;
}
export const BTF_TYPE_SIZE = 12;

export function readRawType(v: DataView, off: number): RawBtfType {
  return {
    nameOff: v.getUint32(off, true),
    info: v.getUint32(off + 4, true),
    sizeOrType: v.getUint32(off + 8, true),
  };
}

export const btfInfoKind = (info: number): number => (info >>> 24) & 0x1f;
export const btfInfoVlen = (info: number): number => info & 0xffff;
export const btfInfoKflag = (info: number): boolean => info >>> 31 === 1;

/** The u32 following a BTF_KIND_INT. */
export const BTF_INT_SIZE = 4;
export const btfIntEncoding = (val: number): number => (val & 0x0f000000) >>> 24;
export const btfIntOffset = (val: number): number => (val & 0x00ff0000) >>> 16;
export const btfIntBits = (val: number): number => val & 0x000000ff;
export const BTF_INT_SIGNED = 1 << 0;
export const BTF_INT_CHAR = 1 << 1;
export const BTF_INT_BOOL = 1 << 2;

/** struct btf_enum { __u32 name_off; __s32 val; } */
export interface RawBtfEnum {
  nameOff: number;
  val: number;
}
export const BTF_ENUM_SIZE = 8;
export function readRawEnum(v: DataView, off: number): RawBtfEnum {
  return { nameOff: v.getUint32(off, true), val: v.getInt32(off + 4, true) };
}

/** struct btf_enum64 { __u32 name_off; __u32 val_lo32; __u32 val_hi32; } */
export interface RawBtfEnum64 {
  nameOff: number;
  valLo32: number;
  valHi32: number;
}
export const BTF_ENUM64_SIZE = 12;
export function readRawEnum64(v: DataView, off: number): RawBtfEnum64 {
  return {
    nameOff: v.getUint32(off, true),
    valLo32: v.getUint32(off + 4, true),
    valHi32: v.getUint32(off + 8, true),
  };
}

/** struct btf_array { __u32 type; __u32 index_type; __u32 nelems; } */
export interface RawBtfArray {
  type: number;
  indexType: number;
  nelems: number;
}
export const BTF_ARRAY_SIZE = 12;
export function readRawArray(v: DataView, off: number): RawBtfArray {
  return {
    type: v.getUint32(off, true),
    indexType: v.getUint32(off + 4, true),
    nelems: v.getUint32(off + 8, true),
  };
}

/**
 * struct btf_member { __u32 name_off; __u32 type; __u32 offset; }
 * With the struct's kind_flag set, offset packs bitfield size (bits 24-31)
 * and bit offset (bits 0-23); without it, offset is only the bit offset.
 */
export interface RawBtfMember {
  nameOff: number;
  type: number;
  offset: number;
}
export const BTF_MEMBER_SIZE = 12;
export function readRawMember(v: DataView, off: number): RawBtfMember {
  return {
    nameOff: v.getUint32(off, true),
    type: v.getUint32(off + 4, true),
    offset: v.getUint32(off + 8, true),
  };
}
export const btfMemberBitfieldSize = (val: number): number => val >>> 24;
export const btfMemberBitOffset = (val: number): number => val & 0xffffff;

/** struct btf_param { __u32 name_off; __u32 type; } */
export interface RawBtfParam {
  nameOff: number;
  type: number;
}
export const BTF_PARAM_SIZE = 8;
export function readRawParam(v: DataView, off: number): RawBtfParam {
  return { nameOff: v.getUint32(off, true), type: v.getUint32(off + 4, true) };
}

/** BTF_VAR_* linkage of struct btf_var, and enum btf_func_linkage. */
export const BTF_VAR_STATIC = 0;
export const BTF_VAR_GLOBAL_ALLOCATED = 1;
export const BTF_VAR_GLOBAL_EXTERN = 2;
export const BTF_FUNC_STATIC = 0;
export const BTF_FUNC_GLOBAL = 1;
export const BTF_FUNC_EXTERN = 2;

/** struct btf_var { __u32 linkage; } */
export interface RawBtfVar {
  linkage: number;
}
export const BTF_VAR_SIZE = 4;
export function readRawVar(v: DataView, off: number): RawBtfVar {
  return { linkage: v.getUint32(off, true) };
}

/** struct btf_var_secinfo { __u32 type; __u32 offset; __u32 size; } */
export interface RawBtfVarSecinfo {
  type: number;
  offset: number;
  size: number;
}
export const BTF_VAR_SECINFO_SIZE = 12;
export function readRawVarSecinfo(v: DataView, off: number): RawBtfVarSecinfo {
  return {
    type: v.getUint32(off, true),
    offset: v.getUint32(off + 4, true),
    size: v.getUint32(off + 8, true),
  };
}

/** struct btf_decl_tag { __s32 component_idx; } (-1: the tag applies to the whole type) */
export interface RawBtfDeclTag {
  componentIdx: number;
}
export const BTF_DECL_TAG_SIZE = 4;
export function readRawDeclTag(v: DataView, off: number): RawBtfDeclTag {
  return { componentIdx: v.getInt32(off, true) };
}

/** Bytes that follow struct btf_type for a kind with vlen entries. */
export function extraSize(kind: number, vlen: number): number {
  switch (kind) {
    case BtfKind.Int:
      return BTF_INT_SIZE;
    case BtfKind.Array:
      return BTF_ARRAY_SIZE;
    case BtfKind.Struct:
    case BtfKind.Union:
      return vlen * BTF_MEMBER_SIZE;
    case BtfKind.Enum:
      return vlen * BTF_ENUM_SIZE;
    case BtfKind.FuncProto:
      return vlen * BTF_PARAM_SIZE;
    case BtfKind.Var:
      return BTF_VAR_SIZE;
    case BtfKind.Datasec:
      return vlen * BTF_VAR_SECINFO_SIZE;
    case BtfKind.DeclTag:
      return BTF_DECL_TAG_SIZE;
    case BtfKind.Enum64:
      return vlen * BTF_ENUM64_SIZE;
    default:
      return 0;
  }
}
