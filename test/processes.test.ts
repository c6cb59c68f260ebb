// Offline: the process table (src/processes/model.ts) that `tree`, `decode --ancestors` and
// the --tree filter share, fed by the decoder from fixtures/exec-tree.bin (recorded from
// test/progs/tree-workload.sh, with exec ids), fixtures/exec-scenarios.bin (no ids: pid and
// fork order) and small synthetic files for what a recording does not easily give: a
// fork the file does not hold, a hostile snapshot, a chain deeper than the bound, memory.

import t from 'tap';
import * as path from 'node:path';
import {spawnSync} from 'node:child_process';
import {forEachEvent, openTrace} from '../src/decode';
import {MAX_DEPTH, type Process, type ProcessTable} from '../src/processes';
import {Synth} from './lib/synth';

const ROOT = path.resolve(__dirname, '..');
const TREE = path.join(ROOT, 'fixtures', 'exec-tree.bin');
const EXECS = path.join(ROOT, 'fixtures', 'exec-scenarios.bin');

/** Every process the table made over a whole pass, in creation order, and the table. */
function tableOf(file: string): {all: Process[]; table: ProcessTable} {
  const tr = openTrace(file);
  const table = tr.decoder.trackProcesses();
  const all: Process[] = [...table.snapshot];
  table.listen((p) => all.push(p));
  forEachEvent(tr, {processes: false}, () => {});
  tr.reader.close();
  return {all, table};
}

const argvs = (p: Process) => p.images.map((i) => (i.argv ?? []).join(' '));
const chain = (p: Process | null): number[] => {
  const out: number[] = [];
  for (let a = p; a !== null; a = a.parent) out.push(a.pid);
  return out;
};

t.test('exec-tree.bin: identity, exec chains, parents, exits', async (t) => {
  const {all, table} = tableOf(TREE);
  const one = (pid: number) => {
    const found = all.filter((p) => p.pid === pid);
    t.equal(found.length, 1, `one process with pid ${pid}`);
    return found[0];
  };

  // 18179: forked from the workload's shell, then sh -c → env → true, one process.
  const p79 = one(18179);
  t.same(p79.images.map((i) => i.how), ['fork', 'exec', 'exec', 'exec']);
  t.same(argvs(p79), ['sh test/progs/tree-workload.sh', 'sh -c exec env /bin/true chained', 'env /bin/true chained', '/bin/true chained']);
  t.same(p79.images.map((i) => i.exec_id), [
    '512ae60198224a37:18179:541513701976:6', '512ae60198224a37:18179:541513701976:7',
    '512ae60198224a37:18179:541513701976:8', '512ae60198224a37:18179:541513701976:9',
  ], 'one exec id per image, the same pid and start');
  t.equal(p79.key, '512ae60198224a37:18179:541513701976');
  t.equal(p79.start_ns, 541513701976);
  t.same(chain(p79), [18179, 18170, 18158, 18115, 18114, 1164, 1163, 1], 'the forking chain up to init, through the snapshot');
  t.equal(p79.parentImage?.exec_id, '512ae60198224a37:18170:541503304347:6', 'forked by the shell running the workload');
  t.same(p79.exit, {ts_ns: 541516694642, exit_code: 0, signal: null, core_dumped: false, running_time_ns: 2992666});

  // The orphan: forked by 18184 (sh -c 'sleep 0.3 & exit 0'), which exited first.
  const orphan = one(18185);
  t.equal(orphan.parent?.pid, 18184, 'its parent is the process that forked it');
  t.equal(orphan.ppid, 18184);
  t.same(orphan.reparented, {ppid: 1, ts_ns: 541622078503}, 'reparented to pid 1, noted at its exec');
  t.same(argvs(orphan), ['sh -c sleep 0.3 & exit 0', 'sleep 0.3']);

  // pid 18189, twice: two processes, kept apart by their start.
  const reused = all.filter((p) => p.pid === 18189);
  t.equal(reused.length, 2, 'two processes with pid 18189');
  t.same(reused.map((p) => p.key), ['512ae60198224a37:18189:542128370318', '512ae60198224a37:18189:542129626473']);
  t.same(reused.map((p) => p.parent?.pid), [18188, 18188]);
  t.same(reused.map((p) => p.exit?.running_time_ns), [949169, 804663], 'each with its own exit');
  t.ok(reused[0].parent === reused[1].parent, 'the same parent process');

  // A failed exec, a signal, a uid change, an exec from a thread, memfd and deleted.
  const failed = one(18181);
  t.same(failed.failed.map((f) => [f.argv?.join(' '), f.errno]), [['/nonexistent/tool --flag', 'ENOENT']]);
  t.same(failed.images.map((i) => i.how), ['fork'], 'it never exec\'d');
  t.equal(failed.exit?.exit_code, 127);
  t.equal(one(18180).exit?.exit_code, 3);
  t.equal(one(18182).exit?.signal, 9, 'sleep 5 killed by SIGKILL');
  t.same(one(18187).images.map((i) => [i.comm, i.uid, i.euid]), [['sh', 0, 0], ['setpriv', 0, 0], ['id', 65534, 65534]]);
  t.equal(one(18193).images[2].thread, 18194, 'echo was exec\'d by thread 18194');
  t.same(one(18191).images[2].flags, ['deleted']);
  t.same(one(18192).images[2].flags, ['memfd']);

  // The snapshot: pid 1 has no ids there (the task iterator saw it otherwise), and keeps none,
  // though the orphan's exec names its image: the answers must not depend on which records a
  // file holds (a filtered file lacks that exec).
  const init = one(1);
  t.equal(init.origin, 'snapshot');
  t.same([init.key, init.image?.exec_id, init.start_ns], [null, null, 250000000], 'its start from /proc (clock ticks)');
  t.equal(init.active, false, 'pid 1 itself did nothing (being named a new parent is not an act of its own)');
  t.equal(one(2).active, false, 'kthreadd did nothing during the recording');

  // At the end, nothing of the workload is alive; the snapshot's processes are.
  t.equal(table.live(18179), undefined, 'an exited process leaves the table');
  t.equal(table.live(18158)?.pid, 18158, 'the recorder is alive at the end');
  t.equal(all.filter((p) => p.origin === 'unseen').length, 0, 'every process was introduced by the snapshot or a fork');
});

