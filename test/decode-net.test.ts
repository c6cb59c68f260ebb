// Offline: the compound syscall captures (formats/trace-format.md §10.11) decoded from
// synthetic records — socket addresses (given, and returned through a length pointer),
// iovec vectors, pollfd and epoll_event arrays, fd_sets, msghdrs — into the JSON the event
// model gives them, the strace-like lines, and the --where queries they answer. Records are
// built by field name from the layouts of a real recording (test/lib/synth.ts); the
// `syscalls` metadata is written here as the recorder writes it (test/record-net.test.ts
// checks the recorder's own against it). Expected lines are strace 6.1's for the same calls
// (strace -f of python3 on this machine), in the house's name=value form.

import t, {type Test} from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {Decoder, forEachEvent, humanLine, openTrace, type TraceEvent} from '../src/decode';
import {toJson} from '../src/util/json';
import {cli, lines} from './lib/cli';
import {Synth} from './lib/synth';

process.env.TZ = 'UTC';
const FIXTURE = path.join(__dirname, '..', 'fixtures', 'syscalls-cat.bin');

const v = (name: string, type: string, size: number, signed: boolean) => ({name, type, size, signed, kind: 'value'});
const FD = v('fd', 'int', 4, true);
const INT_OUT = (name: string) => ({name, type: 'int *', size: 8, signed: false, kind: 'struct', capture: 'out', struct: 'int'});
const SA_IN = (name: string, lenArg: number) => ({name, type: 'struct sockaddr *', size: 8, signed: false, kind: 'sockaddr', capture: 'in', len_arg: lenArg, max: 128});
const SA_OUT = (name: string, lenArg: number) => ({name, type: 'struct sockaddr *', size: 8, signed: false, kind: 'sockaddr', capture: 'out', len_arg: lenArg, len_ptr: true, max: 128});
const VEC = (capture: 'in' | 'out') => ({name: 'vec', type: 'const struct iovec *', size: 8, signed: false, kind: 'iovec', capture, elem: 'iovec', len_arg: 2,
  ...(capture === 'out' ? {len_ret: true} : {}), max_count: 32});
const FDSET = (name: string) => ({name, type: 'fd_set *', size: 8, signed: false, kind: 'fdset', capture: 'inout', len_arg: 0, max: 128});
const MSG = (capture: 'in' | 'out') => ({name: 'msg', type: 'struct user_msghdr *', size: 8, signed: false, kind: 'msghdr', capture, struct: 'user_msghdr',
  elem: 'iovec', ...(capture === 'out' ? {len_ret: true} : {}), max: 128, max_count: 32});

// x86_64 numbers (arch/x86/entry/syscalls/syscall_64.tbl).
const NR = {poll: 7, readv: 19, writev: 20, socket: 41, connect: 42, sendto: 44, recvfrom: 45, sendmsg: 46, recvmsg: 47, shutdown: 48,
  bind: 49, getsockname: 51, socketpair: 53, setsockopt: 54, getsockopt: 55, epoll_wait: 232, pselect6: 270, accept4: 288, unknown: 300};

