// decode and stats over several files (src/api/merge.ts, src/stats/merge.ts): merged in
// wall-clock order, each file's order kept, `host` on every event only when the files come
// from more than one host, problems named per file, globs expanded, totals added up.
// A second host's file is made from a fixture by rewriting its metadata (hostname, and the
// clock pair shifted by 0.3 ms so that the two files' events interleave).

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {cli, lines, ROOT} from './lib/cli';
import {readRecording, writeRecording} from './lib/files';
import {openTraces} from '../src';
import {toJson} from '../src/util/json';

const A = 'fixtures/exec-tree.bin';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-merge-'));
t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));

/** A copy of `src` recorded, as far as its metadata says, on `hostname`, its clock `shiftNs` later. */
function rehost(src: string, out: string, hostname: string, shiftNs: bigint): string {
  const rec = readRecording(path.join(ROOT, src));
  const meta = rec.meta as {host: Record<string, unknown>; clock: {start: {realtime_ns: number | bigint}}};
  rec.meta = {...rec.meta, host: {...meta.host, hostname}, clock: {...meta.clock, start: {...meta.clock.start, realtime_ns: BigInt(meta.clock.start.realtime_ns) + shiftNs}}};
  writeRecording(out, rec, [40]);
  return out;
}

const B = rehost(A, path.join(dir, 'web-2.bin'), 'web-2', 300_000n);
const SAME = rehost(A, path.join(dir, 'same-host.bin'), 'vm', 300_000n);

const json = (s: string) => lines(s).map((l) => JSON.parse(l) as Record<string, unknown>);

t.test('files of two hosts: every event has host, times never go back, each file keeps its own events and order', async (t) => {
  const both = await cli(['decode', '--json', A, B], {TZ: 'UTC'});
  t.equal(both.status, 0);
  t.equal(both.stderr, '');
  const a = json((await cli(['decode', '--json', A])).stdout);
  const b = json((await cli(['decode', '--json', B])).stdout);
  const merged = json(both.stdout);
  t.equal(merged.length, a.length + b.length, 'every event of both');
  t.same([...new Set(merged.map((e) => e.host))].sort(), ['vm', 'web-2'], 'host on every event');
  t.ok(merged.every((e) => typeof e.host === 'string'));
  const strip = (e: Record<string, unknown>) => {
    const {host: _h, ...rest} = e;
    return rest;
  };
  t.same(merged.filter((e) => e.host === 'vm').map(strip), a, 'vm\'s events: exactly its file\'s, in its order');
  t.same(merged.filter((e) => e.host === 'web-2').map(strip), b, 'web-2\'s too');
  const times = merged.map((e) => e.time as string);
  t.ok(times.every((x, i) => i === 0 || times[i - 1] <= x), 'wall-clock order');
  // The two interleave: not one file after the other.
  const switches = merged.filter((e, i) => i > 0 && e.host !== merged[i - 1].host).length;
  t.ok(switches > 10, `the hosts interleave (${switches} switches)`);
});

t.test('human lines start with the host; CSV gets a host column', async (t) => {
  const h = lines((await cli(['decode', '--type', 'exec', A, B], {TZ: 'UTC'})).stdout);
  t.ok(h.every((l) => /^(vm   |web-2) \d\d:\d\d:\d\d\.\d{6} exec /.test(l)), h[0]);
  const csv = (await cli(['decode', '--format', 'csv', '--type', 'exit', A, B])).stdout.split('\r\n');
  t.equal(csv[0], 'time,host,type,pid,ppid,uid,comm,exec_id,filename,argv,exit_code,signal,syscall,ret,errno');
  t.match(csv[1], /^2026-12-06T19:11:34\.\d{9}Z,(vm|web-2),exit,/);
});

t.test('files of one host: no host anywhere, the same lines as each file gives', async (t) => {
  const r = await cli(['decode', '--json', A, SAME]);
  const merged = json(r.stdout);
  t.notOk(merged.some((e) => 'host' in e), 'no host key');
  const a = lines((await cli(['decode', '--json', A])).stdout);
  const s = lines((await cli(['decode', '--json', SAME])).stdout);
  t.same([...lines(r.stdout)].sort(), [...a, ...s].sort(), 'each line is a line of one of the files');
  const csv = (await cli(['decode', '--format', 'csv', A, SAME])).stdout.split('\r\n');
  t.equal(csv[0], 'time,type,pid,ppid,uid,comm,exec_id,filename,argv,exit_code,signal,syscall,ret,errno', 'no host column');
});

