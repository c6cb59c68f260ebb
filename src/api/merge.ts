// openTraces: several trace files as one stream of events in wall-clock order — a fleet's
// files, a rotated series, recordings from several boots. Each file is decoded by its own
// Trace (its own layouts, clock, filters and process model), and the streams are merged
// k-way on each event's wall-clock time (boot clocks of different boots and hosts cannot be
// compared; every file carries the pair that turns its boot clock into UTC). Memory is one
// chunk's events per file: nothing is sorted as a whole.
//
// What the merge guarantees: events of one file keep that file's order; between files,
// the earlier wall-clock time goes first (a tie: the file given first). With files from
// more than one host, every event says which host it came from (`host`, the recording's
// hostname); with one host, each event is exactly what decoding its file alone gives.

import type {TraceEvent as DecodedEvent} from '../decode/events';
import {DEFAULT_FIELDS, FieldsJsonWriter, parseFields, TableEventWriter} from '../decode/table';
import {recordingEnd} from '../filter';
import type {Problem, ProgressFn} from '../format';
import {mapEvent, schemaContextOf} from '../schema';
import {toJson} from '../util/json';
import {Output} from '../util/output';
import {HumanTime, WallClock} from '../util/time';
import type {TraceEvent} from './events';
import {openTrace, type OpenTraceOptions, type PassReport, Trace, type WriteOptions} from './trace';
import {sizeOrZero} from '../util/files';

/** OpenTracesOptions are openTrace's, for every file; problems name the file they were found in. */
export interface OpenTracesOptions extends Omit<OpenTraceOptions, 'onProblem'> {
  /** Called for each problem as it is found, with the file's name (as `names` gives it). */
  onProblem?: (p: Problem, file: string) => void;
  /** Called after each chunk of any file: bytes and records over all the files (total: their sizes added). */
  onProgress?: ProgressFn;
  /** The files' names in messages and reports (default: the paths); e.g. `-` for a copy of standard input. */
  names?: string[];
}

/** FileReport is what a pass found in one of the files: its name, host, and write()'s report. */
export type FileReport = {file: string; host: string} & PassReport;

/** HostEvent is an event of a merged stream: with `host` when the files come from more than one host. */
export type HostEvent = TraceEvent & {host?: string};

/**
 * TraceSet is several trace files read as one, in wall-clock order (openTraces). Iterate it
 * for events; write() prints them as decode does. Not safe to iterate twice at once.
 */
export class TraceSet implements Iterable<HostEvent> {
  /** The files, opened, in the order given. */
  readonly traces: Trace[];
  /** Each file's name in messages (`names`, else its path). */
  readonly names: string[];
  /** Each file's recording host (its metadata's host.hostname; `?` when absent). */
  readonly hosts: string[];
  /** Whether the files come from more than one host: then every event carries `host`. */
  readonly multiHost: boolean;
  /** The reports of the last pass, one per file, once it has been read through. */
  reports: FileReport[] = [];

  constructor(paths: string[], private readonly opts: OpenTracesOptions = {}) {
    if (paths.length === 0) throw new Error('openTraces: no files given');
    this.names = paths.map((p, i) => opts.names?.[i] ?? p);
    this.traces = [];
    const {onProblem, onProgress, names: _n, ...rest} = opts;
    const progressOf = progressOverFiles(paths, onProgress);
    try {
      for (let i = 0; i < paths.length; i++) {
        const name = this.names[i];
        this.traces.push(openTrace(paths[i], {...rest, onProblem: onProblem && ((p) => onProblem(p, name)), onProgress: progressOf(i)}));
      }
    } catch (err) {
      for (const t of this.traces) t.close();
      throw err;
    }
    this.hosts = this.traces.map((t) => hostOf(t));
    this.multiHost = new Set(this.hosts).size > 1;
    if (this.multiHost) this.traces.forEach((t, i) => (t.hostTag = this.hosts[i]));
  }

