// Offline: the filter language (--where and the flags) and `exectrace filter`, on the
// committed recordings — fixtures/exec-scenarios.bin (with its manifest),
// fixtures/syscalls-cat.bin (`record --syscall openat --syscall read --syscall close --
// cat /etc/hostname`), fixtures/exec-lossy.bin (an exec storm through a 4 KiB ring: loss
// records) — and on small synthetic files. No root, no native addon.

import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {createHash} from 'node:crypto';
import {spawnSync} from 'node:child_process';
import {forEachEvent, openTrace, TraceEvent} from '../src/decode';
import {compileFilter, compileWhere, filterFile, FilterSpec, parseTimeBound} from '../src/filter';
import {TraceReader, verifyFile} from '../src/format';
import {Synth} from './lib/synth';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'exectrace');
const EXECS = path.join(ROOT, 'fixtures', 'exec-scenarios.bin');
const CAT = path.join(ROOT, 'fixtures', 'syscalls-cat.bin');
const LOSSY = path.join(ROOT, 'fixtures', 'exec-lossy.bin');
const TREE = path.join(ROOT, 'fixtures', 'exec-tree.bin');
const m = JSON.parse(fs.readFileSync(path.join(ROOT, 'fixtures', 'exec-scenarios.manifest.json'), 'utf8'));

const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], {encoding: 'utf8', maxBuffer: 1 << 28});

/** decode FILE with a filter, in-process: the events as decode --where --json would print them. */
function decodeWith(file: string, spec: FilterSpec = {}, processes = true, ancestors = false): TraceEvent[] {
  const tr = openTrace(file);
  if (ancestors) tr.decoder.trackProcesses({ancestors: true});
  const f = compileFilter(spec, {path: file, decoder: tr.decoder, meta: tr.reader.meta as never});
  const out: TraceEvent[] = [];
  forEachEvent(tr, {processes}, (e) => {
    if (f.test(e)) out.push(e);
  });
  tr.reader.close();
  return out;
}

/** Events of the whole file (no filter), and a count of those a plain JS test picks: the reference the filters are held to. */
const ALL = new Map<string, TraceEvent[]>();
const all = (file: string, processes = false): TraceEvent[] => {
  const k = `${file}:${processes}`;
  if (!ALL.has(k)) ALL.set(k, decodeWith(file, {}, processes));
  return ALL.get(k)!;
};
const count = (file: string, f: (e: any) => boolean, processes = false) => all(file, processes).filter(f).length;

/** The source trailer (kernel counters). */
function trailerOf(file: string): any {
  const r = TraceReader.open(file);
  for (const _ of r.chunks()) { /* to the trailer */ }
  r.close();
  return r.trailer;
}

const brief = (es: TraceEvent[]) => es.map((e) => `${e.type} ${e.pid ?? ''}${e.type === 'syscall' ? ' ' + e.syscall : ''}`);
const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

// ---- the --where language ----------------------------------------------------------------

t.test('--where: operators, literals, paths', async (t) => {
  const e = {
    type: 'exec', pid: 42, uid: 1000, comm: 'curl', ts_ns: 2n ** 60n + 1n, ret: -2, argc: 3,
    argv: ['curl', '-s', 'https://x/a b'], truncated: false, interp: null, ns: {pid: 4026531836},
    args: {filename: '/etc/hosts', statbuf: {st_size: 158, st_mode: 0o100644}, buf: {text: 'hello\n', len: 6, truncated: false}},
  };
  const yes = [
    'type == "exec"', 'type != "fork"', 'pid == 42', 'pid == 0x2a', 'pid >= 42 and pid < 43', 'ret < -1', 'ret == -2',
    'uid in (0, 1000)', 'comm in ("wget", "curl")', 'comm not in ("wget")', 'not comm == "wget"', '!(pid == 1) && (uid == 1000 || uid == 0)',
    'argv =~ /^curl -s https:/', 'argv =~ /X\\/A B$/i', 'argv !~ /wget/', 'argv[0] == "curl"', 'argv[2] =~ "a b"',
    'argv == "curl -s https://x/a b"', '"-s" in argv', 'comm =~ "^cu"', 'ns.pid == 4026531836', 'args.statbuf.st_size > 100',
    'args.filename == "/etc/hosts"', 'args.buf =~ /hello\\n/', 'args.buf == "hello\\n"', 'interp == null', 'missing == null',
    'truncated == false', 'not truncated', 'argc', 'ts_ns > 1152921504606846976', 'ts_ns == 1152921504606846977', 'pid =~ /^4/',
    'comm == "\\x63url"', 'comm == "\\u{63}url"', 'comm < "d" and comm > "c"', 'argc == 3.0', 'pid > -1e3',
  ];
  for (const w of yes) t.equal(compileWhere(w).test(e), true, w);
  const no = [
    'type == "fork"', 'pid == "42"', 'pid < "50"', 'missing == 0', 'missing != null', 'argv[3] == "x"', 'argv =~ /wget/',
    'args.statbuf == "x"', 'args.statbuf.nope > 0', 'constructor == null and 1 == 2', '__proto__', 'interp', 'truncated',
    'comm in ("CURL")', '"-x" in argv', 'ts_ns == 1152921504606846976',
  ];
  for (const w of no) t.equal(compileWhere(w).test(e), false, w);
  t.equal(compileWhere('constructor == null').test(e), true, 'inherited properties read as missing');
});