t.test('one file through the merge is byte for byte what it was; a quoted glob is expanded', async (t) => {
  const one = await cli(['decode', A], {TZ: 'UTC'});
  const glob = await cli(['decode', 'fixtures/exec-tree.b?n'], {TZ: 'UTC'});
  t.equal(glob.stdout, one.stdout);
  const none = await cli(['decode', 'fixtures/nothing-*.bin']);
  t.equal(none.status, 2);
  t.equal(none.stderr, 'exectrace decode: fixtures/nothing-*.bin: no file matches\n');
  const twice = await cli(['decode', '-', '-']);
  t.equal(twice.status, 2);
  t.match(twice.stderr, /^exectrace decode: -: standard input can be read once/);
});

t.test('problems are reported per file, naming it; the exit status says one was damaged', async (t) => {
  const r = await cli(['decode', '--json', A, 'fixtures/damaged-truncated.bin', 'fixtures/damaged-no-trailer.bin']);
  t.equal(r.status, 3);
  const err = lines(r.stderr);
  t.ok(err.length >= 2);
  t.ok(err.every((l) => l.startsWith('exectrace: fixtures/damaged-')), r.stderr);
  t.ok(err.some((l) => l.startsWith('exectrace: fixtures/damaged-no-trailer.bin: no trailer')));
  t.notOk(r.stderr.includes(A), 'nothing said of the intact file');
  t.ok(json(r.stdout).length > json((await cli(['decode', '--json', A])).stdout).length, 'the damaged files\' intact events too');
});

t.test('filters apply to each file: --type and --pid', async (t) => {
  const r = json((await cli(['decode', '--json', '--type', 'exec', '--pid', '18170', A, B])).stdout);
  t.equal(r.length, 2, 'pid 18170\'s exec on each host');
  t.same(r.map((e) => e.host), ['vm', 'web-2']);
});

t.test('stats over several files: the totals', async (t) => {
  const one = JSON.parse((await cli(['stats', '--json', A])).stdout);
  const two = JSON.parse((await cli(['stats', '--json', A, B, 'fixtures/syscalls-cat.bin'])).stdout);
  const cat = JSON.parse((await cli(['stats', '--json', 'fixtures/syscalls-cat.bin'])).stdout);
  t.same(two.files, [A, B, 'fixtures/syscalls-cat.bin']);
  const row = (r: {events: {event: string; recorded: number; sent: number}[]}, ev: string) => r.events.find((x) => x.event === ev)!;
  for (const ev of ['exec', 'fork', 'exit']) {
    t.equal(row(two, ev).recorded, 2 * row(one, ev).recorded + row(cat, ev).recorded, `${ev}: recorded added up`);
    t.equal(row(two, ev).sent, 2 * row(one, ev).sent + row(cat, ev).sent, `${ev}: sent added up`);
  }
  t.equal(two.records, 2 * one.records + cat.records);
  t.equal(two.top_executables[0].count, 2 * one.top_executables[0].count, 'the top executable over all');
  t.same(two.syscalls.map((s: {syscall: string; calls: number}) => [s.syscall, s.calls]), cat.syscalls.map((s: {syscall: string; calls: number}) => [s.syscall, s.calls]));
  t.equal(two.start, cat.start, 'from the earliest start');
  const by = await cli(['stats', '--by', 'exe', A, B]);
  t.equal(by.status, 2);
  t.match(by.stderr, /^exectrace stats: --by reads one file/);
  const human = (await cli(['stats', A, B], {TZ: 'UTC'})).stdout;
  t.match(human, /^files {6}2: fixtures\/exec-tree\.bin, .*web-2\.bin \(totals over all of them\)\n/);
});

t.test('library: openTraces iterates both in order and reports per file', async (t) => {
  const set = openTraces([path.join(ROOT, A), B], {type: ['exec']});
  const events = [...set];
  set.close();
  t.equal(set.multiHost, true);
  t.same(set.hosts, ['vm', 'web-2']);
  t.equal(events.length, 58);
  t.ok(events.every((e) => e.type === 'exec' && (e.host === 'vm' || e.host === 'web-2')));
  t.equal(set.reports.length, 2);
  t.ok(set.reports.every((r) => r.complete && r.matched === 29));
});

