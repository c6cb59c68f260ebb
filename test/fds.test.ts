// Offline: the descriptor model (src/fds) on synthetic streams. Records are built by field
// name from the layouts in bpf/exectrace.bpf.o's BTF, as a recording stores them, with the
// kernel's descriptions (et_fd) where the kernel would write them; the asserted values are
// what a user reads: fd_paths, paths, strace -yy's annotations in human lines, unknown
// (null, <?>) wherever the stream cannot tell. Plus the argument rules against tracefs, the
// names of sockets, pipes and pseudo files, and hostile input.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {btfFromElf, recordLayouts, RecordLayout} from '../src/btf';
import {Decoder, forEachEvent, humanLine, openTrace, printEvents, TraceEvent} from '../src/decode';
import {TraceWriter} from '../src/format';
import {Output} from '../src/util/output';
import {toJson} from '../src/util/json';
import {
  DIRFD_EXCEPTIONS, FD_ARG_EXCEPTIONS, FD_CHANGED, FD_DESCRIBED, FD_FLAG_DEFAULTS, fdArgsOf, FdModel, IMPLICIT_FDS, inetText,
  MAX_TABLE_FDS, PATH_EXCEPTIONS, pathArgsOf, resolvePath, targetText, type FdDesc,
} from '../src/fds';
import {syscallTable} from '../src/syscalls/table';
import {readEventFormats} from '../src/syscalls/format';
import {ensureTracefs} from '../src/record/preflight';
import {StatsCollector} from '../src/stats';

process.env.TZ = 'UTC';

const ROOT = path.resolve(__dirname, '..');
const STRUCTS = ['et_header', 'et_exec', 'et_fork', 'et_exit', 'et_lost', 'et_sys_enter', 'et_sys_exit', 'et_task_ctx', 'et_fd'];
const L: Record<string, RecordLayout> = Object.fromEntries(
  recordLayouts(btfFromElf(fs.readFileSync(path.join(ROOT, 'bpf', 'exectrace.bpf.o'))), STRUCTS).map((l) => [l.name, l]));

const TYPES: [number, string, string][] = [
  [1, 'exec', 'et_exec'], [3, 'fork', 'et_fork'], [4, 'exit', 'et_exit'], [5, 'lost', 'et_lost'],
  [6, 'sys_enter', 'et_sys_enter'], [7, 'sys_exit', 'et_sys_exit'], [8, 'task', 'et_task_ctx'], [10, 'fd', 'et_fd'],
];
const ID: Record<string, number> = Object.fromEntries(TYPES.map(([id, , s]) => [s, id]));
const TAILS: Record<string, object[]> = {
  exec: [{name: 'filename', len_field: 'filename_len', kind: 'string'}, {name: 'interp', len_field: 'interp_len', kind: 'string'},
    {name: 'argv', len_field: 'args_len', kind: 'strings'}, {name: 'cwd', len_field: 'cwd_len', kind: 'strings'}],
  fd: [{name: 'path', len_field: 'path_len', kind: 'strings'}, {name: 'addr', len_field: 'addr_len', kind: 'bytes'}],
};

const v = (name: string, type: string, size = 4, signed = false) => ({name, type, size, signed, kind: 'value'});
const str = (name: string) => ({name, type: 'const char *', size: 8, signed: false, kind: 'str', capture: 'in'});
const UFD = v('fd', 'unsigned int');
const NR = {
  read: 0, write: 1, close: 3, ioctl: 16, dup: 32, dup2: 33, socket: 41, connect: 42, accept: 43, bind: 49, fcntl: 72, chdir: 80,
  fchdir: 81, openat: 257, unshare: 272, dup3: 292, pipe2: 293, close_range: 436, getppid: 110,
};
const ARGS: Record<string, object[]> = {
  read: [UFD, v('buf', 'char *', 8), v('count', 'size_t', 8)],
  write: [UFD, v('buf', 'const char *', 8), v('count', 'size_t', 8)],
  close: [UFD],
  ioctl: [UFD, v('cmd', 'unsigned int'), v('arg', 'unsigned long', 8)],
  dup: [v('fildes', 'unsigned int')],
  dup2: [v('oldfd', 'unsigned int'), v('newfd', 'unsigned int')],
  dup3: [v('oldfd', 'unsigned int'), v('newfd', 'unsigned int'), v('flags', 'int', 4, true)],
  socket: [v('family', 'int', 4, true), v('type', 'int', 4, true), v('protocol', 'int', 4, true)],
  connect: [v('fd', 'int', 4, true), v('uservaddr', 'struct sockaddr *', 8), v('addrlen', 'int', 4, true)],
  accept: [v('fd', 'int', 4, true), v('upeer_sockaddr', 'struct sockaddr *', 8), v('upeer_addrlen', 'int *', 8)],
  bind: [v('fd', 'int', 4, true), v('umyaddr', 'struct sockaddr *', 8), v('addrlen', 'int', 4, true)],
  fcntl: [UFD, v('cmd', 'unsigned int'), v('arg', 'unsigned long', 8)],
  chdir: [str('filename')],
  fchdir: [UFD],
  openat: [v('dfd', 'int', 4, true), str('filename'), v('flags', 'int', 4, true), v('mode', 'umode_t', 2)],
  unshare: [v('unshare_flags', 'unsigned long', 8)],
  pipe2: [{name: 'fildes', type: 'int *', size: 8, signed: false, kind: 'struct', capture: 'out', struct: 'int[2]'}, v('flags', 'int', 4, true)],
  close_range: [UFD, v('max_fd', 'unsigned int'), v('flags', 'unsigned int')],
  getppid: [],
};

const S = 1_000_000_000;
function meta(o: {implicit?: string[]; processes?: object[]; filtered?: boolean} = {}): any {
  const table = Object.fromEntries(Object.entries(NR).map(([n, nr]) => [String(nr), n]));
  return {
    exectrace: 'test', created: '2026-11-23T12:00:00.000Z', host: {arch: 'x86_64'},
    clock: {start: {boot_ns: S, realtime_ns: BigInt(Date.UTC(2026, 10, 23, 12, 0, 0)) * 1_000_000n}},
    flags: {truncated: 1, no_enter: 2, inflight: 4},
    fork_flags: {files: 1, fs: 2},
    exec_flags: {cwd: 32, cwd_truncated: 64},
    fd_flags: {cloexec: 1, deleted: 2, path: 4, path_truncated: 8, name: 16},
    record_header: L.et_header,
    record_types: TYPES.map(([id, event, struct]) => ({id, event, struct, layout: L[struct], ...(TAILS[event] ? {tail: TAILS[event]} : {})})),
    processes: o.processes ?? [],
    syscalls: {
      arch: 'x86_64', table, traced: Object.values(NR), args: Object.fromEntries(Object.entries(ARGS).map(([n, a]) => [String(NR[n as keyof typeof NR]), a])),
      structs: {'int[2]': {name: 'int[2]', size: 8, fields: [{name: 'value', offset: 0, size: 8, kind: 'int', count: 2, elemSize: 4}]}},
      options: {max_str: 4096, max_bytes: 64, comm: []},
      ...(o.implicit && {implicit: o.implicit.map((n) => NR[n as keyof typeof NR])}),
    },
    ...(o.filtered && {filter: {applied: {syscall: ['write']}, source: {file: 'x.bin', sha256: '0', size: 0}, at: '', processes: []}}),
  };
}

