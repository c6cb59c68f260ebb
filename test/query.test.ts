// `exectrace query`: SQL with embedded DuckDB over trace files (exported to a private
// temporary Parquet file first) and over Parquet files, directories and globs; table, NDJSON
// and CSV output; one-line errors; what it says where DuckDB is missing; and the README's
// examples on fixtures/query-net.bin (test/progs/query-workload.sh).

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {cli, lines, ROOT} from './lib/cli';
import {duckdb} from './lib/duckdb';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-query-test-'));
t.teardown(() => fs.rmSync(tmp, {recursive: true, force: true}));
const temps = () => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('exectrace-query-') && !f.startsWith('exectrace-query-test-'));

t.test('a trace file: the events decode --json gives, counted by SQL; the temporary export removed', async (t) => {
  const db = await duckdb(t);
  if (!db) return;
  db.close();
  const before = temps().length;
  const r = await cli(['query', '--json', 'SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY type', 'fixtures/exec-lossy.bin']);
  t.equal(r.status, 0, r.stderr);
  const counts: Record<string, number> = {};
  for (const l of lines((await cli(['decode', 'fixtures/exec-lossy.bin', '--json'])).stdout)) {
    const type = JSON.parse(l).type;
    counts[type] = (counts[type] ?? 0) + 1;
  }
  t.strictSame(lines(r.stdout).map((l) => JSON.parse(l)), Object.keys(counts).sort().map((type) => ({type, n: counts[type]})));
  t.equal(temps().length, before, 'no temporary directory left');
  const lost = await cli(['query', '--csv', 'SELECT lost_event, sum(count) AS n FROM lost GROUP BY 1 ORDER BY 1', 'fixtures/exec-lossy.bin']);
  t.equal(lost.stdout, 'lost_event,n\r\nexec,164\r\nexit,162\r\nfork,163\r\n', 'the lost view: the markers\' counts');
  const tot = await cli(['query', 'SELECT counter, sent, recorded, counter_lost FROM totals WHERE counter_lost > 0 ORDER BY counter', 'fixtures/exec-lossy.bin']);
  t.equal(tot.stdout, [
    'counter  sent  recorded  counter_lost',
    '-------  ----  --------  ------------',
    'exec      238       238           164',
    'exit      240       240           162',
    'fork      239       239           163',
    '',
  ].join('\n'), 'the totals view, as an aligned table');
});

t.test('Parquet files, a directory with hive partitions, a glob', async (t) => {
  const db = await duckdb(t);
  if (!db) return;
  db.close();
  const fleet = path.join(tmp, 'fleet');
  const totals = path.join(tmp, 'totals.parquet');
  t.equal((await cli(['export', 'fixtures/exec-tree.bin', 'fixtures/exec-lossy.bin', '--partition', 'host,date', '-o', fleet, '--totals', totals])).status, 0);
  const sql = 'SELECT host, date::VARCHAR AS date, count(*) AS n FROM events GROUP BY ALL ORDER BY ALL';
  const want = '{"host":"vm","date":"2026-11-23","n":809}\n{"host":"vm","date":"2026-12-06","n":155}\n';
  t.equal((await cli(['query', '--json', sql, fleet])).stdout, want, 'a directory');
  t.equal((await cli(['query', '--json', sql, `${fleet}/**/*.parquet`])).stdout, want, 'a glob');
  const both = await cli(['query', '--json', 'SELECT count(DISTINCT file) AS files, sum(counter_lost) AS lost FROM totals', fleet, totals]);
  t.equal(both.stdout, '{"files":2,"lost":489}\n', 'a totals file given is the totals view');
});

