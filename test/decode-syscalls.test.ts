// Offline: syscall records → `syscall` events. Records are built here from the layouts in
// the BPF object's BTF (as the recorder stores them) and synthetic `syscalls` metadata (as
// record-time discovery writes it), then decoded, formatted and summarized; the asserted
// values are the ones a user would read: dfd -100 / AT_FDCWD, O_RDONLY|O_CLOEXEC, "hello\n".

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {spawnSync} from 'node:child_process';
import {btfFromElf, recordLayouts, RecordLayout} from '../src/btf';
import {Decoder, forEachEvent, humanLine, openTrace, ordered, TraceEvent} from '../src/decode';
import {formatMapFlags, formatOpenFlags, formatProt} from '../src/decode/constants';
import {cBytes} from '../src/decode/human';
import {TraceWriter} from '../src/format';
import {formatStats, StatsCollector} from '../src/stats';
import {toJson} from '../src/util/json';

// Human lines show local time (TZ): the times pinned here are UTC.
process.env.TZ = 'UTC';

const ROOT = path.resolve(__dirname, '..');
const STRUCTS = ['et_header', 'et_exec', 'et_fork', 'et_exit', 'et_lost', 'et_sys_enter', 'et_sys_exit', 'et_task_ctx'];

/** The wire layouts, as the recorder stores them: from the committed object's BTF. */
function wireLayouts(): Record<string, RecordLayout> {
  const list = recordLayouts(btfFromElf(fs.readFileSync(path.join(ROOT, 'bpf', 'exectrace.bpf.o'))), STRUCTS);
  return Object.fromEntries(list.map((l) => [l.name, l]));
}

const L = wireLayouts();

// recordLayout(/sys/kernel/btf/vmlinux, 'stat', {bitfields: 'omit'}) on x86_64 (arch/x86/include/uapi/asm/stat.h).
const STAT: RecordLayout = {
  name: 'stat', size: 144, fields: [
    {name: 'st_dev', offset: 0, size: 8, kind: 'uint'}, {name: 'st_ino', offset: 8, size: 8, kind: 'uint'},
    {name: 'st_nlink', offset: 16, size: 8, kind: 'uint'}, {name: 'st_mode', offset: 24, size: 4, kind: 'uint'},
    {name: 'st_uid', offset: 28, size: 4, kind: 'uint'}, {name: 'st_gid', offset: 32, size: 4, kind: 'uint'},
    {name: '__pad0', offset: 36, size: 4, kind: 'uint'}, {name: 'st_rdev', offset: 40, size: 8, kind: 'uint'},
    {name: 'st_size', offset: 48, size: 8, kind: 'int'}, {name: 'st_blksize', offset: 56, size: 8, kind: 'int'},
    {name: 'st_blocks', offset: 64, size: 8, kind: 'int'}, {name: 'st_atime', offset: 72, size: 8, kind: 'uint'},
    {name: 'st_atime_nsec', offset: 80, size: 8, kind: 'uint'}, {name: 'st_mtime', offset: 88, size: 8, kind: 'uint'},
    {name: 'st_mtime_nsec', offset: 96, size: 8, kind: 'uint'}, {name: 'st_ctime', offset: 104, size: 8, kind: 'uint'},
    {name: 'st_ctime_nsec', offset: 112, size: 8, kind: 'uint'},
    {name: '__unused', offset: 120, size: 24, kind: 'int', count: 3, elemSize: 8},
  ],
};
// The start of struct rusage: nested structs flatten to 'ru_utime.tv_sec'.
const RUSAGE: RecordLayout = {
  name: 'rusage', size: 144, fields: [
    {name: 'ru_utime.tv_sec', offset: 0, size: 8, kind: 'int'}, {name: 'ru_utime.tv_usec', offset: 8, size: 8, kind: 'int'},
    {name: 'ru_stime.tv_sec', offset: 16, size: 8, kind: 'int'}, {name: 'ru_stime.tv_usec', offset: 24, size: 8, kind: 'int'},
    {name: 'ru_maxrss', offset: 32, size: 8, kind: 'int'},
  ],
};

const v = (name: string, type: string, size: number, signed: boolean) => ({name, type, size, signed, kind: 'value'});
const FD = v('fd', 'unsigned int', 4, false);
const SYSCALLS = {
  arch: 'x86_64',
  table: {0: 'read', 1: 'write', 3: 'close', 5: 'fstat', 9: 'mmap', 59: 'execve', 61: 'wait4', 98: 'getrusage', 231: 'exit_group',
    257: 'openat', 293: 'pipe2'},
  traced: [0, 1, 3, 5, 9, 59, 61, 98, 231, 257, 293],
  args: {
    0: [FD, {name: 'buf', type: 'char *', size: 8, signed: false, kind: 'buf', capture: 'out', len_arg: 2, len_ret: true}, v('count', 'size_t', 8, false)],
    1: [FD, {name: 'buf', type: 'const char *', size: 8, signed: false, kind: 'buf', capture: 'in', len_arg: 2}, v('count', 'size_t', 8, false)],
    3: [FD],
    5: [FD, {name: 'statbuf', type: 'struct stat *', size: 8, signed: false, kind: 'struct', capture: 'out', struct: 'stat'}],
    9: ['addr', 'len', 'prot', 'flags', 'fd', 'off'].map((n) => v(n, 'unsigned long', 8, false)),
    98: [v('who', 'int', 4, true), {name: 'ru', type: 'struct rusage *', size: 8, signed: false, kind: 'struct', capture: 'out', struct: 'rusage'}],
    59: [{name: 'filename', type: 'const char *', size: 8, signed: false, kind: 'str', capture: 'in'},
      v('argv', 'const char *const *', 8, false), v('envp', 'const char *const *', 8, false)],
    61: [v('upid', 'pid_t', 4, true), {name: 'stat_addr', type: 'int *', size: 8, signed: false, kind: 'struct', capture: 'out', struct: 'int'},
      v('options', 'int', 4, true), {name: 'ru', type: 'struct rusage *', size: 8, signed: false, kind: 'struct', capture: 'out', struct: 'rusage'}],
    231: [v('error_code', 'int', 4, true)],
    293: [{name: 'fildes', type: 'int *', size: 8, signed: false, kind: 'struct', capture: 'out', struct: 'int[2]'}, v('flags', 'int', 4, true)],
    257: [v('dfd', 'int', 4, true), {name: 'filename', type: 'const char *', size: 8, signed: false, kind: 'str', capture: 'in'},
      v('flags', 'int', 4, true), v('mode', 'umode_t', 2, false)],
  },
  structs: {
    'stat': STAT, 'rusage': RUSAGE,
    // Scalars read through a pointer: one field named `value`, keyed by their C type.
    'int': {name: 'int', size: 4, fields: [{name: 'value', offset: 0, size: 4, kind: 'int'}]},
    'int[2]': {name: 'int[2]', size: 8, fields: [{name: 'value', offset: 0, size: 8, kind: 'int', count: 2, elemSize: 4}]},
  },
  options: {max_str: 4096, max_bytes: 64, comm: []},
};