const SYSCALLS = {
  arch: 'x86_64',
  table: Object.fromEntries(Object.entries(NR).map(([k, n]) => [String(n), k])),
  traced: Object.values(NR).sort((a, b) => a - b),
  args: {
    [NR.poll]: [{name: 'ufds', type: 'struct pollfd *', size: 8, signed: false, kind: 'array', capture: 'inout', elem: 'pollfd', len_arg: 1, max_count: 64,
      out_fields: ['revents']}, v('nfds', 'unsigned int', 4, false), v('timeout_msecs', 'int', 4, true)],
    [NR.readv]: [v('fd', 'unsigned long', 8, false), VEC('out'), v('vlen', 'unsigned long', 8, false)],
    [NR.writev]: [v('fd', 'unsigned long', 8, false), VEC('in'), v('vlen', 'unsigned long', 8, false)],
    [NR.socket]: [v('family', 'int', 4, true), v('type', 'int', 4, true), v('protocol', 'int', 4, true)],
    [NR.socketpair]: [v('family', 'int', 4, true), v('type', 'int', 4, true), v('protocol', 'int', 4, true),
      {name: 'usockvec', type: 'int *', size: 8, signed: false, kind: 'struct', capture: 'out', struct: 'int[2]'}],
    [NR.connect]: [FD, SA_IN('uservaddr', 2), v('addrlen', 'int', 4, true)],
    [NR.bind]: [FD, SA_IN('umyaddr', 2), v('addrlen', 'int', 4, true)],
    [NR.sendto]: [FD, {name: 'buff', type: 'void *', size: 8, signed: false, kind: 'buf', capture: 'in', len_arg: 2}, v('len', 'size_t', 8, false),
      v('flags', 'unsigned int', 4, false), SA_IN('addr', 5), v('addr_len', 'int', 4, true)],
    [NR.recvfrom]: [FD, {name: 'ubuf', type: 'void *', size: 8, signed: false, kind: 'buf', capture: 'out', len_arg: 2, len_ret: true},
      v('size', 'size_t', 8, false), v('flags', 'unsigned int', 4, false), SA_OUT('addr', 5), INT_OUT('addr_len')],
    [NR.sendmsg]: [FD, MSG('in'), v('flags', 'unsigned int', 4, false)],
    [NR.recvmsg]: [FD, MSG('out'), v('flags', 'unsigned int', 4, false)],
    [NR.shutdown]: [FD, v('how', 'int', 4, true)],
    [NR.getsockname]: [FD, SA_OUT('usockaddr', 2), INT_OUT('usockaddr_len')],
    [NR.setsockopt]: [FD, v('level', 'int', 4, true), v('optname', 'int', 4, true),
      {name: 'optval', type: 'char *', size: 8, signed: false, kind: 'buf', capture: 'in', len_arg: 4}, v('optlen', 'int', 4, true)],
    [NR.getsockopt]: [FD, v('level', 'int', 4, true), v('optname', 'int', 4, true),
      {name: 'optval', type: 'char *', size: 8, signed: false, kind: 'buf', capture: 'out', len_arg: 4, len_ptr: true}, INT_OUT('optlen')],
    [NR.epoll_wait]: [v('epfd', 'int', 4, true), {name: 'events', type: 'struct epoll_event *', size: 8, signed: false, kind: 'array', capture: 'out',
      elem: 'epoll_event', len_ret: true, max_count: 64}, v('maxevents', 'int', 4, true), v('timeout', 'int', 4, true)],
    [NR.pselect6]: [v('n', 'int', 4, true), FDSET('inp'), FDSET('outp'), FDSET('exp'),
      {name: 'tsp', type: 'struct __kernel_timespec *', size: 8, signed: false, kind: 'value'}, v('sig', 'void *', 8, false)],
    [NR.accept4]: [FD, SA_OUT('upeer_sockaddr', 2), INT_OUT('upeer_addrlen'), v('flags', 'int', 4, true)],
    // A kind from a later exectrace: decoded as the value it is, its segment skipped.
    [NR.unknown]: [{name: 'what', type: 'void *', size: 8, signed: false, kind: 'hologram', capture: 'in'}, FD],
  },
  // As recordLayout gives them from /sys/kernel/btf/vmlinux (x86_64); epoll_event is packed there.
  structs: {
    'int': {name: 'int', size: 4, fields: [{name: 'value', offset: 0, size: 4, kind: 'int'}]},
    'int[2]': {name: 'int[2]', size: 8, fields: [{name: 'value', offset: 0, size: 8, kind: 'int', count: 2, elemSize: 4}]},
    'iovec': {name: 'iovec', size: 16, fields: [{name: 'iov_base', offset: 0, size: 8, kind: 'pointer'}, {name: 'iov_len', offset: 8, size: 8, kind: 'uint'}]},
    'pollfd': {name: 'pollfd', size: 8, fields: [{name: 'fd', offset: 0, size: 4, kind: 'int'}, {name: 'events', offset: 4, size: 2, kind: 'int'},
      {name: 'revents', offset: 6, size: 2, kind: 'int'}]},
    'epoll_event': {name: 'epoll_event', size: 12, fields: [{name: 'events', offset: 0, size: 4, kind: 'uint'}, {name: 'data', offset: 4, size: 8, kind: 'uint'}]},
    'user_msghdr': {name: 'user_msghdr', size: 56, fields: [
      {name: 'msg_name', offset: 0, size: 8, kind: 'pointer'}, {name: 'msg_namelen', offset: 8, size: 4, kind: 'int'},
      {name: 'msg_iov', offset: 16, size: 8, kind: 'pointer'}, {name: 'msg_iovlen', offset: 24, size: 8, kind: 'uint'},
      {name: 'msg_control', offset: 32, size: 8, kind: 'pointer'}, {name: 'msg_controllen', offset: 40, size: 8, kind: 'uint'},
      {name: 'msg_flags', offset: 48, size: 4, kind: 'uint'}]},
  },
  options: {max_str: 4096, max_bytes: 64, comm: []},
};

// ---- segment bytes, as the kernel side writes them ----

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};

function in4(port: number, a: number[]): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(2, 0);
  b.writeUInt16BE(port, 2);
  b.set(a, 4);
  return b;
}

function unix(name: string, abstract = false): Buffer {
  return Buffer.concat([Buffer.from([1, 0]), abstract ? Buffer.from([0]) : Buffer.alloc(0), Buffer.from(name)]);
}

/** An iovec capture: count, 0, the elements (base, len), then the data kept. */
function iov(elems: [number, number][], data: string | Buffer): Buffer {
  const e = Buffer.alloc(16 * elems.length);
  elems.forEach(([base, len], i) => {
    e.writeBigUInt64LE(BigInt(base), 16 * i);
    e.writeBigUInt64LE(BigInt(len), 16 * i + 8);
  });
  return Buffer.concat([u32(elems.length), u32(0), e, Buffer.from(data)]);
}

