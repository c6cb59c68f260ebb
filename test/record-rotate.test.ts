// Kernel tests of continuous recording (record --rotate-size, --rotate-time, --max-files;
// formats/trace-format.md §10.19): under an exec storm with a small --rotate-size, nothing
// is lost or doubled at a rotation (the kernel's Sent is the sum of Recorded over the files,
// and every exec of the storm is decoded once from the files read one after another); each
// file is complete, 0600, and the series verifies; --rotate-time rotates on time,
// --max-files removes the oldest, a new recording numbers on, SIGINT ends the last file
// cleanly; the mistakes a user can make are one line.

import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {spawn, spawnSync} from 'node:child_process';
import {BIN, ROOT, kernelTest} from './lib/kernel';
import {peekTrailer} from '../src/format';

const STORM_SRC = path.join(ROOT, 'test', 'bench', 'execstorm.c');
const EVENTS = ['exec', 'fork', 'exit'];

function cli(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {encoding: 'utf8', maxBuffer: 1 << 28});
}

function seriesFiles(dir: string, stem = 'trace'): string[] {
  return fs.readdirSync(dir).filter((n) => new RegExp(`^${stem}-\\d{6,}\\.bin$`).test(n)).sort().map((n) => path.join(dir, n));
}

type Totals = Record<string, {sent: number; lost: number; recorded: number}>;

kernelTest(t, 'kernel: record --rotate-size under an exec storm: nothing lost or doubled at a rotation', async (t) => {
  const dir = t.testdir();
  const storm = path.join(dir, 'execstorm');
  const cc = spawnSync('cc', ['-O1', '-o', storm, STORM_SRC], {encoding: 'utf8'});
  t.equal(cc.status, 0, `execstorm builds: ${cc.stderr}`);
  const N = 3000;
  const MARK = `rotate-${process.pid}`;
  const out = path.join(dir, 'trace.bin');
  const r = cli(['record', '--rotate-size', '64K', '--chunk-size', '16K', '--flush-interval', '100ms', '-o', out, '--', storm, String(N), MARK]);
  t.equal(r.status, 0, r.stderr);
  const files = seriesFiles(dir);
  const rotations = r.stderr.split('\n').filter((l) => / rotated \(size\) to /.test(l));
  t.ok(files.length >= 4, `several files (${files.length})`);
  t.equal(rotations.length, files.length - 1, 'one line per rotation');
  t.match(r.stderr, new RegExp(`${files.length} files, ${files[0]} … ${files[files.length - 1]}: \\d+ bytes in \\d+ chunks \\(command exited\\)`));

  // Per file: complete, private, its counts its own.
  const sum: Record<string, {sent: number; recorded: number; lost: number}> = {};
  for (const f of files) {
    t.equal(fs.statSync(f).mode & 0o777, 0o600, `${path.basename(f)} is mode 0600`);
    const tr = peekTrailer(f);
    t.ok(tr, `${path.basename(f)} has its trailer`);
    const totals = tr!.totals as unknown as Totals;
    for (const e of EVENTS) {
      sum[e] ??= {sent: 0, recorded: 0, lost: 0};
      sum[e].sent += totals[e].sent;
      sum[e].recorded += totals[e].recorded;
      sum[e].lost += totals[e].lost;
    }
    // What the trailer says the file holds is what decoding the file alone gives.
    const dec = cli(['decode', f, '--json', '--no-processes']);
    t.equal(dec.status, 0, dec.stderr);
    const types = dec.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l).type as string);
    t.same(EVENTS.map((e) => types.filter((x) => x === e).length), EVENTS.map((e) => totals[e].recorded),
      `${path.basename(f)}: decoded exec, fork, exit = its trailer's recorded`);
  }
  for (const e of EVENTS) {
    t.equal(sum[e].lost, 0, `${e}: none lost`);
    t.equal(sum[e].recorded, sum[e].sent, `${e}: Sent (the kernel's count, ${sum[e].sent}) = the sum of Recorded over the files`);
  }
  t.ok(sum.exec.sent >= N, `the storm's ${N} execs are among the ${sum.exec.sent} sent`);

  // The files one after another: every exec of the storm exactly once.
  const seen = new Map<string, number>();
  for (const f of files) {
    const dec = cli(['decode', f, '--json', '--no-processes', '--where', `type == "exec" and argv =~ /^\\/bin\\/true ${MARK} /`]);
    for (const l of dec.stdout.split('\n').filter(Boolean)) {
      const i = (JSON.parse(l).argv as string[])[2];
      seen.set(i, (seen.get(i) ?? 0) + 1);
    }
  }
  t.equal(seen.size, N, `all ${N} execs of the storm are in the files`);
  t.same([...seen.values()].filter((n) => n !== 1), [], 'none twice');

  const v = cli(['verify', path.join(dir, 'trace-*.bin')]);
  t.equal(v.status, 0, v.stdout);
  t.match(v.stdout, new RegExp(`^series [0-9a-f]{32}: ${files.length} files, seq 1–${files.length}: intact, whole`, 'm'));
});

