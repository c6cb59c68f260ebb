#!/usr/bin/env node
// `make bench`: exectrace side by side with the tools a user would otherwise reach for,
// in one run, printed as one table (and written as JSON for the README).
//
//   node test/bench/run.js [--json FILE] [--markdown]    (as root, after `make build`)
//   node test/bench/run.js --render FILE [--markdown]    the table of an earlier run's JSON
//
// Sections (every figure is measured in this run, never typed in):
//   syscall storm  N getppid() calls (storm.c) untraced; under empty BPF programs on
//                  tp_btf/sys_enter+sys_exit (bpf/floor.bpf.o, loaded with the addon: what
//                  the kernel itself costs for the hooks); under the same programs reading
//                  the clock once each (bpf/floor-clock.bpf.o: the least a recorder of
//                  timed calls pays, as it stamps entry and exit); under `exectrace record
//                  --syscalls`; under `perf record` of raw_syscalls (with and without -z);
//                  under bpftrace printf on the same tracepoints.
//   exec storm     N fork+exec of /bin/true with known arguments (execstorm.c) untraced,
//                  under `exectrace record` (each argv checked, and each exec's sha256
//                  against sha256sum) and with --no-hash, beside `execsnoop -x`.
//   decode         events/s of `exectrace decode --json`, `stats` and `filter -o` on the
//                  recorded files, beside `perf script` on perf's file.
//   memory         peak RSS of decode, stats and filter -o on files of ~1 M and
//                  ≥ 4 M events: it must stay flat as files grow.
//   parquet        `exectrace export` (events/s, peak RSS) of the same two files, and a
//                  `query` group-by over the large one: from the trace file (exported to a
//                  temporary Parquet file first) and from its Parquet export (DuckDB alone).
//
// Environment: BENCH_N (storm calls, default 2,000,000), BENCH_EXEC_N (execs, default
// 2,000), BENCH_REPEAT (runs of the cheap rows — untraced, floor, exectrace record,
// decode and stats under 10 s — median kept; default 3), BENCH_QUICK=1
// (small N, one run: checks the harness works, its figures mean nothing), BENCH_PEERS=0
// (skip perf, bpftrace and execsnoop), BENCH_KEEP=1 (keep the temporary directory).
//
// Workload times are the workload's own (CLOCK_MONOTONIC around its loop, printed by the
// workload), so a tracer's start-up and shutdown are not counted; "slowdown" is traced ÷
// untraced median. Recorder CPU is the recorder's own utime+stime, its children excluded
// (/proc/PID/stat read while it is a zombie, see measure.c); "marginal" subtracts the
// same recorder's CPU around /bin/true (its fixed start-up and shutdown cost).

'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {spawn, spawnSync, execFileSync} = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const EXECTRACE = path.join(ROOT, 'bin', 'exectrace');
const FLOOR_OBJECT = path.join(ROOT, 'bpf', 'floor.bpf.o');
const CLOCK_FLOOR_OBJECT = path.join(ROOT, 'bpf', 'floor-clock.bpf.o');
const FIXTURE = path.join(ROOT, 'fixtures', 'exec-scenarios.bin');
const GETPPID_NR = 110; // x86_64

// ---------------------------------------------------------------------------------------
// options

function envInt(name, dflt) {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v.replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) {
    process.stderr.write(`bench: ${name}=${v} is not a positive integer\n`);
    process.exit(2);
  }
  return n;
}

const QUICK = process.env.BENCH_QUICK === '1';
const OPTS = {
  quick: QUICK,
  stormN: envInt('BENCH_N', QUICK ? 20000 : 2000000),
  execN: envInt('BENCH_EXEC_N', QUICK ? 50 : 2000),
  repeat: envInt('BENCH_REPEAT', QUICK ? 1 : 3),
  peers: process.env.BENCH_PEERS !== '0',
  keep: process.env.BENCH_KEEP === '1',
  // memory: decode's peak RSS on a small and a large file (events in the file)
  memSmall: QUICK ? 25000 : 1000000,
  memLarge: QUICK ? 100000 : 4000000,
  json: '/tmp/exectrace-bench.json',
  markdown: false,
  render: null, // --render FILE: print the table of an earlier run's JSON, run nothing
};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--json') OPTS.json = process.argv[++i];
  else if (a.startsWith('--json=')) OPTS.json = a.slice(7);
  else if (a === '--markdown') OPTS.markdown = true;
  else if (a === '--render') OPTS.render = process.argv[++i];
  else if (a === '-h' || a === '--help') {
    process.stdout.write(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 30).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
    process.exit(0);
  } else {
    process.stderr.write(`bench: unknown argument ${a} (try --help)\n`);
    process.exit(2);
  }
}

let T = ''; // the temporary directory: workloads, recordings, measure results
const isRoot = process.getuid && process.getuid() === 0;
let failures = 0;

function log(line) {
  process.stderr.write(`bench: ${line}\n`);
}

