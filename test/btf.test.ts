// src/btf: ELF reading, BTF parsing, record layouts and .rodata images.
//
// Offline parts run from the committed fixtures/btf_sample.bpf.o. Parts that
// compile C need clang (and gcc for offsetof); without them they are skipped
// with the reason printed, except under CI=true, where a missing compiler is
// a failure. The vmlinux test needs a Linux kernel with BTF and says so.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  Btf,
  FieldLayout,
  RecordLayout,
  btfFromElf,
  parseBtf,
  readElf,
  recordLayout,
  recordLayouts,
  rodataDefaults,
  rodataImage,
  rodataVariables,
} from '../src/btf';

const ROOT = resolve(__dirname, '..');
const SAMPLE_SRC = join(ROOT, 'test/progs/btf_sample.bpf.c');
const SAMPLE_OBJ = join(ROOT, 'fixtures/btf_sample.bpf.o');
const ET_SRC = join(ROOT, 'test/progs/exectrace_layouts.bpf.c');
const ET_STRUCTS = ['et_header', 'et_task', 'et_exec', 'et_exec_failed', 'et_fork', 'et_exit', 'et_lost', 'et_counter',
  'et_exec_count_key', 'et_exec_count'];
const SAMPLE_STRUCTS = ['sample_rec', 'sample_hdr', 'sample_inner', 'sample_anon'];

const sampleObj = readFileSync(SAMPLE_OBJ);
const sampleBtfBytes = readElf(sampleObj).sectionData('.BTF');

/** Our errors are one line and start with the stage that failed. */
const OUR_ERROR = /^(read elf|parse btf|btf from elf|btf|record layout|rodata image|rodata defaults|rodata variables): [\x20-\x7e]+$/;

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof Error)) throw new Error(`non-Error thrown: ${String(e)}`);
    return e;
  }
  throw new Error('expected an error, none was thrown');
}

// --- tools -----------------------------------------------------------------

function have(tool: string): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Skips (or, under CI, fails) when a compiler is missing; returns whether to go on. */
function needTools(t: tap.Test, ...tools: string[]): boolean {
  const missing = tools.filter((x) => !have(x));
  if (missing.length === 0) return true;
  const reason = `${missing.join(' and ')} not found in PATH`;
  if (process.env.CI === 'true') t.fail(`${reason} (required when CI=true)`);
  else t.pass(reason, { skip: reason });
  return false;
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

function clangBpf(src: string, dir: string): Buffer {
  const out = join(dir, 'out.bpf.o');
  run('clang', ['-O2', '-g', '-target', 'bpf', '-c', src, '-o', out]);
  return readFileSync(out);
}

/** offsetof/sizeof of every laid-out field (and of each struct), as gcc sees them. */
function gccLayout(src: string, layouts: RecordLayout[], dir: string): Map<string, [number, number]> {
  const lines = ['#include <stdio.h>', '#include <stddef.h>', `#include "${src}"`, 'int main(void) {'];
  const p = (key: string, off: string, size: string) =>
    lines.push(`  printf("%s %zu %zu\\n", "${key}", (size_t)(${off}), (size_t)(${size}));`);
  for (const l of layouts) {
    const s = `struct ${l.name}`;
    p(l.name, '0', `sizeof(${s})`);
    for (const f of l.fields) p(`${l.name}.${f.name}`, `offsetof(${s}, ${f.name})`, `sizeof(((${s} *)0)->${f.name})`);
    if (l.tail) p(`${l.name}.<tail>`, `offsetof(${s}, tail)`, '0');
  }
  lines.push('  return 0;', '}');
  const c = join(dir, 'offsets.c');
  writeFileSync(c, lines.join('\n'));
  run('gcc', ['-w', '-o', join(dir, 'offsets'), c]);
  const out = new Map<string, [number, number]>();
  for (const line of run(join(dir, 'offsets'), []).trim().split('\n')) {
    const [k, off, size] = line.split(' ');
    out.set(k, [Number(off), Number(size)]);
  }
  return out;
}

function ourLayout(layouts: RecordLayout[]): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const l of layouts) {
    out.set(l.name, [0, l.size]);
    for (const f of l.fields) out.set(`${l.name}.${f.name}`, [f.offset, f.size]);
    if (l.tail) out.set(`${l.name}.<tail>`, [l.tail.offset, 0]);
  }
  return out;
}

function withTmp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'exectrace-btf-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line per field, the way one would check it by eye against the C source. */
function table(l: RecordLayout): string[] {
  const rows = l.fields.map((f: FieldLayout) =>
    `${f.offset} ${f.name} ${f.kind} ${f.size}${f.count === undefined ? '' : ` [${f.count} x ${f.elemSize}]`}`);
  if (l.tail) rows.push(`${l.tail.offset} <tail>`);
  return rows;
}

