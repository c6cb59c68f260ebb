// The library's front door (src/index.ts, `require('exectrace')`): openTrace gives the same
// events as `decode --json`, filtered the same way, typed as the event model says; it loads
// no addon. The README's Library examples run here: each JavaScript one must print what the
// README shows, the TypeScript ones must type-check with --strict against the built types.

import t, {type Test} from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {spawnSync} from 'node:child_process';
import {filterTrace, openTrace, recoverTrace, verifyTrace, type TraceEvent} from '../src';
import {toJson} from '../src/util/json';
import {ordered} from '../src/decode';
import {cli, lines, ROOT} from './lib/cli';

const fix = (name: string) => path.join(ROOT, 'fixtures', name);
const jsonOf = (e: TraceEvent) => toJson(ordered(e as never));

for (const name of ['exec-scenarios.bin', 'syscalls-cat.bin', 'exec-lossy.bin', 'damaged-flipped-byte.bin', 'damaged-no-trailer.bin']) {
  t.test(`${name}: the events decode --json prints, in order`, async (t) => {
    const trace = openTrace(fix(name));
    const ours: string[] = [];
    for await (const e of trace) ours.push(jsonOf(e));
    const r = await cli(['decode', path.join('fixtures', name), '--json']);
    t.same(ours, lines(r.stdout), `${ours.length} events`);
    t.equal(trace.problems.length, lines(r.stderr).filter((l) => !/no trailer/.test(l)).length, 'the problems decode reports');
    t.equal(trace.complete, !/no trailer/.test(r.stderr), 'complete (a trailer) as decode says');
    trace.close();
  });
}

t.test('filters are decode\'s flags', async (t) => {
  const cases: [Parameters<typeof openTrace>[1], string[]][] = [
    [{where: 'type == "exec" and argv =~ /two words/'}, ['--where', 'type == "exec" and argv =~ /two words/']],
    [{type: ['exit'], processes: false}, ['--type', 'exit', '--no-processes']],
    [{comm: ['execer.out'], uid: ['root']}, ['--comm', 'execer.out', '--uid', 'root']],
    [{syscall: ['openat'], where: ['ret < 0']}, ['--syscall', 'openat', '--where', 'ret < 0']],
    [{tree: 22408, since: '+0.05s'}, ['--tree', '22408', '--since', '+0.05s']],
  ];
  for (const [opts, flags] of cases) {
    const file = flags.includes('--syscall') ? 'syscalls-cat.bin' : 'exec-scenarios.bin';
    const ours = [...openTrace(fix(file), opts)].map(jsonOf);
    const r = await cli(['decode', path.join('fixtures', file), '--json', ...flags]);
    t.same(ours, lines(r.stdout), `${flags.join(' ')}: ${ours.length} events`);
  }
  t.ok([...openTrace(fix('exec-scenarios.bin'), {type: ['exec']})].length > 0, 'a filter that matches keeps events');
});

t.test('each kind of event has the fields its type declares', async (t) => {
  const need: Record<string, Record<string, string>> = {
    process: {pid: 'number', comm: 'string', argv: 'object', time: 'string'},
    exec: {pid: 'number', tid: 'number', ppid: 'number', uid: 'number', comm: 'string', filename: 'string', argv: 'object', argc: 'number', args_size: 'number', parent_comm: 'string', old_tid: 'number', time: 'string', ts_ns: 'number'},
    exec_failed: {filename: 'string', argv: 'object', error_code: 'number', errno: 'string', syscall: 'string', dfd: 'number', at_flags: 'number'},
    fork: {pid: 'number', ppid: 'number', parent_tid: 'number'},
    exit: {exit_code: 'number', core_dumped: 'boolean', running_time_ns: 'number', nr_threads: 'number'},
    syscall: {syscall: 'string', nr: 'number', args: 'object', ret: 'number', duration_ns: 'number'},
    lost: {event: 'string', count: 'number', cpu: 'number', window_start: 'string', window_end: 'string'},
  };
  const seen = new Set<string>();
  for (const name of ['exec-scenarios.bin', 'syscalls-cat.bin', 'exec-lossy.bin']) {
    for (const e of openTrace(fix(name))) {
      seen.add(e.type);
      for (const [k, type] of Object.entries(need[e.type] ?? {})) {
        const v = (e as unknown as Record<string, unknown>)[k];
        if (typeof v !== type && !(v === null && (k === 'ret' || k === 'duration_ns' || k === 'args'))) {
          t.fail(`${name}: ${e.type}.${k} is ${typeof v}, not ${type}`);
          return;
        }
      }
      if (e.type === 'exit' && e.signal !== null && typeof e.signal !== 'number') t.fail('exit.signal is a number or null');
    }
  }
  t.same([...seen].sort(), Object.keys(need).sort(), 'every kind met in the fixtures');
});