const TYPES: [number, string, string][] = [
  [1, 'exec', 'et_exec'], [3, 'fork', 'et_fork'], [4, 'exit', 'et_exit'], [5, 'lost', 'et_lost'],
  [6, 'sys_enter', 'et_sys_enter'], [7, 'sys_exit', 'et_sys_exit'], [8, 'task', 'et_task_ctx'],
];
const EXEC_TAIL = [
  {name: 'filename', len_field: 'filename_len', kind: 'string'},
  {name: 'interp', len_field: 'interp_len', kind: 'string'},
  {name: 'argv', len_field: 'args_len', kind: 'strings'},
];

// Boot clock 1 s ↔ 2026-11-23T12:00:00Z, so boot 2 s is 12:00:01.
const S = 1_000_000_000;
function baseMeta(): any {
  return {
    exectrace: 'test', created: '2026-11-23T12:00:00.000Z',
    host: {arch: 'x86_64'},
    clock: {start: {boot_ns: S, realtime_ns: BigInt(Date.UTC(2026, 10, 23, 12, 0, 0)) * 1_000_000n}},
    flags: {truncated: 1, no_enter: 2, in_flight: 4},
    record_header: L.et_header,
    record_types: TYPES.map(([id, event, struct]) => ({id, event, struct, layout: L[struct], ...(event === 'exec' ? {tail: EXEC_TAIL} : {})})),
    cgroups: {4242: '/system.slice/cat.service'},
    processes: [{pid: 500, tid: 500, ppid: 1, uid: 1000, gid: 1000, euid: 1000, egid: 1000, loginuid: 1000, sessionid: 3,
      comm: 'bash', filename: '/usr/bin/bash', argv: ['bash'], cgroup: '/user.slice', ns: {pid: 4026531836}, start_time_ns: 0}],
    syscalls: SYSCALLS,
  };
}

// ---- record building, by field name only ----

const ID: Record<string, number> = Object.fromEntries(TYPES.map(([id, , s]) => [s, id]));

function put(b: Buffer, l: RecordLayout, name: string, val: number | bigint | string, index = 0): void {
  const f = l.fields.find((x) => x.name === name);
  if (!f) throw new Error(`no field ${name} in ${l.name}`);
  if (typeof val === 'string') {
    b.write(val, f.offset, f.size);
    return;
  }
  const size = f.elemSize ?? f.size;
  const at = f.offset + index * size;
  const big = BigInt.asUintN(size * 8, BigInt(val));
  for (let i = 0; i < size; i++) b[at + i] = Number((big >> BigInt(8 * i)) & 0xffn);
}

interface Hdr {ts: number; pid: number; tid: number; flags?: number; cpu?: number}

function record(struct: string, h: Hdr, fields: Record<string, number | bigint | string | (number | bigint)[]>, tail: Uint8Array = Buffer.alloc(0)): Buffer {
  const l = L[struct];
  const b = Buffer.alloc(l.size + tail.length);
  put(b, l, 'hdr.type', ID[struct]);
  put(b, l, 'hdr.flags', h.flags ?? 0);
  put(b, l, 'hdr.size', b.length);
  put(b, l, 'hdr.ts_ns', h.ts);
  put(b, l, 'hdr.pid', h.pid);
  put(b, l, 'hdr.tid', h.tid);
  put(b, l, 'hdr.cpu', h.cpu ?? 1);
  for (const [k, val] of Object.entries(fields)) {
    if (Array.isArray(val)) val.forEach((x, i) => put(b, l, k, x, i));
    else put(b, l, k, val);
  }
  b.set(tail, l.size);
  return b;
}

type Capture = Buffer | string | undefined;
/** seg_len and tail from per-argument captures (undefined: nothing captured for that argument). */
function captures(caps: Capture[]): {seg_len: number[]; tail: Buffer} {
  const bufs = caps.map((c) => (c === undefined ? Buffer.alloc(0) : typeof c === 'string' ? Buffer.from(c + '\0') : c));
  const seg = [0, 0, 0, 0, 0, 0];
  bufs.forEach((x, i) => (seg[i] = x.length));
  return {seg_len: seg, tail: Buffer.concat(bufs)};
}

function enter(h: Hdr, nr: number, args: (number | bigint)[], caps: Capture[] = [], cut = 0): Buffer {
  const {seg_len, tail} = captures(caps);
  return record('et_sys_enter', h, {nr, cut, args: pad6(args), seg_len}, tail);
}

function exit(h: Hdr, nr: number, enterTs: number, ret: number, args: (number | bigint)[], caps: Capture[] = [], cut = 0): Buffer {
  const {seg_len, tail} = captures(caps);
  return record('et_sys_exit', h, {nr, cut, ret, enter_ts_ns: enterTs, args: pad6(args), seg_len}, tail);
}

function pad6(a: (number | bigint)[]): (number | bigint)[] {
  return [...a, 0, 0, 0, 0, 0, 0].slice(0, 6);
}

