// stats --interval (issue 13): a time series of execs, failed execs, forks, exits, syscalls
// and lost events per interval, one row for every interval from the first event's to the
// last's (empty ones too), aligned on multiples of the interval like sar; NDJSON with --json.
// The rows must add up to what stats counts, on every fixture.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {cli, lines} from './lib/cli';
import {Synth} from './lib/synth';
import {openTrace, type IntervalRow} from '../src';

const TREE = 'fixtures/exec-tree.bin';
const CAT = 'fixtures/syscalls-cat.bin';
const LOSSY = 'fixtures/exec-lossy.bin';
const OLD = 'fixtures/exec-scenarios.bin';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-intervals-'));
t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));

const COUNTS = ['execs', 'exec_failed', 'forks', 'exits', 'syscalls', 'lost'] as const;

async function rows(args: string[], env: NodeJS.ProcessEnv = {}): Promise<IntervalRow[]> {
  const r = await cli(['stats', '--json', ...args], env);
  if (r.status !== 0) throw new Error(`stats ${args.join(' ')}: status ${r.status}: ${r.stderr}`);
  return lines(r.stdout).map((l) => JSON.parse(l) as IntervalRow);
}

const sum = (rs: IntervalRow[], k: (typeof COUNTS)[number]) => rs.reduce((a, r) => a + r[k], 0);
const ms = (s: string) => Date.parse(s.replace(/(\.\d{3})\d*Z$/, '$1Z'));
/** RFC 3339 with nanoseconds → ns since the epoch. */
const nsOf = (s: string) => BigInt(Date.parse(s.slice(0, 19) + 'Z')) * 1_000_000n + BigInt((s.slice(20, -1) || '0').padEnd(9, '0'));

t.test('the rows add up to what stats counts, on every fixture', async (t) => {
  for (const file of [TREE, CAT, LOSSY, OLD]) {
    const s = JSON.parse((await cli(['stats', '--json', file])).stdout);
    const rec = (name: string) => s.events.find((e: {event: string}) => e.event === name)?.recorded ?? 0;
    const lost = s.events.reduce((a: number, e: {lost: number}) => a + e.lost, 0);
    for (const every of ['1s', '100ms', '7ms']) {
      const rs = await rows([file, '--interval', every]);
      t.same(COUNTS.map((k) => sum(rs, k)), [rec('exec'), rec('exec_failed'), rec('fork'), rec('exit'), rec('syscall'), lost],
        `${file} --interval ${every}: execs, failed, forks, exits, syscalls, lost`);
    }
  }
});

t.test('exec-tree.bin at 100ms: every interval from the first event to the last, empty ones too', async (t) => {
  const rs = await rows([TREE, '--interval', '100ms']);
  // Recorded 19:11:34.816950 to 19:11:35.452952 UTC: seven tenths of a second, 0.8 to 0.4.
  t.same(rs.map((r) => r.start.slice(11)), [
    '19:11:34.800000000Z', '19:11:34.900000000Z', '19:11:35.000000000Z', '19:11:35.100000000Z',
    '19:11:35.200000000Z', '19:11:35.300000000Z', '19:11:35.400000000Z',
  ]);
  for (const r of rs) t.equal(ms(r.end) - ms(r.start), 100, `${r.start}: 100ms long`);
  t.same(rs.map((r) => r.execs), [13, 3, 0, 0, 0, 0, 13]);
  // 35.0–35.2: only sleep 0.3 (orphaned) and sleep 0.5 are running; sleep 0.3 exits at 35.236796.
  t.same(rs.map((r) => r.exits), [11, 3, 0, 0, 1, 0, 11]);
  t.same(rs[0], {start: '2026-12-06T19:11:34.800000000Z', end: '2026-12-06T19:11:34.900000000Z', execs: 13, exec_failed: 1, forks: 14, exits: 11, syscalls: 0, lost: 0});
});

