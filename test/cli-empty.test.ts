// A filter that matched nothing says so on stderr (issue 11), with what the file holds where
// that explains it; the exit status stays 0. For decode, filter (--json and -o) and stats.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {cli, lines} from './lib/cli';

const EXEC = 'fixtures/exec-scenarios.bin';
const CAT = 'fixtures/syscalls-cat.bin';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-empty-'));
t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
const UTC = {TZ: 'UTC'};

const cases: [string[], string, string][] = [
  [['--pid', '99999'], EXEC, 'no event matched: --pid 99999: no such process in this file'],
  [['--tree', '99999'], EXEC, 'no event matched: --tree 99999: no such process in this file'],
  [['--syscall', 'openat'], EXEC, 'no event matched: --syscall openat: this file has no syscall records'],
  [['--syscall', 'write'], CAT, 'no event matched: --syscall write: no such call in this file (it has close, openat, read)'],
  [['--since', '19:00'], EXEC, 'no event matched: --since 19:00: the recording spans 2026-11-23 18:12:22–18:12:24 UTC+00:00'],
  [['--until', '10:42'], EXEC, 'no event matched: --until 10:42: the recording spans 2026-11-23 18:12:22–18:12:24 UTC+00:00'],
  [['--uid', '1000'], EXEC, 'no event matched: --uid 1000: no event of this user in this file (uids: 0)'],
  [['--comm', 'curl'], EXEC, 'no event matched: --comm curl: no task of that name in this file'],
  [['--type', 'syscall'], EXEC, 'no event matched: --type syscall: this file has no such events (it has exec, exec_failed, exit, fork, process)'],
  // Each flag alone matches something; together nothing: the line names the filter.
  [['--pid', '22408', '--comm', 'sleep'], EXEC, 'no event matched --pid 22408 --comm sleep'],
  [['--where', 'argv =~ /no such words/'], EXEC, "no event matched --where 'argv =~ /no such words/'"],
];

t.test('decode, filter --json, stats: the reason on stderr, status 0', async (t) => {
  for (const [flags, file, why] of cases) {
    for (const cmd of [['decode'], ['filter', '--json'], ['stats']]) {
      const r = await cli([...cmd, ...flags, file], UTC);
      const what = `${cmd.join(' ')} ${flags.join(' ')}`;
      t.equal(r.status, 0, `${what}: status 0`);
      t.same(lines(r.stderr), [`exectrace: ${why}`], `${what}: says why`);
      if (cmd[0] !== 'stats') t.equal(r.stdout, '', `${what}: no events`);
    }
  }
});

t.test('filter -o: the file is written, and the reason given', async (t) => {
  const out = path.join(dir, 'none.bin');
  const r = await cli(['filter', '--pid', '99999', '-o', out, EXEC], UTC);
  t.equal(r.status, 0);
  t.match(r.stdout, /kept 0 of 36 records/);
  t.same(lines(r.stderr), ['exectrace: no event matched: --pid 99999: no such process in this file']);
  t.ok(fs.existsSync(out));
});

t.test('a filter that matches says nothing more; neither does no filter', async (t) => {
  for (const args of [['decode', '--pid', '22408', EXEC], ['decode', EXEC], ['stats', '--comm', 'cat', CAT]]) {
    const r = await cli(args, UTC);
    t.equal(r.status, 0);
    t.equal(r.stderr, '', args.join(' '));
    t.ok(r.stdout.length > 0);
  }
});

t.test('clock times in the message are in the zone of the output', async (t) => {
  const r = await cli(['decode', '--since', '04:00', EXEC], {TZ: 'Asia/Tokyo'});
  t.same(lines(r.stderr), ['exectrace: no event matched: --since 04:00: the recording spans 2026-11-24 03:12:22–03:12:24 UTC+09:00']);
  const u = await cli(['decode', '--utc', '--since', '19:00', EXEC], {TZ: 'Asia/Tokyo'});
  t.same(lines(u.stderr), ['exectrace: no event matched: --since 19:00: the recording spans 2026-11-23 18:12:22–18:12:24 UTC']);
});

t.test('--type lost that finds lost markers is a match: no "no event matched" beside them', async (t) => {
  for (const cmd of ['decode', 'stats']) {
    const r = await cli([cmd, 'fixtures/exec-lossy.bin', '--type', 'lost']);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stderr, '', `${cmd}: nothing on stderr`);
    t.ok(r.stdout.length > 0, `${cmd}: the markers`);
  }
});
