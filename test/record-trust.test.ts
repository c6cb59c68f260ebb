// Kernel tests that every call is recorded once: rt_sigreturn, whose exit no longer says
// which call it ends, is recorded from the thread's own entry (counts equal strace -c -f
// on a program that handles signals), and a call still blocked in one thread when the
// process exits is one call, not an unfinished half and a separate half without entry.

import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {spawnSync} from 'node:child_process';
import {BIN, CI, ROOT, kernelTest} from './lib/kernel';
import {straceCounts} from './lib/strace';

type Ev = Record<string, any>;
const SIGNALER = path.join(ROOT, 'test', 'progs', 'signaler.out');
const TWOTHREAD = path.join(ROOT, 'test', 'progs', 'twothread.out');

function cli(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {encoding: 'utf8', maxBuffer: 256 << 20});
}


kernelTest(t, 'kernel: a program that handles signals: stats counts equal strace -c -f, rt_sigreturn included', async (t) => {
  if (spawnSync('sh', ['-c', 'command -v strace']).status !== 0) {
    if (CI) t.fail('strace is not installed');
    else t.skip('strace not installed');
    return;
  }
  const dir = t.testdir();
  const trace = path.join(dir, 'sig.bin');
  // --comm keeps the program's calls after its exec, which is where strace starts.
  const rec = cli(['record', '--syscalls', '-o', trace, '--comm', 'signaler.out', '--', SIGNALER, '7']);
  t.equal(rec.status, 0, rec.stderr);
  const st = path.join(dir, 'strace.txt');
  const r = spawnSync('strace', ['-c', '-f', '-o', st, SIGNALER, '7'], {encoding: 'utf8'});
  t.equal(r.status, 0, r.stderr);
  const theirs = straceCounts(st);
  const s = cli(['stats', trace, '--json']);
  t.equal(s.status, 0, s.stderr);
  const rows = JSON.parse(s.stdout).syscalls as Ev[];
  const ours = Object.fromEntries(rows.map((x) => [x.syscall, [x.calls, x.errors]]));
  t.same(ours.rt_sigreturn, [14, 7], 'one rt_sigreturn per handled signal; those after pause() return EINTR');
  // strace -c leaves out calls that never return (exit_group); execve is counted from the
  // tracer's side of the exec, which the recording's --comm starts after.
  const names = new Set([...Object.keys(ours), ...Object.keys(theirs)].filter((n) => n !== 'execve' && n !== 'exit_group'));
  for (const name of [...names].sort()) {
    t.same(ours[name] ?? [0, 0], theirs[name] ?? [0, 0], `${name}: calls and errors as strace counts them`);
  }
  for (const row of rows) t.notOk(row.lost > 0, `${row.syscall}: nothing lost`);
});

kernelTest(t, 'kernel: a call blocked in one thread when the process exits is recorded once, with its arguments', async (t) => {
  const dir = t.testdir();
  const runs = 15;
  for (const mode of ['exit', 'kill']) {
    const trace = path.join(dir, `${mode}.bin`);
    const rec = cli(['record', '--syscall', 'clock_nanosleep', '--syscall', 'exit_group', '--follow', '-o', trace, '--',
      'sh', '-c', `for i in $(seq ${runs}); do ${TWOTHREAD} ${mode}; done; exit 0`]);
    t.equal(rec.status, 0, rec.stderr);
    const dec = cli(['decode', trace, '--json', '--no-processes']);
    t.equal(dec.status, 0, dec.stderr);
    const events: Ev[] = dec.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const calls = events.filter((e) => e.type === 'syscall' && e.syscall === 'clock_nanosleep');
    t.equal(calls.filter((e) => e.incomplete === 'no_entry').length, 0, `${mode}: no call split into a half without its entry`);
    // The sleeper: a thread, not the leader, asked for 10 s.
    const sleepers = calls.filter((e) => e.pid !== e.tid && e.args?.rqtp?.tv_sec === 10);
    t.equal(sleepers.length, runs, `${mode}: one sleeper call per run`);
    t.equal(new Set(sleepers.map((e) => e.tid)).size, runs, `${mode}: each sleeper once`);
    for (const e of sleepers) {
      t.equal(e.comm, 'twothread.out', `${mode}: the call keeps its context`);
      t.equal(e.args.which_clock, 1, `${mode}: decoded arguments (CLOCK_MONOTONIC)`);
    }
    const exits = events.filter((e) => e.type === 'exit' && e.comm === 'twothread.out');
    t.equal(exits.length, runs, `${mode}: one exit per run`);
    for (const x of exits) {
      const status = mode === 'kill' ? {signal: 9} : {exit_code: 3, signal: null};
      t.match(x, status, `${mode}: the status wait() reports`);
      // Every call of the process is in the stream before its exit.
      const last = Math.max(...sleepers.filter((e) => e.pid === x.pid).map((e) => Date.parse(e.time)));
      t.ok(Date.parse(x.time) >= last, `${mode}: exit of ${x.pid} after its sleeper's call`);
    }
  }
});

kernelTest(t, 'kernel: record --syscalls says in one line when it records the whole system; kernel notes only with --verbose', async (t) => {
  const dir = t.testdir();
  const trace = path.join(dir, 'all.bin');
  const whole = /recording the syscalls of every process on the system, not only the command: --follow keeps the command/g;
  const all = cli(['record', '--syscalls', '-o', trace, '--', 'true']);
  t.equal(all.status, 0, all.stderr);
  t.equal(all.stderr.match(whole)?.length, 1, 'one line, pointing at --follow');
  t.notMatch(all.stderr, /have no tracepoint/, 'the kernel note is not on every run');
  const followed = cli(['record', '--syscalls', '--follow', '--verbose', '-o', trace, '--force', '--', 'true']);
  t.equal(followed.status, 0, followed.stderr);
  t.notMatch(followed.stderr, whole, 'not with --follow');
  t.match(followed.stderr, /recording only: the command and descendants/);
  // This kernel has syscalls in the table without a tracepoint (uselib, _sysctl, …).
  t.match(followed.stderr, /syscalls have no tracepoint on this kernel/, '--verbose shows the note');
});