function task(h: Hdr, c: {ppid: number; uid: number; comm: string; cgroup_id?: number; ns_pid?: number}): Buffer {
  return record('et_task_ctx', h, {
    'task.ppid': c.ppid, 'task.uid': c.uid, 'task.gid': c.uid, 'task.euid': c.uid, 'task.egid': c.uid,
    'task.loginuid': 1000, 'task.sessionid': 3, 'task.cgroup_id': c.cgroup_id ?? 4242, 'task.ns_pid': c.ns_pid ?? 4026531836,
    'task.ns_mnt': 4026531841, 'task.comm': c.comm,
  });
}

function procExit(h: Hdr): Buffer {
  return record('et_exit', h, {'task.ppid': 500, 'task.uid': 1000, 'task.comm': 'cat', exit_code: 0, nr_threads: 1});
}

function stat(ino: number, size: number, mode: number): Buffer {
  const b = Buffer.alloc(STAT.size);
  put(b, STAT, 'st_ino', ino);
  put(b, STAT, 'st_size', size);
  put(b, STAT, 'st_mode', mode);
  put(b, STAT, 'st_nlink', 1);
  put(b, STAT, '__pad0', 0xdead);
  return b;
}

function decodeRecords(recs: Buffer[], meta = baseMeta()): {d: Decoder; events: TraceEvent[]; human: string[]} {
  const d = new Decoder(meta);
  const events: TraceEvent[] = [];
  const emit = (e: TraceEvent) => events.push(e);
  for (const r of recs) d.feed(r, 0, r.length, emit);
  d.end(emit);
  return {d, events, human: events.map((e) => humanLine(e, d.clock, d))};
}

const CAT = {pid: 1000, tid: 1000};
const T = (s: number, us = 0) => S + s * S + us * 1000; // boot time of 12:00:0s.us
const O_RDONLY_CLOEXEC = 0o2000000;
const NAME_PTR = 0x7ffd12340000;
const BUF_PTR = 0x55550000;

t.test('a string argument that is not UTF-8: its bytes in JSON, \\xNN in human lines', async (t) => {
  const name = Buffer.from([0x2f, 0x74, 0x6d, 0x70, 0x2f, 0xff, 0xfe, 0x00]); // "/tmp/\xff\xfe"
  const {events, human} = decodeRecords([
    task({...CAT, ts: T(0)}, {ppid: 500, uid: 1000, comm: 'cat'}),
    enter({...CAT, ts: T(1)}, 257, [-100, NAME_PTR, O_RDONLY_CLOEXEC, 0], [undefined, name]),
    exit({...CAT, ts: T(1, 12)}, 257, T(1), -2, [-100, NAME_PTR, O_RDONLY_CLOEXEC, 0]),
  ]);
  t.strictSame((events[0].args as any).filename, {base64: name.subarray(0, 7).toString('base64')});
  t.equal(toJson(events[0].args), `{"dfd":-100,"filename":{"base64":"L3RtcC///g=="},"flags":524288,"mode":0}`);
  t.equal(human[0], '12:00:01.000000 cat(1000) openat(dfd=AT_FDCWD, filename="/tmp/\\xff\\xfe", flags=O_RDONLY|O_CLOEXEC, mode=0) = -2 ENOENT <0.000012>');
});

t.test('openat: signed dfd, entry string, flags; paired into one event with its context', async (t) => {
  const {events, human, d} = decodeRecords([
    task({...CAT, ts: T(0)}, {ppid: 500, uid: 1000, comm: 'cat'}),
    enter({...CAT, ts: T(1)}, 257, [-100, NAME_PTR, O_RDONLY_CLOEXEC, 0], [undefined, '/etc/hosts']),
    exit({...CAT, ts: T(1, 12)}, 257, T(1), 3, [-100, NAME_PTR, O_RDONLY_CLOEXEC, 0]),
  ]);
  t.equal(events.length, 1, 'entry + exit = one event; the task record is not shown');
  const e = events[0];
  t.strictSame(ordered(e), {
    type: 'syscall', time: '2026-11-23T12:00:01.000000000Z', ts_ns: T(1), pid: 1000, tid: 1000, ppid: 500, uid: 1000,
    gid: 1000, comm: 'cat', exec_id: null, parent_exec_id: null, euid: 1000, egid: 1000, loginuid: 1000, sessionid: 3, cgroup_id: 4242,
    cgroup: '/system.slice/cat.service', container_id: null,
    ns: {pid: 4026531836, mnt: 4026531841, net: 0, uts: 0, ipc: 0, user: 0, cgroup: 0},
    cpu: 1, syscall: 'openat', nr: 257,
    args: {dfd: -100, filename: '/etc/hosts', flags: 524288, mode: 0},
    ret: 3, duration_ns: 12000, sym: {dfd: 'AT_FDCWD', flags: 'O_RDONLY|O_CLOEXEC', mode: '0'},
  });
  t.equal(toJson(e.args), '{"dfd":-100,"filename":"/etc/hosts","flags":524288,"mode":0}', 'raw numbers in JSON');
  t.equal(human[0], '12:00:01.000000 cat(1000) openat(dfd=AT_FDCWD, filename="/etc/hosts", flags=O_RDONLY|O_CLOEXEC, mode=0) = 3 <0.000012>');
  t.strictSame(d.counts, {records: 3, decoded: 3, unknownType: 0, malformed: 0});
  t.strictSame(d.recordCounts(), {exec: 0, fork: 0, exit: 0, lost: 0, sys_enter: 1, sys_exit: 1, task: 1});
});