t.test('the human table: decode\'s times in the zone, a total line; the same numbers as --json', async (t) => {
  const r = await cli(['stats', TREE, '--interval', '1s'], {TZ: 'Asia/Tokyo'});
  t.equal(r.status, 0);
  t.same(lines(r.stdout), [
    'TIME                EXECS    FAILED     FORKS     EXITS  SYSCALLS      LOST',
    '04:11:34.000000        16         1        17        14         0         0',
    '04:11:35.000000        13         0         9        12         0         0',
    'total                  29         1        26        26         0         0',
  ]);
  const utc = await cli(['stats', TREE, '--interval', '1s', '--utc'], {TZ: 'Asia/Tokyo'});
  t.equal(lines(utc.stdout)[1].slice(0, 15), '19:11:34.000000', '--utc');
  const cat = lines((await cli(['stats', CAT, '--interval', '10ms', '--utc'])).stdout);
  t.equal(cat.at(-1), 'total                   1         0         1         1        65         0');
});

t.test('aligned on multiples of the interval in the zone shown (as sar), for --json too', async (t) => {
  // India is UTC+05:30: its hours start at half past UTC hours.
  const ist = await rows([TREE, '--interval', '1h'], {TZ: 'Asia/Kolkata'});
  t.same(ist.map((r) => [r.start, r.end]), [['2026-12-06T18:30:00.000000000Z', '2026-12-06T19:30:00.000000000Z']]);
  const utc = await rows([TREE, '--interval', '1h', '--utc'], {TZ: 'Asia/Kolkata'});
  t.same(utc.map((r) => [r.start, r.end]), [['2026-12-06T19:00:00.000000000Z', '2026-12-06T20:00:00.000000000Z']]);
  const odd = await rows([TREE, '--interval', '1m30s', '--utc']);
  t.same(odd.map((r) => r.start), ['2026-12-06T19:10:30.000000000Z'], '90 s intervals: multiples of 90 s since the epoch');
  t.equal(sum(odd, 'execs'), 29);
});

t.test('syscalls count where they completed; lost events where their markers are', async (t) => {
  const evs = lines((await cli(['decode', '--json', '--no-processes', CAT])).stdout).map((l) => JSON.parse(l));
  const rs = await rows([CAT, '--interval', '1ms']);
  const ends = evs.filter((e) => e.type === 'syscall').map((e) => nsOf(e.time) + BigInt(e.duration_ns ?? 0));
  for (const r of rs) {
    t.equal(r.syscalls, ends.filter((x) => x >= nsOf(r.start) && x < nsOf(r.end)).length, `${r.start}: the calls that ended in it`);
  }
  // By hand: 65 calls; the first three (a `measure` process reading /proc/1678/status) end at .962.
  t.equal(rs[0].start, '2026-11-23T19:02:40.962000000Z');
  t.equal(rs[0].syscalls, 3);
  t.equal(sum(rs, 'syscalls'), 65);
  const lossy = await rows([LOSSY, '--interval', '500ms']);
  const markers = lines((await cli(['decode', '--json', '--type', 'lost', LOSSY])).stdout).map((l) => JSON.parse(l));
  for (const r of lossy) {
    const inRow = markers.filter((m) => ms(m.time) >= ms(r.start) && ms(m.time) < ms(r.end)).reduce((a, m) => a + m.count, 0);
    t.equal(r.lost, inRow, `${r.start}: the markers in it`);
  }
  t.equal(sum(lossy, 'lost'), 489);
});

t.test('filters apply: only matching events are counted', async (t) => {
  const execs = await rows([TREE, '--interval', '1s', '--type', 'exec']);
  t.same(execs.map((r) => [r.execs, r.forks, r.exits]), [[16, 0, 0], [13, 0, 0]]);
  const nobody = await rows([TREE, '--interval', '100ms', '--uid', '65534']);
  t.same(nobody.map((r) => [r.start.slice(11), r.execs, r.exits]), [['19:11:35.400000000Z', 1, 1]], 'one row: the first to the last match');
  const none = await cli(['stats', TREE, '--interval', '1s', '--pid', '99999']);
  t.equal(none.status, 0);
  t.same(lines(none.stdout), [
    'TIME                EXECS    FAILED     FORKS     EXITS  SYSCALLS      LOST',
    'total                   0         0         0         0         0         0',
  ]);
  t.match(none.stderr, /no event matched: --pid 99999/);
});

