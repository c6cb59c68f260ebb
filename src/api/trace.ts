// openTrace: a trace file as typed events, for programs. Offline, on any OS with Node: it
// reads the file with the same reader, decoder and filters as `decode`, and never loads the
// native addon. Events come chunk by chunk, so memory does not grow with the file.

import {parseFields} from '../decode/table';
import {forEachFrame, type MetaMap, type Problem, type ProgressFn, seriesPlace, TraceReader} from '../format';
import {Decoder, decodeMeta, type OpenedTrace, printByChunk, printEvents} from '../decode';
import type {SyscallParts} from '../decode/syscalls';
import {compileFilter, describeSpec, type EventFilter, explainEmpty, type FilterSpec, recordingEnd, selectTrace, summarize} from '../filter';
import {collectStats, StatsCollector, type StatsReport, type StatsTrailer, type SyscallRow, type TypeRow} from '../stats';
import {collectGroups, GROUP_KEYS, type GroupKey, type GroupReport} from '../stats/groups';
import {collectIntervals, IntervalCollector, MAX_INTERVAL_ROWS, MIN_INTERVAL_NS, type IntervalRow, type IntervalSummary} from '../stats/intervals';
import {parseDurationNs} from '../filter/time';
import {type Schema, schemaContextOf} from '../schema';
import {UsageError} from '../util/errors';
import {Output} from '../util/output';
import {passwdUsers, recordedUsers, resolveUid} from '../util/users';
import {HumanTime, type WallClock, type Zone} from '../util/time';
import type {EventType, TraceEvent} from './events';

/** Which events to give: the same filters as decode's flags (all must hold; any value of a list). */
export interface OpenTraceOptions {
  /** Expressions as `decode --where` takes them, e.g. `comm == "curl"`; all must hold. */
  where?: string | string[];
  pid?: number[];
  comm?: string[];
  type?: EventType[];
  syscall?: string[];
  /** uids, or user names looked up in this machine's /etc/passwd. */
  uid?: (number | string)[];
  /** RFC 3339, a time of day (in `zone`), or a duration from the start (`+30s`). */
  since?: string;
  until?: string;
  /** A process (the first to have the pid) and its descendants, by who forked whom (`exectrace tree --pid`). */
  tree?: number;
  /** The process an exec id names (any image of it) and its descendants: one of several processes given one pid. */
  treeExecId?: string;
  /** The processes alive when recording started, as `process` events first (default true, as decode). */
  processes?: boolean;
  /**
   * Give exec and exec_failed events `ancestors`: the processes that forked the one below,
   * from the parent upward, each with the image it ran then (decode --ancestors).
   */
  ancestors?: boolean;
  /**
   * Give the calls a `record --syscall` recording holds only to follow descriptors (open,
   * close, dup …: formats/trace-format.md §10.11) as events too, with `implicit: true`
   * (decode --implicit). Without it they are used, not shown.
   */
  implicit?: boolean;
  /**
   * Name what descriptor arguments refer to (`fd_paths`) and make relative paths absolute
   * (`paths`), in a file that describes descriptors (default true). false: neither, and
   * decoding a call with a descriptor costs what it did before (decode --no-fd-paths).
   */
  fdPaths?: boolean;
  /** The zone a time of day given to since/until is in (default: local, as decode shows times). */
  zone?: Zone;
  /** Called for each problem (damage) as it is found; they are also kept in `problems`. */
  onProblem?: (p: Problem) => void;
  /** Called after each chunk a pass over the events reads: bytes of the file and records so far (a progress line). */
  onProgress?: ProgressFn;
}

/** Sent, recorded, lost and filtered counts per event type and per syscall (what `stats` shows). */
export interface Totals {
  /** Whether the file has its trailer (the kernel's sent/lost/filtered counts come from it; else null). */
  complete: boolean;
  events: TypeRow[];
  syscalls: SyscallRow[];
}

