// Offline: what `decode` prints. Syscall events are written straight from the decoder's
// values (src/decode/json.ts, HumanEventWriter) rather than through their objects; these
// tests hold that path to the object path (toJson / humanLine of every event) on every
// fixture and on values picked to take each exit of it, and pin representative lines.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {forEachEvent, humanLine, openTrace, printEvents} from '../src/decode';
import {collectStats, formatStats, StatsCollector} from '../src/stats';
import {toJson} from '../src/util/json';
import {Output} from '../src/util/output';
import {compileFilter, type FilterSpec} from '../src/filter';
import {Synth} from './lib/synth';
import {TraceFormatError} from '../src/format';

// Human lines show local time (TZ): the times pinned here are UTC.
process.env.TZ = 'UTC';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures');
const CAT = path.join(FIXTURES, 'syscalls-cat.bin');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-print-'));
t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));

/** decode's output (with the filter spec, when given), through printEvents (the direct path). */
function printed(file: string, json: boolean, spec?: FilterSpec): string {
  const out = path.join(dir, 'out.txt');
  const fd = fs.openSync(out, 'w');
  try {
    // A small flush limit: many flushes, and lines that outgrow the buffer.
    const o = new Output(fd, 256);
    const tr = openTrace(file);
    try {
      const f = spec ? compileFilter(spec, {path: file, decoder: tr.decoder, meta: tr.reader.meta as never}) : null;
      printEvents(tr, {processes: true, json, test: f?.test, testReadsTime: f?.reads('time')}, o);
    } finally {
      tr.reader.close();
    }
    o.flush();
  } finally {
    fs.closeSync(fd);
  }
  return fs.readFileSync(out, 'utf8');
}

/** The same, one object at a time through toJson / humanLine. */
function objects(file: string, json: boolean): string {
  const tr = openTrace(file);
  const lines: string[] = [];
  try {
    forEachEvent(tr, {processes: true}, (e) => lines.push(json ? toJson(e) : humanLine(e, tr.decoder.clock, tr.decoder)));
  } finally {
    tr.reader.close();
  }
  return lines.map((l) => l + '\n').join('');
}

// The fixtures that open, by name: a fixture that stopped opening (the syscall one above
// all, the only recording of syscalls here) would otherwise just drop out of the test.
const OPENING = [
  'damaged-absurd-chunk.bin', 'damaged-altered.bin', 'damaged-bomb-chunk.bin', 'damaged-flipped-byte.bin',
  'damaged-garbage-tail.bin', 'damaged-header.bin', 'damaged-missing-chunk.bin', 'damaged-no-trailer.bin',
  'damaged-reordered.bin', 'damaged-trailer.bin', 'damaged-truncated.bin', 'exec-lossy.bin',
  'exec-scenarios-4chunks.bin', 'exec-scenarios.bin', 'exec-tree.bin', 'fleet-vm.bin', 'fleet-web-2.bin', 'query-net.bin',
  'syscalls-cat.bin', 'syscalls-net.bin',
];

/** Whether the file opens; a failure other than the format's own refusal is thrown. */
function opens(file: string): boolean {
  try {
    openTrace(file).reader.close();
    return true;
  } catch (err) {
    if (err instanceof TraceFormatError) return false;
    throw err;
  }
}

t.test('every fixture prints the same lines through the direct path as through its objects', async (t) => {
  const all = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.bin')).sort();
  const opening = all.filter((f) => opens(path.join(FIXTURES, f)));
  t.same(opening, OPENING, 'exactly these fixtures open (the others are refused as damaged)');
  t.ok(opening.includes('syscalls-cat.bin'), 'the syscall fixture opens');
  for (const f of opening.map((n) => path.join(FIXTURES, n))) {
    t.equal(printed(f, true), objects(f, true), `${path.basename(f)} --json`);
    t.equal(printed(f, false), objects(f, false), `${path.basename(f)} human`);
  }
});

/** decode with a filter, through printEvents; and the same through the objects. */
function printedFiltered(file: string, json: boolean, spec: FilterSpec): {direct: string; objects: string} {
  const direct = printed(file, json, spec);
  const tr = openTrace(file);
  const lines: string[] = [];
  try {
    const f = compileFilter(spec, {path: file, decoder: tr.decoder, meta: tr.reader.meta as never});
    forEachEvent(tr, {processes: true}, (e) => {
      if (f.test(e)) lines.push(json ? toJson(e) : humanLine(e, tr.decoder.clock, tr.decoder));
    });
  } finally {
    tr.reader.close();
  }
  return {direct, objects: lines.map((l) => l + '\n').join('')};
}

t.test('a filtered decode prints what the filter keeps, the same through the direct path as through objects', async (t) => {
  const specs: [string, FilterSpec, number][] = [
    // [what, filter, lines: counted from the unfiltered decode --json of the fixture]
    ['--syscall read', {syscall: ['read']}, 6],
    ['--where ret < 0', {where: ['ret < 0']}, 13],
    ['--where on time (built with its time string)', {where: ['type == "syscall" and time >= "2026-11-23T19:02:41"']}, 57],
    ['--comm cat --type exec', {comm: ['cat'], type: ['exec']}, 1],
    ['--where on args', {where: ['args.filename =~ /locale/']}, 27],
  ];
  for (const [what, spec, n] of specs) {
    for (const json of [true, false]) {
      const r = printedFiltered(CAT, json, spec);
      t.equal(r.direct, r.objects, `${what}${json ? ' --json' : ''}`);
      t.equal(r.direct.split('\n').length - 1, n, `${what}: ${n} lines`);
    }
  }
});

