// Kernel tests of syscall recording: test/progs/syscaller.c makes known calls (open a
// known file, read it, fstat it, close it, a failing openat, a write of a known payload);
// the recording is decoded and every argument, buffer, struct field and return value is
// asserted, and the call counts are compared with `strace -c -f` on the same program.

import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {spawnSync} from 'node:child_process';
import {BIN, CI, ROOT, kernelTest} from './lib/kernel';
import {straceCounts} from './lib/strace';

type Ev = Record<string, any>;
const PROG = path.join(ROOT, 'test', 'progs', 'syscaller.out');

function cli(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {encoding: 'utf8', maxBuffer: 256 << 20});
}

function kv(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(\w+)=(-?\d+)$/gm)) out[m[1]] = Number(m[2]);
  return out;
}


kernelTest(t, 'kernel: syscalls of a known program, field by field', async (t) => {
  const dir = t.testdir({'known.txt': 'hello, syscalls\n'});
  const known = path.join(dir, 'known.txt');
  const trace = path.join(dir, 'sys.bin');
  const outFile = path.join(dir, 'stdout.txt');
  const errFile = path.join(dir, 'stderr.txt');
  const syscalls = ['openat', 'read', 'fstat', 'close', 'write', 'mmap', 'newfstatat'];
  // sh redirects the program's output so the recorded write goes to a file we can read back.
  const rec = cli(['record', '-o', trace, '--comm', 'syscaller.out', ...syscalls.flatMap((s) => ['--syscall', s]),
    '--', 'sh', '-c', `exec ${PROG} ${known} > ${outFile} 2> ${errFile}`]);
  t.equal(rec.status, 0, rec.stderr);
  const m = kv(fs.readFileSync(errFile, 'utf8'));
  t.equal(m.read, 16, 'the program read the file');

  const dec = cli(['decode', trace, '--json', '--no-processes']);
  t.equal(dec.status, 0, dec.stderr);
  const events: Ev[] = dec.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const calls = events.filter((e) => e.type === 'syscall' && e.pid === m.pid);
  t.ok(calls.length > 10, `${calls.length} syscalls of the program`);
  t.notOk(events.some((e) => e.type === 'syscall' && e.comm !== 'syscaller.out'), '--comm kept only syscaller.out');
  const find = (name: string, pred: (e: Ev) => boolean = () => true) => calls.filter((e) => e.syscall === name && pred(e));

  t.test('openat of the known file', async (t) => {
    const [o] = find('openat', (e) => e.args.filename === known);
    t.ok(o, 'found');
    t.equal(o.args.dfd, -100, 'dfd is signed: AT_FDCWD');
    t.equal(o.args.flags, 0o2000000, 'O_RDONLY|O_CLOEXEC');
    t.equal(o.ret, m.fd);
    t.equal(o.nr, 257);
    t.type(o.duration_ns, 'number');
    t.ok(o.duration_ns > 0 && o.duration_ns < 1e9);
    t.equal(o.uid, 0);
    t.equal(o.comm, 'syscaller.out');
    t.type(o.ns?.mnt, 'number');
    t.match(o.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  });

  t.test('read: output buffer captured at exit', async (t) => {
    const [r] = find('read', (e) => e.args.fd === m.fd && e.ret === m.read);
    t.ok(r, 'found');
    t.same(r.args.buf, {text: 'hello, syscalls\n', len: 16, truncated: false});
    t.equal(r.args.count, 256);
  });

  t.test('fstat: struct stat decoded from kernel BTF', async (t) => {
    const [s] = find('fstat', (e) => e.args.fd === m.fd);
    t.ok(s, 'found');
    t.equal(s.ret, 0);
    t.equal(s.args.statbuf.st_size, 16);
    t.equal(s.args.statbuf.st_ino, m.ino);
    t.equal(s.args.statbuf.st_mode & 0o170000, 0o100000, 'a regular file');
  });

  t.test('failing openat: negative ret and errno', async (t) => {
    const [b] = find('openat', (e) => e.args.filename === '/nonexistent/exectrace-syscalls');
    t.ok(b, 'found');
    t.equal(b.ret, -2);
    t.equal(b.errno, 'ENOENT');
    t.equal(m.bad_errno, 2);
  });

  t.test('write: input buffer captured at entry, exact bytes', async (t) => {
    const [w] = find('write', (e) => e.args.fd === 1);
    t.ok(w, 'found');
    const payload = fs.readFileSync(outFile, 'utf8');
    t.equal(payload, 'exectrace payload: \x01\x02 ünï\n');
    t.same(w.args.buf, {text: payload, len: Buffer.byteLength(payload), truncated: false});
    t.equal(w.ret, m.write);
    t.equal(find('close', (e) => e.args.fd === m.fd)[0]?.ret, 0, 'close');
  });

  t.test('human format', async (t) => {
    const h = cli(['decode', trace, '--no-processes']);
    t.equal(h.status, 0);
    // Descriptors annotated as strace -yy does: AT_FDCWD with the cwd, the file a descriptor is.
    const re = (s: string) => s.replace(/[.|()[\]\\]/g, '\\$&');
    const cwd = re(process.cwd());
    t.match(h.stdout, new RegExp(`syscaller\\.out\\(${m.pid}\\) openat\\(dfd=AT_FDCWD<${cwd}>, filename="${re(known)}", flags=O_RDONLY\\|O_CLOEXEC, mode=0\\) = ${m.fd}<${re(known)}> <0\\.\\d{6}>`));
    t.match(h.stdout, new RegExp(`openat\\(dfd=AT_FDCWD<${cwd}>, filename="/nonexistent/exectrace-syscalls", flags=O_RDONLY, mode=0\\) = -2 ENOENT`));
    t.match(h.stdout, new RegExp(`read\\(fd=${m.fd}<${re(known)}>, buf="hello, syscalls\\\\n", count=256\\) = 16`));
  });

  t.test('call counts agree with strace -c -f', async (t) => {
    if (spawnSync('sh', ['-c', 'command -v strace']).status !== 0) {
      if (CI) t.fail('strace is not installed');
      else t.skip('strace not installed');
      return;
    }
    const st = path.join(dir, 'strace.txt');
    const r = spawnSync('strace', ['-c', '-f', '-o', st, PROG, known], {encoding: 'utf8'});
    t.equal(r.status, 0);
    const theirs = straceCounts(st);
    const s = cli(['stats', trace, '--json']);
    t.equal(s.status, 0);
    const ours = Object.fromEntries(JSON.parse(s.stdout).syscalls.map((x: Ev) => [x.syscall, [x.calls, x.errors]]));
    for (const name of syscalls) {
      t.same(ours[name] ?? [0, 0], theirs[name] ?? [0, 0], `${name}: calls and errors as strace counts them`);
    }
    const rows = JSON.parse(s.stdout).syscalls as Ev[];
    for (const row of rows) {
      t.equal(row.lost, 0, `${row.syscall}: nothing lost`);
      t.equal(row.sent, row.calls, `${row.syscall}: sent = calls`);
    }
  });

  t.test('exec events are recorded beside syscalls, under the same --comm filter', async (t) => {
    // The pid execs twice, into sh and then into the program: only the exec whose new image
    // is named syscaller.out passes --comm.
    const ex = events.filter((e) => e.type === 'exec' && e.pid === m.pid);
    t.equal(ex.length, 1);
    t.same(ex[0]?.argv, [PROG, known]);
    t.same([...new Set(events.map((e) => e.comm))], ['syscaller.out'], 'every record is of syscaller.out');
  });
});

kernelTest(t, 'kernel: unknown syscall names get close matches', async (t) => {
  const r = cli(['record', '-o', '/tmp/exectrace-x.bin', '--syscall', 'opneat', '--duration', '100ms']);
  t.equal(r.status, 2, 'a usage error');
  t.equal(r.stderr, "exectrace record: unknown syscall 'opneat' (did you mean openat?)\n");
});