/** How trace.write() prints the events. */
export interface WriteOptions {
  /** NDJSON, one event per line (decode --json); else decode's human lines. */
  json?: boolean;
  /**
   * CSV (RFC 4180) or TSV rows of `fields`, a header first (decode --format csv|tsv); see
   * src/decode/table.ts for how each value becomes a cell.
   */
  format?: 'csv' | 'tsv';
  /**
   * Dotted paths into the event model (`pid`, `args.filename`, `argv[0]`): the columns of a
   * table (default: time, type, pid, ppid, uid, comm, exec_id, filename, argv, exit_code,
   * signal, syscall, ret, errno), or with json the only keys written.
   */
  fields?: string[];
  /** The zone human lines show times in (default: the trace's `zone`, else local). */
  zone?: Zone;
  /**
   * With json: each event mapped onto Elastic Common Schema or OCSF (decode --schema; see
   * mapEvent in src/schema). --fields does not apply then.
   */
  schema?: Schema;
  /** Called once if the reader of the output goes away (EPIPE); without it, that ends the program quietly, as decode does under `| head`. */
  onClosed?: () => void;
}

/** What trace.write() and trace.stats() found besides the events: what decode and stats say on stderr. */
export interface PassReport {
  /** Events that matched the filters (lost markers, which pass every filter, not counted); null without filters. */
  matched: number | null;
  /** The filters' warnings, then, when filters were given and nothing matched, why (one line each). */
  warnings: string[];
  /** Whether the file has its trailer (it ended cleanly). */
  complete: boolean;
  /** Records skipped because their type is unknown, or they are malformed. */
  unknownType: number;
  malformed: number;
}

/** What `stats --json` prints: the file, its problems' messages, then the summary. */
export type TraceStats = {file: string; problems: string[]} & StatsReport;

/** GroupsOptions say how trace.groups() groups the events (stats --by, --top). */
export interface GroupsOptions {
  /** One key, or several: then a group per combination of values, as `sort | uniq -c` of several columns. */
  by: GroupKey | GroupKey[];
  /** How many groups to list, the most active first (default 10, as stats); `total` covers every group. */
  top?: number;
}

/** TraceGroups is what `stats --by KEY --json` prints: the file, its problems' messages, then the groups. */
export type TraceGroups = {file: string; problems: string[]} & GroupReport;

/** IntervalsOptions say how trace.intervals() cuts the trace into intervals (stats --interval). */
export interface IntervalsOptions {
  /** The length of an interval: a duration as --interval takes it (`1s`, `500ms`, `1m`, `1m30s`), or milliseconds; at least 1 ms. */
  every: string | number;
  /** The zone intervals are aligned in (their starts are multiples of `every` there): default the trace's `zone`, else local. */
  zone?: Zone;
}

/** A trace file, iterable (sync or async) as typed events in file order. */
export class Trace implements Iterable<TraceEvent>, AsyncIterable<TraceEvent> {
  /** The file's metadata: host, clocks, options and filters of the recording, layouts. */
  readonly meta: MetaMap;
  /** Damage found so far: when opening, and by the last pass over the events. */
  problems: Problem[] = [];
  private readonly spec: FilterSpec;
  private readonly reader: TraceReader;
  /** The reader of the latest pass: the file's trailer, once read through. */
  private last: TraceReader | null = null;
  /**
   * The decoder and filter compiled at open, unused yet: the first pass takes them with the
   * open reader, so that decode opens and prepares the file once, as it did before it ran on
   * this class. Later passes (and one running beside another) start afresh.
   */
  private spare: {decoder: Decoder; filter: EventFilter} | null;
  private busy = false;
  private closed = false;
  /**
   * hostTag, when set, is given to every event as `host` before the filters see it (openTraces
   * sets it for files of several hosts, so that --where can name a host). Internal.
   */
  hostTag: string | null = null;

  constructor(readonly path: string, private readonly opts: OpenTraceOptions = {}) {
    this.spec = specOf(opts);
    this.reader = TraceReader.open(path, {onProblem: (p) => this.report(p), reuseBuffers: true, onProgress: opts.onProgress});
    this.meta = this.reader.meta;
    try {
      // Bad filters fail here, at open, not half-way through a loop.
      const decoder = this.decoder(this.meta);
      this.spare = {decoder, filter: compileFilter(this.spec, this.context(decoder))};
    } catch (err) {
      this.reader.close();
      throw err;
    }
  }

