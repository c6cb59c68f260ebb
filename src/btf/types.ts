// The public BTF model: one plain object per type, indexed by type id, with
// names resolved from the string section and references kept as type ids
// (so the graph may be cyclic — struct list { struct list *next; } — without
// the objects being cyclic). The Btf class decodes these objects from the
// scanned blob (raw.ts) on first use, and adds the walks everybody needs:
// look-up by name, skipping typedefs and qualifiers, sizes, C-like names.
//
// Every walk is bounded by MAX_RESOLVE_DEPTH, as in the kernel and libbpf, so
// a hostile blob with a reference cycle yields an Error, never a hang.

import { BtfKind, KIND_NAMES } from './btf_types';
import { printable } from './printable';
import type { RawBtf } from './raw';

export type TypeId = number;

/** Longest chain of typedef/qualifier/array/pointer references that is followed. */
export const MAX_RESOLVE_DEPTH = 32;

interface Base {
  id: TypeId;
  /** '' for anonymous types. */
  name: string;
}

/** Type id 0: void (never stored in the blob). */
export interface Void extends Base {
  kind: 'void';
}

export interface Int extends Base {
  kind: 'int';
  /** Storage size in bytes (1, 2, 4, 8 or 16). */
  size: number;
  /** Value bits and their offset inside the storage (legacy bitfield encoding when bits < size * 8). */
  bits: number;
  bitOffset: number;
  /** BTF_INT_SIGNED */
  signed: boolean;
  /** BTF_INT_CHAR, or the type is named "char" (clang never sets BTF_INT_CHAR). */
  char: boolean;
  /** BTF_INT_BOOL */
  bool: boolean;
}

export interface Pointer extends Base {
  kind: 'ptr';
  type: TypeId;
}

export interface ArrayType extends Base {
  kind: 'array';
  /** Element type. */
  type: TypeId;
  indexType: TypeId;
  /** 0 for a flexible array member (`tail[]`). */
  nelems: number;
}

export interface Member {
  name: string;
  type: TypeId;
  /** Offset from the start of the struct, in bits. */
  bitOffset: number;
  /** Width of a bitfield (struct kind_flag set); 0 for ordinary members. */
  bitfieldSize: number;
}

export interface Struct extends Base {
  kind: 'struct';
  size: number;
  members: Member[];
}

export interface Union extends Base {
  kind: 'union';
  size: number;
  members: Member[];
}

export interface EnumValue {
  name: string;
  value: number;
}

export interface Enum extends Base {
  kind: 'enum';
  size: number;
  /** kind_flag: values are signed. */
  signed: boolean;
  values: EnumValue[];
}

export interface Enum64Value {
  name: string;
  value: bigint;
}

export interface Enum64 extends Base {
  kind: 'enum64';
  size: number;
  signed: boolean;
  values: Enum64Value[];
}

export interface Fwd extends Base {
  kind: 'fwd';
  /** kind_flag: a forward-declared union rather than struct. */
  union: boolean;
}

export interface Typedef extends Base {
  kind: 'typedef';
  type: TypeId;
}

export interface Volatile extends Base {
  kind: 'volatile';
  type: TypeId;
}

export interface Const extends Base {
  kind: 'const';
  type: TypeId;
}

export interface Restrict extends Base {
  kind: 'restrict';
  type: TypeId;
}

export type Linkage = 'static' | 'global' | 'extern';

export interface Func extends Base {
  kind: 'func';
  /** The FUNC_PROTO. */
  type: TypeId;
  linkage: Linkage;
}

export interface Param {
  name: string;
  type: TypeId;
}

export interface FuncProto extends Base {
  kind: 'func_proto';
  /** 0 for void. */
  returnType: TypeId;
  params: Param[];
  /** The last wire parameter was the `...` marker (name 0, type 0); it is not in params. */
  variadic: boolean;
}

export interface Var extends Base {
  kind: 'var';
  type: TypeId;
  linkage: Linkage;
}

export interface VarSecinfo {
  /** A VAR (or a FUNC, for .ksyms). */
  type: TypeId;
  offset: number;
  size: number;
}

export interface Datasec extends Base {
  kind: 'datasec';
  /** 0 in an unlinked object: the loader takes it from the ELF section. */
  size: number;
  vars: VarSecinfo[];
}

export interface Float extends Base {
  kind: 'float';
  size: number;
}

export interface DeclTag extends Base {
  kind: 'decl_tag';
  /** name is the tag's value. */
  type: TypeId;
  /** -1: the tag applies to the type itself; otherwise a member or parameter index. */
  componentIdx: number;
}

export interface TypeTag extends Base {
  kind: 'type_tag';
  /** name is the tag's value. */
  type: TypeId;
}

