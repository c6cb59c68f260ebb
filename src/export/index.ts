// export: trace files as Parquet tables (formats/parquet-schema.md) for DuckDB, Spark,
// Trino, pandas/pyarrow. The events come from openTrace, as the library hands them out
// (a syscall as the decoder's parts, before an object is built for it: Trace.forEach), and
// go row by row into our own streaming writer (src/parquet): one row group in memory per
// output file, whatever the input's size, and no dependency beyond zstd-napi.
//
// Outputs are written under a temporary name in their directory (mode 0600: a command line
// can hold a secret) and renamed into place when complete, so a failed export never leaves
// a half-written file behind under the name a query would read.

import * as fs from 'node:fs';
import * as path from 'node:path';
import {openTrace, type OpenTraceOptions} from '../api/trace';
import {progressOverFiles} from '../api/merge';
import type {Problem, ProgressFn} from '../format';
import {ParquetWriter} from '../parquet';
import {UsageError, UserError} from '../util/errors';
import {type ClockPair, WallClock} from '../util/time';
import {EventRows, TimeParser} from './rows';
import {MAPPED_FIELDS, MappedRows} from './mapped';
import {schemaContextOf, type Schema, type SchemaContext} from '../schema';
import type {TraceEvent} from '../api/events';
import {EVENT_FIELDS, MAPPING_KEY, SCHEMA_KEY, SCHEMA_VERSION, TABLE_KEY, TOTALS_FIELDS} from './schema';

export {EVENT_FIELDS, SCHEMA_KEY, SCHEMA_VERSION, TABLE_KEY, TOTALS_FIELDS} from './schema';

/** PartitionKey is a column the output directory can be partitioned by, hive-style. */
export type PartitionKey = 'host' | 'date';

/** ExportOptions say where and how `exportTraces` writes. */
export interface ExportOptions {
  /**
   * The output: a file (every input into it), or a directory — when it ends with `/`, is
   * an existing directory, or `partition` is given — with one file per input
   * (`NAME.parquet`), or with `partition`, DIR/host=H/date=YYYY-MM-DD/part-N.parquet.
   */
  output: string;
  partition?: PartitionKey[];
  /** A file for the totals table: one row per input file and counter. */
  totals?: string;
  /** Replace output files that exist (partition files are never replaced: a new part-N is added). */
  force?: boolean;
  /** Rows per row group (default 131072). */
  rowGroupRows?: number;
  /** zstd level (default 1). */
  level?: number;
  /** How to name each input in the totals table and in errors (default: its path); `-` for standard input. */
  names?: string[];
  /** The filters and options of openTrace (processes, where, comm …). */
  trace?: OpenTraceOptions;
  /** Damage found in an input, as it is found (the rest of the file is still exported). */
  onProblem?: (file: string, p: Problem) => void;
  /**
   * Map each event onto Elastic Common Schema or OCSF, as decode --schema does, into the
   * mapped table of that schema (formats/parquet-schema.md) instead of the events table.
   */
  schema?: Schema;
  /** How far the export is, over all inputs: their bytes read (and total), records decoded (export's progress line). */
  onProgress?: ProgressFn;
}

/** ExportFileReport is what export did with one input file. */
export interface ExportFileReport {
  file: string;
  rows: number;
  lost: number;
  complete: boolean;
  problems: number;
}

/** ExportReport is what exportTraces wrote. */
export interface ExportReport {
  files: ExportFileReport[];
  /** The Parquet files written, in the order they were completed. */
  outputs: string[];
  rows: number;
}

