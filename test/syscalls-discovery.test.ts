// src/syscalls: the record-time discovery of syscalls (table, tracefs formats, capture
// classification, sys_descs encoding, `syscalls` metadata).
//
// Offline parts run from committed fixtures: fixtures/tracefs (format files copied from a
// 6.18 x86_64 kernel's tracefs) and fixtures/sysdesc_layouts.bpf.o (et_sysdesc/et_argdesc
// from bpf/exectrace.h, built from test/progs/sysdesc_layouts.bpf.c). Classification needs
// the kernel's BTF (/sys/kernel/btf/vmlinux, world-readable); the live test needs root for
// the real tracefs. Both are skipped with the reason when missing, and fail under CI=true.

import t, { Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Btf, btfFromElf, parseBtf, recordLayout } from '../src/btf';
import { ensureTracefs } from '../src/record/preflight';
import { UsageError, UserError } from '../src/util/errors';
import {
  abi,
  ArgInfo,
  buildSyscallPlan,
  closeMatches,
  descEncoder,
  parseCType,
  parseEventFormat,
  readEventFormats,
  syscallTable,
  unmatchedOverrides,
} from '../src/syscalls';
import { RECORD_TYPES } from '../src/record/types';
import { IMPLICIT_FDS } from '../src/fds/calls';

const ROOT = resolve(__dirname, '..');
const TRACEFS_FIXTURE = join(ROOT, 'fixtures', 'tracefs');
const LAYOUTS_OBJ = join(ROOT, 'fixtures', 'sysdesc_layouts.bpf.o');
const HEADER = join(ROOT, 'bpf', 'exectrace.h');
const REAL_OBJ = join(ROOT, 'bpf', 'exectrace.bpf.o');
const UNISTD = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
const VMLINUX = '/sys/kernel/btf/vmlinux';
const CI = process.env.CI === 'true';

const objectBtf = btfFromElf(readFileSync(LAYOUTS_OBJ));
const table = syscallTable('x86_64');
const nr = (name: string): number => table.byName.get(name) as number;

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof Error)) throw new Error(`non-Error thrown: ${String(e)}`);
    return e;
  }
  throw new Error('expected an error, none was thrown');
}

/** Runs fn as test `name` unless something it needs is `missing`: then skip, or fail under CI=true. */
function gated(name: string, missing: string | undefined, fn: (t: Test) => Promise<void>): void {
  if (missing === undefined) t.test(name, fn);
  else if (CI) t.test(name, async (tt) => tt.fail(`cannot run under CI=true: ${missing}`));
  else t.test(name, { skip: missing }, async () => {});
}

// --- table -------------------------------------------------------------------------------

t.test('table: x86_64 numbers a user would check', async (t) => {
  t.equal(table.byNr.get(0), 'read');
  t.equal(table.byNr.get(1), 'write');
  t.equal(table.byNr.get(257), 'openat');
  t.equal(table.byNr.get(110), 'getppid');
  t.equal(table.byNr.get(231), 'exit_group');
  t.equal(table.byNr.get(59), 'execve');
  t.equal(table.byNr.get(262), 'newfstatat');
  t.equal(table.byNr.get(451), 'cachestat', 'numbers newer than the uapi header are included');
  t.equal(table.byName.get('fstat'), 5);
  t.equal(table.events.get('fstat'), 'newfstat', 'fstat is traced by sys_enter_newfstat');
  t.ok([...table.byNr.keys()].every((n) => n < abi.ET_SYSCALL_MAX), 'every x86_64 number fits sys_descs');
});

t.test('table: an unsupported architecture is one clear line', async (t) => {
  const e = thrown(() => syscallTable('riscv64'));
  t.type(e, UserError);
  t.equal(e.message, 'syscall tracing is not supported on riscv64 (no syscall table; supported: x86_64): record without --syscalls/--syscall');
});