// --- a tiny BTF writer for hand-made blobs -----------------------------------

const K = { INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19 };

class BtfWriter {
  private strs = Buffer.from([0]);
  private words: number[] = [];
  private next = 1;

  str(s: string): number {
    if (s === '') return 0;
    const off = this.strs.length;
    this.strs = Buffer.concat([this.strs, Buffer.from(`${s}\0`)]);
    return off;
  }

  /** Appends one btf_type plus its trailing u32 words; returns its id. */
  type(name: string, kind: number, vlen: number, sizeOrType: number, extra: number[] = [], kflag = false): number {
    const info = ((kflag ? 1 : 0) << 31) | (kind << 24) | vlen;
    this.words.push(this.str(name), info >>> 0, sizeOrType, ...extra);
    return this.next++;
  }

  int(name: string, size: number, signed = false): number {
    return this.type(name, K.INT, 0, size, [((signed ? 1 : 0) << 24) | (size * 8)]);
  }

  build(): Buffer {
    const types = Buffer.alloc(this.words.length * 4);
    this.words.forEach((w, i) => types.writeUInt32LE(w >>> 0, i * 4));
    const hdr = Buffer.alloc(24);
    hdr.writeUInt16LE(0xeb9f, 0);
    hdr.writeUInt8(1, 2);
    hdr.writeUInt32LE(24, 4);
    hdr.writeUInt32LE(0, 8);
    hdr.writeUInt32LE(types.length, 12);
    hdr.writeUInt32LE(types.length, 16);
    hdr.writeUInt32LE(this.strs.length, 20);
    return Buffer.concat([hdr, types, this.strs]);
  }
}

// --- ELF ---------------------------------------------------------------------

t.test('elf: sections of the sample object', async (t) => {
  const elf = readElf(sampleObj);
  t.equal(elf.machine, 247, 'EM_BPF');
  for (const name of ['.BTF', '.rodata', '.symtab', 'tp/sample', 'license']) t.ok(elf.section(name), `has ${name}`);
  t.equal(elf.section('.rodata')!.size, 45, '.rodata is 45 bytes (last variable: verbose at 44)');
  t.equal(Buffer.from(elf.sectionData('license')).toString('latin1'), 'Dual MIT/GPL\0');
  t.same(elf.symbols().find((s) => s.name === 'port'), { name: 'port', value: 26, size: 2, type: 1, bind: 1, shndx: elf.section('.rodata')!.index });
  t.equal(elf.section('.nope'), undefined);
  t.match(thrown(() => elf.sectionData('.nope')).message, 'read elf: no section named .nope');
  t.match(thrown(() => elf.sectionData('.bss')).message, /^read elf: section \d+ \(\.bss\) has no data in the file \(SHT_NOBITS\)$/);
});

t.test('elf: malformed files give one-line errors', async (t) => {
  const cases: [string, Buffer, RegExp][] = [
    ['empty', Buffer.alloc(0), /^read elf: file too short for an ELF header \(0 bytes, need 64\)$/],
    ['not elf', Buffer.alloc(64, 0x41), /^read elf: not an ELF file \(bad magic\)$/],
    ['32-bit', patch(sampleObj, 4, [1]), /^read elf: unsupported: ELF class 1 \(only 64-bit\)$/],
    ['big-endian', patch(sampleObj, 5, [2]), /^read elf: unsupported: big-endian ELF$/],
    ['truncated', sampleObj.subarray(0, sampleObj.length - 10), /^read elf: section header table beyond end of file/],
    ['huge shoff', patchU64(sampleObj, 40, 0xffffffffffn), /^read elf: section header table beyond end of file$/],
    ['shstrndx out of range', patchU16(sampleObj, 62, 500), /^read elf: section name table index 500 out of range/],
  ];
  for (const [what, bytes, re] of cases) t.match(thrown(() => readElf(bytes)).message, re, what);

  // A section whose data runs past the end: detected when that section is read.
  const elf = readElf(sampleObj);
  const btf = elf.section('.BTF')!;
  const shoff = Number(sampleObj.readBigUInt64LE(40));
  const bad = patchU64(sampleObj, shoff + btf.index * 64 + 32, 1n << 40n);
  t.match(thrown(() => btfFromElf(bad)).message, /^read elf: section \d+ \(\.BTF\) data beyond end of file/);
  t.match(thrown(() => btfFromElf(Buffer.alloc(64))).message, /^read elf: not an ELF file/);
});

