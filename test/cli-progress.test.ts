// Progress on stderr (src/cli/progress.ts): shown on a terminal, redrawn with \r and erased
// at the end; never when stderr is a file or a pipe; never for work shorter than the
// threshold. A pseudo-terminal comes from util-linux's `script`; the threshold is lowered
// to 0 through EXECTRACE_PROGRESS_AFTER_MS (the documented test hook) so that a small
// fixture counts as long work.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {spawnSync} from 'node:child_process';
import {cli, ROOT} from './lib/cli';
import {Progress, progressLine} from '../src/cli/progress';

const BIN = path.join(ROOT, 'bin', 'exectrace');
const FIXTURE = 'fixtures/exec-scenarios-4chunks.bin';
const hasScript = spawnSync('script', ['--version']).status === 0;

/** `sh -c cmd` with a terminal as its stdout and stderr (script's output is what the terminal got). */
function onTerminal(cmd: string, env: NodeJS.ProcessEnv): string {
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {cwd: ROOT, encoding: 'latin1', env: {...process.env, TZ: 'UTC', ...env}});
  if (r.status === null) throw new Error('script did not run');
  return r.stdout;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-progress-'));
t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));

t.test('on a terminal: decode into a file, filter -o, recover, verify, export and query draw a line and erase it', {skip: !hasScript && 'no script(1)'}, async (t) => {
  const q = (s: string) => `'${s}'`;
  const cases: [string, string][] = [
    ['decode', `${BIN} decode ${FIXTURE} > ${q(path.join(dir, 'out.txt'))}`],
    ['filter', `${BIN} filter ${FIXTURE} --comm bash -o ${q(path.join(dir, 'f.bin'))}`],
    ['recover', `${BIN} recover ${FIXTURE} -o ${q(path.join(dir, 'r.bin'))} > /dev/null`],
    ['verify', `${BIN} verify ${FIXTURE} > /dev/null`],
    ['export', `${BIN} export ${FIXTURE} ${FIXTURE} -o ${q(path.join(dir, 'e.parquet'))}`],
    ['query', `${BIN} query 'SELECT count(*) FROM events' ${FIXTURE} > /dev/null`],
  ];
  for (const [label, cmd] of cases) {
    const out = onTerminal(cmd, {EXECTRACE_PROGRESS_AFTER_MS: '0'});
    const stage = label === 'verify' || label === 'recover' ? '(checking |hashing |copying )' : '';
    const m = new RegExp(`\\rexectrace ${label}: ${stage}[\\d.]+ KiB of [\\d.]+ KiB \\(\\d+%\\), [\\d,]+ records, [\\d.]+k? records/s(, \\d+s left)?\\x1b\\[K`).exec(out);
    t.ok(m, `${label}: the progress line: ${JSON.stringify(out.slice(0, 160))}`);
    t.ok(out.includes('\r\x1b[K'), `${label}: erased at the end`);
  }
  // decode's output is the same as without a terminal.
  const plain = spawnSync(process.execPath, [BIN, 'decode', FIXTURE], {cwd: ROOT, encoding: 'utf8', env: {...process.env, TZ: 'UTC'}});
  t.equal(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8'), plain.stdout, 'decode wrote the same lines into the file');
});

t.test('on a terminal, work shorter than the threshold (1 s) shows nothing', {skip: !hasScript && 'no script(1)'}, async (t) => {
  const out = onTerminal(`${BIN} decode ${FIXTURE} > /dev/null; ${BIN} verify ${FIXTURE} > /dev/null`, {EXECTRACE_PROGRESS_AFTER_MS: ''});
  t.equal(out, '', 'nothing on the terminal');
});

t.test('decode to a terminal shows no progress (the events are the output)', {skip: !hasScript && 'no script(1)'}, async (t) => {
  const out = onTerminal(`${BIN} decode ${FIXTURE}`, {EXECTRACE_PROGRESS_AFTER_MS: '0'});
  t.notOk(out.includes('exectrace decode:'), 'no progress line');
  t.ok(out.includes('exec'), 'the events');
});

t.test('stderr a pipe: nothing is written, even past the threshold', async (t) => {
  const env = {EXECTRACE_PROGRESS_AFTER_MS: '0', TZ: 'UTC'};
  for (const args of [['decode', FIXTURE], ['verify', FIXTURE], ['filter', FIXTURE, '--comm', 'bash', '-f', '-o', path.join(dir, 'g.bin')],
    ['recover', FIXTURE, '-f', '-o', path.join(dir, 's.bin')]]) {
    const r = await cli(args, env);
    t.equal(r.status, 0, `${args[0]}: status 0`);
    t.equal(r.stderr, '', `${args[0]}: stderr empty`);
  }
  // export's one line is its summary, nothing else.
  const e = await cli(['export', FIXTURE, '-f', '-o', path.join(dir, 'p.parquet')], env);
  t.equal(e.status, 0, e.stderr);
  t.match(e.stderr, /^exectrace: exported \d+ rows from 1 file into [^\r]*\n$/, 'export: its summary only');
});

t.test('Progress: threshold, redraw interval, clear', async (t) => {
  const fd = fs.openSync(path.join(dir, 'tty.txt'), 'w+');
  let now = 0;
  const p = new Progress({label: 'decode', fd, afterMs: 1000, now: () => now}, true);
  p.update({bytes: 10, total: 100, records: 5});
  now = 999;
  p.update({bytes: 20, total: 100, records: 10});
  t.equal(fs.readFileSync(path.join(dir, 'tty.txt'), 'utf8'), '', 'nothing within the first second');
  now = 1000;
  p.update({bytes: 50 * 1024 * 1024, total: 100 * 1024 * 1024, records: 2_000_000});
  now = 1100;
  p.update({bytes: 60 * 1024 * 1024, total: 100 * 1024 * 1024, records: 2_100_000});
  p.end();
  t.equal(fs.readFileSync(path.join(dir, 'tty.txt'), 'utf8'),
    '\rexectrace decode: 50.0 MiB of 100.0 MiB (50%), 2,000,000 records, 2.0M records/s, 1s left\x1b[K\r\x1b[K',
    'one draw (the next came within 200 ms), then erased');
  fs.closeSync(fd);
  const off = new Progress({label: 'decode', afterMs: 0}, false);
  t.notOk(off.enabled, 'not a terminal: never enabled');
  t.notOk(new Progress({label: 'decode', afterMs: 0, quiet: true}, true).enabled, 'quiet: never enabled');
  t.equal(progressLine('verify', {bytes: 3 * 1024 ** 3, total: 6 * 1024 ** 3, records: 999}, 90_000),
    'exectrace verify: 3.00 GiB of 6.00 GiB (50%), 999 records, 11 records/s, 1m30s left');
  t.equal(progressLine('recover', {bytes: 1024 ** 3, total: 4 * 1024 ** 3, records: 5000, stage: 'copying'}, 100_000, 10_000),
    'exectrace recover: copying 1.00 GiB of 4.00 GiB (25%), 5,000 records, 50 records/s, 30s left', 'a stage: its own time left');
  t.equal(progressLine('recover', {bytes: 1024, total: 4096, records: 5, stage: 'copying'}, 100_000, 100),
    'exectrace recover: copying 1.0 KiB of 4.0 KiB (25%), 5 records, 0 records/s', 'no time left in a stage\'s first half second');
});