  /** Whether the file ended cleanly (it has its trailer). Known once the events have been read through. */
  get complete(): boolean {
    return this.last?.complete ?? false;
  }

  /** The trailer's document (end reason, kernel counters), once the events have been read through; else null. */
  get trailer(): MetaMap | null {
    return this.last?.trailer ?? null;
  }

  *[Symbol.iterator](): Iterator<TraceEvent> {
    yield* this.pass(false) as Iterable<TraceEvent>;
  }

  /** The same events; the event loop gets a turn between chunks. */
  async *[Symbol.asyncIterator](): AsyncIterator<TraceEvent> {
    for (const item of this.pass(true)) {
      if (item === CHUNK_END) await new Promise((r) => setImmediate(r));
      else yield item;
    }
  }

  /**
   * forEach calls `each` with the events the iterator gives, in the same order, without a
   * generator step per event (export's way through millions of events). Synchronous. With
   * `times: false` and no filters, syscall events come with `time` '' instead of their RFC
   * 3339 string, for a consumer that takes the time from ts_ns itself: a storm of calls then
   * formats no time per event. Every other field is the same. With `syscall` and no
   * filters, a syscall is first offered as the decoder's parts (SyscallSink, src/decode/syscalls.ts),
   * before any object is built: it returns true when it took the call, false to have the
   * event built and given to `each`.
   */
  forEach(each: (e: TraceEvent) => void, o: {times?: boolean; syscall?: (p: SyscallParts, d: Decoder) => boolean} = {}): void {
    const p = this.begin();
    const {t: {decoder}, filter} = p;
    try {
      const test = filter.active ? filter.test : null;
      const emit = test ? (e: unknown): void => void (test(e as Record<string, unknown>) && each(e as TraceEvent)) : (each as (e: unknown) => void);
      if (!test && (o.times === false || o.syscall)) {
        const times = o.times !== false;
        const take = o.syscall;
        decoder.direct = {
          syscall(parts) {
            if (!take || !take(parts, decoder)) each(decoder.syscallEvent(parts, times) as unknown as TraceEvent);
            return true;
          },
        };
      }
      if (this.opts.processes !== false) for (const e of decoder.processEvents()) emit(e);
      for (const _ of this.feedChunks(p.t, emit)) {
        /* each chunk's events went to emit */
      }
      decoder.end(emit);
    } finally {
      decoder.direct = null;
      p.end();
    }
  }

  /** Counts over the whole file (every event, whatever the filters): reads it through once. */
  totals(): Totals {
    this.usable();
    const reader = TraceReader.open(this.path, {reuseBuffers: true});
    try {
      const {summary} = this.summarize({reader, decoder: new Decoder(decodeMeta(reader.meta)), onProblem: () => {}}, null, 0);
      return {complete: reader.complete, events: summary.events, syscalls: summary.syscalls};
    } finally {
      reader.close();
    }
  }

  /**
   * decode: the events the filters keep, printed to the file descriptor `fd` (stdout by
   * default) as decode prints them, NDJSON or human lines. A syscall event is written
   * straight from the decoder's parts, never built as an object unless a filter must see it
   * (printEvents in src/decode/index.ts), which is why this is faster than a loop over the
   * trace. Problems go to onProblem and `problems` as the pass meets them.
   */
  async write(fd = 1, o: WriteOptions = {}): Promise<PassReport> {
    const out = new Output(fd, undefined, o.onClosed);
    const p = this.begin();
    try {
      const {t, filter} = p;
      const counting = countingTest(filter);
      const zone = o.zone ?? this.opts.zone ?? 'local';
      const start = (this.meta as {clock?: {start?: {boot_ns?: number | bigint}}}).clock?.start?.boot_ns;
      // Human lines carry the date when the recording spans days: its end comes from the trailer.
      const times = o.json ? undefined : HumanTime.forRecording(t.decoder.clock, zone, start ?? null, recordingEnd(this.path));
      const processes = this.opts.processes !== false;
      printEvents(t, {
        processes, json: o.json, table: o.format, fields: o.fields ? parseFields(o.fields) : undefined,
        test: counting.test, testReadsTime: filter.reads('time'), times,
        schema: o.schema ? {name: o.schema, context: schemaContextOf(this.meta)} : undefined,
      }, out);
      const report = this.passReport(p, counting.matched());
      await out.end();
      return report;
    } finally {
      p.end();
    }
  }