function patch(b: Buffer, off: number, bytes: number[]): Buffer {
  const c = Buffer.from(b);
  bytes.forEach((x, i) => (c[off + i] = x));
  return c;
}
function patchU16(b: Buffer, off: number, v: number): Buffer {
  const c = Buffer.from(b);
  c.writeUInt16LE(v, off);
  return c;
}
function patchU32(b: Buffer, off: number, v: number): Buffer {
  const c = Buffer.from(b);
  c.writeUInt32LE(v >>> 0, off);
  return c;
}
function patchU64(b: Buffer, off: number, v: bigint): Buffer {
  const c = Buffer.from(b);
  c.writeBigUInt64LE(v, off);
  return c;
}

// --- BTF model -----------------------------------------------------------------

t.test('btf: model of the sample object', async (t) => {
  const btf = btfFromElf(sampleObj);
  t.equal(btf.count, 84, 'void + 83 types (bpftool btf dump shows [1]..[83])');
  const rec = btf.find('struct', 'sample_rec')!;
  t.equal(rec.size, 184);
  t.equal(rec.members.length, 14);
  t.same(rec.members.map((m) => btf.typeName(m.type)), [
    'struct sample_hdr', 'const volatile sample_inner_t', '__u32[4]', '__s64[2][3]', 'union sample_union',
    'double', 'enum sample_kind', 'char', 'unsigned char', 'signed char', 'void *', 'struct sample_hdr[2]',
    '__u32', '__u8[]',
  ]);
  const inner = btf.resolve(rec.members[1].type);
  t.equal(inner.kind, 'struct');
  t.equal(inner.name, 'sample_inner', 'resolve() strips const, volatile and the typedef');
  t.same(btf.qualifiers(rec.members[1].type), { const: true, volatile: true });
  t.equal(btf.sizeof(rec.members[3].type), 48, 'sizeof(__s64[2][3])');
  t.equal(btf.sizeof(rec.members[10].type), 8, 'pointers are 8 bytes');
  t.equal(btf.sizeof(rec.members[13].type), 0, 'flexible array');

  const ints = (name: string) => btf.find('int', name)!;
  t.match(ints('char'), { size: 1, signed: true, char: true, bool: false });
  t.match(ints('unsigned char'), { size: 1, signed: false, char: false });
  t.match(ints('signed char'), { size: 1, signed: true, char: false });
  t.match(ints('long long'), { size: 8, bits: 64, signed: true });
  t.match(ints('_Bool'), { size: 1, bool: true, signed: false });
  t.match(btf.find('float', 'double'), { size: 8 });
  t.same(btf.find('enum', 'sample_kind')!.values, [
    { name: 'SAMPLE_A', value: 1 }, { name: 'SAMPLE_B', value: 2 }, { name: 'SAMPLE_BIG', value: 0x7fffffff },
  ]);

  const bits = btf.find('struct', 'sample_bits')!;
  t.same(bits.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize]), [
    ['a', 0, 3], ['b', 3, 5], ['c', 8, 24], ['d', 32, 0],
  ], 'bitfields parsed from kind_flag members');

  const proto = btf.type((btf.find('func', 'sample_prog')!).type);
  t.match(proto, { kind: 'func_proto', returnType: btf.find('int', 'int')!.id, variadic: false });

  // Datasec offsets of an unlinked object are filled in from the symbol table.
  const ro = btf.find('datasec', '.rodata')!;
  t.equal(ro.size, 45);
  const offsets = Object.fromEntries(ro.vars.map((v) => [btf.type(v.type).name, v.offset]));
  t.same(offsets, { max_args: 0, min_delta: 4, big_limit: 8, neg_limit: 16, tiny: 24, port: 26, enabled: 28,
    default_kind: 32, prefix: 36, folded: 40, verbose: 44 });

  t.match(thrown(() => btf.type(84)).message, 'btf: type id 84 out of range (84 types)');
  t.match(thrown(() => btf.sizeof(btf.find('func', 'sample_prog')!.id)).message, 'btf: type 4: func sample_prog has no size');
});

