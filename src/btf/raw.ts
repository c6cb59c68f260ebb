// The scanned, not yet decoded, form of a BTF blob: the offset of every type
// record plus accessors that read fields in place. Parsing checks each record
// once here (bounds, names, per-kind invariants) without building objects, so
// that a 5 MB vmlinux blob with 100k+ types is indexed in tens of
// milliseconds; the Btf model then decodes only the types somebody asks for.

import {
  BTF_ENUM64_SIZE,
  BTF_ENUM_SIZE,
  BTF_HEADER_SIZE,
  BTF_INT_BOOL,
  BTF_INT_CHAR,
  BTF_INT_SIGNED,
  BTF_KIND_MAX,
  BTF_MAGIC,
  BTF_MAGIC_SWAPPED,
  BTF_MAX_TYPE,
  BTF_MEMBER_SIZE,
  BTF_PARAM_SIZE,
  BTF_TYPE_SIZE,
  BTF_VAR_SECINFO_SIZE,
  BTF_VERSION,
  BtfKind,
  btfInfoKflag,
  btfInfoKind,
  btfInfoVlen,
  btfIntBits,
  btfIntEncoding,
  btfIntOffset,
  btfMemberBitOffset,
  btfMemberBitfieldSize,
  extraSize,
  readRawArray,
  readRawDeclTag,
  readRawEnum,
  readRawEnum64,
  readRawHeader,
  readRawMember,
  readRawParam,
  readRawVar,
  readRawVarSecinfo,
} from './btf_types';
import type { Linkage, Type, TypeId } from './types';

const LINKAGES: readonly Linkage[] = ['static', 'global', 'extern'];
const VALID_INT_SIZES = new Set([1, 2, 4, 8, 16]);
const VALID_ENUM_SIZES = new Set([1, 2, 4, 8]);
const VALID_FLOAT_SIZES = new Set([2, 4, 8, 12, 16]);

export class RawBtf {
  /** Number of types, void (id 0, not stored in the blob) included. */
  readonly count: number;
  private named: Map<string, TypeId[]> | undefined;

  constructor(
    private readonly v: DataView,
    private readonly strings: StringTable,
    /** offsets[id]: byte offset of struct btf_type in v (offsets[0] is unused). */
    private readonly offsets: Uint32Array,
  ) {
    this.count = offsets.length;
  }

  /** BtfKind; 0 (BTF_KIND_UNKN) stands for void. */
  kind(id: TypeId): number {
    return id === 0 ? BtfKind.Unkn : btfInfoKind(this.v.getUint32(this.offsets[id] + 4, true));
  }

  vlen(id: TypeId): number {
    return btfInfoVlen(this.v.getUint32(this.offsets[id] + 4, true));
  }

  kflag(id: TypeId): boolean {
    return btfInfoKflag(this.v.getUint32(this.offsets[id] + 4, true));
  }

  nameOff(id: TypeId): number {
    return id === 0 ? 0 : this.v.getUint32(this.offsets[id], true);
  }

  name(id: TypeId): string {
    return this.strings.get(this.nameOff(id));
  }

  /**
   * Ids of the types named `name`, in id order. The first call indexes every type by name
   * (one pass, names decoded as substrings of one string): a search of the string section
   * and a walk of every type per name cost ~2.5 ms each on a kernel's BTF, and a syscall
   * plan asks for ~80 names, a quarter of `record`'s start-up.
   */
  idsNamed(name: string): TypeId[] {
    if (name === '') return [];
    if (this.named === undefined) {
      const named = new Map<string, TypeId[]>();
      for (let id = 1; id < this.count; id++) {
        const off = this.v.getUint32(this.offsets[id], true);
        if (off === 0) continue;
        const n = this.strings.get(off);
        const ids = named.get(n);
        if (ids === undefined) named.set(n, [id]);
        else ids.push(id);
      }
      this.named = named;
    }
    return this.named.get(name) ?? [];
  }

  /** The string at an offset into the string section (checked by the scan for every name field). */
  str(off: number): string {
    return this.strings.get(off);
  }

