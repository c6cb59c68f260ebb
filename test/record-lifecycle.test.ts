// Kernel tests of how a recording starts and ends: --duration, Ctrl+C (SIGINT) and SIGTERM
// stop cleanly with a complete file, nothing of ours stays loaded in the kernel, and the
// mistakes a user can make at start get one line and a non-zero exit.

import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {spawn, spawnSync} from 'node:child_process';
import {BIN, kernelTest} from './lib/kernel';

const OUR_PROGS = /^(sched_process_e|sched_process_f|sys_enter_execv|sys_exit_execve)/;

function ourPrograms(): number {
  const r = spawnSync('bpftool', ['prog', 'list', '--json'], {encoding: 'utf8'});
  if (r.status !== 0) throw new Error(`bpftool prog list failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as {name?: string}[]).filter((p) => OUR_PROGS.test(p.name ?? '')).length;
}

function cli(args: string[], opts: {uid?: number} = {}) {
  // Another user gets a clean environment (tap's hooks write to files only root can) and
  // a HOME of its own (oclif reads its data directory there). It keeps one capability,
  // reading and searching any directory, so that a clone under a private (0700) directory
  // is reachable: it is still not root, and no BPF capability comes with it.
  const cmd = opts.uid !== undefined
    ? ['env', '-i', `PATH=${process.env.PATH}`, 'HOME=/tmp', 'setpriv', `--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups',
      '--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search', process.execPath, BIN, ...args]
    : [process.execPath, BIN, ...args];
  return spawnSync(cmd[0], cmd.slice(1), {encoding: 'utf8'});
}

function statsOf(file: string): any {
  const r = cli(['stats', file, '--json']);
  return {status: r.status, ...JSON.parse(r.stdout)};
}

/** Starts `record` with no command, waits until it is recording, sends sig, waits for exit. */
async function recordUntil(file: string, sig: NodeJS.Signals): Promise<{code: number | null; stderr: string; during: number}> {
  const p = spawn(process.execPath, [BIN, 'record', '-o', file], {stdio: ['ignore', 'ignore', 'pipe']});
  let stderr = '';
  p.stderr.on('data', (d) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    const iv = setInterval(() => {
      if (stderr.includes('recording to')) {
        clearInterval(iv);
        resolve();
      }
    }, 20);
    p.on('exit', () => reject(new Error(`record exited early: ${stderr}`)));
  });
  spawnSync('/bin/true', ['while-recording']);
  const during = ourPrograms();
  await new Promise((r) => setTimeout(r, 300));
  p.kill(sig);
  const code = await new Promise<number | null>((resolve) => p.on('exit', (c) => resolve(c)));
  return {code, stderr, during};
}