t.test('btf: all kinds from a hand-made blob', async (t) => {
  const w = new BtfWriter();
  const int = w.int('int', 4, true); // 1
  const u64 = w.int('u64', 8); // 2
  const tag = w.type('user', K.TYPE_TAG, 0, int); // 3
  const ptr = w.type('', K.PTR, 0, tag); // 4
  const e64 = w.type('big', K.ENUM64, 2, 8, [w.str('NEG'), 0xfffffffe, 0xffffffff, w.str('HUGE'), 1, 0x80000000], true); // 5
  const flt = w.type('float', K.FLOAT, 0, 4); // 6
  const proto = w.type('', K.FUNC_PROTO, 3, int, [w.str('a'), ptr, w.str('b'), u64, 0, 0]); // 7
  const fn = w.type('f', K.FUNC, 1, proto); // 8
  const st = w.type('s', K.STRUCT, 2, 16, [w.str('p'), ptr, 0, w.str('x'), flt, 64]); // 9
  const dt = w.type('dtag', K.DECL_TAG, 0, st, [1]); // 10
  const fwd = w.type('later', K.FWD, 0, 0, [], true); // 11
  const restrict = w.type('', K.RESTRICT, 0, ptr); // 12
  const en = w.type('e', K.ENUM, 1, 4, [w.str('MINUS'), 0xffffffff], true); // 13
  const btf = parseBtf(w.build());
  t.equal(btf.count, 14);
  t.match(btf.type(tag), { kind: 'type_tag', name: 'user', type: int });
  t.same((btf.type(e64) as { values: unknown }).values, [{ name: 'NEG', value: -2n }, { name: 'HUGE', value: -0x7fffffffffffffffn }], 'kind_flag: signed 64-bit values');
  t.match(btf.type(flt), { kind: 'float', size: 4 });
  t.match(btf.type(proto), { kind: 'func_proto', returnType: int, variadic: true, params: [{ name: 'a', type: ptr }, { name: 'b', type: u64 }] });
  t.match(btf.type(fn), { kind: 'func', linkage: 'global', type: proto });
  t.match(btf.type(dt), { kind: 'decl_tag', name: 'dtag', componentIdx: 1 });
  t.match(btf.type(fwd), { kind: 'fwd', union: true });
  t.equal(btf.typeName(restrict), '__attribute__((btf_type_tag("user"))) int * restrict', 'qualifiers go where C puts them');
  t.same((btf.type(en) as { values: unknown }).values, [{ name: 'MINUS', value: -1 }]);
  t.same(recordLayout(btf, 's').fields, [
    { name: 'p', offset: 0, size: 8, kind: 'pointer' },
    { name: 'x', offset: 8, size: 4, kind: 'float' },
  ]);
});

t.test('btf: malformed blobs give one-line errors', async (t) => {
  const good = new BtfWriter();
  good.int('int', 4, true);
  const blob = good.build();

  const expect = (what: string, bytes: Uint8Array, msg: string | RegExp) => {
    const e = thrown(() => parseBtf(bytes));
    t.match(e.message, msg, what);
    t.match(e.message, OUR_ERROR, `${what}: one line`);
  };
  expect('short', blob.subarray(0, 10), 'parse btf: blob too short for a header (10 bytes, need 24)');
  expect('bad magic', patchU16(blob, 0, 0x1234), 'parse btf: bad magic 0x1234 (want 0xeb9f)');
  expect('big-endian', patch(blob, 0, [0xeb, 0x9f]), 'parse btf: unsupported: big-endian BTF');
  expect('version', patch(blob, 2, [2]), 'parse btf: unsupported: BTF version 2');
  expect('hdr_len', patchU32(blob, 4, 1000), 'parse btf: header length 1000 invalid');
  expect('type section', patchU32(blob, 12, 1000), /^parse btf: type section \(offset 24, 1000 bytes\) beyond end of blob/);
  expect('string section', patchU32(blob, 20, 1000), /^parse btf: string section .* beyond end of blob/);
  expect('truncated record', patchU32(blob, 12, 14), 'parse btf: type 1: record beyond end of type section');
  expect('unknown kind', patchU32(blob, 24 + 4, 25 << 24), 'parse btf: type 1: unknown kind 25');
  expect('name offset', patchU32(blob, 24, 999), 'parse btf: type 1: name offset 999 beyond string section');
  expect('int size', patchU32(blob, 24 + 8, 3), 'parse btf: type 1: int size 3 invalid');
  expect('string NUL', patch(blob, blob.length - 1, [0x41]), 'parse btf: string section does not end with a NUL byte');

  const w1 = new BtfWriter();
  w1.type('p', K.PTR, 0, 99);
  expect('dangling id', w1.build(), 'parse btf: type 1: target refers to type 99, beyond the last type 1');

  const w2 = new BtfWriter();
  w2.type('a', K.TYPEDEF, 0, 2);
  w2.type('b', K.TYPEDEF, 0, 1);
  expect('typedef cycle', w2.build(), 'parse btf: type 1: reference chain too long or cyclic');

  const w3 = new BtfWriter();
  const i3 = w3.int('int', 4);
  w3.type('s', K.STRUCT, 2, 4, [w3.str('a'), i3, 0, w3.str('b'), i3, 32]);
  expect('member past the end', w3.build(), /^parse btf: type 2: member offset beyond struct size \(member 'b' ends at bit 64, struct s is 32 bits\)$/);

  const w4 = new BtfWriter();
  const i4 = w4.int('int', 4);
  w4.type('f', K.FUNC, 0, i4);
  expect('func without prototype', w4.build(), 'parse btf: type 2: func prototype is int int, not func_proto');

  const w5 = new BtfWriter();
  const i5 = w5.int('int', 4);
  w5.type('', K.ARRAY, 0, 0, [3, i5, 1]);
  w5.type('', K.ARRAY, 0, 0, [2, i5, 1]);
  expect('array cycle', w5.build(), 'parse btf: type 2: reference chain too long or cyclic');
});

