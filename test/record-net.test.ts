// Kernel tests: what programs nobody here wrote say to the network and through vectors and
// arrays, decoded by exectrace and by strace from the SAME run. Each program runs under
// `strace -f`, and exectrace records strace and everything below it (--follow); the calls of
// the processes strace traced (their pids are in its log) are paired one by one, per
// process and syscall, and every argument compared as printed: socket addresses, socket
// families, types, protocols, levels, options, MSG_* and SHUT_* flags, pollfd and
// epoll_event arrays with their events, fd_sets before and after, iovec vectors, msghdrs,
// O_* flags, return values and errnos. Where exectrace prints one value for strace's two
// (`[128 => 16]`, poll's revents after the call, select's `(in [5])`) the test compares
// each part with its own. Also: --where on the decoded addresses of the same file.

import t from 'tap';
import type {Test} from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {spawnSync} from 'node:child_process';
import {BIN, CI, kernelTest} from './lib/kernel';
import {decodedCalls, straceCalls, type TracedCall} from './lib/strace';

function cli(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {encoding: 'utf8', maxBuffer: 256 << 20});
}

/** The syscalls compared: the ones whose arguments this branch decodes, and openat's flags. */
const COMPARED = ['socket', 'socketpair', 'connect', 'bind', 'listen', 'accept', 'accept4', 'getsockname', 'getpeername', 'sendto',
  'recvfrom', 'sendmsg', 'recvmsg', 'setsockopt', 'getsockopt', 'shutdown', 'poll', 'ppoll', 'epoll_ctl', 'epoll_wait', 'epoll_pwait',
  'select', 'pselect6', 'writev', 'readv', 'openat'];

// A TCP server on 127.0.0.1 and its client (a child), AF_UNIX stream (a path) and datagram
// (an abstract name) sockets, select/poll/epoll on the accepted socket, writev/readv on a pipe.
const NET_PY = `
import os, socket, select, tempfile
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 0)); s.listen(1)
port = s.getsockname()[1]
d = tempfile.mkdtemp(); path = d + "/srv.sock"
u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); u.bind(path); u.listen(1)
name = "\\0exectrace-net-%d" % os.getpid()
g = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); g.bind(name)
pid = os.fork()
if pid == 0:
    c = socket.create_connection(("127.0.0.1", port)); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.sendall(b"ping"); c.recv(16); c.shutdown(socket.SHUT_WR); c.close()
    v = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); v.connect(path); v.sendmsg([b"he", b"llo"]); v.close()
    w = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); w.sendto(b"dgram", name)
    os._exit(0)
a, peer = s.accept()
select.select([a], [], [], 5)
p = select.poll(); p.register(a, select.POLLIN); p.poll(5000)
e = select.epoll(); e.register(a, select.EPOLLIN); e.poll(5)
a.recv(16); a.sendall(b"pong"); a.recvfrom(16)
b, _ = u.accept(); b.recvmsg(64); b.getsockname(); b.getpeername()
g.recvfrom(64)
os.waitpid(pid, 0)
r, wfd = os.pipe(); os.writev(wfd, [b"a", b"bc"]); os.readv(r, [bytearray(1), bytearray(8)])
os.unlink(path); os.rmdir(d)
`;

interface Run {
  ours: TracedCall[];
  theirs: TracedCall[];
  trace: string;
}

/** Records `cmd` under strace -f, exectrace following strace; both logs' calls of the traced processes. */
function recordUnderStrace(t: Test, dir: string, cmd: string[]): Run {
  const trace = path.join(dir, 't.bin');
  const log = path.join(dir, 'strace.txt');
  const rec = cli(['record', '--force', '--follow', '--bytes', '64', ...COMPARED.flatMap((s) => ['--syscall', s]), '-o', trace, '--',
    'strace', '-f', '-s', '64', '-o', log, ...cmd]);
  t.equal(rec.status, 0, `record exits 0 (${rec.stderr.trim().split('\n').pop()})`);
  const dec = cli(['decode', trace, '--no-processes', '--type', 'syscall', '--no-fd-paths']);
  t.equal(dec.status, 0, dec.stderr);
  const theirs = straceCalls(log).filter((c) => COMPARED.includes(c.name));
  const pids = new Set(straceCalls(log).map((c) => c.pid));
  const ours = decodedCalls(dec.stdout).filter((c) => pids.has(c.pid) && COMPARED.includes(c.name));
  return {ours, theirs, trace};
}