// ---- records, by field name ----

type Val = number | bigint | string | Buffer | (number | bigint)[];

function put(b: Buffer, l: RecordLayout, name: string, val: Val): void {
  const f = l.fields.find((x) => x.name === name);
  if (!f) throw new Error(`no field ${name} in ${l.name}`);
  if (Buffer.isBuffer(val)) {
    val.copy(b, f.offset, 0, f.size);
    return;
  }
  if (typeof val === 'string') {
    b.write(val, f.offset, f.size);
    return;
  }
  const vals = Array.isArray(val) ? val : [val];
  const size = f.elemSize ?? f.size;
  vals.forEach((x, i) => {
    const big = BigInt.asUintN(size * 8, BigInt(x));
    for (let k = 0; k < size; k++) b[f.offset + i * size + k] = Number((big >> BigInt(8 * k)) & 0xffn);
  });
}

interface Hdr {ts: number; pid: number; tid?: number}

function rec(struct: string, h: Hdr, fields: Record<string, Val>, tail: Buffer = Buffer.alloc(0)): Buffer {
  const l = L[struct];
  const b = Buffer.alloc(l.size + tail.length);
  put(b, l, 'hdr.type', ID[struct]);
  put(b, l, 'hdr.size', b.length);
  put(b, l, 'hdr.ts_ns', h.ts);
  put(b, l, 'hdr.pid', h.pid);
  put(b, l, 'hdr.tid', h.tid ?? h.pid);
  for (const [k, x] of Object.entries(fields)) put(b, l, k, x);
  tail.copy(b, l.size);
  return b;
}

const nul = (xs: (string | Buffer)[]) => Buffer.concat(xs.map((x) => Buffer.concat([Buffer.isBuffer(x) ? x : Buffer.from(x), Buffer.alloc(1)])));
const T = (ms: number) => 2 * S + ms * 1_000_000;
const pad6 = (a: (number | bigint)[]) => [...a, 0, 0, 0, 0, 0, 0].slice(0, 6);

/** A call: its entry (for one with string inputs), then any et_fd records, then its exit. */
function call(pid: number, ms: number, name: keyof typeof NR, args: (number | bigint | string | null)[], ret: number,
  fds: FdRec[] = [], tid = pid): Buffer[] {
  const nr = NR[name];
  const regs = args.map((a, i) => (typeof a === 'string' || a === null ? 0x7ff000 + i : a)) as (number | bigint)[];
  const strings = args.map((a) => (typeof a === 'string' ? Buffer.from(a + '\0') : Buffer.alloc(0)));
  const out: Buffer[] = [];
  const ts = T(ms);
  if (strings.some((s) => s.length)) {
    out.push(rec('et_sys_enter', {ts, pid, tid}, {nr, args: pad6(regs), seg_len: pad6(strings.map((s) => s.length))}, Buffer.concat(strings)));
  }
  for (const f of fds) out.push(fdRecord({ts: ts + 500, pid, tid}, ts, nr, f));
  // pipe2's pair is an output capture in the exit record.
  let tail = Buffer.alloc(0);
  const seg = [0, 0, 0, 0, 0, 0];
  if (name === 'pipe2' && ret === 0) {
    tail = Buffer.alloc(8);
    tail.writeInt32LE(fds[0]?.fd ?? -1, 0);
    tail.writeInt32LE(fds[1]?.fd ?? -1, 4);
    seg[0] = 8;
  }
  out.push(rec('et_sys_exit', {ts: ts + 1000, pid, tid}, {nr, ret, enter_ts_ns: ts, args: pad6(regs), seg_len: seg}, tail));
  return out;
}

interface FdRec {
  fd: number;
  cloexec?: boolean;
  /** A path, leaf last ('/tmp/x'), or a pseudo file's name. */
  path?: string | Buffer;
  name?: string;
  deleted?: boolean;
  ino?: number;
  dev?: number;
  rdev?: number;
  mode?: number;
  magic?: number;
  sock?: {family: number; type: number; protocol: number; local?: [number[], number]; peer?: [number[], number]; peer_ino?: number; addr?: Buffer; portid?: number};
  pidfd_pid?: number;
}

const EXT4 = 0xef53;
const S_IFREG = 0o100644;
const S_IFDIR = 0o040755;
const S_IFCHR = 0o020666;
const S_IFSOCK = 0o140777;

function fdRecord(h: Hdr, enterTs: number, nr: number, f: FdRec): Buffer {
  let flags = f.cloexec ? 1 : 0;
  let tail = Buffer.alloc(0);
  if (f.path !== undefined) {
    const p = Buffer.isBuffer(f.path) ? f.path : Buffer.from(f.path);
    const parts: Buffer[] = [];
    let from = 1;
    for (let i = 1; i <= p.length; i++) if (i === p.length || p[i] === 0x2f) { if (i > from) parts.push(p.subarray(from, i)); from = i + 1; }
    tail = nul(parts.reverse());
    flags |= 4;
  } else if (f.name !== undefined) {
    tail = nul([f.name]);
    flags |= 16;
  }
  if (f.deleted) flags |= 2;
  const addr = f.sock?.addr ?? Buffer.alloc(0);
  const s = f.sock;
  const a16 = (x?: number[]) => Buffer.concat([Buffer.from(x ?? []), Buffer.alloc(16)]).subarray(0, 16);
  return rec('et_fd', h, {
    enter_ts_ns: enterTs, nr, fd: f.fd, fd_flags: flags, f_flags: 0, ino: f.ino ?? 1000 + f.fd, dev: f.dev ?? 65024, rdev: f.rdev ?? 0,
    mode: f.mode ?? (s ? S_IFSOCK : S_IFREG), nlink: 1, magic: f.magic ?? (s ? 0x534f434b : EXT4),
    family: s?.family ?? 0, sock_type: s?.type ?? 0, protocol: s?.protocol ?? 0, local_port: s?.local?.[1] ?? 0, peer_port: s?.peer?.[1] ?? 0,
    portid: s?.portid ?? 0, local_addr: a16(s?.local?.[0]), peer_addr: a16(s?.peer?.[0]), peer_ino: s?.peer_ino ?? 0, pidfd_pid: f.pidfd_pid ?? 0,
    path_len: tail.length, addr_len: addr.length,
  }, Buffer.concat([tail, addr]));
}