t.test('btf: a struct containing itself through a typedef cannot loop', async (t) => {
  const w = new BtfWriter();
  w.type('loop', K.STRUCT, 1, 4, [w.str('self'), 2, 0]); // 1: struct loop { loop_t self; }
  w.type('loop_t', K.TYPEDEF, 0, 1); // 2
  const btf = parseBtf(w.build());
  t.equal(btf.typeName(1), 'struct loop');
  t.match(thrown(() => recordLayout(btf, 'loop')).message,
    'record layout: struct loop: member self: struct loop contains itself');
});

// --- record layouts ---------------------------------------------------------------

const SAMPLE_REC_TABLE = [
  '0 hdr.type uint 2',
  '2 hdr.flags uint 2',
  '4 hdr.size uint 4',
  '8 hdr.ts_ns uint 8',
  '16 inner.delta int 4',
  '20 inner.name char 8 [8 x 1]',
  '28 inner.raw uint 3 [3 x 1]',
  '31 inner.small int 1',
  '32 inner.mid int 2',
  '40 inner.big uint 8',
  '48 ids uint 16 [4 x 4]',
  '64 matrix int 48 [6 x 8]',
  '112 both bytes 8',
  '120 ratio float 8',
  '128 kind enum 4',
  '132 c char 1',
  '133 uc uint 1',
  '134 sc int 1',
  '136 ptr pointer 8',
  '144 hdrs bytes 32 [2 x 16]',
  '176 tail_len uint 4',
  '180 <tail>',
];

t.test('layout: sample structs, checked by eye against btf_sample.bpf.c', async (t) => {
  const btf = btfFromElf(sampleObj);
  const [rec, hdr, inner, anon] = recordLayouts(btf, SAMPLE_STRUCTS);
  t.equal(rec.size, 184);
  t.same(table(rec), SAMPLE_REC_TABLE);
  t.same(rec.tail, { offset: 180 });
  t.same(hdr, { name: 'sample_hdr', size: 16, fields: [
    { name: 'type', offset: 0, size: 2, kind: 'uint' },
    { name: 'flags', offset: 2, size: 2, kind: 'uint' },
    { name: 'size', offset: 4, size: 4, kind: 'uint' },
    { name: 'ts_ns', offset: 8, size: 8, kind: 'uint' },
  ] }, 'no tail key when there is no flexible array');
  t.equal(inner.size, 32);
  t.same(table(anon), ['0 x uint 4', '4 y uint 4', '8 z uint 8'], 'anonymous struct members flattened in place');

  // Plain data: survives a JSON (and so msgpack) round trip unchanged.
  t.same(JSON.parse(JSON.stringify(rec)), rec);
  t.notOk(JSON.stringify(rec).includes('null'), 'no undefined/null values');

  t.match(thrown(() => recordLayouts(btf, ['sample_bits'])).message,
    'record layout: struct sample_bits: member a: bitfields are not supported in record layouts');
  t.same(table(recordLayout(btf, 'sample_bits', { bitfields: 'omit' })), ['4 d uint 4']);
  t.match(thrown(() => recordLayouts(btf, ['sample_rec', 'no_such'])).message, 'record layout: struct no_such: not found in BTF');
});

t.test('layout: sample compiled now by clang matches the fixture and gcc offsetof', async (t) => {
  if (!needTools(t, 'clang', 'gcc')) return;
  withTmp((dir) => {
    const fresh = recordLayouts(btfFromElf(clangBpf(SAMPLE_SRC, dir)), SAMPLE_STRUCTS);
    t.same(fresh, recordLayouts(btfFromElf(sampleObj), SAMPLE_STRUCTS), 'fixture is up to date with the source');
    t.same(ourLayout(fresh), gccLayout(SAMPLE_SRC, fresh, dir), 'every offset and size agrees with gcc');
  });
});