  /**
   * stats: the summary `stats --json` prints, of the events the filters keep (the whole file
   * without filters); `top` executables listed (default 10, as stats). With filters, RECORDED
   * counts the records behind the matching events, as `filter -o` would keep them.
   */
  stats(o: {top?: number} = {}): {report: TraceStats} & PassReport {
    const p = this.begin();
    try {
      const {summary, matched} = this.summarize(p.t, p.filter.active ? p.filter : null, o.top ?? 10);
      summary.filter = p.filter.active ? p.filter.describe() : null;
      const note = (this.meta as {filter?: {applied?: unknown; source?: {file?: unknown}}}).filter;
      summary.filtered_from = note && typeof note === 'object'
        ? {file: String(note.source?.file ?? '?'), filter: describeSpec((note.applied ?? {}) as never)}
        : null;
      const place = seriesPlace(this.meta, p.t.reader.trailer);
      if (place && !place.malformed) summary.series = {id: place.id, seq: place.seq, first: place.first, next: place.next};
      const report: TraceStats = {file: this.path, problems: this.problems.map((x) => x.message), ...summary};
      return {report, ...this.passReport(p, matched)};
    } finally {
      p.end();
    }
  }

  /**
   * groups is stats --by: per group of `by` (exe, comm, uid, user, parent, cgroup, container), the
   * execs, failed execs, non-zero exits and distinct processes of the events the filters
   * keep (src/stats/groups.ts says which event counts where), the most active groups first.
   * Names for `user` are the recording host's (the file's `users`, formats/trace-format.md
   * §10.17); a file without them gets this machine's, and a warning that says so. Throws a
   * UsageError for an unknown key.
   */
  groups(o: GroupsOptions): {report: TraceGroups} & PassReport {
    const by = [...new Set(typeof o.by === 'string' ? [o.by] : o.by)];
    const bad = by.find((k) => !(GROUP_KEYS as readonly string[]).includes(k));
    if (bad !== undefined || by.length === 0) {
      throw new UsageError(`--by: expected one of ${GROUP_KEYS.join(', ')}${bad !== undefined ? `, got ${JSON.stringify(bad)}` : ''}`);
    }
    const p = this.begin();
    try {
      const recorded = recordedUsers(this.meta);
      const wantsUsers = by.includes('user');
      const {groups: g, matched} = collectGroups(p.t, p.filter.active ? p.filter.test : null, by,
        {users: recorded ?? (wantsUsers ? passwdUsers() : undefined)});
      const report: TraceGroups = {
        file: this.path, problems: this.problems.map((x) => x.message), ...g.report(o.top ?? 10),
        ...(wantsUsers && {user_names: recorded ? 'recording' as const : 'local' as const}),
        complete: p.t.reader.complete, filter: p.filter.active ? p.filter.describe() : null,
      };
      const pass = this.passReport(p, matched);
      if (wantsUsers && !recorded) {
        pass.warnings.unshift(`${this.path} has no user names (recorded before exectrace kept them): ` +
          "--by user shows this machine's (/etc/passwd), which need not be the recording host's");
      }
      return {report, ...pass};
    } finally {
      p.end();
    }
  }

