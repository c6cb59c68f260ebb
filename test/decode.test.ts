// Offline: decode and stats on a committed recording (fixtures/exec-scenarios.bin, made by
// `make fixtures` from test/progs/scenarios.js), with no root and no native addon. The
// values asserted are the ones a user would check by eye against the manifest the workload
// wrote while it was recorded.

import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {spawnSync} from 'node:child_process';
import {forEachEvent, humanLine, openTrace, TraceEvent} from '../src/decode';
import {StatsCollector, formatStats} from '../src/stats';

const ROOT = path.resolve(__dirname, '..');
const FIXTURE = path.join(ROOT, 'fixtures', 'exec-scenarios.bin');
const m = JSON.parse(fs.readFileSync(path.join(ROOT, 'fixtures', 'exec-scenarios.manifest.json'), 'utf8'));
const BIN = path.join(ROOT, 'bin', 'exectrace');

function decodeAll(file: string): {events: TraceEvent[]; human: string[]} {
  const tr = openTrace(file);
  const events: TraceEvent[] = [];
  const human: string[] = [];
  forEachEvent(tr, {processes: true}, (e) => {
    events.push(e);
    human.push(humanLine(e, tr.decoder.clock));
  });
  tr.reader.close();
  return {events, human};
}

const {events, human} = decodeAll(FIXTURE);
const of = (type: string, pid: number) => events.filter((e) => e.type === type && e.pid === pid);

t.test('the decoder loads nothing native', async (t) => {
  const loaded = Object.keys(require.cache).filter((k) => k.includes(`${path.sep}native`) || k.endsWith('.node'));
  t.same(loaded.filter((k) => !k.includes('zstd-napi')), [], 'no native module but zstd-napi');
});