t.test('layout: bpf/exectrace.h structs agree with gcc offsetof', async (t) => {
  if (!needTools(t, 'clang', 'gcc')) return;
  withTmp((dir) => {
    const btf = btfFromElf(clangBpf(ET_SRC, dir));
    const layouts = recordLayouts(btf, ET_STRUCTS);
    const gcc = gccLayout(ET_SRC, layouts, dir);
    t.same(ourLayout(layouts), gcc, 'every field offset and size agrees with gcc');
    t.same(layouts.map((l) => [l.name, l.size]), [
      ['et_header', 32], ['et_task', 120], ['et_exec', 256], ['et_exec_failed', 184], ['et_fork', 160],
      ['et_exit', 168], ['et_lost', 64], ['et_counter', 24], ['et_exec_count_key', 24], ['et_exec_count', 16],
    ], 'sizes of the _Static_assert lines');
    // record --stats-only reads the exec_counts map by these (src/record/counts.ts).
    t.same(table(layouts[8]), ['0 pid uint 4', '4 gen uint 4', '8 comm char 16 [16 x 1]'], 'et_exec_count_key: no padding in a hash key');
    t.same(table(layouts[9]), ['0 execs uint 8', '8 failed uint 8'], 'et_exec_count');
    const exec = layouts[2];
    t.same(table(exec), [
      '0 hdr.type uint 2', '2 hdr.flags uint 2', '4 hdr.size uint 4', '8 hdr.ts_ns uint 8', '16 hdr.pid uint 4',
      '20 hdr.tid uint 4', '24 hdr.cpu uint 4', '28 hdr._pad0 uint 4',
      '32 task.ppid uint 4', '36 task.uid uint 4', '40 task.gid uint 4', '44 task.euid uint 4', '48 task.egid uint 4',
      '52 task.loginuid uint 4', '56 task.sessionid uint 4', '60 task._pad0 uint 4', '64 task.cgroup_id uint 8',
      '72 task.start_ns uint 8', '80 task.exec_seq uint 8', '88 task.parent_start_ns uint 8', '96 task.parent_exec_seq uint 8',
      '104 task.ns_pid uint 4', '108 task.ns_mnt uint 4', '112 task.ns_net uint 4', '116 task.ns_uts uint 4',
      '120 task.ns_ipc uint 4', '124 task.ns_user uint 4', '128 task.ns_cgroup uint 4', '132 task._pad1 uint 4',
      '136 task.comm char 16 [16 x 1]', '152 file.ino uint 8', '160 file.size uint 8', '168 file.mtime_ns uint 8',
      '176 file.ctime_ns uint 8', '184 file.dev uint 4', '188 file.mode uint 4', '192 file.uid uint 4', '196 file.gid uint 4',
      '200 file.nlink uint 4', '204 file._pad0 uint 4', '208 exec_flags uint 4', '212 parent_comm char 16 [16 x 1]',
      '228 old_tid uint 4', '232 argc uint 4', '236 args_size uint 4', '240 filename_len uint 4', '244 interp_len uint 4',
      '248 args_len uint 4', '252 cwd_len uint 4', '256 <tail>',
    ], 'et_exec, field by field');
    const failed = layouts[3];
    t.same(failed.fields.filter((f) => f.kind === 'int').map((f) => f.name), ['error_code', 'dfd'], 'the __s32 fields are signed');
    t.same(failed.tail, { offset: 184 });
    t.equal(layouts.filter((l) => l.tail).length, 2, 'only et_exec and et_exec_failed have tails');
  });
});

// --- .rodata --------------------------------------------------------------------------

