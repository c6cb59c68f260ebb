// Offline: `exectrace tree` and processTree() on fixtures/exec-tree.bin (test/progs/
// tree-workload.sh, recorded with exec ids by `record --follow` from a shell: a pipeline,
// a script, an exec chain, a failed exec, exit 3 and SIGKILL, an orphan, uid 65534, pid
// 18189 given to two processes, memfd and deleted execs, an exec from a thread) and
// fixtures/exec-scenarios.bin (no ids); and the agreement of the --tree filter with
// `tree --pid` on every pid of both files.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {openTrace, processTree, toJson, type ProcessNode} from '../src';
import {TraceReader, TraceWriter} from '../src/format';
import {cli, lines, ROOT} from './lib/cli';

const TREE = 'fixtures/exec-tree.bin';
const EXECS = 'fixtures/exec-scenarios.bin';

/** Every node of a forest, depth first. */
function nodes(roots: ProcessNode[]): ProcessNode[] {
  const out: ProcessNode[] = [];
  const todo = [...roots].reverse();
  while (todo.length) {
    const n = todo.pop()!;
    out.push(n);
    todo.push(...[...n.children].reverse());
  }
  return out;
}

/** `pid` and the tree guide before the command, of each line of tree's output (columns placed by the header). */
function shape(out: string): string[] {
  const [head, ...rows] = lines(out);
  const at = head.indexOf('COMMAND');
  return rows.map((l) => `${l.slice(0, at).trim().split(/ +/).pop()} ${/^(?:[│ ] {2}|[├└]─ )*/.exec(l.slice(at))![0]}`);
}

/** The COMMAND cells (guides and exec chain) of tree's output. */
function commands(out: string): string[] {
  const [head, ...rows] = lines(out);
  return rows.map((l) => l.slice(head.indexOf('COMMAND')));
}

t.test('tree: the forest of the recording, one line per process, pstree-like', async (t) => {
  const r = await cli(['tree', TREE, '--utc'], {TZ: 'Asia/Tokyo'});
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr, 'exectrace: 67 processes alive at start left out: nothing happened to them during the recording (--all shows them)\n');
  const out = lines(r.stdout);
  t.equal(out[0], 'START            LIFETIME  STATUS        UID    PID  COMMAND');
  t.equal(out.length, 1 + 7 + 25, 'the recording\'s chain from init (7) and the 25 processes of the workload below it');
  const line = (pid: number) => out.filter((l) => new RegExp(`^\\S+ +\\S* +.+? +\\S+ +${pid}  `).test(l));
  const expect: [number, string][] = [
    [18170, '19:11:34.816931     636ms  exit 0          0  18170                 └─ sh test/progs/tree-workload.sh'],
    [18171, '19:11:34.818485    2.04ms  exit 0          0  18171                    ├─ sh test/progs/tree-workload.sh  [no exec]'],
    [18179, '19:11:34.827328    2.99ms  exit 0          0  18179                    ├─ sh -c \'exec env /bin/true chained\' → env /bin/true chained → /bin/true chained'],
    [18181, '19:11:34.831536    46.5µs  exit 127        0  18181                    │  └─ sh -c \'/nonexistent/tool --flag 2> /dev/null; exit 3\'  [no exec]  ✗ /nonexistent/tool --flag = ENOENT'],
    [18182, '19:11:34.832216     102ms  SIGKILL         0  18182                    ├─ sleep 5'],
    [18185, '19:11:34.935331     301ms  exit 0          0  18185                    │  └─ sleep 0.3  [reparented to 1]'],
    [18187, '19:11:35.437330    3.32ms  exit 0    0→65534  18187                    ├─ setpriv --reuid=65534 --regid=65534 --clear-groups id -u → id -u'],
    [18191, '19:11:35.446156    1.31ms  exit 0          0  18191                    ├─ /work/main/test/progs/fexec.out deleted del deleted-true → deleted-true (/dev/fd/3) [deleted]'],
    [18193, '19:11:35.449135    1.98ms  exit 0          0  18193                    ├─ /work/main/test/progs/execer.out thread-exec /bin/echo \'exec from a thread\' → /bin/echo \'exec from a thread\' [exec by thread 18194]'],
    [18195, '19:11:35.451308    1.48ms  exit 0          0  18195                    └─ rm -rf /tmp/exectrace-tree.I29yvS'],
  ];
  for (const [pid, want] of expect) t.same(line(pid), [want], `pid ${pid}`);
  t.same(line(18189), [
    '19:11:35.441997     949µs  exit 0          0  18189                    │  ├─ /usr/bin/true',
    '19:11:35.443253     805µs  exit 0          0  18189                    │  └─ /usr/bin/true',
  ], 'pid 18189 twice: two processes, each with its own start, lifetime and exit');
  t.same(shape(r.stdout).slice(0, 10), [
    '1 ', '1163 └─ ', '1164    └─ ', '18114       └─ ', '18115          └─ ', '18158             └─ ',
    '18170                └─ ', '18171                   ├─ ', '18172                   │  └─ ', '18173                   ├─ ',
  ], 'the chain from init to the workload, then its children; dirname under the subshell that forked it');
  t.match(out[1], /^19:02:33\.563626 {4}≥9m02s  running {9}0 {6}1  \/process_api --firecracker-init /, 'init: started before the recording, still running at its end');
  t.match(out[2], /' \(\/memfd:sealed-91173221a7ea \(deleted\)\)$/, 'argv[0] does not name the file: the file follows');
});