const task = (pid: number, ms: number, comm: string, ppid = 1) =>
  rec('et_task_ctx', {ts: T(ms), pid}, {'task.ppid': ppid, 'task.uid': 0, 'task.comm': comm});
const fork = (pid: number, ppid: number, ms: number, share = 0) =>
  rec('et_fork', {ts: T(ms), pid}, {'task.ppid': ppid, 'task.comm': 'sh', parent_tid: ppid, fork_flags: share});
function exec(pid: number, ms: number, argv: string[], cwd?: string): Buffer {
  const segs = [nul([argv[0]]), Buffer.alloc(0), nul(argv), cwd === undefined ? Buffer.alloc(0) : nul(cwd.split('/').filter(Boolean).reverse())];
  return rec('et_exec', {ts: T(ms), pid}, {
    'task.ppid': 1, 'task.comm': path.basename(argv[0]), old_tid: pid, argc: argv.length, exec_flags: cwd === undefined ? 0 : 32,
    filename_len: segs[0].length, interp_len: 0, args_len: segs[2].length, cwd_len: segs[3].length,
  }, Buffer.concat(segs));
}
const procExit = (pid: number, ms: number) => rec('et_exit', {ts: T(ms), pid}, {'task.ppid': 1, 'task.comm': 'sh', exit_code: 0, nr_threads: 1});
const lost = (ms: number, type: number, nr = 0) => rec('et_lost', {ts: T(ms), pid: 0}, {event_type: type, nr, count: 1, window_start_ns: T(ms - 1), window_end_ns: T(ms)});

/** A snapshot process with descriptors (metadata `fds`, as the recorder writes them). */
function snap(pid: number, fds: FdRec[] | undefined, cwd: string | null = '/home/u', extra: object = {}): object {
  const entry = (f: FdRec) => {
    const o: Record<string, unknown> = {fd: f.fd, fd_flags: (f.cloexec ? 1 : 0) | (f.path !== undefined ? 4 : 0) | (f.name !== undefined ? 16 : 0) | (f.deleted ? 2 : 0),
      f_flags: 0, ino: f.ino ?? 1000 + f.fd, dev: f.dev ?? 65024, rdev: f.rdev ?? 0, mode: f.mode ?? S_IFREG, nlink: 1, magic: f.magic ?? EXT4};
    if (f.path !== undefined) o.path = String(f.path).split('/').filter(Boolean).reverse();
    if (f.name !== undefined) o.path = [f.name];
    return o;
  };
  return {pid, tid: pid, ppid: 1, uid: 0, gid: 0, euid: 0, egid: 0, loginuid: 0, sessionid: 0, comm: 'sh', filename: '/bin/sh', argv: ['sh'],
    cgroup: '/', ns: {}, start_time_ns: 0, cwd, ...(fds && {fds: fds.map(entry)}), ...extra};
}

/** Decodes records (one chunk, or several with a gap between) into events, human lines and JSON. */
function decode(recs: Buffer[], m = meta(), o: {implicit?: boolean; gapAfter?: number; fdPaths?: boolean} = {}) {
  const d = new Decoder(m);
  if (o.implicit) d.implicit = true;
  if (o.fdPaths === false) d.followsFds = false;
  const events: TraceEvent[] = [];
  const emit = (e: TraceEvent) => events.push(e);
  recs.forEach((r, i) => {
    d.feed(r, 0, r.length, emit);
    if (o.gapAfter === i) d.gap();
  });
  d.end(emit);
  const sys = events.filter((e) => e.type === 'syscall');
  return {d, events, sys, human: sys.map((e) => humanLine(e, d.clock, d).replace(/^\S+ /, ''))};
}

const P = 100;

t.test('a snapshot descriptor, a write through it, and one the file never saw', async (t) => {
  const m = meta({processes: [snap(P, [{fd: 0, path: '/dev/null', mode: S_IFCHR, rdev: 0x103}, {fd: 1, path: '/srv/app/out.log'}])]});
  const {sys, human} = decode([
    task(P, 0, 'sh'),
    ...call(P, 1, 'write', [1, 0x1000, 3], 3),
    ...call(P, 2, 'read', [0, 0x1000, 10], 0),
    ...call(P, 3, 'write', [7, 0x1000, 3], -9), // EBADF: 7 is not open
    ...call(P, 4, 'write', [8, 0x1000, 3], 3), // 8 was open (the call succeeded), from where the file does not say
  ], m);
  t.strictSame(sys.map((e) => e.fd_paths), [{fd: '/srv/app/out.log'}, {fd: '/dev/null<char 1:3>'}, undefined, {fd: null}]);
  t.strictSame(human, [
    'sh(100) write(fd=1</srv/app/out.log>, buf=0x1000, count=3) = 3 <0.000001>',
    'sh(100) read(fd=0</dev/null<char 1:3>>, buf=0x1000, count=10) = 0 <0.000001>',
    'sh(100) write(fd=7, buf=0x1000, count=3) = -9 EBADF <0.000001>',
    'sh(100) write(fd=8<?>, buf=0x1000, count=3) = 3 <0.000001>',
  ]);
});

t.test('without fd paths (decode --no-fd-paths): no fd_paths, no paths, implicit calls still not shown', async (t) => {
  const m = meta({implicit: ['openat'], processes: [snap(P, [{fd: 1, path: '/x'}])]});
  const recs = [...call(P, 1, 'openat', [-100, 'y', 0, 0], 3, [{fd: 3, path: '/home/u/y'}]), ...call(P, 2, 'write', [1, 0, 1], 1), ...call(P, 3, 'write', [3, 0, 1], 1)];
  const off = decode(recs, m, {fdPaths: false});
  t.strictSame(off.sys.map((e) => [e.syscall, e.fd_paths, e.paths]), [['write', undefined, undefined], ['write', undefined, undefined]]);
  t.equal(off.d.followsFds, false);
  t.strictSame(decode(recs, m).sys.map((e) => e.fd_paths), [{fd: '/x'}, {fd: '/home/u/y'}]);
});