  *[Symbol.iterator](): Iterator<HostEvent> {
    const streams = this.traces.map((t) => t.stream());
    try {
      yield* this.merged(streams, (e) => e);
    } finally {
      this.finish(streams);
    }
  }

  /**
   * write prints the merged events to `fd` as decode does (human lines, NDJSON, CSV/TSV,
   * --fields, --schema); human lines start with the host when the files come from several.
   * With one file, it is that file's trace.write(). Returns one report per file.
   */
  async write(fd = 1, o: WriteOptions = {}): Promise<FileReport[]> {
    if (this.traces.length === 1) {
      const r = await this.traces[0].write(fd, o);
      this.reports = [{file: this.names[0], host: this.hosts[0], ...r}];
      return this.reports;
    }
    const out = new Output(fd, undefined, o.onClosed);
    // Plain JSON and human lines: each file writes its lines as decode does (syscalls
    // straight from the decoder), and the lines are merged. Tables, --fields and schemas
    // read fields of event objects: those events are built and merged as objects.
    if (!o.schema && !o.format && !o.fields) return this.writeLines(out, o);
    const streams = this.traces.map((t) => t.stream());
    try {
      const sinks = this.sinks(streams, o, out);
      for (const [e, i] of this.merged(streams, (e, i) => [e, i] as const)) sinks[i](e);
      this.finish(streams);
      await out.end();
    } finally {
      for (const s of streams) s.end();
    }
    return this.reports;
  }

  /** write() for JSON and human lines: the files' lines, merged chunk by chunk on their events' wall-clock times. */
  private async writeLines(out: Output, o: WriteOptions): Promise<FileReport[]> {
    const json = !!o.json;
    const zone = o.zone ?? this.opts.zone ?? 'local';
    const span = json ? null : this.span();
    const width = this.multiHost ? Math.max(...this.hosts.map((h) => h.length)) : 0;
    const files: {s: ReturnType<Trace['lineStream']>; lines: LineCollector; prefix: Buffer | null; batch: Batch | null; at: number}[] = [];
    const open = (t: Trace, i: number) => {
      const lines = new LineCollector();
      const s = t.lineStream({
        json, times: span ? (clock) => new HumanTime(clock, zone, span.first, span.last) : undefined,
        host: this.multiHost ? this.hosts[i] : undefined, onTime: (ts) => (lines.time = ts),
      }, lines);
      const prefix = !this.multiHost ? null
        : Buffer.from(json ? `{"host":${JSON.stringify(this.hosts[i])},` : this.hosts[i].padEnd(width) + ' ');
      return {s, lines, prefix, batch: null, at: 0};
    };
    try {
      this.traces.forEach((t, i) => files.push(open(t, i)));
    } catch (err) {
      for (const f of files) f.s.end();
      throw err;
    }
    const heads: Head[] = [];
    // The next line of file i into the heap, reading chunks until one has a line.
    const pull = (i: number): void => {
      const f = files[i];
      while (f.batch === null || f.at >= f.batch.ends.length) {
        if (f.s.chunks.next().done) return;
        f.batch = f.lines.take();
        f.at = 0;
      }
      const [sec, nsec] = f.s.decoder.clock.split(f.batch.times[f.at]);
      heapPush(heads, {e: null, i, sec, nsec});
    };
    try {
      for (let i = 0; i < files.length; i++) pull(i);
      while (heads.length) {
        const h = heapPop(heads);
        const f = files[h.i];
        const b = f.batch as Batch;
        const start = f.at === 0 ? 0 : b.ends[f.at - 1];
        const end = b.ends[f.at] - 1; // without its newline
        if (f.prefix) {
          out.bytes(f.prefix);
          out.bytes(b.buf.subarray(json ? start + 1 : start, end));
        } else out.bytes(b.buf.subarray(start, end));
        out.endLine();
        f.at++;
        pull(h.i);
      }
      this.reports = files.map((f, i) => ({file: this.names[i], host: this.hosts[i], ...f.s.report()}));
      await out.end();
    } finally {
      for (const f of files) {
        f.s.chunks.return(undefined);
        f.s.end();
      }
    }
    return this.reports;
  }