  /** The size / type union of struct btf_type. */
  sizeOrType(id: TypeId): number {
    return this.v.getUint32(this.offsets[id] + 8, true);
  }

  /** Offset of the data that follows struct btf_type. */
  extra(id: TypeId): number {
    return this.offsets[id] + BTF_TYPE_SIZE;
  }

  u32(off: number): number {
    return this.v.getUint32(off, true);
  }

  /** Decodes one type record into the model (the record was checked by scanBtf). */
  decode(id: TypeId): Type {
    if (id === 0) return { id: 0, kind: 'void', name: '' };
    const v = this.v;
    const kind = this.kind(id);
    const vlen = this.vlen(id);
    const kflag = this.kflag(id);
    const name = this.name(id);
    const ref = this.sizeOrType(id);
    const size = ref;
    const extra = this.extra(id);
    const str = (off: number) => this.strings.get(off);
    switch (kind) {
      case BtfKind.Int: {
        const data = v.getUint32(extra, true);
        const enc = btfIntEncoding(data);
        return {
          id, kind: 'int', name, size, bits: btfIntBits(data), bitOffset: btfIntOffset(data),
          signed: (enc & BTF_INT_SIGNED) !== 0,
          char: (enc & BTF_INT_CHAR) !== 0 || name === 'char',
          bool: (enc & BTF_INT_BOOL) !== 0,
        };
      }
      case BtfKind.Ptr:
        return { id, kind: 'ptr', name, type: ref };
      case BtfKind.Array: {
        const a = readRawArray(v, extra);
        return { id, kind: 'array', name, type: a.type, indexType: a.indexType, nelems: a.nelems };
      }
      case BtfKind.Struct:
      case BtfKind.Union: {
        const members = [];
        for (let i = 0; i < vlen; i++) {
          const m = readRawMember(v, extra + i * BTF_MEMBER_SIZE);
          members.push({
            name: str(m.nameOff),
            type: m.type,
            bitOffset: kflag ? btfMemberBitOffset(m.offset) : m.offset,
            bitfieldSize: kflag ? btfMemberBitfieldSize(m.offset) : 0,
          });
        }
        return kind === BtfKind.Struct
          ? { id, kind: 'struct', name, size, members }
          : { id, kind: 'union', name, size, members };
      }
      case BtfKind.Enum: {
        const values = [];
        for (let i = 0; i < vlen; i++) {
          const e = readRawEnum(v, extra + i * BTF_ENUM_SIZE);
          values.push({ name: str(e.nameOff), value: kflag ? e.val : e.val >>> 0 });
        }
        return { id, kind: 'enum', name, size, signed: kflag, values };
      }
      case BtfKind.Enum64: {
        const values = [];
        for (let i = 0; i < vlen; i++) {
          const e = readRawEnum64(v, extra + i * BTF_ENUM64_SIZE);
          const u = (BigInt(e.valHi32) << 32n) | BigInt(e.valLo32);
          values.push({ name: str(e.nameOff), value: kflag ? BigInt.asIntN(64, u) : u });
        }
        return { id, kind: 'enum64', name, size, signed: kflag, values };
      }
      case BtfKind.Fwd:
        return { id, kind: 'fwd', name, union: kflag };
      case BtfKind.Typedef:
        return { id, kind: 'typedef', name, type: ref };
      case BtfKind.Volatile:
        return { id, kind: 'volatile', name, type: ref };
      case BtfKind.Const:
        return { id, kind: 'const', name, type: ref };
      case BtfKind.Restrict:
        return { id, kind: 'restrict', name, type: ref };
      case BtfKind.Func:
        return { id, kind: 'func', name, type: ref, linkage: LINKAGES[vlen] };
      case BtfKind.FuncProto: {
        const params = [];
        let variadic = false;
        for (let i = 0; i < vlen; i++) {
          const p = readRawParam(v, extra + i * BTF_PARAM_SIZE);
          if (p.type === 0) variadic = true; // only ever the last one (checked)
          else params.push({ name: str(p.nameOff), type: p.type });
        }
        return { id, kind: 'func_proto', name, returnType: ref, params, variadic };
      }
      case BtfKind.Var:
        return { id, kind: 'var', name, type: ref, linkage: LINKAGES[readRawVar(v, extra).linkage] };
      case BtfKind.Datasec: {
        const vars = [];
        for (let i = 0; i < vlen; i++) vars.push(readRawVarSecinfo(v, extra + i * BTF_VAR_SECINFO_SIZE));
        return { id, kind: 'datasec', name, size, vars };
      }
      case BtfKind.Float:
        return { id, kind: 'float', name, size };
      case BtfKind.DeclTag:
        return { id, kind: 'decl_tag', name, type: ref, componentIdx: readRawDeclTag(v, extra).componentIdx };
      case BtfKind.TypeTag:
        return { id, kind: 'type_tag', name, type: ref };
      default:
        throw new Error(`btf: type ${id}: unknown kind ${kind}`);
    }
  }
}

