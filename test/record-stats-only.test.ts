// record --stats-only (issue 13): execve-tracker's mode. Execs are counted per pid and name
// in a kernel map, printed every interval, with totals at the end; no event is recorded
// and no file written. Known workloads give exact counts; an interval boundary neither
// loses nor doubles an exec; a full table is counted, never silent. The usage errors need
// no kernel; the rest runs as root (kernelTest: under CI=true a missing capability fails).

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {spawn} from 'node:child_process';
import {BIN, kernelTest} from './lib/kernel';
import {cli, lines, type Run} from './lib/cli';
import type {ExecCountInterval} from '../src';
import {TraceReader} from '../src/format';
import {passwdUsers} from '../src/util/users';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-stats-only-'));
t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));

/**
 * Runs record in `cwd` (a directory of its own, to see that no file appears in it). With
 * `interruptAfterMs`: SIGINT that long after record said it is counting.
 */
function record(args: string[], cwd: string, o: {interruptAfterMs?: number} = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, 'record', ...args], {cwd, stdio: ['ignore', 'pipe', 'pipe']});
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    let armed = false;
    p.stderr.on('data', (d) => {
      stderr += d;
      if (o.interruptAfterMs !== undefined && !armed && /counting execs every/.test(stderr)) {
        armed = true;
        setTimeout(() => p.kill('SIGINT'), o.interruptAfterMs);
      }
    });
    p.on('error', reject);
    p.on('close', (status) => resolve({status, stdout, stderr}));
  });
}

function workdir(name: string): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d);
  return d;
}

const parse = (r: Run): ExecCountInterval[] => lines(r.stdout).map((l) => JSON.parse(l) as ExecCountInterval);

t.test('usage: no file, no events, no syscalls; --interval and --json need --stats-only (one line, exit 2)', async (t) => {
  for (const [args, msg] of [
    [['--stats-only', '-o', 'x.bin'], '--stats-only and -o: stats-only counts execs in the kernel and writes no file; record without --stats-only to keep the events'],
    [['--stats-only', '--stdout'], '--stats-only and --stdout: stats-only prints counts, not events; drop --stdout'],
    [['--stats-only', '--syscalls'], '--stats-only and --syscalls: stats-only counts execs only; record with -o to keep syscalls'],
    [['--interval', '2s', '-o', 'x.bin'], '--interval goes with --stats-only (for a time series of a recording: exectrace stats FILE --interval 1s)'],
    [['--json', '-o', 'x.bin'], '--json goes with --stdout (or --stats-only): the file is always the raw records'],
    [['--stats-only', '--interval', 'soon'], '--interval: cannot read duration "soon" (examples: 500ms, 30s, 5m, 1h)'],
  ] as const) {
    const cwd = workdir(`usage-${args.join('').replace(/\W/g, '')}`);
    const r = await record([...args], cwd);
    t.equal(r.status, 2, args.join(' '));
    t.equal(r.stderr, `exectrace record: ${msg}\n`);
    t.same(fs.readdirSync(cwd), [], 'no file');
  }
});

kernelTest(t, 'kernel: a known workload gives exact counts per pid and name, and writes nothing', async (t) => {
  const cwd = workdir('known');
  const r = await record(['--stats-only', '--json', '--follow', '--interval', '30s', '--',
    'sh', '-c', 'for i in 1 2 3; do /bin/true; done; /nonexistent/x 2> /dev/null; /bin/echo x > /dev/null; exit 0'], cwd);
  t.equal(r.status, 0, r.stderr);
  t.same(fs.readdirSync(cwd), [], 'no file written');
  const out = parse(r);
  t.same(out.map((o) => o.type), ['interval', 'totals'], 'one interval (the command ended first), then the totals');
  const tot = out[1];
  // The shell, three trues and an echo (each forked by it), and the child whose exec failed.
  t.same(tot.execs.map((c) => `${c.name} ${c.count} ${c.failed}`).sort(), ['echo 1 0', 'sh 0 1', 'sh 1 0', 'true 1 0', 'true 1 0', 'true 1 0']);
  const sh = tot.execs.find((c) => c.name === 'sh' && c.count === 1)!;
  const child = tot.execs.find((c) => c.name === 'sh' && c.failed === 1)!;
  const trues = tot.execs.filter((c) => c.name === 'true');
  t.equal(new Set([sh.pid, child.pid, ...trues.map((c) => c.pid), tot.execs.find((c) => c.name === 'echo')!.pid]).size, 6, 'six processes');
  t.ok(trues.every((c) => c.pid > sh.pid), 'each true its own child of the shell');
  t.equal(tot.total, 5);
  t.equal(tot.failed, 1, 'the failed exec: on the forked shell that tried it, by its name');
  t.equal(tot.overflow, 0);
  t.equal(tot.intervals, 1);
  t.equal(tot.end_reason, 'command exited');
  t.same(out[0].execs, tot.execs, 'the interval holds what the totals do');
  t.ok(Date.parse(out[0].start) <= Date.parse(out[0].end));
  // Sorted by count, then pid.
  const keys = tot.execs.map((c) => [c.count, c.pid]);
  t.same(keys, [...keys].sort((a, b) => b[0] - a[0] || a[1] - b[1]), 'most execs first, then by pid');
  t.match(r.stderr, /^exectrace: counting execs every 30s by pid and name; no file is written, no event recorded$/m);
});