t.test('buffers: text when UTF-8, base64 otherwise, with len and truncated', async (t) => {
  const long = 'x'.repeat(64);
  const bin = Buffer.from([0xff, 0x00, 0x31, 0x41, 0x0a]);
  const {events, human} = decodeRecords([
    task({...CAT, ts: T(0)}, {ppid: 500, uid: 1000, comm: 'cat'}),
    exit({...CAT, ts: T(2, 3)}, 0, T(2), 6, [3, BUF_PTR, 4096], [undefined, Buffer.from('hello\n')]),
    exit({...CAT, ts: T(3, 5)}, 0, T(3), 100, [3, BUF_PTR, 4096], [undefined, Buffer.from(long)], 1 << 1),
    exit({...CAT, ts: T(4, 1)}, 0, T(4), 5, [3, BUF_PTR, 4096], [undefined, bin]),
    enter({...CAT, ts: T(5)}, 1, [1, BUF_PTR, 3], [undefined, Buffer.from('ok\n')]),
    exit({...CAT, ts: T(5, 2)}, 1, T(5), 3, [1, BUF_PTR, 3]),
    exit({...CAT, ts: T(6, 2)}, 0, T(6), -11, [3, BUF_PTR, 4096]),
  ]);
  t.strictSame(events.map((e) => (e.args as any).buf), [
    {text: 'hello\n', len: 6, truncated: false},
    {text: long, len: 100, truncated: true},
    {base64: bin.toString('base64'), len: 5, truncated: false},
    {text: 'ok\n', len: 3, truncated: false},
    BUF_PTR,
  ]);
  t.strictSame(events[1].cut, ['buf'], 'the cut bit names the argument');
  t.strictSame(human, [
    '12:00:02.000000 cat(1000) read(fd=3, buf="hello\\n", count=4096) = 6 <0.000003>',
    `12:00:03.000000 cat(1000) read(fd=3, buf="${long}"..., count=4096) = 100 <0.000005>`,
    '12:00:04.000000 cat(1000) read(fd=3, buf="\\377\\0001A\\n", count=4096) = 5 <0.000001>',
    '12:00:05.000000 cat(1000) write(fd=1, buf="ok\\n", count=3) = 3 <0.000002>',
    '12:00:06.000000 cat(1000) read(fd=3, buf=0x55550000, count=4096) = -11 EAGAIN <0.000002>',
  ]);
  t.equal(events[4].errno, 'EAGAIN');
  t.equal(cBytes(Buffer.from([0, 0x37, 7, 0x22])), '"\\0007\\7\\""', 'octal escapes never swallow a following digit');
});

t.test('structs decode with BTF field names; failed calls keep the address', async (t) => {
  const ru = Buffer.alloc(RUSAGE.size);
  put(ru, RUSAGE, 'ru_utime.tv_sec', 2);
  put(ru, RUSAGE, 'ru_utime.tv_usec', 500);
  put(ru, RUSAGE, 'ru_maxrss', 9000);
  const {events, human} = decodeRecords([
    task({...CAT, ts: T(0)}, {ppid: 500, uid: 1000, comm: 'cat'}),
    exit({...CAT, ts: T(7, 4)}, 5, T(7), 0, [3, BUF_PTR], [undefined, stat(123, 456, 0o100644)]),
    exit({...CAT, ts: T(8, 1)}, 5, T(8), -9, [42, BUF_PTR]),
    exit({...CAT, ts: T(9, 1)}, 98, T(9), 0, [0, BUF_PTR], [undefined, ru]),
    exit({...CAT, ts: T(10, 1)}, 5, T(10), 0, [3, BUF_PTR], [undefined, stat(1, 2, 0).subarray(0, 56)]),
    exit({...CAT, ts: T(11, 1)}, 293, T(11), 0, [BUF_PTR, 0o2000000], [Buffer.from([3, 0, 0, 0, 4, 0, 0, 0])]),
    exit({...CAT, ts: T(12, 1)}, 61, T(12), 1234, [-1, BUF_PTR, 0, 0], [undefined, Buffer.from([0, 1, 0, 0])]),
  ]);
  const sb = (events[0].args as any).statbuf;
  t.equal(sb.st_size, 456);
  t.equal(sb.st_ino, 123);
  t.equal(sb.st_mode, 0o100644);
  t.strictSame(Object.keys(sb), ['st_dev', 'st_ino', 'st_nlink', 'st_mode', 'st_uid', 'st_gid', 'st_rdev', 'st_size', 'st_blksize',
    'st_blocks', 'st_atime', 'st_atime_nsec', 'st_mtime', 'st_mtime_nsec', 'st_ctime', 'st_ctime_nsec'], 'padding left out');
  t.strictSame(events[1].args, {fd: 42, statbuf: BUF_PTR});
  t.equal(events[1].errno, 'EBADF');
  t.strictSame((events[2].args as any).ru, {ru_utime: {tv_sec: 2, tv_usec: 500}, ru_stime: {tv_sec: 0, tv_usec: 0}, ru_maxrss: 9000});
  t.strictSame(Object.keys((events[3].args as any).statbuf), ['st_dev', 'st_ino', 'st_nlink', 'st_mode', 'st_uid', 'st_gid', 'st_rdev', 'st_size'],
    'a short capture decodes the members it holds');
  t.strictSame(events[4].args, {fildes: [3, 4], flags: 0o2000000}, 'a one-field `value` layout is the value itself');
  t.strictSame(events[5].args, {upid: -1, stat_addr: 256, options: 0, ru: null});
  t.strictSame(human.slice(4), [
    '12:00:11.000000 cat(1000) pipe2(fildes=[3, 4], flags=O_CLOEXEC) = 0 <0.000001>',
    '12:00:12.000000 cat(1000) wait4(upid=-1, stat_addr=[256], options=0, ru=NULL) = 1234 <0.000001>',
  ]);
  t.strictSame(human.slice(0, 3), [
    '12:00:07.000000 cat(1000) fstat(fd=3, statbuf={st_ino=123, st_mode=0100644, st_size=456, ...}) = 0 <0.000004>',
    '12:00:08.000000 cat(1000) fstat(fd=42, statbuf=0x55550000) = -9 EBADF <0.000001>',
    '12:00:09.000000 cat(1000) getrusage(who=0, ru={ru_utime={tv_sec=2, tv_usec=500}, ru_stime={tv_sec=0, tv_usec=0}, ru_maxrss=9000}) = 0 <0.000001>',
  ]);
});