t.test('sync and async passes agree; a loop can stop and start over; close is final', async (t) => {
  const trace = openTrace(fix('exec-scenarios.bin'));
  const all = [...trace].map(jsonOf);
  const again: string[] = [];
  for await (const e of trace) again.push(jsonOf(e));
  t.same(again, all);
  let n = 0;
  for (const _ of trace) if (++n === 3) break;
  t.equal([...trace].length, all.length, 'a pass after a break starts from the beginning');
  t.equal(trace.meta.format, '1.0');
  t.match(trace.meta.host, {hostname: String});
  trace.close();
  trace.close();
  t.throws(() => [...trace], /is closed/);
});

t.test('damage: problems, and the intact chunks still given', async (t) => {
  const seen: string[] = [];
  const trace = openTrace(fix('damaged-flipped-byte.bin'), {onProblem: (p) => seen.push(p.message)});
  const n = [...trace].length;
  t.ok(n > 0);
  t.equal(trace.problems.length, 1);
  t.match(trace.problems[0], {kind: 'checksum', seq: 2, records: 9});
  t.same(seen, trace.problems.map((p) => p.message), 'onProblem as found');
  t.equal(verifyTrace(fix('damaged-flipped-byte.bin')).intact, false);
  t.equal(verifyTrace(fix('exec-scenarios.bin')).intact, true);
});

t.test('totals: what stats counts', async (t) => {
  const totals = openTrace(fix('syscalls-cat.bin')).totals();
  const r = await cli(['stats', 'fixtures/syscalls-cat.bin', '--json']);
  const st = JSON.parse(r.stdout);
  t.same(totals.events, st.events);
  t.same(totals.syscalls, st.syscalls);
  t.equal(totals.complete, st.complete);
});

t.test('bad input: one line, at open', async (t) => {
  t.throws(() => openTrace(fix('exec-scenarios.bin'), {where: 'argv =~ /unterminated'}), /--where: unterminated regex/);
  t.throws(() => openTrace(fix('exec-scenarios.bin'), {uid: ['no-such-user-xyz']}), /no user "no-such-user-xyz"/);
  t.throws(() => openTrace('/nonexistent/t.bin'), /nonexistent/);
});

t.test('commands reach src/ only through the front door (src/index.ts) and the CLI\'s helpers (src/cli/)', async (t) => {
  const dir = path.join(ROOT, 'commands');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts'));
  t.ok(files.length >= 7, `${files.length} commands`);
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    // Every way a module is named: import/export ... from, import('...'), require('...'), bare import '...'.
    const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
    t.ok(specs.some((s) => s.startsWith('../src')), `${f}: the scan sees its imports from src/`);
    const past = specs.filter((s) => /^\.\.\/src(\/|$)/.test(s) && !/^\.\.\/src(\/index)?$/.test(s) && !/^\.\.\/src\/cli\//.test(s));
    t.same(past, [], `${f}: nothing from src/ past the front door`);
  }
});