function pollfds(list: [number, number, number][]): Buffer {
  const b = Buffer.alloc(8 * list.length);
  list.forEach(([fd, ev, rev], i) => {
    b.writeInt32LE(fd, 8 * i);
    b.writeInt16LE(ev, 8 * i + 4);
    b.writeInt16LE(rev, 8 * i + 6);
  });
  return b;
}

function epollEvents(list: [number, number][]): Buffer {
  const b = Buffer.alloc(12 * list.length);
  list.forEach(([ev, data], i) => {
    b.writeUInt32LE(ev, 12 * i);
    b.writeBigUInt64LE(BigInt(data), 12 * i + 4);
  });
  return b;
}

function fdset(fds: number[], bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (const fd of fds) b[fd >> 3] |= 1 << (fd & 7);
  return b;
}

function msghdr(m: {name: number; namelen: number; iov: number; iovlen: number; controllen?: number; flags?: number}, name: Buffer, vec: Buffer): Buffer {
  const h = Buffer.alloc(56);
  h.writeBigUInt64LE(BigInt(m.name), 0);
  h.writeInt32LE(m.namelen, 8);
  h.writeBigUInt64LE(BigInt(m.iov), 16);
  h.writeBigUInt64LE(BigInt(m.iovlen), 24);
  h.writeBigUInt64LE(BigInt(m.controllen ?? 0), 40);
  h.writeUInt32LE(m.flags ?? 0, 48);
  return Buffer.concat([h, u32(name.length), name, vec]);
}

// ---- a file of calls ----

const S = new Synth(FIXTURE, {syscalls: SYSCALLS as unknown as Record<string, unknown>} as never);
const PID = 4242;
const P = 0x7ffd0000; // a user pointer
let clock = 0;

interface Call {
  nr: number;
  args: (number | bigint)[];
  ret: number;
  enter?: (Buffer | undefined)[];
  exit?: (Buffer | undefined)[];
  cut?: number;
  exitCut?: number;
}

/** The records of one call: its entry (when it has entry captures) and its exit. */
function records(c: Call): Buffer[] {
  const ts = S.at(++clock);
  const out: Buffer[] = [];
  if (c.enter) out.push(S.sys('sys_enter', {ts, pid: PID}, {nr: c.nr, cut: c.cut ?? 0}, c.args, c.enter));
  out.push(S.sys('sys_exit', {ts: ts + 7000, pid: PID}, {nr: c.nr, ret: c.ret, enter_ts_ns: ts, cut: c.exitCut ?? 0}, c.args, c.exit ?? []));
  return out;
}

function decodeCalls(t: Test, calls: Call[]): {events: TraceEvent[]; human: string[]; file: string} {
  const file = path.join(t.testdir(), 'net.bin');
  const task = S.record('task', {ts: S.at(0), pid: PID}, {'task.ppid': 1, 'task.comm': 'python3'});
  S.write(file, [[task, ...calls.flatMap(records)]]);
  const tr = openTrace(file);
  const events: TraceEvent[] = [];
  const human: string[] = [];
  forEachEvent(tr, {processes: false}, (e) => {
    events.push(e);
    human.push(humanLine(e, tr.decoder.clock, tr.decoder).replace(/^\S+ /, '').replace(/ <0\.\d+>$/, ''));
  });
  tr.reader.close();
  return {events, human, file};
}

const args = (e: TraceEvent) => e.args as Record<string, any>;

t.test('socket addresses given: connect, bind, sendto', async (t) => {
  const {events, human} = decodeCalls(t, [
    {nr: NR.connect, args: [3, P, 16], ret: 0, enter: [undefined, in4(9, [127, 0, 0, 1])]},
    {nr: NR.bind, args: [7, P, 13], ret: 0, enter: [undefined, unix('abstract-x', true)]},
    {nr: NR.sendto, args: [8, P, 1, 0, P + 64, 13], ret: 1, enter: [undefined, Buffer.from('x'), undefined, undefined, unix('abstract-x', true)]},
    {nr: NR.connect, args: [4, P, 110], ret: -2, enter: [undefined, unix('/run/nscd/socket\0')]},
  ]);
  t.strictSame(args(events[0]).uservaddr, {family: 'AF_INET', addr: '127.0.0.1', port: 9});
  t.equal(toJson(args(events[0])), '{"fd":3,"uservaddr":{"family":"AF_INET","addr":"127.0.0.1","port":9},"addrlen":16}');
  t.strictSame(args(events[1]).umyaddr, {family: 'AF_UNIX', abstract: 'abstract-x'});
  t.strictSame(args(events[3]).uservaddr, {family: 'AF_UNIX', path: '/run/nscd/socket', truncated: true},
    'addrlen 110, 19 bytes captured: the path, marked truncated');
  t.strictSame(human, [
    'python3(4242) connect(fd=3, uservaddr={sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}, addrlen=16) = 0',
    'python3(4242) bind(fd=7, umyaddr={sa_family=AF_UNIX, sun_path=@"abstract-x"}, addrlen=13) = 0',
    'python3(4242) sendto(fd=8, buff="x", len=1, flags=0, addr={sa_family=AF_UNIX, sun_path=@"abstract-x"}, addr_len=13) = 1',
    'python3(4242) connect(fd=4, uservaddr={sa_family=AF_UNIX, sun_path="/run/nscd/socket"...}, addrlen=110) = -2 ENOENT',
  ]);
});