t.test('tree --pid: the ancestry from the root down, then the subtree; a reused pid shows each process', async (t) => {
  const r = await cli(['tree', TREE, '--pid', '18189'], {TZ: 'UTC'});
  t.equal(r.status, 0);
  t.same(shape(r.stdout), [
    '1 ', '1163 └─ ', '1164    └─ ', '18114       └─ ', '18115          └─ ', '18158             └─ ',
    '18170                └─ ', '18188                   └─ ', '18189                      ├─ ', '18189                      └─ ',
  ]);
  t.equal(r.stderr, 'exectrace: pid 18189 names 2 processes in this file (started 19:11:35.441997, 19:11:35.443253): all are shown; --exec-id picks one\n');

  const sub = await cli(['tree', TREE, '--pid', '18180'], {TZ: 'UTC'});
  t.same(commands(sub.stdout).slice(-3), [
    '               └─ sh test/progs/tree-workload.sh',
    '                  └─ sh -c \'/nonexistent/tool --flag 2> /dev/null; exit 3\'',
    '                     └─ sh -c \'/nonexistent/tool --flag 2> /dev/null; exit 3\'  [no exec]  ✗ /nonexistent/tool --flag = ENOENT',
  ], 'the subtree: the subshell that failed to exec');
  t.equal(sub.stderr, '', 'nothing left out: --pid shows what was asked');

  // One of the two, by any image of its chain.
  const second = await cli(['tree', TREE, '--exec-id', '512ae60198224a37:18189:542129626473:7'], {TZ: 'UTC'});
  t.same(shape(second.stdout).slice(-2), ['18188                   └─ ', '18189                      └─ ']);
  t.match(lines(second.stdout).pop(), /^19:11:35\.443253 +805µs +exit 0/);
  const env = await cli(['tree', TREE, '--exec-id', '512ae60198224a37:18179:541513701976:8'], {TZ: 'UTC'});
  t.match(lines(env.stdout).pop(), /18179 +└─ sh -c 'exec env \/bin\/true chained' → env \/bin\/true chained → \/bin\/true chained$/);
});

t.test('tree --comm, --uid, --since/--until: the processes that match, under their ancestors', async (t) => {
  const pidsOf = async (args: string[]) => shape((await cli(['tree', TREE, ...args])).stdout).map((s) => Number(s.split(' ')[0]));
  const chain = [1, 1163, 1164, 18114, 18115, 18158, 18170];
  t.same(await pidsOf(['--comm', 'true']), [...chain, 18179, 18188, 18189, 18189], 'every process that ran as `true`');
  t.same(await pidsOf(['--uid', '65534']), [...chain, 18187]);
  t.same(await pidsOf(['--comm', 'sleep', '--until', '+0.2s']), [...chain, 18182, 18183, 18184, 18185, 18186],
    'the sleeps started in the first 0.2 s (the recording began at 19:11:34.764619), and the shell that forked one of them');
  t.same(await pidsOf(['--since', '+0.68s']), [...chain, 18190, 18191, 18192, 18193, 18195],
    'alive at 19:11:35.444619 or later: fexec.out and its children had ended (the snapshot\'s idle processes left out)');
  const none = await cli(['tree', TREE, '--comm', 'nosuch']);
  t.equal(none.status, 0);
  t.equal(none.stdout, '');
  t.equal(none.stderr, 'exectrace: no process matched --comm nosuch\n', 'an empty answer says so');
});

