// `decode -`, `stats -`, `tree -`, `filter -`, `verify -`: a trace read from standard input
// (src/cli/stdin.ts), offline. The same output as from the file itself, the input named `-`,
// a one-line error for empty input, and no temporary copy left behind.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {spawnSync} from 'node:child_process';
import {ROOT} from './lib/cli';

const BIN = path.join(ROOT, 'bin', 'exectrace');

/** The CLI with `input` (a file's bytes) as its standard input, through a pipe. */
function piped(args: string[], input: Buffer): {status: number | null; stdout: string; stderr: string} {
  const r = spawnSync(process.execPath, [BIN, ...args], {cwd: ROOT, input, encoding: 'utf8', env: {...process.env, TZ: 'UTC'}});
  return {status: r.status, stdout: r.stdout, stderr: r.stderr};
}

function direct(args: string[]): {status: number | null; stdout: string; stderr: string} {
  const r = spawnSync(process.execPath, [BIN, ...args], {cwd: ROOT, encoding: 'utf8', env: {...process.env, TZ: 'UTC'}});
  return {status: r.status, stdout: r.stdout, stderr: r.stderr};
}

const copies = (): string[] => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('exectrace-stdin-'));

t.test('decode, stats, tree and verify of - give what they give of the file, naming it -', async (t) => {
  const before = copies().length;
  for (const f of ['fixtures/exec-tree.bin', 'fixtures/syscalls-cat.bin', 'fixtures/damaged-flipped-byte.bin']) {
    const bytes = fs.readFileSync(path.join(ROOT, f));
    for (const args of [['decode'], ['decode', '--json'], ['stats'], ['tree', '--all']]) {
      const a = piped([...args, '-'], bytes);
      const b = direct([...args, f]);
      t.equal(a.stdout, b.stdout, `${args.join(' ')} - < ${f}: the same output`);
      t.equal(a.status, b.status, 'and exit status');
      t.equal(a.stderr, b.stderr.split(`${f}: `).join('-: '), 'the same notes, naming -');
    }
    const s = piped(['stats', '--json', '-'], bytes);
    t.equal(JSON.parse(s.stdout).file, '-');
    const v = piped(['verify', '-'], bytes);
    t.equal(v.stdout, direct(['verify', f]).stdout.split(f).join('-'), 'verify names -');
  }
  t.equal(copies().length, before, 'no temporary copy left');
});

t.test('filter - -o: the new file names its source -', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-stdin-test-'));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  const out = path.join(dir, 'sleep.bin');
  const r = piped(['filter', '-', '--comm', 'sleep', '-o', out], fs.readFileSync(path.join(ROOT, 'fixtures/exec-tree.bin')));
  t.equal(r.status, 0, r.stderr);
  t.match(direct(['stats', out]).stdout, /^filtered +from - by --comm sleep:/m);
});

t.test('empty input: one line, exit 1', async (t) => {
  const r = piped(['decode', '-'], Buffer.alloc(0));
  t.equal(r.status, 1);
  t.equal(r.stderr, 'exectrace decode: -: standard input was empty: pipe a trace file in (exectrace decode - < t.bin)\n');
  t.equal(r.stdout, '');
  const s = spawnSync(process.execPath, [BIN, 'stats', '-'], {cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8'});
  t.equal(s.status, 1, 'stdin closed: the same');
});
