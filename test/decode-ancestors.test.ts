// Offline: decode --ancestors on fixtures/exec-tree.bin (test/progs/tree-workload.sh,
// recorded with exec ids under `record --follow` from a shell of the machine) and
// fixtures/exec-scenarios.bin (no ids): every exec and exec_failed names who forked its
// process, from the parent upward, with the image each ancestor ran; through every
// filter, and from the library as from the CLI.

import t from 'tap';
import * as path from 'node:path';
import {openTrace} from '../src';
import {cli, lines} from './lib/cli';

const TREE = 'fixtures/exec-tree.bin';
const EXECS = 'fixtures/exec-scenarios.bin';

type Ev = Record<string, any>;
const events = (stdout: string): Ev[] => lines(stdout).map((l) => JSON.parse(l));
const pids = (e: Ev) => (e.ancestors as Ev[]).map((a) => a.pid);

/** The recording's own chain, from the snapshot: the recorder (node), the shells that ran it, the sandbox's init. */
const RECORDER = [18158, 18115, 18114, 1164, 1163, 1];

t.test('decode --ancestors --json: /bin/true chained was launched by the workload\'s shell, under the recorder', async (t) => {
  const r = await cli(['decode', TREE, '--ancestors', '--json', '--type', 'exec']);
  t.equal(r.status, 0, r.stderr);
  const all = events(r.stdout);
  const e = all.find((x) => x.argv.join(' ') === '/bin/true chained')!;
  t.equal(e.pid, 18179);
  t.same(e.ancestors[0], {
    pid: 18170, exec_id: '512ae60198224a37:18170:541503304347:6', comm: 'sh', uid: 0,
    filename: '/usr/bin/sh', argv: ['sh', 'test/progs/tree-workload.sh'],
  }, 'the parent: the image of sh that forked it');
  t.same(e.ancestors[1], {
    pid: 18158, exec_id: '512ae60198224a37:18158:541086270483:5', comm: 'node', uid: 0, filename: '/usr/bin/node',
    argv: ['node', './bin/exectrace', 'record', '--force', '-o', 'fixtures/exec-tree.bin', '--follow', '--', 'sh', 'test/progs/tree-workload.sh'],
  }, 'its parent: the recorder, from the snapshot');
  t.same(pids(e), [18170, ...RECORDER]);
  t.same(e.ancestors.map((a: Ev) => a.comm), ['sh', 'node', 'bash', 'bash', 'bash', 'memfd:sealed-91', 'process_api']);
  t.equal(Object.keys(e).pop(), 'ancestors', 'the last key of the event');
  t.ok(all.every((x) => Array.isArray(x.ancestors) && x.ancestors.length >= RECORDER.length), 'every exec has them');

  // A chain of execs is one process: the three images of 18179 have the same ancestors.
  const chained = all.filter((x) => x.pid === 18179);
  t.same(chained.map((x) => x.argv[0]), ['sh', 'env', '/bin/true']);
  t.same(chained.map((x) => JSON.stringify(x.ancestors)), chained.map(() => JSON.stringify(e.ancestors)));

  // A subshell that never exec'd forked dirname: its ancestor runs the shell's program.
  const dirname = all.find((x) => x.comm === 'dirname')!;
  t.same(dirname.ancestors.slice(0, 2).map((a: Ev) => [a.pid, a.exec_id, a.argv.join(' ')]), [
    [18171, '512ae60198224a37:18171:541504858629:6', 'sh test/progs/tree-workload.sh'],
    [18170, '512ae60198224a37:18170:541503304347:6', 'sh test/progs/tree-workload.sh'],
  ]);

  // The orphan: its exec names ppid 1 (it was reparented), its ancestors the shell that forked it.
  const orphan = all.find((x) => x.pid === 18185)!;
  t.equal(orphan.ppid, 1);
  t.same(pids(orphan), [18184, 18170, ...RECORDER]);
  t.same(orphan.ancestors[0].argv, ['sh', '-c', 'sleep 0.3 & exit 0']);

  // The two processes with pid 18189 have the same parent image, and different exec ids of their own.
  const reused = all.filter((x) => x.pid === 18189);
  t.equal(reused.length, 2);
  t.not(reused[0].exec_id, reused[1].exec_id);
  t.same(reused.map((x) => x.ancestors[0].exec_id), ['512ae60198224a37:18188:542127383885:7', '512ae60198224a37:18188:542127383885:7']);
});

t.test('exec_failed has ancestors; fork, exit and process events do not', async (t) => {
  const r = await cli(['decode', TREE, '--ancestors', '--json']);
  const all = events(r.stdout);
  const failed = all.find((x) => x.type === 'exec_failed')!;
  t.same(pids(failed), [18180, 18170, ...RECORDER]);
  t.same(failed.ancestors[0].argv, ['sh', '-c', '/nonexistent/tool --flag 2> /dev/null; exit 3']);
  t.same(all.filter((x) => x.type !== 'exec' && x.type !== 'exec_failed' && 'ancestors' in x), []);
  const plain = events((await cli(['decode', TREE, '--json'])).stdout);
  t.same(plain.filter((x) => 'ancestors' in x), [], 'without --ancestors, no event has them');
  t.equal(plain.length, all.length);
});