t.test('socket addresses returned through a length pointer: accept4, getsockname, recvfrom', async (t) => {
  const {events, human} = decodeCalls(t, [
    {nr: NR.accept4, args: [3, P, P + 128, 0o2000000], ret: 5, exit: [undefined, in4(57722, [127, 0, 0, 1]), u32(16)]},
    {nr: NR.getsockname, args: [7, P, P + 128], ret: 0, exit: [undefined, unix('abstract-x', true), u32(13)]},
    {nr: NR.getsockname, args: [8, P, P + 128], ret: 0, exit: [undefined, Buffer.from([1, 0]), u32(2)]},
    // The buffer was 16 bytes, the address 28: the kernel copied 16 and returned 28.
    {nr: NR.getsockname, args: [9, P, P + 128], ret: 0, exit: [undefined, Buffer.concat([Buffer.from([10, 0, 0xed, 0xeb]), Buffer.alloc(12)]), u32(28)]},
    // recvfrom on a connected TCP socket: no address (its length 0), nothing captured.
    {nr: NR.recvfrom, args: [5, P, 10, 0, P + 64, P + 128], ret: 2, exit: [undefined, Buffer.from('hi'), undefined, undefined, undefined, u32(0)]},
    {nr: NR.getsockname, args: [3, P, P + 128], ret: -107, exit: []},
  ]);
  t.strictSame(args(events[0]), {fd: 3, upeer_sockaddr: {family: 'AF_INET', addr: '127.0.0.1', port: 57722}, upeer_addrlen: 16, flags: 0o2000000});
  t.strictSame(args(events[1]).usockaddr, {family: 'AF_UNIX', abstract: 'abstract-x'});
  t.strictSame(args(events[2]).usockaddr, {family: 'AF_UNIX'}, 'an unnamed socket');
  t.strictSame(args(events[3]).usockaddr, {family: 'AF_INET6', base64: 'CgDt6wAAAAAAAAAAAAAAAA==', truncated: true}, 'cut by the buffer: its bytes, truncated');
  t.strictSame(args(events[4]).addr, P + 64, 'no address: the pointer, as strace shows it');
  t.strictSame(args(events[5]).usockaddr, P, 'a failed call: the pointer');
  t.strictSame(human, [
    'python3(4242) accept4(fd=3, upeer_sockaddr={sa_family=AF_INET, sin_port=htons(57722), sin_addr=inet_addr("127.0.0.1")}, upeer_addrlen=[16], flags=SOCK_CLOEXEC) = 5',
    'python3(4242) getsockname(fd=7, usockaddr={sa_family=AF_UNIX, sun_path=@"abstract-x"}, usockaddr_len=[13]) = 0',
    'python3(4242) getsockname(fd=8, usockaddr={sa_family=AF_UNIX}, usockaddr_len=[2]) = 0',
    'python3(4242) getsockname(fd=9, usockaddr={sa_family=AF_INET6, sa_data="\\355\\353\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0"...}, usockaddr_len=[28]) = 0',
    'python3(4242) recvfrom(fd=5, ubuf="hi", size=10, flags=0, addr=0x7ffd0040, addr_len=[0]) = 2',
    'python3(4242) getsockname(fd=3, usockaddr=0x7ffd0000, usockaddr_len=0x7ffd0080) = -107 ENOTCONN',
  ]);
});

