// Kernel tests of descriptor naming (fd_paths, paths) against strace -f -yy, on programs
// we did not write: cp, getent, a shell redirect, python3 TCP and AF_UNIX clients and
// servers, writev. Same run: `exectrace record --syscalls --follow -- strace -f -yy -o s.txt
// -- PROG` records PROG under strace, so both see the same calls on the same descriptors
// (the same pipe and socket inodes, the same ephemeral ports) — two runs would differ in
// exactly what is compared. strace's own calls (ptrace, its output file) are not compared:
// only the processes strace traced. Every annotation strace puts on a descriptor argument
// or return value must be the one exectrace gives for the same call, and exectrace must
// name nothing strace leaves unannotated.

import t, {type Test} from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {spawnSync} from 'node:child_process';
import {BIN, ROOT, kernelTest} from './lib/kernel';
import {straceYyCalls, type StraceCall} from './lib/strace';

type Ev = Record<string, any>;

function cli(args: string[], cwd?: string) {
  return spawnSync(process.execPath, [BIN, ...args], {encoding: 'utf8', maxBuffer: 512 << 20, cwd});
}

/** What comparing one recording with strace found. */
interface Comparison {
  /** strace calls paired with exectrace events (same thread, same syscall, in order). */
  paired: number;
  unpaired: StraceCall[];
  /** Annotations compared, and those that agreed. */
  compared: number;
  agreed: number;
  /** Where both name a descriptor differently: strace's line and exectrace's name. */
  differ: string[];
  /** Where strace names a descriptor and exectrace does not (absent or unknown). */
  missing: string[];
  /** Where exectrace names a descriptor strace does not annotate. */
  extra: string[];
  /** Per syscall, annotations that agreed (what the README shows). */
  bySyscall: Map<string, number>;
}

const int32 = (v: unknown): number | null => (typeof v === 'number' ? v | 0 : null);

/** exectrace's name for descriptor `fd` among the event's descriptor arguments, or undefined when it names none. */
function oursFor(e: Ev, fd: number): {key: string; text: unknown} | undefined {
  const names = e.fd_paths ?? {};
  for (const [k, v] of Object.entries(names)) {
    if (k === 'ret') continue;
    const a = e.args?.[k];
    // A pair (pipe's), a pollfd array (each element's fd) or an fd_set (the fds given): names in the same order.
    const inner = Array.isArray(a) ? a.map((x) => (typeof x === 'object' && x !== null ? (x as {fd?: unknown}).fd : x))
      : typeof a === 'object' && a !== null && Array.isArray((a as {fds?: unknown}).fds) ? (a as {fds: unknown[]}).fds : null;
    if (inner !== null && Array.isArray(v)) {
      const i = inner.findIndex((x) => int32(x) === fd);
      if (i >= 0) return {key: `${k}[${i}]`, text: v[i]};
    } else if (int32(a) === fd) return {key: k, text: v};
  }
  return undefined;
}

function compare(events: Ev[], strace: Map<number, StraceCall[]>): Comparison {
  const c: Comparison = {paired: 0, unpaired: [], compared: 0, agreed: 0, differ: [], missing: [], extra: [], bySyscall: new Map()};
  const byTid = new Map<number, Ev[]>();
  for (const e of events) {
    if (e.type !== 'syscall') continue;
    const list = byTid.get(e.tid) ?? [];
    list.push(e);
    byTid.set(e.tid, list);
  }
  for (const list of byTid.values()) list.sort((a, b) => a.ts_ns - b.ts_ns);
  for (const [tid, calls] of strace) {
    const ours = byTid.get(tid) ?? [];
    let at = 0;
    for (const s of calls) {
      // The next event of this thread for the same syscall; strace may not show every call
      // (the traced child's own set-up before its exec) and we record strace's too.
      let j = at;
      while (j < ours.length && j < at + 64 && ours[j].syscall !== s.name) j++;
      if (j >= ours.length || ours[j].syscall !== s.name) {
        c.unpaired.push(s);
        continue;
      }
      const e = ours[j];
      at = j + 1;
      c.paired++;
      const seen = new Set<string>();
      const check = (want: string, got: unknown, what: string): void => {
        c.compared++;
        if (got === want) {
          c.agreed++;
          c.bySyscall.set(s.name, (c.bySyscall.get(s.name) ?? 0) + 1);
        } else if (got === undefined || got === null) {
          c.missing.push(`${what}: strace <${want}>, exectrace ${got === null ? '<?>' : 'none'}: ${s.line}`);
        } else {
          c.differ.push(`${what}: strace <${want}>, exectrace <${String(got)}>: ${s.line}`);
        }
      };
      for (const a of s.args) {
        const o = oursFor(e, a.fd);
        if (o) seen.add(o.key);
        check(a.text, o?.text, `${s.name} arg ${a.fd}`);
      }
      if (s.ret) check(s.ret.text, e.fd_paths?.ret, `${s.name} ret ${s.ret.fd}`);
      for (const [k, v] of Object.entries(e.fd_paths ?? {})) {
        if (k === 'ret' ? s.ret !== null : seen.has(k) || (Array.isArray(v) && seen.has(`${k}[0]`))) continue;
        if (v !== null) c.extra.push(`${s.name} ${k}: exectrace <${JSON.stringify(v)}>, strace none: ${s.line}`);
      }
    }
  }
  return c;
}