  /** The Unix seconds of the earliest start and latest end of the files (human lines show the date when they span days). */
  private span(): {first: number | null; last: number | null} {
    let first: number | null = null;
    let last: number | null = null;
    for (const t of this.traces) {
      const clock = clockOf(t);
      if (!clock) continue;
      const start = startBootNs(t);
      const end = recordingEnd(t.path);
      if (start !== null) first = Math.min(first ?? Infinity, clock.split(start)[0]);
      if (end !== null) last = Math.max(last ?? -Infinity, clock.split(end)[0]);
    }
    return {first, last};
  }

  /** Frees every file. Idempotent. */
  close(): void {
    for (const t of this.traces) t.close();
  }

  /** Per file, how one of its events is written. */
  private sinks(streams: ReturnType<Trace['stream']>[], o: WriteOptions, out: Output): ((e: HostEvent) => void)[] {
    if (o.schema) {
      return streams.map((_s, i) => {
        const ctx = schemaContextOf(this.traces[i].meta);
        return (e) => out.line(toJson(mapEvent(e, o.schema!, ctx)));
      });
    }
    if (o.format) {
      const fields = o.fields ?? (this.multiHost ? withHost(DEFAULT_FIELDS) : DEFAULT_FIELDS);
      const w = new TableEventWriter(out, o.format, parseFields(fields));
      return streams.map(() => (e) => w.event(decoded(e)));
    }
    // --fields (with --json): only those keys of each event.
    const w = new FieldsJsonWriter(out, parseFields(o.fields ?? []));
    return streams.map(() => (e) => w.event(decoded(e)));
  }

  /** The k-way merge: a binary heap of each stream's next event, keyed on wall-clock time. */
  private *merged<T>(streams: ReturnType<Trace['stream']>[], wrap: (e: HostEvent, i: number) => T): Generator<T> {
    const heads: Head[] = [];
    const pull = (i: number): void => {
      const n = streams[i].events.next();
      if (n.done) return;
      const [sec, nsec] = wallTime(n.value, streams[i].decoder.clock);
      heapPush(heads, {e: n.value, i, sec, nsec});
    };
    for (let i = 0; i < streams.length; i++) pull(i);
    while (heads.length) {
      const h = heapPop(heads);
      yield wrap(h.e as HostEvent, h.i);
      pull(h.i);
    }
  }

  private finish(streams: ReturnType<Trace['stream']>[]): void {
    this.reports = streams.map((s, i) => ({file: this.names[i], host: this.hosts[i], ...s.report()}));
    for (const s of streams) s.end();
  }
}

/**
 * openTraces opens several trace files to be read as one stream in wall-clock order
 * (decode a.bin b.bin). Filters apply to each file on its own: --pid, --tree and --comm
 * name processes of each file's host; --since/--until given as a time are the same instant
 * for all, given as +DURATION they count from each file's own start. Throws the first
 * file's one-line Error that cannot be opened, naming it.
 */
export function openTraces(paths: string[], opts: OpenTracesOptions = {}): TraceSet {
  return new TraceSet(paths, opts);
}

/** decode --format csv's default columns with `host` after `time`, for files from several hosts. */
function withHost(fields: readonly string[]): string[] {
  const i = fields.indexOf('time');
  return [...fields.slice(0, i + 1), 'host', ...fields.slice(i + 1)];
}

/** The lines one chunk of a file wrote: the bytes, where each line ends (after its newline), and each one's boot-clock time. */
interface Batch {
  buf: Buffer;
  ends: number[];
  times: (number | bigint)[];
}

