// Kernel tests of what identifies a process and its image (issue 13): exec_id, prev_exec_id
// and parent_exec_id across a pid the kernel gives out twice; the exec's file as stat(2)
// sees it, and its flags — memfd, deleted, setuid, privileged — and the cwd at exec.

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

function events(file: string): Ev[] {
  const r = cli(['decode', file, '--json', '--no-processes']);
  if (r.status !== 0) throw new Error(`decode: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** stat -L of a path, as the event model's `file` has it. */
function statOf(p: string): Ev {
  const out = spawnSync('stat', ['-L', '-c', '%d %i %f %u %g %s %h %.9Y %.9Z', p], {encoding: 'utf8'}).stdout.trim().split(' ');
  const iso = (s: string): string => {
    const [sec, ns] = s.split('.');
    return new Date(Number(sec) * 1000).toISOString().slice(0, 19) + '.' + ns + 'Z';
  };
  return {
    dev: Number(out[0]), ino: Number(out[1]), mode: parseInt(out[2], 16), uid: Number(out[3]), gid: Number(out[4]),
    size: Number(out[5]), mtime: iso(out[7]), ctime: iso(out[8]), nlink: Number(out[6]),
  };
}

kernelTest(t, 'kernel: exec_id, the exec file and its flags, cwd', async (t) => {
  // Under /tmp, world-traversable: nobody must reach the setuid copy whatever the clone's directory.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-id-'));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  fs.chmodSync(dir, 0o755);
  const work = path.join(dir, 'sub', 'work dir');
  fs.mkdirSync(work, {recursive: true});
  fs.copyFileSync('/usr/bin/id', path.join(dir, 'id'));
  fs.chmodSync(path.join(dir, 'id'), 0o4755);
  fs.copyFileSync('/usr/bin/true', path.join(dir, 'del'));
  const trueStat = statOf('/usr/bin/true');
  const idStat = statOf(path.join(dir, 'id'));
  const file = path.join(dir, 't.bin');
  const script = [
    `cd '${work}'`,
    `${FEXEC} memfd /usr/bin/true memfd-true`,
    `${FEXEC} deleted '${dir}/del' deleted-true`,
    `setpriv --reuid=65534 --regid=65534 --clear-groups '${dir}/id' > '${dir}/id.out'`,
    `${FEXEC} reuse /usr/bin/true > '${dir}/reused'`,
  ].join(' && ');
  const r = cli(['record', '-o', file, '--follow', '--', 'sh', '-c', script]);
  t.equal(r.status, 0, `record: ${r.stderr}`);
  const evs = events(file);
  const execs = evs.filter((e) => e.type === 'exec');

  t.test('every event has an exec_id; an exec names the image it replaced', async (t) => {
    const withTask = evs.filter((e) => e.type !== 'lost');
    t.ok(withTask.every((e) => typeof e.exec_id === 'string' && /^[0-9a-f]{16}:\d+:\d+:\d+$/.test(e.exec_id)), 'exec_id on every event');
    t.ok(withTask.every((e) => typeof e.parent_exec_id === 'string'), 'parent_exec_id on every event');
    for (const e of execs) {
      const [boot, pid, start, seq] = e.exec_id.split(':');
      t.equal(Number(pid), e.pid);
      t.equal(e.prev_exec_id, `${boot}:${pid}:${start}:${Number(seq) - 1}`, 'prev_exec_id: the same process, one exec earlier');
    }
    // A fork starts a new exec_id: the child's, with its parent's as parent_exec_id.
    for (const f of evs.filter((e) => e.type === 'fork')) {
      const parentImage = evs.find((e) => e.pid === f.ppid && e.ts_ns <= f.ts_ns && (e.type === 'exec' || e.type === 'fork') && e.exec_id === f.parent_exec_id);
      t.ok(parentImage || f.ppid === evs[0].ppid, `fork of ${f.pid}: parent_exec_id names an image its parent ran`);
      const childExec = execs.find((e) => e.pid === f.pid && e.ts_ns > f.ts_ns);
      if (childExec) t.equal(childExec.prev_exec_id, f.exec_id, `the child's first exec replaced the image the fork made`);
    }
    // Each exit carries the exec_id of the image that ran last.
    for (const x of evs.filter((e) => e.type === 'exit')) {
      const last = evs.filter((e) => e.pid === x.pid && e.ts_ns <= x.ts_ns && (e.type === 'exec' || e.type === 'fork')).pop();
      if (last) t.equal(x.exec_id, last.exec_id, `exit of ${x.pid}: the last image`);
    }
  });

  t.test('a pid given out twice: two processes, two exec_ids', async (t) => {
    const pid = Number(fs.readFileSync(path.join(dir, 'reused'), 'utf8').trim());
    const twice = execs.filter((e) => e.pid === pid);
    t.equal(twice.length, 2, `two execs of pid ${pid}`);
    t.not(twice[0].exec_id, twice[1].exec_id, 'different exec_ids');
    const exits = evs.filter((e) => e.type === 'exit' && e.pid === pid);
    t.same(exits.map((e) => e.exec_id), twice.map((e) => e.exec_id), 'each exit names its own process');
    const forks = evs.filter((e) => e.type === 'fork' && e.pid === pid);
    t.same(twice.map((e) => e.prev_exec_id), forks.map((e) => e.exec_id), 'each exec follows its own fork');
  });

  t.test('memfd, deleted and setuid images; file as stat(2) has it', async (t) => {
    const memfd = execs.find((e) => e.argv[0] === 'memfd-true') as Ev;
    t.ok(memfd, 'the memfd exec');
    t.match(memfd, {memfd: true, deleted: false, setuid: false, privileged: false});
    t.equal(memfd.file.nlink, 0);
    t.equal(memfd.file.size, trueStat.size, 'the memfd holds a copy of true');
    const deleted = execs.find((e) => e.argv[0] === 'deleted-true') as Ev;
    t.match(deleted, {memfd: false, deleted: true});
    t.equal(deleted.file.nlink, 0);
    const id = execs.find((e) => e.filename === path.join(dir, 'id')) as Ev;
    t.match(id, {setuid: true, setgid: false, privileged: true, uid: 65534, euid: 0, memfd: false, deleted: false});
    t.match(fs.readFileSync(path.join(dir, 'id.out'), 'utf8'), /uid=65534\(nobody\).* euid=0\(root\)/, 'id saw the setuid');
    t.same(id.file, idStat, 'file: dev, ino, mode, uid, gid, size, mtime, ctime, nlink as stat -L gives them');
    const tru = execs.find((e) => e.filename === '/usr/bin/true') as Ev;
    t.same(tru.file, trueStat, '/usr/bin/true as stat -L gives it');
    t.match(tru, {setuid: false, privileged: false, deleted: false, memfd: false});
    const human = cli(['decode', file, '--type', 'exec', '--no-processes']).stdout;
    t.match(human, /memfd-true {2}\(\/dev\/fd\/\d+\) {2}\[memfd\]/, 'human line: [memfd]');
    t.match(human, /deleted-true {2}\(\/dev\/fd\/\d+\) {2}\[deleted\]/, 'human line: [deleted]');
    t.match(human, /\/id {2}\[setuid privileged\]/, 'human line: [setuid privileged]');
    const setpriv = execs.find((e) => e.argv[0] === 'setpriv') as Ev;
    t.equal(setpriv.privileged, false, 'an exec that changes nothing is not privileged');
  });

  t.test('cwd at exec', async (t) => {
    const sh = execs[0];
    t.equal(sh.cwd, process.cwd(), 'the first exec runs in the recorder\'s cwd');
    for (const e of execs.slice(1)) t.equal(e.cwd, fs.realpathSync(work), `${e.argv[0]}: cwd after cd`);
    t.ok(execs.every((e) => e.cwd_truncated === undefined), 'none cut');
  });
});