t.test('rodata: defaults and images from the sample object', async (t) => {
  t.same(rodataDefaults(sampleObj), {
    max_args: 128, min_delta: -7, big_limit: 0x1122334455667788n, neg_limit: -2n, tiny: -1, port: 8080,
    enabled: 1, default_kind: 2, folded: 5, verbose: 0,
  }, 'integers only (prefix is a char array); 8-byte values are bigints');
  t.same(rodataVariables(sampleObj).map((v) => `${v.offset} ${v.name} ${v.typeName}`), [
    '0 max_args const volatile __u32', '4 min_delta const volatile __s32', '8 big_limit const volatile __u64',
    '16 neg_limit const volatile __s64', '24 tiny const volatile __s8', '26 port const volatile __u16',
    '28 enabled const volatile _Bool', '32 default_kind const volatile enum sample_kind',
    '36 prefix const volatile char[4]', '40 folded const __u32', '44 verbose const volatile __u8',
  ]);

  const original = Buffer.from(readElf(sampleObj).sectionData('.rodata'));
  const same = rodataImage(sampleObj, {});
  t.same(same, original, 'no values: an exact copy');
  t.not(same.buffer, sampleObj.buffer, 'a copy, not a view into the object');

  const img = rodataImage(sampleObj, {
    max_args: 4096, min_delta: -2147483648, big_limit: 0xffffffffffffffffn, neg_limit: -9007199254740993n,
    tiny: 127, port: 65535, enabled: 0, default_kind: 1, verbose: 255,
  });
  t.equal(img.length, 45);
  t.equal(img.readUInt32LE(0), 4096);
  t.equal(img.readInt32LE(4), -2147483648);
  t.equal(img.readBigUInt64LE(8), 0xffffffffffffffffn);
  t.equal(img.readBigInt64LE(16), -9007199254740993n);
  t.equal(img.readInt8(24), 127);
  t.equal(img.readUInt16LE(26), 65535);
  t.equal(img[28], 0);
  t.equal(img.readUInt32LE(32), 1);
  t.equal(img[44], 255);
  t.same(img.subarray(36, 40), original.subarray(36, 40), 'untouched variables keep their bytes');
  t.same(original, readElf(sampleObj).sectionData('.rodata'), 'the object itself is not modified');

  const err = (values: Record<string, number | bigint>, msg: string | RegExp, what: string) => {
    const e = thrown(() => rodataImage(sampleObj, values));
    t.match(e.message, msg, what);
    t.match(e.message, OUR_ERROR, `${what}: one line`);
  };
  err({ max_argz: 1 }, "rodata image: unknown variable 'max_argz' (known: max_args, min_delta, big_limit, neg_limit, tiny, port, enabled, default_kind, prefix, folded, verbose)", 'unknown name');
  err({ max_args: -1 }, "rodata image: variable 'max_args': value -1 out of range for const volatile __u32 (0..4294967295)", 'negative unsigned');
  err({ max_args: 2 ** 32 }, 'value 4294967296 out of range', 'too big for u32');
  err({ tiny: 128 }, "variable 'tiny': value 128 out of range for const volatile __s8 (-128..127)", 's8 overflow');
  err({ min_delta: -2147483649 }, 'out of range for const volatile __s32 (-2147483648..2147483647)', 's32 underflow');
  err({ big_limit: 1n << 64n }, 'out of range for const volatile __u64', 'u64 overflow');
  err({ enabled: 2 }, "variable 'enabled': value 2 out of range for const volatile _Bool (0..1)", 'bool');
  err({ port: 1.5 }, "rodata image: variable 'port': value 1.5 is not an integer", 'fraction');
  err({ port: Number.NaN }, 'value NaN is not an integer', 'NaN');
  err({ big_limit: 2 ** 60 }, 'is not an integer', 'unsafe number: pass a bigint');
  err({ prefix: 1 }, "rodata image: variable 'prefix' is const volatile char[4], only integers can be set", 'array');
  err({ folded: 1 }, "rodata image: variable 'folded' is not volatile", 'folded constant');
});

t.test('rodata: objects without .rodata', async (t) => {
  withTmp((dir) => {
    if (!needTools(t, 'clang')) return;
    const src = join(dir, 'none.bpf.c');
    writeFileSync(src, 'int x;\n');
    const obj = clangBpf(src, dir);
    t.same(rodataDefaults(obj), {});
    t.match(thrown(() => rodataImage(obj, {})).message, 'rodata image: object has no .rodata section');
  });
});

// --- hostile input -------------------------------------------------------------------

/** mulberry32: small, seeded, reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(src: Uint8Array, rand: () => number): Buffer {
  const b = Buffer.from(src);
  const n = 1 + Math.floor(rand() * 4);
  const interesting = [0, 1, 0xff, 0x7fffffff, 0xffffffff, 0x80000000, 24, 84, 85, 0x01000000, 0x0d000003];
  for (let i = 0; i < n; i++) {
    const off = Math.floor(rand() * b.length);
    const r = rand();
    if (r < 0.5) b[off] ^= 1 << Math.floor(rand() * 8);
    else if (r < 0.8 && off + 4 <= b.length) b.writeUInt32LE(interesting[Math.floor(rand() * interesting.length)] >>> 0, off & ~3);
    else b[off] = Math.floor(rand() * 256);
  }
  return rand() < 0.1 ? b.subarray(0, Math.floor(rand() * b.length)) : b;
}

/** Everything a caller might do with a parsed blob; must finish or throw one of our errors. */
function exercise(btf: Btf): void {
  for (const ty of btf.types) {
    for (const fn of [() => btf.sizeof(ty.id), () => btf.typeName(ty.id), () => btf.resolve(ty.id), () => btf.qualifiers(ty.id)]) {
      try {
        fn();
      } catch (e) {
        if (!(e instanceof Error) || !OUR_ERROR.test(e.message)) throw e;
      }
    }
    if (ty.kind === 'struct' && ty.name !== '') {
      try {
        recordLayout(btf, ty.name, { bitfields: 'omit' });
      } catch (e) {
        if (!(e instanceof Error) || !OUR_ERROR.test(e.message)) throw e;
      }
    }
  }
}

