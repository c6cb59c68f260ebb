// Kernel tests of the record-time filters (--pid, --follow, --pidns, --cgroup, --uid,
// --comm, with --syscall): in each recording, processes that match and processes that do
// not are busy at the same time (they all wait for one `go` file, which the recorded
// command creates); the file must hold only the matching ones' events, count the others
// as filtered (never as lost), and carry the filters in its metadata.

import t from 'tap';
import type {Test} from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {spawn, spawnSync, ChildProcess} from 'node:child_process';
import {BIN, kernelTest} from './lib/kernel';
import {TraceReader} from '../src/format';

type Ev = Record<string, any>;

function cli(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {encoding: 'utf8', maxBuffer: 256 << 20});
}

interface Recording {
  status: number | null;
  stderr: string;
  /** Every event but the `process` snapshot, in file order. */
  events: Ev[];
  meta: Ev;
  trailer: Ev;
}

/** Records with `args`, then decodes the file and reads its metadata and trailer. */
function recordRun(t: Test, file: string, args: string[]): Recording {
  const rec = cli(['record', '-o', file, '--force', ...args]);
  t.equal(rec.status, 0, `record ${args.join(' ')} exits 0 (stderr: ${rec.stderr.trim()})`);
  const dec = cli(['decode', file, '--json', '--no-processes']);
  t.equal(dec.status, 0, `decode exits 0 (stderr: ${dec.stderr.trim()})`);
  const events = dec.stdout.trim() ? dec.stdout.trim().split('\n').map((l) => JSON.parse(l)) : [];
  const r = TraceReader.open(file);
  for (const _ of r.chunks()); // to the trailer
  const out = {status: rec.status, stderr: rec.stderr, events, meta: r.meta as Ev, trailer: (r.trailer ?? {}) as Ev};
  r.close();
  return out;
}

/** A scratch directory every user can reach (workers run as nobody too). */
function scratch(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-filters-'));
  fs.chmodSync(dir, 0o777);
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  return dir;
}

/**
 * A shell script that waits for `dir/go`, runs body, then leaves `dir/done.name`. It gives
 * up when dir is gone (a failed test), as nothing may be left to kill it (PID 1 of a
 * namespace outlives its unshare).
 */
function worker(dir: string, name: string, body: string): string {
  return `while [ ! -e ${dir}/go ]; do [ -d ${dir} ] || exit 1; sleep 0.02; done; ${body}; touch ${dir}/done.${name}`;
}

/** The recorded command: starts the workers (go) and returns once every one is done. */
function driver(dir: string, names: string[], body = ''): string[] {
  const all = names.map((n) => `[ -e ${dir}/done.${n} ]`).join(' && ') || 'true';
  return ['sh', '-c', `touch ${dir}/go; ${body} i=0; while [ $i -lt 600 ]; do if ${all}; then exit 0; fi; sleep 0.02; i=$((i+1)); done; exit 1`];
}

/** Starts a background process for the test, killed at its end if still running. */
function background(t: Test, argv: string[]): ChildProcess & {exited: Promise<void>} {
  const p = spawn(argv[0], argv.slice(1), {stdio: ['ignore', 'ignore', 'inherit']}) as ChildProcess & {exited: Promise<void>};
  p.exited = new Promise((resolve) => p.on('exit', () => resolve()));
  t.teardown(async () => {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await p.exited;
  });
  return p;
}