t.test('openat: the return value named by the kernel\'s description, the relative path made absolute, then read and close', async (t) => {
  const m = meta({processes: [snap(P, [], '/home/u')]});
  const {sys, human} = decode([
    task(P, 0, 'cat'),
    ...call(P, 1, 'openat', [-100, 'notes/todo.txt', 0, 0], 3, [{fd: 3, path: '/home/u/notes/todo.txt'}]),
    ...call(P, 2, 'read', [3, 0x1000, 10], 10),
    ...call(P, 3, 'close', [3], 0),
    ...call(P, 4, 'read', [3, 0x1000, 10], -9),
  ], m);
  t.strictSame(sys[0].fd_paths, {dfd: '/home/u', ret: '/home/u/notes/todo.txt'});
  t.strictSame(sys[0].paths, {filename: '/home/u/notes/todo.txt'});
  t.equal(human[0], 'cat(100) openat(dfd=AT_FDCWD</home/u>, filename="notes/todo.txt"</home/u/notes/todo.txt>, flags=O_RDONLY, mode=0) = 3</home/u/notes/todo.txt> <0.000001>');
  t.equal(human[1], 'cat(100) read(fd=3</home/u/notes/todo.txt>, buf=0x1000, count=10) = 10 <0.000001>');
  t.equal(human[2], 'cat(100) close(fd=3</home/u/notes/todo.txt>) = 0 <0.000001>');
  t.equal(human[3], 'cat(100) read(fd=3, buf=0x1000, count=10) = -9 EBADF <0.000001>', 'closed: no name, as strace');
  t.equal(sys[1].paths, undefined, 'no path argument, no paths');
});

t.test('the kernel\'s path, not the one passed: a symlink resolved, "(deleted)", a path cut at its limit, bytes that are not UTF-8', async (t) => {
  const m = meta({processes: [snap(P, [])]});
  const {sys} = decode([
    ...call(P, 1, 'openat', [-100, '/lib/x86_64-linux-gnu/libc.so.6', 0, 0], 3, [{fd: 3, path: '/usr/lib/x86_64-linux-gnu/libc.so.6'}]),
    ...call(P, 2, 'openat', [-100, '/tmp/gone', 0, 0], 4, [{fd: 4, path: '/tmp/gone', deleted: true}]),
    ...call(P, 3, 'openat', [-100, '/x', 0, 0], 5, [{fd: 5, path: Buffer.from('/tmp/caf\xe9', 'latin1')}]),
  ], m);
  t.strictSame(sys.map((e) => (e.fd_paths as any).ret), ['/usr/lib/x86_64-linux-gnu/libc.so.6', '/tmp/gone (deleted)', {base64: Buffer.from('/tmp/caf\xe9', 'latin1').toString('base64')}]);
  t.strictSame(sys.map((e) => e.paths), [undefined, undefined, undefined], 'absolute paths need no resolving');
});

t.test('dup2 names the new descriptor\'s old file before the call, the return value after; fcntl F_DUPFD_CLOEXEC and exec', async (t) => {
  const m = meta({processes: [snap(P, [{fd: 1, path: '/dev/pts/0', mode: S_IFCHR, rdev: 0x8800}])]});
  const {sys, human} = decode([
    ...call(P, 1, 'openat', [-100, '/tmp/x', 0o1101, 0o666], 3, [{fd: 3, path: '/tmp/x'}]),
    ...call(P, 2, 'dup2', [3, 1], 1, [{fd: 1, path: '/tmp/x'}]),
    ...call(P, 3, 'fcntl', [3, 1030, 10], 10), // F_DUPFD_CLOEXEC: followed from the arguments
    ...call(P, 4, 'write', [10, 0x1000, 3], 3),
    exec(P, 5, ['/bin/cat'], '/tmp'),
    ...call(P, 6, 'write', [1, 0x1000, 3], 3),
    ...call(P, 7, 'write', [10, 0x1000, 3], -9),
    ...call(P, 8, 'write', [3, 0x1000, 3], 3),
  ], m);
  t.equal(human[1], 'sh(100) dup2(oldfd=3</tmp/x>, newfd=1</dev/pts/0<char 136:0>>) = 1</tmp/x> <0.000001>');
  t.strictSame(sys[2].fd_paths, {fd: '/tmp/x', ret: '/tmp/x'});
  t.strictSame(sys[3].fd_paths, {fd: '/tmp/x'});
  t.strictSame(sys[4].fd_paths, {fd: '/tmp/x'}, 'fd 1 survives the exec');
  t.strictSame(sys[5].fd_paths, undefined, 'fd 10 was close-on-exec: gone, and the call says EBADF');
  t.strictSame(sys[6].fd_paths, {fd: '/tmp/x'}, 'fd 3 was not close-on-exec');
});

t.test('fork copies the table, CLONE_FILES shares it; exit drops it; a pid the file never introduced is unknown', async (t) => {
  const m = meta({processes: [snap(P, [{fd: 3, path: '/a'}, {fd: 4, path: '/b'}])]});
  const {sys} = decode([
    fork(200, P, 1), // a copy
    fork(300, P, 2, 1), // shares the table (fork_flags.files)
    ...call(200, 3, 'close', [3], 0),
    ...call(P, 4, 'write', [3, 0, 1], 1), // the parent's fd 3: still /a
    ...call(300, 5, 'close', [4], 0),
    ...call(P, 6, 'write', [4, 0, 1], -9), // closed through the shared table
    ...call(200, 7, 'write', [4, 0, 1], 1), // the copy still has it
    procExit(200, 8),
    ...call(400, 9, 'write', [1, 0, 1], 1), // never introduced: unknown
    ...call(400, 10, 'dup2', [5, 6], 6), // …its newfd not known closed either, and no description: unknown
  ], m);
  t.strictSame(sys.map((e) => e.fd_paths), [{fd: '/a'}, {fd: '/a'}, {fd: '/b'}, undefined, {fd: '/b'}, {fd: null}, {oldfd: null, newfd: null, ret: null}]);
});

t.test('close_range: closes a range, or marks it close-on-exec; and an incomplete table learns what was closed', async (t) => {
  const m = meta({processes: [snap(P, [{fd: 3, path: '/a'}, {fd: 4, path: '/b'}, {fd: 9, path: '/c'}])]});
  const r = decode([
    ...call(P, 1, 'close_range', [4, 0xffffffff, 4], 0), // CLOSE_RANGE_CLOEXEC
    exec(P, 2, ['/bin/true']),
    ...call(P, 3, 'write', [3, 0, 1], 1),
    ...call(P, 4, 'write', [4, 0, 1], -9),
    ...call(P, 5, 'close_range', [3, 0xffffffff, 0], 0),
    ...call(P, 6, 'write', [3, 0, 1], -9),
  ], m);
  t.strictSame(r.sys.map((e) => e.fd_paths), [undefined, {fd: '/a'}, undefined, undefined, undefined]);
  t.match(r.human[0], /^sh\(100\) close_range\(fd=4, max_fd=4294967295, flags=4\)/, 'close_range\'s bounds are not annotated (as strace)');
  // A process the file never introduced: dup2's newfd is unknown, unless the process closed it.
  const u = decode([
    ...call(500, 1, 'close', [1], 0),
    ...call(500, 2, 'dup2', [3, 1], 1, [{fd: 1, path: '/log'}]),
    ...call(500, 3, 'close_range', [3, 0xffffffff, 0], 0),
    ...call(500, 4, 'dup2', [1, 5], 5, [{fd: 5, path: '/log'}]),
    ...call(500, 5, 'dup2', [1, 2], 2, [{fd: 2, path: '/log'}]),
  ]);
  t.strictSame(u.sys.map((e) => e.fd_paths), [{fd: null}, {oldfd: null, ret: '/log'}, undefined, {oldfd: '/log', ret: '/log'}, {oldfd: '/log', newfd: null, ret: '/log'}],
    'fd 1 and fd 5 were known closed; fd 2 never was');
});