t.test('process snapshot comes first', async (t) => {
  t.equal(events[0].type, 'process');
  const init = events.find((e) => e.type === 'process' && e.pid === 1);
  t.equal(init?.ppid, 0);
  t.match(init?.start_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
});

t.test('exec with exact argv', async (t) => {
  const [e] = of('exec', m.odd.pid);
  t.same(e.argv, m.odd.argv);
  t.equal(e.argc, m.odd.argv.length);
  t.equal(e.truncated, false);
  t.equal(e.ppid, m.driver);
  t.equal(e.comm, 'execer.out');
  t.equal(e.parent_comm, 'node');
  t.equal(e.uid, 0);
  t.type(e.ns, 'object');
  t.type((e.ns as Record<string, number>).pid, 'number');
  const line = human[events.indexOf(e)];
  t.ok(line.endsWith(`exit 0 '' 'two words' 'it'\\''s' 'ünïcødé ✓' $'line1\\nline2' $'tab\\there' - --flag=value ${'x'.repeat(3000)}`),
    'the human line quotes argv for a shell');
  t.ok(line.includes(`exec        [${m.odd.pid} ppid=${m.driver} uid=0 comm="execer.out"] ${m.odd.argv[0]} exit 0`));
});

t.test('argv over the limit is cut, argc stays real', async (t) => {
  const [e] = of('exec', m.toomany.pid);
  t.equal(e.argc, 403);
  t.equal((e.argv as string[]).length, 256);
  t.equal(e.truncated, true);
  t.ok(human[events.indexOf(e)].endsWith('[truncated: argc=403]'));
});

t.test('failed exec, fork, exits', async (t) => {
  const [f] = of('exec_failed', m.fail.pid);
  t.equal(f.errno, 'ENOENT');
  t.equal(f.error_code, -2);
  t.equal(f.filename, '/nonexistent/exectrace-test');
  t.same(f.argv, ['/nonexistent/exectrace-test', 'x', 'y z']);
  t.ok(human[events.indexOf(f)].endsWith("/nonexistent/exectrace-test: /nonexistent/exectrace-test x 'y z' = ENOENT"));
  const [fk] = of('fork', m.fork.child);
  t.equal(fk.ppid, m.fork.pid);
  const [x7] = of('exit', m.fork.child);
  t.equal(x7.exit_code, 7);
  t.equal(x7.signal, null);
  const [k] = of('exit', m.killed.pid);
  t.equal(k.signal, 9);
  t.match(human[events.indexOf(k)], /killed by SIGKILL after \d/);
  t.equal(of('exit', m.exit42.pid)[0].exit_code, 42);
});

t.test('thread exec reports the thread-group id', async (t) => {
  const execs = of('exec', m.thread.pid);
  t.equal(execs.length, 2);
  t.equal(execs[1].old_tid, m.thread.tid);
  t.equal(execs[1].tid, m.thread.pid);
});

t.test('times are in order and in RFC 3339 with nanoseconds', async (t) => {
  const recs = events.filter((e) => e.type !== 'process');
  for (let i = 1; i < recs.length; i++) {
    if (recs[i].ts_ns < recs[i - 1].ts_ns) t.fail(`event ${i} goes back in time`);
  }
  t.match(recs[0].time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
});

t.test('stats', async (t) => {
  const tr = openTrace(FIXTURE);
  const s = new StatsCollector(tr.decoder.eventNames);
  forEachEvent(tr, {processes: true}, (e) => s.add(e));
  const r = s.report(tr.reader.trailer as never, null);
  tr.reader.close();
  const counts = Object.fromEntries(r.types.map((x) => [x.event, [x.sent, x.recorded, x.lost]]));
  const n = (type: string) => events.filter((e) => e.type === type).length;
  t.same(counts.exec, [n('exec'), n('exec'), 0]);
  t.same(counts.exec_failed, [1, 1, 0]);
  t.same(counts.fork, [n('fork'), n('fork'), 0]);
  t.same(counts.exit, [n('exit'), n('exit'), 0]);
  t.equal(r.complete, true);
  t.same(r.failed_execs, [{errno: 'ENOENT', count: 1}]);
  t.equal(r.top_executables[0].filename, m.odd.argv[0], 'execer is the most frequent executable');
  t.match(formatStats(r), /EVENT\s+SENT\s+RECORDED\s+LOST\nexec\s+\d+\s+\d+\s+0\n/);
});

t.test('stats: FILTERED appears when a record-time filter left records out; unused syscall types are hidden', async (t) => {
  const s = new StatsCollector(['exec', 'fork', 'exit', 'sys_exit', 'task']);
  const totals = {
    exec: {sent: 10, lost: 0, recorded: 10, filtered: 7},
    fork: {sent: 11, lost: 2, recorded: 9, filtered: 15},
    exit: {sent: 11, lost: 0, recorded: 11, filtered: 0},
    sys_exit: {sent: 0, lost: 0, recorded: 0, filtered: 0},
    task: {sent: 0, lost: 0, recorded: 0, filtered: 0},
  };
  const table = (text: string) => text.split('\n').slice(3, 7).join('\n');
  const r = s.report({totals} as never, null, 10, {exec: 10, fork: 9, exit: 11, sys_exit: 0, task: 0});
  t.same(r.types.map((x) => [x.event, x.filtered]), [['exec', 7], ['fork', 15], ['exit', 0], ['sys_exit', 0], ['task', 0]]);
  t.equal(table(formatStats(r)), [
    'EVENT               SENT  RECORDED      LOST  FILTERED',
    'exec                  10        10         0         7',
    'fork                  11         9         2        15',
    'exit                  11        11         0         0',
  ].join('\n'));
  // Nothing filtered (or a file from before the counter existed): no column.
  const plain = Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, {sent: v.sent, lost: v.lost, recorded: v.recorded}]));
  const r2 = new StatsCollector(['exec']).report({totals: plain} as never, null, 10, {exec: 10, fork: 9, exit: 11});
  t.equal(table(formatStats(r2)).split('\n')[0], 'EVENT               SENT  RECORDED      LOST');
  t.equal(r2.types[0].filtered, null);
});

t.test('the CLI, offline', async (t) => {
  const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], {encoding: 'utf8'});
  const j = run(['decode', FIXTURE, '--json', '--no-processes']);
  t.equal(j.status, 0, j.stderr);
  const lines = j.stdout.trim().split('\n');
  t.equal(lines.length, events.filter((e) => e.type !== 'process').length, 'one line per event');
  const first = JSON.parse(lines[0]);
  t.same(Object.keys(first).slice(0, 9), ['type', 'time', 'ts_ns', 'pid', 'tid', 'ppid', 'uid', 'gid', 'comm'], 'common keys first');
  const h = run(['decode', FIXTURE]);
  t.equal(h.status, 0);
  t.equal(h.stdout.trim().split('\n').length, events.length);
  const s = run(['stats', FIXTURE, '--json']);
  t.equal(s.status, 0);
  t.equal(JSON.parse(s.stdout).complete, true);
  const missing = run(['decode', '/nonexistent.bin']);
  t.equal(missing.status, 1);
  t.equal(missing.stderr, "exectrace decode: open /nonexistent.bin: ENOENT: no such file or directory, open '/nonexistent.bin'\n");
  const notTrace = run(['stats', path.join(ROOT, 'package.json')]);
  t.equal(notTrace.status, 1);
  t.match(notTrace.stderr, /^exectrace stats: not an exectrace file: bad magic at offset 0.*\n$/);
});