t.test('decode --ancestors, human lines: the nearest ancestors and the root', async (t) => {
  const r = await cli(['decode', TREE, '--ancestors', '--type', 'exec', '--type', 'exec_failed'], {TZ: 'UTC'});
  const out = lines(r.stdout);
  t.equal(out.find((l) => l.includes('] /bin/true chained')),
    '19:11:34.829400 exec        [18179 ppid=18170 uid=0 comm="true"] /bin/true chained  ← sh(18170) ← node(18158) ← bash(18115) ← … 3 more ← process_api(1)');
  t.equal(out.find((l) => l.includes('exec_failed')),
    '19:11:34.831567 exec_failed [18181 ppid=18180 uid=0 comm="sh"] /nonexistent/tool: /nonexistent/tool --flag = ENOENT  ← sh(18180) ← sh(18170) ← node(18158) ← … 4 more ← process_api(1)');
  t.equal(out.find((l) => l.includes('tree-workload.sh  (/usr/bin/sh)')),
    '19:11:34.817438 exec        [18170 ppid=18158 uid=0 comm="sh"] sh test/progs/tree-workload.sh  (/usr/bin/sh)  ← node(18158) ← bash(18115) ← bash(18114) ← … 2 more ← process_api(1)');
});

t.test('the table sees every event: filters do not change the ancestors of what they keep', async (t) => {
  const all = events((await cli(['decode', TREE, '--ancestors', '--json', '--type', 'exec'])).stdout);
  const byTime = new Map(all.map((e) => [e.ts_ns, JSON.stringify(e.ancestors)]));
  for (const flags of [['--comm', 'true'], ['--tree', '18188'], ['--pid', '18185'], ['--since', '+0.6s'], ['--where', 'argv =~ /chained/']]) {
    const kept = events((await cli(['decode', TREE, '--ancestors', '--json', '--type', 'exec', ...flags])).stdout);
    t.ok(kept.length > 0, `${flags.join(' ')}: ${kept.length} execs`);
    t.same(kept.filter((e) => JSON.stringify(e.ancestors) !== byTime.get(e.ts_ns)).map((e) => e.pid), [], `${flags.join(' ')}: the same ancestors`);
  }
});

t.test('a file written by filter --comm true -o answers as its source does', async (t) => {
  const dir = t.testdir();
  const out = path.join(dir, 'true.bin');
  const f = await cli(['filter', TREE, '--comm', 'true', '-o', out]);
  t.equal(f.status, 0, f.stderr);
  t.match(f.stdout, /kept 6 of 82 records \(exec 3, exit 3\), plus 4 context records/);
  const fromFiltered = await cli(['decode', out, '--ancestors', '--json']);
  const fromSource = await cli(['decode', TREE, '--ancestors', '--json', '--comm', 'true']);
  t.equal(fromFiltered.stdout, fromSource.stdout, 'the same events, with the same ancestors');
  t.same(events(fromFiltered.stdout).filter((e) => e.type === 'exec').map(pids), [[18170, ...RECORDER], [18188, 18170, ...RECORDER], [18188, 18170, ...RECORDER]]);
});

t.test('openTrace(file, {ancestors: true}) gives what decode --ancestors --json prints', async (t) => {
  const ours: string[] = [];
  const trace = openTrace(TREE, {ancestors: true, type: ['exec', 'exec_failed']});
  for await (const e of trace) {
    if (e.type === 'exec' || e.type === 'exec_failed') {
      // Typed: ExecEvent.ancestors?: Ancestor[].
      const first = e.ancestors?.[0];
      if (first !== undefined) t.type(first.pid, 'number');
    }
    ours.push(JSON.stringify(e));
  }
  trace.close();
  const r = await cli(['decode', TREE, '--ancestors', '--json', '--type', 'exec', '--type', 'exec_failed']);
  t.same(ours, lines(r.stdout));
});

t.test('exec-scenarios.bin (no exec ids): ancestors by pid and fork order, exec_id null', async (t) => {
  const all = events((await cli(['decode', EXECS, '--ancestors', '--json', '--type', 'exec'])).stdout);
  const e = all.find((x) => x.pid === 22420)!;
  t.same(pids(e), [22408, 22396, 22366, 22363, 22362, 1063, 1062, 1]);
  t.same(e.ancestors.slice(0, 3).map((a: Ev) => [a.comm, a.exec_id, a.argv.slice(0, 2).join(' ')]), [
    ['node', null, 'node test/progs/scenarios.js'], ['node', null, 'node ./bin/exectrace'], ['make', null, 'make fixtures'],
  ]);
});