async function until(what: string, cond: () => boolean, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const execsOf = (events: Ev[], marker: string) => events.filter((e) => e.type === 'exec' && e.argv?.includes(marker));
const sum = (totals: Ev, key: 'lost' | 'filtered') => Object.values(totals).reduce((a: number, x: any) => a + (x[key] ?? 0), 0);

const NO_FILTERS = {pid: [], follow: false, pidns: null, cgroup: null, uid: [], comm: [], syscall: []};

/** Processes of the tree rooted at `root`, from the fork records. */
function tree(events: Ev[], root: number): Set<number> {
  const set = new Set([root]);
  for (const e of events) if (e.type === 'fork' && set.has(e.ppid)) set.add(e.pid);
  return set;
}

kernelTest(t, 'kernel: --follow keeps the command and its descendants, from the command\'s first event', async (t) => {
  const dir = scratch(t);
  const file = path.join(dir, 'follow.bin');
  // Outside the command: a process doing the same things at the same time.
  background(t, ['sh', '-c', worker(dir, 'noise', '/bin/echo noise >/dev/null; /bin/echo noise >/dev/null; /bin/true')]);
  // The grandchild is forked after recording started, a while into it.
  const r = recordRun(t, file, ['--follow', '--', ...driver(dir, ['noise'],
    'sh -c "sleep 0.2; sh -c \'exec /bin/echo grandchild\' >/dev/null; /bin/echo child >/dev/null";')]);
  const self = r.meta.options.self_tgid;
  t.same(r.meta.options.filters, {...NO_FILTERS, follow: true}, 'the filters are in the metadata');
  t.match(r.stderr, /recording only: the command and descendants/, 'the recorder prints the filters at start');

  const first = r.events[0];
  t.equal(first?.type, 'fork', 'the first event is the fork of the command');
  t.equal(first?.ppid, self, '… by the recorder');
  const cmd = first?.pid;
  t.equal(r.events[1]?.type, 'exec', 'then its exec');
  t.equal(r.events[1]?.pid, cmd);
  t.same(r.events[1]?.argv?.slice(0, 2), ['sh', '-c']);

  const members = tree(r.events, cmd);
  const strays = r.events.filter((e) => !members.has(e.pid));
  t.same(strays.map((e) => `${e.type} ${e.pid} ${e.comm}`), [], 'every event belongs to the command\'s tree');
  const [gc] = execsOf(r.events, 'grandchild');
  t.ok(gc, 'the grandchild\'s exec is recorded');
  const gcFork = r.events.find((e) => e.type === 'fork' && e.pid === gc?.pid);
  t.ok(gcFork, 'and its fork');
  const child = r.events.find((e) => e.type === 'fork' && e.pid === gcFork?.ppid);
  t.equal(child?.ppid, cmd, 'a grandchild: its parent is a child of the command');
  t.ok(r.events.some((e) => e.type === 'exit' && e.pid === gc?.pid), 'and its exit');
  t.equal(execsOf(r.events, 'child').length, 1);
  t.same(execsOf(r.events, 'noise'), [], 'nothing of the process outside');
  t.ok(r.trailer.totals.exec.filtered >= 2, `the execs outside are counted as filtered (${r.trailer.totals.exec.filtered})`);
  t.equal(sum(r.trailer.totals, 'lost'), 0, 'nothing lost');
  t.equal(r.trailer.follow_overflow, 0, 'no process was left unfollowed');
});

kernelTest(t, 'kernel: --follow with --syscall: only the tree\'s calls, the others counted per syscall', async (t) => {
  const dir = scratch(t);
  const file = path.join(dir, 'follow-sys.bin');
  background(t, ['sh', '-c', worker(dir, 'noise', 'cat /etc/hostname >/dev/null; cat /etc/hostname >/dev/null')]);
  const r = recordRun(t, file, ['--follow', '--syscall', 'openat', '--', ...driver(dir, ['noise'], 'cat /etc/hostname >/dev/null;')]);
  t.same(r.meta.options.filters, {...NO_FILTERS, follow: true, syscall: ['openat']});
  const members = tree(r.events, r.events[0]?.pid);
  const calls = r.events.filter((e) => e.type === 'syscall');
  t.ok(calls.length > 0, `${calls.length} openat calls recorded`);
  t.same(r.events.filter((e) => !members.has(e.pid)).map((e) => `${e.type} ${e.pid} ${e.comm}`), [], 'all of the tree');
  const hostname = calls.filter((e) => e.args?.filename === '/etc/hostname');
  t.equal(hostname.length, 1, 'one openat of /etc/hostname: the command\'s cat, not the two outside');
  t.ok(r.trailer.totals_sys.openat.filtered >= 2, `openat calls outside counted as filtered (${r.trailer.totals_sys.openat.filtered})`);
  t.ok(r.trailer.totals.sys_exit.filtered >= 2, 'and per record type');
  t.equal(r.trailer.totals_sys.openat.lost, 0);
  t.equal(sum(r.trailer.totals, 'lost'), 0, 'nothing lost');
});

kernelTest(t, 'kernel: --pid P --follow: a running process, its descendants alive at start and those forked later', async (t) => {
  const dir = scratch(t);
  const file = path.join(dir, 'pid-follow.bin');
  // P has a child before recording starts (the subshell), which forks after it starts.
  const p = background(t, ['sh', '-c',
    `(${worker(dir, 'sub', '/bin/echo old-child-exec >/dev/null')}) & ${worker(dir, 'p', '/bin/echo direct >/dev/null')}; wait`]);
  background(t, ['sh', '-c', worker(dir, 'noise', '/bin/echo noise >/dev/null')]);
  await until('the subshell', () => (fs.readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, 'utf8').trim() !== ''));
  const r = recordRun(t, file, ['--pid', String(p.pid), '--follow', '--', ...driver(dir, ['sub', 'p', 'noise'])]);
  t.same(r.meta.options.filters, {...NO_FILTERS, pid: [p.pid], follow: true});
  t.equal(execsOf(r.events, 'old-child-exec').length, 1, 'a descendant alive at start is followed');
  t.equal(execsOf(r.events, 'direct').length, 1, 'a child forked after start is followed');
  t.same(execsOf(r.events, 'noise'), [], 'not the process outside');
  const cmd = r.events.find((e) => e.type === 'fork' && e.ppid === r.meta.options.self_tgid)?.pid;
  t.ok(r.events.some((e) => e.type === 'exec' && e.pid === cmd && e.argv?.[0] === 'sh'), 'and the command after --, followed too');
  t.ok(sum(r.trailer.totals, 'filtered') > 0, 'the rest is counted as filtered');
  t.equal(sum(r.trailer.totals, 'lost'), 0, 'nothing lost');
});