t.test('F_SETFD and ioctl FIOCLEX/FIONCLEX change close-on-exec', async (t) => {
  const m = meta({processes: [snap(P, [{fd: 3, path: '/a'}, {fd: 4, path: '/b', cloexec: true}, {fd: 5, path: '/c'}])]});
  const {sys} = decode([
    ...call(P, 1, 'fcntl', [3, 2, 1], 0), // F_SETFD FD_CLOEXEC
    ...call(P, 2, 'ioctl', [4, 0x5450, 0], 0), // FIONCLEX
    ...call(P, 3, 'ioctl', [5, 0x5451, 0], 0), // FIOCLEX
    exec(P, 4, ['/bin/true']),
    ...call(P, 5, 'write', [3, 0, 1], -9),
    ...call(P, 6, 'write', [4, 0, 1], 1),
    ...call(P, 7, 'write', [5, 0, 1], -9),
  ], m);
  t.strictSame(sys.slice(3).map((e) => e.fd_paths), [undefined, {fd: '/b'}, undefined]);
});

t.test('the cwd: the snapshot\'s, an exec\'s, chdir\'s and fchdir\'s description, a directory descriptor, CLONE_FS', async (t) => {
  const m = meta({processes: [snap(P, [{fd: 7, path: '/etc', mode: S_IFDIR}], '/home/u')]});
  const {sys} = decode([
    ...call(P, 1, 'openat', [-100, 'a', 0, 0], -2),
    ...call(P, 2, 'chdir', ['../v'], 0, [{fd: -100, path: '/home/v', mode: S_IFDIR}]),
    ...call(P, 3, 'openat', [-100, './b/../c', 0, 0], -2),
    ...call(P, 4, 'openat', [7, 'passwd', 0, 0], -2),
    ...call(P, 5, 'openat', [9, 'x', 0, 0], -9), // 9 is not open (EBADF): not a directory the file knows
    ...call(P, 6, 'fchdir', [7], 0, [{fd: -100, path: '/etc', mode: S_IFDIR}]),
    ...call(P, 7, 'openat', [-100, 'hosts', 0, 0], -2),
    fork(200, P, 8, 2), // shares the cwd
    ...call(200, 9, 'chdir', ['/'], 0, [{fd: -100, path: '/', mode: S_IFDIR}]),
    ...call(P, 10, 'openat', [-100, 'x', 0, 0], -2),
    exec(P, 11, ['/bin/true'], '/opt'),
    ...call(P, 12, 'openat', [-100, 'x', 0, 0], -2),
    ...call(P, 13, 'chdir', ['/nowhere'], 0), // its description is missing: unknown
    ...call(P, 14, 'openat', [-100, 'x', 0, 0], -2),
  ], m);
  t.strictSame(sys.filter((e) => e.syscall === 'openat').map((e) => e.paths?.filename), [
    '/home/u/a', '/home/v/c', '/etc/passwd', null, '/etc/hosts', '/x', '/opt/x', null,
  ]);
  t.strictSame(sys[1].paths, {filename: '/home/v'}, 'chdir\'s own argument, against the cwd before it');
});

t.test('sockets: bound, connected, accepted; a dup of a socket renamed by connect; a unix peer learned from the other end', async (t) => {
  const m = meta({processes: [snap(P, [])]});
  const lo = [127, 0, 0, 1];
  const {sys, human} = decode([
    ...call(P, 1, 'socket', [2, 1, 6], 3, [{fd: 3, ino: 5001, name: 'TCP', sock: {family: 2, type: 1, protocol: 6}}]),
    ...call(P, 2, 'dup', [3], 4, [{fd: 4, ino: 5001, name: 'TCP', sock: {family: 2, type: 1, protocol: 6}}]),
    ...call(P, 3, 'connect', [3, 0x1000, 16], 0, [{fd: 3, ino: 5001, name: 'TCP', sock: {family: 2, type: 1, protocol: 6, local: [lo, 45678], peer: [lo, 9]}}]),
    ...call(P, 4, 'write', [4, 0, 1], 1),
    ...call(P, 5, 'socket', [10, 1, 6], 5, [{fd: 5, ino: 5002, name: 'TCPv6', sock: {family: 10, type: 1, protocol: 6}}]),
    ...call(P, 6, 'bind', [5, 0x1000, 28], 0, [{fd: 5, ino: 5002, name: 'TCPv6', sock: {family: 10, type: 1, protocol: 6, local: [[...Array(15).fill(0), 1], 8080]}}]),
    ...call(P, 7, 'write', [5, 0, 1], 1),
    // A unix client connects before the server accepts: its peer has no inode yet …
    ...call(200, 8, 'connect', [6, 0x1000, 20], 0, [{fd: 6, ino: 6002, name: 'UNIX-STREAM', sock: {family: 1, type: 1, protocol: 0}}]),
    ...call(200, 9, 'write', [6, 0, 1], 1),
    // … the server's accept names both, and the client's socket learns its peer.
    ...call(P, 10, 'accept', [7, 0, 0], 8, [{fd: 8, ino: 6001, name: 'UNIX-STREAM', sock: {family: 1, type: 1, protocol: 0, peer_ino: 6002, addr: Buffer.from('/run/app.sock\0')}}]),
    ...call(200, 11, 'write', [6, 0, 1], 1),
    ...call(P, 12, 'socket', [16, 3, 0], 9, [{fd: 9, ino: 7001, name: 'NETLINK', sock: {family: 16, type: 3, protocol: 0}}]),
    ...call(P, 13, 'bind', [9, 0x1000, 12], 0, [{fd: 9, ino: 7001, name: 'NETLINK', sock: {family: 16, type: 3, protocol: 0, portid: 4242}}]),
    ...call(P, 14, 'write', [9, 0, 1], 1),
  ], m);
  t.strictSame(sys.map((e) => e.fd_paths), [
    {ret: 'TCP:[5001]'}, {fildes: 'TCP:[5001]', ret: 'TCP:[5001]'}, {fd: 'TCP:[5001]'}, {fd: 'TCP:[127.0.0.1:45678->127.0.0.1:9]'},
    {ret: 'TCPv6:[5002]'}, {fd: 'TCPv6:[5002]'}, {fd: 'TCPv6:[[::1]:8080]'},
    {fd: null}, {fd: 'UNIX-STREAM:[6002]'},
    {fd: null, ret: 'UNIX-STREAM:[6001->6002,"/run/app.sock"]'}, {fd: 'UNIX-STREAM:[6002->6001]'},
    {ret: 'NETLINK:[7001]'}, {fd: 'NETLINK:[7001]'}, {fd: 'NETLINK:[ROUTE:4242]'},
  ]);
  t.equal(human[2], 'sh(100) connect(fd=3<TCP:[5001]>, uservaddr=0x1000, addrlen=16) = 0 <0.000001>', 'the socket as it was when the call was made');
});