// How a command is shown in the table: the temporary directory as $T, the checkout as ./
function show(argv) {
  return argv
    .map((a) => {
      let s = String(a).split(T).join('$T');
      if (s.startsWith(ROOT + '/')) s = './' + s.slice(ROOT.length + 1);
      if (!/[\s'"$\\`{}()|;&<>*?]/.test(s) || /^\$T[\w/.-]*$/.test(s)) return s;
      // "$T/storm 20000" keeps $T a variable; anything else is quoted literally
      if (!/["\\`]/.test(s.split('$T').join(''))&& !s.split('$T').join('').includes('$')) return `"${s}"`;
      return `'${s.replace(/'/g, `'\\''`)}'`;
    })
    .join(' ');
}

// ---------------------------------------------------------------------------------------
// processes

function which(name) {
  const dirs = (process.env.PATH || '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Runs argv to completion. stdout: 'capture' (kept as a string), 'null' (/dev/null),
 * {file} (written to that file) or a function called with each line.
 * stderr is always captured. Never rejects for a non-zero exit: the caller decides.
 */
function run(argv, {stdout = 'capture'} = {}) {
  return new Promise((resolve, reject) => {
    const nullFd = stdout === 'null' ? fs.openSync('/dev/null', 'w') : typeof stdout === 'object' ? fs.openSync(stdout.file, 'w') : null;
    const child = spawn(argv[0], argv.slice(1), {
      cwd: ROOT,
      stdio: ['ignore', nullFd ?? 'pipe', 'pipe'],
    });
    if (nullFd !== null) fs.closeSync(nullFd);
    let out = '';
    let lines = 0;
    let partial = '';
    let err = '';
    if (child.stdout) {
      if (stdout === 'capture') {
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (d) => (out += d));
      } else if (typeof stdout === 'function') {
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (d) => {
          const parts = (partial + d).split('\n');
          partial = parts.pop();
          for (const l of parts) {
            lines++;
            stdout(l);
          }
        });
      }
    }
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      if (err.length < 1 << 20) err += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (typeof stdout === 'function' && partial) {
        lines++;
        stdout(partial);
      }
      resolve({code, signal, stdout: out, stderr: err, lines});
    });
  });
}

let measureN = 0;
/** Runs argv under measure (see measure.c) and adds its figures as `.m`. */
async function measured(argv, opts = {}) {
  const res = path.join(T, `measure-${++measureN}.json`);
  const r = await run([BIN.measure, res, ...argv], opts);
  try {
    r.m = JSON.parse(fs.readFileSync(res, 'utf8'));
  } catch {
    throw new Error(`${show(argv)}: measure wrote no result (exit ${r.code}): ${r.stderr.trim().split('\n').pop()}`);
  }
  return r;
}

function check(r, argv, what = 'command') {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code ?? r.signal}): ${show(argv)}: ${why(r.stderr)}`);
  return r;
}

/** The line of a failed command's stderr that says why (Node's fatal errors end in a stack). */
function why(stderr) {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const said = lines.find((l) => /FATAL ERROR|^\w*Error\b|error:|^exectrace\b.*:/.test(l));
  return said ?? lines.slice(-3).join(' / ');
}

/** "key=value" pairs of the workload's result line. */
function workloadLine(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  if (!line) return null;
  const o = {};
  for (const m of line.matchAll(/(\w+)=(\S+)/g)) o[m[1]] = Number(m[2]);
  return o;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const cpuOf = (m) => (m.utime_s ?? 0) + (m.stime_s ?? 0);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------
// set-up

const BIN = {};

function buildWorkloads() {
  const cc = process.env.CC || 'cc';
  for (const name of ['storm', 'execstorm', 'measure']) {
    BIN[name] = path.join(T, name);
    const args = ['-O2', '-Wall', '-o', BIN[name], path.join(__dirname, `${name}.c`)];
    const r = spawnSync(cc, args, {encoding: 'utf8'});
    if (r.status !== 0) {
      process.stderr.write(`bench: ${cc} ${args.join(' ')} failed:\n${r.stderr || r.error}\n`);
      process.exit(1);
    }
  }
}

function ensureTracefs() {
  if (fs.existsSync('/sys/kernel/tracing/events')) return;
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing'], {stdio: ['ignore', 'ignore', 'pipe']});
  } catch (e) {
    log(`could not mount tracefs on /sys/kernel/tracing (perf and bpftrace need it): ${String(e.stderr || e.message).trim()}`);
  }
}

function firstLine(argv) {
  try {
    return execFileSync(argv[0], argv.slice(1), {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']}).trim().split('\n')[0];
  } catch {
    return null;
  }
}

function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = (cpuinfo.match(/^model name\s*:\s*(.*)$/m) || [])[1] || os.cpus()[0]?.model || 'unknown';
  const pkgVersion = (q) => firstLine(['dpkg-query', '-W', '-f=${Version}', q]);
  let commit = firstLine(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  if (commit && firstLine(['git', '-C', ROOT, 'status', '--porcelain', '--untracked-files=no'])) commit += ' (with uncommitted changes)';
  return {
    date: new Date().toISOString(),
    nproc: Number(firstLine(['nproc'])) || os.cpus().length,
    kernel: `${os.release()} ${os.arch()}`,
    cpu: model,
    memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
    loadavg: os.loadavg().map((x) => +x.toFixed(2)),
    node: process.version,
    exectrace: commit,
    perf: which('perf') ? firstLine(['perf', '--version']) : null,
    bpftrace: which('bpftrace') ? firstLine(['bpftrace', '--version']) : null,
    libbpf_tools: pkgVersion('libbpf-tools'),
  };
}

// ---------------------------------------------------------------------------------------
// results: one list of rows, each { section, tool, command, ...figures } or { ..., na }

const rows = [];
function addRow(row) {
  rows.push(row);
  return row;
}

/** Runs fn; on an unexpected error the row says so and the bench exits non-zero. */
async function attempt(base, fn) {
  try {
    return await fn();
  } catch (e) {
    failures++;
    log(`error: ${base.section} / ${base.tool}: ${e.message}`);
    return addRow({...base, error: e.message});
  }
}

// ---------------------------------------------------------------------------------------
// exectrace helpers

let recordHelp = null;
function recordHas(flag) {
  recordHelp ??= commandOutput([EXECTRACE, 'record', '--help']);
  return new RegExp(`(^|\\s)${flag}(\\b|=)`).test(recordHelp);
}
function commandOutput(argv) {
  try {
    return execFileSync(argv[0], argv.slice(1), {encoding: 'utf8', cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe']});
  } catch (e) {
    return String(e.stdout || '');
  }
}
function hasCommand(name) {
  return fs.existsSync(path.join(ROOT, 'dist', 'commands', `${name}.js`));
}

async function exectraceStats(file) {
  const argv = [EXECTRACE, 'stats', file, '--json'];
  const r = await run(argv);
  if (r.code !== 0 && r.code !== 3) check(r, argv, 'stats');
  return JSON.parse(r.stdout);
}

/**
 * What the bench reads from `stats --json`: records in the file, lost per type, and
 * per-syscall figures when the file has them. The per-syscall shape is read loosely (any
 * object naming a syscall, with calls/recorded/count and lost), so that this keeps
 * working while the stats output grows.
 */
function readStats(s) {
  const types = Array.isArray(s.types) ? s.types : [];
  const lostByType = {};
  for (const t of types) if (t.lost) lostByType[t.event] = t.lost;
  const bySyscall = {};
  const walk = (o) => {
    if (Array.isArray(o)) return o.forEach(walk);
    if (!o || typeof o !== 'object') return;
    const name = typeof o.syscall === 'string' ? o.syscall : typeof o.name === 'string' && ('calls' in o || 'nr' in o) ? o.name : null;
    if (name) {
      const calls = o.calls ?? o.recorded ?? o.count;
      if (typeof calls === 'number') bySyscall[name] = {calls, lost: typeof o.lost === 'number' ? o.lost : 0};
    }
    for (const v of Object.values(o)) if (v && typeof v === 'object') walk(v);
  };
  walk(s);
  const lostBySyscall = {};
  for (const [k, v] of Object.entries(bySyscall)) if (v.lost) lostBySyscall[k] = v.lost;
  return {
    records: s.records,
    lost: Object.values(lostByType).reduce((a, b) => a + b, 0),
    lostByType,
    lostBySyscall,
    bySyscall,
    complete: s.complete,
  };
}

// ---------------------------------------------------------------------------------------
// syscall storm

const S = 'syscall storm';
const storm = {untraced: null, floor: null, clockFloor: null, files: {}};

async function stormOnce() {
  const argv = [BIN.storm, String(OPTS.stormN)];
  const r = check(await run(argv), argv, 'storm');
  return workloadLine(r.stdout, 'storm');
}

async function stormUntraced() {
  const argv = [BIN.storm, String(OPTS.stormN)];
  const times = [];
  for (let i = 0; i < OPTS.repeat; i++) times.push((await stormOnce()).elapsed_ns);
  storm.untraced = median(times);
  addRow({section: S, tool: 'untraced', command: show(argv), time_s: storm.untraced / 1e9, slowdown: 1, runs_s: times.map((t) => t / 1e9)});
}

/** The storm under BPF programs that write nothing (the floors): object, row label, what they do. */
async function stormUnder(object, tool, what) {
  const name = path.relative(ROOT, object);
  const base = {section: S, tool, command: `${show([BIN.storm, OPTS.stormN])}   # under ./${name} (${what}) loaded and attached by the addon`};
  const na = !isRoot ? 'needs root' : !fs.existsSync(object) ? `${name} is missing: run \`make bpf\`` : null;
  if (na) {
    addRow({...base, na});
    return {ns: null};
  }
  const {openTracer} = require(path.join(ROOT, 'dist', 'src', 'record', 'native.js'));
  const tracer = openTracer({object});
  const times = [];
  try {
    tracer.attach();
    for (let i = 0; i < OPTS.repeat; i++) times.push((await stormOnce()).elapsed_ns);
  } finally {
    tracer.close();
  }
  const ns = median(times);
  return {base, ns, times};
}

async function stormFloor() {
  const r = await stormUnder(FLOOR_OBJECT, 'floor: empty BPF programs', 'tp_btf/sys_enter + sys_exit, return 0');
  if (r.ns === null) return;
  storm.floor = r.ns;
  addRow({...r.base, time_s: r.ns / 1e9, slowdown: r.ns / storm.untraced, runs_s: r.times.map((t) => t / 1e9)});
}

async function stormClockFloor() {
  const r = await stormUnder(CLOCK_FLOOR_OBJECT, 'clock floor: one clock read per hook', 'the floor\'s programs, each reading bpf_ktime_get_boot_ns once');
  if (r.ns === null) return;
  storm.clockFloor = r.ns;
  addRow({...r.base, time_s: r.ns / 1e9, slowdown: r.ns / storm.untraced, vs_floor: storm.floor ? r.ns / storm.floor : null,
    runs_s: r.times.map((t) => t / 1e9)});
}

/** The recorder's CPU around /bin/true: its fixed cost, subtracted for the marginal figure. */
async function idleCpu(argvFor) {
  const argv = argvFor('/bin/true');
  const r = await measured(argv, {stdout: 'null'});
  check(r, argv, 'idle run');
  return cpuOf(r.m);
}

function tracedFigures(base, r, w, events, bytes, idle) {
  const cpu = cpuOf(r.m);
  return {
    ...base,
    time_s: w.elapsed_ns / 1e9,
    slowdown: w.elapsed_ns / storm.untraced,
    vs_floor: storm.floor ? w.elapsed_ns / storm.floor : null,
    vs_clock_floor: storm.clockFloor ? w.elapsed_ns / storm.clockFloor : null,
    events,
    bytes,
    bytes_per_event: events ? bytes / events : null,
    cpu_s: cpu,
    cpu_idle_s: idle,
    cpu_s_per_m_events: events ? cpu / (events / 1e6) : null,
    cpu_marginal_s_per_m_events: events && idle !== null ? (cpu - idle) / (events / 1e6) : null,
    peak_rss_kb: r.m.maxrss_kb,
    recorder_wall_s: r.m.wall_ns / 1e9,
  };
}

async function stormExectrace() {
  const file = path.join(T, 'storm.bin');
  const argvFor = (...cmd) => [EXECTRACE, 'record', '--syscalls', '--force', '-o', file, '--', ...cmd];
  const argv = argvFor(BIN.storm, String(OPTS.stormN));
  const base = {section: S, tool: 'exectrace record --syscalls', command: show(argv)};
  if (!isRoot) return addRow({...base, na: 'needs root'});
  if (!recordHas('--syscalls')) return addRow({...base, na: 'not available: record has no --syscalls yet'});
  const idle = await idleCpu(argvFor);
  const times = [];
  // Median of BENCH_REPEAT runs (cheap); the file of the median run is the one kept.
  for (let i = 0; i < OPTS.repeat; i++) {
    const f = `${file}.${i}`;
    const a = argvFor(BIN.storm, String(OPTS.stormN)).map((x) => (x === file ? f : x));
    const r = check(await measured(a), a, 'exectrace record');
    const w = workloadLine(r.stdout, 'storm');
    times.push({w, r, f});
  }
  times.sort((a, b) => a.w.elapsed_ns - b.w.elapsed_ns);
  const best = times[(times.length - 1) >> 1];
  for (const t of times) if (t !== best) fs.rmSync(t.f, {force: true});
  fs.renameSync(best.f, file);
  const st = readStats(await exectraceStats(file));
  const bytes = fs.statSync(file).size;
  const getppid = st.bySyscall.getppid;
  // An exectrace syscall event is one complete call (entry and exit in one record, or a
  // pair); perf and bpftrace count entry and exit separately. `calls` compares like with like.
  const row = addRow({
    ...tracedFigures(base, best.r, best.w, st.records, bytes, idle),
    lost: st.lost,
    lost_by_type: st.lostByType,
    lost_by_syscall: st.lostBySyscall,
    workload_calls: getppid ? getppid.calls : null,
    workload_calls_from: 'stats, getppid system-wide',
    expected_calls: OPTS.stormN,
    runs_s: times.map((t) => t.w.elapsed_ns / 1e9).sort((a, b) => a - b),
  });
  storm.files.exectrace = {file, row, pid: best.w.pid, records: st.records, getppidCalls: getppid ? getppid.calls : null};
}

/** `perf report --stats`: samples, and lost samples (LOST_SAMPLES per event, else PERF_RECORD_LOST). */
async function perfStats(file) {
  const r = await run(['perf', 'report', '-i', file, '--stats'], {});
  const text = r.stdout + '\n' + r.stderr;
  const num = (re) => {
    const m = text.match(re);
    return m ? Number(m[1]) : null;
  };
  const samples = num(/^\s*SAMPLE events:\s+(\d+)/m);
  let lostSamples = 0;
  let perEvent = false;
  for (const m of text.matchAll(/^(\S+) stats:\n((?:\s+\S.*\n?)*)/gm)) {
    const l = m[2].match(/LOST_SAMPLES events:\s+(\d+)/);
    if (l && m[1] !== 'dummy:HG') {
      lostSamples += Number(l[1]);
      perEvent = true;
    }
  }
  const pct = text.match(/Processed (\d+) samples and lost ([\d.]+)%/);
  if (!perEvent && pct) lostSamples = Math.round((Number(pct[1]) * Number(pct[2])) / 100);
  return {samples, lost: lostSamples, lostChunks: num(/^\s*LOST events:\s+(\d+)/m) ?? 0};
}

/** getppid samples (entry and exit) of one pid in a perf file: perf report by pid and trace text. */
async function perfGetppidSamplesOf(file, pid) {
  const r = await run(['perf', 'report', '-i', file, '--sort', 'pid,trace', '-n', '--stdio'], {});
  let n = 0;
  const re = new RegExp(`^\\s+[\\d.]+%\\s+(\\d+)\\s+${pid}:\\S*\\s+NR ${GETPPID_NR}\\b`, 'gm');
  for (const m of r.stdout.matchAll(re)) n += Number(m[1]);
  return n;
}

/** Why a peer's row cannot run (peers skipped, not root, `tool` not found), or null when it can. */
function peerMissing(found, tool, debPackage) {
  if (!OPTS.peers) return 'skipped (BENCH_PEERS=0)';
  if (!isRoot) return 'needs root';
  if (!found) return `${tool} not installed (Debian: apt-get install ${debPackage})`;
  return null;
}

async function stormPerf(compress) {
  const file = path.join(T, compress ? 'perf-z.data' : 'perf.data');
  const argvFor = (...cmd) => ['perf', 'record', '-e', 'raw_syscalls:sys_enter', '-e', 'raw_syscalls:sys_exit', '-a', ...(compress ? ['-z'] : []), '-o', file, '--', ...cmd];
  const argv = argvFor(BIN.storm, String(OPTS.stormN));
  const base = {section: S, tool: compress ? 'perf record -z' : 'perf record', command: show(argv)};
  const na = peerMissing(which('perf'), 'perf', 'linux-perf');
  if (na) return addRow({...base, na});
  const idle = await idleCpu(argvFor);
  const r = check(await measured(argv), argv, 'perf record');
  const w = workloadLine(r.stdout, 'storm');
  const st = await perfStats(file);
  const mine = await perfGetppidSamplesOf(file, w.pid);
  if (!compress) storm.files.perf = {file, samples: st.samples};
  return addRow({
    ...tracedFigures(base, r, w, st.samples, fs.statSync(file).size, idle),
    lost: st.lost,
    lost_chunks: st.lostChunks,
    workload_calls: mine / 2,
    expected_calls: OPTS.stormN,
  });
}

const BPFTRACE_PROG =
  'tracepoint:raw_syscalls:sys_enter { printf("%llu %d %d enter %d\\n", nsecs, pid, tid, args->id); } ' +
  'tracepoint:raw_syscalls:sys_exit { printf("%llu %d %d exit %d %d\\n", nsecs, pid, tid, args->id, args->ret); }';

async function stormBpftrace() {
  const file = path.join(T, 'bpftrace.txt');
  const argvFor = (...cmd) => ['bpftrace', '-o', file, '-e', BPFTRACE_PROG, '-c', cmd.join(' ')];
  const argv = argvFor(BIN.storm, String(OPTS.stormN));
  const base = {section: S, tool: 'bpftrace printf', command: show(argv)};
  const na = peerMissing(which('bpftrace'), 'bpftrace', 'bpftrace');
  if (na) return addRow({...base, na});
  const idle = await idleCpu(argvFor);
  const r = check(await measured(argv), argv, 'bpftrace');
  const w = workloadLine(r.stdout, 'storm');
  // Lines are "ns pid tid enter|exit nr [ret]"; "Lost N events" when its buffer overflowed.
  let events = 0;
  let lost = 0;
  let mine = 0;
  const pidTag = ` ${w.pid} `;
  await new Promise((resolve, reject) => {
    const rl = require('node:readline').createInterface({input: fs.createReadStream(file)});
    rl.on('line', (l) => {
      const c = l.charCodeAt(0);
      if (c >= 48 && c <= 57) {
        events++;
        if (l.indexOf(pidTag) !== -1) {
          const f = l.split(' ');
          if (f[1] === String(w.pid) && Number(f[4]) === GETPPID_NR) mine++;
        }
      } else {
        const m = l.match(/^Lost (\d+) events/);
        if (m) lost += Number(m[1]);
      }
    });
    rl.on('close', resolve);
    rl.on('error', reject);
  });
  return addRow({...tracedFigures(base, r, w, events, fs.statSync(file).size, idle), lost, workload_calls: mine / 2, expected_calls: OPTS.stormN});
}

// ---------------------------------------------------------------------------------------
// exec storm

const E = 'exec storm';
const execs = {untraced: null, file: null};
const MARK = `exectrace-bench-${process.pid}`;

async function execOnce() {
  const argv = [BIN.execstorm, String(OPTS.execN), MARK];
  const r = check(await run(argv), argv, 'execstorm');
  return workloadLine(r.stdout, 'execstorm');
}

/** The files and command lines of the two traced exec-storm rows (with hashing, and --no-hash). */
function execTraced(hash) {
  const name = hash ? 'execstorm' : 'execstorm-nohash';
  const flags = hash ? [] : ['--no-hash'];
  const into = (file) => (...cmd) => [EXECTRACE, 'record', '--force', ...flags, '-o', file, '--', ...cmd];
  const file = path.join(T, `${name}.bin`);
  // The idle run writes a file of its own: the storm's is checked after it.
  return {file, idleFor: into(path.join(T, `${name}-idle.bin`)), argv: into(file)(BIN.execstorm, String(OPTS.execN), MARK)};
}

// The runs of the exec-storm rows, taken in rounds: untraced, traced with hashing, traced
// with --no-hash, again and again. A difference of a few per cent between the rows is
// what they are for, and this VM drifts by more than that over the minute they take.
const execRuns = {untraced: [], hash: [], nohash: []};

async function execRounds() {
  for (let i = 0; i < OPTS.repeat; i++) {
    execRuns.untraced.push((await execOnce()).elapsed_ns);
    if (!isRoot) continue;
    for (const hash of [true, false]) {
      const {argv} = execTraced(hash);
      const r = check(await measured(argv), argv, 'exectrace record');
      execRuns[hash ? 'hash' : 'nohash'].push({r, w: workloadLine(r.stdout, 'execstorm')});
    }
  }
}

async function execUntraced() {
  const argv = [BIN.execstorm, String(OPTS.execN), MARK];
  const times = execRuns.untraced;
  execs.untraced = median(times);
  addRow({section: E, tool: 'untraced', command: show(argv), time_s: execs.untraced / 1e9, slowdown: 1, runs_s: times.map((t) => t / 1e9)});
}

const expectedArgv = (i) => ['/bin/true', MARK, String(i), 'two words', '--flag=value'];

/**
 * exectrace record system-wide around the exec storm (the median of execRounds' runs is the
 * row: one run of 2,000 execs varies by several per cent here). `hash`: with the SHA-256 of
 * every exec's file (the default), or --no-hash. The last file is checked: every exec of the
 * workload with its argv exactly as passed, and how many have a digest.
 */
async function execExectrace(hash) {
  const {file, idleFor, argv} = execTraced(hash);
  const base = {section: E, tool: hash ? 'exectrace record' : 'exectrace record --no-hash', command: show(argv)};
  if (!isRoot) return addRow({...base, na: 'needs root'});
  const runs = execRuns[hash ? 'hash' : 'nohash'];
  if (!runs.length) throw new Error('no run of this row (execRounds failed)');
  const idle = await idleCpu(idleFor);
  const {r, w} = runs.slice().sort((x, y) => x.w.elapsed_ns - y.w.elapsed_ns)[runs.length >> 1];
  const st = readStats(await exectraceStats(file));
  // Every exec of the workload, with its argv exactly as passed.
  const seen = new Set();
  let marked = 0;
  let hashed = 0;
  const want = sha256sum('/bin/true');
  const dec = [EXECTRACE, 'decode', file, '--json', '--no-processes'];
  check(
    await run(dec, {
      stdout: (l) => {
        if (l.indexOf(MARK) === -1) return;
        const e = JSON.parse(l);
        if (e.type !== 'exec' || !Array.isArray(e.argv) || e.argv[1] !== MARK) return;
        marked++;
        if (e.sha256 === want) hashed++;
        const i = Number(e.argv[2]);
        if (JSON.stringify(e.argv) === JSON.stringify(expectedArgv(i))) seen.add(i);
      },
    }),
    dec,
    'decode',
  );
  if (hash) execs.file = {file, records: st.records};
  const cpu = cpuOf(r.m);
  return addRow({
    ...base,
    time_s: w.elapsed_ns / 1e9,
    slowdown: w.elapsed_ns / execs.untraced,
    runs_s: runs.map((x) => x.w.elapsed_ns / 1e9),
    events: st.records,
    lost: st.lost,
    lost_by_type: st.lostByType,
    execs_seen: marked,
    execs_full_argv: seen.size,
    execs_sha256: hash ? hashed : undefined,
    expected_execs: OPTS.execN,
    bytes: fs.statSync(file).size,
    bytes_per_event: fs.statSync(file).size / st.records,
    cpu_s: cpu,
    cpu_idle_s: idle,
    cpu_s_per_m_events: cpu / (st.records / 1e6),
    cpu_marginal_s_per_m_events: (cpu - idle) / (st.records / 1e6),
    peak_rss_kb: r.m.maxrss_kb,
  });
}

/** What sha256sum says of a file: the digest each exec of the storm must carry. */
function sha256sum(file) {
  return execFileSync('sha256sum', [fs.realpathSync(file)], {encoding: 'utf8'}).split(' ')[0];
}

/**
 * execsnoop -x -q from libbpf-tools, system-wide, around one exec storm. Its stdout is a
 * pipe, so it is run line-buffered (stdbuf) to see the header that says it is attached.
 */
async function execExecsnoop() {
  const snoop = which('execsnoop');
  const argv = [snoop || 'execsnoop', '-x', '-q'];
  const base = {section: E, tool: 'execsnoop -x (libbpf-tools)', command: `${show(argv)}   # running while: ${show([BIN.execstorm, OPTS.execN, MARK])}`};
  const na = peerMissing(snoop, 'execsnoop', 'libbpf-tools');
  if (na) return addRow({...base, na});
  const stdbuf = which('stdbuf');
  const child = spawn(stdbuf || snoop, stdbuf ? ['-oL', snoop, ...argv.slice(1)] : argv.slice(1), {stdio: ['ignore', 'pipe', 'pipe']});
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => (err += d));
  const closed = new Promise((r) => child.on('close', (code, signal) => r({code, signal})));
  const ready = new Promise((resolve) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (/PCOMM/.test(out)) resolve(true);
    });
    closed.then(() => resolve(false));
    if (!stdbuf) setTimeout(() => resolve(true), 3000);
  });
  if (!(await ready)) {
    throw new Error(`execsnoop did not start: ${err.trim().split('\n').pop()}`);
  }
  let w;
  try {
    w = await execOnce();
    await sleep(500); // let it drain its perf buffers
  } finally {
    child.kill('SIGINT');
  }
  await closed;
  // PCOMM PID PPID RET ARGS, ARGS each in "quotes" (-q).
  const want = (i) => expectedArgv(i).map((a) => `"${a}"`).join(' ');
  let marked = 0;
  const seen = new Set();
  for (const l of out.split('\n')) {
    const m = l.match(/^(\S+)\s+\d+\s+\d+\s+-?\d+\s+(.*?)\s*$/);
    if (!m || m[1] !== 'true' || m[2].indexOf(`"${MARK}"`) === -1) continue;
    marked++;
    const idx = m[2].match(new RegExp(`"${MARK}" "(\\d+)"`));
    if (idx && m[2] === want(Number(idx[1]))) seen.add(Number(idx[1]));
  }
  const sample = out.split('\n').find((l) => l.startsWith('true') && l.includes(MARK));
  let lost = 0;
  for (const m of err.matchAll(/Lost (\d+) events/g)) lost += Number(m[1]);
  // Checked by hand: execsnoop reads the filename and argv from the caller's memory at
  // syscall entry, without faulting pages in; in a just-forked child the workload's string
  // literals (read-only data, not yet mapped) cannot be read, and it stops at the first one.
  const footnote =
    seen.size < marked && sample
      ? `execsnoop: ${marked} lines for the workload, ${seen.size} with the full argv; a line reads \`${sample.replace(/\s+/g, ' ').trim()}\` ` +
        '(expected "/bin/true" "MARK" "I" "two words" "--flag=value"): it reads argv from the caller\'s memory at syscall entry and ' +
        'stops at the first string it cannot read; string literals of a just-forked child are not yet paged in'
      : null;
  return addRow({
    ...base,
    footnote,
    time_s: w.elapsed_ns / 1e9,
    slowdown: w.elapsed_ns / execs.untraced,
    lost,
    execs_seen: marked,
    execs_full_argv: seen.size,
    expected_execs: OPTS.execN,
    sample_line: sample ? sample.replace(/\s+/g, ' ') : null,
  });
}

// ---------------------------------------------------------------------------------------
// decode and memory

const D = 'decode';
const M = 'memory';
const P = 'parquet';

/**
 * NDJSON events of `decode --json` on file, counted, with decode's peak RSS; with
 * stormPid, also the getppid events of that process. decode writes to a file, counted
 * afterwards (untimed): a pipe would make the bench's reading speed part of the figure.
 */
async function decodeCounted(file, stormPid) {
  const argv = [EXECTRACE, 'decode', file, '--json'];
  const out = path.join(T, 'decode.ndjson');
  try {
    const r = await measured(argv, {stdout: {file: out}});
    if (r.code !== 0 && r.code !== 3) check(r, argv, 'decode');
    let events = 0;
    let getppid = 0;
    const pidTag = Buffer.from(`"pid":${stormPid},`);
    const getppidTag = Buffer.from('"syscall":"getppid"');
    let rest = Buffer.alloc(0);
    for await (const chunk of fs.createReadStream(out, {highWaterMark: 1 << 20})) {
      const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
      let start = 0;
      for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
        events++;
        if (stormPid) {
          const line = buf.subarray(start, nl);
          if (line.indexOf(getppidTag) !== -1 && line.indexOf(pidTag) !== -1) getppid++;
        }
        start = nl + 1;
      }
      rest = buf.subarray(start);
    }
    if (rest.length) events++;
    return {events, rss_kb: r.m.maxrss_kb, wall_s: r.m.wall_ns / 1e9, getppid: stormPid ? getppid : null};
  } finally {
    fs.rmSync(out, {force: true});
  }
}

/**
 * Wall times of argv with stdout to /dev/null: BENCH_REPEAT runs while a run takes
 * under 10 s, else one (a slow decoder must not blow the bench's time budget).
 */
async function timedRuns(argv, what) {
  const times = [];
  let rss = 0;
  for (let i = 0; i < OPTS.repeat; i++) {
    const r = await measured(argv, {stdout: 'null'});
    if (r.code !== 0 && r.code !== 3) check(r, argv, what);
    times.push(r.m.wall_ns / 1e9);
    rss = Math.max(rss, r.m.maxrss_kb);
    if (r.m.wall_ns > 10e9) break;
  }
  return {wall: median(times), times, rss};
}

let startup = null;
/** decode and stats of a 36-event file: Node and oclif start-up, in every figure below. */
async function decodeStartup() {
  if (startup) return startup;
  const a = [EXECTRACE, 'decode', FIXTURE, '--json'];
  const b = [EXECTRACE, 'stats', FIXTURE];
  startup = {decode_s: (await timedRuns(a, 'decode')).wall, stats_s: (await timedRuns(b, 'stats')).wall};
  return startup;
}

/** The filter the bench applies to a file of this kind: one that keeps most of it, so
 * that the figure includes writing (compressing) nearly every record again. */
function filterArgv(file, kind) {
  const keep = kind === 'syscall' ? ['--syscall', 'getppid'] : ['--type', 'exec'];
  return [EXECTRACE, 'filter', file, ...keep, '--force', '-o', path.join(T, 'filtered.bin')];
}

async function decodeRows(file, what, counted, kind) {
  const st = await decodeStartup();
  for (const [tool, argv, start] of [
    ['exectrace decode --json', [EXECTRACE, 'decode', file, '--json'], st.decode_s],
    ['exectrace stats', [EXECTRACE, 'stats', file], st.stats_s],
    // events/s counts the source's events: what the filter had to read and test
    [`exectrace filter ${kind === 'syscall' ? '--syscall getppid' : '--type exec'} -o`, filterArgv(file, kind), st.decode_s],
  ]) {
    const t = await timedRuns(argv, tool);
    addRow({
      section: D,
      tool: `${tool} (${what})`,
      command: `${show(argv)} > /dev/null`,
      time_s: t.wall,
      events: counted.events,
      events_per_s: counted.events / t.wall,
      // without Node's and oclif's start-up (the same command on a 36-event file)
      events_per_s_after_startup: t.wall > start ? counted.events / (t.wall - start) : null,
      startup_s: start,
      peak_rss_kb: t.rss,
      runs_s: t.times,
    });
  }
}

async function decodePerfScript() {
  const f = storm.files.perf;
  const argv = ['perf', 'script', '-i', f ? f.file : path.join(T, 'perf.data')];
  const base = {section: D, tool: 'perf script (perf record file)', command: `${show(argv)} > /dev/null`};
  if (!f) return addRow({...base, na: 'no perf file (perf record did not run)'});
  const r = await measured(argv, {stdout: 'null'});
  if (r.code !== 0) check(r, argv, 'perf script');
  const wall = r.m.wall_ns / 1e9;
  return addRow({...base, time_s: wall, events: f.samples, events_per_s: f.samples / wall, peak_rss_kb: r.m.maxrss_kb});
}

/**
 * A recording of a storm of n getppid calls for the memory rows. Each call decodes to
 * one syscall event; with --comm (when record has it) the rest of the system's
 * syscalls stay out, so the file's size does not depend on what else runs.
 */
/** Storm files made for the decode and memory rows, by name: each is recorded once. */
const stormFiles = new Map();

async function stormFile(n, name) {
  if (!stormFiles.has(name)) stormFiles.set(name, recordStormFile(n, name));
  return stormFiles.get(name);
}

async function recordStormFile(n, name) {
  const main = storm.files.exectrace;
  if (!(main.getppidCalls >= OPTS.stormN / 2)) {
    throw new Error(`the syscall-storm file holds ${main.getppidCalls ?? 'no'} getppid calls of ${OPTS.stormN}: record --syscalls did not record the storm, so no file of ${n} events can be made`);
  }
  const file = path.join(T, name);
  const comm = recordHas('--comm') ? ['--comm', 'storm'] : [];
  const argv = [EXECTRACE, 'record', '--syscalls', ...comm, '--force', '-o', file, '--', BIN.storm, String(n)];
  const r = check(await measured(argv, {stdout: 'null'}), argv, 'exectrace record');
  const st = readStats(await exectraceStats(file));
  return {file, argv, what: `storm of ${n} calls`, cpu_s: cpuOf(r.m), records: st.records};
}

/**
 * The recorder's CPU per million events beyond its fixed cost, from two recordings of one
 * storm at two sizes (the memory section's files): the difference of their CPU over the
 * difference of their records. Steadier than the storm row's "marginal", whose idle run
 * is a separate process with its own start-up noise.
 */
function recorderSlope(a, b) {
  if (!a || !b || !(b.records > a.records)) return null;
  return {
    small: {records: a.records, cpu_s: a.cpu_s, command: show(a.argv)},
    large: {records: b.records, cpu_s: b.cpu_s, command: show(b.argv)},
    s_per_m_events: (b.cpu_s - a.cpu_s) / ((b.records - a.records) / 1e6),
  };
}

async function memoryRows() {
  let files;
  let note = null;
  if (storm.files.exectrace) {
    files = [await stormFile(OPTS.memSmall, 'mem-small.bin'), await stormFile(OPTS.memLarge, 'mem-large.bin')];
  } else if (execs.file) {
    // Until record has --syscalls, the largest files this bench can make are exec storms.
    note = `not the ≥ ${OPTS.memLarge} events wanted: record has no --syscalls yet, so these are exec-storm files`;
    const n = Math.max(1, Math.floor(OPTS.execN / 4));
    const file = path.join(T, 'mem-small.bin');
    const argv = [EXECTRACE, 'record', '--force', '-o', file, '--', BIN.execstorm, String(n), MARK];
    check(await run(argv, {stdout: 'null'}), argv, 'exectrace record');
    files = [
      {file, argv, what: `exec storm of ${n} execs`},
      {file: execs.file.file, what: 'exec-storm file above'},
    ];
  } else {
    addRow({section: M, tool: 'exectrace decode --json', command: '', na: 'no recording to decode (record did not run)'});
    return null;
  }
  const points = [];
  const slope = storm.files.exectrace ? recorderSlope(files[0], files[1]) : null;
  for (const f of files) {
    const bytes = fs.statSync(f.file).size;
    const recorded = f.argv ? `   # ${show([f.file])} from: ${show(f.argv)}` : '';
    const decodeArgv = [EXECTRACE, 'decode', f.file, '--json'];
    const statsArgv = [EXECTRACE, 'stats', f.file];
    const c = await attempt({section: M, tool: `exectrace decode --json (${f.what})`, command: show(decodeArgv)}, async () => {
      const c = f.counted ?? await decodeCounted(f.file);
      addRow({section: M, tool: `exectrace decode --json (${f.what})`, command: `${show(decodeArgv)} > $T/decode.ndjson   # lines counted after${recorded ? `; ${recorded.trim().slice(2)}` : ''}`, events: c.events, bytes, peak_rss_kb: c.rss_kb, note});
      return c;
    });
    const s = await attempt({section: M, tool: `exectrace stats (${f.what})`, command: show(statsArgv)}, async () => {
      const s = await measured(statsArgv, {stdout: 'null'});
      if (s.code !== 0 && s.code !== 3) check(s, statsArgv, 'stats');
      addRow({section: M, tool: `exectrace stats (${f.what})`, command: `${show(statsArgv)} > /dev/null`, events: c.events, bytes, peak_rss_kb: s.m.maxrss_kb, note});
      return s;
    });
    const filterArgs = filterArgv(f.file, storm.files.exectrace ? 'syscall' : 'exec');
    const fl = await attempt({section: M, tool: `exectrace filter -o (${f.what})`, command: show(filterArgs)}, async () => {
      const fl = await measured(filterArgs, {stdout: 'null'});
      if (fl.code !== 0 && fl.code !== 3) check(fl, filterArgs, 'filter');
      addRow({section: M, tool: `exectrace filter -o (${f.what})`, command: show(filterArgs), events: c.events, bytes, peak_rss_kb: fl.m.maxrss_kb, note});
      return fl;
    });
    if (c.error || s.error || fl.error) continue;
    points.push({file: show([f.file]), events: c.events, bytes, decode_rss_kb: c.rss_kb, stats_rss_kb: s.m.maxrss_kb, filter_rss_kb: fl.m.maxrss_kb});
  }
  if (points.length < 2) return null;
  points.sort((x, y) => x.events - y.events);
  const [a, b] = [points[0], points[points.length - 1]];
  return {
    points,
    events_ratio: b.events / a.events,
    decode_rss_ratio: b.decode_rss_kb / a.decode_rss_kb,
    stats_rss_ratio: b.stats_rss_kb / a.stats_rss_kb,
    filter_rss_ratio: b.filter_rss_kb / a.filter_rss_kb,
    recorder_slope: slope,
    note,
  };
}

/**
 * The parquet rows: export of the memory section's files (events/s over decode's count of
 * the same file, peak RSS), then a query group-by over the largest, from the trace file and
 * from its export. Without DuckDB installed the query rows say so.
 */
async function parquetRows() {
  if (!storm.files.exectrace) {
    addRow({section: P, tool: 'exectrace export', command: '', na: 'no syscall-storm recording to export (record did not run)'});
    return;
  }
  const st = await decodeStartup();
  const files = [await stormFile(OPTS.memSmall, 'mem-small.bin'), await stormFile(OPTS.memLarge, 'mem-large.bin')];
  let big = null;
  for (const f of files) {
    f.counted ??= await decodeCounted(f.file);
    const out = path.join(T, `${path.basename(f.file, '.bin')}.parquet`);
    const argv = [EXECTRACE, 'export', f.file, '--force', '-o', out];
    const what = `${fmtInt(f.counted.events)}-event file`;
    await attempt({section: P, tool: `exectrace export --format parquet (${what})`, command: show(argv)}, async () => {
      const t = await timedRuns(argv, 'export');
      const bytes = fs.statSync(out).size;
      addRow({
        section: P, tool: `exectrace export --format parquet (${what})`, command: show(argv), time_s: t.wall, events: f.counted.events,
        events_per_s: f.counted.events / t.wall, events_per_s_after_startup: t.wall > st.decode_s ? f.counted.events / (t.wall - st.decode_s) : null,
        startup_s: st.decode_s, peak_rss_kb: t.rss, bytes_per_event: bytes / f.counted.events, runs_s: t.times,
      });
      big = {file: f.file, parquet: out, what, events: f.counted.events};
    });
  }
  if (!big) return;
  const sql = 'SELECT syscall, count(*) AS calls, avg(duration_ns) AS mean_ns FROM events GROUP BY syscall ORDER BY calls DESC';
  for (const [tool, input] of [[`exectrace query group-by (${big.what}, trace file)`, big.file], [`exectrace query group-by (${big.what}, its Parquet export)`, big.parquet]]) {
    const argv = [EXECTRACE, 'query', sql, input];
    await attempt({section: P, tool, command: show(argv)}, async () => {
      const r = await measured(argv, {stdout: 'capture'});
      if (r.code !== 0) {
        if (/query needs DuckDB/.test(r.stderr)) return addRow({section: P, tool, command: show(argv), na: why(r.stderr)});
        check(r, argv, 'query');
      }
      const wall = r.m.wall_ns / 1e9;
      addRow({section: P, tool, command: show(argv), time_s: wall, events: big.events, events_per_s: big.events / wall, peak_rss_kb: r.m.maxrss_kb});
    });
  }
}

// ---------------------------------------------------------------------------------------
// output

const fmtInt = (n) => (n === null || n === undefined ? '' : Math.round(n).toLocaleString('en-US'));
const fmtX = (x) => (x === null || x === undefined ? '' : `${x.toFixed(2)}x`);
const fmtS = (s) => (s === null || s === undefined ? '' : s < 10 ? `${s.toFixed(3)} s` : `${s.toFixed(1)} s`);
const fmtMB = (kb) => (kb === null || kb === undefined ? '' : `${(kb / 1024).toFixed(1)} MB`);
const fmtRate = (r) => (r === null || r === undefined ? '' : r >= 1e6 ? `${(r / 1e6).toFixed(2)} M/s` : `${(r / 1e3).toFixed(1)} k/s`);
const fmtN = (x, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '' : x.toFixed(d));

function seenCell(r) {
  if (r.expected_calls !== undefined) return r.workload_calls === null ? '?' : `${fmtInt(r.workload_calls)}/${fmtInt(r.expected_calls)}`;
  if (r.expected_execs !== undefined) {
    const sha = r.execs_sha256 !== undefined ? `, ${fmtInt(r.execs_sha256)} sha256` : '';
    return `${fmtInt(r.execs_full_argv)}/${fmtInt(r.expected_execs)} (${fmtInt(r.execs_seen)} seen${sha})`;
  }
  return '';
}

const COLUMNS = [
  ['section', (r) => r.section],
  ['tool', (r) => r.tool],
  ['time', (r) => fmtS(r.time_s)],
  ['slowdown', (r) => fmtX(r.slowdown)],
  ['vs floor', (r) => fmtX(r.vs_floor)],
  ['vs clock floor', (r) => fmtX(r.vs_clock_floor)],
  ['events', (r) => fmtInt(r.events)],
  ['workload seen', seenCell],
  ['lost', (r) => (r.lost === undefined ? '' : fmtInt(r.lost))],
  ['CPU s/M ev (marginal)', (r) => (r.cpu_s_per_m_events == null ? '' : `${fmtN(r.cpu_s_per_m_events)} (${fmtN(r.cpu_marginal_s_per_m_events)})`)],
  ['B/event', (r) => fmtN(r.bytes_per_event, 1)],
  ['peak RSS', (r) => fmtMB(r.peak_rss_kb)],
  ['events/s (after start-up)', (r) => (r.events_per_s == null ? '' : `${fmtRate(r.events_per_s)}${r.events_per_s_after_startup ? ` (${fmtRate(r.events_per_s_after_startup)})` : ''}`)],
  ['command', (r) => (r.error ? `ERROR: ${r.error}` : r.na ? `${r.na}${r.command ? `   [${r.command}]` : ''}` : r.command)],
];

function table(rows, markdown) {
  const cells = rows.map((r) => COLUMNS.map(([, f]) => String(f(r) ?? '')));
  const head = COLUMNS.map(([h]) => h);
  if (markdown) {
    const esc = (s) => s.replace(/\|/g, '\\|');
    const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
    cells.forEach((c, k) => {
      const code = (s, i) => i === c.length - 1 && s && !rows[k].na && !rows[k].error;
      lines.push(`| ${c.map((s, i) => (code(s, i) ? '`' + esc(s) + '`' : esc(s))).join(' | ')} |`);
    });
    return lines.join('\n');
  }
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (i === head.length - 1 ? 0 : c[i].length))));
  const line = (c) => c.map((s, i) => (i === c.length - 1 ? s : i <= 1 ? s.padEnd(width[i]) : s.padStart(width[i]))).join('  ').trimEnd();
  return [line(head), line(head.map((h, i) => '-'.repeat(i === head.length - 1 ? h.length : width[i]))), ...cells.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------

async function main() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'commands', 'record.js'))) {
    log('dist/ is not built: run `make build` first');
    process.exit(2);
  }
  buildWorkloads();
  if (isRoot) ensureTracefs();
  else log('not root: every traced row will say "needs root"');
  const mach = machine();
  log(`T=${T}${OPTS.quick ? ' (BENCH_QUICK=1: a smoke run, the figures mean nothing)' : ''}`);

  log(`syscall storm, N=${OPTS.stormN}`);
  await attempt({section: S, tool: 'untraced'}, stormUntraced);
  await attempt({section: S, tool: 'floor'}, stormFloor);
  await attempt({section: S, tool: 'clock floor'}, stormClockFloor);
  await attempt({section: S, tool: 'exectrace record --syscalls'}, stormExectrace);
  log('perf record');
  await attempt({section: S, tool: 'perf record'}, () => stormPerf(false));
  await attempt({section: S, tool: 'perf record -z'}, () => stormPerf(true));
  log('bpftrace');
  await attempt({section: S, tool: 'bpftrace printf'}, stormBpftrace);

  log(`exec storm, N=${OPTS.execN}`);
  await attempt({section: E, tool: 'rounds'}, execRounds);
  await attempt({section: E, tool: 'untraced'}, execUntraced);
  await attempt({section: E, tool: 'exectrace record'}, () => execExectrace(true));
  await attempt({section: E, tool: 'exectrace record --no-hash'}, () => execExectrace(false));
  await attempt({section: E, tool: 'execsnoop'}, execExecsnoop);

  log('decode');
  if (storm.files.exectrace) {
    await attempt({section: D, tool: 'exectrace decode (syscall storm)'}, async () => {
      const f = storm.files.exectrace;
      f.counted = await decodeCounted(f.file, f.pid);
      // The storm's own getppid calls, by pid (stats counts them system-wide).
      f.row.workload_calls = f.counted.getppid;
      f.row.workload_calls_from = 'decode, storm pid';
      await decodeRows(f.file, 'syscall-storm file', f.counted, 'syscall');
    });
    // The rates again on the memory section's largest file, where start-up weighs less.
    await attempt({section: D, tool: 'exectrace decode (large storm file)'}, async () => {
      const big = await stormFile(OPTS.memLarge, 'mem-large.bin');
      big.counted ??= await decodeCounted(big.file);
      await decodeRows(big.file, `${fmtInt(big.counted.events)}-event file`, big.counted, 'syscall');
    });
  } else {
    addRow({section: D, tool: 'exectrace decode --json (syscall-storm file)', command: '', na: 'not available: record has no --syscalls yet'});
  }
  if (execs.file) {
    await attempt({section: D, tool: 'exectrace decode (exec storm)'}, async () => {
      execs.file.counted = await decodeCounted(execs.file.file);
      await decodeRows(execs.file.file, 'exec-storm file', execs.file.counted, 'exec');
    });
  }
  if (OPTS.peers && which('perf') && isRoot) await attempt({section: D, tool: 'perf script'}, decodePerfScript);
  else addRow({section: D, tool: 'perf script', command: '', na: !OPTS.peers ? 'skipped (BENCH_PEERS=0)' : 'perf not installed or not root'});

  log('memory');
  const growth = await attempt({section: M, tool: 'decode'}, memoryRows);

  log('parquet');
  await attempt({section: P, tool: 'export'}, parquetRows);

  const result = {
    machine: mach,
    options: {storm_n: OPTS.stormN, exec_n: OPTS.execN, repeat: OPTS.repeat, quick: OPTS.quick, peers: OPTS.peers},
    notes: [
      'time: the workload\'s own elapsed time (CLOCK_MONOTONIC around its loop); slowdown: ÷ the untraced median; vs floor: ÷ the floor median; vs clock floor: ÷ the clock floor median (the floor plus the two clock reads that time a call)',
      'events: what the tool recorded system-wide (exectrace: records in the file; perf: samples, one per entry or exit; bpftrace: output lines); workload seen: the storm\'s getppid calls found in the output (perf, bpftrace: entry+exit samples of the storm ÷ 2), or the execs recorded with their exact argv',
      'CPU: the recorder\'s own utime+stime (children excluded) per million events; marginal: minus the same recorder\'s CPU around /bin/true',
      'peak RSS: ru_maxrss of the recorder or decoder (the largest of it and its children; the workloads use ~1 MB)',
      'decode events/s: NDJSON lines ÷ wall time, Node start-up included; after start-up: minus the same command\'s time on a 36-event file',
    ],
    temp_dir: T,
    memory_growth: growth && growth.events_ratio ? growth : null,
    rows,
  };
  if (OPTS.json) fs.writeFileSync(OPTS.json, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(report(result, OPTS.markdown) + (OPTS.json ? `JSON: ${OPTS.json}\n` : ''));
}

