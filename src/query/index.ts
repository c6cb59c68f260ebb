// query: SQL over trace files and exported Parquet, with embedded DuckDB. DuckDB is an
// optional dependency (≈70 MB): it is loaded here, lazily, on the first query, and nowhere
// else — decode, filter, stats and export never load it — and where it is missing the error
// says in one line how to install it.
//
// Trace files are exported first (src/export) into a private temporary directory (0700,
// files 0600: a command line can hold a secret), removed when the query ends; Parquet files,
// directories of them and globs are read where they are. The views: `events` (every events
// table given), `lost` (its lost-event rows), `totals` (the totals tables: one made for each
// trace file, and any given).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {exportTraces, type ExportOptions} from '../export';
import {TABLE_KEY, TOTALS_FIELDS} from '../export/schema';
import {UsageError, UserError} from '../util/errors';
import {toJson} from '../util/json';

/** QueryOptions say what query() reads. */
export interface QueryOptions {
  /** openTrace's options for the trace files given (processes, filters). */
  trace?: ExportOptions['trace'];
  /** How to name each input (default: its path): `-` for standard input. */
  names?: string[];
  /** Damage found in a trace file while it is exported for the query. */
  onProblem?: ExportOptions['onProblem'];
  /** How far the export of the trace files given is (query's progress line); the SQL itself reports nothing. */
  onProgress?: ExportOptions['onProgress'];
}

/** QueryResult is the answer: column names and rows of JSON-ready values (bigint beyond 2^53). */
export interface QueryResult {
  columns: string[];
  rows: unknown[][];
}

/** The module's name; EXECTRACE_DUCKDB_MODULE replaces it (tests use it to see the message a missing DuckDB gives). */
const MODULE = process.env.EXECTRACE_DUCKDB_MODULE || '@duckdb/node-api';

/** INSTALL_HINT is what to run where DuckDB is missing. */
export const INSTALL_HINT = 'npm install @duckdb/node-api in exectrace\'s directory (npm install -g @duckdb/node-api beside a global exectrace)';

interface Duck {
  DuckDBInstance: {create(path: string, opts?: Record<string, string>): Promise<{connect(): Promise<Con>; closeSync(): void}>};
}
interface Con {
  run(sql: string): Promise<unknown>;
  runAndReadAll(sql: string): Promise<{columnNames(): string[]; getRowsJS(): unknown[][]; getRowsJson(): unknown[][]}>;
  closeSync(): void;
}

async function loadDuckDB(): Promise<Duck> {
  try {
    return (await import(MODULE)) as Duck;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'MODULE_NOT_FOUND' ? 'it is not installed' : `it does not load: ${(e.message ?? '').split('\n')[0]}`;
    throw new UserError(`query needs DuckDB (@duckdb/node-api, an optional dependency), and ${why}: ${INSTALL_HINT}`);
  }
}

const PARQUET_MAGIC = Buffer.from('PAR1');