t.test('two real recordings made at once, on vm and in a UTS namespace named web-2 (make fixtures)', async (t) => {
  const r = await cli(['decode', '--json', '--no-processes', 'fixtures/fleet-vm.bin', 'fixtures/fleet-web-2.bin']);
  t.equal(r.status, 0);
  const ev = json(r.stdout);
  t.equal(ev.length, 60, '30 events on each');
  t.same(ev.filter((e) => e.type === 'exec' && e.comm === 'uname').map((e) => e.host).sort(), ['vm', 'vm', 'vm', 'web-2', 'web-2', 'web-2']);
  const times = ev.map((e) => e.time as string);
  t.ok(times.every((x, i) => i === 0 || times[i - 1] <= x), 'wall-clock order');
  t.ok(ev.some((e, i) => i > 0 && e.host !== ev[i - 1].host && i < ev.length - 1), 'interleaved');
});

t.test('--where can name the host when the files come from several; a file without a match is not warned of then', async (t) => {
  const r = await cli(['decode', '--json', '--where', 'host == "web-2" and type == "exec"', 'fixtures/fleet-vm.bin', 'fixtures/fleet-web-2.bin']);
  t.equal(r.status, 0);
  t.equal(r.stderr, '');
  const ev = json(r.stdout);
  t.equal(ev.length, 10);
  t.ok(ev.every((e) => e.host === 'web-2' && e.type === 'exec'));
});

t.test('- among several files: standard input is one of them, named - in messages', async (t) => {
  const {spawnSync} = await import('node:child_process');
  const bin = path.join(ROOT, 'bin', 'exectrace');
  const run = (args: string[], input?: Buffer) =>
    spawnSync(process.execPath, [bin, ...args], {cwd: ROOT, input, encoding: 'utf8', env: {...process.env, TZ: 'UTC'}});
  const piped = run(['decode', '--json', '-', 'fixtures/fleet-web-2.bin'], fs.readFileSync(path.join(ROOT, 'fixtures/fleet-vm.bin')));
  const files = run(['decode', '--json', 'fixtures/fleet-vm.bin', 'fixtures/fleet-web-2.bin']);
  t.equal(piped.status, 0);
  t.equal(piped.stdout, files.stdout, 'the same merge');
  const damaged = run(['decode', '-', A], fs.readFileSync(path.join(ROOT, 'fixtures/damaged-no-trailer.bin')));
  t.equal(damaged.status, 3);
  t.match(damaged.stderr, /^exectrace: -: no trailer/m, 'the problem names -');
  const stats = run(['stats', '--json', 'fixtures/fleet-web-2.bin', '-'], fs.readFileSync(path.join(ROOT, 'fixtures/fleet-vm.bin')));
  t.same(JSON.parse(stats.stdout).files, ['fixtures/fleet-web-2.bin', '-']);
});

t.test('progress over several files counts the bytes of all of them', async (t) => {
  const {spawnSync} = await import('node:child_process');
  if (spawnSync('script', ['--version']).status !== 0) return t.skip('no script(1)');
  const bin = path.join(ROOT, 'bin', 'exectrace');
  const r = spawnSync('script', ['-qec', `${bin} decode ${A} ${B} > /dev/null`, '/dev/null'],
    {cwd: ROOT, encoding: 'latin1', env: {...process.env, EXECTRACE_PROGRESS_AFTER_MS: '0'}});
  const total = (fs.statSync(path.join(ROOT, A)).size + fs.statSync(B).size) / 1024;
  const m = /\rexectrace decode: [\d.]+ KiB of ([\d.]+) KiB/.exec(r.stdout);
  t.ok(m, JSON.stringify(r.stdout.slice(0, 120)));
  t.equal(m && m[1], total.toFixed(1), 'the total is both files\' sizes');
});

t.test('the merged lines are the library\'s merged objects, host first in each JSON line', async (t) => {
  for (const args of [[], ['--type', 'exit'], ['--where', 'host == "web-2" or pid > 29760']]) {
    const r = await cli(['decode', '--json', ...args, 'fixtures/fleet-vm.bin', 'fixtures/fleet-web-2.bin']);
    const set = openTraces([path.join(ROOT, 'fixtures/fleet-vm.bin'), path.join(ROOT, 'fixtures/fleet-web-2.bin')],
      args[0] === '--type' ? {type: ['exit']} : args[0] === '--where' ? {where: args[1]} : {});
    const objects = [...set].map((e) => JSON.parse(toJson(e)));
    set.close();
    t.same(json(r.stdout), objects, `${args.join(' ') || 'no filter'}: ${objects.length} events`);
    t.ok(lines(r.stdout).every((l) => l.startsWith('{"host":')), 'host first');
  }
});