t.test('trace.write() prints what decode prints, and says what decode says', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-write-'));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  const cases: [string, Parameters<typeof openTrace>[1], boolean, string[]][] = [
    ['exec-lossy.bin', {}, true, ['--json']],
    ['syscalls-cat.bin', {zone: 'utc'}, false, ['--utc']],
    ['syscalls-cat.bin', {syscall: ['openat'], where: 'ret < 0', zone: 'utc'}, false, ['--syscall', 'openat', '--where', 'ret < 0', '--utc']],
    ['exec-scenarios.bin', {comm: ['no-such-comm'], processes: false}, true, ['--comm', 'no-such-comm', '--no-processes', '--json']],
    ['damaged-flipped-byte.bin', {}, true, ['--json']],
  ];
  for (const [name, opts, json, flags] of cases) {
    const file = path.join(dir, 'out');
    const fd = fs.openSync(file, 'w');
    const seen: string[] = [];
    const trace = openTrace(fix(name), {...opts, onProblem: (p) => seen.push(p.message)});
    const r = await trace.write(fd, {json});
    fs.closeSync(fd);
    trace.close();
    const c = await cli(['decode', fix(name), ...flags]);
    const what = `${name} ${flags.join(' ')}`;
    t.equal(fs.readFileSync(file, 'utf8'), c.stdout, `${what}: the same ${lines(c.stdout).length} lines`);
    // decode's stderr: the problems, the filters' warnings and explanation, then its own notes.
    const said = lines(c.stderr).map((l) => l.replace(/^exectrace: /, ''));
    t.same(said.slice(0, seen.length + r.warnings.length), [...seen.map((m) => `${fix(name)}: ${m}`), ...r.warnings], `${what}: problems and warnings`);
    t.equal(r.complete, !/no trailer/.test(c.stderr), `${what}: complete`);
    t.equal(r.matched === null, !opts?.comm && !opts?.syscall, `${what}: matched is counted with filters only`);
  }
  const empty = openTrace(fix('exec-scenarios.bin'), {comm: ['no-such-comm']});
  const devnull = fs.openSync('/dev/null', 'w');
  const r = await empty.write(devnull);
  fs.closeSync(devnull);
  t.equal(r.matched, 0);
  t.ok(r.warnings.length > 0, 'nothing matched: it says why');
});

t.test('trace.stats() is what stats --json prints', async (t) => {
  const cases: [string, Parameters<typeof openTrace>[1], string[]][] = [
    ['syscalls-cat.bin', {}, []],
    ['exec-lossy.bin', {}, ['--top', '3']],
    ['syscalls-cat.bin', {syscall: ['read'], zone: 'utc'}, ['--syscall', 'read', '--utc']],
    ['exec-scenarios.bin', {comm: ['no-such-comm']}, ['--comm', 'no-such-comm']],
    ['damaged-no-trailer.bin', {}, []],
  ];
  for (const [name, opts, flags] of cases) {
    const trace = openTrace(fix(name), opts);
    const top = flags.includes('--top') ? Number(flags[flags.indexOf('--top') + 1]) : undefined;
    const r = trace.stats({top});
    trace.close();
    const c = await cli(['stats', fix(name), '--json', ...flags]);
    t.equal(toJson(r.report) + '\n', c.stdout, `${name} ${flags.join(' ')}: the same JSON`);
    const said = lines(c.stderr).map((l) => l.replace(/^exectrace: /, '')).filter((l) => !l.startsWith(fix(name)));
    t.same(r.warnings, said, `${name} ${flags.join(' ')}: the same warnings`);
  }
});

t.test('filterTrace() writes what filter -o writes, and says what it says', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-filter-'));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  const cases: [string, Parameters<typeof filterTrace>[2], string[]][] = [
    ['exec-scenarios.bin', {type: ['exec']}, ['--type', 'exec']],
    ['syscalls-cat.bin', {syscall: ['openat'], processes: false}, ['--syscall', 'openat', '--no-processes']],
    ['exec-scenarios.bin', {comm: ['no-such-comm']}, ['--comm', 'no-such-comm']],
  ];
  for (const [name, opts, flags] of cases) {
    const ours = path.join(dir, 'api.bin');
    const theirs = path.join(dir, 'cli.bin');
    const r = filterTrace(fix(name), ours, {...opts, force: true});
    const c = await cli(['filter', fix(name), '-o', theirs, '--force', ...flags]);
    const what = `${name} ${flags.join(' ')}`;
    t.equal(c.status, 0, `${what}: filter -o succeeded`);
    // Not byte for byte: each written file has its own identity (chain head, time of writing).
    t.same([...openTrace(ours)].map(jsonOf), [...openTrace(theirs)].map(jsonOf), `${what}: the same events`);
    t.match(c.stdout, `kept ${r.records_out - r.context} of ${r.records_in} records`, `${what}: the same counts`);
    t.same(r.warnings, lines(c.stderr).map((l) => l.replace(/^exectrace: /, '')), `${what}: the same warnings`);
  }
  t.throws(() => filterTrace(fix('exec-scenarios.bin'), path.join(dir, 'api.bin')), /exists/, 'an existing output is kept without force');
});