export type Type =
  | Void
  | Int
  | Pointer
  | ArrayType
  | Struct
  | Union
  | Enum
  | Fwd
  | Typedef
  | Volatile
  | Const
  | Restrict
  | Func
  | FuncProto
  | Var
  | Datasec
  | Float
  | DeclTag
  | TypeTag
  | Enum64;

export type Kind = Type['kind'];
export type TypeOfKind<K extends Kind> = Extract<Type, { kind: K }>;

/** Kinds that only qualify or rename the type they point to. */
const QUALIFIERS: ReadonlySet<Kind> = new Set<Kind>(['const', 'volatile', 'restrict', 'type_tag']);

export function isQualifier(t: Type): t is Const | Volatile | Restrict | TypeTag {
  return QUALIFIERS.has(t.kind);
}

export interface BtfOptions {
  /** Size of a pointer on the BTF's architecture; BTF does not record it. Default 8. */
  pointerSize?: number;
}

/** BtfKind values of the kinds resolve() follows (typedef and the qualifiers). */
const K_TYPEDEF = BtfKind.Typedef;
const K_QUALIFIERS = new Set<number>([BtfKind.Const, BtfKind.Volatile, BtfKind.Restrict, BtfKind.TypeTag]);

/**
 * A parsed BTF blob. Types are decoded into the model on first use and then
 * cached, so opening the kernel's 100k-type BTF costs little until something
 * is looked up. Build one with parseBtf() or btfFromElf().
 */
export class Btf {
  readonly pointerSize: number;
  private readonly cache: (Type | undefined)[];
  private all: readonly Type[] | undefined;
  /** sizeof results; -1 not computed yet, -2 being computed. */
  private readonly sizes: Float64Array;

  /** @internal use parseBtf() */
  constructor(
    private readonly raw: RawBtf,
    options: BtfOptions = {},
  ) {
    this.pointerSize = options.pointerSize ?? 8;
    if (this.pointerSize !== 4 && this.pointerSize !== 8) throw new Error(`btf: pointer size ${this.pointerSize} is not 4 or 8`);
    this.cache = new Array(raw.count);
    this.sizes = new Float64Array(raw.count).fill(-1);
  }

  /** Number of types, void included (so the largest valid id is count - 1). */
  get count(): number {
    return this.raw.count;
  }

  /** The type with this id (0 is void). */
  type(id: TypeId): Type {
    this.check(id);
    return this.cache[id] ?? (this.cache[id] = this.raw.decode(id));
  }

  /** Every type, indexed by id. Decodes them all: for a kernel's BTF prefer find()/byName(). */
  get types(): readonly Type[] {
    if (this.all === undefined) {
      const out: Type[] = new Array(this.count);
      for (let id = 0; id < this.count; id++) out[id] = this.type(id);
      this.all = out;
    }
    return this.all;
  }

  /** The kind of a type without decoding it. */
  kindOf(id: TypeId): Kind {
    this.check(id);
    return KIND_NAMES[this.raw.kind(id)];
  }

  /** Every type with this name, in id order. */
  byName(name: string): readonly Type[] {
    return this.idsByName(name).map((id) => this.type(id));
  }

  /** The first type of this kind and name (e.g. find('struct', 'linux_binprm')). */
  find<K extends Kind>(kind: K, name: string): TypeOfKind<K> | undefined {
    const id = this.idsByName(name).find((i) => KIND_NAMES[this.raw.kind(i)] === kind);
    return id === undefined ? undefined : (this.type(id) as TypeOfKind<K>);
  }

  /** Follows const/volatile/restrict/type_tag (but not typedefs). */
  skipQualifiers(id: TypeId): Type {
    return this.type(this.walk(id, false));
  }

  /** Follows typedefs and qualifiers down to the underlying type. */
  resolve(id: TypeId): Type {
    return this.type(this.walk(id, true));
  }

  /** resolve(), as an id (decodes nothing). */
  resolveId(id: TypeId): TypeId {
    return this.walk(id, true);
  }

  /** Whether const / volatile appear anywhere on the typedef/qualifier chain from id. */
  qualifiers(id: TypeId): { const: boolean; volatile: boolean } {
    const q = { const: false, volatile: false };
    this.walk(id, true, (kind) => {
      if (kind === BtfKind.Const) q.const = true;
      if (kind === BtfKind.Volatile) q.volatile = true;
    });
    return q;
  }

  /** sizeof in bytes, as C computes it (arrays multiply, pointers are pointerSize). */
  sizeof(id: TypeId): number {
    this.check(id);
    return this.sizeAt(id, 0);
  }