export class StringTable {
  /** The whole section as one latin1 string (when it is pure ASCII): names are cheap substrings of it. */
  private readonly ascii: string | undefined;
  private readonly buf: Buffer;

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const latin1 = this.buf.toString('latin1');
    this.ascii = /[^\x00-\x7f]/.test(latin1) ? undefined : latin1;
  }

  get length(): number {
    return this.buf.length;
  }

  /** The NUL-terminated string at off (checked by scanBtf to lie inside the section). */
  get(off: number): string {
    if (off === 0) return '';
    if (off >= this.buf.length) throw new Error(`btf: name offset ${off} beyond string section (${this.buf.length} bytes)`);
    // The section ends with a NUL (checked), so a terminator is always found.
    if (this.ascii !== undefined) return this.ascii.substring(off, this.ascii.indexOf('\0', off));
    return this.buf.toString('utf8', off, this.buf.indexOf(0, off));
  }
}

/**
 * Checks the header and walks the type section once: every record lies
 * inside it, every name offset inside the string section, and each kind's
 * own fields are sane. References between types are checked later (parse.ts).
 */
export function scanBtf(bytes: Uint8Array): RawBtf {
  if (bytes.length < BTF_HEADER_SIZE) {
    throw new Error(`parse btf: blob too short for a header (${bytes.length} bytes, need ${BTF_HEADER_SIZE})`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hdr = readRawHeader(v, 0);
  if (hdr.magic === BTF_MAGIC_SWAPPED) throw new Error('parse btf: unsupported: big-endian BTF');
  if (hdr.magic !== BTF_MAGIC) {
    throw new Error(`parse btf: bad magic 0x${hdr.magic.toString(16).padStart(4, '0')} (want 0xeb9f)`);
  }
  if (hdr.version !== BTF_VERSION) throw new Error(`parse btf: unsupported: BTF version ${hdr.version}`);
  if (hdr.hdrLen < BTF_HEADER_SIZE || hdr.hdrLen > bytes.length) {
    throw new Error(`parse btf: header length ${hdr.hdrLen} invalid (blob is ${bytes.length} bytes)`);
  }
  const typeStart = hdr.hdrLen + hdr.typeOff;
  const typeEnd = typeStart + hdr.typeLen;
  const strStart = hdr.hdrLen + hdr.strOff;
  const strEnd = strStart + hdr.strLen;
  if (typeEnd > bytes.length) {
    throw new Error(`parse btf: type section (offset ${typeStart}, ${hdr.typeLen} bytes) beyond end of blob (${bytes.length} bytes)`);
  }
  if (strEnd > bytes.length) {
    throw new Error(`parse btf: string section (offset ${strStart}, ${hdr.strLen} bytes) beyond end of blob (${bytes.length} bytes)`);
  }
  if (hdr.typeLen > 0 && hdr.strLen > 0 && typeStart < strEnd && strStart < typeEnd) {
    throw new Error('parse btf: type and string sections overlap');
  }
  const strBytes = bytes.subarray(strStart, strEnd);
  if (strBytes.length > 0 && strBytes[strBytes.length - 1] !== 0) {
    throw new Error('parse btf: string section does not end with a NUL byte');
  }
  const strLen = strBytes.length;

  // At most one type per 12 bytes; trimmed once the real count is known.
  const offsets = new Uint32Array(Math.floor(hdr.typeLen / BTF_TYPE_SIZE) + 1);
  let id = 1;
  // Error text is built only on failure: this loop runs once per type (100k+ for vmlinux).
  const fail = (msg: string): never => {
    throw new Error(`parse btf: type ${id}: ${msg}`);
  };
  const checkName = (off: number, what: string, i: number): void => {
    if (off !== 0 && off >= strLen) fail(`${what}name offset ${off} beyond string section (${strLen} bytes)`.replace('#', String(i)));
  };
  for (let off = typeStart; off < typeEnd; id++) {
    if (id > BTF_MAX_TYPE) throw new Error(`parse btf: more than ${BTF_MAX_TYPE} types`);
    if (off + BTF_TYPE_SIZE > typeEnd) fail('record beyond end of type section');
    const info = v.getUint32(off + 4, true);
    const kind = btfInfoKind(info);
    const vlen = btfInfoVlen(info);
    if (kind === BtfKind.Unkn || kind > BTF_KIND_MAX) fail(`unknown kind ${kind}`);
    const extra = off + BTF_TYPE_SIZE;
    const next = extra + extraSize(kind, vlen);
    if (next > typeEnd) fail('record beyond end of type section');
    checkName(v.getUint32(off, true), '', 0);
    const size = v.getUint32(off + 8, true);
    switch (kind) {
      case BtfKind.Int: {
        const data = v.getUint32(extra, true);
        const bits = btfIntBits(data);
        const bitOffset = btfIntOffset(data);
        const enc = btfIntEncoding(data);
        if (!VALID_INT_SIZES.has(size)) fail(`int size ${size} invalid`);
        if (bits === 0 || bitOffset + bits > size * 8) fail(`int bits ${bits} at offset ${bitOffset} do not fit ${size} bytes`);
        if ((enc & ~(BTF_INT_SIGNED | BTF_INT_CHAR | BTF_INT_BOOL)) !== 0) fail(`int encoding 0x${enc.toString(16)} unknown`);
        break;
      }
      case BtfKind.Struct:
      case BtfKind.Union:
        for (let i = 0, p = extra; i < vlen; i++, p += BTF_MEMBER_SIZE) checkName(v.getUint32(p, true), 'member #: ', i);
        break;
      case BtfKind.Enum:
      case BtfKind.Enum64: {
        if (!VALID_ENUM_SIZES.has(size)) fail(`enum size ${size} invalid`);
        const step = kind === BtfKind.Enum ? BTF_ENUM_SIZE : BTF_ENUM64_SIZE;
        for (let i = 0, p = extra; i < vlen; i++, p += step) checkName(v.getUint32(p, true), 'enumerator #: ', i);
        break;
      }
      case BtfKind.Func:
        if (vlen >= LINKAGES.length) fail(`func linkage ${vlen} unknown`);
        break;
      case BtfKind.FuncProto:
        for (let i = 0, p = extra; i < vlen; i++, p += BTF_PARAM_SIZE) {
          const nameOff = v.getUint32(p, true);
          checkName(nameOff, 'parameter #: ', i);
          // A void parameter is the `...` marker: nameless, and only last.
          if (v.getUint32(p + 4, true) === 0 && (i !== vlen - 1 || nameOff !== 0)) fail(`parameter ${i} is void`);
        }
        break;
      case BtfKind.Var: {
        const linkage = v.getUint32(extra, true);
        if (linkage >= LINKAGES.length) fail(`var linkage ${linkage} unknown`);
        break;
      }
      case BtfKind.Float:
        if (!VALID_FLOAT_SIZES.has(size)) fail(`float size ${size} invalid`);
        break;
      case BtfKind.DeclTag: {
        const componentIdx = v.getInt32(extra, true);
        if (componentIdx < -1) fail(`decl_tag component index ${componentIdx} invalid`);
        break;
      }
      default:
        break;
    }
    offsets[id] = off;
    off = next;
  }
  return new RawBtf(v, new StringTable(strBytes), offsets.slice(0, id));
}