t.test('representative lines, exactly', async (t) => {
  const json = printed(CAT, true).split('\n');
  const human = printed(CAT, false).split('\n');
  t.equal(json[81],
    '{"type":"syscall","time":"2026-11-23T19:02:40.962218493Z","ts_ns":4336952759030,"pid":1677,"tid":1677,"ppid":22168,' +
    '"uid":0,"gid":0,"comm":"measure","euid":0,"egid":0,"loginuid":4294967295,"sessionid":4294967295,"cgroup_id":1,' +
    '"cgroup":"/","container_id":null,"ns":{"pid":4026531836,"mnt":4026531832,"net":4026531833,"uts":4026531838,"ipc":4026531839,' +
    '"user":4026531837,"cgroup":4026531835},"cpu":1,"syscall":"openat","nr":257,' +
    '"args":{"dfd":-100,"filename":"/proc/1678/status","flags":0,"mode":0},"ret":3,"duration_ns":26199,' +
    '"sym":{"dfd":"AT_FDCWD","flags":"O_RDONLY","mode":"0"}}');
  t.equal(json[82].slice(json[82].indexOf('"cpu"')),
    '"cpu":1,"syscall":"read","nr":0,"args":{"fd":3,"buf":{"text":"Name:\\tnode\\nUmask:\\t0022\\nState:\\tR (running)\\n' +
    'Tgid:\\t1678\\nNgid:\\t0\\nPid","len":1024,"truncated":true},"count":1024},"ret":1024,"duration_ns":19740,"cut":["buf"]}');
  t.equal(human[81], '19:02:40.962218 measure(1677) openat(dfd=AT_FDCWD, filename="/proc/1678/status", flags=O_RDONLY, mode=0) = 3 <0.000026>');
  t.equal(human[96], '19:02:41.001601 cat(2035) openat(dfd=AT_FDCWD, filename="/usr/lib/locale/locale-archive", flags=O_RDONLY|O_CLOEXEC, mode=0) = -2 ENOENT <0.000007>');
  t.equal(human[99], '19:02:41.001635 cat(2035) read(fd=3, buf="", count=4096) = 0 <0.000001>');
});

t.test('values off the common path print as their objects do', async (t) => {
  const s = new Synth(CAT, {
    processes: [
      // A context the byte writer leaves to toJson (a typed array), and one it writes (quotes, non-ASCII).
      {pid: 700, tid: 700, ppid: 1, uid: 0, gid: 0, comm: 'odd', ns: {pid: 1, raw: new Uint8Array([1, 2])}, start_time_ns: 0},
      {pid: 701, tid: 701, ppid: 1, uid: 0, gid: 0, comm: 'q"é\\x', ns: {pid: 2}, start_time_ns: 0},
    ],
  });
  const T = s.at(10);
  const exit = (pid: number, ts: number, nr: number, ret: number | bigint, enter: number, cpu = 0, tid = pid) =>
    s.record('sys_exit', {ts, pid, tid, cpu}, {nr, ret, enter_ts_ns: enter, args: 2n ** 63n + 5n});
  const recs = [
    exit(700, T + 1000, 110, 5, T),
    exit(701, T + 2000, 110, 7, T + 500), // duration 1500: toFixed's half
    exit(701, T + 3000, 110, -(2n ** 60n), T + 2999), // a bigint ret
    exit(701, T + 4000, 110, -2, T + 3999), // ENOENT
    exit(701, T + 5000, 70000, 0, T + 4000), // a number no table has
    exit(701, T + 6000, 110, 0, 0), // no entry
    exit(701, T + 7000, 110, 0, T + 8000), // a negative duration
    exit(701, T + 3e12, 110, 0, T + 1000), // a long one: ~3000 s
    exit(701, T + 3e12 + 1, 110, 1, T + 3e12, 1, 702), // another thread and cpu
    s.record('task', {ts: T + 3e12 + 2, pid: 703, tid: 703}, {'task.ppid': 1, 'task.comm': 'naïve', 'task.ns_pid': 9, 'task.cgroup_id': 2n ** 60n}),
    exit(703, T + 3e12 + 3, 257, 3, T + 3e12 + 2),
  ];
  const file = path.join(dir, 'odd.bin');
  s.write(file, [recs]);
  const json = printed(file, true);
  t.equal(json, objects(file, true), '--json');
  t.equal(printed(file, false), objects(file, false), 'human');
  const lines = json.split('\n');
  const ev = lines.filter((l) => l.includes('"type":"syscall"'));
  t.equal(ev.length, recs.length - 1, 'one event per exit record');
  t.match(ev[2], /"ret":-1152921504606846976,/, 'a ret past 2^53 is exact');
  t.match(ev[1], /"comm":"q\\"é\\\\x",/, 'an escaped comm');
  t.match(ev[9], /"comm":"naïve",.*"cgroup_id":1152921504606846976,/, 'an exact u64 in the context');
  t.match(ev[4], /"syscall":"syscall_70000","nr":70000,"args":\{"arg0":9223372036854775813,/);
});

t.test('stats counts the same with syscall events counted from the decoder', async (t) => {
  for (const f of [CAT, path.join(FIXTURES, 'exec-scenarios.bin')]) {
    const a = openTrace(f);
    const direct = new StatsCollector(a.decoder.eventNames, a.decoder.clock);
    collectStats(a, direct);
    a.reader.close();
    const b = openTrace(f);
    const plain = new StatsCollector(b.decoder.eventNames);
    forEachEvent(b, {processes: true}, (e) => plain.add(e));
    b.reader.close();
    const report = (s: StatsCollector, tr: typeof a) => formatStats(s.report(tr.reader.trailer, null, 10, tr.decoder.recordCounts()));
    t.equal(report(direct, a), report(plain, b), path.basename(f));
  }
});