/** The printed report: machine, one table, the memory line and the notes. */
function report(result, markdown) {
  const {machine: mach, options: o, memory_growth: growth} = result;
  const out = [];
  out.push(`exectrace bench — ${mach.date}`);
  out.push(`machine: ${mach.nproc} CPUs (${mach.cpu}), ${mach.memory_gib} GiB, Linux ${mach.kernel}, load ${mach.loadavg.join(' ')} at start; node ${mach.node}; exectrace ${mach.exectrace}`);
  out.push(`peers: ${mach.perf || 'no perf'}; ${mach.bpftrace || 'no bpftrace'}; libbpf-tools ${mach.libbpf_tools || 'not installed'}`);
  out.push(`syscall storm N=${o.storm_n} getppid() calls, exec storm N=${o.exec_n} fork+exec of /bin/true; cheap rows are the median of ${o.repeat} run(s); T=${result.temp_dir}${o.quick ? '   (BENCH_QUICK=1: a smoke run, the figures mean nothing)' : ''}`);
  out.push('');
  out.push(table(result.rows, markdown));
  out.push('');
  if (growth) {
    const filt = (kb) => (kb ? `, filter ${fmtMB(kb)}` : '');
    const pts = growth.points.map((p) => `${fmtInt(p.events)} events: decode ${fmtMB(p.decode_rss_kb)}, stats ${fmtMB(p.stats_rss_kb)}${filt(p.filter_rss_kb)}`).join('; ');
    const fr = growth.filter_rss_ratio ? `, ${fmtX(growth.filter_rss_ratio)} filter's` : '';
    out.push(`memory: ${pts} — ${fmtX(growth.events_ratio)} the events, ${fmtX(growth.decode_rss_ratio)} decode's peak RSS, ${fmtX(growth.stats_rss_ratio)} stats'${fr}${growth.note ? ` (${growth.note})` : ''}`);
    const sl = growth.recorder_slope;
    if (sl) {
      out.push(`recorder CPU per million events beyond start-up: ${fmtN(sl.s_per_m_events)} s — the recordings of those files took ${fmtN(sl.small.cpu_s)} s for ${fmtInt(sl.small.records)} events and ${fmtN(sl.large.cpu_s)} s for ${fmtInt(sl.large.records)} (${sl.large.command})`);
    }
  }
  for (const n of result.notes) out.push(`- ${n}`);
  for (const r of result.rows) if (r.footnote) out.push(`- ${r.footnote}`);
  return out.join('\n') + '\n';
}

if (OPTS.render) {
  process.stdout.write(report(JSON.parse(fs.readFileSync(OPTS.render, 'utf8')), OPTS.markdown));
  process.exit(0);
}
T = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-bench-'));

main()
  .catch((e) => {
    failures++;
    log(`error: ${e.stack || e.message}`);
  })
  .finally(() => {
    if (!OPTS.keep) fs.rmSync(T, {recursive: true, force: true});
    process.exitCode = failures ? 1 : 0;
  });
