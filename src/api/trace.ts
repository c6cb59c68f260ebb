// openTrace: a trace file as typed events, for programs. Offline, on any OS with Node: it
// reads the file with the same reader, decoder and filters as `decode`, and never loads the
// native addon. Events come chunk by chunk, so memory does not grow with the file.

import {forEachFrame, type MetaMap, type Problem, TraceReader} from '../format';
import {Decoder, decodeMeta} from '../decode';
import {compileFilter, type FilterSpec} from '../filter';
import {collectStats, StatsCollector, type SyscallRow, type TypeRow} from '../stats';
import {resolveUid} from '../util/users';
import type {Zone} from '../util/time';
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
  /** A process and its descendants, followed through forks. */
  tree?: number;
  /** The processes alive when recording started, as `process` events first (default true, as decode). */
  processes?: boolean;
  /** The zone a time of day given to since/until is in (default: local, as decode shows times). */
  zone?: Zone;
  /** Called for each problem (damage) as it is found; they are also kept in `problems`. */
  onProblem?: (p: Problem) => void;
}

/** Sent, recorded, lost and filtered counts per event type and per syscall (what `stats` shows). */
export interface Totals {
  /** Whether the file has its trailer (the kernel's sent/lost/filtered counts come from it; else null). */
  complete: boolean;
  events: TypeRow[];
  syscalls: SyscallRow[];
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
  private closed = false;

  constructor(readonly path: string, private readonly opts: OpenTraceOptions = {}) {
    this.spec = specOf(opts);
    this.reader = TraceReader.open(path);
    this.meta = this.reader.meta;
    try {
      // Bad filters fail here, at open, not half-way through a loop.
      compileFilter(this.spec, this.context(new Decoder(decodeMeta(this.meta))));
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

  /** Counts over the whole file (every event, whatever the filters): reads it through once. */
  totals(): Totals {
    this.usable();
    const reader = TraceReader.open(this.path, {reuseBuffers: true});
    try {
      const decoder = new Decoder(decodeMeta(reader.meta));
      const stats = new StatsCollector(decoder.eventNames, decoder.clock);
      collectStats({reader, decoder, onProblem: () => {}}, stats);
      const report = stats.report(reader.trailer as never, null, 0, decoder.recordCounts());
      return {complete: reader.complete, events: report.events, syscalls: report.syscalls};
    } finally {
      reader.close();
    }
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

  private context(decoder: Decoder) {
    return {path: this.path, decoder, zone: this.opts.zone ?? 'local', meta: this.meta as never};
  }

  /**
   * One pass over the file, from its start: each pass has its own reader and decoder (a
   * --tree filter follows the stream), and leaves the file's problems and trailer here.
   * CHUNK_END marks each chunk's end for the async iterator.
   */
  private *pass(marks: boolean): Generator<TraceEvent | typeof CHUNK_END> {
    this.usable();
    // The problems of this pass replace those of an earlier one (the same file, read again).
    this.problems = [];
    const reader = TraceReader.open(this.path, {onProblem: (p) => this.report(p), reuseBuffers: true});
    this.last = reader;
    try {
      yield* this.events(reader, marks);
    } finally {
      reader.close();
    }
  }

  private *events(reader: TraceReader, marks: boolean): Generator<TraceEvent | typeof CHUNK_END> {
    const decoder = new Decoder(decodeMeta(reader.meta));
    const filter = compileFilter(this.spec, this.context(decoder));
    const test = filter.active ? filter.test : null;
    const ready: TraceEvent[] = [];
    const emit = (e: unknown): void => {
      if (!test || test(e as Record<string, unknown>)) ready.push(e as TraceEvent);
    };
    if (this.opts.processes !== false) for (const e of decoder.processEvents()) emit(e);
    yield* ready.splice(0);
    for (const chunk of reader.chunks()) {
      const {problem} = forEachFrame(chunk, (b, o, n) => decoder.feed(b, o, n, emit));
      if (problem) {
        reader.problems.push(problem);
        this.report(problem);
      }
      yield* ready.splice(0);
      if (marks) yield CHUNK_END;
    }
    decoder.end(emit);
    yield* ready.splice(0);
  }
}

const CHUNK_END: unique symbol = Symbol('chunk end');

/**
 * Opens a trace file written by `exectrace record` (or filter, recover). Throws one-line
 * Errors for a file that cannot be read at all; damage inside it is reported as problems and
 * the intact chunks are still given.
 */
export function openTrace(path: string, opts: OpenTraceOptions = {}): Trace {
  return new Trace(path, opts);
}

function specOf(o: OpenTraceOptions): FilterSpec {
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
  return spec;
}