t.test('pipe2: both descriptors of the pair, named in the array', async (t) => {
  const {sys, human} = decode([
    ...call(P, 1, 'pipe2', [null, 0o2000000], 0, [{fd: 3, ino: 42, name: '', magic: 0x50495045, mode: 0o10600}, {fd: 4, ino: 42, name: '', magic: 0x50495045, mode: 0o10600}]),
    ...call(P, 2, 'write', [4, 0, 1], 1),
  ], meta({processes: [snap(P, [])]}));
  t.strictSame(sys[0].fd_paths, {fildes: ['pipe:[42]', 'pipe:[42]']});
  t.equal(human[0], 'sh(100) pipe2(fildes=[3<pipe:[42]>, 4<pipe:[42]>], flags=O_CLOEXEC) = 0 <0.000001>');
  t.strictSame(sys[1].fd_paths, {fd: 'pipe:[42]'});
});

t.test('loss and damage: everything known before is unknown, what comes after is known again', async (t) => {
  const m = meta({processes: [snap(P, [{fd: 3, path: '/a'}])]});
  const a = decode([
    ...call(P, 1, 'write', [3, 0, 1], 1),
    lost(2, 7, NR.getppid), // a lost getppid changes no descriptor
    ...call(P, 3, 'write', [3, 0, 1], 1),
    lost(4, 7, NR.close), // a lost close might have closed 3
    ...call(P, 5, 'write', [3, 0, 1], 1),
    ...call(P, 6, 'openat', [-100, '/b', 0, 0], 4, [{fd: 4, path: '/b'}]),
    ...call(P, 7, 'write', [4, 0, 1], 1),
    ...call(P, 8, 'openat', [-100, 'rel', 0, 0], -2),
  ], m);
  t.strictSame(a.sys.map((e) => e.fd_paths), [{fd: '/a'}, {fd: '/a'}, {fd: null}, {dfd: null, ret: '/b'}, {fd: '/b'}, {dfd: null}]);
  t.strictSame(a.sys[5].paths, {filename: null}, 'the cwd is unknown too after the loss');
  t.equal(a.human[2], 'sh(100) write(fd=3<?>, buf=NULL, count=1) = 1 <0.000001>');
  const lostFd = decode([lost(1, 10), ...call(P, 2, 'write', [3, 0, 1], 1)], m);
  t.strictSame(lostFd.sys[0].fd_paths, {fd: null}, 'a lost fd record');
  const gap = decode([...call(P, 1, 'write', [3, 0, 1], 1)].concat(call(P, 2, 'write', [3, 0, 1], 1)), m, {gapAfter: 0});
  t.strictSame(gap.sys.map((e) => e.fd_paths), [{fd: '/a'}, {fd: null}], 'a damaged chunk between them');
  // A call that returns a descriptor whose description was lost: open, but unknown.
  const noDesc = decode([...call(P, 1, 'openat', [-100, '/x', 0, 0], 5), ...call(P, 2, 'read', [5, 0, 1], 1)], m);
  t.strictSame(noDesc.sys.map((e) => e.fd_paths), [{dfd: '/home/u', ret: null}, {fd: null}]);
});

t.test('implicit calls: used, not shown; shown with implicit, and counted apart by stats', async (t) => {
  const m = meta({implicit: ['openat', 'close'], processes: [snap(P, [])]});
  const recs = [
    ...call(P, 1, 'openat', [-100, '/etc/hosts', 0, 0], 3, [{fd: 3, path: '/etc/hosts'}]),
    ...call(P, 2, 'write', [3, 0, 1], 1),
    ...call(P, 3, 'close', [3], 0),
  ];
  t.strictSame(decode(recs, m).sys.map((e) => [e.syscall, e.fd_paths]), [['write', {fd: '/etc/hosts'}]]);
  const shown = decode(recs, m, {implicit: true}).sys;
  t.strictSame(shown.map((e) => [e.syscall, e.implicit]), [['openat', true], ['write', undefined], ['close', true]]);
  const d = new Decoder(m);
  d.implicit = true;
  const stats = new StatsCollector(d.eventNames, d.clock);
  stats.implicitNames = d.implicitNames();
  d.direct = stats;
  for (const r of recs) d.feed(r, 0, r.length, (e) => stats.add(e));
  const rep = stats.report(null, null);
  t.strictSame(rep.syscalls.map((r) => [r.syscall, r.calls, r.implicit]).sort(), [['close', 1, true], ['openat', 1, true], ['write', 1, undefined]]);
  t.strictSame(rep.events.find((r) => r.event === 'syscall')?.recorded, 1, 'the syscall row counts the call asked for');
});

t.test('a filtered file is not replayed: only a call\'s own descriptions name anything', async (t) => {
  const m = meta({processes: [snap(P, [{fd: 3, path: '/a'}])], filtered: true});
  const {sys} = decode([
    ...call(P, 1, 'write', [3, 0, 1], 1),
    ...call(P, 2, 'openat', [-100, '/b', 0, 0], 4, [{fd: 4, path: '/b'}]),
    ...call(P, 3, 'write', [4, 0, 1], 1),
  ], m);
  t.strictSame(sys.map((e) => e.fd_paths), [{fd: null}, {dfd: null, ret: '/b'}, {fd: null}]);
});

