// Times in human output (issue 11): the local time zone (TZ honoured), --utc for UTC, the
// date where the recording spans more than a day, JSON always UTC, and clock times given
// to --since/--until read in the zone the output is in.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {cli, lines} from './lib/cli';
import {Synth} from './lib/synth';

const EXEC = 'fixtures/exec-scenarios.bin';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-times-'));
t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));

// Asia/Tokyo is UTC+9 all year: no daylight saving to make the expected times move.
const TOKYO = {TZ: 'Asia/Tokyo'};
const UTC = {TZ: 'UTC'};

const timeOf = (line: string) => line.split(' ')[0];

/** hh:mm:ss.micro shifted by `h` hours. */
function shift(tod: string, h: number): string {
  const [hh, rest] = [Number(tod.slice(0, 2)), tod.slice(2)];
  return String((hh + h + 24) % 24).padStart(2, '0') + rest;
}

t.test('human times are local (TZ); --utc gives UTC; JSON is UTC either way', async (t) => {
  const utc = lines((await cli(['decode', '--no-processes', EXEC], UTC)).stdout);
  const tokyo = lines((await cli(['decode', '--no-processes', EXEC], TOKYO)).stdout);
  const forced = lines((await cli(['decode', '--no-processes', '--utc', EXEC], TOKYO)).stdout);
  t.ok(utc.length > 10);
  t.equal(tokyo.length, utc.length);
  t.equal(timeOf(utc[0]), '18:12:23.096017', 'the fixture starts at 18:12 UTC');
  t.same(tokyo.map(timeOf), utc.map((l) => shift(timeOf(l), 9)), 'Tokyo is nine hours ahead');
  t.same(tokyo.map((l) => l.slice(l.indexOf(' '))), utc.map((l) => l.slice(l.indexOf(' '))), 'only the time differs');
  t.same(forced, utc, '--utc shows UTC whatever TZ says');
  const jsonUtc = await cli(['decode', '--json', EXEC], UTC);
  const jsonTokyo = await cli(['decode', '--json', EXEC], TOKYO);
  t.equal(jsonTokyo.stdout, jsonUtc.stdout, 'JSON does not depend on TZ');
  t.match(jsonTokyo.stdout, /"time":"2026-11-23T18:12:23\.\d{9}Z"/);
  const stats = await cli(['stats', EXEC], TOKYO);
  t.match(stats.stdout, /^duration {3}0\.752 s {2}\(2026-11-24 03:12:22\.955256 → 03:12:23\.707181 UTC\+09:00\)$/m, 'stats shows the span in the zone');
  t.match((await cli(['stats', '--utc', EXEC], TOKYO)).stdout, /\(2026-11-23 18:12:22\.955256 → 18:12:23\.707181 UTC\)/);
});

t.test('a clock time given to --since/--until is in the zone of the output', async (t) => {
  const utc = await cli(['decode', '--no-processes', '--since', '18:12:23.3', '--until', '18:12:23.405', EXEC], UTC);
  const tokyo = await cli(['decode', '--no-processes', '--since', '03:12:23.3', '--until', '03:12:23.405', EXEC], TOKYO);
  const both = lines(utc.stdout);
  t.equal(both.length, 1, 'one event in the window');
  t.same(lines(tokyo.stdout).map((l) => l.slice(l.indexOf(' '))), both.map((l) => l.slice(l.indexOf(' '))), 'the same event, read in Tokyo time');
  const forced = await cli(['decode', '--no-processes', '--utc', '--since', '18:12:23.3', '--until', '18:12:23.405', EXEC], TOKYO);
  t.equal(forced.stdout, utc.stdout, '--utc reads the times as UTC');
  // An RFC 3339 time without an offset is a wall-clock time in the same zone; with one, it is that instant.
  const wall = await cli(['filter', '--json', '--no-processes', '--since', '2026-11-24T03:12:23.3', '--until', '2026-11-23T18:12:23.405Z', EXEC], TOKYO);
  t.equal(lines(wall.stdout).filter((l) => !l.includes('"lost"')).length, 1);
});

t.test('the date is shown where the recording spans more than a day', async (t) => {
  const s = new Synth(EXEC);
  const H = 3600e3;
  // 18:12 UTC, then six hours later: past midnight in UTC, within one day in Tokyo (03:12 → 09:12).
  const file = path.join(dir, 'overnight.bin');
  s.write(file, [[s.fork(s.at(1), 500, 1, 'sh'), s.exec(s.at(2), 500, 1, ['/bin/true'])], [s.exit(s.at(6 * H), 500, 1, 'true')]],
    {end_reason: 'test', clock_end: {boot_ns: s.at(6 * H + 1000)}});
  const utc = lines((await cli(['decode', '--no-processes', file], UTC)).stdout);
  t.equal(utc.length, 3);
  t.match(utc[0], /^2026-11-23 18:12:22\.\d{6} fork /, 'every line has its date in UTC');
  t.match(utc[2], /^2026-11-24 00:12:22\.\d{6} exit /);
  const tokyo = lines((await cli(['decode', '--no-processes', file], TOKYO)).stdout);
  t.match(tokyo[0], /^03:12:22\.\d{6} fork /, 'one day in Tokyo: times alone');
  t.match(tokyo[2], /^09:12:22\.\d{6} exit /);
  // Without a trailer the end is unknown: a line on another day than the first still says which.
  const cut = path.join(dir, 'overnight-cut.bin');
  s.write(cut, [[s.fork(s.at(1), 500, 1, 'sh')], [s.exit(s.at(6 * H), 500, 1, 'true')]], null);
  const partial = lines((await cli(['decode', '--no-processes', cut], UTC)).stdout);
  t.match(partial[0], /^18:12:22\.\d{6} fork /);
  t.match(partial[1], /^2026-11-24 00:12:22\.\d{6} exit /);
});