t.test('usage errors: one line, exit 2', async (t) => {
  for (const [v, msg] of [
    ['1x', 'exectrace stats: --interval: cannot read duration "1x" (examples: 500ms, 1s, 1m, 1m30s)\n'],
    ['500us', 'exectrace stats: --interval 500us: at least 1ms\n'],
    ['+1s', 'exectrace stats: --interval: cannot read duration "+1s" (examples: 500ms, 1s, 1m, 1m30s)\n'],
  ]) {
    const r = await cli(['stats', TREE, '--interval', v]);
    t.equal(r.status, 2, v);
    t.equal(r.stderr, msg);
    t.equal(r.stdout, '');
  }
});

t.test('bounded: too many rows is refused up front; a damaged time is counted nowhere, and said', async (t) => {
  const s = new Synth(OLD);
  const long = path.join(dir, 'long.bin');
  // Three hours between two execs: 10.8 million intervals of 1 ms.
  s.write(long, [[s.exec(s.at(1), 4242, 1, ['/bin/a']), s.exec(s.at(3 * 3600e3), 4243, 1, ['/bin/b'])]], {end_reason: 'test', clock_end: {boot_ns: s.at(3 * 3600e3 + 1)}});
  const r = await cli(['stats', long, '--interval', '1ms']);
  t.equal(r.status, 2);
  t.equal(r.stderr, 'exectrace stats: --interval 1ms: the recording would make 10,800,001 intervals, at most 10,000,000: give a longer interval, or a part of the recording with --since/--until\n');
  const hour = await rows([long, '--interval', '1h', '--utc']);
  t.equal(sum(hour, 'execs'), 2);

  const bad = path.join(dir, 'bad-time.bin');
  // One record with a time far past the recording's end (a flipped high bit).
  s.write(bad, [[s.exec(s.at(1), 4242, 1, ['/bin/a']), s.exec(s.at(2) + 2 ** 50, 4243, 1, ['/bin/b']), s.exec(s.at(3), 4244, 1, ['/bin/c'])]],
    {end_reason: 'test', clock_end: {boot_ns: s.at(10)}});
  const b = await cli(['stats', bad, '--interval', '1ms', '--json']);
  t.equal(b.status, 0);
  const br = lines(b.stdout).map((l) => JSON.parse(l) as IntervalRow);
  t.equal(br.length, 3, 'the rows of the two good execs, nothing up to the bad one');
  t.equal(sum(br, 'execs'), 2);
  t.equal(b.stderr, 'exectrace: 1 event has a time outside the recording (damaged timestamps): counted in no interval\n');
});

t.test('library: trace.intervals() hands out the rows stats --interval --json prints', async (t) => {
  const trace = openTrace(LOSSY, {zone: 'utc'});
  try {
    const got: IntervalRow[] = [];
    const r = trace.intervals({every: '250ms'}, (row) => got.push(row));
    t.same(got, await rows([LOSSY, '--interval', '250ms', '--utc']));
    t.equal(r.summary.rows, got.length);
    t.equal(r.summary.every_ns, 250e6);
    t.same(r.summary.total, {execs: 238, exec_failed: 0, forks: 239, exits: 240, syscalls: 0, lost: 489});
    t.equal(r.summary.late, 0);
    t.equal(r.summary.outside, 0);
    const byMs: IntervalRow[] = [];
    trace.intervals({every: 250}, (row) => byMs.push(row));
    t.same(byMs, got, 'a number is milliseconds');
  } finally {
    trace.close();
  }
  t.throws(() => openTrace(TREE).intervals({every: '0.1ms'}, () => {}), {message: '--interval 0.1ms: at least 1ms'});
});