t.test('errors are one line: SQL, inputs, a missing DuckDB', async (t) => {
  const db = await duckdb(t);
  if (!db) return;
  db.close();
  const before = temps().length;
  for (const [args, status, msg] of [
    [['SELEC 1', 'fixtures/exec-tree.bin'], 1, 'exectrace query: SQL: Parser Error: syntax error at or near "SELEC"\n'],
    [['SELECT * FROM nope', 'fixtures/exec-tree.bin'], 1, 'exectrace query: SQL: Catalog Error: Table with name nope does not exist!\n'],
    [['SELECT 1', 'fixtures/no-such.bin'], 1, 'exectrace query: fixtures/no-such.bin: no such file or directory\n'],
    [['SELECT 1', 'fixtures/damaged-bad-magic.bin'], 1, 'exectrace query: fixtures/damaged-bad-magic.bin: not an exectrace file: bad magic at offset 0\n'],
    [['SELECT 1', path.join(tmp, 'none-*.parquet')], 1, `exectrace query: cannot read ${path.join(tmp, 'none-*.parquet')}: IO Error: No files found that match the pattern "${path.join(tmp, 'none-*.parquet')}"\n`],
  ] as const) {
    const r = await cli(['query', ...args]);
    t.equal(r.status, status, args.join(' '));
    t.equal(r.stderr, msg);
  }
  t.equal(temps().length, before, 'no temporary directory left after an error');
  const missing = await cli(['query', 'SELECT 1', 'fixtures/exec-tree.bin'], {EXECTRACE_DUCKDB_MODULE: '@duckdb/not-installed'});
  t.equal(missing.status, 1);
  t.equal(missing.stderr, 'exectrace query: query needs DuckDB (@duckdb/node-api, an optional dependency), and it is not installed: ' +
    'npm install @duckdb/node-api in exectrace\'s directory (npm install -g @duckdb/node-api beside a global exectrace)\n');
});

t.test('query loads DuckDB (the check export.test.ts makes of the other commands sees it)', async (t) => {
  const db = await duckdb(t);
  if (!db) return;
  db.close();
  const hook = path.join(tmp, 'duckdb-hook.js');
  fs.writeFileSync(hook, "process.on('exit', () => { if (Object.keys(require.cache).some((k) => k.includes('@duckdb'))) process.stderr.write('DUCKDB LOADED\\n'); });\n");
  const r = await cli(['query', 'SELECT 1 AS x', 'fixtures/exec-tree.bin'], {NODE_OPTIONS: `--require ${hook}`});
  t.equal(r.stdout, 'x\n-\n1\n');
  t.match(r.stderr, /DUCKDB LOADED/);
});

const NET = 'fixtures/query-net.bin';
/** The README's three questions (its query section), with the tables it shows. */
export const README_QUERIES: [string, string][] = [
  ["SELECT host, filename, count(*) AS runs FROM events WHERE type = 'exec' GROUP BY ALL ORDER BY runs DESC, filename LIMIT 3", `
host  filename          runs
----  ----------------  ----
vm    /usr/bin/cat         4
vm    /usr/bin/setpriv     2
vm    /bin/sh              1
`],
  ["SELECT c.pid, c.comm AS connected, c.args->>'uservaddr' AS peer, x.filename AS then_ran, x.argv FROM events c JOIN events x ON x.pid = c.pid AND x.type = 'exec' AND x.ts_ns > c.ts_ns WHERE c.type = 'syscall' AND c.syscall = 'connect' AND x.filename IN ('/bin/sh', '/usr/bin/sh', '/bin/bash', '/usr/bin/bash')", `
  pid  connected  peer                                                  then_ran  argv
-----  ---------  ----------------------------------------------------  --------  ----------------------------
31285  python3    {"family":"AF_INET","addr":"127.0.0.1","port":38213}  /bin/sh   ["sh","-c","id > /dev/null"]
`],
  ["SELECT uid, comm, args->>'filename' AS path, errno, count(*) AS n FROM events WHERE syscall = 'openat' AND ret < 0 AND starts_with(args->>'filename', '/etc/') GROUP BY ALL ORDER BY ALL", `
  uid  comm  path                         errno   n
-----  ----  ---------------------------  ------  -
    0  cat   /etc/exectrace-no-such-file  ENOENT  1
65534  cat   /etc/gshadow                 EACCES  1
65534  cat   /etc/shadow                  EACCES  1
`],
];

t.test('the README\'s questions, on a recording that has the answers, print what the README shows', async (t) => {
  const db = await duckdb(t);
  if (!db) return;
  db.close();
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  for (const [sql, table] of README_QUERIES) {
    const r = await cli(['query', sql, NET]);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, table.slice(1), sql);
    t.ok(readme.includes(`$ ./bin/exectrace query "${sql}" ${NET}\n${table.slice(1)}`), 'the README shows this command and output');
  }
});
