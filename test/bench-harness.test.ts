// Kernel test of the benchmark harness itself (test/bench/run.js) in its smoke mode:
// it runs end to end, prints one table, and writes JSON whose rows are complete and
// consistent. Figures are never asserted: a smoke run's timings mean nothing.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {spawnSync} from 'node:child_process';
import {ROOT, kernelTest} from './lib/kernel';

interface Row {
  section: string;
  tool: string;
  command: string;
  na?: string;
  error?: string;
  [k: string]: unknown;
}

kernelTest(t, 'kernel: make bench in smoke mode (BENCH_QUICK=1) runs end to end', async (t) => {
  const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-bench-test-')), 'bench.json');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'test', 'bench', 'run.js'), '--json', json], {
    encoding: 'utf8',
    env: {...process.env, BENCH_QUICK: '1'},
    timeout: 280_000,
  });
  t.equal(r.status, 0, `run.js exits 0; stderr: ${r.stderr.slice(-2000)}`);
  t.match(r.stdout, /^exectrace bench — \d{4}-\d\d-\d\dT/m, 'prints the date');
  t.match(r.stdout, /^machine: \d+ CPUs \(/m, 'prints the machine');
  t.match(r.stdout, /^section\s+tool\s+time\s+slowdown/m, 'prints the table header');

  const out = JSON.parse(fs.readFileSync(json, 'utf8')) as {machine: {nproc: number; kernel: string}; rows: Row[]};
  t.ok(out.machine.nproc >= 1 && out.machine.kernel, 'machine in the JSON');
  const rows = out.rows;
  t.same(rows.filter((x) => x.error).map((x) => `${x.tool}: ${x.error}`), [], 'no row failed');
  const row = (section: string, tool: RegExp) => rows.find((x) => x.section === section && tool.test(x.tool));
  for (const s of ['syscall storm', 'exec storm', 'decode', 'memory']) t.ok(rows.some((x) => x.section === s), `a ${s} section`);

  const untraced = row('syscall storm', /^untraced$/)!;
  t.ok((untraced.time_s as number) > 0, 'the untraced storm was timed');
  const floor = row('syscall storm', /^floor/)!;
  t.ok((floor.time_s as number) > 0 && !floor.na, 'the floor object loaded, attached and was timed');
  const clock = row('syscall storm', /^clock floor/)!;
  t.ok((clock.time_s as number) > 0 && !clock.na && (clock.vs_floor as number) > 0, 'the clock floor object loaded, attached and was timed against the floor');

  const execs = row('exec storm', /^exectrace record$/)!;
  t.equal(execs.execs_full_argv, execs.expected_execs, 'every exec of the exec storm recorded with its full argv');
  t.equal(execs.lost, 0, 'no exec-storm event lost');
  t.ok(typeof execs.execs_sha256 === 'number', 'how many execs of the storm got a digest (checked against sha256sum)');
  const nohash = row('exec storm', /^exectrace record --no-hash$/)!;
  t.ok(nohash && (nohash.time_s as number) > 0 && nohash.execs_sha256 === undefined, 'the storm without hashing, for comparison');

  const sys = row('syscall storm', /^exectrace record --syscalls$/)!;
  if (sys.na) {
    t.match(sys.na, /--syscalls/, 'the syscall row says why it is missing');
  } else {
    t.equal(sys.workload_calls, sys.expected_calls, 'every getppid call of the storm recorded');
    t.ok((sys.bytes_per_event as number) > 0 && (sys.peak_rss_kb as number) > 0, 'bytes per event and peak RSS measured');
    t.ok(row('decode', /decode --json \(syscall-storm file\)/)?.events_per_s, 'decode rate on the syscall-storm file');
    t.ok(rows.filter((x) => x.section === 'memory' && /^exectrace decode/.test(x.tool) && x.peak_rss_kb).length >= 2, 'decode peak RSS on two file sizes');
    t.ok(row('decode', /^exectrace filter --syscall getppid -o \(syscall-storm file\)/)?.events_per_s, 'filter rate on the syscall-storm file');
    t.ok(rows.filter((x) => x.section === 'memory' && /^exectrace filter -o/.test(x.tool) && x.peak_rss_kb).length >= 2, 'filter peak RSS on two file sizes');
    const slope = (out as any).memory_growth?.recorder_slope;
    t.ok(slope && Number.isFinite(slope.s_per_m_events) && slope.large.records > slope.small.records, 'recorder CPU per event from two recordings');
    t.match(r.stdout, /^recorder CPU per million events beyond start-up: /m, 'printed');
  }
  for (const x of rows) t.ok(x.na || x.error || typeof x.command === 'string', `${x.section} / ${x.tool}: has its command`);
  fs.rmSync(path.dirname(json), {recursive: true, force: true});
});
