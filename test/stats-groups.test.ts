// stats --by (issue 13): per executable, command name, uid, user, parent image, cgroup and
// container, the execs, failed execs, non-zero exits and distinct processes, on the known
// process forest of fixtures/exec-tree.bin (test/progs/tree-workload.sh): its reused pid,
// its failed exec, its exit 3 and SIGKILL, its uid 65534. Values are checked by eye and
// against an independent count over decode --json.

import t, {type Test} from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {cli, lines} from './lib/cli';
import {Synth} from './lib/synth';
import {openTrace, type GroupRow} from '../src';
import {TraceReader, forEachFrame} from '../src/format';
import {passwdUsers} from '../src/util/users';

const TREE = 'fixtures/exec-tree.bin';
const OLD = 'fixtures/exec-scenarios.bin';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-groups-'));
t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));

interface Json {
  by: string[];
  groups: GroupRow[];
  more: number;
  total: {execs: number; exec_failed: number; nonzero_exits: number; processes: number};
  user_names?: string;
}

async function groups(args: string[]): Promise<Json> {
  const r = await cli(['stats', '--json', ...args]);
  if (r.status !== 0) throw new Error(`stats ${args.join(' ')}: status ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Json;
}

const row = (j: Json, k: string, v: unknown) => j.groups.find((g) => (g as Record<string, unknown>)[k] === v);

/** The events of a file as decode --json gives them. */
async function events(file: string): Promise<Record<string, unknown>[]> {
  return lines((await cli(['decode', '--json', '--no-processes', file])).stdout).map((l) => JSON.parse(l));
}

t.test('--by exe on the process forest: the numbers a user checks by eye', async (t) => {
  const j = await groups([TREE, '--by', 'exe', '--top', '100']);
  t.same(j.by, ['exe']);
  // fexec.out reuse runs /usr/bin/true twice under one pid: two processes, not one.
  t.same(row(j, 'exe', '/usr/bin/true'), {exe: '/usr/bin/true', execs: 2, exec_failed: 0, nonzero_exits: 0, processes: 2});
  // sh -c 'exec env /bin/true chained' ran /bin/true by that name: its own row.
  t.same(row(j, 'exe', '/bin/true'), {exe: '/bin/true', execs: 1, exec_failed: 0, nonzero_exits: 0, processes: 1});
  // The failed exec is the tool's: tried once, by one process, never run.
  t.same(row(j, 'exe', '/nonexistent/tool'), {exe: '/nonexistent/tool', execs: 0, exec_failed: 1, nonzero_exits: 0, processes: 1});
  // sleep 5 was killed (SIGKILL: a non-zero exit); sleep 0.1, 0.3 and 0.5 exited 0.
  t.same(row(j, 'exe', '/usr/bin/sleep'), {exe: '/usr/bin/sleep', execs: 4, exec_failed: 0, nonzero_exits: 1, processes: 4});
  // Four execs of sh; exits 3 and 127 (the child whose exec failed ends as sh); seven
  // processes: the four, the failing child, and two subshells that never exec'd.
  t.same(row(j, 'exe', '/usr/bin/sh'), {exe: '/usr/bin/sh', execs: 4, exec_failed: 0, nonzero_exits: 2, processes: 7});
  t.same(row(j, 'exe', '/dev/fd/4'), {exe: '/dev/fd/4', execs: 1, exec_failed: 0, nonzero_exits: 0, processes: 1}, 'the memfd exec');
  t.same(j.total, {execs: 29, exec_failed: 1, nonzero_exits: 3, processes: 26});
  t.equal(j.more, 0);
  t.equal(j.groups[0].exe, '/usr/bin/sh', 'the most active group first');
  t.equal(j.groups.at(-1)?.exe, '/nonexistent/tool', 'a group without execs last');
  // The sums agree with stats' own counts.
  const s = JSON.parse((await cli(['stats', '--json', TREE])).stdout);
  t.equal(j.total.execs, s.events.find((e: {event: string}) => e.event === 'exec').recorded);
  t.equal(j.total.exec_failed, s.events.find((e: {event: string}) => e.event === 'exec_failed').recorded);
  t.equal(j.total.nonzero_exits, s.exits.nonzero + s.exits.signaled);
});

/**
 * Checks every key of `file` against a count of its own over decode --json, a process being
 * `proc(event)`: what stats --by must give, worked out the plain way.
 */
async function agrees(t: Test, file: string, proc: (e: Record<string, unknown>) => string): Promise<void> {
  const evs = (await events(file)).filter((e) => ['exec', 'exec_failed', 'exit'].includes(e.type as string));
  const keyOf: Record<string, (e: Record<string, unknown>) => unknown> = {
    exe: (e) => e.filename ?? null, comm: (e) => e.comm, uid: (e) => e.uid, cgroup: (e) => e.cgroup, container: (e) => e.container_id ?? null,
  };
  for (const [key, f] of Object.entries(keyOf)) {
    const want = new Map<string, {execs: number; exec_failed: number; nonzero_exits: number; procs: Set<string>}>();
    for (const e of evs) {
      const k = JSON.stringify(f(e));
      let g = want.get(k);
      if (!g) want.set(k, (g = {execs: 0, exec_failed: 0, nonzero_exits: 0, procs: new Set()}));
      if (e.type === 'exec') g.execs++;
      if (e.type === 'exec_failed') g.exec_failed++;
      if (e.type === 'exit' && (e.exit_code !== 0 || e.signal !== null)) g.nonzero_exits++;
      g.procs.add(proc(e));
    }
    const j = await groups([file, '--by', key, '--top', '1000']);
    t.equal(j.groups.length, want.size, `--by ${key}: one row per value`);
    for (const [k, w] of want) {
      const got = j.groups.find((g) => JSON.stringify((g as Record<string, unknown>)[key]) === k);
      t.same(got && {execs: got.execs, exec_failed: got.exec_failed, nonzero_exits: got.nonzero_exits, processes: got.processes},
        {execs: w.execs, exec_failed: w.exec_failed, nonzero_exits: w.nonzero_exits, processes: w.procs.size}, `--by ${key} ${k}`);
    }
    t.equal(j.total.processes, new Set(evs.map(proc)).size, `--by ${key}: distinct processes over all`);
  }
}

t.test('every key agrees with a count of its own over decode --json', async (t) => {
  // A process is its pid and start: exec_id without the exec count.
  await agrees(t, TREE, (e) => String(e.exec_id).split(':').slice(1, 3).join(':'));
  // A file without exec_id: the pid (no pid is reused in it).
  await agrees(t, OLD, (e) => String(e.pid));
});

t.test('--by uid, comm, cgroup and container', async (t) => {
  const uid = await groups([TREE, '--by', 'uid']);
  t.same(uid.groups, [
    {uid: 0, execs: 28, exec_failed: 1, nonzero_exits: 3, processes: 26},
    {uid: 65534, execs: 1, exec_failed: 0, nonzero_exits: 0, processes: 1},
  ], 'setpriv runs id as 65534: one exec, one process, which exec\'d setpriv as 0 first: in both');
  const comm = await groups([TREE, '--by', 'comm', '--top', '100']);
  // The failed exec is the caller's, in comm: sh.
  t.same(row(comm, 'comm', 'sh'), {comm: 'sh', execs: 4, exec_failed: 1, nonzero_exits: 2, processes: 7});
  t.same(row(comm, 'comm', 'true'), {comm: 'true', execs: 3, exec_failed: 0, nonzero_exits: 0, processes: 3});
  t.same(row(comm, 'comm', 'memfd:payload'), {comm: 'memfd:payload', execs: 1, exec_failed: 0, nonzero_exits: 0, processes: 1});
  const cg = await groups([TREE, '--by', 'cgroup,container']);
  t.same(cg.groups, [{cgroup: '/', container: null, execs: 29, exec_failed: 1, nonzero_exits: 3, processes: 26}]);
  const text = (await cli(['stats', TREE, '--by', 'container'])).stdout;
  t.match(text, /^ +29 +1 +3 +26 {2}-$/m, 'no container: shown as -');
});

t.test('--by parent: the image the parent ran when it forked the process (who launched it)', async (t) => {
  const j = await groups([TREE, '--by', 'exe,parent', '--top', '100']);
  const of = (exe: string) => j.groups.filter((g) => g.exe === exe).map((g) => ({parent: g.parent, execs: g.execs, processes: g.processes}));
  t.same(of('/usr/bin/true'), [{parent: '/work/main/test/progs/fexec.out', execs: 2, processes: 2}], 'forked by fexec.out, twice');
  t.same(of('/usr/bin/sort'), [{parent: '/usr/bin/sh', execs: 1, processes: 1}], 'a pipeline of the script');
  // The script itself was started by the recorder (node).
  t.same(row(j, 'parent', '/usr/bin/node'), {exe: '/usr/bin/sh', parent: '/usr/bin/node', execs: 1, exec_failed: 0, nonzero_exits: 0, processes: 1});
  // env → true: the exec chain keeps the parent (the script's sh), not the image it replaced.
  t.same(of('/bin/true'), [{parent: '/usr/bin/sh', execs: 1, processes: 1}]);
  // sleep 0.3 was orphaned (reparented to pid 1) before it exec'd: its parent is still the
  // sh -c that launched it, as exectrace tree shows it.
  t.same(of('/usr/bin/sleep'), [{parent: '/usr/bin/sh', execs: 4, processes: 4}], 'the orphan too');
  t.notOk(j.groups.some((g) => g.parent === null), 'every parent known');
  const p = await groups([TREE, '--by', 'parent']);
  t.same(p.groups.map((g) => [g.parent, g.execs, g.exec_failed, g.nonzero_exits, g.processes]), [
    ['/usr/bin/sh', 26, 1, 3, 23], ['/work/main/test/progs/fexec.out', 2, 0, 0, 2], ['/usr/bin/node', 1, 0, 0, 1],
  ]);
  // A file without exec_id: the parent that forked each process, found by pid and fork order.
  const old = await groups([OLD, '--by', 'parent']);
  t.same(old.groups.map((g) => [g.parent, g.execs, g.exec_failed, g.nonzero_exits]), [
    ['/usr/bin/node', 12, 1, 3],
    ['/work/main/test/progs/execer.out', 0, 0, 1],
  ], 'execer.out fork 7: the child that exits 7 without exec\'ing');
});

t.test('filters apply: groups count only matching events', async (t) => {
  const j = await groups([TREE, '--by', 'exe', '--uid', '65534']);
  t.same(j.groups, [{exe: '/usr/bin/id', execs: 1, exec_failed: 0, nonzero_exits: 0, processes: 1}]);
  const w = await groups([TREE, '--by', 'comm', '--type', 'exit', '--where', 'exit_code != 0 or signal != null']);
  t.same(j.total.execs, 1);
  t.same(w.groups.map((g) => [g.comm, g.nonzero_exits]), [['sh', 2], ['sleep', 1]], 'the failed ones, by comm');
  t.equal(w.total.execs, 0);
  const none = await cli(['stats', TREE, '--by', 'exe', '--pid', '99999']);
  t.equal(none.status, 0);
  t.match(none.stdout, /^ +0 +0 +0 +0 {2}total \(0 groups\)$/m);
  t.match(none.stderr, /no event matched: --pid 99999/);
});

t.test('--top limits the rows, never the total, and says what it left out', async (t) => {
  const r = await cli(['stats', TREE, '--by', 'exe', '--top', '3']);
  const l = lines(r.stdout);
  t.equal(l[0], '   EXECS  FAILED  NONZERO  PROCESSES  EXE');
  t.equal(l[1], '       4       0        2          7  /usr/bin/sh');
  t.equal(l.length, 6, 'header, 3 rows, total, a note');
  t.equal(l[4], '      29       1        3         26  total (21 groups)');
  t.equal(l[5], '(18 more groups not shown: --top 21 shows every one)');
  const j = await groups([TREE, '--by', 'exe', '--top', '3']);
  t.equal(j.groups.length, 3);
  t.equal(j.more, 18);
});

t.test('a file without exec_id: a fork starts a new process under a reused pid', async (t) => {
  // Two processes under pid 4242, one after the other (a fork, an exec, an exit each).
  const s = new Synth(OLD);
  const file = path.join(dir, 'reused.bin');
  s.write(file, [[
    s.fork(s.at(1), 4242, 100, 'sh'), s.exec(s.at(2), 4242, 100, ['/usr/bin/true']), s.exit(s.at(3), 4242, 100, 'true'),
    s.fork(s.at(4), 4242, 100, 'sh'), s.exec(s.at(5), 4242, 100, ['/usr/bin/true']), s.exit(s.at(6), 4242, 100, 'true', 1),
  ]]);
  const j = await groups([file, '--by', 'exe']);
  t.same(j.groups, [{exe: '/usr/bin/true', execs: 2, exec_failed: 0, nonzero_exits: 1, processes: 2}]);
});

t.test('--by user: the recording host\'s names from the file; older files fall back and say so once', async (t) => {
  const old = await cli(['stats', TREE, '--by', 'user', '--json']);
  t.equal(old.status, 0);
  const local = passwdUsers();
  const j = JSON.parse(old.stdout) as Json;
  t.equal(j.user_names, 'local');
  t.same(j.groups.map((g) => [g.user, g.execs]), [[local['0'] ?? '0', 28], [local['65534'] ?? '65534', 1]]);
  t.equal(lines(old.stderr).length, 1, 'one line');
  t.match(old.stderr, /^exectrace: fixtures\/exec-tree\.bin has no user names \(recorded before exectrace kept them\): --by user shows this machine's \(\/etc\/passwd\)/);

  // The same records, with the recording host's map in the metadata (formats/trace-format.md §10.16).
  const file = path.join(dir, 'users.bin');
  const r = TraceReader.open(TREE);
  const records: Buffer[] = [];
  for (const c of r.chunks()) forEachFrame(c, (b, o, n) => records.push(Buffer.from(b.subarray(o, o + n))));
  const trailer = r.trailer;
  r.close();
  new Synth(TREE, {users: {0: 'toor', 65534: 'guest'}}).write(file, [records], trailer);
  const withNames = await cli(['stats', file, '--by', 'user,uid']);
  t.equal(withNames.stderr, '', 'no fallback, no warning');
  t.same(lines(withNames.stdout).slice(1, 3), [
    '      28       1        3         26  toor   0',
    '       1       0        0          1  guest  65534',
  ]);
  const other = path.join(dir, 'few-users.bin');
  new Synth(TREE, {users: {0: 'toor'}}).write(other, [records], trailer);
  const few = JSON.parse((await cli(['stats', other, '--by', 'user', '--json'])).stdout) as Json;
  t.same(few.groups.map((g) => g.user), ['toor', '65534'], 'a uid the recording host had no name for: its number');
  t.equal(few.user_names, 'recording');
});

t.test('passwdUsers: uid → name of a passwd file, the first line of a uid winning', async (t) => {
  const f = path.join(dir, 'passwd');
  fs.writeFileSync(f, 'root:x:0:0:root:/root:/bin/bash\nbroken\ntoor:x:0:0::/:/bin/sh\n:x:5:5::/:\nnobody:x:65534:65534::/:/usr/sbin/nologin\nbig:x:4294967296:1::/:\n');
  t.same(passwdUsers(f), {0: 'root', 65534: 'nobody'});
  t.same(passwdUsers(path.join(dir, 'missing')), {});
});

t.test('usage: a key that does not exist, and --by with --interval', async (t) => {
  const bad = await cli(['stats', TREE, '--by', 'exe,foo']);
  t.equal(bad.status, 2);
  t.equal(bad.stderr, 'exectrace stats: --by: expected one of exe, comm, uid, user, parent, cgroup, container, got "foo" (see exectrace stats --help)\n');
  const both = await cli(['stats', TREE, '--by', 'exe', '--interval', '1s']);
  t.equal(both.status, 2);
  t.equal(lines(both.stderr).length, 1);
  t.match(both.stderr, /--by and --interval: give one of them/);
  t.throws(() => openTrace(TREE).groups({by: ['exe', 'nope' as never]}), {message: /--by: expected one of exe, .*got "nope"/});
});

t.test('--by before the file, repeated, or as a comma list: the same groups', async (t) => {
  const a = await cli(['stats', '--by', 'uid', '--by', 'exe', TREE, '--top', '3']);
  const b = await cli(['stats', TREE, '--by', 'uid,exe', '--top', '3']);
  t.equal(a.status, 0, a.stderr);
  t.equal(a.stdout, b.stdout);
  t.equal(lines(a.stdout)[0], '   EXECS  FAILED  NONZERO  PROCESSES  UID  EXE');
});

t.test('library: trace.groups() is what stats --by --json prints', async (t) => {
  const trace = openTrace(TREE);
  try {
    const g = trace.groups({by: ['uid', 'exe'], top: 5});
    const cliJson = await groups([TREE, '--by', 'uid,exe', '--top', '5']);
    t.same(JSON.parse(JSON.stringify(g.report)), cliJson);
    t.equal(g.matched, null, 'no filter');
    t.same(g.warnings, []);
  } finally {
    trace.close();
  }
});