/** strace's in => out forms, as the value after the call: `[128 => 16]` → `[16]`, `msg_namelen=110 => 0` → `msg_namelen=0`. */
function afterCall(arg: string): string {
  return arg.replace(/^\[(\d+) => (\d+)\]$/, '[$2]').replace(/msg_namelen=\d+ => (\d+)/, 'msg_namelen=$1');
}

const SETS = [['in', 1], ['out', 2], ['except', 3]] as const;

/** What is compared of one call: [what, ours, theirs] triples. */
function parts(ours: TracedCall, theirs: TracedCall): [string, string, string][] {
  const out: [string, string, string][] = [];
  const ret = (c: TracedCall) => (c.errno !== undefined ? c.errno : c.ret);
  out.push(['return', ret(ours), ret(theirs)]);
  let mine = [...ours.args];
  let strace = theirs.args.map(afterCall);
  if (ours.name === 'openat') {
    // strace leaves out the mode when the flags do not use it. The O_* names are compared as
    // a set: constants.ts lists O_DIRECTORY before O_CLOEXEC, strace after (its table's order).
    mine = mine.slice(0, strace.length);
    const names = (f: string) => f.split('|').sort().join('|');
    mine[2] = names(mine[2]);
    strace[2] = names(strace[2]);
  }
  if (ours.name === 'poll' || ours.name === 'ppoll') {
    // Ours holds the array after the call (fd, events, revents); strace prints it before,
    // and the descriptors with revents after the return value.
    const after = mine[0];
    mine[0] = after.replace(/, revents=[^,}]+/g, '');
    if (Number(ours.ret) > 0) {
      const ready = [...after.matchAll(/\{fd=(-?\d+), events=[^,}]+, revents=([^,}]+)\}/g)].filter((m) => m[2] !== '0');
      out.push(['revents', `[${ready.map((m) => `{fd=${m[1]}, revents=${m[2]}}`).join(', ')}]`, (theirs.note ?? '').replace(/^(\[.*?\]).*$/, '$1')]);
    }
  }
  if (ours.name === 'select' || ours.name === 'pselect6') {
    // Ours: `[3 5] => [5]` (given => ready); strace: `[3 5]`, then `(in [5], left …)`.
    const ready: string[] = [];
    for (const [label, i] of SETS) {
      const m = /^(\[[\d ]*\]) => (\[[\d ]*\])$/.exec(mine[i]);
      if (!m) continue;
      mine[i] = m[1];
      if (m[2] !== '[]') ready.push(`${label} ${m[2]}`);
    }
    const note = (theirs.note ?? '').replace(/, left \{.*$/, '').replace(/^left \{.*$/, '');
    out.push(['ready', Number(ours.ret) > 0 ? ready.join(', ') : 'Timeout', Number(ours.ret) > 0 ? note : theirs.note ?? '']);
  }
  if (theirs.errno !== undefined) {
    // A failed call wrote nothing: exectrace keeps the address of a length it would have
    // returned (its value was not recorded), strace reads the length, unchanged, from it.
    strace = strace.map((a, i) => (/^\[\d+\]$/.test(a) && /^0x[0-9a-f]+$/.test(mine[i]) ? mine[i] : a));
  }
  out.push(['argument count', String(mine.length), String(strace.length)]);
  mine.forEach((a, i) => out.push([`argument ${i + 1}`, a, strace[i]]));
  return out;
}

/** Compares the calls of each process one by one, per syscall; returns how many were compared, by name. */
function compare(t: Test, run: Run): Record<string, number> {
  const count: Record<string, number> = {};
  const key = (c: TracedCall) => `${c.pid} ${c.name}`;
  const group = (list: TracedCall[]) => {
    const m = new Map<string, TracedCall[]>();
    for (const c of list) m.set(key(c), [...(m.get(key(c)) ?? []), c]);
    return m;
  };
  const ours = group(run.ours);
  const theirs = group(run.theirs);
  for (const k of new Set([...ours.keys(), ...theirs.keys()])) {
    const a = ours.get(k) ?? [];
    const b = theirs.get(k) ?? [];
    t.equal(a.length, b.length, `${k}: as many calls as strace saw`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const bad = parts(a[i], b[i]).filter(([, x, y]) => x !== y);
      t.same(bad, [], `${k} #${i + 1}: ${b[i].name}(${b[i].args.join(', ')})`);
      count[a[i].name] = (count[a[i].name] ?? 0) + 1;
    }
  }
  return count;
}

function straceMissing(t: Test): boolean {
  for (const prog of ['strace', 'python3', 'getent']) {
    if (spawnSync('sh', ['-c', `command -v ${prog}`]).status !== 0) {
      if (CI) t.fail(`${prog} is not installed`);
      else t.skip(`${prog} not installed`);
      return true;
    }
  }
  return false;
}

const where = (trace: string, expr: string) => {
  const r = cli(['decode', trace, '--json', '--no-processes', '--where', expr]);
  return r.stdout.trim() ? r.stdout.trim().split('\n').map((l) => JSON.parse(l)) : [];
};

kernelTest(t, 'kernel: python3 TCP and AF_UNIX sockets, select/poll/epoll, writev/readv, as strace -f decodes them', async (t) => {
  if (straceMissing(t)) return;
  const dir = t.testdir();
  const run = recordUnderStrace(t, dir, ['python3', '-c', NET_PY]);
  const n = compare(t, run);
  t.comment(`compared: ${JSON.stringify(n)}`);
  // Each kind of capture was met: a comparison of nothing would prove nothing.
  for (const name of ['socket', 'connect', 'bind', 'accept4', 'getsockname', 'getpeername', 'sendto', 'recvfrom', 'sendmsg', 'recvmsg',
    'setsockopt', 'shutdown', 'poll', 'epoll_ctl', 'epoll_wait', 'pselect6', 'writev', 'readv']) {
    t.ok((n[name] ?? 0) > 0, `${name} compared`);
  }
  const ours = run.ours;
  t.ok(ours.some((c) => c.name === 'connect' && /^\{sa_family=AF_INET, sin_port=htons\(\d+\), sin_addr=inet_addr\("127\.0\.0\.1"\)\}$/.test(c.args[1])),
    'the TCP client\'s connect to 127.0.0.1');
  t.ok(ours.some((c) => c.name === 'bind' && /^\{sa_family=AF_UNIX, sun_path=@"exectrace-net-\d+"\}$/.test(c.args[1])), 'the abstract name');
  t.ok(ours.some((c) => c.name === 'recvmsg' && c.args[1].includes('msg_iov=[{iov_base="hello", iov_len=64}]')), 'recvmsg\'s data');

  // The addresses are values --where can ask about.
  const port = where(run.trace, 'syscall == "getsockname" and args.usockaddr.addr == "127.0.0.1"')[0]?.args.usockaddr.port;
  t.type(port, 'number');
  const connects = where(run.trace, `args.uservaddr.port == ${port}`);
  t.same(connects.map((e) => [e.syscall, e.args.uservaddr]), [['connect', {family: 'AF_INET', addr: '127.0.0.1', port}]]);
  t.same(where(run.trace, 'args.upeer_sockaddr.family == "AF_UNIX"').map((e) => e.syscall), ['accept4']);
  t.same(where(run.trace, 'args.umyaddr.abstract =~ /^exectrace-net-/').map((e) => e.syscall), ['bind']);
  const v = where(run.trace, 'syscall == "writev"')[0]?.args.vec;
  t.same(v, {iov: [{text: 'a', len: 1}, {text: 'bc', len: 2}], len: 3, truncated: false});
  const polls = where(run.trace, 'syscall == "poll"').filter((e) => e.args.nfds === 1 && e.args.ufds[0]?.revents);
  t.ok(polls.length > 0 && polls.every((e) => e.args.ufds[0].revents === 1), 'poll\'s revents: POLLIN');
});

kernelTest(t, 'kernel: getent (nss: nscd, DNS) and cp, as strace -f decodes them', async (t) => {
  if (straceMissing(t)) return;
  const dir = t.testdir({'src.txt': 'copied by cp\n'});
  const run = recordUnderStrace(t, dir, ['sh', '-c',
    `getent hosts localhost; getent passwd root; cp ${path.join(dir, 'src.txt')} ${path.join(dir, 'dst.txt')}`]);
  const n = compare(t, run);
  t.comment(`compared: ${JSON.stringify(n)}`);
  t.ok((n.socket ?? 0) > 0 && (n.connect ?? 0) > 0, 'getent opened and connected sockets');
  t.ok((n.openat ?? 0) > 0, 'openat flags compared');
  t.equal(fs.readFileSync(path.join(dir, 'dst.txt'), 'utf8'), 'copied by cp\n');
  t.ok(run.ours.some((c) => c.name === 'openat' && c.args[1].endsWith('dst.txt"') && c.args[2] === 'O_WRONLY|O_CREAT|O_EXCL'), 'cp creates its copy');
  // nscd is not running here: each attempt is an AF_UNIX connect that fails, as strace saw.
  const nscd = run.theirs.filter((c) => c.name === 'connect' && c.args[1] === '{sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}');
  t.equal(where(run.trace, 'args.uservaddr.path == "/var/run/nscd/socket"').length, nscd.length, 'one event per connect to nscd\'s socket');
});

function kv(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/^(\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
}

kernelTest(t, 'kernel: captures at their limits are cut, bounded by the buffer the call was given, and say so', async (t) => {
  const dir = t.testdir();
  const trace = path.join(dir, 'cuts.bin');
  const errFile = path.join(dir, 'stderr.txt');
  const prog = path.join(__dirname, 'progs', 'netcuts.out');
  const rec = cli(['record', '--force', '--bytes', '16', '--comm', 'netcuts.out', '-o', trace,
    ...['accept4', 'writev', 'readv', 'poll', 'recvmsg', 'select', 'epoll_wait'].flatMap((s) => ['--syscall', s]),
    '--', 'sh', '-c', `exec ${prog} 2> ${errFile}`]);
  t.equal(rec.status, 0, rec.stderr);
  const m = kv(fs.readFileSync(errFile, 'utf8'));
  const calls = where(trace, `pid == ${m.pid}`);
  const one = (name: string) => calls.filter((e) => e.syscall === name)[0] ?? {args: {}};
  const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

  const acc = one('accept4');
  t.equal(acc.ret, Number(m.accepted));
  t.same(acc.args.upeer_sockaddr, {family: 'AF_INET', base64: b64(m.small), truncated: true},
    'the 4 bytes the kernel copied into the 4-byte buffer, not 16 read past it; too short for an AF_INET address');
  t.equal(acc.args.upeer_addrlen, Number(m.small_len), 'the length the kernel returned: 16');

  const wv = one('writev');
  t.equal(wv.ret, 40);
  t.equal(wv.args.vec.iov.length, 32, '32 of 40 elements described');
  t.same(wv.args.vec.iov.slice(0, 17).map((e: any) => e.text).join(''), 'ABCDEFGHIJKLMNOP', '--bytes 16 across the vector');
  t.same([wv.args.vec.len, wv.args.vec.truncated, wv.cut], [32, true, ['vec']]);

  const rv = one('readv');
  t.equal(rv.ret, 40);
  t.same(rv.args.vec.iov.map((e: any) => [e.text, e.len]), [['ABCDEFGHIJKLMNOP', 100], ['', 100], ['', 100]], 'the first 16 of the 40 bytes read');
  t.same([rv.args.vec.len, rv.args.vec.truncated, rv.cut], [40, true, ['vec']]);

  const pl = one('poll');
  t.equal(pl.ret, 70);
  t.equal(pl.args.ufds.length, 64, '64 of 70 pollfds');
  t.same(pl.args.ufds[63], {fd: Number(m.accepted), events: 4, revents: 4}, 'POLLOUT, and POLLOUT after the call');
  t.same(pl.cut, ['ufds']);

  const rm = one('recvmsg');
  t.equal(rm.ret, 5);
  t.same(rm.args.msg.msg_name, {family: 'AF_INET', base64: b64(m.name), truncated: true}, 'the 4 bytes of the name buffer');
  t.equal(rm.args.msg.msg_namelen, Number(m.namelen));
  t.same(rm.args.msg.msg_iov, {iov: [{text: 'dgram', len: 16}], len: 5, truncated: false});

  const sel = one('select');
  t.equal(sel.ret, 0);
  t.same(sel.args.inp, {fds: [Number(m.accepted)], ready: []}, 'what it waited for, and nothing ready at the timeout');
  t.same(sel.cut, ['inp'], 'n = 1100: the sets cut at 1024 descriptors');

  const ew = one('epoll_wait');
  t.same([ew.ret, ew.args.events], [0, []]);

  const h = cli(['decode', trace, '--no-processes', '--no-fd-paths', '--where', `pid == ${m.pid} and syscall == "writev"`]);
  t.match(h.stdout, /writev\(fd=\d+, vec=\[\{iov_base="A", iov_len=1\}, .*\{iov_base="P", iov_len=1\}, \{iov_base=""\.\.\., iov_len=1\}, .*, \.\.\.\], vlen=40\) = 40/);
});