t.test('negative returns, unsigned registers, symbolic mmap', async (t) => {
  const {events, human} = decodeRecords([
    task({...CAT, ts: T(0)}, {ppid: 500, uid: 1000, comm: 'cat'}),
    enter({...CAT, ts: T(11)}, 257, [-100, NAME_PTR, 0o1 | 0o100 | 0o1000, 0o644], [undefined, '/nonexistent']),
    exit({...CAT, ts: T(11, 7)}, 257, T(11), -2, [-100, NAME_PTR, 0o1 | 0o100 | 0o1000, 0o644]),
    exit({...CAT, ts: T(12, 2)}, 9, T(12), 0x7f0000001000, [0, 8192, 3, 0x22, -1n, 0]),
  ]);
  t.equal(events[0].ret, -2);
  t.equal(events[0].errno, 'ENOENT');
  t.equal(human[0], '12:00:11.000000 cat(1000) openat(dfd=AT_FDCWD, filename="/nonexistent", flags=O_WRONLY|O_CREAT|O_TRUNC, mode=0644) = -2 ENOENT <0.000007>');
  t.equal((events[1].args as any).fd, 18446744073709551615n, 'an unsigned long register stays unsigned');
  t.match(toJson(events[1].args), /"fd":18446744073709551615,/);
  t.equal(human[1], '12:00:12.000000 cat(1000) mmap(addr=NULL, len=8192, prot=PROT_READ|PROT_WRITE, flags=MAP_PRIVATE|MAP_ANONYMOUS, fd=-1, off=0) = 0x7f0000001000 <0.000002>');
  t.equal(formatOpenFlags(0x40000000), 'O_RDONLY|0x40000000', 'unknown bits as a hex remainder');
  t.equal(formatOpenFlags(0o20200002), 'O_RDWR|O_TMPFILE');
  t.equal(formatOpenFlags(0o200000 | 0o400000 | 0o10000000), 'O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_PATH');
  t.equal(formatOpenFlags(0o40000, 'aarch64'), 'O_RDONLY|O_DIRECTORY', 'arm64 moves O_DIRECTORY');
  t.equal(formatProt(0), 'PROT_NONE');
  t.equal(formatProt(5 | 0x100), 'PROT_READ|PROT_EXEC|0x100');
  t.equal(formatMapFlags(0x1 | 0x10 | 0x100000), 'MAP_SHARED|MAP_FIXED|MAP_FIXED_NOREPLACE');
});

t.test('incomplete calls: no entry, no exit, in flight, and what ends them', async (t) => {
  const T1 = {pid: 1000, tid: 1001};
  const T2 = {pid: 1000, tid: 1002};
  const {events, human} = decodeRecords([
    task({...CAT, ts: T(0)}, {ppid: 500, uid: 1000, comm: 'cat'}),
    // The call began before recording: the kernel never saw its entry.
    exit({...CAT, ts: T(20), flags: 2}, 3, 0, 0, [3]),
    // Entry record lost: the registers are known (from the exit) but not the entry capture.
    exit({...CAT, ts: T(21, 9)}, 257, T(21), 4, [-100, NAME_PTR, 0, 0]),
    // Thread 1001 enters openat twice: the first never returned (killed mid-call, say).
    enter({...T1, ts: T(22)}, 257, [-100, NAME_PTR, 0, 0], [undefined, '/a']),
    enter({...T1, ts: T(23)}, 257, [-100, NAME_PTR, 0, 0], [undefined, '/b']),
    exit({...T1, ts: T(23, 1)}, 257, T(23), 5, [-100, NAME_PTR, 0, 0]),
    // Still open when recording stopped: the recorder's in-flight copy settles it.
    enter({...T2, ts: T(24)}, 257, [-100, NAME_PTR, 0, 0], [undefined, '/slow']),
    // exit_group never returns: its entry is the whole event, shown at once.
    enter({...CAT, ts: T(25)}, 231, [0]),
    procExit({...CAT, ts: T(25, 50)}),
    // Left open at the end of the stream.
    enter({pid: 500, tid: 500, ts: T(26)}, 257, [-100, NAME_PTR, 0, 0], [undefined, '/tmp/x']),
  ]);
  const brief = events.map((e) => [e.type, e.tid, e.syscall ?? '', e.incomplete ?? '', e.ret ?? null]);
  t.strictSame(brief, [
    ['syscall', 1000, 'close', 'no_entry', 0],
    ['syscall', 1000, 'openat', 'no_entry', 4],
    ['syscall', 1001, 'openat', 'no_exit', null],
    ['syscall', 1001, 'openat', '', 5],
    ['syscall', 1000, 'exit_group', 'no_exit', null],
    ['syscall', 1002, 'openat', 'no_exit', null],
    ['exit', 1000, '', '', null],
    ['syscall', 500, 'openat', 'no_exit', null],
  ]);
  t.equal(events[0].args, null, 'no entry seen: arguments unknown');
  t.equal(events[0].duration_ns, null);
  t.equal(events[0].ts_ns, T(20), 'without an entry the time is the exit time');
  t.strictSame(events[1].args, {dfd: -100, filename: NAME_PTR, flags: 0, mode: 0});
  t.equal(events[1].duration_ns, 9000);
  t.strictSame(human.filter((_, i) => i !== 6), [
    '12:00:20.000000 cat(1000) close(?) = 0 <no entry>',
    '12:00:21.000000 cat(1000) openat(dfd=AT_FDCWD, filename=0x7ffd12340000, flags=O_RDONLY, mode=0) = 4 <0.000009> <no entry>',
    '12:00:22.000000 cat(1000/1001) openat(dfd=AT_FDCWD, filename="/a", flags=O_RDONLY, mode=0) ... <unfinished: no exit>',
    '12:00:23.000000 cat(1000/1001) openat(dfd=AT_FDCWD, filename="/b", flags=O_RDONLY, mode=0) = 5 <0.000001>',
    '12:00:25.000000 cat(1000) exit_group(error_code=0) = ?',
    '12:00:24.000000 cat(1000/1002) openat(dfd=AT_FDCWD, filename="/slow", flags=O_RDONLY, mode=0) ... <unfinished: no exit>',
    '12:00:26.000000 bash(500) openat(dfd=AT_FDCWD, filename="/tmp/x", flags=O_RDONLY, mode=0) ... <unfinished: no exit>',
  ]);
});