t.test('sockets: families, types, protocols, levels, options, shutdown, flags by name', async (t) => {
  const {human} = decodeCalls(t, [
    {nr: NR.socket, args: [2, 1 | 0o2000000, 6], ret: 3},
    {nr: NR.socket, args: [10, 2 | 0o2000000 | 0o4000, 0], ret: 4},
    {nr: NR.socket, args: [16, 3 | 0o2000000, 0], ret: 5},
    {nr: NR.socket, args: [1, 5 | 0o2000000, 0], ret: 6},
    {nr: NR.socket, args: [99, 0x40000 | 1, 7], ret: -97},
    {nr: NR.socketpair, args: [1, 1 | 0o2000000, 0, P], ret: 0, exit: [undefined, undefined, undefined, Buffer.from([7, 0, 0, 0, 8, 0, 0, 0])]},
    {nr: NR.setsockopt, args: [3, 1, 2, P, 4], ret: 0, enter: [undefined, undefined, undefined, u32(1)]},
    {nr: NR.setsockopt, args: [3, 6, 1, P, 4], ret: 0, enter: [undefined, undefined, undefined, u32(1)]},
    {nr: NR.setsockopt, args: [3, 0, 1, P, 4], ret: 0, enter: [undefined, undefined, undefined, u32(16)]},
    {nr: NR.setsockopt, args: [4, 41, 26, P, 4], ret: 0, enter: [undefined, undefined, undefined, u32(1)]},
    {nr: NR.setsockopt, args: [3, 1, 20, P, 16], ret: 0, enter: [undefined, undefined, undefined, Buffer.concat([u32(1), Buffer.alloc(12)])]},
    {nr: NR.getsockopt, args: [3, 1, 4, P, P + 8], ret: 0, exit: [undefined, undefined, undefined, u32(0), u32(4)]},
    {nr: NR.shutdown, args: [4, 1], ret: 0},
    {nr: NR.sendto, args: [4, P, 2, 0x4040, 0, 0], ret: 2, enter: [undefined, Buffer.from('hi')]},
    // Bytes that happen to be UTF-8 (a DNS id, say) are shown byte by byte, as strace shows them.
    {nr: NR.sendto, args: [4, P, 4, 0, 0, 0], ret: 4, enter: [undefined, Buffer.from([0x33, 0xea, 0x81, 0x83])]},
  ]);
  t.strictSame(human, [
    'python3(4242) socket(family=AF_INET, type=SOCK_STREAM|SOCK_CLOEXEC, protocol=IPPROTO_TCP) = 3',
    'python3(4242) socket(family=AF_INET6, type=SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK, protocol=IPPROTO_IP) = 4',
    'python3(4242) socket(family=AF_NETLINK, type=SOCK_RAW|SOCK_CLOEXEC, protocol=NETLINK_ROUTE) = 5',
    'python3(4242) socket(family=AF_UNIX, type=SOCK_SEQPACKET|SOCK_CLOEXEC, protocol=0) = 6',
    'python3(4242) socket(family=99, type=SOCK_STREAM|0x40000, protocol=7) = -97 EAFNOSUPPORT',
    'python3(4242) socketpair(family=AF_UNIX, type=SOCK_STREAM|SOCK_CLOEXEC, protocol=0, usockvec=[7, 8]) = 0',
    'python3(4242) setsockopt(fd=3, level=SOL_SOCKET, optname=SO_REUSEADDR, optval=[1], optlen=4) = 0',
    'python3(4242) setsockopt(fd=3, level=SOL_TCP, optname=TCP_NODELAY, optval=[1], optlen=4) = 0',
    'python3(4242) setsockopt(fd=3, level=SOL_IP, optname=IP_TOS, optval=[16], optlen=4) = 0',
    'python3(4242) setsockopt(fd=4, level=SOL_IPV6, optname=IPV6_V6ONLY, optval=[1], optlen=4) = 0',
    'python3(4242) setsockopt(fd=3, level=SOL_SOCKET, optname=SO_RCVTIMEO_OLD, optval="\\1\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0", optlen=16) = 0',
    'python3(4242) getsockopt(fd=3, level=SOL_SOCKET, optname=SO_ERROR, optval=[0], optlen=[4]) = 0',
    'python3(4242) shutdown(fd=4, how=SHUT_WR) = 0',
    'python3(4242) sendto(fd=4, buff="hi", len=2, flags=MSG_DONTWAIT|MSG_NOSIGNAL, addr=NULL, addr_len=0) = 2',
    'python3(4242) sendto(fd=4, buff="3\\352\\201\\203", len=4, flags=0, addr=NULL, addr_len=0) = 4',
  ]);
});