t.test('the ancestors of an exec: the forking chain, with the image each ancestor ran', async (t) => {
  const {all, table} = tableOf(TREE);
  const p79 = all.find((p) => p.pid === 18179)!;
  const a = table.ancestors(p79);
  t.same(a.map((x) => [x.pid, x.comm, x.exec_id]), [
    [18170, 'sh', '512ae60198224a37:18170:541503304347:6'],
    [18158, 'node', '512ae60198224a37:18158:541086270483:5'],
    [18115, 'bash', '512ae60198224a37:18115:540927341891:3'],
    [18114, 'bash', '512ae60198224a37:18114:540926140038:3'],
    [1164, 'bash', '512ae60198224a37:1164:28621475180:3'],
    [1163, 'memfd:sealed-91', '512ae60198224a37:1163:28615602431:2'],
    [1, 'process_api', null],
  ]);
  t.same(a[0].argv, ['sh', 'test/progs/tree-workload.sh']);
  t.equal(a[0].filename, '/usr/bin/sh');
  t.same(a[1].argv?.slice(0, 4), ['node', './bin/exectrace', 'record', '--force']);
  // A subshell that never exec'd forked dirname: its image is the shell's program, inherited.
  const dirname = all.find((p) => p.pid === 18172)!;
  t.same(table.ancestors(dirname).slice(0, 2).map((x) => [x.pid, x.exec_id, x.argv?.join(' ')]), [
    [18171, '512ae60198224a37:18171:541504858629:6', 'sh test/progs/tree-workload.sh'],
    [18170, '512ae60198224a37:18170:541503304347:6', 'sh test/progs/tree-workload.sh'],
  ]);
});

t.test('exec-scenarios.bin (no ids): processes by pid and fork order, parents by pid', async (t) => {
  const {all} = tableOf(EXECS);
  t.ok(all.every((p) => p.key === null && p.images.every((i) => i.exec_id === null)), 'no ids anywhere');
  const driver = all.find((p) => p.pid === 22408)!;
  t.same(chain(driver), [22408, 22396, 22366, 22363, 22362, 1063, 1062, 1]);
  const forked = all.find((p) => p.pid === 22421)!;
  t.equal(forked.parent?.pid, 22420);
  t.same(argvs(forked), ['/work/main/test/progs/execer.out fork 7'], 'a fork runs its parent\'s program');
  t.equal(forked.exit?.exit_code, 7);
  t.equal(all.find((p) => p.pid === 22425)?.exit?.signal, 9);
});