t.test('a call that never returns is shown at its entry, once', async (t) => {
  const {events, human} = decodeRecords([
    task({...CAT, ts: T(0)}, {ppid: 500, uid: 1000, comm: 'cat'}),
    enter({...CAT, ts: T(1)}, 231, [2]),
    // The recorder's in-flight copy of the same call, had recording stopped during it.
    enter({...CAT, ts: T(1), flags: 4}, 231, [2]),
    procExit({...CAT, ts: T(1, 30)}),
  ]);
  t.strictSame(events.map((e) => [e.type, e.syscall ?? '', e.incomplete ?? '']), [['syscall', 'exit_group', 'no_exit'], ['exit', '', '']]);
  t.equal(human[0], '12:00:01.000000 cat(1000) exit_group(error_code=2) = ?');
});

t.test('in flight at stop: the recorder\'s copy marks the pending entry, or stands alone', async (t) => {
  const T2 = {pid: 1000, tid: 1002};
  const {events, human} = decodeRecords([
    task({...CAT, ts: T(0)}, {ppid: 500, uid: 1000, comm: 'cat'}),
    enter({...T2, ts: T(24)}, 257, [-100, NAME_PTR, 0, 0], [undefined, '/slow']),
    enter({...T2, ts: T(24), flags: 4}, 257, [-100, NAME_PTR, 0, 0]),
    enter({...CAT, ts: T(27), flags: 4}, 0, [0, BUF_PTR, 10]),
  ]);
  t.equal(events.length, 2, 'one event per call, not one per record');
  t.strictSame([events[0].incomplete, events[0].in_flight, (events[0].args as any).filename], ['no_exit', true, '/slow']);
  t.strictSame([events[1].syscall, events[1].in_flight, events[1].args], ['read', true, {fd: 0, buf: BUF_PTR, count: 10}]);
  t.equal(human[1], '12:00:27.000000 cat(1000) read(fd=0, buf=0x55550000, count=10) ... <unfinished: in flight when recording stopped>');
});

t.test('context: task records by thread, then the process, the exec, the /proc snapshot', async (t) => {
  const execRec = record('et_exec', {pid: 700, tid: 700, ts: T(30, 5)}, {
    'task.ppid': 500, 'task.uid': 0, 'task.comm': 'sudo', 'task.cgroup_id': 4242, filename_len: 0, interp_len: 0, args_len: 0,
  });
  const {events} = decodeRecords([
    task({...CAT, ts: T(0)}, {ppid: 500, uid: 1000, comm: 'cat'}),
    exit({pid: 1000, tid: 1003, ts: T(30, 1)}, 3, T(30), 0, [3]), // a thread without its own task record: the process's
    exit({pid: 500, tid: 500, ts: T(30, 2)}, 3, T(30), 0, [4]), // no task record at all: the /proc snapshot
    execRec,
    exit({pid: 700, tid: 700, ts: T(30, 6)}, 3, T(30), 0, [5]), // after an exec: the exec's context
    exit({...CAT, ts: T(31, 1)}, 105, T(31), 0, [0]), // setuid(0) (not described: raw registers)
    task({...CAT, ts: T(31, 2)}, {ppid: 500, uid: 0, comm: 'cat'}),
    exit({...CAT, ts: T(32, 1)}, 3, T(32), 0, [3]),
  ]);
  const sys = events.filter((e) => e.type === 'syscall');
  t.strictSame(sys.map((e) => [e.tid, e.comm, e.uid, e.cgroup ?? null]), [
    [1003, 'cat', 1000, '/system.slice/cat.service'],
    [500, 'bash', 1000, '/user.slice'],
    [700, 'sudo', 0, '/system.slice/cat.service'],
    [1000, 'cat', 1000, '/system.slice/cat.service'],
    [1000, 'cat', 0, '/system.slice/cat.service'],
  ]);
  t.strictSame([sys[3].syscall, sys[3].args], ['syscall_105', {arg0: 0, arg1: 0, arg2: 0, arg3: 0, arg4: 0, arg5: 0}],
    'a syscall without a description keeps its number and six raw registers');
});

t.test('an input unreadable at entry is read again at exit', async (t) => {
  const {events, human} = decodeRecords([
    task({...CAT, ts: T(0)}, {ppid: 500, uid: 1000, comm: 'cat'}),
    enter({...CAT, ts: T(13)}, 257, [-100, NAME_PTR, 0, 0], [], 1 << 1),
    exit({...CAT, ts: T(13, 2)}, 257, T(13), 3, [-100, NAME_PTR, 0, 0], [undefined, '/late']),
    enter({...CAT, ts: T(14)}, 257, [-100, NAME_PTR, 0, 0], [], 1 << 1),
    exit({...CAT, ts: T(14, 2)}, 257, T(14), -14, [-100, NAME_PTR, 0, 0]),
  ]);
  t.strictSame([(events[0].args as any).filename, events[0].cut], ['/late', undefined]);
  t.strictSame([(events[1].args as any).filename, events[1].cut], [NAME_PTR, ['filename']], 'still unreadable: the address, flagged');
  t.equal(human[1], '12:00:14.000000 cat(1000) openat(dfd=AT_FDCWD, filename=0x7ffd12340000, flags=O_RDONLY, mode=0) = -14 EFAULT <0.000002>');
});