t.test('iovec vectors: writev at entry, readv at exit bounded by ret, cut by --bytes or the element cap', async (t) => {
  const {events, human} = decodeCalls(t, [
    {nr: NR.writev, args: [1, P, 2], ret: 4, enter: [undefined, iov([[P + 256, 1], [P + 512, 3]], 'abc\n')]},
    // readv into 4 + 100 bytes, 7 received: the first buffer full, 3 bytes in the second.
    {nr: NR.readv, args: [3, P, 2], ret: 7, exit: [undefined, iov([[P + 256, 4], [P + 512, 100]], 'abcdefg')]},
    // 200 bytes written, --bytes 64 kept the first 64: element 2 in part, element 3 not at all.
    {nr: NR.writev, args: [1, P, 3], ret: 200, enter: [undefined, iov([[P, 50], [P, 50], [P, 100]], 'x'.repeat(64))], cut: 2},
    // 40 elements, 32 described.
    {nr: NR.writev, args: [1, P, 40], ret: 40, enter: [undefined, iov(Array.from({length: 32}, () => [P, 1] as [number, number]), 'y'.repeat(32))], cut: 2},
    {nr: NR.readv, args: [3, P, 1], ret: -11, exit: []},
    {nr: NR.writev, args: [1, P, 1], ret: 2, enter: [undefined, iov([[P, 2]], Buffer.from([0xff, 0]))]},
  ]);
  t.strictSame(args(events[0]).vec, {iov: [{text: 'a', len: 1}, {text: 'bc\n', len: 3}], len: 4, truncated: false});
  t.equal(toJson(args(events[0]).vec), '{"iov":[{"text":"a","len":1},{"text":"bc\\n","len":3}],"len":4,"truncated":false}');
  t.strictSame(args(events[1]).vec, {iov: [{text: 'abcd', len: 4}, {text: 'efg', len: 100}], len: 7, truncated: false}, 'an output: len is ret');
  t.strictSame(args(events[2]).vec.truncated, true);
  t.strictSame(args(events[2]).vec.iov.map((e: any) => [e.text.length, e.len]), [[50, 50], [14, 50], [0, 100]]);
  t.strictSame(events[2].cut, ['vec']);
  t.strictSame([args(events[3]).vec.iov.length, args(events[3]).vec.len, args(events[3]).vec.truncated], [32, 32, true]);
  t.equal(args(events[4]).vec, P, 'a failed readv: the pointer');
  t.strictSame(args(events[5]).vec.iov, [{base64: '/wA=', len: 2}]);
  t.strictSame(human.slice(0, 2), [
    'python3(4242) writev(fd=1, vec=[{iov_base="a", iov_len=1}, {iov_base="bc\\n", iov_len=3}], vlen=2) = 4',
    'python3(4242) readv(fd=3, vec=[{iov_base="abcd", iov_len=4}, {iov_base="efg", iov_len=100}], vlen=2) = 7',
  ]);
  t.match(human[2], /^python3\(4242\) writev\(fd=1, vec=\[\{iov_base="x{50}", iov_len=50\}, \{iov_base="x{14}"\.\.\., iov_len=50\}, \{iov_base=""\.\.\., iov_len=100\}\], vlen=3\) = 200$/);
  t.match(human[3], /\{iov_base="y", iov_len=1\}, \.\.\.\], vlen=40\) = 40$/, 'elements not described: ...');
  t.equal(human[5], 'python3(4242) writev(fd=1, vec=[{iov_base="\\377\\0", iov_len=2}], vlen=1) = 2');
});

t.test('poll, epoll_wait, pselect6: arrays and sets before and after the call', async (t) => {
  const {events, human} = decodeCalls(t, [
    {nr: NR.poll, args: [P, 2, 100], ret: 1, enter: [pollfds([[5, 1, 0], [6, 5, 0]])], exit: [pollfds([[5, 1, 1], [6, 5, 0]])]},
    {nr: NR.epoll_wait, args: [6, P, 1023, 1000], ret: 1, exit: [undefined, epollEvents([[1, 5]])]},
    {nr: NR.epoll_wait, args: [6, P, 1023, 0], ret: 0, exit: []},
    {nr: NR.pselect6, args: [6, P, 0, 0, P + 512, 0], ret: 1, enter: [undefined, fdset([3, 5], 1)], exit: [undefined, fdset([5], 1)]},
    {nr: NR.pselect6, args: [6, P, 0, 0, 0, 0], ret: 0, enter: [undefined, fdset([3, 5], 1)], exit: [undefined, fdset([], 1)]},
    {nr: NR.poll, args: [P, 1, -1], ret: -4, enter: [pollfds([[0, 1, 0]])], exit: []},
  ]);
  t.strictSame(args(events[0]).ufds, [{fd: 5, events: 1, revents: 1}, {fd: 6, events: 5, revents: 0}]);
  t.strictSame(args(events[1]).events, [{events: 1, data: 5}]);
  t.strictSame(args(events[2]).events, [], 'no event: an empty array');
  t.strictSame(args(events[3]).inp, {fds: [3, 5], ready: [5]});
  t.strictSame(args(events[4]).inp, {fds: [3, 5], ready: []}, 'a timeout: nothing ready');
  t.strictSame(args(events[5]).ufds, [{fd: 0, events: 1}], 'interrupted: the entry\'s array, without revents');
  t.strictSame(human, [
    'python3(4242) poll(ufds=[{fd=5, events=POLLIN, revents=POLLIN}, {fd=6, events=POLLIN|POLLOUT, revents=0}], nfds=2, timeout_msecs=100) = 1',
    'python3(4242) epoll_wait(epfd=6, events=[{events=EPOLLIN, data={u32=5, u64=5}}], maxevents=1023, timeout=1000) = 1',
    'python3(4242) epoll_wait(epfd=6, events=[], maxevents=1023, timeout=0) = 0',
    'python3(4242) pselect6(n=6, inp=[3 5] => [5], outp=NULL, exp=NULL, tsp=0x7ffd0200, sig=NULL) = 1',
    'python3(4242) pselect6(n=6, inp=[3 5] => [], outp=NULL, exp=NULL, tsp=NULL, sig=NULL) = 0',
    'python3(4242) poll(ufds=[{fd=0, events=POLLIN}], nfds=1, timeout_msecs=-1) = -4 EINTR',
  ]);
});