/** An output file being written: a temporary name until done() renames it. */
class OutFile {
  readonly fd: number;
  readonly tmp: string;
  constructor(readonly final: string) {
    this.tmp = path.join(path.dirname(final), `.${path.basename(final)}.tmp-${process.pid}`);
    try {
      this.fd = fs.openSync(this.tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    } catch (err) {
      throw new UserError(`cannot create ${final}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  done(): void {
    fs.closeSync(this.fd);
    fs.renameSync(this.tmp, this.final);
  }
  abandon(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* already closed */
    }
    fs.rmSync(this.tmp, {force: true});
  }
}

const meta = (table: string) => ({[SCHEMA_KEY]: SCHEMA_VERSION, [TABLE_KEY]: table});
const CREATED_BY = `exectrace (schema ${SCHEMA_VERSION})`;

/** A Parquet output of the events table, with its open writer. */
class EventsOut {
  readonly out: OutFile;
  readonly w: ParquetWriter;
  private rows: EventRows | null = null;
  private mapped: MappedRows | null = null;
  private host: string | null = null;
  private boot: string | null = null;
  private clock: WallClock | null = null;
  private readonly schema: Schema | undefined;
  constructor(file: string, opts: ExportOptions) {
    this.out = new OutFile(file);
    this.schema = opts.schema;
    const fields = opts.schema ? MAPPED_FIELDS[opts.schema] : EVENT_FIELDS;
    const metadata = opts.schema ? {...meta('events'), [MAPPING_KEY]: opts.schema} : meta('events');
    this.w = new ParquetWriter(this.out.fd, fields, {rowGroupRows: opts.rowGroupRows, level: opts.level, metadata, createdBy: CREATED_BY});
  }
  /** The rows of one input's events (mapped onto the schema, when export was given one). */
  sinkFor(host: string | null, boot: string | null, clock: WallClock | null, ctx: SchemaContext): {add(e: TraceEvent): void} {
    if (!this.schema) return this.rowsFor(host, boot, clock);
    if (!this.mapped || this.clock !== clock) {
      this.mapped = new MappedRows(this.w, this.schema, ctx);
      this.clock = clock;
    }
    return this.mapped;
  }
  rowsFor(host: string | null, boot: string | null, clock: WallClock | null): EventRows {
    if (!this.rows || this.host !== host || this.boot !== boot || this.clock !== clock) {
      this.rows?.settle();
      this.rows = new EventRows(this.w, host, boot, clock);
      this.clock = clock;
      this.host = host;
      this.boot = boot;
    }
    return this.rows;
  }
  finish(): void {
    this.w.close();
    this.out.done();
  }
}

/** Whether `output` names a directory (one file per input, or partitions). */
function isDirOutput(output: string, partition: PartitionKey[] | undefined): boolean {
  if (partition?.length || output.endsWith('/') || output.endsWith(path.sep)) return true;
  try {
    return fs.statSync(output).isDirectory();
  } catch {
    return false;
  }
}

/** The file one input becomes in a directory: its name with .parquet for .bin. */
function perInputName(dir: string, input: string, taken: Set<string>): string {
  const base = path.basename(input).replace(/\.bin$/, '') || 'trace';
  let name = `${base}.parquet`;
  for (let k = 2; taken.has(name); k++) name = `${base}-${k}.parquet`;
  taken.add(name);
  return path.join(dir, name);
}

function checkFree(file: string, force: boolean | undefined): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return;
  }
  if (st.isDirectory()) throw new UsageError(`${file} is a directory: end -o with / for one file per input`);
  if (!force) throw new UserError(`output file ${file} exists: give --force to replace it`);
}

/** A hive partition value: path-safe, as Spark and DuckDB read them back (URL-style escapes). */
function partValue(v: string | null): string {
  if (v === null || v === '') return '__HIVE_DEFAULT_PARTITION__';
  return v.replace(/[^A-Za-z0-9._-]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

/** The first part-N.parquet free in dir (created if needed, mode 0700). */
function freePart(dir: string): string {
  fs.mkdirSync(dir, {recursive: true, mode: 0o700});
  for (let n = 0; ; n++) {
    const f = path.join(dir, `part-${n}.parquet`);
    if (!fs.existsSync(f)) return f;
  }
}

interface TotalsEntry {
  file: string;
  host: string | null;
  boot: string | null;
  complete: boolean;
  endReason: string | null;
  start: string | null;
  end: string | null;
  rows: number;
  lostMarkers: number;
  lost: number;
  counters: {kind: string; name: string; sent: unknown; recorded: unknown; lost: unknown; filtered: unknown}[];
}

/**
 * exportTraces writes the events of `inputs` (trace files) as Parquet (see ExportOptions
 * for the layouts), and with `totals` the totals table. Throws UserError/UsageError for
 * what the user can fix (an input that is not a trace, an output that exists); damage
 * inside an input goes to onProblem and the intact events are exported. Outputs written
 * before an error are kept only when complete; the one being written is removed.
 */
export function exportTraces(inputs: string[], opts: ExportOptions): ExportReport {
  const dirMode = isDirOutput(opts.output, opts.partition);
  const report: ExportReport = {files: [], outputs: [], rows: 0};
  const totals: TotalsEntry[] = [];
  const open: EventsOut[] = [];
  if (opts.totals) checkFree(opts.totals, opts.force);
  let single: EventsOut | null = null;
  const parts = new Map<string, EventsOut>();
  const taken = new Set<string>();
  try {
    if (dirMode) fs.mkdirSync(opts.output, {recursive: true, mode: 0o700});
    else {
      checkFree(opts.output, opts.force);
      single = new EventsOut(opts.output, opts);
      open.push(single);
    }
    const progressOf = progressOverFiles(inputs, opts.onProgress);
    for (const [i, input] of inputs.entries()) {
      const name = opts.names?.[i] ?? input;
      const onProgress = progressOf(i);
      let trace;
      try {
        trace = openTrace(input, {...opts.trace, onProblem: (p) => opts.onProblem?.(name, p), onProgress});
      } catch (err) {
        throw new UserError(`${name}: ${(err as Error).message.replace(/^open [^:]*: /, '')}`);
      }
      const host = (trace.meta.host as {hostname?: string; boot_id?: string} | undefined) ?? {};
      const hostname = host.hostname ?? null;
      const start = (trace.meta.clock as {start?: ClockPair} | undefined)?.start;
      const clock = start ? new WallClock(start) : null;
      const boot = host.boot_id ?? null;
      let perInput: EventsOut | null = null;
      if (dirMode && !opts.partition?.length) {
        const file = perInputName(opts.output, input, taken);
        checkFree(file, opts.force);
        perInput = new EventsOut(file, opts);
        open.push(perInput);
      }
      const entry: TotalsEntry = {
        file: name, host: hostname, boot, complete: false, endReason: null, start: null, end: null, rows: 0, lostMarkers: 0, lost: 0, counters: [],
      };
      let problems = 0;
      const byDate = opts.partition?.includes('date');
      const byHost = opts.partition?.includes('host');
      try {
        let target = single ?? perInput;
        const ctx = schemaContextOf(trace.meta);
        let rows: {add(e: TraceEvent): void} | null = target ? target.sinkFor(hostname, boot, clock, ctx) : null;
        let lastKey = '';
        let lastTs: number | null = null;
        let firstTs: number | null = null;
        const partitioned = !single && !perInput;
        // Syscalls come without their time string (the rows take it from ts_ns): unless
        // partitions need the date of each event.
        trace.forEach((e) => {
          const t = (e as {time?: string}).time;
          if (entry.start === null && t) entry.start = t;
          if (t) entry.end = t;
          else if (clock && typeof e.ts_ns === 'number') lastTs = e.ts_ns;
          if (!single && !perInput) {
            const date = typeof t === 'string' ? t.slice(0, 10) : null;
            const key = `${byHost ? partValue(hostname) : ''}/${byDate ? partValue(date) : ''}`;
            if (key !== lastKey) {
              let p = parts.get(key);
              if (!p) {
                const segs = [opts.output];
                if (byHost) segs.push(`host=${partValue(hostname)}`);
                if (byDate) segs.push(`date=${partValue(date)}`);
                p = new EventsOut(freePart(path.join(...segs)), opts);
                parts.set(key, p);
                open.push(p);
              }
              target = p;
              rows = p.sinkFor(hostname, boot, clock, ctx);
              lastKey = key;
            }
          }
          rows!.add(e as TraceEvent);
          entry.rows++;
          if (e.type === 'lost') {
            entry.lostMarkers++;
            entry.lost += Number(e.count);
          }
        }, partitioned || opts.schema ? {} : {
          times: false,
          // A syscall straight from the decoder's parts: no event object, no time string.
          syscall: (p, d) => {
            if (!(rows as EventRows).addParts(p, d)) return false;
            entry.rows++;
            if (entry.start === null && firstTs === null) firstTs = p.ts_ns;
            lastTs = p.ts_ns;
            return true;
          },
        });
        // The calls taken as parts have no time string: their first and last count too.
        if (firstTs !== null && clock && (entry.start === null || clock.rfc3339(firstTs) < entry.start)) entry.start = clock.rfc3339(firstTs);
        if (lastTs !== null && clock && (entry.end === null || clock.rfc3339(lastTs) > entry.end)) entry.end = clock.rfc3339(lastTs);
        problems = trace.problems.length;
        entry.complete = trace.complete;
        const tr = trace.trailer as {end_reason?: string; totals?: Record<string, Record<string, unknown>>; totals_sys?: Record<string, Record<string, unknown>>} | null;
        entry.endReason = tr?.end_reason ?? null;
        for (const [kind, group] of [['event', tr?.totals], ['syscall', tr?.totals_sys]] as const) {
          for (const [name, c] of Object.entries(group ?? {})) {
            entry.counters.push({kind, name, sent: c.sent, recorded: c.recorded, lost: c.lost, filtered: c.filtered});
          }
        }
      } finally {
        trace.close();
      }
      if (perInput) {
        perInput.finish();
        open.splice(open.indexOf(perInput), 1);
        report.outputs.push(perInput.out.final);
      }
      totals.push(entry);
      report.files.push({file: name, rows: entry.rows, lost: entry.lost, complete: entry.complete, problems});
      report.rows += entry.rows;
    }
    for (const o of open.splice(0)) {
      o.finish();
      report.outputs.push(o.out.final);
    }
    if (opts.totals) {
      writeTotals(opts.totals, totals, opts);
      report.outputs.push(opts.totals);
    }
    return report;
  } catch (err) {
    for (const o of open) o.out.abandon();
    throw err;
  }
}

function writeTotals(file: string, entries: TotalsEntry[], opts: ExportOptions): void {
  const out = new OutFile(file);
  try {
    const w = new ParquetWriter(out.fd, TOTALS_FIELDS, {level: opts.level, metadata: meta('totals'), createdBy: CREATED_BY});
    const time = new TimeParser();
    const num = (j: number, v: unknown) => (typeof v === 'number' || typeof v === 'bigint' ? w.leaf(j).int64(v) : w.leaf(j).null());
    for (const e of entries) {
      const counters = e.counters.length ? e.counters : [null];
      for (const c of counters) {
        const str = (j: number, v: string | null) => (v === null ? w.leaf(j).null() : w.leaf(j).str(v));
        str(0, e.host);
        str(1, e.boot);
        w.leaf(2).str(e.file);
        w.leaf(3).bool(e.complete);
        str(4, e.endReason);
        time.put(w.leaf(5), e.start);
        time.put(w.leaf(6), e.end);
        num(7, e.rows);
        num(8, e.lostMarkers);
        num(9, e.lost);
        str(10, c ? c.kind : null);
        str(11, c ? c.name : null);
        num(12, c?.sent);
        num(13, c?.recorded);
        num(14, c?.lost);
        num(15, c?.filtered);
        w.endRow();
      }
    }
    w.close();
    out.done();
  } catch (err) {
    out.abandon();
    throw err;
  }
}