t.test('tree names users as the recording host did when the file has its users; --uid takes those names', async (t) => {
  // exec-tree.bin predates the `users` key: the same records with a users map of a host
  // where 65534 is called "guest", which this machine's /etc/passwd does not know.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-tree-users-'));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  const named = path.join(dir, 'named.bin');
  const rd = TraceReader.open(path.join(ROOT, TREE));
  const w = TraceWriter.create(named, {...rd.meta, users: {0: 'root', 65534: 'guest'}});
  for (const c of rd.chunks()) w.writeChunk(c.data, {records: c.records, firstTs: c.firstTs, lastTs: c.lastTs});
  w.close(rd.trailer ?? {});
  rd.close();
  const out = await cli(['tree', named, '--uid', 'guest']);
  t.equal(out.status, 0, out.stderr);
  const [head, ...rows] = lines(out.stdout);
  t.match(head, /STATUS +USER +PID +COMMAND/, 'a USER column');
  t.match(rows[rows.length - 1], /exit 0 +root→guest +18187 /, 'the setpriv process: root, then guest');
  t.match(rows[0], / root +1 /);
  const json = JSON.parse((await cli(['tree', named, '--json', '--pid', '18187'])).stdout);
  t.same(json.users, {0: 'root', 65534: 'guest'}, 'JSON: the names of the uids shown');
  t.match(lines((await cli(['tree', TREE, '--uid', '65534'])).stdout)[0], /STATUS +UID +PID/, 'a file without users: uids');
});

t.test('tree --all: every process; processTree() gives the same forest as tree --json', async (t) => {
  const r = await cli(['tree', TREE, '--all']);
  t.equal(lines(r.stdout).length, 1 + 73 + 26, 'the 73 processes alive at start and the 26 forked');
  t.equal(r.stderr, '');
  const json = await cli(['tree', TREE, '--json', '--pid', '18179']);
  const f = processTree(path.join(ROOT, TREE), {pid: [18179]});
  t.equal(json.stdout, toJson({...f, file: TREE}) + '\n');
});

t.test('tree --json: nested nodes, an exec_id for every image, RFC 3339 times, 64-bit values exact', async (t) => {
  const r = await cli(['tree', TREE, '--json', '--pid', '18179']);
  t.equal(r.status, 0);
  t.match(r.stdout, /"clock":\{"boot_ns":541450992521,"realtime_ns":1796584294764619458\}/, 'a value beyond 2^53, exact');
  const f = JSON.parse(r.stdout);
  t.same(Object.keys(f), ['file', 'roots', 'selection', 'matched', 'idle', 'reused', 'ids', 'recording', 'clock', 'complete', 'problems', 'users']);
  t.equal(f.users, null, 'no user names in a file recorded before they were kept');
  t.equal(f.selection, '--pid 18179');
  t.same(f.recording, {start_time: '2026-12-06T19:11:34.764619458Z', start_ns: 541450992521, end_time: '2026-12-06T19:11:35.765734230Z', end_ns: 542452107293});
  const all = nodes(f.roots);
  t.same(all.map((n) => [n.pid, n.context]), [[1, true], [1163, true], [1164, true], [18114, true], [18115, true], [18158, true], [18170, true], [18179, false]]);
  const n = all.pop()!;
  t.same(Object.keys(n), ['pid', 'ppid', 'exec_id', 'parent_exec_id', 'comm', 'uid', 'start_time', 'start_ns', 'origin', 'images', 'images_omitted',
    'failed_execs', 'failed_omitted', 'exit', 'status', 'reparented', 'context', 'children']);
  t.same([n.pid, n.ppid, n.exec_id, n.parent_exec_id, n.comm, n.uid, n.start_time, n.origin, n.status], [
    18179, 18170, '512ae60198224a37:18179:541513701976:9', '512ae60198224a37:18170:541503304347:6', 'true', 0,
    '2026-12-06T19:11:34.827328913Z', 'fork', 'exited',
  ]);
  t.same(n.images.map((i: any) => [i.how, i.exec_id, i.time, i.argv]), [
    ['fork', '512ae60198224a37:18179:541513701976:6', '2026-12-06T19:11:34.827338478Z', ['sh', 'test/progs/tree-workload.sh']],
    ['exec', '512ae60198224a37:18179:541513701976:7', '2026-12-06T19:11:34.827529316Z', ['sh', '-c', 'exec env /bin/true chained']],
    ['exec', '512ae60198224a37:18179:541513701976:8', '2026-12-06T19:11:34.828351716Z', ['env', '/bin/true', 'chained']],
    ['exec', '512ae60198224a37:18179:541513701976:9', '2026-12-06T19:11:34.829400653Z', ['/bin/true', 'chained']],
  ]);
  t.same(n.exit, {ts_ns: 541516694642, exit_code: 0, signal: null, core_dumped: false, running_time_ns: 2992666, time: '2026-12-06T19:11:34.830321579Z'});

  const orphan = nodes(JSON.parse((await cli(['tree', TREE, '--json', '--pid', '18185'])).stdout).roots).pop()!;
  t.same(orphan.reparented, {ppid: 1, time: '2026-12-06T19:11:34.935705440Z', ts_ns: 541622078503});
  t.equal(orphan.ppid, 18184, 'the forking parent');
  const killed = nodes(JSON.parse((await cli(['tree', TREE, '--json', '--pid', '18182'])).stdout).roots).pop()!;
  t.same([killed.status, killed.exit.signal, killed.exit.exit_code], ['killed', 9, 0]);
  const failed = nodes(JSON.parse((await cli(['tree', TREE, '--json', '--pid', '18181'])).stdout).roots).pop()!;
  t.same(failed.failed_execs.map((x: any) => [x.filename, x.argv, x.errno, x.error_code, x.exec_id]),
    [['/nonexistent/tool', ['/nonexistent/tool', '--flag'], 'ENOENT', -2, '512ae60198224a37:18181:541517909695:7']],
    'tried by the image its fork gave it (its parent had exec\'d once: exec_seq 7)');
});