t.test('fuzz: mutated BTF blobs parse or throw a one-line Error', async (t) => {
  const seed = Number(process.env.BTF_FUZZ_SEED ?? 0x5eed);
  const rand = rng(seed);
  const iterations = 2000;
  let parsed = 0;
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const bytes = mutate(sampleBtfBytes, rand);
    let btf: Btf;
    try {
      btf = parseBtf(bytes);
    } catch (e) {
      if (!(e instanceof Error) || !OUR_ERROR.test(e.message)) {
        t.fail(`iteration ${i} (seed ${seed}): unexpected throw: ${e instanceof Error ? e.stack : String(e)}`);
        return;
      }
      continue;
    }
    parsed++;
    try {
      exercise(btf);
    } catch (e) {
      t.fail(`iteration ${i} (seed ${seed}): walking the parsed model threw: ${e instanceof Error ? e.stack : String(e)}`);
      return;
    }
  }
  const ms = performance.now() - started;
  t.comment(`${iterations} mutations (seed ${seed}): ${parsed} parsed, ${iterations - parsed} rejected, ${ms.toFixed(0)} ms`);
  t.pass('no hang, no crash, only one-line Errors');
});

t.test('fuzz: mutated objects through btfFromElf and rodataDefaults', async (t) => {
  const seed = Number(process.env.BTF_FUZZ_SEED ?? 0xe1f);
  const rand = rng(seed);
  const started = performance.now();
  for (let i = 0; i < 500; i++) {
    const obj = mutate(sampleObj, rand);
    for (const fn of [() => btfFromElf(obj), () => rodataDefaults(obj), () => rodataImage(obj, { max_args: 1 })]) {
      try {
        fn();
      } catch (e) {
        if (!(e instanceof Error) || !OUR_ERROR.test(e.message)) {
          t.fail(`iteration ${i} (seed ${seed}): unexpected throw: ${e instanceof Error ? e.stack : String(e)}`);
          return;
        }
      }
    }
  }
  t.comment(`500 object mutations (seed ${seed}) in ${(performance.now() - started).toFixed(0)} ms`);
  t.pass('no hang, no crash, only one-line Errors');
});

// --- the kernel's own BTF -----------------------------------------------------------------

const VMLINUX = '/sys/kernel/btf/vmlinux';

t.test('kernel: parses /sys/kernel/btf/vmlinux', { skip: existsSync(VMLINUX) ? false : `${VMLINUX} not present (not a Linux kernel with CONFIG_DEBUG_INFO_BTF)` }, async (t) => {
  const bytes = readFileSync(VMLINUX);
  const started = performance.now();
  const btf = parseBtf(bytes);
  const ms = performance.now() - started;
  const kinds: Record<string, number> = {};
  for (const ty of btf.types) kinds[ty.kind] = (kinds[ty.kind] ?? 0) + 1;
  t.comment(`parsed ${VMLINUX} (${(bytes.length / 1e6).toFixed(1)} MB, ${btf.count} types) in ${ms.toFixed(0)} ms`);
  t.comment(`kinds: ${Object.entries(kinds).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  for (const k of ['struct', 'union', 'enum', 'func', 'func_proto', 'typedef', 'ptr', 'array', 'const', 'volatile', 'var', 'datasec']) {
    t.ok(kinds[k] > 0, `has ${k}`);
  }

  const binprm = btf.find('struct', 'linux_binprm');
  t.ok(binprm, 'struct linux_binprm exists');
  const argc = binprm!.members.find((m) => m.name === 'argc')!;
  t.match(btf.resolve(argc.type), { kind: 'int', size: 4, signed: true });
  const layout = recordLayout(btf, 'linux_binprm', { bitfields: 'omit' });
  t.match(layout.fields.find((f) => f.name === 'argc'), { kind: 'int', size: 4, offset: argc.bitOffset / 8 });
  t.ok(layout.fields.find((f) => f.name === 'filename')?.kind === 'pointer', 'filename is a pointer');
  t.match(thrown(() => recordLayout(btf, 'linux_binprm')).message, /^record layout: struct linux_binprm: member \w+: bitfields are not supported/);
});
