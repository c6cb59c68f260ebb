// Kernel tests of the SHA-256 of exec files (formats/trace-format.md §10.16): every exec's
// digest equals what sha256sum says of the file that ran — a program, a script's
// interpreter, a memfd image (memfd_create + fexecve), a binary deleted while it runs, a
// setuid copy of id run as nobody — and --no-hash and --hash-max do what they say.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {spawnSync} from 'node:child_process';
import {BIN, ROOT, kernelTest} from './lib/kernel';

type Ev = Record<string, any>;

const FEXEC = path.join(ROOT, 'test', 'progs', 'fexec.out');

function cli(args: string[]): {stdout: string; stderr: string; status: number | null} {
  const r = spawnSync(process.execPath, [BIN, ...args], {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024});
  return {stdout: r.stdout, stderr: r.stderr, status: r.status};
}

function execs(file: string): Ev[] {
  const r = cli(['decode', file, '--json', '--no-processes', '--type', 'exec']);
  if (r.status !== 0) throw new Error(`decode: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** What sha256sum prints for a file: the program nobody here wrote is the reference. */
function sha256sum(file: string): string {
  const out = spawnSync('sha256sum', [file], {encoding: 'utf8'}).stdout;
  return out.split(' ')[0];
}

kernelTest(t, 'kernel: sha256 of each exec equals sha256sum: program, interpreter, memfd, deleted while running, setuid', async (t) => {
  // Under /tmp, world-traversable: nobody must reach the setuid copy whatever the clone's directory.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-hash-'));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  fs.chmodSync(dir, 0o755);
  fs.copyFileSync('/usr/bin/id', path.join(dir, 'id'));
  fs.chmodSync(path.join(dir, 'id'), 0o4755);
  fs.writeFileSync(path.join(dir, 'hello.sh'), '#!/bin/sh\necho "$@" > /dev/null\n', {mode: 0o755});
  const want = {
    ls: sha256sum('/usr/bin/ls'),
    sh: sha256sum(fs.realpathSync('/bin/sh')),
    sleep: sha256sum('/usr/bin/sleep'),
    id: sha256sum(path.join(dir, 'id')),
  };
  const file = path.join(dir, 't.bin');
  const script = [
    'ls / > /dev/null',
    `'${dir}/hello.sh' from a script`,
    // A memfd image that lives long enough to be held (a /bin/true one may be gone first).
    `${FEXEC} memfd /usr/bin/sleep memfd-sleep 0.3`,
    // Deleted while it runs: after its exec, before the recorder could read it by path.
    `cp /usr/bin/sleep '${dir}/del' && ('${dir}/del' 0.4 & sleep 0.1; rm '${dir}/del'; wait)`,
    `setpriv --reuid=65534 --regid=65534 --clear-groups '${dir}/id' > /dev/null`,
  ].join(' && ');
  const r = cli(['record', '-o', file, '--follow', '--', 'sh', '-c', script]);
  t.equal(r.status, 0, `record: ${r.stderr}`);
  const evs = execs(file);
  const by = (pred: (e: Ev) => boolean): Ev => {
    const e = evs.find(pred);
    if (!e) throw new Error(`no such exec among ${JSON.stringify(evs.map((x) => x.argv))}`);
    return e;
  };
  t.equal(by((e) => e.filename === '/usr/bin/ls').sha256, want.ls, 'ls');
  const hello = by((e) => e.interp === '/bin/sh' && e.argv.includes('script'));
  t.equal(hello.sha256, want.sh, 'a script: its interpreter, the file that ran (as `file` says)');
  const memfd = by((e) => e.argv[0] === 'memfd-sleep');
  t.equal(memfd.memfd, true);
  t.equal(memfd.sha256, want.sleep, 'a memfd image: the bytes copied into it');
  const del = by((e) => e.filename === `${dir}/del`);
  t.equal(del.sha256, want.sleep, 'deleted while it ran: still hashed');
  t.notOk(fs.existsSync(path.join(dir, 'del')), 'and it was deleted');
  const id = by((e) => e.filename === `${dir}/id`);
  t.same([id.setuid, id.privileged, id.uid, id.euid], [true, true, 65534, 0]);
  t.equal(id.sha256, want.id, 'the setuid copy run as nobody');
  t.ok(evs.every((e) => /^[0-9a-f]{64}$/.test(e.sha256) && e.sha256_error === undefined), 'every exec of this workload has a digest');
  const n = evs.length;
  t.match(r.stderr, new RegExp(`sha256 of ${n} of ${n} execs;`), 'the summary says so');
  t.match(cli(['stats', file]).stdout, new RegExp(`^sha256     ${n} of ${n} execs$`, 'm'), 'and stats');

  // filter -o keeps each kept exec's digest.
  const kept = path.join(dir, 'ls.bin');
  t.equal(cli(['filter', file, '--comm', 'ls', '-o', kept]).status, 0);
  t.same(execs(kept).map((e) => e.sha256), [want.ls], 'filter -o keeps the digest with its exec');
});

kernelTest(t, 'kernel: a command that ends at once: its digest arrives after the programs are gone, and the recording ends cleanly', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-hash-'));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  // The first digest of a recording is read by the worker while record stops; telling the
  // kernel about it then once crashed the recorder (the object was already closed).
  for (let i = 0; i < 3; i++) {
    const file = path.join(dir, `true-${i}.bin`);
    const r = cli(['record', '-o', file, '--', '/bin/true']);
    t.equal(r.status, 0, `record -- /bin/true, run ${i + 1}: ${r.stderr}`);
    // The recording is system-wide: another process may run /bin/true meanwhile.
    const ours = execs(file).filter((e) => e.filename === '/bin/true');
    t.ok(ours.length >= 1 && ours.every((e) => e.sha256 === sha256sum('/bin/true')), `every exec of /bin/true with its digest (${ours.length})`);
  }
});

kernelTest(t, 'kernel: --no-hash records no digest; --hash-max leaves larger files out as too_large', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-hash-'));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  const none = path.join(dir, 'none.bin');
  const r = cli(['record', '-o', none, '--no-hash', '--follow', '--', 'sh', '-c', 'ls / > /dev/null']);
  t.equal(r.status, 0, r.stderr);
  t.notMatch(r.stderr, /sha256/);
  const ev = execs(none);
  t.ok(ev.length >= 2 && ev.every((e) => !('sha256' in e) && !('sha256_error' in e)), 'no sha256 keys at all');
  t.notMatch(cli(['stats', none]).stdout, /^sha256/m);

  const small = path.join(dir, 'small.bin');
  const s = cli(['record', '-o', small, '--hash-max', '1K', '--follow', '--', 'sh', '-c', 'ls / > /dev/null']);
  t.equal(s.status, 0, s.stderr);
  const big = execs(small);
  t.same(big.map((e) => e.sha256_error), big.map(() => 'too_large'), 'sh and ls are larger than 1 KiB');
  t.match(s.stderr, /sha256 of 0 of \d+ execs \(too_large \d+\)/);
  t.equal(cli(['record', '-o', path.join(dir, 'x.bin'), '--hash-max', 'lots', '--', 'true']).status, 2, 'a size that cannot be read: usage error');
});