  /**
   * intervals is stats --interval: the events the filters keep, counted per interval of `every` (execs,
   * failed execs, forks, exits, syscalls, lost), one row per interval from the first
   * matching event's to the last's, empty ones included, each handed to `each` in time order
   * as soon as it is complete (src/stats/intervals.ts says where each event counts, and how
   * rows are aligned). Memory does not grow with the file. Throws a UsageError for an
   * interval it cannot read, shorter than 1 ms, or that would cut the recording into more
   * than MAX_INTERVAL_ROWS rows.
   */
  intervals(o: IntervalsOptions, each: (row: IntervalRow) => void): {summary: IntervalSummary} & PassReport {
    const everyNs = typeof o.every === 'number' ? Math.round(o.every * 1e6) : parseDurationNs(o.every.trim());
    if (everyNs === null || !Number.isFinite(everyNs)) {
      throw new UsageError(`--interval: cannot read duration ${JSON.stringify(o.every)} (examples: 500ms, 1s, 1m, 1m30s)`);
    }
    if (everyNs < MIN_INTERVAL_NS) throw new UsageError(`--interval ${o.every}: at least 1ms`);
    const meta = this.meta as {clock?: {start?: {boot_ns?: number | bigint; realtime_ns?: number | bigint}}};
    const start = meta.clock?.start;
    const end = recordingEnd(this.path);
    if (start?.boot_ns !== undefined && end !== null && this.spec.since === undefined && this.spec.until === undefined) {
      const rows = (Number(end) - Number(start.boot_ns)) / everyNs;
      if (rows > MAX_INTERVAL_ROWS) {
        throw new UsageError(`--interval ${o.every}: the recording would make ${Math.ceil(rows).toLocaleString('en-US')} intervals, ` +
          `at most ${MAX_INTERVAL_ROWS.toLocaleString('en-US')}: give a longer interval, or a part of the recording with --since/--until`);
      }
    }
    const p = this.begin();
    try {
      const clock = p.t.decoder.clock;
      const c = new IntervalCollector({
        everyNs, clock, zone: o.zone ?? this.opts.zone ?? 'local', emit: each,
        startBootNs: Number(start?.boot_ns ?? 0), startRealNs: wholeNs(start?.realtime_ns),
        endBootNs: end === null ? null : Number(end),
      });
      const matched = collectIntervals(p.t, p.filter.active ? p.filter.test : null, c);
      const summary = c.end();
      const pass = this.passReport(p, matched);
      if (summary.outside) {
        pass.warnings.push(`${summary.outside} event${summary.outside === 1 ? ' has a time' : 's have times'} outside the recording ` +
          '(damaged timestamps): counted in no interval');
      }
      if (summary.late) {
        pass.warnings.push(`${summary.late} event${summary.late === 1 ? '' : 's'} reached the file more than 10 s after later ones: ` +
          'counted in the first interval still open, later than their time');
      }
      return {summary, ...pass};
    } finally {
      p.end();
    }
  }

  /**
   * The stats summary of one pass: of the events `filter` keeps, with RECORDED counting the
   * records behind them (as `filter -o` would keep them); without a filter, of every event.
   */
  private summarize(t: OpenedTrace, filter: EventFilter | null, top: number): {summary: StatsReport; matched: number} {
    const stats = new StatsCollector(t.decoder.eventNames, t.decoder.clock);
    // Counted apart from the calls asked for, not left out (formats/trace-format.md §10.11).
    t.decoder.implicit = true;
    stats.implicitNames = t.decoder.implicitNames();
    let records: Record<string, number>;
    let matched = 0;
    if (filter) {
      const kept: number[] = [];
      selectTrace(t, filter.test, {event: (e) => {
        if (e.type !== 'lost' || filter.countsLost) matched++;
        stats.add(e);
      }, record: (_b, _o, _n, type, _ts, context) => {
        if (!context) kept[type] = (kept[type] ?? 0) + 1;
      }});
      records = Object.fromEntries(t.decoder.eventNames.map((name, id) => [name, kept[id] ?? 0]).filter(([name]) => name));
    } else {
      collectStats(t, stats);
      records = t.decoder.recordCounts();
    }
    const trailer = t.reader.trailer as (StatsTrailer & {clock_end?: {boot_ns: number | bigint}}) | null;
    const meta = this.meta as {clock?: {start?: {boot_ns: number | bigint}}};
    let span = null;
    if (trailer?.clock_end && meta.clock?.start) {
      const start = Number(meta.clock.start.boot_ns);
      const end = Number(trailer.clock_end.boot_ns);
      span = {start, end, startTime: t.decoder.clock.rfc3339(start), endTime: t.decoder.clock.rfc3339(end)};
    }
    return {summary: stats.report(trailer, span, top, records), matched};
  }