kernelTest(t, 'kernel: --pid without --follow: those processes only; a fork is matched on the child', async (t) => {
  const dir = scratch(t);
  const file = path.join(dir, 'pid.bin');
  // Each process forks children (not recorded), then execs itself (recorded) before it is done.
  const script = (name: string) => {
    fs.writeFileSync(`${dir}/${name}.sh`, `${worker(dir, `${name}-kids`, `/bin/echo ${name}-kid >/dev/null`)}\nexec /bin/sh ${dir}/${name}2.sh\n`);
    fs.writeFileSync(`${dir}/${name}2.sh`, `/bin/true\ntouch ${dir}/done.${name}\n`);
    return ['sh', `${dir}/${name}.sh`];
  };
  const p = background(t, script('p'));
  const other = background(t, script('other'));
  background(t, ['sh', '-c', worker(dir, 'noise', '/bin/echo noise >/dev/null')]);
  const r = recordRun(t, file, ['--pid', String(p.pid), '--pid', String(other.pid), '--', ...driver(dir, ['p', 'other', 'noise'])]);
  t.same(r.meta.options.filters, {...NO_FILTERS, pid: [p.pid, other.pid]}, 'two --pid values');
  t.same([...new Set(r.events.map((e) => e.pid))].sort(), [p.pid, other.pid].sort(), 'only events of the two processes (OR within --pid)');
  for (const [name, pid] of [['p', p.pid], ['other', other.pid]] as const) {
    t.same(r.events.filter((e) => e.pid === pid && e.type === 'exec').map((e) => e.argv), [['/bin/sh', `${dir}/${name}2.sh`]], `${name}'s own exec`);
  }
  t.notOk(r.events.some((e) => e.type === 'fork'), 'no fork record: the children are not P');
  t.same(execsOf(r.events, 'p-kid'), [], 'nor their execs');
  t.ok(r.trailer.totals.fork.filtered >= 5, `their forks are counted as filtered (${r.trailer.totals.fork.filtered})`);
  t.ok(r.trailer.totals.exec.filtered >= 5, `and their execs (${r.trailer.totals.exec.filtered})`);
  t.equal(sum(r.trailer.totals, 'lost'), 0);
});