t.test('msghdr: sendmsg with an address and a vector, recvmsg bounded by ret', async (t) => {
  const {events, human} = decodeCalls(t, [
    {nr: NR.sendmsg, args: [9, P, 0], ret: 1, enter: [undefined, msghdr({name: P + 64, namelen: 16, iov: P + 128, iovlen: 1}, in4(9, [127, 0, 0, 1]), iov([[P + 256, 1]], 'w'))]},
    {nr: NR.sendmsg, args: [7, P, 0x40], ret: 3, enter: [undefined, msghdr({name: 0, namelen: 0, iov: P + 128, iovlen: 2}, Buffer.alloc(0), iov([[P, 1], [P, 2]], 'xyz'))]},
    {nr: NR.recvmsg, args: [8, P, 2], ret: 3, exit: [undefined, msghdr({name: P + 64, namelen: 0, iov: P + 128, iovlen: 1}, Buffer.alloc(0), iov([[P, 10]], 'xyz'))]},
  ]);
  t.strictSame(args(events[0]).msg, {
    msg_name: {family: 'AF_INET', addr: '127.0.0.1', port: 9}, msg_namelen: 16, msg_iov: {iov: [{text: 'w', len: 1}], len: 1, truncated: false},
    msg_iovlen: 1, msg_control: 0, msg_controllen: 0, msg_flags: 0,
  });
  t.strictSame(args(events[2]).msg.msg_iov, {iov: [{text: 'xyz', len: 10}], len: 3, truncated: false});
  t.strictSame(human, [
    'python3(4242) sendmsg(fd=9, msg={msg_name={sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}, msg_namelen=16, msg_iov=[{iov_base="w", iov_len=1}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, flags=0) = 1',
    'python3(4242) sendmsg(fd=7, msg={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="x", iov_len=1}, {iov_base="yz", iov_len=2}], msg_iovlen=2, msg_controllen=0, msg_flags=0}, flags=MSG_DONTWAIT) = 3',
    'python3(4242) recvmsg(fd=8, msg={msg_name=0x7ffd0040, msg_namelen=0, msg_iov=[{iov_base="xyz", iov_len=10}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, flags=MSG_PEEK) = 3',
  ]);
});

t.test('--where on decoded addresses and arrays', async (t) => {
  const {file} = decodeCalls(t, [
    {nr: NR.connect, args: [3, P, 16], ret: 0, enter: [undefined, in4(443, [10, 0, 0, 5])]},
    {nr: NR.connect, args: [4, P, 16], ret: 0, enter: [undefined, in4(9, [127, 0, 0, 1])]},
    {nr: NR.accept4, args: [3, P, P + 128, 0], ret: 5, exit: [undefined, unix('/run/x.sock\0'), u32(14)]},
    {nr: NR.pselect6, args: [6, P, 0, 0, 0, 0], ret: 1, enter: [undefined, fdset([3, 5], 1)], exit: [undefined, fdset([5], 1)]},
  ]);
  const q = async (where: string) => {
    const r = await cli(['decode', file, '--json', '--no-processes', '--where', where]);
    t.equal(r.status, 0, r.stderr);
    return lines(r.stdout).map((l) => JSON.parse(l)).map((e) => [e.syscall, e.args.fd ?? e.args.n]);
  };
  t.strictSame(await q('args.uservaddr.port == 443'), [['connect', 3]]);
  t.strictSame(await q('args.uservaddr.addr == "127.0.0.1"'), [['connect', 4]]);
  t.strictSame(await q('args.upeer_sockaddr.family == "AF_UNIX"'), [['accept4', 3]]);
  t.strictSame(await q('args.upeer_sockaddr.path =~ /x\\.sock$/'), [['accept4', 3]]);
  t.strictSame(await q('5 in args.inp.ready'), [['pselect6', 6]]);
  t.strictSame(await q('3 in args.inp.ready'), []);
});