/**
 * LineCollector is an Output that keeps what is written instead of writing it to a file
 * descriptor: the lines of one chunk, each with the time of its event (set in `time` just
 * before the line is written), until take() hands them over.
 */
class LineCollector extends Output {
  time: number | bigint = 0;
  private ends: number[] = [];
  private times: (number | bigint)[] = [];

  constructor() {
    // Grows to one chunk's lines, and stays there.
    super(-1, 1 << 16);
  }

  override line(s: string): void {
    super.line(s);
    this.ended();
  }

  override endLine(): void {
    super.endLine();
    this.ended();
  }

  /** Lines stay until take(). */
  override flush(): void {}

  /** The lines written since the last take(), copied out. */
  take(): Batch {
    const b = {buf: Buffer.from(this.buf.subarray(0, this.pos)), ends: this.ends, times: this.times};
    this.pos = 0;
    this.ends = [];
    this.times = [];
    return b;
  }

  private ended(): void {
    this.ends.push(this.pos);
    this.times.push(this.time);
  }
}

interface Head {
  e: TraceEvent | null;
  i: number;
  sec: number;
  nsec: number;
}

const before = (a: Head, b: Head): boolean => a.sec < b.sec || (a.sec === b.sec && (a.nsec < b.nsec || (a.nsec === b.nsec && a.i < b.i)));

function heapPush(h: Head[], x: Head): void {
  h.push(x);
  let i = h.length - 1;
  while (i > 0) {
    const up = (i - 1) >> 1;
    if (!before(h[i], h[up])) break;
    [h[i], h[up]] = [h[up], h[i]];
    i = up;
  }
}

function heapPop(h: Head[]): Head {
  const top = h[0];
  const last = h.pop() as Head;
  if (h.length) {
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l], h[m])) m = l;
      if (r < h.length && before(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
  return top;
}

/** An event's UTC time as whole seconds and nanoseconds (an event without a time sorts first). */
function wallTime(e: TraceEvent, clock: WallClock): [number, number] {
  const ts = e.ts_ns;
  if (typeof ts !== 'number' && typeof ts !== 'bigint') return [-Infinity, 0];
  return clock.split(ts);
}

/**
 * progressOverFiles makes one progress over several files read at once or one after
 * another: the ProgressFn for file i reports the bytes and records of all of them (each
 * one's latest point, added up) against their total size. undefined without onProgress.
 */
export function progressOverFiles(paths: readonly string[], onProgress: ProgressFn | undefined): (i: number) => ProgressFn | undefined {
  if (!onProgress) return () => undefined;
  const points = paths.map(() => ({bytes: 0, records: 0}));
  const total = paths.reduce((n, p) => n + sizeOrZero(p), 0);
  return (i) => (p) => {
    points[i] = p;
    onProgress({bytes: points.reduce((n, x) => n + x.bytes, 0), total, records: points.reduce((n, x) => n + x.records, 0)});
  };
}

/** The decoder's type of an event (src/decode/events.ts): the writers take it; the model's types describe the same objects. */
function decoded(e: HostEvent): DecodedEvent {
  return e as unknown as DecodedEvent;
}

function hostOf(t: Trace): string {
  const h = (t.meta as {host?: {hostname?: unknown}}).host?.hostname;
  return typeof h === 'string' && h !== '' ? h : '?';
}

function clockOf(t: Trace): WallClock | null {
  const start = (t.meta as {clock?: {start?: {boot_ns?: unknown; realtime_ns?: unknown}}}).clock?.start;
  const ok = (v: unknown) => typeof v === 'number' || typeof v === 'bigint';
  return start && ok(start.boot_ns) && ok(start.realtime_ns) ? new WallClock(start as never) : null;
}

function startBootNs(t: Trace): number | bigint | null {
  const s = (t.meta as {clock?: {start?: {boot_ns?: number | bigint}}}).clock?.start?.boot_ns;
  return typeof s === 'number' || typeof s === 'bigint' ? s : null;
}