kernelTest(t, 'kernel: record stops cleanly and leaves nothing loaded', async (t) => {
  const dir = t.testdir();
  const before = ourPrograms();

  t.test('--duration', async (t) => {
    const file = path.join(dir, 'duration.bin');
    const started = Date.now();
    const r = cli(['record', '-o', file, '--duration', '1s']);
    t.equal(r.status, 0, r.stderr);
    t.ok(Date.now() - started >= 1000, 'ran for at least the duration');
    t.match(r.stderr, /\(duration reached\)/);
    const s = statsOf(file);
    t.equal(s.complete, true, 'the file has its trailer');
    t.ok(s.duration_ns >= 1e9 && s.duration_ns < 5e9, `duration ${s.duration_ns} ns`);
    t.equal(ourPrograms(), before, 'no program of ours left loaded');
  });

  t.test('stopped while processes fork and exec flat out: every record counted as sent is in the file', async (t) => {
    // The programs must be detached before the last drain: a record sent between that
    // drain and the detach would be counted as sent, yet be in the file nowhere.
    const busy = spawn('bash', ['-c', 'while :; do /bin/true; done'], {stdio: 'ignore'});
    t.teardown(() => {
      busy.kill('SIGKILL');
    });
    for (let round = 0; round < 3; round++) {
      const file = path.join(dir, `busy-${round}.bin`);
      const r = cli(['record', '-o', file, '--duration', '400ms']);
      t.equal(r.status, 0, r.stderr);
      const s = statsOf(file);
      const rows = (s.types as {event: string; sent: number; recorded: number}[]).filter((x) => ['exec', 'fork', 'exit'].includes(x.event));
      t.ok(rows.find((x) => x.event === 'exec')!.sent > 10, `round ${round}: the loop's execs were recorded`);
      t.same(rows.map((x) => [x.event, x.recorded]), rows.map((x) => [x.event, x.sent]), `round ${round}: recorded = sent for exec, fork, exit`);
    }
  });

  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as NodeJS.Signals[]) {
    t.test(`stopped by ${sig}`, async (t) => {
      const file = path.join(dir, `${sig}.bin`);
      const r = await recordUntil(file, sig);
      t.equal(r.code, 0, `record exits 0 after ${sig}`);
      t.ok(r.during >= 7, `our 7 programs were attached while recording (saw ${r.during})`);
      t.match(r.stderr, new RegExp(`\\(signal ${sig}\\)`));
      const s = statsOf(file);
      t.equal(s.complete, true, 'the file has its trailer');
      const dec = cli(['decode', file, '--json', '--no-processes']);
      t.equal(dec.status, 0);
      t.ok(dec.stdout.includes('"while-recording"'), 'the exec made while recording is in the file');
      t.equal(ourPrograms(), before, 'no program of ours left loaded');
    });
  }

  t.test('signals arriving while the verifier runs do not fail the load (node --cpu-prof sends SIGPROF every millisecond)', async (t) => {
    const file = path.join(dir, 'profiled.bin');
    const profiles = path.join(dir, 'profiles');
    const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profiles}`, BIN, 'record', '--syscalls', '--force', '-o', file, '--', '/bin/true'],
      {encoding: 'utf8'});
    t.equal(r.status, 0, `record under --cpu-prof exits 0 (stderr: ${r.stderr.trim()})`);
    t.equal(statsOf(file).complete, true, 'and writes a complete file');
    t.ok(fs.readdirSync(profiles).some((f) => f.endsWith('.cpuprofile')), 'the profile was taken');
    t.equal(ourPrograms(), before, 'no program of ours left loaded');
  });

  t.test('an existing output file is refused without --force, and kept', async (t) => {
    const file = path.join(dir, 'exists.bin');
    fs.writeFileSync(file, 'precious');
    const r = cli(['record', '-o', file, '--duration', '100ms']);
    t.equal(r.status, 1);
    t.equal(r.stderr, `exectrace record: output file ${file} exists (use --force to overwrite)\n`);
    t.equal(fs.readFileSync(file, 'utf8'), 'precious');
    const f = cli(['record', '-o', file, '--duration', '100ms', '--force']);
    t.equal(f.status, 0, f.stderr);
    t.equal(statsOf(file).complete, true);
  });

  t.test('user errors are one line', async (t) => {
    const r1 = cli(['record', '-o', '/nonexistent-dir/x.bin', '--duration', '100ms']);
    t.equal(r1.status, 1);
    t.equal(r1.stderr, 'exectrace record: output directory /nonexistent-dir does not exist (create it first: mkdir -p /nonexistent-dir)\n');
    const r2 = cli(['record', '-o', path.join(dir, 'y.bin'), '--', 'no-such-command-xyz']);
    t.equal(r2.status, 127, 'as a shell says it');
    t.equal(r2.stderr, 'exectrace record: command not found: no-such-command-xyz\n');
    const r3 = cli(['record', '-o', path.join(dir, 'z.bin'), '--ring-size', '3M']);
    t.equal(r3.status, 2);
    t.match(r3.stderr, /--ring-size must be a power of two/);
    t.notOk(r3.stderr.includes('    at '), 'no stack trace');
    const r4 = cli(['record', '-o', path.join(dir, 'w.bin'), '--duration', 'soon']);
    t.equal(r4.status, 2, 'a usage error');
    t.equal(r4.stderr, 'exectrace record: --duration: cannot read duration "soon" (examples: 500ms, 30s, 5m, 1h)\n');
    t.equal(ourPrograms(), before, 'no program of ours left loaded');
  });

  t.test('not root', async (t) => {
    const r = cli(['record', '-o', '/tmp/exectrace-nobody.bin', '--duration', '100ms'], {uid: 65534});
    t.equal(r.status, 1);
    t.equal(r.stderr, 'exectrace record: record needs root (CAP_BPF and CAP_PERFMON): run it with sudo\n');
  });

  t.test('the recorded command\'s exit status is record\'s', async (t) => {
    const r = cli(['record', '-o', path.join(dir, 'status.bin'), '--', 'sh', '-c', 'exit 5']);
    t.equal(r.status, 5);
    t.match(r.stderr, /\(command exited\)/);
  });
});