// ---- synthetic files -------------------------------------------------------------------------

const proc = (pid: number, ppid: number, comm: string) => ({
  pid, tid: pid, ppid, uid: 0, gid: 0, euid: 0, egid: 0, loginuid: 0, sessionid: 1, comm, filename: `/bin/${comm}`,
  argv: [comm], cgroup: '/', ns: {pid: 4026531836}, start_time_ns: 0,
});

t.test('a process the file did not introduce, and a parent it never showed', async (t) => {
  const dir = t.testdir();
  const s = new Synth(EXECS, {processes: [proc(1, 0, 'init'), proc(100, 1, 'bash')]});
  const file = path.join(dir, 'unseen.bin');
  s.write(file, [[
    // pid 500 forks 501: 500 is in neither the snapshot nor the stream.
    s.fork(s.at(1), 501, 500, 'cron'),
    s.exec(s.at(2), 501, 500, ['/usr/bin/backup', '--all']),
    // pid 600 execs with no fork recorded: its parent is the bash of the snapshot.
    s.exec(s.at(3), 600, 100, ['curl', 'http://example.com']),
    s.exit(s.at(4), 600, 100, 'curl', 6),
    s.exit(s.at(5), 501, 500, 'backup'),
  ]]);
  const {all, table} = tableOf(file);
  const p501 = all.find((p) => p.pid === 501)!;
  t.equal(p501.parent?.pid, 500);
  t.equal(p501.parent?.origin, 'unseen', 'a placeholder for the parent');
  t.equal(p501.parent?.comm, 'cron', 'named by the comm the fork copied from it');
  t.equal(p501.parent?.ppid, null, 'whose own parent is unknown');
  const curl = all.find((p) => p.pid === 600)!;
  t.equal(curl.origin, 'unseen');
  t.same(table.ancestors(curl).map((a) => [a.pid, a.comm, a.argv]), [[100, 'bash', ['bash']], [1, 'init', ['init']]]);
  t.equal(curl.exit?.exit_code, 6);
});

t.test('a hostile snapshot (a cycle, a pid twice) makes no loop', async (t) => {
  const dir = t.testdir();
  const s = new Synth(EXECS, {processes: [proc(10, 11, 'a'), proc(11, 10, 'b'), proc(11, 1, 'c'), proc(12, 12, 'self')]});
  const file = path.join(dir, 'cycle.bin');
  s.write(file, [[s.fork(s.at(1), 13, 10, 'a'), s.exit(s.at(2), 13, 10, 'a')]]);
  const {all, table} = tableOf(file);
  t.equal(table.snapshot.length, 3, 'a pid named twice is taken once');
  for (const p of all) t.ok(chain(p).length < 10, `pid ${p.pid}: a finite chain`);
  // 10 names 11 as parent, and 11 (the first entry of it) names 10: the second link would close a loop.
  t.same(table.ancestors(all.find((p) => p.pid === 13)!).map((a) => a.pid), [10, 11]);
  t.equal(all.find((p) => p.pid === 12)!.parent, null, 'its own parent it is not');
});

t.test('a chain deeper than MAX_DEPTH is cut, so memory stays bounded', async (t) => {
  const dir = t.testdir();
  const s = new Synth(EXECS, {processes: [proc(1, 0, 'init')]});
  const file = path.join(dir, 'deep.bin');
  // Each generation forks the next and exits: a daemon walking down, 3 * MAX_DEPTH deep.
  const recs: Buffer[] = [];
  const n = 3 * MAX_DEPTH;
  for (let i = 0; i < n; i++) {
    const parent = i === 0 ? 1 : 1000 + i - 1;
    recs.push(s.fork(s.at(i * 0.01), 1000 + i, parent, 'walker'));
    if (i > 0) recs.push(s.exit(s.at(i * 0.01 + 0.005), parent, 1, 'walker'));
  }
  s.write(file, [recs]);
  const {all, table} = tableOf(file);
  const last = all[all.length - 1];
  t.equal(last.pid, 1000 + n - 1);
  const depth = chain(last).length;
  t.ok(depth <= MAX_DEPTH + 1, `the live process's chain holds ${depth} processes, at most MAX_DEPTH + 1`);
  t.ok(table.ancestors(last).length <= MAX_DEPTH, 'so do its ancestors');
  t.ok(all.some((p) => p.cut), 'a cut is marked where it was made');
});

