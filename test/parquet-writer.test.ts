// The Parquet writer (src/parquet) on its own, read back by DuckDB: random rows of every
// kind of column it writes — nulls in runs and alternating (both level encodings), int32
// and int64 at their limits and beyond 2^53, booleans, strings with and without the
// dictionary (past its 40,000-entry limit), lists empty and null, a struct null or with
// null children — across many row groups; and the statistics readers skip row groups by.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {ParquetWriter, type ParquetField} from '../src';
import {duckdb} from './lib/duckdb';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-parquet-test-'));
t.teardown(() => fs.rmSync(tmp, {recursive: true, force: true}));

/** A small deterministic generator (xorshift32), so a failure repeats. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const FIELDS: ParquetField[] = [
  {name: 'id', type: 'int64', required: true},
  {name: 'i32', type: 'int32'},
  {name: 'i64', type: 'int64'},
  {name: 'flag', type: 'boolean'},
  {name: 'low', type: 'string'},
  {name: 'high', type: 'string'},
  {name: 'ts', type: 'timestamp'},
  {name: 'list', list: 'string'},
  {name: 'st', struct: [{name: 'a', type: 'int64'}, {name: 'b', type: 'string'}]},
];

type Row = {id: number; i32: number | null; i64: bigint | null; flag: boolean | null; low: string | null; high: string | null;
  ts: bigint | null; list: string[] | null; st: {a: bigint | null; b: string | null} | null};

t.test('DuckDB reads back every value of 50,000 random rows in row groups of 4099 (past every buffer\'s first growth)', async (t) => {
  const db = await duckdb(t);
  if (!db) return;
  t.teardown(() => db.close());
  const rand = rng(42);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const rows: Row[] = [];
  // Nulls come in stretches (runs) and in alternation (bit-packed groups), as levels do.
  let mode = 0;
  const isNull = (i: number) => (mode === 0 ? false : mode === 1 ? true : mode === 2 ? i % 2 === 0 : rand() < 0.3);
  for (let i = 0; i < 50000; i++) {
    if (i % 97 === 0) mode = Math.floor(rand() * 4);
    const n = (k: number) => isNull(i + k);
    rows.push({
      id: i,
      i32: n(0) ? null : pick([0, 1, -1, 2147483647, -2147483648, Math.floor(rand() * 1000) - 500]),
      i64: n(1) ? null : pick([0n, -1n, 4294967295n, 4294967296n, 9007199254740993n, -9223372036854775808n, 9223372036854775807n, BigInt(Math.floor(rand() * 1e12))]),
      flag: n(2) ? null : rand() < 0.5,
      low: n(3) ? null : pick(['exec', 'fork', 'exit', 'syscall', '', 'ünïcødé ✓']),
      high: n(4) ? null : `unique-${i}-${'x'.repeat(i % 7)}`,
      ts: n(5) ? null : 1795460634111385300n + BigInt(i) * 1000003n,
      list: n(6) ? null : i % 5 === 0 ? [] : Array.from({length: 1 + (i % 4)}, (_, k) => `a${i}.${k}`),
      st: n(7) ? null : {a: i % 3 === 0 ? null : BigInt(i) * 4026531836n, b: i % 4 === 0 ? null : pick(['mnt', 'net', 'pid'])},
    });
  }
  const file = path.join(tmp, 'random.parquet');
  const fd = fs.openSync(file, 'w', 0o600);
  const w = new ParquetWriter(fd, FIELDS, {rowGroupRows: 4099, metadata: {k: 'v'}});
  for (const r of rows) {
    w.col(0).int64(r.id);
    if (r.i32 !== null) w.col(1).int32(r.i32);
    if (r.i64 !== null) w.col(2).int64(r.i64);
    if (r.flag !== null) w.col(3).bool(r.flag);
    if (r.low !== null) w.col(4).str(r.low);
    if (r.high !== null) w.col(5).str(r.high);
    if (r.ts !== null) w.col(6).int64(r.ts);
    w.strings(7, r.list);
    if (r.st === null) {
      w.leaf(8).null(0);
      w.leaf(9).null(0);
    } else {
      if (r.st.a === null) w.leaf(8).null(1);
      else w.leaf(8).int64(r.st.a);
      if (r.st.b === null) w.leaf(9).null(1);
      else w.leaf(9).str(r.st.b);
    }
    w.endRow();
  }
  w.close();
  fs.closeSync(fd);
  const got = await db.all(`SELECT id, i32, i64, flag, low, high, epoch_ns(ts)::VARCHAR AS ts, list, st FROM '${file}' ORDER BY id`);
  t.equal(got.length, rows.length, 'every row');
  let bad = 0;
  rows.forEach((r, i) => {
    const want = {
      id: String(r.id), i32: r.i32, i64: r.i64 === null ? null : String(r.i64), flag: r.flag, low: r.low, high: r.high,
      // DuckDB keeps microseconds of a TIMESTAMP WITH TIME ZONE
      ts: r.ts === null ? null : String((r.ts / 1000n) * 1000n), list: r.list,
      st: r.st === null ? null : {a: r.st.a === null ? null : String(r.st.a), b: r.st.b},
    };
    if (JSON.stringify(got[i]) !== JSON.stringify(want) && bad++ < 3) t.strictSame(got[i], want, `row ${i}`);
  });
  t.equal(bad, 0, 'every value as written');
  const meta = await db.all(`SELECT count(DISTINCT row_group_id) AS groups, bool_or(encodings LIKE '%RLE_DICTIONARY%') FILTER (WHERE path_in_schema = 'high') AS high_dict,
    bool_and(encodings LIKE '%RLE_DICTIONARY%') FILTER (WHERE path_in_schema = 'low') AS low_dict,
    min(stats_min_value) FILTER (WHERE path_in_schema = 'id' AND row_group_id = 1) AS id_min, max(stats_max_value) FILTER (WHERE path_in_schema = 'id' AND row_group_id = 1) AS id_max,
    max(compression) AS codec FROM parquet_metadata('${file}')`);
  t.strictSame(meta, [{groups: String(Math.ceil(50000 / 4099)), high_dict: true, low_dict: true, id_min: '4099', id_max: '8197', codec: 'ZSTD'}],
    'row groups of 4099 rows, dictionaries for both string columns (high\'s groups each hold < 40,000 values), id statistics, zstd');
});

t.test('a column with more than 40,000 distinct strings in a row group leaves the dictionary, values intact', async (t) => {
  const db = await duckdb(t);
  if (!db) return;
  t.teardown(() => db.close());
  const file = path.join(tmp, 'plain.parquet');
  const fd = fs.openSync(file, 'w', 0o600);
  const w = new ParquetWriter(fd, [{name: 's', type: 'string'}, {name: 'n', type: 'int32'}]);
  for (let i = 0; i < 60000; i++) {
    if (i % 10 !== 3) w.col(0).str(`value ${i}`);
    w.col(1).int32(i);
    w.endRow();
  }
  w.close();
  fs.closeSync(fd);
  const r = await db.all(`SELECT count(*) AS n, count(s) AS s, count(DISTINCT s) AS d, min(CASE WHEN s = 'value ' || n THEN 1 ELSE 0 END) FILTER (WHERE s IS NOT NULL) AS same FROM '${file}'`);
  t.strictSame(r, [{n: '60000', s: '54000', d: '54000', same: 1}]);
  const enc = await db.all(`SELECT encodings FROM parquet_metadata('${file}') WHERE path_in_schema = 's'`);
  t.notMatch(String(enc[0].encodings), /DICTIONARY/, 'PLAIN once past the limit');
});