kernelTest(t, 'kernel: --pidns keeps a PID namespace and the namespaces below it', async (t) => {
  const dir = scratch(t);
  const file = path.join(dir, 'pidns.bin');
  const nsFile = path.join(dir, 'ns');
  // PID 1 of a new namespace, which also makes a namespace below it.
  background(t, ['unshare', '-pf', '--mount-proc', 'sh', '-c',
    `readlink /proc/self/ns/pid > ${nsFile}.tmp && mv ${nsFile}.tmp ${nsFile}; ` +
    worker(dir, 'ns', `/bin/echo in-ns >/dev/null; unshare -pf sh -c 'readlink /proc/self/ns/pid > ${dir}/nested; exec /bin/echo nested-ns' >/dev/null`)]);
  background(t, ['sh', '-c', worker(dir, 'host', '/bin/echo in-host >/dev/null; /bin/echo in-host >/dev/null')]);
  await until('the namespace', () => fs.existsSync(nsFile));
  const inum = Number(/\[(\d+)\]/.exec(fs.readFileSync(nsFile, 'utf8'))?.[1]);
  const r = recordRun(t, file, ['--pidns', String(inum), '--', ...driver(dir, ['ns', 'host'])]);
  const nested = Number(/\[(\d+)\]/.exec(fs.readFileSync(`${dir}/nested`, 'utf8'))?.[1]);
  t.not(nested, inum, 'the nested namespace is another one');
  t.same(r.meta.options.filters, {...NO_FILTERS, pidns: inum});
  t.equal(execsOf(r.events, 'in-ns').length, 1, 'the namespace\'s exec');
  const [n] = execsOf(r.events, 'nested-ns');
  t.ok(n, 'an exec in the namespace below it');
  t.equal(n?.ns?.pid, nested, '… which is the nested namespace');
  t.same(execsOf(r.events, 'in-host'), [], 'nothing of the host namespace');
  const foreign = r.events.filter((e) => e.ns?.pid !== inum && e.ns?.pid !== nested);
  t.same(foreign.map((e) => `${e.type} ${e.pid} ${e.comm} ns=${e.ns?.pid}`), [], 'every event is in one of the two');
  t.ok(r.trailer.totals.exec.filtered >= 2, 'the host\'s execs are filtered');
  t.equal(sum(r.trailer.totals, 'lost'), 0);
});