t.test('--where: one-line errors that point at the column', async (t) => {
  const ctx = {types: ['exec', 'exec_failed', 'fork', 'exit', 'syscall', 'lost', 'process'], syscalls: new Set(['openat', 'read'])};
  const cases: [string, string][] = [
    ['type == and', '--where: expected a value, found the keyword "and" at column 9: type == and'],
    ['type ==', '--where: expected a value at column 8: type =='],
    ['', '--where: expected an expression at column 1: '],
    ['type = "exec"', '--where: use == to compare at column 6: type = "exec"'],
    ['argv =~ /(/', '--where: bad regex: Unterminated group at column 9: argv =~ /(/'],
    ['argv =~ /a/g', '--where: regex flag "g" not allowed (use i, m, s, u) at column 12: argv =~ /a/g'],
    ['pid == 12abc', '--where: bad number "12abc" at column 8: pid == 12abc'],
    ['(type == "exec"', '--where: expected ")", found the end at column 16: (type == "exec"'],
    ['type == "exec")', '--where: unbalanced ")" at column 15: type == "exec")'],
    ["comm == 'curl'", "--where: strings are written in double quotes at column 9: comm == 'curl'"],
    ['comm == "curl', '--where: unterminated string at column 9: comm == "curl'],
    ['comm == "\\q"', '--where: unknown escape \\q in a string at column 10: comm == "\\q"'],
    ['argv =~ /curl', '--where: unterminated regex at column 9: argv =~ /curl'],
    ['args.', '--where: expected a field name after ".", found the end at column 6: args.'],
    ['type == "exce"', '--where: no event has type "exce" (types: exec, exec_failed, fork, exit, syscall, lost, process) at column 9: type == "exce"'],
    ['syscall in ("read", "opnat")', '--where: "opnat" is not a syscall this file knows at column 21: syscall in ("read", "opnat")'],
    ['pid in (1 2)', '--where: expected "," or ")" in the list, found "2" at column 11: pid in (1 2)'],
    ['pid == 1 pid', '--where: expected "and", "or" or the end, found "pid" at column 10: pid == 1 pid'],
    ['pid not 3', '--where: expected an operator (== != < <= > >= =~ in), "and", "or" or the end, found "not" at column 5: pid not 3'],
    ['x @ 1', '--where: unexpected character "@" at column 3: x @ 1'],
    ['ret < -1 or', '--where: expected a value at column 12: ret < -1 or'],
  ];
  for (const [w, msg] of cases) t.throws(() => compileWhere(w, ctx), {message: msg}, w);
  t.throws(() => compileWhere('('.repeat(100) + 'pid' + ')'.repeat(100)), {message: /nesting deeper than 64 at column 65/});

  // Through the CLI: one line on stderr, exit status 2 (bad usage), nothing on stdout.
  const r = run(['decode', EXECS, '--where', 'type == "exec" and argv =~ /x']);
  t.equal(r.status, 2);
  t.equal(r.stdout, '');
  t.equal(r.stderr, 'exectrace decode: --where: unterminated regex at column 28: type == "exec" and argv =~ /x\n');
});

// ---- flags ---------------------------------------------------------------------------------