t.test('tree: one-line errors, exit 2 for what was asked wrongly, 1 for a file that cannot be read', async (t) => {
  const cases: [string[], number, string][] = [
    [['tree', TREE, '--pid', '99999'], 2, 'exectrace tree: --pid 99999: no process of fixtures/exec-tree.bin had this pid\n'],
    [['tree', TREE, '--exec-id', 'abc'], 2, 'exectrace tree: --exec-id: "abc" is not an exec id (<boot>:<pid>:<start_ns>:<exec_seq>, as decode --json shows it)\n'],
    [['tree', TREE, '--exec-id', '512ae60198224a37:18189:1:7'], 2, 'exectrace tree: --exec-id 512ae60198224a37:18189:1:7: no process of fixtures/exec-tree.bin has this pid and start\n'],
    [['tree', EXECS, '--exec-id', '512ae60198224a37:18189:1:7'], 2, 'exectrace tree: --exec-id: fixtures/exec-scenarios.bin has no exec ids (it was recorded before they existed): give --pid\n'],
    [['tree', TREE, '--since', 'soon'], 2, 'exectrace tree: --since: cannot read time "soon" (examples: 2026-11-23T10:42:00Z, 10:42, 10:42:05.25, +30s, 1m30s)\n'],
    [['tree', TREE, '--pid', 'x'], 2, 'exectrace tree: --pid: expected an integer, got "x" (see exectrace tree --help)\n'],
    [['tree', 'fixtures/damaged-bad-magic.bin'], 1, 'exectrace tree: not an exectrace file: bad magic at offset 0\n'],
    [['tree'], 2, 'exectrace tree: missing argument FILE (trace file written by `exectrace record`) (see exectrace tree --help)\n'],
  ];
  for (const [args, status, stderr] of cases) {
    const r = await cli(args);
    t.equal(r.status, status, args.join(' '));
    t.equal(r.stderr, stderr);
    t.equal(r.stdout, '');
  }
});