kernelTest(t, 'kernel: container_id, record --container and --where container_id', async (t) => {
  const mount = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[2] === 'cgroup2')?.[1];
  if (!mount) {
    t.fail('no cgroup2 mount');
    return;
  }
  const id = spawnSync('sh', ['-c', 'head -c 32 /dev/urandom | od -An -tx1 | tr -d " \\n"'], {encoding: 'utf8'}).stdout;
  t.match(id, /^[0-9a-f]{64}$/);
  const rel = `/system.slice/docker-${id}.scope`;
  const cg = path.join(mount, rel);
  fs.mkdirSync(cg, {recursive: true});
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-ct-'));
  t.teardown(() => {
    fs.rmSync(dir, {recursive: true, force: true});
    fs.rmdirSync(cg);
  });
  const file = path.join(dir, 'c.bin');
  // Only what runs in the container's cgroup is recorded: the shell moves itself in first.
  const r = cli(['record', '-o', file, '--container', id.slice(0, 12), '--', 'sh', '-c', `echo $$ > '${cg}/cgroup.procs' && /bin/true`]);
  t.equal(r.status, 0, `record: ${r.stderr}`);
  t.match(r.stderr, `recording only: cgroup ${cg}`, 'the prefix resolved to the docker-style cgroup');
  const evs = events(file);
  t.same(evs.map((e) => e.type), ['fork', 'exec', 'exit', 'exit'], 'the moved shell and its true, nothing before the move');
  t.ok(evs.every((e) => e.container_id === id && e.cgroup === rel), 'container_id and cgroup on every event');
  const where = cli(['decode', file, '--json', '--no-processes', '--where', `container_id == "${id}"`]);
  t.equal(where.stdout.split('\n').filter(Boolean).length, evs.length, '--where container_id keeps them all');
  const none = cli(['record', '-o', path.join(dir, 'x.bin'), '--container', 'ffff0000ffff0000', '--', 'true']);
  t.equal(none.status, 2, 'an unknown container is a usage error');
  t.equal(none.stderr.trim().split('\n').length, 1, 'one line');
  t.match(none.stderr, /--container ffff0000ffff0000: no container with such an id/);
  t.notOk(fs.existsSync(path.join(dir, 'x.bin')), 'no file left');
  const bad = cli(['record', '-o', path.join(dir, 'y.bin'), '--container', 'not-hex', '--', 'true']);
  t.equal(bad.status, 2);
  t.match(bad.stderr, /--container not-hex: expected a container id/);
});