kernelTest(t, 'kernel: --rotate-time, --max-files, a new recording numbering on, SIGINT', async (t) => {
  const dir = t.testdir();
  const out = path.join(dir, 'trace.bin');

  t.test('--rotate-time 1s --max-files 2', async (t) => {
    const r = cli(['record', '--rotate-time', '1s', '--max-files', '2', '--duration', '4500ms', '-o', out]);
    t.equal(r.status, 0, r.stderr);
    const rotations = r.stderr.split('\n').filter((l) => / rotated \(time\) to /.test(l));
    t.ok(rotations.length >= 3 && rotations.length <= 5, `a rotation about every second (${rotations.length} in 4.5 s)`);
    const files = seriesFiles(dir);
    t.equal(files.length, 2, 'two files kept');
    t.equal(files[1], path.join(dir, `trace-${String(rotations.length + 1).padStart(6, '0')}.bin`), 'the newest ones');
    t.match(r.stderr, /--max-files 2: removed trace-000001\.bin/);
    t.equal(peekTrailer(files[1])!.end_reason, 'duration reached');
    t.equal(peekTrailer(files[0])!.end_reason, 'rotated (time)');
    const v = cli(['verify', path.join(dir, 'trace-*.bin')]);
    t.equal(v.status, 0, `the kept files verify: ${v.stdout}`);
    t.match(v.stdout, /series-start  the series begins before /);
  });

  t.test('a new recording with the same -o numbers on and overwrites nothing; SIGINT ends it cleanly', async (t) => {
    const before = seriesFiles(dir);
    const sums = before.map((f) => fs.readFileSync(f).toString('base64'));
    const p = spawn(process.execPath, [BIN, 'record', '--rotate-time', '1s', '-o', out], {stdio: ['ignore', 'ignore', 'pipe']});
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    await new Promise<void>((resolve, reject) => {
      const iv = setInterval(() => {
        if (/ rotated \(time\) to /.test(stderr)) {
          clearInterval(iv);
          resolve();
        }
      }, 20);
      p.on('exit', () => reject(new Error(`record exited early: ${stderr}`)));
    });
    p.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => p.on('exit', (c) => resolve(c)));
    t.equal(code, 0, stderr);
    const after = seriesFiles(dir);
    const added = after.filter((f) => !before.includes(f));
    t.ok(added.length >= 2, `new files (${added.map((f) => path.basename(f)).join(', ')})`);
    const lastOld = Number(/-(\d+)\.bin$/.exec(before[before.length - 1])![1]);
    t.equal(added[0], path.join(dir, `trace-${String(lastOld + 1).padStart(6, '0')}.bin`), 'numbered after the files already there');
    t.same(before.map((f) => fs.readFileSync(f).toString('base64')), sums, 'the files already there are untouched');
    t.equal(peekTrailer(added[added.length - 1])!.end_reason, 'signal SIGINT');
    const v = cli(['verify', '--json', ...after]);
    const j = JSON.parse(v.stdout);
    t.equal(j.series.length, 2, 'two recordings, two series');
    const mine = j.series.find((s: {files: {file: string}[]}) => s.files[0].file === added[0]);
    t.equal(mine.whole, true, 'the new recording\'s series is whole');
  });

  t.test('a missing directory is one line', async (t) => {
    const r = cli(['record', '--rotate-size', '1M', '-o', path.join(dir, 'nope', 'trace.bin'), '--duration', '1s']);
    t.equal(r.status, 1);
    const lines = r.stderr.split('\n').filter(Boolean);
    t.equal(lines.length, 1, r.stderr);
    t.match(lines[0], /^exectrace record: output directory .*\/nope does not exist \(create it first: mkdir -p /);
  });
});