t.test('tree on a damaged file: what survived, the damage on stderr as decode reports it, exit 3', async (t) => {
  const r = await cli(['tree', 'fixtures/damaged-flipped-byte.bin']);
  t.equal(r.status, 3);
  t.match(r.stderr, /^exectrace: fixtures\/damaged-flipped-byte\.bin: chunk seq 2 at offset 5239 \(9 records\) fails its checksum/);
  t.ok(lines(r.stdout).length > 10);
  for (const f of ['damaged-truncated.bin', 'damaged-missing-chunk.bin', 'damaged-no-trailer.bin', 'damaged-reordered.bin']) {
    const tree = await cli(['tree', `fixtures/${f}`]);
    const decode = await cli(['decode', `fixtures/${f}`]);
    const damage = (err: string) => lines(err).filter((l) => !/left out|no trailer/.test(l));
    t.equal(tree.status, 3, `${f}: exit 3`);
    t.same(damage(tree.stderr), damage(decode.stderr), `${f}: the same damage as decode reports`);
  }
  // Damage found only when the records are walked: a chunk whose header counts one record more than it holds.
  const dir = t.testdir();
  const bad = path.join(dir, 'miscounted.bin');
  const rd = TraceReader.open(path.join(ROOT, TREE));
  const w = TraceWriter.create(bad, rd.meta);
  for (const c of rd.chunks()) w.writeChunk(Buffer.from(c.data), {records: c.records + 1, counted: true, firstTs: c.firstTs, lastTs: c.lastTs});
  w.close({end_reason: 'test'});
  rd.close();
  const tree = await cli(['tree', bad]);
  const decode = await cli(['decode', bad]);
  t.equal(tree.status, 3);
  t.match(lines(tree.stderr)[0], /^exectrace: .*miscounted\.bin: chunk seq 2 at offset \d+: holds 82 records, its header says 83$/);
  t.same(lines(tree.stderr).filter((l) => !/left out/.test(l)), lines(decode.stderr));
});

t.test('exec-scenarios.bin (no exec ids): the forest by pid and fork order', async (t) => {
  const r = await cli(['tree', EXECS], {TZ: 'UTC'});
  t.equal(r.status, 0);
  t.equal(r.stderr, 'exectrace: 64 processes alive at start left out: nothing happened to them during the recording (--all shows them)\n');
  const out = lines(r.stdout);
  t.match(out.find((l) => / 22418 /.test(l)), /exit 3 +0 +22418 +├─ \/work\/main\/test\/progs\/execer\.out fail \/nonexistent\/exectrace-test x 'y z'  ✗ \/nonexistent\/exectrace-test x 'y z' = ENOENT$/);
  t.match(out.find((l) => / 22421 /.test(l)), /111µs +exit 7 +0 +22421 +│  └─ \/work\/main\/test\/progs\/execer\.out fork 7  \[no exec\]$/);
  t.match(out.find((l) => / 22419 /.test(l)), /execveat \/usr\/bin true from-execveat 'second arg' → true from-execveat 'second arg'$/,
    'an execveat through a directory fd: argv[0] names the file (/dev/fd/3/true), so it is not repeated');
  const f = JSON.parse((await cli(['tree', EXECS, '--json', '--pid', '22425'])).stdout);
  t.equal(f.ids, false);
  t.same(nodes(f.roots).map((n) => [n.pid, n.exec_id]).slice(-2), [[22408, null], [22425, null]]);
});

// ---- the --tree filter and `tree --pid` agree ------------------------------------------------

/**
 * The processes of `tree --pid PID` that --tree PID follows: the first process with the
 * pid (its start the earliest) and its subtree, as `pid@start` — a process's identity when
 * the file has no exec ids too.
 */
function treeMembers(file: string, pid: number): Set<string> {
  const f = processTree(file, {pid: [pid]});
  const first = nodes(f.roots).filter((n) => n.pid === pid && !n.context).sort((a, b) => Number(a.start_ns) - Number(b.start_ns))[0];
  return new Set(nodes([first]).map((n) => `${n.pid}@${n.start_ns}`));
}

/** The processes whose events decode --tree PID keeps, each event placed in the process of its pid that had started by then. */
function filterMembers(file: string, pid: number, starts: Map<number, number[]>): Set<string> {
  const out = new Set<string>();
  for (const e of openTrace(file, {tree: pid})) {
    if (e.type === 'lost') continue;
    const list = starts.get(e.pid)!;
    const ts = Number(e.ts_ns);
    const start = e.type === 'process' ? list[0] : [...list].reverse().find((s) => s <= ts) ?? list[0];
    out.add(`${e.pid}@${start}`);
  }
  return out;
}

for (const file of [TREE, EXECS]) {
  t.test(`${file}: --tree PID keeps the events of exactly the processes tree --pid PID shows, for every pid`, async (t) => {
    const full = path.join(ROOT, file);
    const every = nodes(processTree(full, {all: true}).roots);
    const starts = new Map<number, number[]>();
    for (const n of every) starts.set(n.pid, [...(starts.get(n.pid) ?? []), Number(n.start_ns)].sort((a, b) => a - b));
    const pids = [...starts.keys()];
    t.ok(pids.length > 70, `${pids.length} pids`);
    const differ: string[] = [];
    for (const pid of pids) {
      const a = treeMembers(full, pid);
      const b = filterMembers(full, pid, starts);
      // A process with no event of its own (an idle one of the snapshot is shown by --all) is in the
      // tree but has nothing for the filter to keep: --tree keeps `process` events, so every one has one.
      const onlyTree = [...a].filter((k) => !b.has(k));
      const onlyFilter = [...b].filter((k) => !a.has(k));
      if (onlyTree.length || onlyFilter.length) differ.push(`${pid}: tree only ${onlyTree.join(',')}; filter only ${onlyFilter.join(',')}`);
    }
    t.same(differ, [], 'the same processes for every pid');
  });
}