kernelTest(t, 'kernel: the human table, and the command\'s exit status', async (t) => {
  const cwd = workdir('human');
  const r = await record(['--stats-only', '--follow', '--interval', '30s', '--', 'sh', '-c', '/bin/true; exit 3'], cwd);
  t.equal(r.status, 3, 'the command\'s status, as record gives it');
  const l = lines(r.stdout);
  t.match(l[0], /^\d\d:\d\d:\d\d\.\d{3} → \d\d:\d\d:\d\d\.\d{3} {2}2 execs, 0 failed$/);
  t.equal(l[1], '    PID  NAME              EXECUTIONS  FAILED');
  t.match(l[2], /^ +\d+  sh {25}1 {7}0$/);
  t.match(l[3], /^ +\d+  true {23}1 {7}0$/);
  t.match(l.find((x) => x.startsWith('total ')) ?? '', /^total \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} → .* \(\d+\.\d\ds, 1 interval\): 2 execs, 0 failed.* \(command exited\)$/);
});

kernelTest(t, 'kernel: interval boundaries neither lose nor double an exec', async (t) => {
  const cwd = workdir('boundaries');
  // One process that execs itself 1500 times (one pid, one name: the same key counted across
  // many flips), then 300 children that exec /bin/true, over many 20 ms intervals.
  const chain = path.join(cwd, 'chain.sh');
  fs.writeFileSync(chain, 'n=$1\nif [ "$n" -gt 0 ]; then exec /bin/sh "$0" $((n - 1)); fi\ni=0\nwhile [ $i -lt 300 ]; do /bin/true; i=$((i + 1)); done\necho $$ > pid\n');
  const r = await record(['--stats-only', '--json', '--follow', '--interval', '20ms', '--', '/bin/sh', chain, '1500'], cwd);
  t.equal(r.status, 0, r.stderr);
  const pid = Number(fs.readFileSync(path.join(cwd, 'pid'), 'utf8'));
  const out = parse(r);
  const ivs = out.filter((o) => o.type === 'interval');
  const tot = out.at(-1)!;
  t.equal(tot.type, 'totals');
  t.ok(ivs.length >= 5, `the workload spans several intervals (${ivs.length})`);
  t.equal(tot.intervals, ivs.length);
  const shIn = ivs.map((iv) => iv.execs.find((c) => c.pid === pid && c.name === 'sh')?.count ?? 0);
  t.ok(shIn.filter((n) => n > 0).length >= 2, `the chain's key was counted in ${shIn.filter((n) => n > 0).length} intervals`);
  t.equal(shIn.reduce((a, n) => a + n, 0), 1501, 'the chain: the first exec and 1500 more, each counted once');
  t.same(tot.execs.find((c) => c.pid === pid), {pid, name: 'sh', count: 1501, failed: 0});
  const trues = tot.execs.filter((c) => c.name === 'true');
  t.equal(trues.length, 300, '300 children');
  t.ok(trues.every((c) => c.count === 1 && c.failed === 0), 'each once');
  t.equal(tot.total, 1801);
  t.equal(ivs.reduce((a, iv) => a + iv.total, 0), 1801, 'the intervals add up to the totals');
  t.equal(tot.overflow, 0);
  // Consecutive intervals meet: each starts where the last ended.
  for (let i = 1; i < ivs.length; i++) t.equal(ivs[i].start, ivs[i - 1].end);
});