gated('table: the committed table is what make syscall-table generates', existsSync(UNISTD) ? undefined : `${UNISTD} not installed (linux-libc-dev)`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'et-systable-'));
  try {
    const out = join(dir, 'table.ts');
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'gen-syscall-table.js'), UNISTD, out], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    const body = (s: string) => s.split('\n').filter((l) => !l.startsWith('//')).join('\n');
    t.equal(body(readFileSync(out, 'utf8')), body(readFileSync(join(ROOT, 'src', 'syscalls', 'table_x86_64.ts'), 'utf8')),
      'src/syscalls/table_x86_64.ts is stale: run make syscall-table');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// --- abi constants -----------------------------------------------------------------------

/** NAME → value of every `#define NAME <int expr>` and `NAME = <int>,` enum entry of the header. */
function headerConstants(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const evaluate = (expr: string): number | undefined => {
    const e = expr.replace(/\/\*.*?\*\//g, '').trim();
    let m = /^\(?\s*(\d+)u?\s*<<\s*(\d+)\s*\)?$/.exec(e);
    if (m) return Number(m[1]) << Number(m[2]);
    m = /^\(?\s*(\d+)\s*\*\s*(\d+)\s*\)?$/.exec(e);
    if (m) return Number(m[1]) * Number(m[2]);
    m = /^\(?\s*(-?\d+)\s*\)?$/.exec(e);
    if (m) return Number(m[1]);
    m = /^(0x[0-9a-f]+)u?$/i.exec(e);
    if (m) return Number(m[1]);
    m = /^(\d+)u?$/.exec(e);
    return m ? Number(m[1]) : undefined;
  };
  for (const line of text.split('\n')) {
    let m = /^#define\s+(ET_[A-Z0-9_]+)\s+(.+)$/.exec(line);
    if (!m) m = /^\s+(ET_[A-Z0-9_]+)\s*=\s*([^,]+),/.exec(line);
    if (!m) continue;
    const v = evaluate(m[2]);
    if (v !== undefined) out.set(m[1], v);
  }
  return out;
}

t.test('abi: src/abi.ts matches bpf/exectrace.h', async (t) => {
  const header = headerConstants(readFileSync(HEADER, 'utf8'));
  const ours = Object.entries(abi).filter(([k]) => k.startsWith('ET_'));
  t.ok(ours.length >= 20, `${ours.length} constants mirrored`);
  for (const [name, value] of ours) {
    t.equal(value, header.get(name), `${name} is ${header.get(name)} in bpf/exectrace.h`);
  }
});

t.test('abi: the record type ids are enum et_type of bpf/exectrace.bpf.o, and record_types names each of them', async (t) => {
  const et = btfFromElf(readFileSync(REAL_OBJ)).find('enum', 'et_type');
  if (!et || et.kind !== 'enum') throw new Error('bpf/exectrace.bpf.o: no enum et_type in its BTF');
  const inObject = Object.fromEntries(et.values.map((v) => [v.name, v.value]));
  const ours = Object.fromEntries(Object.entries(abi).filter(([k]) => /^ET_(EXEC|EXEC_FAILED|FORK|EXIT|LOST|SYS_ENTER|SYS_EXIT|TASK|HASH|FD|TYPE_MAX)$/.test(k)));
  t.same(ours, inObject, 'src/abi.ts has every et_type value, and only those, as the object has them');
  t.same(RECORD_TYPES.map((r) => r.id), et.values.filter((v) => v.name !== 'ET_TYPE_MAX').map((v) => v.value),
    'src/record/types.ts describes every record type, in id order');
  // The hash record's status names: the object's enum et_hash_status, as src/abi.ts and the metadata name them.
  const st = btfFromElf(readFileSync(REAL_OBJ)).find('enum', 'et_hash_status');
  if (!st || st.kind !== 'enum') throw new Error('bpf/exectrace.bpf.o: no enum et_hash_status in its BTF');
  t.same(Object.fromEntries(st.values.map((v) => [v.value, v.name.replace(/^ET_HASH_/, '').toLowerCase()])), abi.HASH_STATUS,
    'HASH_STATUS names every et_hash_status value as the enum does');
  t.same(RECORD_TYPES.find((r) => r.id === abi.ET_HASH)?.enums?.status, Object.fromEntries(Object.entries(abi.HASH_STATUS)),
    'the hash record type carries those names in its enums');
});

// --- format files ------------------------------------------------------------------------

const fixtureFormat = (event: string) => {
  const file = join(TRACEFS_FIXTURE, 'events', 'syscalls', event, 'format');
  return parseEventFormat(readFileSync(file, 'utf8'), file);
};

t.test('format: the fields after __syscall_nr, as the file states them', async (t) => {
  const openat = fixtureFormat('sys_enter_openat');
  t.equal(openat.name, 'sys_enter_openat');
  t.same(openat.args, [
    { name: 'dfd', type: 'int', offset: 16, size: 8, signed: false },
    { name: 'filename', type: 'const char *', offset: 24, size: 8, signed: false },
    { name: 'flags', type: 'int', offset: 32, size: 8, signed: false },
    { name: 'mode', type: 'umode_t', offset: 40, size: 8, signed: false },
  ]);
  t.same(fixtureFormat('sys_enter_getppid').args, []);
  t.same(fixtureFormat('sys_enter_execve').args.map((a) => [a.name, a.type]), [
    ['filename', 'const char *'],
    ['argv', 'const char *const *'],
    ['envp', 'const char *const *'],
  ]);
  t.same(fixtureFormat('sys_enter_read').args.map((a) => a.name), ['fd', 'buf', 'count']);
  t.same(fixtureFormat('sys_enter_mmap').args.map((a) => a.name), ['addr', 'len', 'prot', 'flags', 'fd', 'off']);
  t.same(fixtureFormat('sys_enter_clone').args.map((a) => a.name), ['clone_flags', 'newsp', 'parent_tidptr', 'child_tidptr', 'tls']);
});

t.test('format: damaged files are one-line errors naming the file and line', async (t) => {
  t.equal(thrown(() => parseEventFormat('name: x\nformat:\n\tfield:int;\toffset:8;\tsize:4;\tsigned:1;\n', 'f')).message,
    "parse format f: line 3: cannot read field 'field:int;\toffset:8;\tsize:4;\tsigned:1;'");
  t.equal(thrown(() => parseEventFormat('name: x\n\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;\n', 'f')).message,
    'parse format f: no __syscall_nr field (not a syscall tracepoint)');
  t.equal(thrown(() => parseEventFormat('', 'f')).message, "parse format f: no 'name:' line");
});

t.test('format: table names map to tracepoints; those without one are listed', async (t) => {
  const { formats, missing } = readEventFormats(TRACEFS_FIXTURE, ['openat', 'fstat', 'uselib'], table.events);
  t.same([...formats.keys()], ['openat', 'fstat']);
  t.equal(formats.get('fstat')?.name, 'sys_enter_newfstat');
  t.same(missing, ['uselib']);
  t.equal(thrown(() => readEventFormats('/nonexistent', ['read'], table.events)).message,
    'no syscall tracepoints in /nonexistent/events/syscalls: the kernel needs CONFIG_FTRACE_SYSCALLS=y for --syscalls');
});

t.test('ctypes: C type spellings taken apart', async (t) => {
  t.same(parseCType('const char *'), { base: 'char', pointers: 1, constBase: true });
  t.same(parseCType('const char *const *'), { base: 'char', pointers: 2, constBase: true });
  t.same(parseCType('unsigned long'), { base: 'unsigned long', pointers: 0, constBase: false });
  t.same(parseCType('struct robust_list_head * *'), { base: 'struct robust_list_head', pointers: 2, constBase: false });
  t.same(parseCType('const struct landlock_ruleset_attr *const'), { base: 'struct landlock_ruleset_attr', pointers: 1, constBase: true });
  t.same(parseCType('const clockid_t'), { base: 'clockid_t', pointers: 0, constBase: true });
});

// --- names -------------------------------------------------------------------------------

const offlineOpts = { maxStr: 4096, maxBytes: 64, comm: [], tracefs: TRACEFS_FIXTURE, kernelBtf: new Uint8Array(0), objectBtf };

t.test('names: an unknown syscall is one line with the close matches', async (t) => {
  const e = thrown(() => buildSyscallPlan({ ...offlineOpts, names: ['read', 'opneat'] }));
  t.type(e, UsageError, 'a mistake in how record was called: exit status 2');
  t.equal(e.message, "unknown syscall 'opneat' (did you mean openat?)");
  t.equal(thrown(() => buildSyscallPlan({ ...offlineOpts, names: ['fstatat'] })).message,
    "unknown syscall 'fstatat' (did you mean newfstatat?)");
  t.equal(thrown(() => buildSyscallPlan({ ...offlineOpts, names: ['sock'] })).message,
    "unknown syscall 'sock' (did you mean socket or socketpair?)");
  t.equal(thrown(() => buildSyscallPlan({ ...offlineOpts, names: ['frobnicate'] })).message,
    "unknown syscall 'frobnicate' (not in the x86_64 syscall table)");
  t.equal(thrown(() => buildSyscallPlan({ ...offlineOpts, names: ["it's\n"] })).message,
    "unknown syscall 'it\\'s\\n' (not in the x86_64 syscall table)", 'the name is escaped onto one line');
  t.same(closeMatches('getppdi', [...table.byName.keys()], 3), ['getppid']);
});

t.test('options: limits and --comm checked against the header ceilings', async (t) => {
  t.equal(thrown(() => buildSyscallPlan({ ...offlineOpts, names: ['read'], maxBytes: 5000 })).message,
    '--bytes 5000 is out of range: use 0 to 4096');
  t.equal(thrown(() => buildSyscallPlan({ ...offlineOpts, names: ['read'], comm: ['a-very-long-command-name'] })).message,
    "--comm 'a-very-long-command-name': a command name is 1 to 15 bytes (the kernel keeps the first 15 of a program's name)");
});

// --- sys_descs encoding ------------------------------------------------------------------

t.test('descs: et_sysdesc encoded by the layout in the object BTF', async (t) => {
  const sys = recordLayout(objectBtf, 'et_sysdesc');
  t.equal(sys.size, 56);
  const encode = descEncoder(objectBtf);
  const args: ArgInfo[] = [
    { name: 'fd', type: 'unsigned int', size: 4, signed: false, kind: 'value' },
    { name: 'buf', type: 'char *', size: 8, signed: false, kind: 'buf', capture: 'out', len_arg: 2, len_ret: true },
    { name: 'count', type: 'size_t', size: 8, signed: false, kind: 'value' },
  ];
  const read = encode(abi.ET_SYSD_TRACE, args, new Map());
  t.equal(read.toString('hex'),
    '01000000' + '00000000' + // flags, pre_arg, pre_off, _pad0
    '0000000000000000' + // fd: value
    '0207020000000000' + // buf: BUF, OUT|LEN_ARG|LEN_RET, len_arg 2
    '0'.repeat(16 * 4));
  // accept4: an address returned through its length pointer (read at entry: PRE), an array by ret.
  const accept = encode(abi.ET_SYSD_TRACE | abi.ET_SYSD_PRE | abi.ET_SYSD_HAS_OUT, [
    { name: 'fd', type: 'int', size: 4, signed: true, kind: 'value' },
    { name: 'upeer_sockaddr', type: 'struct sockaddr *', size: 8, signed: false, kind: 'sockaddr', capture: 'out', len_arg: 2, len_ptr: true, max: 128 },
    { name: 'upeer_addrlen', type: 'int *', size: 8, signed: false, kind: 'struct', capture: 'out', struct: 'int' },
  ], new Map([['int', { name: 'int', size: 4, fields: [] }]]), { arg: 2, off: 0 });
  t.equal(accept.subarray(0, 32).toString('hex'),
    '31000000' + '02000000' + // TRACE|PRE|HAS_OUT; pre_arg 2, pre_off 0
    '0000000000000000' + // fd: value
    '0409020080000000' + // SOCKADDR, OUT|LEN_PTR, len_arg 2, size 128
    '0301000004000000'); // STRUCT, OUT, size 4
  const poll = encode(abi.ET_SYSD_TRACE | abi.ET_SYSD_HAS_IN | abi.ET_SYSD_HAS_OUT, [
    { name: 'ufds', type: 'struct pollfd *', size: 8, signed: false, kind: 'array', capture: 'inout', elem: 'pollfd', len_arg: 1, max_count: 64 },
    { name: 'nfds', type: 'unsigned int', size: 4, signed: false, kind: 'value' },
  ], new Map([['pollfd', { name: 'pollfd', size: 8, fields: [] }]]));
  t.equal(poll.subarray(8, 16).toString('hex'), '0632010800020000', 'ARRAY, INOUT|LEN32|LEN_ARG, len_arg 1, elem 8, size 64 x 8');
  const statLayout = { name: 'stat', size: 144, fields: [] };
  const fstat = encode(abi.ET_SYSD_TRACE, [args[0], { name: 'statbuf', type: 'struct stat *', size: 8, signed: false, kind: 'struct', capture: 'out', struct: 'stat' }], new Map([['stat', statLayout]]));
  t.equal(fstat.subarray(16, 24).toString('hex'), '0301000090000000', 'STRUCT, OUT, size 144');
  t.equal(thrown(() => descEncoder(btfFromElf(readFileSync(join(ROOT, 'fixtures', 'btf_sample.bpf.o'))))).message,
    'record layout: struct et_sysdesc: not found in BTF');
});


// The committed object is the one the recorder loads: it must parse and carry both
// structs, so a failure here is a broken object, never a reason to skip.
t.test('descs: the fixture object agrees with bpf/exectrace.bpf.o', async (t) => {
  const real = btfFromElf(readFileSync(REAL_OBJ));
  for (const name of ['et_sysdesc', 'et_argdesc']) {
    t.ok(real.find('struct', name), `bpf/exectrace.bpf.o has struct ${name}`);
    t.same(recordLayout(real, name), recordLayout(objectBtf, name), `${name}: rebuild fixtures/sysdesc_layouts.bpf.o if this fails`);
  }
});

// --- classification (kernel BTF, fixture tracefs) ----------------------------------------

let kernelBtf: Btf | undefined;
const loadKernelBtf = (): Btf => (kernelBtf ??= parseBtf(readFileSync(VMLINUX)));
const vmlinuxMissing = existsSync(VMLINUX) ? undefined : `${VMLINUX} not present (needs a Linux kernel with CONFIG_DEBUG_INFO_BTF)`;

gated('plan: arguments, captures and metadata from the kernel BTF', vmlinuxMissing, async (t) => {
  const names = ['openat', 'read', 'write', 'fstat', 'newfstatat', 'getppid', 'exit_group', 'mmap', 'mprotect', 'execve', 'clone',
    'pipe2', 'nanosleep', 'clock_nanosleep', 'connect', 'readlinkat', 'getdents64', 'getcwd', 'setuid',
    'accept4', 'recvmsg', 'writev', 'poll', 'epoll_wait', 'pselect6', 'getsockopt'];
  const plan = buildSyscallPlan({ ...offlineOpts, names, comm: ['cat'], kernelBtf: loadKernelBtf() });
  const { meta } = plan;
  const args = (name: string) => meta.args[String(nr(name))];
  const byName = (name: string, arg: string) => args(name).find((a) => a.name === arg);

  t.equal(meta.arch, 'x86_64');
  t.equal(meta.table['257'], 'openat');
  t.equal(Object.keys(meta.table).length, table.byNr.size);
  // What was asked, and besides it what descriptors and paths need (formats/trace-format.md §10.11).
  t.same(meta.traced.filter((n) => !meta.implicit?.includes(n)), names.map(nr).sort((a, b) => a - b));
  t.same((meta.implicit ?? []).map((n) => meta.table[String(n)]).sort(),
    IMPLICIT_FDS.filter((n) => !names.includes(n) && table.byName.has(n)).sort(), 'read, write and fstat have descriptors: every call that makes or ends one is recorded too');
  t.same(meta.options, { max_str: 4096, max_bytes: 64, comm: ['cat'] });

  // The size and signedness are the C type's (dfd is an int: -100 is AT_FDCWD), not the
  // tracepoint field's (always 8 bytes, signed:0).
  t.same(args('openat'), [
    { name: 'dfd', type: 'int', size: 4, signed: true, kind: 'value' },
    { name: 'filename', type: 'const char *', size: 8, signed: false, kind: 'str', capture: 'in' },
    { name: 'flags', type: 'int', size: 4, signed: true, kind: 'value' },
    { name: 'mode', type: 'umode_t', size: 2, signed: false, kind: 'value' },
  ]);
  t.same(args('read'), [
    { name: 'fd', type: 'unsigned int', size: 4, signed: false, kind: 'value' },
    { name: 'buf', type: 'char *', size: 8, signed: false, kind: 'buf', capture: 'out', len_arg: 2, len_ret: true },
    { name: 'count', type: 'size_t', size: 8, signed: false, kind: 'value' },
  ]);
  t.same(byName('write', 'buf'), { name: 'buf', type: 'const char *', size: 8, signed: false, kind: 'buf', capture: 'in', len_arg: 2 });
  t.same(args('fstat'), [
    { name: 'fd', type: 'unsigned int', size: 4, signed: false, kind: 'value' },
    { name: 'statbuf', type: 'struct stat *', size: 8, signed: false, kind: 'struct', capture: 'out', struct: 'stat' },
  ]);
  t.same(byName('newfstatat', 'statbuf'), args('fstat')[1]);
  const stat = meta.structs.stat;
  t.equal(stat.size, 144);
  t.same(stat.fields.find((f) => f.name === 'st_size'), { name: 'st_size', offset: 48, size: 8, kind: 'int' });
  t.same(stat.fields.find((f) => f.name === 'st_ino'), { name: 'st_ino', offset: 8, size: 8, kind: 'uint' });
  t.same(args('getppid'), []);
  t.same(args('execve').map((a) => [a.name, a.kind, a.capture]), [['filename', 'str', 'in'], ['argv', 'value', undefined], ['envp', 'value', undefined]]);
  t.same(byName('pipe2', 'fildes'), { name: 'fildes', type: 'int *', size: 8, signed: false, kind: 'struct', capture: 'out', struct: 'int[2]' });
  t.same(meta.structs['int[2]'], { name: 'int[2]', size: 8, fields: [{ name: 'value', offset: 0, size: 8, kind: 'int', count: 2, elemSize: 4 }] });
  t.same([byName('nanosleep', 'rqtp')?.capture, byName('nanosleep', 'rmtp')?.capture], ['in', 'out']);
  t.same([byName('clock_nanosleep', 'rqtp')?.capture, byName('clock_nanosleep', 'rmtp')?.capture], ['in', 'out']);
  t.equal(byName('nanosleep', 'rqtp')?.struct, '__kernel_timespec');
  t.same(meta.structs.__kernel_timespec.fields.map((f) => f.name), ['tv_sec', 'tv_nsec']);
  t.same(byName('connect', 'uservaddr'), { name: 'uservaddr', type: 'struct sockaddr *', size: 8, signed: false, kind: 'sockaddr', capture: 'in', len_arg: 2, max: 128 });
  t.same(args('accept4').slice(1, 3), [
    { name: 'upeer_sockaddr', type: 'struct sockaddr *', size: 8, signed: false, kind: 'sockaddr', capture: 'out', len_arg: 2, len_ptr: true, max: 128 },
    { name: 'upeer_addrlen', type: 'int *', size: 8, signed: false, kind: 'struct', capture: 'out', struct: 'int' },
  ]);
  t.same(byName('getsockopt', 'optval'), { name: 'optval', type: 'char *', size: 8, signed: false, kind: 'buf', capture: 'out', len_arg: 4, len_ptr: true });
  t.same(byName('recvmsg', 'msg'), { name: 'msg', type: 'struct user_msghdr *', size: 8, signed: false, kind: 'msghdr', capture: 'out',
    struct: 'user_msghdr', elem: 'iovec', len_ret: true, max: 128, max_count: 32 });
  t.same(byName('writev', 'vec'), { name: 'vec', type: 'const struct iovec *', size: 8, signed: false, kind: 'iovec', capture: 'in', elem: 'iovec', len_arg: 2, max_count: 32 });
  t.same(byName('poll', 'ufds'), { name: 'ufds', type: 'struct pollfd *', size: 8, signed: false, kind: 'array', capture: 'inout', elem: 'pollfd', len_arg: 1,
    max_count: 64, out_fields: ['revents'] });
  t.same(byName('epoll_wait', 'events'), { name: 'events', type: 'struct epoll_event *', size: 8, signed: false, kind: 'array', capture: 'out', elem: 'epoll_event',
    len_ret: true, max_count: 64 });
  t.same(byName('pselect6', 'inp'), { name: 'inp', type: 'fd_set *', size: 8, signed: false, kind: 'fdset', capture: 'inout', len_arg: 0, max: 128 });
  t.same(meta.structs.user_msghdr.fields.map((f) => [f.name, f.offset]), [['msg_name', 0], ['msg_namelen', 8], ['msg_iov', 16], ['msg_iovlen', 24],
    ['msg_control', 32], ['msg_controllen', 40], ['msg_flags', 48]]);
  t.same([meta.structs.pollfd.size, meta.structs.epoll_event.size, meta.structs.iovec.size], [8, 12, 16], 'epoll_event is packed on x86_64');
  t.same(byName('readlinkat', 'buf'), { name: 'buf', type: 'char *', size: 8, signed: false, kind: 'buf', capture: 'out', len_arg: 3, len_ret: true });
  t.same(byName('getdents64', 'dirent'), { name: 'dirent', type: 'struct linux_dirent64 *', size: 8, signed: false, kind: 'buf', capture: 'out', len_arg: 2, len_ret: true });
  t.same(byName('getcwd', 'buf'), { name: 'buf', type: 'char *', size: 8, signed: false, kind: 'buf', capture: 'out', len_arg: 1, len_ret: true });
  t.same(args('setuid').map((a) => a.name), ['arg0', 'arg1', 'arg2', 'arg3', 'arg4', 'arg5'], 'no format in the fixture tracefs: raw values');
  t.same(plan.warnings, ['setuid has no tracepoint on this kernel (events/syscalls/sys_enter_setuid): recorded with their arguments as raw values arg0..arg5']);

  const flags = (name: string) => (plan.descs.get(nr(name)) as Buffer).readUInt32LE(0);
  t.equal(flags('read'), abi.ET_SYSD_TRACE | abi.ET_SYSD_HAS_OUT, 'read: one record at exit, with a capture');
  t.equal(flags('openat'), abi.ET_SYSD_TRACE | abi.ET_SYSD_HAS_IN);
  t.equal(flags('accept4'), abi.ET_SYSD_TRACE | abi.ET_SYSD_HAS_OUT | abi.ET_SYSD_PRE, 'accept4: the address buffer\'s size kept at entry');
  t.equal((plan.descs.get(nr('accept4')) as Buffer).readUInt8(4), 2, 'accept4: pre_arg is upeer_addrlen');
  t.same([...(plan.descs.get(nr('recvmsg')) as Buffer).subarray(0, 6)], [abi.ET_SYSD_TRACE | abi.ET_SYSD_HAS_OUT | abi.ET_SYSD_PRE, 0, 0, 0, 1, 8],
    'recvmsg: msg_namelen (offset 8 of the msghdr, argument 1) kept at entry');
  t.equal(flags('poll'), abi.ET_SYSD_TRACE | abi.ET_SYSD_HAS_IN | abi.ET_SYSD_HAS_OUT, 'poll: entry and exit captures');
  t.equal(flags('exit_group'), abi.ET_SYSD_TRACE | abi.ET_SYSD_NORETURN);
  t.equal(flags('setuid'), abi.ET_SYSD_TRACE | abi.ET_SYSD_CTX);
  t.equal(flags('getppid'), abi.ET_SYSD_TRACE);
  t.same([...plan.descs.keys()], meta.traced);
  t.equal((plan.descs.get(nr('read')) as Buffer).toString('hex'), `2100000000000000${'0000000000000000'}0207020000000000${'0'.repeat(64)}`);
  t.same(JSON.parse(JSON.stringify(meta)), meta, 'plain data: nothing undefined, survives msgpack/JSON');
});

// --- live: the real tracefs --------------------------------------------------------------

function liveMissing(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (typeof process.geteuid === 'function' && process.geteuid() !== 0) return 'not root (tracefs format files are root-only)';
  return vmlinuxMissing;
}

gated('kernel: every syscall of this kernel, from the real tracefs', liveMissing(), async (t) => {
  const started = process.hrtime.bigint();
  const tracefs = ensureTracefs();
  const plan = buildSyscallPlan({ maxStr: 4096, maxBytes: 64, comm: [], tracefs, kernelBtf: VMLINUX, objectBtf });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.comment(`plan for ${plan.meta.traced.length} syscalls in ${ms.toFixed(0)} ms; ${Object.keys(plan.meta.structs).length} structs`);
  const { meta } = plan;
  t.same(meta.traced, [...table.byNr.keys()].sort((a, b) => a - b));
  t.same(plan.warnings.filter((w) => !w.includes('have no tracepoint on this kernel')), [], 'no warning but the missing tracepoints');
  for (const name of ['read', 'write', 'openat', 'close', 'fstat', 'newfstatat', 'execve', 'exit_group', 'clone', 'mmap']) {
    t.notOk(meta.args[String(nr(name))].some((a) => /^arg\d$/.test(a.name)), `${name} has a tracepoint format`);
  }
  const { formats } = readEventFormats(tracefs, [...table.byName.keys()], table.events);
  t.same(unmatchedOverrides(new Map([...formats].map(([k, v]) => [k, v.args]))), [], 'every override names a real argument');
  for (const [n, list] of Object.entries(meta.args)) {
    list.forEach((a, i) => {
      if ((a.kind === 'struct' || a.kind === 'msghdr') && !(a.struct !== undefined && meta.structs[a.struct])) t.fail(`${meta.table[n]}.${a.name}: no layout for ${a.struct}`);
      if (['array', 'iovec', 'msghdr'].includes(a.kind) && !(a.elem !== undefined && meta.structs[a.elem])) t.fail(`${meta.table[n]}.${a.name}: no element layout ${a.elem}`);
      if (['buf', 'sockaddr', 'fdset', 'iovec'].includes(a.kind) || (a.kind === 'array' && !a.len_ret)) {
        // A length given by value, or (len_ptr) returned through an int the call writes.
        const len = a.len_arg === undefined ? undefined : list[a.len_arg];
        const ok = len !== undefined && a.len_arg !== i && (a.len_ptr ? len.kind === 'struct' && len.struct === 'int' : len.kind === 'value');
        if (!ok) t.fail(`${meta.table[n]}.${a.name}: bad length argument ${a.len_arg}`);
      }
    });
  }
  const fixtureOpenat = fixtureFormat('sys_enter_openat');
  t.same(formats.get('openat')?.args, fixtureOpenat.args, 'the fixture is this kernel\'s openat');
});

// --- module boundaries -------------------------------------------------------------------

t.test('src/syscalls imports nothing from src/record (which imports it: a cycle)', async (t) => {
  const dir = join(ROOT, 'src', 'syscalls');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const imports = [...readFileSync(join(dir, f), 'utf8').matchAll(/^(?:import|export)[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
    t.same(imports.filter((i) => /(^|\/)record(\/|$)/.test(i)), [], `src/syscalls/${f}`);
  }
});