  private passReport(p: {t: OpenedTrace; filter: EventFilter}, matched: number): PassReport {
    const c = p.t.decoder.counts;
    return {
      matched: p.filter.active ? matched : null, warnings: this.warnings(p.filter, matched),
      complete: p.t.reader.complete, unknownType: c.unknownType, malformed: c.malformed,
    };
  }

  /**
   * stream is one pass over the events for openTraces, which merges several files: the
   * events (as the iterator gives them), the decoder that made them (its clock and
   * syscall layouts, for human lines), and report(), what write() would have reported,
   * valid once the events are read through. end() frees the pass. Internal to the library.
   */
  stream(): {events: Generator<TraceEvent>; decoder: Decoder; report: () => PassReport; end: () => void} {
    const p = this.begin();
    const {test, matched} = countingTest(p.filter);
    const self = this;
    function* events(): Generator<TraceEvent> {
      for (const e of self.events(p, false, test)) if (e !== CHUNK_END) yield e;
    }
    return {events: events(), decoder: p.t.decoder, report: () => this.passReport(p, matched()), end: p.end};
  }

  /**
   * lineStream is one pass that writes the events as decode --json or human lines into
   * `out` (a merge's collector), one chunk per step of `chunks`; `onTime` hears each
   * event's boot-clock time just before its line is written. Internal: openTraces merges
   * several files' lines this way, at the speed of one file's decode.
   */
  lineStream(o: {json: boolean; times?: (clock: WallClock) => HumanTime; host?: string; onTime: (ts: number | bigint) => void}, out: Output):
    {chunks: Generator<void>; decoder: Decoder; report: () => PassReport; end: () => void} {
    const p = this.begin();
    const {t, filter} = p;
    const {test, matched} = countingTest(filter);
    const chunks = printByChunk(t, {
      processes: this.opts.processes !== false, json: o.json, times: o.times?.(t.decoder.clock),
      test, testReadsTime: filter.reads('time'), host: o.host, onTime: o.onTime,
    }, out);
    return {chunks, decoder: t.decoder, report: () => this.passReport(p, matched()), end: p.end};
  }

  /** Frees the file; iterating after it is an error. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reader.close();
  }

  private usable(): void {
    if (this.closed) throw new Error(`trace ${this.path} is closed`);
  }

  private report(p: Problem): void {
    this.problems.push(p);
    this.opts.onProblem?.(p);
  }

  /** A pass's decoder: with `ancestors`, it keeps the process table that gives them. */
  private decoder(meta: MetaMap): Decoder {
    const decoder = new Decoder(decodeMeta(meta));
    if (this.opts.ancestors) decoder.trackProcesses({ancestors: true});
    if (this.opts.implicit) decoder.implicit = true;
    if (this.opts.fdPaths === false) decoder.followsFds = false;
    return decoder;
  }

  private context(decoder: Decoder) {
    return {path: this.path, decoder, zone: this.opts.zone ?? 'local', meta: this.meta as never};
  }

  /**
   * One pass over the file, from its start: each pass has its own reader and decoder (a
   * --tree filter follows the stream), and leaves the file's problems and trailer here.
   * CHUNK_END marks each chunk's end for the async iterator.
   */
  private *pass(marks: boolean): Generator<TraceEvent | typeof CHUNK_END> {
    const p = this.begin();
    try {
      yield* this.events(p, marks);
    } finally {
      p.end();
    }
  }

  /** A pass's reader, decoder and filter; end() when done. */
  private begin(): {t: OpenedTrace; filter: EventFilter; end: () => void} {
    this.usable();
    // The problems of this pass replace those of an earlier one (the same file, read again).
    this.problems = [];
    const onProblem = (p: Problem) => this.report(p);
    if (this.spare && !this.busy) {
      const {decoder, filter} = this.spare;
      this.spare = null;
      this.busy = true;
      this.last = this.reader;
      return {t: {reader: this.reader, decoder, onProblem}, filter, end: () => { this.busy = false; }};
    }
    const reader = TraceReader.open(this.path, {onProblem, reuseBuffers: true, onProgress: this.opts.onProgress});
    try {
      const decoder = this.decoder(reader.meta);
      const filter = compileFilter(this.spec, this.context(decoder));
      this.last = reader;
      return {t: {reader, decoder, onProblem}, filter, end: () => reader.close()};
    } catch (err) {
      reader.close();
      throw err;
    }
  }