t.test(`${TREE}: --tree-exec-id ID keeps the events of exactly the processes tree --exec-id ID shows, for every process`, async (t) => {
  const full = path.join(ROOT, TREE);
  const every = nodes(processTree(full, {all: true}).roots);
  const starts = new Map<number, number[]>();
  for (const n of every) starts.set(n.pid, [...(starts.get(n.pid) ?? []), Number(n.start_ns)].sort((a, b) => a - b));
  const differ: string[] = [];
  let asked = 0;
  for (const n of every) {
    // Any image of the process names it: the last one here, the first below.
    for (const id of new Set([n.images[n.images.length - 1].exec_id, n.images[0].exec_id])) {
      if (id === null) continue; // pid 1: the snapshot has no ids for it
      asked++;
      const f = processTree(full, {execId: [id]});
      const root = nodes(f.roots).find((x) => !x.context)!;
      const a = new Set(nodes([root]).map((x) => `${x.pid}@${x.start_ns}`));
      const b = new Set<string>();
      for (const e of openTrace(full, {treeExecId: id})) {
        if (e.type === 'lost') continue;
        const list = starts.get(e.pid)!;
        const start = e.type === 'process' ? list[0] : [...list].reverse().find((x) => x <= Number(e.ts_ns)) ?? list[0];
        b.add(`${e.pid}@${start}`);
      }
      if ([...a].some((k) => !b.has(k)) || [...b].some((k) => !a.has(k))) differ.push(`${id}: tree ${[...a].join(',')}; filter ${[...b].join(',')}`);
    }
  }
  t.ok(asked > 90, `${asked} exec ids`);
  t.same(differ, [], 'the same processes for every exec id');
});

t.test('--tree-exec-id: the second process given pid 18189; a bad or unknown id', async (t) => {
  const r = await cli(['decode', TREE, '--json', '--tree-exec-id', '512ae60198224a37:18189:542129626473:8']);
  t.same(lines(r.stdout).map((l) => JSON.parse(l)).map((e) => `${e.type} ${e.exec_id}`), [
    'fork 512ae60198224a37:18189:542129626473:7', 'exec 512ae60198224a37:18189:542129626473:8', 'exit 512ae60198224a37:18189:542129626473:8',
  ]);
  const unknown = await cli(['decode', TREE, '--tree-exec-id', '512ae60198224a37:18189:1:7']);
  t.same([unknown.status, unknown.stdout, unknown.stderr], [0, '', 'exectrace: no event matched: --tree-exec-id 512ae60198224a37:18189:1:7: no such process in this file\n']);
  const bad = await cli(['stats', TREE, '--tree-exec-id', '18189']);
  t.same([bad.status, bad.stderr], [2, 'exectrace stats: --tree-exec-id: "18189" is not an exec id (<boot>:<pid>:<start_ns>:<exec_seq>, as decode --json shows it)\n']);
});

t.test('--tree 18188 keeps both processes given pid 18189; --tree 18189 the first only', async (t) => {
  const ids = (args: string[]) => cli(['decode', TREE, '--json', ...args]).then((r) => lines(r.stdout).map((l) => JSON.parse(l)).filter((e) => e.pid === 18189).map((e) => `${e.type} ${e.exec_id}`));
  t.same(await ids(['--tree', '18188']), [
    'fork 512ae60198224a37:18189:542128370318:7', 'exec 512ae60198224a37:18189:542128370318:8', 'exit 512ae60198224a37:18189:542128370318:8',
    'fork 512ae60198224a37:18189:542129626473:7', 'exec 512ae60198224a37:18189:542129626473:8', 'exit 512ae60198224a37:18189:542129626473:8',
  ]);
  t.same(await ids(['--tree', '18189']), [
    'fork 512ae60198224a37:18189:542128370318:7', 'exec 512ae60198224a37:18189:542128370318:8', 'exit 512ae60198224a37:18189:542128370318:8',
  ], 'the second process with the pid is not the root, nor below it');
});