/** A fresh cgroup v2 directory with a child, removed at the end of the test. */
function makeCgroup(t: Test): {dir: string; sub: string} | null {
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' '));
  const root = mounts.find((f) => f[2] === 'cgroup2')?.[1];
  if (!root) return null;
  const dir = fs.mkdtempSync(path.join(root, 'exectrace-test-'));
  const sub = path.join(dir, 'sub');
  fs.mkdirSync(sub);
  t.teardown(async () => {
    // The workers are gone by now (background() kills and reaps them first: teardowns run in reverse).
    for (const d of [sub, dir]) {
      for (let i = 0; i < 50; i++) {
        try {
          fs.rmdirSync(d);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }
  });
  return {dir, sub};
}

kernelTest(t, 'kernel: --cgroup keeps a cgroup and the cgroups below it', async (t) => {
  const cg = makeCgroup(t);
  if (!cg) {
    t.fail('no cgroup2 mount');
    return;
  }
  const dir = scratch(t);
  const file = path.join(dir, 'cgroup.bin');
  const inside = background(t, ['sh', '-c', `echo $$ > ${cg.sub}/cgroup.procs && ${worker(dir, 'in', '/bin/echo in-cgroup >/dev/null')}`]);
  background(t, ['sh', '-c', worker(dir, 'out', '/bin/echo out-cgroup >/dev/null; /bin/echo out-cgroup >/dev/null')]);
  await until('the move into the cgroup', () => fs.readFileSync(`${cg.sub}/cgroup.procs`, 'utf8').includes(String(inside.pid)));
  const r = recordRun(t, file, ['--cgroup', cg.dir, '--', ...driver(dir, ['in', 'out'])]);
  const id = fs.statSync(cg.dir).ino;
  const subId = fs.statSync(cg.sub).ino;
  t.same(r.meta.options.filters, {...NO_FILTERS, cgroup: {path: cg.dir, id, level: 1}}, 'path, id and level in the metadata');
  t.equal(execsOf(r.events, 'in-cgroup').length, 1, 'the exec in the child cgroup');
  t.same(execsOf(r.events, 'out-cgroup'), [], 'nothing outside');
  t.same(r.events.filter((e) => e.cgroup_id !== subId).map((e) => `${e.type} ${e.pid} ${e.comm} cg=${e.cgroup_id}`), [], 'every event is in the cgroup');
  t.ok(r.trailer.totals.exec.filtered >= 2);
  t.equal(sum(r.trailer.totals, 'lost'), 0);
});

kernelTest(t, 'kernel: --uid, and every filter kind must match (--uid with --cgroup)', async (t) => {
  const cg = makeCgroup(t);
  if (!cg) {
    t.fail('no cgroup2 mount');
    return;
  }
  /** As nobody outside the cgroup, as nobody inside it, as root inside it; all waiting for dir/go. */
  const workers = async (dir: string) => {
    const asNobody = (body: string) => `setpriv --reuid=65534 --regid=65534 --clear-groups sh -c '${body}'`;
    background(t, ['sh', '-c', `exec ${asNobody(worker(dir, 'nobody', '/bin/echo as-nobody >/dev/null'))}`]);
    const inNobody = background(t, ['sh', '-c', `echo $$ > ${cg.sub}/cgroup.procs && exec ${asNobody(worker(dir, 'both', '/bin/echo both >/dev/null'))}`]);
    const inRoot = background(t, ['sh', '-c', `echo $$ > ${cg.sub}/cgroup.procs && ${worker(dir, 'root', '/bin/echo as-root-in-cgroup >/dev/null')}`]);
    await until('the moves into the cgroup', () => {
      const procs = fs.readFileSync(`${cg.sub}/cgroup.procs`, 'utf8').split('\n');
      return procs.includes(String(inNobody.pid)) && procs.includes(String(inRoot.pid));
    });
    return driver(dir, ['nobody', 'both', 'root']);
  };

  const d1 = scratch(t);
  const u = recordRun(t, path.join(d1, 'uid.bin'), ['--uid', 'nobody', '--', ...(await workers(d1))]);
  t.same(u.meta.options.filters, {...NO_FILTERS, uid: [65534]}, 'a user name resolves to its uid');
  t.equal(execsOf(u.events, 'as-nobody').length, 1);
  t.equal(execsOf(u.events, 'both').length, 1);
  t.same(execsOf(u.events, 'as-root-in-cgroup'), []);
  t.same(u.events.filter((e) => e.uid !== 65534).map((e) => `${e.type} ${e.pid} ${e.comm} uid=${e.uid}`), [], 'every event is nobody\'s');
  t.ok(u.trailer.totals.exec.filtered > 0);
  t.equal(sum(u.trailer.totals, 'lost'), 0);

  const d2 = scratch(t);
  const both = recordRun(t, path.join(d2, 'both.bin'), ['--uid', '65534', '--cgroup', cg.dir, '--', ...(await workers(d2))]);
  t.equal(execsOf(both.events, 'both').length, 1, 'nobody in the cgroup: kept');
  t.same(execsOf(both.events, 'as-nobody'), [], 'nobody outside the cgroup: filtered');
  t.same(execsOf(both.events, 'as-root-in-cgroup'), [], 'root in the cgroup: filtered');
  t.same(both.events.filter((e) => e.uid !== 65534 || e.cgroup_id !== fs.statSync(cg.sub).ino).map((e) => `${e.type} ${e.comm}`), [], 'every event matches both');
  t.equal(sum(both.trailer.totals, 'lost'), 0);
});

kernelTest(t, 'kernel: --comm applies to exec, fork and exit records too', async (t) => {
  const dir = scratch(t);
  const file = path.join(dir, 'comm.bin');
  background(t, ['sh', '-c', worker(dir, 'w', '/bin/echo by-comm >/dev/null; /bin/true')]);
  const r = recordRun(t, file, ['--comm', 'echo', '--', ...driver(dir, ['w'])]);
  t.same(r.meta.options.filters, {...NO_FILTERS, comm: ['echo']});
  t.same([...new Set(r.events.map((e) => e.comm))], ['echo'], 'only records of tasks named echo');
  const [e] = execsOf(r.events, 'by-comm');
  t.ok(e, 'the exec into echo (matched on the new image\'s comm)');
  t.ok(r.events.some((x) => x.type === 'exit' && x.pid === e?.pid), 'and its exit');
  t.ok(r.trailer.totals.fork.filtered > 0 && r.trailer.totals.exec.filtered > 0, 'the rest is filtered');
  t.equal(sum(r.trailer.totals, 'lost'), 0);
});

kernelTest(t, 'kernel: a filter that matches nothing gives a valid, empty recording', async (t) => {
  const dir = scratch(t);
  const file = path.join(dir, 'nothing.bin');
  const r = recordRun(t, file, ['--uid', '4242', '--syscall', 'openat', '--', 'sh', '-c', 'cat /etc/hostname >/dev/null']);
  t.same(r.events, [], 'no events');
  t.match(r.stderr, /recorded 0 events .*lost 0; filtered \d+;/, 'the summary says what was filtered');
  t.ok(r.trailer.totals.exec.filtered >= 2 && r.trailer.totals_sys.openat.filtered > 0, 'everything was filtered');
  t.equal(sum(r.trailer.totals, 'lost'), 0);
  const v = cli(['verify', file]);
  t.equal(v.status, 0, `verify: ${v.stdout}${v.stderr}`);
  const s = cli(['stats', file, '--json']);
  t.equal(s.status, 0, s.stderr);
  const st = JSON.parse(s.stdout);
  t.equal(st.records, 0);
  t.ok(st.types.every((x: Ev) => x.recorded === 0 && x.lost === 0), 'stats: nothing recorded, nothing lost');
  t.equal(cli(['stats', file]).status, 0, 'human stats too');
});

kernelTest(t, 'kernel: filter mistakes get one line with the fix', async (t) => {
  const file = path.join(os.tmpdir(), 'exectrace-filter-errors.bin');
  const cases: [string[], RegExp][] = [
    [['--pidns', 'abc'], /^exectrace record: --pidns 'abc': not a PID namespace inode number \(e\.g\. 4026532198: see `lsns -t pid` or `readlink \/proc\/PID\/ns\/pid`\)\n$/],
    [['--pidns', '12345'], /^exectrace record: --pidns 12345: no process is in that PID namespace \(list them with `lsns -t pid`\)\n$/],
    [['--cgroup', '/tmp'], /^exectrace record: --cgroup \/tmp: not a cgroup v2 directory \(give a directory of the cgroup v2 hierarchy; `findmnt -t cgroup2` shows where it is mounted\)\n$/],
    [['--cgroup', '/nonexistent/cg'], /^exectrace record: --cgroup \/nonexistent\/cg: no such directory /],
    [['--pid', '4194304'], /^exectrace record: --pid 4194304: no such process \(is it running\? see `ps -p 4194304`\)\n$/],
    [['--follow'], /^exectrace record: --follow follows the command after -- or the processes given with --pid: give one of them\n$/],
    [['--uid', 'no-such-user-x'], /^exectrace record: --uid: no user "no-such-user-x" in \/etc\/passwd: give a uid number or a user name\n$/],
    [['--comm', 'a-name-longer-than-15'], /^exectrace record: --comm 'a-name-longer-than-15': a command name is 1 to 15 bytes/],
  ];
  for (const [args, re] of cases) {
    const r = cli(['record', '-o', file, '--force', '--duration', '100ms', ...args]);
    t.equal(r.status, 2, `${args.join(' ')}: a usage error`);
    t.match(r.stderr, re);
    t.notOk(fs.existsSync(file), 'no file');
  }
});