t.test('memory follows the live processes, not the file: decode --ancestors --tree of 100 times the processes', async (t) => {
  // A long-lived shell (in the snapshot) runs many short commands, each forked, exec'd with a
  // 2 KiB argv, and exited. Decoded in a child with a small heap: the exited ones must go.
  const dir = t.testdir();
  const snap = {
    pid: 100, tid: 100, ppid: 0, uid: 0, gid: 0, euid: 0, egid: 0, loginuid: 0, sessionid: 1, comm: 'bash', filename: '/bin/bash',
    argv: ['bash'], cgroup: '/', ns: {}, start_time_ns: 1000, start_ns: 1000, exec_seq: 1, parent_start_ns: 0, parent_exec_seq: 0,
  };
  const s = new Synth(TREE, {processes: [snap]});
  const make = (file: string, n: number) => {
    const chunks: Buffer[][] = [];
    let recs: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const pid = 1000 + (i % 30000);
      const start = s.at(1) + i * 1000;
      const ids = (seq: number) => ({'task.start_ns': start, 'task.exec_seq': seq, 'task.parent_start_ns': 1000, 'task.parent_exec_seq': 1});
      recs.push(
        s.record('fork', {ts: start, pid}, {'task.ppid': 100, 'task.comm': 'bash', parent_tid: 100, ...ids(1)}),
        s.record('exec', {ts: start + 100, pid}, {'task.ppid': 100, 'task.comm': 'cmd', old_tid: pid, argc: 2, ...ids(2)},
          {filename: '/usr/bin/cmd', argv: ['cmd', `${i}:${'x'.repeat(2048)}`]}),
        s.record('exit', {ts: start + 200, pid}, {'task.ppid': 100, 'task.comm': 'cmd', nr_threads: 1, ...ids(2)}),
      );
      if (recs.length >= 3000) {
        chunks.push(recs);
        recs = [];
      }
    }
    if (recs.length) chunks.push(recs);
    s.write(file, chunks);
  };
  const small = path.join(dir, 'small.bin');
  const big = path.join(dir, 'big.bin');
  make(small, 600);
  make(big, 60000);
  const run = (file: string) => {
    const script = `const {openTrace} = require(${JSON.stringify(path.join(ROOT, 'dist', 'src'))});` +
      `let n = 0; let last = 0; for (const e of openTrace(${JSON.stringify(file)}, {ancestors: true, tree: 100})) ` +
      `if (e.type === 'exec') { n++; last = e.ancestors.length; }` +
      // The heap after a collection: what the table still holds at the end.
      'global.gc(); process.stdout.write(JSON.stringify({heap: process.memoryUsage().heapUsed, n, last}));';
    // A 48 MiB heap: 60,000 argv of 2 KiB (117 MiB) kept would not fit.
    const c = spawnSync(process.execPath, ['--max-old-space-size=48', '--expose-gc', '-e', script], {encoding: 'utf8'});
    if (c.status !== 0) throw new Error(c.stderr.split('\n').filter((l) => /heap|Error/.test(l)).slice(0, 2).join(' '));
    return JSON.parse(c.stdout) as {heap: number; n: number; last: number};
  };
  const a = run(small);
  const b = run(big);
  t.same([a.n, a.last, b.n, b.last], [600, 1, 60000, 1], 'every exec kept by --tree 100, each with its shell as ancestor');
  const mib = (x: number) => (x / 1048576).toFixed(1);
  t.ok(b.heap < a.heap + 8 * 1048576, `heap at the end: ${mib(b.heap)} MiB for 60,000 processes (${mib(60000 * 2048)} MiB of argv), ${mib(a.heap)} MiB for 600`);
});