kernelTest(t, 'kernel: in a new PID namespace (unshare --pid --fork), two processes given one namespace pid get two exec_ids', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-pidns-'));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  const file = path.join(dir, 'ns.bin');
  // ns_last_pid is the namespace's own: fexec, its init, hands the same pid out twice in it.
  const r = cli(['record', '-o', file, '--follow', '--', 'unshare', '--pid', '--fork', FEXEC, 'reuse', '/usr/bin/true']);
  t.equal(r.status, 0, `record: ${r.stderr}`);
  const nsPid = Number(r.stdout.trim()); // fexec prints the pid it saw twice
  t.ok(nsPid > 1, `the namespace pid given twice: ${nsPid}`);
  const evs = events(file);
  const hostNs = fs.readlinkSync('/proc/self/ns/pid').replace(/\D/g, '');
  const trues = evs.filter((e) => e.type === 'exec' && e.filename === '/usr/bin/true');
  t.equal(trues.length, 2, 'two execs of true');
  t.ok(trues.every((e) => String(e.ns.pid) !== hostNs && e.ns.pid === trues[0].ns.pid), 'both in the new namespace');
  t.not(trues[0].exec_id, trues[1].exec_id, 'two exec_ids');
  const exits = evs.filter((e) => e.type === 'exit' && trues.some((x) => x.pid === e.pid));
  t.same(exits.map((e) => e.exec_id), trues.map((e) => e.exec_id), 'each exit names its own process');
});
