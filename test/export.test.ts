// `exectrace export --format parquet`, offline, on the committed fixtures, read back by a
// reader nobody here wrote (DuckDB): the same rows as decode --json with the same values,
// the schema formats/parquet-schema.md specifies, -o DIR/, --partition, --totals, lost
// rows, mode 0600, and one-line errors for input that is not a trace.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {cli, lines, ROOT} from './lib/cli';
import {duckdb} from './lib/duckdb';
import {EVENT_FIELDS, TOTALS_FIELDS} from '../src/export';

const FIXTURES = ['fixtures/exec-tree.bin', 'fixtures/syscalls-net.bin', 'fixtures/syscalls-cat.bin', 'fixtures/exec-lossy.bin'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-export-test-'));
t.teardown(() => fs.rmSync(tmp, {recursive: true, force: true}));

/** Microseconds since the epoch of an RFC 3339 UTC time with nanoseconds, as DuckDB's epoch_us gives it. */
function epochUs(s: string): string {
  const ms = Date.parse(s.slice(0, 19) + 'Z');
  const frac = (s.slice(20, 26) + '000000').slice(0, 6);
  return (BigInt(ms) * 1000n + BigInt(frac)).toString();
}

const sq = (s: string) => `'${s.replace(/'/g, "''")}'`;

t.test('DuckDB reads every fixture with decode --json\'s rows and values', async (t) => {
  const db = await duckdb(t);
  if (!db) return;
  t.teardown(() => db.close());
  for (const f of FIXTURES) {
    const out = path.join(tmp, path.basename(f, '.bin') + '.parquet');
    const r = await cli(['export', f, '-o', out]);
    t.equal(r.status, 0, `export ${f}: ${r.stderr}`);
    t.match(r.stderr, /^exectrace: exported \d+ rows from 1 file into /, 'one line saying what was written');
    t.equal(fs.statSync(out).mode & 0o777, 0o600, 'mode 0600: command lines can hold secrets');
    const events = lines((await cli(['decode', f, '--json'])).stdout).map((l) => JSON.parse(l));
    const rows = await db.all(`SELECT type, epoch_us(time)::VARCHAR AS us, ts_ns, host, boot_id, exec_id, pid, comm, argv, syscall, ret, errno,
      lost_event, count FROM read_parquet(${sq(out)}, file_row_number = true) ORDER BY file_row_number`);
    t.equal(rows.length, events.length, `${f}: as many rows as decode --json has events (${events.length})`);
    let bad = 0;
    events.forEach((e, i) => {
      const row = rows[i];
      const want = {
        type: e.type, us: epochUs(e.time), ts_ns: String(e.ts_ns), exec_id: e.exec_id ?? null, pid: e.pid ?? null, comm: e.comm ?? null,
        argv: e.argv ?? null, syscall: e.syscall ?? null, ret: e.ret === undefined || e.ret === null ? null : String(e.ret),
        errno: e.errno ?? null, lost_event: e.type === 'lost' ? e.event : null, count: e.type === 'lost' ? String(e.count) : null,
      };
      const got = Object.fromEntries(Object.keys(want).map((k) => [k, row[k]]));
      if (bad < 3 && JSON.stringify(got) !== JSON.stringify(want)) {
        bad++;
        t.strictSame(got, want, `${f} row ${i}`);
      }
    });
    t.equal(bad, 0, `${f}: type, time, ts_ns, exec_id, pid, comm, argv, syscall, ret, errno, lost counts equal on every row`);
    const hosts = await db.all(`SELECT DISTINCT host, boot_id FROM ${sq(out)}`);
    t.equal(hosts.length, 1, 'one host');
    t.ok(hosts[0].host && hosts[0].boot_id, 'every row has host and boot_id');
  }
});

t.test('exec and syscall columns: typed values a query can use as they are', async (t) => {
  const db = await duckdb(t);
  if (!db) return;
  t.teardown(() => db.close());
  const out = path.join(tmp, 'net.parquet');
  t.equal((await cli(['export', 'fixtures/syscalls-net.bin', '-o', out, '--force'])).status, 0);
  const exec = await db.all(`SELECT filename, argv, argc, sha256, file.mode AS mode, ns.pid AS nspid, cwd FROM ${sq(out)} WHERE type = 'exec'`);
  t.strictSame(exec, [{
    filename: 'test/progs/netcuts.out', argv: ['test/progs/netcuts.out'], argc: 1,
    sha256: '765328ec6478e0bd114a4237cda116111f1aef1e4e6c3db531cfc627360a390b', mode: 33261, nspid: '4026531836', cwd: '/work/wt/net',
  }]);
  const sock = await db.all(`SELECT syscall, nr, ret, duration_ns, args, sym FROM ${sq(out)} WHERE type = 'syscall' ORDER BY ts_ns LIMIT 1`);
  t.strictSame(sock, [{
    syscall: 'socket', nr: 41, ret: '3', duration_ns: '20340', args: '{"family":2,"type":524289,"protocol":0}',
    sym: '{"family":"AF_INET","type":"SOCK_STREAM|SOCK_CLOEXEC","protocol":"IPPROTO_IP"}',
  }]);
  const fails = await db.all(`SELECT count(*) AS n FROM ${sq(out)} WHERE type = 'syscall' AND ret < 0 AND errno IS NOT NULL`);
  t.ok(Number(fails[0].n) >= 0, 'ret is a signed integer: comparable with 0');
});

t.test('the files have the schema formats/parquet-schema.md specifies, and its version', async (t) => {
  const db = await duckdb(t);
  if (!db) return;
  t.teardown(() => db.close());
  const doc = fs.readFileSync(path.join(ROOT, 'formats', 'parquet-schema.md'), 'utf8');
  const table = (title: string) => {
    const part = doc.slice(doc.indexOf(title));
    return [...part.slice(0, part.indexOf('\n## ', 5) < 0 ? undefined : part.indexOf('\n## ', 5)).matchAll(/^\| (\d+) \| `(\w+)` \| ([^|]+) \|/gm)]
      .map((m) => ({n: Number(m[1]), name: m[2], type: m[3].trim()}));
  };
  const events = table('## 3. The `events` table');
  t.strictSame(events.map((c) => c.name), EVENT_FIELDS.map((f) => f.name), 'the events columns, in order, as the document lists them');
  t.strictSame(table('## 4. The `totals` table').map((c) => c.name), TOTALS_FIELDS.map((f) => f.name), 'the totals columns');
  const out = path.join(tmp, 'tree.parquet');
  t.equal((await cli(['export', 'fixtures/exec-tree.bin', '-o', out, '--force', '--totals', path.join(tmp, 'tree-totals.parquet')])).status, 0);
  const described = await db.all(`DESCRIBE SELECT * FROM ${sq(out)}`);
  const duck: Record<string, string> = {
    STRING: 'VARCHAR', JSON: 'VARCHAR', INT32: 'INTEGER', INT64: 'BIGINT', BOOLEAN: 'BOOLEAN', TIMESTAMP: 'TIMESTAMP WITH TIME ZONE', 'LIST&lt;STRING&gt;': 'VARCHAR[]',
  };
  described.forEach((d, i) => {
    const want = events[i].type.replace(/, required$/, '');
    if (want === 'STRUCT') t.match(d.column_type, /^STRUCT\(/, `${d.column_name}: a struct`);
    else t.equal(d.column_type, duck[want], `${d.column_name}: ${want}`);
  });
  t.equal(described.length, events.length);
  const kv = await db.all(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${sq(out)}) ORDER BY k`);
  t.strictSame(kv, [{k: 'exectrace.schema', v: '1.0'}, {k: 'exectrace.table', v: 'events'}]);
  const req = await db.all(`SELECT name, repetition_type FROM parquet_schema(${sq(out)}) WHERE name IN ('type', 'element')`);
  t.strictSame(req.map((r) => r.repetition_type), ['REQUIRED', 'REQUIRED', 'REQUIRED'], 'type, and the elements of argv and cut, are required');
});

t.test('lost markers are rows, and --totals says what each file could not see', async (t) => {
  const db = await duckdb(t);
  if (!db) return;
  t.teardown(() => db.close());
  const out = path.join(tmp, 'lossy.parquet');
  const totals = path.join(tmp, 'totals.parquet');
  const r = await cli(['export', 'fixtures/exec-lossy.bin', 'fixtures/exec-tree.bin', '-o', out, '--totals', totals, '--force']);
  t.equal(r.status, 0, r.stderr);
  const lostJson = lines((await cli(['decode', 'fixtures/exec-lossy.bin', '--json', '--type', 'lost'])).stdout).map((l) => JSON.parse(l));
  const lostSum = lostJson.reduce((n, e) => n + e.count, 0);
  t.ok(lostSum > 0, 'the fixture lost events');
  t.match(r.stderr, new RegExp(`\\(${lostSum} events lost in recording, as "lost" rows\\)`));
  const rows = await db.all(`SELECT lost_event, sum(count)::BIGINT AS n FROM ${sq(out)} WHERE type = 'lost' GROUP BY 1 ORDER BY 1`);
  const byType: Record<string, number> = {};
  for (const e of lostJson) byType[e.event] = (byType[e.event] ?? 0) + e.count;
  t.strictSame(rows, Object.entries(byType).sort().map(([k, n]) => ({lost_event: k, n: String(n)})));
  t.equal(fs.statSync(totals).mode & 0o777, 0o600);
  const files = await db.all(`SELECT file, any_value(complete) AS complete, any_value(events) AS events, any_value(lost) AS lost,
    sum(counter_lost)::BIGINT AS kernel_lost FROM ${sq(totals)} GROUP BY file ORDER BY file`);
  const stats = JSON.parse((await cli(['stats', 'fixtures/exec-lossy.bin', '--json'])).stdout);
  const kernelLost = stats.events.reduce((n: number, e: {lost: number}) => n + e.lost, 0);
  t.strictSame(files, [
    {file: 'fixtures/exec-lossy.bin', complete: true, events: '809', lost: String(lostSum), kernel_lost: String(kernelLost)},
    {file: 'fixtures/exec-tree.bin', complete: true, events: '155', lost: '0', kernel_lost: '0'},
  ], 'per file: rows, lost from the markers, lost from the kernel\'s counters (as stats)');
});

t.test('-o DIR/ writes one file per input; --partition host,date writes hive-style directories', async (t) => {
  const db = await duckdb(t);
  if (!db) return;
  t.teardown(() => db.close());
  const dir = path.join(tmp, 'per-input') + '/';
  const r = await cli(['export', 'fixtures/exec-tree.bin', 'fixtures/syscalls-cat.bin', '-o', dir]);
  t.equal(r.status, 0, r.stderr);
  t.strictSame(fs.readdirSync(dir).sort(), ['exec-tree.parquet', 'syscalls-cat.parquet']);
  const n = await db.all(`SELECT count(*) AS n FROM ${sq(path.join(dir, 'syscalls-cat.parquet'))}`);
  t.equal(n[0].n, '149');
  const again = await cli(['export', 'fixtures/exec-tree.bin', '-o', dir]);
  t.equal(again.status, 1);
  t.equal(again.stderr, `exectrace export: output file ${dir}exec-tree.parquet exists: give --force to replace it\n`);

  const fleet = path.join(tmp, 'fleet');
  for (let k = 0; k < 2; k++) {
    const p = await cli(['export', 'fixtures/exec-tree.bin', 'fixtures/exec-lossy.bin', '--partition', 'host,date', '-o', fleet]);
    t.equal(p.status, 0, p.stderr);
  }
  const files = (dir: string): string[] => fs.readdirSync(dir, {recursive: true}).map(String).filter((f) => f.endsWith('.parquet')).sort();
  t.strictSame(files(fleet), [
    'host=vm/date=2026-11-23/part-0.parquet', 'host=vm/date=2026-11-23/part-1.parquet',
    'host=vm/date=2026-12-06/part-0.parquet', 'host=vm/date=2026-12-06/part-1.parquet',
  ], 'a second export adds part-1 beside part-0, replacing nothing');
  t.equal(fs.statSync(path.join(fleet, 'host=vm')).mode & 0o777, 0o700);
  const parts = await db.all(`SELECT host, date::VARCHAR AS date, count(*) AS n, count(DISTINCT strftime(time, '%Y-%m-%d')) AS days
    FROM read_parquet(${sq(fleet + '/**/*.parquet')}, hive_partitioning = true) GROUP BY ALL ORDER BY ALL`);
  t.strictSame(parts, [{host: 'vm', date: '2026-11-23', n: String(2 * 809), days: '1'}, {host: 'vm', date: '2026-12-06', n: String(2 * 155), days: '1'}]);
});

t.test('input that is not a trace, or is damaged: one line, non-zero, nothing half-written', async (t) => {
  const out = path.join(tmp, 'bad.parquet');
  for (const [file, msg] of [
    ['fixtures/damaged-bad-magic.bin', 'fixtures/damaged-bad-magic.bin: not an exectrace file: bad magic at offset 0'],
    ['fixtures/damaged-empty.bin', 'fixtures/damaged-empty.bin: empty file'],
    ['fixtures/no-such-file.bin', 'fixtures/no-such-file.bin: ENOENT: no such file or directory, open \'fixtures/no-such-file.bin\''],
  ]) {
    const r = await cli(['export', 'fixtures/exec-tree.bin', file, '-o', out, '--force']);
    t.equal(r.status, 1, file);
    t.equal(r.stderr, `exectrace export: ${msg}\n`, 'one line naming the file');
    t.notOk(fs.existsSync(out), 'no output under the final name');
    t.strictSame(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-')), [], 'and no temporary file left');
  }
  const d = await cli(['export', 'fixtures/damaged-flipped-byte.bin', '-o', out]);
  t.equal(d.status, 3, 'damaged: exit 3, as decode');
  const warn = lines(d.stderr);
  t.match(warn[0], /^exectrace: fixtures\/damaged-flipped-byte.bin: chunk seq 2 at offset \d+ .* fails its checksum/);
  t.match(warn[warn.length - 1], /^exectrace: exported \d+ rows from 1 file into /);
  const dec = lines((await cli(['decode', 'fixtures/damaged-flipped-byte.bin', '--json'])).stdout).length;
  t.match(d.stderr, new RegExp(`exported ${dec} rows`), 'what is intact is exported: decode\'s events');
  const u = await cli(['export', 'fixtures/exec-tree.bin', '--partition', 'hosts', '-o', out]);
  t.equal(u.status, 2);
  t.equal(u.stderr, 'exectrace export: --partition: unknown key "hosts" (host, date or host,date)\n');
});

t.test('export, decode, filter and stats never load DuckDB', async (t) => {
  // A preload that says, as the process exits, whether any module of @duckdb was loaded.
  const hook = path.join(tmp, 'duckdb-hook.js');
  fs.writeFileSync(hook, "process.on('exit', () => { if (Object.keys(require.cache).some((k) => k.includes('@duckdb'))) process.stderr.write('DUCKDB LOADED\\n'); });\n");
  const out = path.join(tmp, 'noduck.parquet');
  for (const args of [['export', 'fixtures/exec-tree.bin', '-o', out, '--force'], ['decode', 'fixtures/exec-tree.bin', '--json'],
    ['stats', 'fixtures/exec-tree.bin'], ['filter', 'fixtures/exec-tree.bin', '--comm', 'sh', '--json']]) {
    const r = await cli(args, {NODE_OPTIONS: `--require ${hook}`});
    t.equal(r.status, 0, args.join(' '));
    t.notMatch(r.stderr, /DUCKDB LOADED/, `${args[0]} does not load DuckDB`);
  }
});

t.test('Trace.forEach gives the events the iterator gives, filters applied', async (t) => {
  const {openTrace, toJson} = await import('../src');
  for (const [f, opts] of [['fixtures/exec-tree.bin', {}], ['fixtures/syscalls-net.bin', {type: ['syscall' as const]}], ['fixtures/damaged-flipped-byte.bin', {}]] as const) {
    const a = openTrace(f, opts);
    const b = openTrace(f, opts);
    const viaIter = [...a].map((e) => toJson(e));
    const viaEach: string[] = [];
    b.forEach((e) => viaEach.push(toJson(e)));
    t.strictSame(viaEach, viaIter, `${f}: ${viaIter.length} events`);
    t.equal(b.problems.length, a.problems.length, 'the same problems');
    a.close();
    b.close();
  }
});

t.test('export - reads a trace from standard input, named - in messages and totals', async (t) => {
  const db = await duckdb(t);
  if (!db) return;
  t.teardown(() => db.close());
  const {spawnSync} = await import('node:child_process');
  const out = path.join(tmp, 'stdin.parquet');
  const totals = path.join(tmp, 'stdin-totals.parquet');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'exectrace'), 'export', '-', '-o', out, '--totals', totals], {
    cwd: ROOT, input: fs.readFileSync(path.join(ROOT, 'fixtures', 'damaged-flipped-byte.bin')), encoding: 'utf8',
  });
  t.equal(r.status, 3);
  t.match(r.stderr, /^exectrace: -: chunk seq 2 at offset 5239 \(9 records\) fails its checksum/);
  t.strictSame(await db.all(`SELECT DISTINCT file, events FROM ${sq(totals)}`), [{file: '-', events: '99'}]);
});

t.test('syscalls written from the decoder\'s parts (-o FILE, in runs) and from event objects (--partition) give the same rows', async (t) => {
  const db = await duckdb(t);
  if (!db) return;
  t.teardown(() => db.close());
  for (const f of ['fixtures/syscalls-net.bin', 'fixtures/query-net.bin', 'fixtures/syscalls-cat.bin']) {
    const one = path.join(tmp, 'parts.parquet');
    const dir = path.join(tmp, `objects-${path.basename(f, '.bin')}`);
    // Row groups of 7 rows: runs of one thread's calls (whose context columns are written
    // once per run) cross row groups.
    t.equal((await cli(['export', f, '-o', one, '--force', '--row-group', '7'])).status, 0);
    t.equal((await cli(['export', f, '--partition', 'host', '-o', dir])).status, 0);
    const parts = `(SELECT * FROM ${sq(one)})`;
    const objects = `(SELECT * FROM read_parquet(${sq(dir + '/**/*.parquet')}, hive_partitioning = false))`;
    const diff = await db.all(`SELECT (SELECT count(*) FROM (${parts} EXCEPT ALL ${objects})) AS a, (SELECT count(*) FROM (${objects} EXCEPT ALL ${parts})) AS b,
      (SELECT count(*) FROM ${parts} WHERE type = 'syscall') AS calls, (SELECT count(sym) FROM ${parts}) AS sym`);
    t.match(diff, [{a: '0', b: '0'}], `${f}: no row of one is missing from the other (${diff[0].calls} calls, ${diff[0].sym} with sym)`);
  }
});

t.test('--schema ecs|ocsf: a row per event, the document decode --schema writes, its key fields as typed columns', async (t) => {
  const db = await duckdb(t);
  if (!db) return;
  t.teardown(() => db.close());
  for (const [schema, f] of [['ecs', 'fixtures/exec-tree.bin'], ['ocsf', 'fixtures/syscalls-net.bin'], ['ecs', 'fixtures/exec-lossy.bin']]) {
    const out = path.join(tmp, `mapped-${schema}-${path.basename(f, '.bin')}.parquet`);
    const r = await cli(['export', f, '--schema', schema, '-o', out, '--force']);
    t.equal(r.status, 0, r.stderr);
    const docs = lines((await cli(['decode', f, '--schema', schema])).stdout);
    const rows = await db.all(`SELECT * FROM read_parquet(${sq(out)}, file_row_number = true) ORDER BY file_row_number`);
    t.equal(rows.length, docs.length, `${schema} ${f}: as many rows as decode --schema has lines (${docs.length})`);
    let bad = 0;
    rows.forEach((row, i) => {
      if (row.document !== docs[i] && bad++ < 3) t.equal(row.document, docs[i], `row ${i}: the document is decode --schema's line`);
      const d = JSON.parse(docs[i]);
      const typed = schema === 'ecs'
        ? [[row['process.pid'], d.process?.pid], [row['process.entity_id'], d.process?.entity_id], [row['event.action'], d.event?.action],
          [row['host.name'], d.host?.name], [row['event.category'], d.event?.category]]
        : [[row.class_uid, d.class_uid], [row.activity_id, d.activity_id], [row['process.uid'], d.process?.uid], [row.time, d.time],
          [row['actor.process.pid'], d.actor?.process?.pid]];
      for (const [got, want] of typed) {
        const w = want === undefined ? null : typeof want === 'number' && !Number.isSafeInteger(want) ? String(want) : want;
        const g = typeof got === 'string' && typeof w === 'number' ? Number(got) : got;
        if (JSON.stringify(g) !== JSON.stringify(w) && bad++ < 3) t.strictSame(g, w, `row ${i}: a typed column holds the document's value`);
      }
    });
    t.equal(bad, 0, `${schema} ${f}: every document and typed column agrees`);
    const kv = await db.all(`SELECT decode(value) AS v FROM parquet_kv_metadata(${sq(out)}) WHERE decode(key) = 'exectrace.mapping'`);
    t.strictSame(kv.map((x) => x.v), [schema], 'the file says which schema');
  }
  const q = await cli(['query', 'SELECT count(*) AS n FROM lost', path.join(tmp, 'mapped-ecs-exec-lossy.parquet'), '--json']);
  t.equal(q.status, 0, q.stderr);
  const markers = lines((await cli(['decode', 'fixtures/exec-lossy.bin', '--type', 'lost'])).stdout).length;
  t.ok(markers > 0);
  t.strictSame(JSON.parse(q.stdout), {n: markers}, 'query\'s lost view finds the markers in a mapped table');
  const u = await cli(['export', 'fixtures/exec-tree.bin', '--schema', 'cef', '-o', path.join(tmp, 'x.parquet')]);
  t.not(u.status, 0);
  t.match(u.stderr, /cef/);
});