t.test('decode --json writes fd_paths and paths without building the events, as toJson writes the events', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'et-fds-'));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  const file = path.join(dir, 'fds.bin');
  const recs = [
    task(P, 0, 'cat'),
    ...call(P, 1, 'openat', [-100, 'a b"c', 0, 0], 3, [{fd: 3, path: '/home/u/a b"c'}]),
    ...call(P, 2, 'pipe2', [null, 0], 0, [{fd: 4, ino: 42, name: '', magic: 0x50495045}, {fd: 5, ino: 42, name: '', magic: 0x50495045}]),
    ...call(P, 3, 'write', [9, 0, 1], 1),
    ...call(P, 4, 'openat', [-100, '/x', 0, 0], 6, [{fd: 6, path: Buffer.from('/caf\xe9', 'latin1')}]),
    // A socket named again by its bind: the bind's event says what it was, the next call what it is.
    ...call(P, 5, 'socket', [2, 1, 6], 7, [{fd: 7, ino: 5001, name: 'TCP', sock: {family: 2, type: 1, protocol: 6}}]),
    ...call(P, 6, 'write', [7, 0, 1], 1),
    ...call(P, 7, 'bind', [7, 0x1000, 16], 0, [{fd: 7, ino: 5001, name: 'TCP', sock: {family: 2, type: 1, protocol: 6, local: [[127, 0, 0, 1], 8080]}}]),
    ...call(P, 8, 'write', [7, 0, 1], 1),
  ];
  const frames = Buffer.concat(recs.map((r) => Buffer.concat([Buffer.from(Uint32Array.of(r.length).buffer), r])));
  const w = TraceWriter.create(file, meta({processes: [snap(P, [])]}));
  w.writeChunk(frames, {records: recs.length, firstTs: T(0), lastTs: T(5)});
  w.close({end_reason: 'test'});
  const built: string[] = [];
  const tr = openTrace(file);
  forEachEvent(tr, {processes: false}, (e) => e.type === 'syscall' && built.push(toJson(e)));
  tr.reader.close();
  const out = path.join(dir, 'out.json');
  const fd = fs.openSync(out, 'w');
  const tr2 = openTrace(file);
  const o = new Output(fd);
  printEvents(tr2, {json: true, processes: false}, o);
  o.flush();
  fs.closeSync(fd);
  tr2.reader.close();
  t.strictSame(fs.readFileSync(out, 'utf8').trim().split('\n'), built);
  t.match(built[0], /"args":\{[^}]*\},"fd_paths":\{"dfd":"\/home\/u","ret":"\/home\/u\/a b\\"c"\},"paths":\{"filename":"\/home\/u\/a b\\"c"\},"ret":3,/);
  const fdOf = (l: string) => JSON.parse(l).fd_paths?.fd;
  t.strictSame(built.slice(-3).map(fdOf), ['TCP:[5001]', 'TCP:[5001]', 'TCP:[127.0.0.1:8080]'], 'the bind names the socket as it was; the write after, as bound');
});

t.test('hostile input: absurd descriptions and snapshots give an answer or unknown, never a crash, and stay bounded', async (t) => {
  const huge = Array.from({length: 100}, (_, i) => `c${i}`).join('/');
  const bad = meta({processes: [
    snap(P, undefined, null, {fds: [null, 'x', {fd: 'three'}, {fd: 3, path: 'not a list', magic: 'x'}, {fd: 4, fd_flags: 4, path: [1, {}, 'ok'], ino: -5}]}),
    snap(200, undefined, null, {fds: Array.from({length: MAX_TABLE_FDS + 10}, (_, i) => ({fd: i, fd_flags: 4, path: ['f'], magic: EXT4}))}),
    snap(300, undefined, null, {cwd: {base64: 5}}),
  ]});
  const {sys} = decode([
    ...call(P, 1, 'write', [3, 0, 1], 1),
    ...call(P, 2, 'write', [4, 0, 1], 1),
    ...call(200, 3, 'write', [MAX_TABLE_FDS + 5, 0, 1], 1),
    ...call(200, 4, 'write', [7, 0, 1], 1),
    ...call(P, 5, 'openat', [-100, '/x', 0, 0], 5, [{fd: 5, path: huge}, {fd: -7, path: '/y'}, {fd: 2 ** 31 - 1, path: '/z'}]),
    ...call(P, 6, 'write', [0xffffffff, 0, 1], 1),
    ...call(300, 7, 'openat', [-100, 'rel', 0, 0], -2),
  ], bad);
  t.strictSame(sys[0].fd_paths, {fd: null}, 'a snapshot entry with a path that is not a list names nothing');
  t.strictSame(sys[1].fd_paths, {fd: '/ok'}, 'what is not text in a path is left out');
  t.strictSame(sys[2].fd_paths, {fd: null}, 'past the table limit: unknown');
  t.strictSame(sys[3].fd_paths, {fd: '/f'});
  t.equal((sys[4].fd_paths as any).ret.split('/').length, 65, 'a path of 100 components: the first 64 the reader keeps');
  t.notOk('fd_paths' in sys[5] && (sys[5].fd_paths as any).fd !== undefined, '0xffffffff is -1: not a descriptor');
  t.strictSame(sys[6].paths, {filename: null}, 'a cwd that is not text is unknown');
  // The model on its own: hostile calls in any order, bounded.
  const mdl = new FdModel(FD_FLAG_DEFAULTS);
  const desc: FdDesc = {fd_flags: 4, ino: 1, dev: 1, rdev: 0, mode: S_IFREG, magic: EXT4, family: 0, sock_type: 0, protocol: 0, local_port: 0,
    peer_port: 0, portid: 0, local_addr: null, peer_addr: null, peer_ino: 0, pidfd_pid: 0, path: ['x'], addr: null};
  for (let i = 0; i < 3 * MAX_TABLE_FDS; i++) mdl.describe(1, i, desc, false);
  t.equal(mdl.name(1, MAX_TABLE_FDS - 1, false), '/x');
  t.equal(mdl.name(1, 2 * MAX_TABLE_FDS, false), null, 'past the limit: unknown, not absent');
  mdl.fork(2, 1, false, false);
  mdl.exit(1);
  mdl.exit(1);
  mdl.closeRange(2, 0, 0xffffffff, 2);
  t.equal(mdl.name(2, 5, false), undefined);
});

// ---- names ------------------------------------------------------------------------------