  /** A C-like spelling: "struct et_header", "const volatile __u32", "char[16]", "char * const", "int (*)[4]". */
  typeName(id: TypeId): string {
    let declarator = '';
    let pending: string[] = []; // qualifiers waiting for what they qualify
    let lastWasPointer = false;
    let cur = this.type(id);
    for (let depth = 0; ; depth++) {
      if (depth > MAX_RESOLVE_DEPTH) throw new Error(`btf: type ${id}: reference chain too long or cyclic`);
      switch (cur.kind) {
        case 'const':
        case 'volatile':
        case 'restrict':
          pending.push(cur.kind);
          break;
        case 'type_tag':
          pending.push(`__attribute__((btf_type_tag("${cur.name}")))`);
          break;
        case 'ptr':
          declarator = ` *${pending.map((q) => ` ${q}`).join('')}${declarator}`;
          pending = [];
          lastWasPointer = true;
          cur = this.type(cur.type);
          continue;
        case 'array':
          if (lastWasPointer) declarator = ` (${declarator.trim()})`;
          declarator = `${declarator}[${cur.nelems === 0 ? '' : cur.nelems}]`;
          lastWasPointer = false;
          break;
        default:
          return `${pending.map((q) => `${q} `).join('')}${baseName(cur)}${declarator}`;
      }
      cur = this.type(cur.type);
    }
  }

  private check(id: TypeId): void {
    if (!(Number.isInteger(id) && id >= 0 && id < this.raw.count)) {
      throw new Error(`btf: type id ${id} out of range (${this.raw.count} types)`);
    }
  }

  private idsByName(name: string): TypeId[] {
    return this.raw.idsNamed(name);
  }

  /** Follows qualifiers (and typedefs if asked) without decoding; returns the id reached. */
  private walk(id: TypeId, typedefs: boolean, visit?: (kind: number) => void): TypeId {
    this.check(id);
    for (let depth = 0; ; depth++) {
      const kind = this.raw.kind(id);
      if (!K_QUALIFIERS.has(kind) && !(typedefs && kind === K_TYPEDEF)) return id;
      if (depth >= MAX_RESOLVE_DEPTH) throw new Error(`btf: type ${id}: reference chain too long or cyclic`);
      visit?.(kind);
      id = this.raw.sizeOrType(id);
      this.check(id);
    }
  }

  private sizeAt(id: TypeId, depth: number): number {
    const known = this.sizes[id];
    if (known >= 0) return known;
    if (known === -2 || depth > MAX_RESOLVE_DEPTH) {
      throw new Error(`btf: type ${id}: reference chain too long or cyclic`);
    }
    this.sizes[id] = -2;
    let size: number;
    try {
      size = this.computeSize(id, depth);
    } catch (e) {
      this.sizes[id] = -1;
      throw e;
    }
    this.sizes[id] = size;
    return size;
  }

  private computeSize(id: TypeId, depth: number): number {
    const raw = this.raw;
    const kind = raw.kind(id);
    switch (kind) {
      case BtfKind.Int:
      case BtfKind.Enum:
      case BtfKind.Enum64:
      case BtfKind.Struct:
      case BtfKind.Union:
      case BtfKind.Float:
        return raw.sizeOrType(id);
      case BtfKind.Datasec:
        return (this.type(id) as Datasec).size; // may have been fixed up from the ELF
      case BtfKind.Ptr:
        return this.pointerSize;
      case BtfKind.Array: {
        const elem = raw.u32(raw.extra(id));
        const nelems = raw.u32(raw.extra(id) + 8);
        this.check(elem);
        const size = nelems * this.sizeAt(elem, depth + 1);
        if (size > 0xffffffff) throw new Error(`btf: type ${id}: array size overflows 32 bits`);
        return size;
      }
      case BtfKind.Typedef:
      case BtfKind.Const:
      case BtfKind.Volatile:
      case BtfKind.Restrict:
      case BtfKind.TypeTag:
      case BtfKind.Var: {
        const next = raw.sizeOrType(id);
        this.check(next);
        return this.sizeAt(next, depth + 1);
      }
      default: {
        const name = raw.name(id);
        const what = name === '' ? KIND_NAMES[kind] : `${KIND_NAMES[kind]} ${printable(name)}`;
        throw new Error(`btf: type ${id}: ${what} has no size`);
      }
    }
  }
}

function baseName(t: Type): string {
  const name = t.name === '' ? '(anon)' : t.name;
  switch (t.kind) {
    case 'void':
      return 'void';
    case 'struct':
    case 'union':
    case 'enum':
      return `${t.kind} ${name}`;
    case 'enum64':
      return `enum ${name}`;
    case 'fwd':
      return `${t.union ? 'union' : 'struct'} ${name}`;
    case 'func_proto':
      return 'fn(...)';
    default:
      return name;
  }
}

/** "struct et_exec", "int", "func_proto" — for error messages. */
export function describeKind(t: Type): string {
  return t.name === '' ? t.kind : `${t.kind} ${printable(t.name)}`;
}