t.test('flags: --pid, --comm, --type, --uid, --syscall, repeatable, combined', async (t) => {
  t.same(brief(decodeWith(EXECS, {pid: [m.fork.pid, m.fork.child]})),
    [`fork ${m.fork.pid}`, `exec ${m.fork.pid}`, `fork ${m.fork.child}`, `exit ${m.fork.child}`, `exit ${m.fork.pid}`]);
  t.equal(decodeWith(EXECS, {comm: ['execer.out']}).length, count(EXECS, (e) => e.comm === 'execer.out'));
  t.same(brief(decodeWith(EXECS, {comm: ['sleep', 'echo']})), [`exec ${m.thread.pid}`, `exit ${m.thread.pid}`, `exec ${m.killed.pid}`, `exit ${m.killed.pid}`]);
  t.same(brief(decodeWith(EXECS, {type: ['exec_failed']})), [`exec_failed ${m.fail.pid}`]);
  t.equal(decodeWith(EXECS, {type: ['process']}).length, (TraceReader.open(EXECS).meta.processes as unknown[]).length, 'the processes alive at start');
  t.equal(decodeWith(EXECS, {type: ['exit'], uid: [0]}).length, count(EXECS, (e) => e.type === 'exit' && e.uid === 0));
  t.equal(decodeWith(EXECS, {uid: [1000]}).length, 0);
  t.same(brief(decodeWith(EXECS, {type: ['exit'], where: ['exit_code == 42']})), [`exit ${m.exit42.pid}`]);
  t.same(brief(decodeWith(EXECS, {where: ['signal == 9']})), [`exit ${m.killed.pid}`]);

  const opens = decodeWith(CAT, {syscall: ['openat'], comm: ['cat']});
  t.ok(opens.length > 3);
  t.equal(opens.length, count(CAT, (e) => e.syscall === 'openat' && e.comm === 'cat'));
  t.equal(decodeWith(CAT, {syscall: ['openat', 'close']}).length, count(CAT, (e) => e.syscall === 'openat' || e.syscall === 'close'));
  const bigReads = decodeWith(CAT, {syscall: ['read'], where: ['args.buf.len >= 832']});
  t.ok(bigReads.length > 0);
  t.equal(bigReads.length, count(CAT, (e) => e.syscall === 'read' && e.args.buf.len >= 832));
  const failed = decodeWith(CAT, {where: ['syscall == "openat" and ret < 0']});
  t.equal(failed.length, count(CAT, (e) => e.syscall === 'openat' && e.ret < 0));
  t.ok(failed.every((e) => e.errno === 'ENOENT'));
  t.same(decodeWith(CAT, {where: ['args.filename == "/etc/hostname"']}).map((e) => [e.comm, e.ret]), [['cat', 3]]);
  t.throws(() => decodeWith(CAT, {syscall: ['opnat']}), {message: '--syscall: "opnat" is not a syscall this file knows'});
  t.throws(() => decodeWith(CAT, {type: ['task']}), {message: /^--type: unknown event type "task" \(exec, /});
});

t.test('--since / --until: RFC 3339, time of day, duration from the start', async (t) => {
  // A window from the 6th event to the 21st, given in every form.
  const whole = all(EXECS);
  const meta = TraceReader.open(EXECS).meta as any;
  const startBoot = Number(meta.clock.start.boot_ns);
  const lo = whole[5];
  const hi = whole[20];
  const n = whole.filter((e) => e.ts_ns >= lo.ts_ns && e.ts_ns < hi.ts_ns).length;
  t.ok(n >= 15);
  const shifted = (time: string, hours: number) => {
    const d = new Date(Date.parse(time.slice(0, 19) + 'Z') + hours * 3600e3).toISOString().slice(0, 19);
    return `${d}${time.slice(19, 29)}${hours >= 0 ? '+' : '-'}${String(Math.abs(hours)).padStart(2, '0')}:00`;
  };
  t.equal(decodeWith(EXECS, {since: lo.time, until: hi.time}, false).length, n);
  t.equal(decodeWith(EXECS, {since: shifted(lo.time, 1), until: shifted(hi.time, -5)}, false).length, n);
  t.equal(decodeWith(EXECS, {since: lo.time.slice(11, 29), until: hi.time.slice(11, 29)}, false).length, n, 'UTC times of day');
  const ms = (e: TraceEvent) => `${((e.ts_ns - startBoot) / 1e6).toFixed(6)}ms`;
  t.equal(decodeWith(EXECS, {since: '+' + ms(lo), until: ms(hi)}, false).length, n, 'durations from the start');
  t.equal(decodeWith(EXECS, {since: whole[whole.length - 2].time.slice(11, 29)}, false).length, 2, 'the last two events');
  const startTime = new Date(Number(BigInt(meta.clock.start.realtime_ns) / 1_000_000n));
  const hhmm = (d: Date) => d.toISOString().slice(11, 16);
  t.equal(decodeWith(EXECS, {until: hhmm(new Date(startTime.getTime() - 60e3))}, false).length, 0);
  t.equal(decodeWith(EXECS, {since: hhmm(new Date(startTime.getTime() - 60e3))}, true).length, all(EXECS, true).length, 'the snapshot is at the start');
  t.throws(() => decodeWith(EXECS, {since: 'yesterday'}), {message: '--since: cannot read time "yesterday" (examples: 2026-11-23T10:42:00Z, 10:42, 10:42:05.25, +30s, 1m30s)'});
  t.throws(() => decodeWith(EXECS, {since: '25:00'}), {message: '--since: 25:00 is not a valid time of day'});
  t.throws(() => decodeWith(EXECS, {since: '2026-02-30T00:00Z'}), {message: '--since: 2026-02-30T00:00Z is not a valid date'});
  t.throws(() => decodeWith(EXECS, {since: '+2s', until: '+1s'}), {message: /^--since \+2s \(\d{4}-\d\d-\d\dT[\d:.]{18}Z\) is after --until \+1s \(/});

  // A recording across midnight: 23:50 → 00:10 (UTC). 00:05 is the one after midnight,
  // 23:55 the one before it, and 10:00 (in neither) the nearer one, on the first day.
  const start = BigInt(Date.UTC(2026, 10, 23, 23, 50)) * 1_000_000n;
  const span = {startBootNs: 1_000_000_000n, startRealNs: start, endBootNs: 1_000_000_000n + 20n * 60n * 1_000_000_000n};
  t.equal(parseTimeBound('00:05', 'since', span).time, '2026-11-24T00:05:00.000000000Z');
  t.equal(parseTimeBound('23:55:30.5', 'since', span).time, '2026-11-23T23:55:30.500000000Z');
  t.equal(parseTimeBound('10:00', 'since', span).time, '2026-11-24T10:00:00.000000000Z');
  t.equal(parseTimeBound('00:05', 'since', span).bootNs, 1_000_000_000 + 15 * 60 * 1e9);
  t.equal(parseTimeBound('1m30s', 'until', span).time, '2026-11-23T23:51:30.000000000Z');
  // Without a trailer only the start is known: the nearest occurrence.
  t.equal(parseTimeBound('00:05', 'since', {...span, endBootNs: null}).time, '2026-11-24T00:05:00.000000000Z');
  t.equal(parseTimeBound('23:40', 'since', {...span, endBootNs: null}).time, '2026-11-23T23:40:00.000000000Z');
});

// ---- --tree ---------------------------------------------------------------------------------

t.test('--tree: a process and its descendants, from the snapshot, forks and exits; a reused pid stays out', async (t) => {
  const dir = t.testdir();
  const proc = (pid: number, ppid: number, comm: string) => ({
    pid, tid: pid, ppid, uid: 0, gid: 0, euid: 0, egid: 0, loginuid: 0, sessionid: 1, comm, filename: `/bin/${comm}`,
    argv: [comm], cgroup: '/', ns: {pid: 4026531836}, start_time_ns: 0,
  });
  const s = new Synth(EXECS, {processes: [proc(1, 0, 'init'), proc(100, 1, 'bash'), proc(101, 100, 'sleep'), proc(200, 1, 'cron')]});
  const file = path.join(dir, 'tree.bin');
  s.write(file, [[
    s.fork(s.at(1), 102, 100, 'bash'),
    s.exec(s.at(2), 102, 100, ['make', '-j2'], '/usr/bin/make'),
    s.fork(s.at(3), 103, 102, 'make'),
    s.fork(s.at(4), 300, 200, 'cron'),
    s.exit(s.at(5), 103, 102, 'make'),
  ], [
    // pid 103 again, from an unrelated parent: not part of the tree.
    s.fork(s.at(6), 103, 200, 'cron'),
    s.exec(s.at(7), 103, 200, ['/usr/bin/backup'], '/usr/bin/backup'),
    s.exit(s.at(8), 102, 100, 'make', 2),
    s.fork(s.at(9), 104, 101, 'sleep'),
    s.exit(s.at(10), 104, 101, 'sleep'),
    s.exit(s.at(11), 103, 200, 'backup'),
    s.exit(s.at(12), 300, 200, 'cron'),
  ]]);
  t.same(brief(decodeWith(file, {tree: 100})), [
    'process 100', 'process 101', 'fork 102', 'exec 102', 'fork 103', 'exit 103', 'exit 102', 'fork 104', 'exit 104',
  ]);
  t.same(brief(decodeWith(file, {tree: 102})), ['fork 102', 'exec 102', 'fork 103', 'exit 103', 'exit 102'], 'a root born during the recording');
  t.same(brief(decodeWith(file, {tree: 200, type: ['fork']})), ['fork 300', 'fork 103']);
  t.same(brief(decodeWith(file, {tree: 999})), []);

  // The same through `filter`: the file decodes to the same events, with the command lines.
  const out = path.join(dir, 'tree-100.bin');
  const r = run(['filter', file, '--tree', '100', '-o', out]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, `${out}: kept 7 of 12 records (exec 1, fork 3, exit 3), 7 events and 2 processes alive at start, 1 chunk, ` +
    `${fs.statSync(out).size} bytes\n  filter: --tree 100\n`);
  t.same(decodeWith(out), decodeWith(file, {tree: 100}));
  t.same(decodeWith(out).filter((e) => e.type === 'exit').map((e) => e.argv), [['make', '-j2'], ['make', '-j2'], ['sleep']]);
});

// ---- filter FILE -o OUT -----------------------------------------------------------------

t.test('flags decide a syscall from its parts exactly as from its event (filter -o never builds it)', async (t) => {
  // Every syscall of the file through a direct sink: the parts test of one compiled filter
  // and the event test of another (--tree keeps state) must agree on each.
  const catPid = all(CAT).find((e) => e.type === 'syscall')!.pid as number;
  const specs: FilterSpec[] = [
    {comm: ['cat']}, {comm: ['bash']}, {syscall: ['openat', 'close']}, {type: ['syscall']}, {type: ['exec']},
    {pid: [catPid]}, {pid: [1]}, {uid: [0]}, {uid: [1000]}, {since: '+1ms'}, {until: '+2ms'}, {since: '+0s', until: '+1s'},
    {tree: catPid}, {tree: 1, syscall: ['read']}, {comm: ['cat'], syscall: ['read'], uid: [0]},
  ];
  for (const spec of specs) {
    const tr = openTrace(CAT);
    const meta = {path: CAT, decoder: tr.decoder, meta: tr.reader.meta as never};
    const byParts = compileFilter(spec, meta);
    const byEvent = compileFilter(spec, meta);
    t.ok(byParts.testSyscall, `${JSON.stringify(spec)}: a flags-only filter has a parts test`);
    let n = 0;
    let kept = 0;
    const differ: string[] = [];
    tr.decoder.direct = {
      syscall(p) {
        const a = byParts.testSyscall!(p);
        const b = byEvent.test(tr.decoder.syscallEvent(p, true));
        n++;
        if (a) kept++;
        if (a !== b) differ.push(`${p.syscall} ts ${p.ts_ns}: parts ${a}, event ${b}`);
        return true;
      },
    };
    forEachEvent(tr, {processes: false}, (e) => {
      byParts.test(e);
      byEvent.test(e);
    });
    tr.reader.close();
    t.same(differ, [], `${JSON.stringify(spec)}: ${kept} of ${n} syscalls kept, the same both ways`);
    t.ok(n > 0);
  }
  const tr = openTrace(CAT);
  t.equal(compileFilter({where: ['ret < 0']}, {decoder: tr.decoder, meta: tr.reader.meta as never}).testSyscall, null, 'a --where reads the event: no parts test');
  tr.reader.close();
});

t.test('filter -o: the new file decodes exactly as decode with the same filter', async (t) => {
  const dir = t.testdir();
  const cases: [string, FilterSpec][] = [
    [EXECS, {comm: ['execer.out']}], [EXECS, {type: ['exit']}], [EXECS, {pid: [m.fork.child]}], [EXECS, {tree: m.driver}],
    [EXECS, {where: ['argv =~ /sleep|echo/']}], [EXECS, {since: '+230ms', until: '+240ms'}], [EXECS, {type: ['fork']}],
    [EXECS, {type: ['process'], where: ['comm =~ /^kworker/']}],
    [CAT, {comm: ['cat']}], [CAT, {syscall: ['openat']}], [CAT, {type: ['syscall']}], [CAT, {where: ['ret < 0']}],
    [CAT, {type: ['exit']}], [CAT, {syscall: ['close'], where: ['comm != "cat"']}], [CAT, {since: '+0s'}],
    [CAT, {syscall: ['read'], where: ['args.buf.len > 1000']}], [CAT, {uid: [0], until: '+1s'}], [CAT, {tree: 1}],
    [LOSSY, {type: ['exit'], where: ['exit_code == 0']}], [LOSSY, {comm: ['bash']}],
  ];
  let i = 0;
  for (const [src, spec] of cases) {
    const out = path.join(dir, `out-${i++}.bin`);
    const r = filterFile(src, out, spec);
    const what = `${path.basename(src)} ${r.filter}`;
    t.same(decodeWith(out), decodeWith(src, spec), what);
    const v = verifyFile(out);
    t.same(v.findings, [], `${what}: intact`);
  }
});

t.test('filter -o keeps what ancestry needs: decode --ancestors of the new file is decode --ancestors of the source, filtered', async (t) => {
  const dir = t.testdir();
  const cases: [string, FilterSpec][] = [
    [TREE, {comm: ['true']}], [TREE, {type: ['exit']}], [TREE, {type: ['exec']}], [TREE, {type: ['exec_failed']}],
    [TREE, {pid: [18185]}], [TREE, {tree: 18188}], [TREE, {where: ['argv =~ /sleep/']}], [TREE, {since: '+0.6s'}],
    [TREE, {uid: [65534]}], [TREE, {type: ['fork']}], [TREE, {comm: ['sh']}],
    [EXECS, {type: ['exit']}], [EXECS, {comm: ['execer.out']}], [EXECS, {pid: [m.fork.child]}], [EXECS, {type: ['exec']}],
  ];
  let i = 0;
  for (const [src, spec] of cases) {
    const out = path.join(dir, `anc-${i++}.bin`);
    const r = filterFile(src, out, spec);
    const what = `${path.basename(src)} ${r.filter}`;
    t.same(decodeWith(out, {}, true, true), decodeWith(src, spec, true, true), `${what}: the same events, the same ancestors`);
    t.same(decodeWith(out), decodeWith(src, spec), `${what}: and the same without (context records are not shown)`);
    // Filtered again: what the first filter kept as context serves the second.
    const again = path.join(dir, `anc-${i++}.bin`);
    filterFile(out, again, {type: ['exec', 'exec_failed']});
    t.same(decodeWith(again, {}, true, true), decodeWith(src, spec, true, true).filter((e) => e.type === 'exec' || e.type === 'exec_failed'),
      `${what}, then --type exec --type exec_failed`);
  }
  const r = filterFile(TREE, path.join(dir, 'true.bin'), {comm: ['true']});
  t.equal(r.context, 4, 'the forks and execs of the shell and of fexec.out that launched them; the snapshot has the rest');
});

t.test('filter -o: an ancestor the output holds a newer image of is known by its id only (the limit, stated)', async (t) => {
  const dir = t.testdir();
  // With exec ids: the layouts of exec-tree.bin; snapshot: init (1) and a bash (100).
  const boot = '512ae60198224a37';
  const snap = (pid: number, ppid: number, comm: string, start: number) => ({
    pid, tid: pid, ppid, uid: 0, gid: 0, euid: 0, egid: 0, loginuid: 0, sessionid: 1, comm, filename: `/bin/${comm}`, argv: [comm],
    cgroup: '/', ns: {}, start_time_ns: start, start_ns: start, exec_seq: 1, parent_start_ns: ppid ? 1000 : 0, parent_exec_seq: 1,
  });
  const s = new Synth(TREE, {processes: [snap(1, 0, 'init', 1000), snap(100, 1, 'bash', 2000)]});
  const ids = (start: number, seq: number, pstart: number, pseq: number) => ({'task.start_ns': start, 'task.exec_seq': seq, 'task.parent_start_ns': pstart, 'task.parent_exec_seq': pseq});
  const t0 = s.at(1);
  const file = path.join(dir, 'newer.bin');
  s.write(file, [[
    // bash 100 forks 200; 200 forks 300, then execs make; 300 execs curl; all exit.
    s.record('fork', {ts: t0, pid: 200}, {'task.ppid': 100, 'task.comm': 'bash', parent_tid: 100, ...ids(t0, 1, 2000, 1)}),
    s.record('fork', {ts: t0 + 10, pid: 300}, {'task.ppid': 200, 'task.comm': 'bash', parent_tid: 200, ...ids(t0 + 10, 1, t0, 1)}),
    s.record('exec', {ts: t0 + 20, pid: 200}, {'task.ppid': 100, 'task.comm': 'make', old_tid: 200, argc: 1, ...ids(t0, 2, 2000, 1)}, {filename: '/usr/bin/make', argv: ['make']}),
    s.record('exec', {ts: t0 + 30, pid: 300}, {'task.ppid': 200, 'task.comm': 'curl', old_tid: 300, argc: 2, ...ids(t0 + 10, 2, t0, 1)}, {filename: '/usr/bin/curl', argv: ['curl', 'x']}),
    s.record('exit', {ts: t0 + 40, pid: 300}, {'task.ppid': 200, 'task.comm': 'curl', nr_threads: 1, ...ids(t0 + 10, 2, t0, 1)}),
    s.record('exit', {ts: t0 + 50, pid: 200}, {'task.ppid': 100, 'task.comm': 'make', nr_threads: 1, ...ids(t0, 2, 2000, 1)}),
  ]]);
  const curlOf = (f: string, spec: FilterSpec = {}) => decodeWith(f, spec, false, true).find((e) => e.comm === 'curl' && e.type === 'exec')!.ancestors as any[];
  const whole = curlOf(file);
  t.same(whole.map((a) => [a.pid, a.exec_id, a.argv]), [
    [200, `${boot}:200:${t0}:1`, ['bash']], [100, `${boot}:100:2000:1`, ['bash']], [1, `${boot}:1:1000:1`, ['init']],
  ], 'curl was forked by 200 while it still ran bash');
  // Keeping curl alone: 200's fork is written as context, its command line the snapshot's bash.
  const alone = path.join(dir, 'curl.bin');
  filterFile(file, alone, {comm: ['curl']});
  t.same(curlOf(alone), whole);
  // Keeping make too: the output holds 200's newer image (make) before curl's exec, so 200's
  // older one is not written (it would give 200 a wrong command line): known by its id.
  const both = path.join(dir, 'both.bin');
  filterFile(file, both, {comm: ['curl', 'make']});
  t.same(decodeWith(both), decodeWith(file, {comm: ['curl', 'make']}), 'the events as the source gives them');
  t.same(curlOf(both).map((a) => [a.pid, a.exec_id, a.argv]), [
    [200, `${boot}:200:${t0}:1`, null], [100, `${boot}:100:2000:1`, ['bash']], [1, `${boot}:1:1000:1`, ['init']],
  ]);
});

t.test('filter -o: syscalls keep their pairing and context — exec from a thread, a call that never returns', async (t) => {
  const dir = t.testdir();
  const s = new Synth(CAT, {processes: [{
    pid: 100, tid: 100, ppid: 1, uid: 0, gid: 0, euid: 0, egid: 0, loginuid: 0, sessionid: 1, comm: 'app',
    filename: '/usr/bin/app', argv: ['app', '--serve'], cgroup: '/', ns: {pid: 4026531836}, start_time_ns: 0,
  }]});
  const task = (ms: number, tid: number, comm: string) => s.record('task', {ts: s.at(ms), pid: 100, tid}, {'task.ppid': 1, 'task.comm': comm});
  const noEnter = 2;
  const file = path.join(dir, 'thread-exec.bin');
  s.write(file, [[
    task(1, 100, 'app'),
    s.record('sys_exit', {ts: s.at(2), pid: 100, tid: 100}, {nr: 3, ret: 0, enter_ts_ns: s.at(1.5)}),
    task(3, 101, 'app'),
    // Thread 101 calls execve; the exec kills the leader's other threads and the call
    // returns under the leader's tid, without an entry there.
    s.record('sys_enter', {ts: s.at(4), pid: 100, tid: 101}, {nr: 59}),
  ], [
    s.record('exec', {ts: s.at(5), pid: 100, tid: 100}, {'task.ppid': 1, 'task.comm': 'echo', old_tid: 101, argc: 2}, {filename: '/bin/echo', argv: ['/bin/echo', 'hi']}),
    s.record('sys_exit', {ts: s.at(6), pid: 100, tid: 100, flags: noEnter}, {nr: 59, ret: 0, enter_ts_ns: 0}),
    s.record('sys_exit', {ts: s.at(7), pid: 100, tid: 100}, {nr: 3, ret: 0, enter_ts_ns: s.at(6.5)}),
    s.record('sys_enter', {ts: s.at(8), pid: 100, tid: 100}, {nr: 231}),
    s.exit(s.at(9), 100, 1, 'echo'),
  ]]);
  const all = decodeWith(file, {}, false);
  t.same(all.map((e) => [e.type, e.tid, e.syscall ?? '', e.comm, e.incomplete ?? '']), [
    ['syscall', 100, 'close', 'app', ''],
    ['exec', 100, '', 'echo', ''],
    ['syscall', 100, 'execve', 'echo', ''],
    ['syscall', 100, 'close', 'echo', ''],
    ['syscall', 100, 'exit_group', 'echo', 'no_exit'],
    ['exit', 100, '', 'echo', ''],
  ]);
  t.equal(all[2].ts_ns, s.at(4), 'the execve is one call, from its entry on thread 101');
  let i = 0;
  for (const spec of [{syscall: ['execve']}, {pid: [100]}, {type: ['syscall']}, {syscall: ['close']}, {type: ['exit']},
    {syscall: ['exit_group']}, {where: ['comm == "echo"']}, {type: ['exec', 'syscall'], where: ['ts_ns > 0']}] as FilterSpec[]) {
    const out = path.join(dir, `out-${i++}.bin`);
    filterFile(file, out, spec);
    t.same(decodeWith(out), decodeWith(file, spec), JSON.stringify(spec));
  }
});

t.test('filter -o: what the file holds — metadata note, context records, trailer, mode 0600, --force', async (t) => {
  const dir = t.testdir();
  const out = path.join(dir, 'exits.bin');
  const r = filterFile(EXECS, out, {type: ['exit']});
  t.equal(fs.statSync(out).mode & 0o777, 0o600);
  const exits = count(EXECS, (e) => e.type === 'exit');
  const src = trailerOf(EXECS);
  t.match(r, {records_in: src.records, kept: {exit: exits}, events: exits, processes: 0, chunks: 1, copied: 0, problems: 0});
  t.equal(r.records_out, exits + r.context);
  const rd = TraceReader.open(out);
  const note = rd.meta.filter as any;
  t.same(note.applied, {type: ['exit']});
  t.same(note.source, {file: 'exec-scenarios.bin', sha256: sha(EXECS), size: fs.statSync(EXECS).size});
  t.match(note.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.same(note.processes, []);
  t.equal((rd.meta.flags as any).context, 0x8000, 'the context bit: the highest the flags leave free');
  t.same((rd.meta.processes as unknown[]).length, (TraceReader.open(EXECS).meta.processes as unknown[]).length, 'the snapshot stays whole, as context');
  for (const _ of rd.chunks()) { /* to the trailer */ }
  const tr = rd.trailer as any;
  rd.close();
  t.equal(tr.end_reason, 'filtered');
  t.equal(tr.original_end_reason, 'command exited');
  t.same(tr.totals.exit, {lost: 0, recorded: exits, sent: src.totals.exit.sent});
  // Context records: the execs (and the fork of the child that never exec'd) the exits' command lines come from,
  // and what introduces their ancestors: the forks of the driver (22408) and of the parent of that child (22420).
  t.same(tr.totals.exec, {lost: 0, recorded: 0, sent: src.totals.exec.sent, context: tr.totals.exec.context});
  t.ok(tr.totals.exec.context >= 10);
  t.equal(tr.totals.fork.context, 3);
  t.equal(tr.totals.exec.context + tr.totals.fork.context, r.context);
  t.same(tr.filtered_from, {file: 'exec-scenarios.bin', sha256: sha(EXECS), chunks: src.chunks, records: src.records, trailer: true, problems: 0});
  t.ok(tr.clock_end, 'the source trailer\'s other keys are kept');
  // Exits keep their command lines (from the context records), which are not shown.
  const ev = decodeWith(out);
  t.same(ev.map((e) => e.type), Array(11).fill('exit'));
  t.same(ev.find((e) => e.pid === m.fork.child)?.argv, m.fork.argv, 'a forked child without exec: its parent\'s command line');
  t.same(ev.find((e) => e.pid === m.odd.pid)?.argv, m.odd.argv);

  // An existing output is refused, replaced with force, never the input itself.
  t.throws(() => filterFile(EXECS, out, {type: ['exit']}), {message: `output file ${out} exists (use --force to overwrite)`});
  fs.chmodSync(out, 0o644);
  filterFile(EXECS, out, {type: ['fork']}, {force: true});
  t.equal(fs.statSync(out).mode & 0o777, 0o600, 'replaced, created anew with mode 0600');
  t.throws(() => filterFile(out, out, {}, {force: true}), {message: `output ${out} is the input file: write the filtered copy elsewhere`});
  const cli = run(['filter', EXECS, '--type', 'exit', '-o', out]);
  t.equal(cli.status, 1);
  t.equal(cli.stderr, `exectrace filter: output file ${out} exists (use --force to overwrite)\n`);
  t.equal(run(['filter', EXECS, '--type', 'exit', '-o', out, '--force']).status, 0);
  const none = run(['filter', EXECS, '--type', 'exit']);
  t.equal(none.status, 2);
  t.equal(none.stderr, 'exectrace: filter: give -o FILE to write the matching records to, or --json to print the matching events\n');

  // Everything kept: the chunk is copied as stored, byte for byte.
  const whole = path.join(dir, 'all.bin');
  const a = filterFile(EXECS, whole, {since: '+0s'});
  t.match(a, {records_out: src.records, copied: src.chunks, context: 0, processes: all(EXECS, true).length - all(EXECS).length});
  const stored = (file: string) => {
    const rr = TraceReader.open(file);
    const out: string[] = [];
    for (const c of rr.chunks()) out.push(createHash('sha256').update(c.stored).digest('hex'));
    rr.close();
    return out;
  };
  t.same(stored(whole), stored(EXECS));

  // A filtered file filtered again: the notes chain, context records still work.
  const again = path.join(dir, 'again.bin');
  filterFile(out, again, {pid: [m.fork.child]});
  const rd2 = TraceReader.open(again);
  t.same((rd2.meta.filter as any).previous.applied, {type: ['exit']});
  rd2.close();
  t.equal(trailerOf(again).original_end_reason, 'command exited', 'the recording\'s end reason, through both filters');
  t.same(decodeWith(again), decodeWith(EXECS, {type: ['exit'], pid: [m.fork.child]}));
  t.same(decodeWith(again)[0].argv, m.fork.argv);
});

t.test('filter -o: a filter that matches nothing writes a valid, empty file', async (t) => {
  const dir = t.testdir();
  const out = path.join(dir, 'none.bin');
  const r = run(['filter', CAT, '--comm', 'nothing', '-o', out]);
  t.equal(r.status, 0, r.stderr);
  const src = trailerOf(CAT);
  t.equal(r.stdout, `${out}: kept 0 of ${src.records} records, 0 events and 0 processes alive at start, 0 chunks, ${fs.statSync(out).size} bytes\n` +
    '  filter: --comm nothing\n');
  t.same(verifyFile(out).findings, []);
  t.equal(run(['decode', out]).stdout, '');
  t.equal(run(['decode', out]).status, 0);
  const st = run(['stats', out]);
  t.equal(st.status, 0, st.stderr);
  t.match(st.stdout, /^duration   \d+\.\d{3} s .*\nevents     0  \(0\.0\/s\); 0 processes alive at start\nfiltered   from syscalls-cat\.bin by --comm nothing: RECORDED is what this file kept; SENT and LOST are the recording's\n/);
  // The calls are one syscall row: the recording's sys_exit records sent, none kept here.
  t.match(st.stdout, new RegExp(`\nsyscall\\s+${src.totals.sys_exit.sent}\\s+0\\s+0\n`));
  t.match(st.stdout, new RegExp(`\n\\s+0\\.00\\s+0\\.000000\\s+-\\s+0\\s+${src.totals_sys.openat.sent}\\s+0\\s+0\\s+openat\n`),
    'per syscall: Sent and Lost from the recording, no calls here');
});

t.test('filter -o: loss records survive every filter, and stats still shows the loss', async (t) => {
  const dir = t.testdir();
  const out = path.join(dir, 'lossy-none.bin');
  const lostIn = decodeWith(LOSSY, {type: ['lost']});
  const src = trailerOf(LOSSY);
  t.ok(lostIn.length > 0 && src.totals.exec.lost > 0, 'the fixture holds loss (re-record it with a smaller ring if not)');
  const r = filterFile(LOSSY, out, {comm: ['nothing']});
  t.match(r, {records_in: src.records, records_out: lostIn.length, kept: {lost: lostIn.length}, events: lostIn.length});
  t.same(decodeWith(out), lostIn);
  t.same(lostIn.map((e) => e.event), ['exec', 'exec', 'fork', 'exit', 'exit']);
  const table = (x: any) => ['exec', 'exec_failed', 'fork', 'exit'].map((k) => `${k}\\s+${x[k].sent}\\s+0\\s+${x[k].lost}`).join('\n');
  const st = run(['stats', out]);
  t.equal(st.status, 0, st.stderr);
  t.match(st.stdout, new RegExp(`\nEVENT\\s+SENT\\s+RECORDED\\s+LOST\n${table(src.totals)}\n`));
  t.match(st.stdout, /\nexec\s+238\s+0\s+164\n/, 'as the committed recording says');
  // The same numbers through stats with the filter on the source.
  const st2 = run(['stats', LOSSY, '--comm', 'nothing']);
  t.match(st2.stdout, /\nfilter     --comm nothing: events and RECORDED count only what matches; SENT and LOST are the whole file's\n/);
  t.match(st2.stdout, new RegExp(`\nEVENT\\s+SENT\\s+RECORDED\\s+LOST\n${table(src.totals)}\n`));
  // With --type: the markers still come along (an exec that was lost might have matched).
  t.same(decodeWith(LOSSY, {type: ['exec'], where: ['argv[0] == "/bin/true"']}).filter((e) => e.type === 'lost'), lostIn);
});

t.test('filter -o: a damaged source: what survives is filtered, the status says so', async (t) => {
  const dir = t.testdir();
  const out = path.join(dir, 'from-damaged.bin');
  const r = run(['filter', path.join(ROOT, 'fixtures', 'damaged-flipped-byte.bin'), '--type', 'exec', '-o', out]);
  t.equal(r.status, 3);
  t.match(r.stderr, /^exectrace: .*damaged-flipped-byte\.bin: chunk seq \d+ at offset \d+ .* fails its checksum/);
  t.same(verifyFile(out).findings, [], 'the filtered copy is intact');
});

// ---- --json, decode and stats with filters -----------------------------------------------

t.test('CLI: filter --json is decode --where --json; stats says a filter was applied', async (t) => {
  const args = ['--where', 'type == "exec" and argv =~ /execer.out (exit|fork)/', '--no-processes'];
  const j = run(['filter', EXECS, ...args, '--json']);
  t.equal(j.status, 0, j.stderr);
  t.equal(j.stdout, run(['decode', EXECS, ...args, '--json']).stdout);
  t.same(j.stdout.trim().split('\n').map((l) => JSON.parse(l).pid), [m.odd.pid, m.many.pid, m.toomany.pid, m.fork.pid, m.exit42.pid]);
  t.equal(run(['filter', EXECS, '--json', '-o', '/tmp/x.bin']).status, 2, '--json does not write a file');

  const h = run(['decode', CAT, '--comm', 'cat', '--syscall', 'openat', '--where', 'ret >= 0 and args.filename =~ /hostname$/']);
  t.match(h.stdout, /^\d\d:\d\d:\d\d\.\d{6} cat\(\d+\) openat\(dfd=AT_FDCWD, filename="\/etc\/hostname", flags=O_RDONLY, mode=0\) = 3 <0\.\d{6}>\n$/);
  // A repeatable flag takes one value: the file may come after it.
  const before = run(['decode', '--comm', 'cat', '--syscall', 'openat', '--where', 'ret >= 0 and args.filename =~ /hostname$/', CAT]);
  t.equal(before.status, 0, before.stderr);
  t.equal(before.stdout, h.stdout, 'flags before the file');

  const s = run(['stats', CAT, '--comm', 'cat', '--json']);
  const js = JSON.parse(s.stdout);
  const src = trailerOf(CAT);
  t.equal(js.filter, '--comm cat');
  t.equal(js.records, count(CAT, (e) => e.comm === 'cat'));
  t.same(js.types.find((x: any) => x.event === 'sys_exit'),
    {event: 'sys_exit', sent: src.totals.sys_exit.sent, recorded: count(CAT, (e) => e.type === 'syscall' && e.comm === 'cat' && !e.incomplete), lost: 0,
      filtered: src.totals.sys_exit.filtered ?? null});
  for (const name of ['openat', 'close', 'read']) {
    t.same(js.syscalls.find((x: any) => x.syscall === name), {
      ...js.syscalls.find((x: any) => x.syscall === name),
      calls: count(CAT, (e) => e.syscall === name && e.comm === 'cat'), sent: src.totals_sys[name].sent,
    }, name);
  }
  // stats on the filtered file gives the same counts.
  const out = path.join(t.testdir(), 'cat.bin');
  filterFile(CAT, out, {comm: ['cat']});
  const so = JSON.parse(run(['stats', out, '--json']).stdout);
  t.same(so.types, js.types);
  t.same(so.syscalls, js.syscalls);
  t.same(so.filtered_from, {file: 'syscalls-cat.bin', filter: '--comm cat'});

  // A --where field that no event had is most likely a typo: said once, at the end.
  const typo = run(['decode', EXECS, '--where', 'exitcode == 42']);
  t.equal(typo.stdout, '');
  t.equal(typo.stderr, 'exectrace: --where: no event tested had a field exitcode (column 1): exitcode == 42\n');
});

// ---- memory --------------------------------------------------------------------------------

t.test('filter streams: memory does not grow with the file', async (t) => {
  // The syscall recording's chunk, 1 and 400 times over (42,000 records); filter keeps about
  // half. Run in a child with a small heap: it would fail if records were kept.
  const dir = t.testdir();
  const rd = TraceReader.open(CAT);
  const meta = rd.meta;
  const chunks: {payload: Buffer; flags: number; rawSize: number; records: number; firstTs: bigint; lastTs: bigint}[] = [];
  for (const c of rd.chunks()) chunks.push({payload: Buffer.from(c.stored), flags: c.flags, rawSize: c.data.length, records: c.records, firstTs: c.firstTs, lastTs: c.lastTs});
  rd.close();
  const {TraceWriter} = await import('../src/format');
  const make = (file: string, times: number) => {
    const w = TraceWriter.create(file, meta);
    for (let i = 0; i < times; i++) for (const c of chunks) w.copyChunk(c);
    w.close({end_reason: 'test'});
  };
  const small = path.join(dir, 'small.bin');
  const big = path.join(dir, 'big.bin');
  make(small, 1);
  make(big, 400);
  const rss = (file: string) => {
    const script = `const {filterFile} = require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'filter'))});` +
      `const r = filterFile(${JSON.stringify(file)}, ${JSON.stringify(file + '.out')}, {comm: ['cat']});` +
      'process.stdout.write(JSON.stringify({rss: process.resourceUsage().maxRSS * 1024, out: r.records_out}));';
    const c = spawnSync(process.execPath, ['--max-old-space-size=24', '-e', script], {encoding: 'utf8'});
    if (c.status !== 0) throw new Error(c.stderr);
    return JSON.parse(c.stdout) as {rss: number; out: number};
  };
  const a = rss(small);
  const b = rss(big);
  t.equal(b.out, a.out * 400);
  t.comment(`filter --comm cat: max RSS ${(a.rss / 1048576).toFixed(1)} MiB on ${path.basename(small)}, ${(b.rss / 1048576).toFixed(1)} MiB on 400 times the records`);
  t.ok(b.rss < a.rss + 32 * 1024 * 1024, `max RSS ${(b.rss / 1048576).toFixed(0)} MiB on 400x the records vs ${(a.rss / 1048576).toFixed(0)} MiB`);
});