  /** The filters' warnings, then why nothing matched when filters were given and nothing did. */
  private warnings(filter: EventFilter, matched: number): string[] {
    const out = filter.warnings();
    const zone = this.opts.zone ?? 'local';
    if (filter.active && matched === 0) out.push(...explainEmpty(filter, summarize(this.path, this.opts.processes !== false), zone));
    return out;
  }

  private *events(p: {t: OpenedTrace; filter: EventFilter}, marks: boolean,
    test = p.filter.active ? p.filter.test : null): Generator<TraceEvent | typeof CHUNK_END> {
    const {t: {decoder}} = p;
    const ready: TraceEvent[] = [];
    const host = this.hostTag;
    const emit = (e: unknown): void => {
      if (host !== null) (e as {host?: string}).host = host;
      if (!test || test(e as Record<string, unknown>)) ready.push(e as TraceEvent);
    };
    if (this.opts.processes !== false) for (const e of decoder.processEvents()) emit(e);
    yield* ready.splice(0);
    for (const _ of this.feedChunks(p.t, emit)) {
      yield* ready.splice(0);
      if (marks) yield CHUNK_END;
    }
    decoder.end(emit);
    yield* ready.splice(0);
  }

  /**
   * Feeds the file's chunks to its decoder, one at a time, the events to `emit`; yields
   * after each. Damage the reader skipped since the last chunk tells the decoder records are
   * missing in between; a chunk's own damage is reported.
   */
  private *feedChunks(t: OpenedTrace, emit: (e: unknown) => void): Generator<void> {
    const {reader, decoder} = t;
    let problems = reader.problems.length;
    for (const chunk of reader.chunks()) {
      if (reader.problems.length !== problems) decoder.gap();
      const {problem} = forEachFrame(chunk, (b, o, n) => decoder.feed(b, o, n, emit));
      if (problem) {
        reader.problems.push(problem);
        this.report(problem);
      }
      problems = reader.problems.length;
      yield;
    }
  }
}

const CHUNK_END: unique symbol = Symbol('chunk end');

/**
 * The filter's test, counting the events it matches for a pass's report (lost markers, which
 * pass every filter, only when the filter asks for them); test is null without filters.
 */
function countingTest(filter: EventFilter): {test: ((e: Record<string, unknown>) => boolean) | null; matched: () => number} {
  let matched = 0;
  const test = filter.active
    ? (e: Record<string, unknown>): boolean => {
      const ok = filter.test(e);
      if (ok && (e.type !== 'lost' || filter.countsLost)) matched++;
      return ok;
    }
    : null;
  return {test, matched: () => matched};
}

/**
 * Opens a trace file written by `exectrace record` (or filter, recover). Throws one-line
 * Errors for a file that cannot be read at all; damage inside it is reported as problems and
 * the intact chunks are still given.
 */
export function openTrace(path: string, opts: OpenTraceOptions = {}): Trace {
  return new Trace(path, opts);
}

/** The filters of openTrace's options as the filter compiler takes them. */
export function specOf(o: OpenTraceOptions): FilterSpec {
  const spec: FilterSpec = {};
  if (o.where !== undefined) spec.where = typeof o.where === 'string' ? [o.where] : [...o.where];
  if (o.pid?.length) spec.pid = [...o.pid];
  if (o.comm?.length) spec.comm = [...o.comm];
  if (o.type?.length) spec.type = [...o.type];
  if (o.syscall?.length) spec.syscall = [...o.syscall];
  if (o.uid?.length) spec.uid = o.uid.map((u) => (typeof u === 'number' ? u : resolveUid(u)));
  if (o.since !== undefined) spec.since = o.since;
  if (o.until !== undefined) spec.until = o.until;
  if (o.tree !== undefined) spec.tree = o.tree;
  if (o.treeExecId !== undefined) spec.tree_exec_id = o.treeExecId;
  return spec;
}

/** A clock reading of the metadata as a bigint (0 when it is not a number: the decoder has said so). */
function wholeNs(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  return typeof v === 'number' && Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
}