t.test('hostile segments: counts past the segment are cut back and flagged', async (t) => {
  const badIov = iov([[P, 4]], 'abcd');
  badIov.writeUInt32LE(1000, 0); // 1000 elements said, one there
  const badMsg = msghdr({name: P, namelen: 16, iov: P, iovlen: 1}, in4(9, [1, 2, 3, 4]), iov([[P, 1]], 'z'));
  badMsg.writeUInt32LE(5000, 56); // name_len past the segment
  const {events, human} = decodeCalls(t, [
    {nr: NR.writev, args: [1, P, 1], ret: 4, enter: [undefined, badIov]},
    {nr: NR.sendmsg, args: [9, P, 0], ret: 1, enter: [undefined, badMsg]},
    {nr: NR.poll, args: [P, 1, 0], ret: 0, enter: [Buffer.from([1, 2, 3])], exit: [Buffer.from([1, 2, 3, 4, 5])]},
    {nr: NR.sendmsg, args: [9, P, 0], ret: 1, enter: [undefined, Buffer.alloc(20)]},
    {nr: NR.unknown, args: [P, 3], ret: 0, enter: [Buffer.from('from the future')]},
  ]);
  t.equal(events.length, 5);
  t.ok(events.slice(0, 4).every((e) => e.malformed === true), 'each flagged malformed');
  t.strictSame(args(events[0]).vec.iov, [{text: 'abcd', len: 4}], 'the one element there, not 1000');
  t.strictSame(args(events[1]).msg.msg_name, {family: 'AF_INET', addr: '1.2.3.4', port: 9}, 'the address cut back to the segment');
  t.strictSame(args(events[2]).ufds, [], 'no whole pollfd');
  t.strictSame(args(events[4]), {what: P, fd: 3}, 'an unknown kind: a value');
  for (const l of human) t.type(l, 'string');

  // Random damage to records of every compound kind: events or counted skips, never an exception.
  const seeds = [
    {nr: NR.accept4, args: [3, P, P + 128, 0], ret: 5, exit: [undefined, in4(57722, [127, 0, 0, 1]), u32(16)]},
    {nr: NR.writev, args: [1, P, 2], ret: 4, enter: [undefined, iov([[P, 1], [P, 3]], 'abc\n')]},
    {nr: NR.readv, args: [3, P, 2], ret: 7, exit: [undefined, iov([[P, 4], [P, 100]], 'abcdefg')]},
    {nr: NR.poll, args: [P, 2, 100], ret: 1, enter: [pollfds([[5, 1, 0], [6, 5, 0]])], exit: [pollfds([[5, 1, 1], [6, 5, 0]])]},
    {nr: NR.epoll_wait, args: [6, P, 1023, 1000], ret: 1, exit: [undefined, epollEvents([[1, 5]])]},
    {nr: NR.pselect6, args: [6, P, 0, 0, 0, 0], ret: 1, enter: [undefined, fdset([3, 5], 1)], exit: [undefined, fdset([5], 1)]},
    {nr: NR.recvmsg, args: [8, P, 2], ret: 3, exit: [undefined, msghdr({name: P, namelen: 16, iov: P, iovlen: 1}, in4(9, [1, 2, 3, 4]), iov([[P, 10]], 'xyz'))]},
  ].flatMap(records);
  let seed = 7;
  const rnd = (k: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % k;
  const d = new Decoder(S.meta as never);
  let emitted = 0;
  const emit = (e: TraceEvent) => {
    emitted++;
    toJson(e);
    humanLine(e, d.clock, d);
  };
  for (let i = 0; i < 5000; i++) {
    const r = Buffer.from(seeds[rnd(seeds.length)]);
    for (let k = rnd(8) + 1; k > 0; k--) r[rnd(r.length)] = rnd(256);
    const cut = rnd(4) === 0 ? r.subarray(0, rnd(r.length + 1)) : r;
    d.feed(cut, 0, cut.length, emit);
  }
  d.end(emit);
  t.ok(emitted > 0 && d.counts.records === 5000, `5000 damaged records: ${emitted} events, ${d.counts.malformed} malformed`);
});

t.test('fixtures/syscalls-net.bin (test/progs/netcuts.c recorded with --bytes 16) decodes to its captures and cuts', async (t) => {
  const file = path.join(__dirname, '..', 'fixtures', 'syscalls-net.bin');
  const r = await cli(['decode', file, '--json', '--no-processes', '--type', 'syscall']);
  t.equal(r.status, 0, r.stderr);
  const ev = lines(r.stdout).map((l) => JSON.parse(l));
  const one = (name: string) => ev.find((e) => e.syscall === name);
  t.same(one('connect').args.uservaddr, {family: 'AF_INET', addr: '127.0.0.1', port: one('getsockname').args.usockaddr.port});
  t.same([one('accept4').args.upeer_sockaddr.truncated, one('accept4').args.upeer_addrlen, Buffer.from(one('accept4').args.upeer_sockaddr.base64, 'base64').length],
    [true, 16, 4], 'the 4-byte buffer the address was returned in');
  t.same([one('writev').args.vec.iov.length, one('writev').cut], [32, ['vec']]);
  t.same(one('readv').args.vec.iov.map((e: any) => e.text), ['ABCDEFGHIJKLMNOP', '', '']);
  t.same([one('poll').args.ufds.length, one('poll').cut], [64, ['ufds']]);
  t.same(one('recvmsg').args.msg.msg_iov, {iov: [{text: 'dgram', len: 16}], len: 5, truncated: false});
  t.same([one('select').args.inp.ready, one('select').cut], [[], ['inp']]);
  t.same(one('epoll_wait').args.events, []);
  const h = await cli(['decode', file, '--no-processes', '--where', 'syscall == "poll"']);
  t.match(h.stdout, /poll\(ufds=\[\{fd=5, events=POLLOUT, revents=POLLOUT\}, (\{fd=5, events=POLLOUT, revents=POLLOUT\}, ){63}\.\.\.\], nfds=70, timeout_msecs=0\) = 70/,
    '64 pollfds, then ... for the 6 left out');
});