t.test('exec from a thread: the others die, the execve completes under the leader\'s tid', async (t) => {
  const T1 = {pid: 1000, tid: 1001};
  const execRec = record('et_exec', {pid: 1000, tid: 1000, ts: T(40, 5)}, {
    'task.ppid': 500, 'task.uid': 1000, 'task.comm': 'ls', old_tid: 1001, argc: 1, filename_len: 8, interp_len: 8, args_len: 3,
  }, Buffer.from('/bin/ls\0/bin/ls\0ls\0'));
  const {events, human} = decodeRecords([
    task({...CAT, ts: T(0)}, {ppid: 500, uid: 1000, comm: 'cat'}),
    enter({...CAT, ts: T(39)}, 257, [-100, NAME_PTR, 0, 0], [undefined, '/blocked']), // the leader, killed by de_thread
    enter({...T1, ts: T(40)}, 59, [NAME_PTR, 0x1000, 0x2000], ['/bin/ls']),
    execRec,
    exit({...CAT, ts: T(40, 9), flags: 2}, 59, 0, 0, [NAME_PTR, 0x1000, 0x2000]),
    exit({pid: 1000, tid: 1000, ts: T(41, 1)}, 0xffffffff, T(41), -38, []),
  ]);
  t.strictSame(events.map((e) => [e.type, e.tid, e.syscall ?? e.filename, e.incomplete ?? '', e.ret ?? null]), [
    ['syscall', 1000, 'openat', 'no_exit', null],
    ['exec', 1000, '/bin/ls', '', null],
    ['syscall', 1000, 'execve', '', 0],
    ['syscall', 1000, 'syscall_4294967295', '', -38],
  ]);
  t.equal(human[2], '12:00:40.000000 ls(1000) execve(filename="/bin/ls", argv=0x1000, envp=0x2000) = 0 <0.000009>',
    'paired across the tid change, shown with the new image\'s context');
  t.equal(events[3].errno, 'ENOSYS');
});

t.test('stats: strace -c columns plus Sent/Lost/Filtered from the trailer', async (t) => {
  const {events, d} = decodeRecords([
    task({...CAT, ts: T(0)}, {ppid: 500, uid: 1000, comm: 'cat'}),
    exit({...CAT, ts: T(1, 30)}, 0, T(1), 6, [3, BUF_PTR, 4096], [undefined, Buffer.from('hello\n')]),
    exit({...CAT, ts: T(2, 10)}, 0, T(2), -11, [3, BUF_PTR, 4096]),
    enter({...CAT, ts: T(3)}, 257, [-100, NAME_PTR, 0, 0], [undefined, '/x']),
    exit({...CAT, ts: T(3, 100)}, 257, T(3), 3, [-100, NAME_PTR, 0, 0]),
    enter({...CAT, ts: T(4)}, 231, [0]),
  ]);
  const s = new StatsCollector(d.eventNames);
  for (const e of events) s.add(e);
  const trailer = {
    totals: {sys_exit: {sent: 5, lost: 2, recorded: 3}, sys_enter: {sent: 2, lost: 0, recorded: 2}},
    totals_sys: {read: {sent: 3, lost: 1, filtered: 0}, openat: {sent: 1, lost: 0, filtered: 7}, close: {sent: 1, lost: 1, filtered: 0}},
  };
  const r = s.report(trailer, null, 10, d.recordCounts());
  t.strictSame(r.syscalls, [
    {syscall: 'openat', calls: 1, errors: 0, incomplete: 0, sent: 1, lost: 0, filtered: 7, total_ns: 100000, mean_ns: 100000},
    {syscall: 'read', calls: 2, errors: 1, incomplete: 0, sent: 3, lost: 1, filtered: 0, total_ns: 40000, mean_ns: 20000},
    {syscall: 'exit_group', calls: 1, errors: 0, incomplete: 1, sent: null, lost: null, filtered: null, total_ns: 0, mean_ns: null},
    {syscall: 'close', calls: 0, errors: 0, incomplete: 0, sent: 1, lost: 1, filtered: 0, total_ns: 0, mean_ns: null},
  ]);
  t.strictSame(r.types.filter((x) => x.event.startsWith('sys_')).map((x) => [x.event, x.sent, x.recorded, x.lost]),
    [['sys_enter', 2, 2, 0], ['sys_exit', 5, 3, 2]], 'records per type from the decoder');
  t.notOk(r.types.some((x) => x.event === 'syscall'), 'syscall events are not a record type');
  const text = formatStats(r).split('\n');
  const at = text.findIndex((l) => l.startsWith('% TIME'));
  t.strictSame(text.slice(at, at + 6), [
    '% TIME     SECONDS  USECS/CALL     CALLS    ERRORS      SENT      LOST  FILTERED  SYSCALL',
    ' 71.43    0.000100         100         1                   1         0         7  openat',
    ' 28.57    0.000040          20         2         1         3         1         0  read',
    '  0.00    0.000000           -         1                   -         -         -  exit_group',
    '  0.00    0.000000           -         0                   1         1         0  close',
    '100.00    0.000140          47         4         1         -         -         -  total',
  ]);
  const none = new StatsCollector(d.eventNames);
  for (const e of events) none.add(e);
  t.strictSame(none.report(null, null).syscalls.map((x) => [x.syscall, x.sent, x.lost, x.filtered]),
    [['openat', null, null, null], ['read', null, null, null], ['exit_group', null, null, null]], 'no trailer: unknown, not zero');
});