/** What an argument names: Parquet (a file, a directory of them, a glob), or a trace file. */
function kindOf(arg: string): {parquet: string} | {trace: string} {
  if (/[*?[]/.test(arg)) return {parquet: arg};
  let st: fs.Stats;
  try {
    st = fs.statSync(arg);
  } catch (err) {
    throw new UserError(`${arg}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  if (st.isDirectory()) return {parquet: path.join(arg, '**', '*.parquet')};
  const head = Buffer.alloc(4);
  const fd = fs.openSync(arg, 'r');
  try {
    fs.readSync(fd, head, 0, 4, 0);
  } finally {
    fs.closeSync(fd);
  }
  return head.equals(PARQUET_MAGIC) ? {parquet: arg} : {trace: arg};
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;
const list = (xs: string[]) => `[${xs.map(sqlString).join(', ')}]`;

const DUCK_TYPE: Record<string, string> = {string: 'VARCHAR', int32: 'INTEGER', int64: 'BIGINT', boolean: 'BOOLEAN', timestamp: 'TIMESTAMPTZ'};

/** DuckDB's first line: its messages go on with the query text and a caret. */
function oneLine(err: unknown): string {
  return String((err as Error).message ?? err).split('\n')[0].trim();
}

/**
 * query runs `sql` over the views `events`, `lost` and `totals` of `inputs` (trace files,
 * Parquet files, directories of them, globs) and returns every row. Throws UserError for a
 * missing DuckDB, an input it cannot read, or an SQL error (DuckDB's first line).
 */
export async function query(sql: string, inputs: string[], opts: QueryOptions = {}): Promise<QueryResult> {
  if (!sql.trim()) throw new UsageError('no SQL given: exectrace query \'SELECT comm, count(*) FROM events GROUP BY comm\' trace.bin');
  const kinds = inputs.map(kindOf);
  const duck = await loadDuckDB();
  let tmp: string | null = null;
  const cleanup = () => {
    if (tmp) fs.rmSync(tmp, {recursive: true, force: true});
    tmp = null;
  };
  process.once('exit', cleanup);
  try {
    const patterns = kinds.flatMap((k) => ('parquet' in k ? [k.parquet] : []));
    const traces = kinds.flatMap((k) => ('trace' in k ? [k.trace] : []));
    const names = kinds.flatMap((k, i) => ('trace' in k ? [opts.names?.[i] ?? k.trace] : []));
    const eventFiles: string[] = [];
    const totalsFiles: string[] = [];
    if (traces.length) {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-query-'));
      const ev = path.join(tmp, 'events.parquet');
      const tot = path.join(tmp, 'totals.parquet');
      exportTraces(traces, {output: ev, totals: tot, names, trace: opts.trace, onProblem: opts.onProblem, onProgress: opts.onProgress});
      eventFiles.push(ev);
      totalsFiles.push(tot);
    }
    const db = await duck.DuckDBInstance.create(':memory:');
    const con = await db.connect();
    try {
      if (patterns.length) {
        // Which table each Parquet file holds, from our key-value metadata; others are events.
        let kv;
        try {
          kv = await con.runAndReadAll(`SELECT file_name, decode(value) FROM parquet_kv_metadata(${list(patterns)}) WHERE decode(key) = ${sqlString(TABLE_KEY)}`);
        } catch (err) {
          throw new UserError(`cannot read ${patterns.join(', ')}: ${oneLine(err)}`);
        }
        const table = new Map(kv.getRowsJS().map((r) => [String(r[0]), String(r[1])]));
        const files = await con.runAndReadAll(`SELECT DISTINCT file FROM glob(${sqlString(patterns[0])})${patterns.slice(1).map((p) => ` UNION SELECT file FROM glob(${sqlString(p)})`).join('')} ORDER BY file`);
        for (const [f] of files.getRowsJS()) (table.get(String(f)) === 'totals' ? totalsFiles : eventFiles).push(String(f));
        if (!files.getRowsJS().length) throw new UserError(`no Parquet file matches ${patterns.join(', ')}`);
      }
      const hive = patterns.length ? ', hive_partitioning = true' : '';
      if (eventFiles.length) await con.run(`CREATE VIEW events AS SELECT * FROM read_parquet(${list(eventFiles)}, union_by_name = true${hive})`);
      else await con.run(`CREATE VIEW events AS SELECT NULL::VARCHAR AS type WHERE false`);
      // A mapped table (export --schema) has no `type` column: its document says the event's type.
      const cols = await con.runAndReadAll(`SELECT column_name FROM (DESCRIBE events)`);
      const hasType = cols.getRowsJS().some((r) => r[0] === 'type');
      await con.run(hasType ? `CREATE VIEW lost AS SELECT * FROM events WHERE type = 'lost'`
        : `CREATE VIEW lost AS SELECT * FROM events WHERE coalesce(json_extract_string(document, '$.exectrace.type'), json_extract_string(document, '$.unmapped.type')) = 'lost'`);
      if (totalsFiles.length) await con.run(`CREATE VIEW totals AS SELECT * FROM read_parquet(${list(totalsFiles)}, union_by_name = true)`);
      else await con.run(`CREATE VIEW totals AS SELECT ${TOTALS_FIELDS.map((f) => `NULL::${'type' in f ? DUCK_TYPE[f.type] : 'VARCHAR'} AS "${f.name}"`).join(', ')} WHERE false`);
      let r;
      try {
        r = await con.runAndReadAll(sql);
      } catch (err) {
        throw new UserError(`SQL: ${oneLine(err)}`);
      }
      const js = r.getRowsJS();
      const json = r.getRowsJson();
      return {columns: r.columnNames(), rows: js.map((row, i) => row.map((v, j) => plain(v, json[i][j])))};
    } finally {
      con.closeSync();
      db.closeSync();
    }
  } finally {
    cleanup();
    process.removeListener('exit', cleanup);
  }
}

/** A value for output: numbers as numbers (bigint beyond 2^53), times and other DuckDB values as DuckDB writes them in JSON. */
function plain(js: unknown, json: unknown): unknown {
  if (typeof js === 'bigint') return js >= -(2n ** 53n) && js <= 2n ** 53n ? Number(js) : js;
  if (js === null || typeof js === 'number' || typeof js === 'string' || typeof js === 'boolean') return js;
  return json;
}

/** Text of one cell: strings as they are (line breaks as \n), lists and structs as JSON, null empty. */
function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v.replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  if (typeof v === 'object') return toJson(v);
  return String(v);
}

/** formatTable draws the result as aligned columns, numbers to the right, a rule under the header. */
export function formatTable(r: QueryResult): string {
  const cells = r.rows.map((row) => row.map(cell));
  const numeric = r.columns.map((_, j) => r.rows.length > 0 && r.rows.every((row) => row[j] === null || typeof row[j] === 'number' || typeof row[j] === 'bigint'));
  const width = r.columns.map((c, j) => Math.max(c.length, ...cells.map((row) => row[j].length)));
  const line = (row: string[]) => row.map((s, j) => (numeric[j] ? s.padStart(width[j]) : j === row.length - 1 ? s : s.padEnd(width[j]))).join('  ').trimEnd();
  return [line(r.columns), line(width.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

/** formatJson writes one JSON object per row (NDJSON), keyed by column name. */
export function formatJson(r: QueryResult): string {
  return r.rows.map((row) => toJson(Object.fromEntries(r.columns.map((c, j) => [c, row[j]])))).join('\n') + (r.rows.length ? '\n' : '');
}

/** formatCsv writes RFC 4180 CSV, a header row first (lists and structs as JSON text). */
export function formatCsv(r: QueryResult): string {
  const q = (s: string) => (/[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const text = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? toJson(v) : String(v));
  return [r.columns.map(q).join(','), ...r.rows.map((row) => row.map((v) => q(text(v))).join(','))].join('\r\n') + '\r\n';
}