t.test('names of what descriptors refer to, in strace -yy\'s spelling', async (t) => {
  const b = FD_FLAG_DEFAULTS;
  const base: FdDesc = {fd_flags: 0, ino: 77, dev: 0, rdev: 0, mode: S_IFSOCK, magic: 0x534f434b, family: 0, sock_type: 0, protocol: 0,
    local_port: 0, peer_port: 0, portid: 0, local_addr: null, peer_addr: null, peer_ino: 0, pidfd_pid: 0, path: [], addr: null};
  const a = (...x: number[]) => Uint8Array.from([...x, ...Array(16 - x.length).fill(0)]);
  const cases: [Partial<FdDesc>, string | null][] = [
    [{family: 2, sock_type: 1, protocol: 6}, 'TCP:[77]'],
    [{family: 2, sock_type: 1, protocol: 6, local_addr: a(0, 0, 0, 0), local_port: 80}, 'TCP:[0.0.0.0:80]'],
    [{family: 2, sock_type: 2, protocol: 17, local_addr: a(127, 0, 0, 1), local_port: 5353, peer_addr: a(8, 8, 8, 8), peer_port: 53}, 'UDP:[127.0.0.1:5353->8.8.8.8:53]'],
    [{family: 10, sock_type: 1, protocol: 6, local_addr: a(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), local_port: 443}, 'TCPv6:[[2001:db8::1]:443]'],
    [{family: 2, sock_type: 3, protocol: 1, path: ['RAW']}, 'RAW:[77]'],
    [{family: 1, sock_type: 2, addr: Uint8Array.from([0, 0x61, 0x62])}, 'UNIX-DGRAM:[77,@"ab"]'],
    [{family: 1, sock_type: 1, peer_ino: 78, addr: Buffer.from('/run/"q".sock\0')}, 'UNIX-STREAM:[77->78,"/run/\\"q\\".sock"]'],
    [{family: 16, protocol: 9, portid: 12}, 'NETLINK:[AUDIT:12]'],
    [{family: 40, path: ['VSOCK']}, 'VSOCK:[77]'],
    [{magic: 0x50495045, mode: 0o10600}, 'pipe:[77]'],
    [{magic: 0x09041934, mode: 0o600, fd_flags: b.name, path: ['[eventfd]']}, 'anon_inode:[eventfd]'],
    [{magic: 0x09041934, mode: 0o600, fd_flags: b.name, path: ['inotify']}, 'anon_inode:inotify'],
    [{magic: 0x6e736673, mode: 0o444, fd_flags: b.name, path: ['net'], ino: 4026531833}, 'net:[4026531833]'],
    [{magic: 0x50494446, mode: 0o600, pidfd_pid: 4242}, 'pid:4242'],
    [{magic: 0x01021994, mode: 0o100777, fd_flags: b.name, path: ['memfd:mine']}, '/memfd:mine (deleted)'],
    [{magic: EXT4, mode: 0o060660, rdev: (8 << 8) | 1, fd_flags: b.path, path: ['sda1', 'dev']}, '/dev/sda1<block 8:1>'],
    [{magic: EXT4, mode: S_IFDIR, fd_flags: b.path, path: []}, '/'],
    [{magic: EXT4, mode: S_IFREG, fd_flags: b.path | b.path_truncated, path: ['c', 'b']}, 'b/c'],
    [{magic: EXT4, mode: S_IFREG, fd_flags: 0, path: []}, null],
  ];
  for (const [d, want] of cases) t.equal(targetText({...base, ...d}, b), want, want ?? 'nothing to name');
  t.equal(inetText(a(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1), true), '::ffff:10.0.0.1');
  t.equal(inetText(a(), true), '::');
  t.equal(inetText(a(0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1), true), '1:0:0:1::1', 'the longest run of zeros is ::');
  t.equal(resolvePath('/a/b', '../../../c/./d//e'), '/c/d/e', '.. stops at the root');
  t.equal(resolvePath('b/c', 'x'), null, 'a directory the kernel could not name whole');
  t.equal(resolvePath(null, 'x'), null);
});

// ---- rules against the kernel's argument names -------------------------------------------

t.test('which arguments are descriptors and paths, on this machine\'s tracefs', async (t) => {
  let tracefs: string;
  try {
    tracefs = ensureTracefs();
  } catch (e) {
    t.skip(`no tracefs here (${(e as Error).message})`);
    return;
  }
  const table = syscallTable('x86_64');
  const names = [...table.byName.keys()];
  const {formats} = readEventFormats(tracefs, names, table.events);
  if (formats.size < 100) {
    t.skip(`only ${formats.size} format files readable`);
    return;
  }
  const args = (n: string) => (formats.get(n)?.args ?? []).map((a) => ({name: a.name, type: a.type, kind: a.type.includes('char *') && !a.type.includes('* *') ? 'str' : 'value'}));
  for (const [table_, what] of [[FD_ARG_EXCEPTIONS, 'descriptor exception'], [DIRFD_EXCEPTIONS, 'directory exception']] as const) {
    for (const [s, list] of Object.entries(table_)) for (const a of list) t.ok(args(s).some((x) => x.name === a), `${what} ${s}.${a} is an argument here`);
  }
  for (const [s, e] of Object.entries(PATH_EXCEPTIONS)) for (const a of [...(e.not ?? []), ...(e.also ?? [])]) t.ok(args(s).some((x) => x.name === a), `path exception ${s}.${a} is an argument here`);
  for (const [s, d] of Object.entries(FD_DESCRIBED)) {
    t.ok(table.byName.has(s), `${s} is in the syscall table`);
    if ('arg' in d && formats.has(s)) t.ok(args(s).some((x) => x.name === d.arg), `${s}.${d.arg} is an argument here`);
  }
  for (const s of [...FD_CHANGED, ...IMPLICIT_FDS]) t.ok(table.byName.has(s), `${s} is in the syscall table`);
  // What the rule finds, on a few calls a user would check.
  const fdNames = (s: string) => fdArgsOf(s, args(s)).map((a) => `${a.name}${a.dir ? '(dir)' : ''}`);
  t.same(fdNames('openat'), ['dfd(dir)']);
  t.same(fdNames('write'), ['fd']);
  t.same(fdNames('mmap'), ['fd']);
  t.same(fdNames('dup2'), ['oldfd', 'newfd']);
  t.same(fdNames('dup'), ['fildes']);
  t.same(fdNames('epoll_ctl'), ['epfd', 'fd']);
  t.same(fdNames('splice'), ['fd_in', 'fd_out']);
  t.same(fdNames('sendfile'), ['out_fd', 'in_fd']);
  t.same(fdNames('move_mount'), ['from_dfd(dir)', 'to_dfd(dir)']);
  t.same(fdNames('renameat2'), ['olddfd(dir)', 'newdfd(dir)']);
  t.same(fdNames('execveat'), ['fd(dir)']);
  t.same(fdNames('close_range'), [], 'bounds, not descriptors');
  t.same(fdNames('pipe2'), [], 'an int *: the output pair, named from the kernel\'s descriptions');
  t.same(fdNames('timerfd_create'), []);
  t.same(pathArgsOf('renameat2', args('renameat2')).map((p) => [p.name, p.dirIndex]), [['oldname', 0], ['newname', 2]]);
  t.same(pathArgsOf('symlinkat', args('symlinkat')).map((p) => p.name), ['newname'], 'a link\'s contents are not a path to resolve');
  t.same(pathArgsOf('inotify_add_watch', args('inotify_add_watch')).map((p) => [p.name, p.dirIndex]), [['pathname', -1]], 'the inotify fd is not a directory');
  // Every descriptor argument the rule finds is an integer.
  let n = 0;
  for (const s of formats.keys()) {
    for (const a of fdArgsOf(s, args(s))) {
      n++;
      const type = (formats.get(s)?.args ?? []).find((x) => x.name === a.name)?.type ?? '';
      if (!/^(const )?(unsigned )?(int|long)$/.test(type)) t.fail(`${s}.${a.name} is ${type}`);
    }
  }
  t.ok(n > 100, `${n} descriptor arguments found, every one an integer`);
});
