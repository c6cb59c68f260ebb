// A minimal ELF64 little-endian reader: just enough of a relocatable BPF
// object (clang -target bpf) to find its sections by name (.BTF, .rodata) and
// its symbol table (which holds the offsets of global variables that clang
// leaves as relocations in the .BTF DATASEC records). Layouts follow the
// System V gABI, as in glibc's <elf.h> (Elf64_Ehdr, Elf64_Shdr, Elf64_Sym).
//
// Nothing here trusts the file: every header field that points into it is
// checked before it is followed, and errors say which structure was bad.

import { printable } from './printable';

const EHDR_SIZE = 64; // sizeof(Elf64_Ehdr)
const SHDR_SIZE = 64; // sizeof(Elf64_Shdr)
const SYM_SIZE = 24; // sizeof(Elf64_Sym)

const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ELFDATA2MSB = 2;
const SHN_UNDEF = 0;
const SHN_XINDEX = 0xffff;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOBITS = 8;

export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

export interface ElfSection {
  index: number;
  name: string;
  /** sh_type (SHT_*) */
  type: number;
  flags: number;
  /** File offset and size of the section's bytes (no bytes for SHT_NOBITS). */
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

export interface ElfSymbol {
  name: string;
  /** For a relocatable object: the offset inside section `shndx`. */
  value: number;
  size: number;
  /** STT_* */
  type: number;
  /** STB_* */
  bind: number;
  shndx: number;
}

export class ElfFile {
  private symbolCache: ElfSymbol[] | undefined;

  private constructor(
    private readonly bytes: Uint8Array,
    readonly sections: readonly ElfSection[],
    /** e_machine (247 is EM_BPF). */
    readonly machine: number,
  ) {}

  /** Parses the ELF header and the section header table; section bytes are checked when read. */
  static parse(bytes: Uint8Array): ElfFile {
    const { sections, machine } = parseHeaders(bytes);
    return new ElfFile(bytes, sections, machine);
  }

  /** The first section with this name, if any. */
  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** The bytes of a section, as a view into the file (not a copy). */
  sectionData(which: string | ElfSection): Uint8Array {
    const s = typeof which === 'string' ? this.section(which) : which;
    if (s === undefined) throw new Error(`read elf: no section named ${printable(which as string)}`);
    if (s.type === SHT_NOBITS) {
      throw new Error(`read elf: section ${s.index} (${printable(s.name)}) has no data in the file (SHT_NOBITS)`);
    }
    if (s.type === SHT_NULL) return this.bytes.subarray(0, 0);
    if (s.offset + s.size > this.bytes.length) {
      throw new Error(
        `read elf: section ${s.index} (${printable(s.name)}) data beyond end of file (offset ${s.offset}, size ${s.size}, file ${this.bytes.length} bytes)`,
      );
    }
    return this.bytes.subarray(s.offset, s.offset + s.size);
  }

  /** Entries of .symtab (the first, null, entry excluded); empty if there is no symbol table. */
  symbols(): readonly ElfSymbol[] {
    if (this.symbolCache === undefined) this.symbolCache = this.readSymbols();
    return this.symbolCache;
  }