kernelTest(t, 'kernel: a full table is counted as overflow and said, never silent', async (t) => {
  const cwd = workdir('overflow');
  // Room for 4 pairs per interval (8 entries: both generations): 21 execs in one interval.
  const r = await record(['--stats-only', '--follow', '--interval', '30s', '--stats-entries', '4', '--',
    'sh', '-c', 'i=0; while [ $i -lt 20 ]; do /bin/true; i=$((i + 1)); done'], cwd);
  t.equal(r.status, 0, r.stderr);
  const head = lines(r.stdout)[0];
  const m = /  (\d+) execs, 0 failed, (\d+) more not counted by pid and name \(the kernel's table was full\)$/.exec(head);
  t.ok(m, head);
  t.equal(Number(m?.[1]) + Number(m?.[2]), 21, 'counted + overflow = every exec');
  t.ok(Number(m?.[1]) <= 8 && Number(m?.[2]) >= 13, 'the table held at most its 8 entries');
  const j = parse(await record(['--stats-only', '--json', '--follow', '--interval', '30s', '--stats-entries', '4', '--',
    'sh', '-c', 'i=0; while [ $i -lt 20 ]; do /bin/true; i=$((i + 1)); done'], cwd));
  const tot = j.at(-1)!;
  t.equal(tot.total + tot.overflow, 21);
  t.ok(tot.overflow >= 13);
});

kernelTest(t, 'kernel: Ctrl+C prints the totals; --pid --follow counts a running tree', async (t) => {
  const cwd = workdir('sigint');
  const loop = spawn('sh', ['-c', 'while :; do /bin/true; sleep 0.05; done'], {stdio: 'ignore'});
  t.teardown(() => {
    loop.kill('SIGKILL');
  });
  await new Promise((r) => setTimeout(r, 100));
  const r = await record(['--stats-only', '--json', '--pid', String(loop.pid), '--follow', '--interval', '200ms'], cwd, {interruptAfterMs: 700});
  t.equal(r.status, 0, 'as record without a command: 0 after Ctrl+C');
  const out = parse(r);
  const tot = out.at(-1)!;
  t.equal(tot.type, 'totals');
  t.equal(tot.end_reason, 'signal SIGINT');
  t.ok(tot.total >= 4, `the loop's execs (${tot.total}: two every 50 ms or so)`);
  t.ok(tot.execs.every((c) => c.name === 'true' || c.name === 'sleep'), 'only the tree of --pid');
  t.equal(out.filter((o) => o.type === 'interval').reduce((a, o) => a + o.total, 0), tot.total);
  t.same(fs.readdirSync(cwd), []);
});

kernelTest(t, 'kernel: --duration ends it with the totals; a --comm no process has counts nothing, and says so', async (t) => {
  const cwd = workdir('duration');
  const r = await record(['--stats-only', '--json', '--duration', '700ms', '--interval', '200ms', '--comm', 'no-such-comm'], cwd);
  t.equal(r.status, 0, r.stderr);
  const out = parse(r);
  const tot = out.at(-1)!;
  t.equal(tot.end_reason, 'duration reached');
  t.ok(out.length >= 4, `three intervals of 200 ms and the last part, then the totals (${out.length})`);
  t.same([tot.total, tot.failed, tot.overflow, tot.execs], [0, 0, 0, []]);
  t.equal(tot.intervals, out.length - 1);
  t.match(r.stderr, /^exectrace: counting only: comm no-such-comm$/m);
});

kernelTest(t, 'kernel: a recording keeps the host\'s user names (users) and says stats_only 0', async (t) => {
  const cwd = workdir('users');
  const r = await record(['-o', 't.bin', '--follow', '--', '/bin/true'], cwd);
  t.equal(r.status, 0, r.stderr);
  const reader = TraceReader.open(path.join(cwd, 't.bin'));
  const meta = reader.meta as {users?: Record<string, string>; options?: {stats_only?: number}};
  reader.close();
  t.same(meta.users, passwdUsers(), 'this host\'s /etc/passwd, uid → name');
  t.equal(meta.users?.['0'], 'root');
  t.equal(meta.options?.stats_only, 0);
  const g = await cli(['stats', path.join(cwd, 't.bin'), '--by', 'user', '--json']);
  t.equal(g.stderr, '', 'no fallback warning: the file has its names');
  t.same(JSON.parse(g.stdout).groups.map((x: {user: string; execs: number}) => [x.user, x.execs]), [['root', 1]]);
});