t.test('hostile syscall metadata and records', async (t) => {
  const bad: [string, (m: any) => void, RegExp][] = [
    ['arg name is code', (m) => (m.syscalls.args[3][0].name = 'x"]; process.exit(9) //'), /bad metadata: syscalls.args\[3\]\[0\]: name is not an identifier/],
    ['__proto__ as an arg name', (m) => (m.syscalls.args[3][0].name = '__proto__'), /name is not an identifier/],
    ['struct without a layout', (m) => delete m.syscalls.structs.stat, /syscalls.args\[5\]\[1\]: statbuf: struct stat has no layout/],
    ['struct field past its end', (m) => (m.syscalls.structs.stat.fields[1].offset = 1000), /syscalls.structs.stat field 1: offset out of range/],
    ['bad size', (m) => (m.syscalls.args[3][0].size = 3), /fd: size is not 1, 2, 4 or 8/],
    ['seven args', (m) => (m.syscalls.args[3] = new Array(7).fill(m.syscalls.args[3][0])), /not a list of at most 6 arguments/],
    ['syscall number out of range', (m) => (m.syscalls.table['99999999'] = 'x'), /syscalls.table: syscall number "99999999" out of range/],
    ['sys_exit without args', (m) => (m.record_types[5].layout.fields = m.record_types[5].layout.fields.filter((f: any) => f.name !== 'args')), /record_types sys_exit: field args not found/],
  ];
  for (const [what, edit, msg] of bad) {
    const m = baseMeta();
    m.syscalls = JSON.parse(JSON.stringify(m.syscalls));
    m.record_types = JSON.parse(JSON.stringify(m.record_types));
    edit(m);
    t.throws(() => new Decoder(m), msg, what);
  }
  // A segment length past the record is clamped and flagged; a short record is counted.
  const r = exit({...CAT, ts: T(1, 1)}, 0, T(1), 6, [3, BUF_PTR, 4096], [undefined, Buffer.from('hello\n')]);
  put(r, L.et_sys_exit, 'seg_len', 1 << 30, 1);
  const short = r.subarray(0, 40);
  const {events, d} = decodeRecords([r, short]);
  t.equal(events[0].malformed, true);
  t.strictSame((events[0].args as any).buf, {text: 'hello\n', len: 6, truncated: false});
  t.strictSame(d.counts, {records: 2, decoded: 1, unknownType: 0, malformed: 1});
  // Random damage to real-looking records: events or counted skips, never an exception.
  const seeds = [
    enter({...CAT, ts: T(1)}, 257, [-100, NAME_PTR, 0, 0], [undefined, '/etc/hosts']),
    exit({...CAT, ts: T(1, 2)}, 5, T(1), 0, [3, BUF_PTR], [undefined, stat(1, 2, 3)]),
    exit({...CAT, ts: T(1, 3)}, 293, T(1), 0, [BUF_PTR, 0], [Buffer.from([3, 0, 0, 0, 4, 0, 0, 0])]),
    exit({...CAT, ts: T(1, 4)}, 0, T(1), 6, [3, BUF_PTR, 4096], [undefined, Buffer.from('hello\n')]),
    task({...CAT, ts: T(0)}, {ppid: 500, uid: 1000, comm: 'cat'}),
  ];
  let seed = 42;
  const rnd = (k: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % k;
  const fuzz = new Decoder(baseMeta());
  let emitted = 0;
  for (let i = 0; i < 5000; i++) {
    const r = Buffer.from(seeds[rnd(seeds.length)]);
    for (let k = rnd(8) + 1; k > 0; k--) r[rnd(r.length)] = rnd(256);
    const cut = rnd(4) === 0 ? r.subarray(0, rnd(r.length + 1)) : r;
    fuzz.feed(cut, 0, cut.length, (e) => {
      emitted++;
      toJson(e);
      humanLine(e, fuzz.clock, fuzz);
    });
  }
  fuzz.end(() => emitted++);
  t.ok(emitted > 0 && fuzz.counts.records === 5000, `5000 damaged records: ${emitted} events, ${fuzz.counts.malformed} malformed, ${fuzz.counts.unknownType} unknown`);
  // Without `syscalls` metadata the records still decode, by number.
  const m = baseMeta();
  delete m.syscalls;
  const plain = decodeRecords([exit({...CAT, ts: T(1, 1)}, 0, T(1), 6, [3, BUF_PTR, 4096])], m);
  t.strictSame([plain.events[0].syscall, plain.events[0].ret], ['syscall_0', 6]);
});

t.test('a trace file: events in completion order, open calls at the end', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'et-sys-'));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  const file = path.join(dir, 'sys.bin');
  const recs = [
    task({...CAT, ts: T(0)}, {ppid: 500, uid: 1000, comm: 'cat'}),
    enter({...CAT, ts: T(1)}, 257, [-100, NAME_PTR, O_RDONLY_CLOEXEC, 0], [undefined, '/etc/hosts']),
    exit({pid: 1000, tid: 1001, ts: T(1, 5)}, 0, T(1, 2), 6, [3, BUF_PTR, 4096], [undefined, Buffer.from('hello\n')]),
    exit({...CAT, ts: T(1, 12)}, 257, T(1), 3, [-100, NAME_PTR, O_RDONLY_CLOEXEC, 0]),
    enter({...CAT, ts: T(2)}, 231, [1]),
  ];
  const frames = Buffer.concat(recs.map((r) => {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(r.length);
    return Buffer.concat([len, r]);
  }));
  const w = TraceWriter.create(file, baseMeta());
  w.writeChunk(frames, {records: recs.length, firstTs: T(0), lastTs: T(2)});
  w.close({totals: {}, totals_sys: {openat: {sent: 1, lost: 0, filtered: 0}}, end_reason: 'test'});
  const tr = openTrace(file);
  const seen: string[] = [];
  forEachEvent(tr, {processes: false}, (e) => seen.push(humanLine(e, tr.decoder.clock, tr.decoder)));
  tr.reader.close();
  t.strictSame(seen, [
    '12:00:01.000002 cat(1000/1001) read(fd=3, buf="hello\\n", count=4096) = 6 <0.000003>',
    '12:00:01.000000 cat(1000) openat(dfd=AT_FDCWD, filename="/etc/hosts", flags=O_RDONLY|O_CLOEXEC, mode=0) = 3 <0.000012>',
    '12:00:02.000000 cat(1000) exit_group(error_code=1) = ?',
  ]);
  // The CLI (built into dist/ by `make test`) prints the same lines and the same JSON.
  const run = (args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'exectrace'), ...args], {encoding: 'utf8'});
  const h = run(['decode', file, '--no-processes']);
  t.equal(h.status, 0, h.stderr);
  t.strictSame(h.stdout.trim().split('\n'), seen);
  const j = run(['decode', file, '--json', '--no-processes']);
  const first = JSON.parse(j.stdout.split('\n')[0]);
  t.strictSame([first.syscall, first.args, first.comm], ['read', {fd: 3, buf: {text: 'hello\n', len: 6, truncated: false}, count: 4096}, 'cat']);
  const st = run(['stats', file, '--json']);
  t.strictSame(JSON.parse(st.stdout).syscalls.map((r: any) => [r.syscall, r.calls, r.sent]), [['openat', 1, 1], ['read', 1, null], ['exit_group', 1, null]]);
});