  private readSymbols(): ElfSymbol[] {
    const symtab = this.sections.find((s) => s.type === SHT_SYMTAB);
    if (symtab === undefined) return [];
    const what = `symbol table (section ${symtab.index})`;
    const entsize = symtab.entsize === 0 ? SYM_SIZE : symtab.entsize;
    if (entsize < SYM_SIZE) throw new Error(`read elf: ${what}: entry size ${entsize} < ${SYM_SIZE}`);
    if (symtab.link >= this.sections.length) {
      throw new Error(`read elf: ${what}: string table index ${symtab.link} out of range`);
    }
    const data = this.sectionData(symtab);
    const strtab = this.sectionData(this.sections[symtab.link]);
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const count = Math.floor(data.length / entsize);
    const out: ElfSymbol[] = [];
    for (let i = 1; i < count; i++) {
      const off = i * entsize;
      const info = v.getUint8(off + 4);
      out.push({
        name: cString(strtab, v.getUint32(off, true), `${what}: symbol ${i} name`),
        type: info & 0xf,
        bind: info >>> 4,
        shndx: v.getUint16(off + 6, true),
        value: u64(v, off + 8),
        size: u64(v, off + 16),
      });
    }
    return out;
  }
}

/** Reads an ELF64 little-endian file's section headers and names. */
export function readElf(bytes: Uint8Array): ElfFile {
  return ElfFile.parse(bytes);
}

function parseHeaders(bytes: Uint8Array): { sections: ElfSection[]; machine: number } {
  if (bytes.length < EHDR_SIZE) {
    throw new Error(`read elf: file too short for an ELF header (${bytes.length} bytes, need ${EHDR_SIZE})`);
  }
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new Error('read elf: not an ELF file (bad magic)');
  }
  if (bytes[4] !== ELFCLASS64) throw new Error(`read elf: unsupported: ELF class ${bytes[4]} (only 64-bit)`);
  if (bytes[5] === ELFDATA2MSB) throw new Error('read elf: unsupported: big-endian ELF');
  if (bytes[5] !== ELFDATA2LSB) throw new Error(`read elf: bad data encoding ${bytes[5]}`);

  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const machine = v.getUint16(18, true);
  const shoff = u64(v, 40);
  const shentsize = v.getUint16(58, true);
  let shnum = v.getUint16(60, true);
  let shstrndx = v.getUint16(62, true);

  if (shoff === 0) {
    if (shnum !== 0) throw new Error('read elf: section headers counted but table offset is 0');
    return { sections: [], machine };
  }
  if (shentsize < SHDR_SIZE) throw new Error(`read elf: section header size ${shentsize} < ${SHDR_SIZE}`);
  if (shoff + SHDR_SIZE > bytes.length) {
    throw new Error('read elf: section header table beyond end of file');
  }
  // Extended numbering: the real counts live in section 0.
  if (shnum === 0) shnum = u64(v, shoff + 32);
  if (shstrndx === SHN_XINDEX) shstrndx = v.getUint32(shoff + 40, true);
  if (shoff + shnum * shentsize > bytes.length) {
    throw new Error(
      `read elf: section header table beyond end of file (${shnum} headers of ${shentsize} bytes at offset ${shoff}, file ${bytes.length} bytes)`,
    );
  }

  const raw: Omit<ElfSection, 'name'>[] = [];
  const nameOffs: number[] = [];
  for (let i = 0; i < shnum; i++) {
    const off = shoff + i * shentsize;
    nameOffs.push(v.getUint32(off, true));
    raw.push({
      index: i,
      type: v.getUint32(off + 4, true),
      flags: u64(v, off + 8),
      offset: u64(v, off + 24),
      size: u64(v, off + 32),
      link: v.getUint32(off + 40, true),
      info: v.getUint32(off + 44, true),
      entsize: u64(v, off + 56),
    });
  }

  let names: Uint8Array | undefined;
  if (shstrndx !== SHN_UNDEF) {
    if (shstrndx >= shnum) {
      throw new Error(`read elf: section name table index ${shstrndx} out of range (${shnum} sections)`);
    }
    const s = raw[shstrndx];
    if (s.type === SHT_NOBITS || s.offset + s.size > bytes.length) {
      throw new Error(`read elf: section name table (section ${shstrndx}) beyond end of file`);
    }
    names = bytes.subarray(s.offset, s.offset + s.size);
  }
  const sections = raw.map((s, i): ElfSection => ({
    ...s,
    name: names === undefined ? '' : cString(names, nameOffs[i], `section ${i} name`),
  }));
  return { sections, machine };
}

function u64(v: DataView, off: number): number {
  // Values past 2^53 lose precision but stay far beyond any file length,
  // so the bounds checks that follow still reject them.
  return Number(v.getBigUint64(off, true));
}

function cString(table: Uint8Array, off: number, what: string): string {
  if (off >= table.length) {
    if (off === 0) return '';
    throw new Error(`read elf: ${what}: string offset ${off} beyond string table (${table.length} bytes)`);
  }
  const end = table.indexOf(0, off);
  if (end < 0) throw new Error(`read elf: ${what}: string at offset ${off} is not NUL-terminated`);
  return latin1(table, off, end);
}

function latin1(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}