/**
 * Records `prog` under strace -f -yy (record's flags first), decodes it, and compares every
 * call strace shows. `cwd`: where the program runs (relative paths are resolved against it).
 */
function underStrace(t: Test, dir: string, name: string, prog: string[], record: string[] = ['--syscalls'], straceArgs: string[] = []) {
  const trace = path.join(dir, `${name}.bin`);
  const out = path.join(dir, `${name}.strace`);
  const rec = cli(['record', ...record, '--follow', '--force', '-o', trace, '--',
    'strace', '-f', '-yy', '-qq', ...straceArgs, '-o', out, '--', ...prog], dir);
  t.equal(rec.status, 0, `record -- strace -- ${prog.join(' ')}: ${rec.stderr}`);
  const dec = cli(['decode', trace, '--json', '--no-processes']);
  t.equal(dec.status, 0, dec.stderr);
  const events: Ev[] = dec.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const c = compare(events, straceYyCalls(out));
  t.comment(`${name}: ${c.paired} calls paired with strace's (${c.unpaired.length} not), ${c.agreed} of ${c.compared} annotations agree; by syscall: ${[...c.bySyscall].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  t.same(c.differ, [], `${name}: every descriptor strace names, exectrace names the same`);
  t.same(c.missing, [], `${name}: no descriptor strace names is unknown to exectrace`);
  t.same(c.extra, [], `${name}: exectrace names no descriptor strace leaves bare`);
  return {c, events, trace, strace: straceYyCalls(out)};
}

const hasStrace = spawnSync('strace', ['-V']).status === 0;
const hasPython = spawnSync('python3', ['-c', 'pass']).status === 0;

kernelTest(t, 'kernel: descriptors named as strace -f -yy names them, on programs we did not write', async (t) => {
  if (!hasStrace || !hasPython) {
    t.fail(`needs strace and python3 (make deps installs them): strace ${hasStrace}, python3 ${hasPython}`);
    return;
  }
  const dir = t.testdir({'src.txt': 'a file to copy\n'.repeat(100)});

  t.test('cp copies a file: open, read, write, close by path', async (t) => {
    const {c, events} = underStrace(t, dir, 'cp', ['cp', 'src.txt', 'copy.txt']);
    t.ok(c.compared >= 10, `${c.compared} annotations compared`);
    // GNU cp copies in the kernel: copy_file_range(fd_in, …, fd_out, …).
    const cfr = events.find((e) => e.syscall === 'copy_file_range' && e.comm === 'cp');
    t.same([cfr?.fd_paths?.fd_in, cfr?.fd_paths?.fd_out], [path.join(dir, 'src.txt'), path.join(dir, 'copy.txt')],
      'copy_file_range: from src.txt to copy.txt, by their absolute paths');
    const o = events.find((e) => e.syscall === 'openat' && e.args.filename === 'src.txt');
    t.equal(o?.paths?.filename, path.join(dir, 'src.txt'), 'the relative path made absolute against the cwd');
    t.equal(o?.fd_paths?.dfd, dir, 'AT_FDCWD names the cwd');
  });

  t.test('getent passwd root: files, and a unix socket to nscd that fails to connect', async (t) => {
    const {c} = underStrace(t, dir, 'getent', ['getent', 'passwd', 'root']);
    t.ok(c.compared >= 5, `${c.compared} annotations compared`);
  });

  t.test('a shell redirect: exec 3>x; echo hi >&3 (dup2 onto stdout and back)', async (t) => {
    const {c, events} = underStrace(t, dir, 'redirect', ['sh', '-c', 'exec 3>redirect.txt; echo hi >&3']);
    t.ok(c.compared >= 5, `${c.compared} annotations compared`);
    const w = events.find((e) => e.syscall === 'write' && e.args.buf?.text === 'hi\n');
    t.equal(w?.fd_paths?.fd, path.join(dir, 'redirect.txt'), 'echo wrote redirect.txt through fd 1');
  });

  t.test('python3: a TCP client and server on 127.0.0.1, both ends of each socket', async (t) => {
    fs.writeFileSync(path.join(dir, 'tcp.py'), [
      'import os, socket',
      's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)',
      'port = s.getsockname()[1]',
      'if os.fork() == 0:',
      '    c = socket.create_connection(("127.0.0.1", port)); c.sendall(b"ping"); c.recv(4); c.close(); os._exit(0)',
      'a, _ = s.accept(); a.recv(4); a.sendall(b"pong"); a.close(); os.wait()',
    ].join('\n'));
    const {c, events} = underStrace(t, dir, 'tcp', ['python3', 'tcp.py']);
    t.ok((c.bySyscall.get('sendto') ?? 0) >= 2 && (c.bySyscall.get('accept4') ?? 0) >= 1, 'sendto and accept4 compared');
    const acc = events.find((e) => e.syscall === 'accept4' && e.ret >= 0);
    t.match(acc?.fd_paths?.ret, /^TCP:\[127\.0\.0\.1:\d+->127\.0\.0\.1:\d+\]$/, 'the accepted socket: both ends');
  });

  t.test('python3: an AF_UNIX client and server, inodes, peers and the bound path', async (t) => {
    fs.writeFileSync(path.join(dir, 'unix.py'), [
      'import os, socket',
      'p = "unix.sock"',
      's = socket.socket(socket.AF_UNIX); s.bind(p); s.listen(1)',
      'if os.fork() == 0:',
      '    c = socket.socket(socket.AF_UNIX); c.connect(p); c.send(b"x"); c.recv(1); c.close(); os._exit(0)',
      'a, _ = s.accept(); a.recv(1); a.send(b"y"); a.close(); os.wait(); os.unlink(p)',
    ].join('\n'));
    const {c, events} = underStrace(t, dir, 'unix', ['python3', 'unix.py']);
    t.ok((c.bySyscall.get('accept4') ?? 0) >= 1, 'accept4 compared');
    const acc = events.find((e) => e.syscall === 'accept4' && e.ret >= 0);
    // The address as bound: a relative sun_path stays relative (the kernel keeps what was given).
    t.match(acc?.fd_paths?.ret, /^UNIX-STREAM:\[\d+->\d+,"unix\.sock"\]$/, 'the accepted socket: inode, peer, path');
  });

  t.test('python3 os.writev, a pipe, an eventfd, a memfd, an epoll', async (t) => {
    const {c} = underStrace(t, dir, 'misc', ['python3', '-c', [
      'import os, select',
      'os.writev(1, [b"a", b"b\\n"])',
      'r, w = os.pipe(); os.write(w, b"p"); os.read(r, 1)',
      'e = os.eventfd(0); os.write(e, (1).to_bytes(8, "little"))',
      'm = os.memfd_create("mine"); os.write(m, b"m")',
      'ep = select.epoll(); ep.register(r, select.EPOLLIN); ep.close()',
    ].join('; ')]);
    for (const s of ['writev', 'pipe2', 'eventfd2', 'memfd_create', 'epoll_ctl']) t.ok((c.bySyscall.get(s) ?? 0) >= 1, `${s} compared`);
  });

  t.test('python3 poll and select: the descriptors inside a pollfd array and fd_sets', async (t) => {
    const {c, events} = underStrace(t, dir, 'poll', ['python3', '-c', [
      'import os, select, socket',
      'r, w = os.pipe(); os.write(w, b"x")',
      'p = select.poll(); p.register(r, select.POLLIN); p.register(w, select.POLLOUT); p.poll(100)',
      'select.select([r], [w], [], 0.1)',
      'a, b = socket.socketpair(); b.send(b"y"); select.select([a, r], [], [], 0.1)',
    ].join('; ')]);
    t.ok((c.bySyscall.get('poll') ?? 0) >= 2, 'both pollfds compared');
    const sel = [...c.bySyscall.keys()].filter((k) => k === 'select' || k === 'pselect6');
    t.ok(sel.length > 0 && (c.bySyscall.get(sel[0]) ?? 0) >= 3, `the fd_sets compared (${sel.join(', ')})`);
    const poll = events.find((e) => e.syscall === 'poll' && e.comm === 'python3');
    t.match(poll?.fd_paths?.ufds, [/^pipe:\[\d+\]$/, /^pipe:\[\d+\]$/], 'both ends of the pipe, in JSON');
  });

  t.test('clone(CLONE_FILES): a descriptor the child opens is the parent\'s too (test/progs/clonefiles.c)', async (t) => {
    const prog = path.join(ROOT, 'test', 'progs', 'clonefiles.out');
    const {c, events} = underStrace(t, dir, 'clonefiles', [prog, 'src.txt']);
    t.ok((c.bySyscall.get('read') ?? 0) >= 1, 'the parent\'s read compared');
    const r = events.find((e) => e.syscall === 'read' && e.comm === 'clonefiles.out' && e.args.count === 64);
    t.equal(r?.fd_paths?.fd, path.join(dir, 'src.txt'), 'the parent reads the file its child opened');
  });

  t.test('record --syscall write: write\'s descriptor still named (the calls that make descriptors recorded implicitly)', async (t) => {
    const {c, events} = underStrace(t, dir, 'onlywrite', ['sh', '-c', 'exec 3>onlywrite.txt; echo hi >&3; cat onlywrite.txt'],
      ['--syscall', 'write'], ['-e', 'trace=write']);
    t.ok((c.bySyscall.get('write') ?? 0) >= 2, 'the writes compared');
    t.notOk(events.some((e) => e.type === 'syscall' && e.syscall !== 'write'), 'only writes are shown');
    t.ok(events.some((e) => e.syscall === 'write' && e.fd_paths?.fd === path.join(dir, 'onlywrite.txt')), 'the write to onlywrite.txt is named');
  });
});