t.test('recoverTrace() is recover --json', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-recover-'));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  for (const name of ['damaged-flipped-byte.bin', 'damaged-no-trailer.bin']) {
    const ours = path.join(dir, 'api.bin');
    const theirs = path.join(dir, 'cli.bin');
    const r = recoverTrace(fix(name), ours, {force: true});
    const c = await cli(['recover', fix(name), '-o', theirs, '--force', '--json']);
    // Each written file has its time of writing in its metadata (recovered_at): its own chain
    // head, and a size that differs by how that metadata compresses.
    t.same({...r, output: theirs, chain_head: null, bytes: null}, {...JSON.parse(c.stdout), chain_head: null, bytes: null}, `${name}: the same report`);
    t.same([...openTrace(ours)].map(jsonOf), [...openTrace(theirs)].map(jsonOf), `${name}: the same events`);
    t.equal(verifyTrace(ours).intact, true, `${name}: the recovered file is intact`);
  }
});

/** A directory whose node_modules/exectrace is this checkout, as an installed package would be. */
function consumer(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-api-'));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'exectrace'));
  return dir;
}

t.test('require("exectrace") loads no native addon of ours', async (t) => {
  const dir = consumer(t);
  fs.writeFileSync(path.join(dir, 'x.js'), `
const {openTrace} = require('exectrace');
let n = 0;
for (const e of openTrace(${JSON.stringify(fix('exec-scenarios.bin'))})) n++;
console.log(n, Object.keys(require.cache).filter((k) => k.endsWith('.node')).map((k) => require('path').basename(k)).join(','));
`);
  const r = spawnSync(process.execPath, [path.join(dir, 'x.js')], {encoding: 'utf8'});
  t.equal(r.status, 0, r.stderr);
  const [n, addons] = r.stdout.trim().split(' ');
  t.ok(Number(n) > 0);
  t.notMatch(addons ?? '', /exectrace_native/, `addons loaded: ${addons}`);
});

/** The README's Library section: its fenced blocks, in order. */
function libraryBlocks(): {lang: string; body: string}[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Library\n');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end);
  return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({lang: m[1], body: m[2]}));
}

t.test('README: each JavaScript example prints what the README shows', async (t) => {
  const blocks = libraryBlocks();
  const js = blocks.flatMap((b, i) => (b.lang === 'js' ? [i] : []));
  t.ok(js.length >= 2, `${js.length} js blocks`);
  const dir = consumer(t);
  for (const i of js) {
    t.equal(blocks[i + 1]?.lang, 'text', 'a js block followed by its output');
    fs.writeFileSync(path.join(dir, `example${i}.js`), blocks[i].body);
    const r = spawnSync(process.execPath, [path.join(dir, `example${i}.js`)], {cwd: ROOT, encoding: 'utf8'});
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, blocks[i + 1].body);
  }
});

t.test('README: the TypeScript examples type-check with --strict against the built types', async (t) => {
  const ts = libraryBlocks().filter((b) => b.lang === 'ts');
  t.ok(ts.length >= 2, `${ts.length} ts blocks`);
  const dir = consumer(t);
  const files = ts.map((b, i) => {
    const f = path.join(dir, `example${i}.ts`);
    fs.writeFileSync(f, `${b.body}\nexport {};\n`); // each a module of its own
    return f;
  });
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '--strict', '--noEmit', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022',
    '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'), ...files], {cwd: dir, encoding: 'utf8'});
  t.equal(r.status, 0, r.stdout + r.stderr);
  // And a mistake is caught: the narrowing is real.
  fs.writeFileSync(path.join(dir, 'wrong.ts'), `import {openTrace} from 'exectrace';\nfor (const ev of openTrace('t.bin')) if (ev.type === 'fork') console.log(ev.argv);\n`);
  const w = spawnSync(process.execPath, [tsc, '--strict', '--noEmit', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022',
    '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'), path.join(dir, 'wrong.ts')], {cwd: dir, encoding: 'utf8'});
  t.not(w.status, 0, 'a fork event has no argv');
  t.match(w.stdout, /Property 'argv' does not exist on type 'ForkEvent'/);
});
