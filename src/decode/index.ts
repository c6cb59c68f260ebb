// Decoding: turns a trace file into events of the model in PRODUCT.md, driven only by the
// file's own metadata (layouts from BTF, clocks, options). Runs anywhere Node runs: no
// native addon, no root, no Linux. Damage is reported through the reader's problems and
// decoding goes on with the next intact chunk.

import {forEachFrame, Problem, TraceReader} from '../format';
import {Output} from '../util/output';
import type {HumanTime} from '../util/time';
import {Decoder, decodeMeta, TraceEvent} from './events';
import {HumanEventWriter} from './human';
import type {SyscallParts, SyscallSink} from './syscalls';
import {JsonEventWriter} from './json';
import {mapEvent, type Schema, type SchemaContext} from '../schema';
import type {TraceEvent as ModelEvent} from '../api/events';
import {toJson} from '../util/json';
import {DEFAULT_FIELDS, FieldsJsonWriter, parseFields, TableEventWriter, type FieldPath, type TableFormat} from './table';

export {Decoder, DecodeMeta, decodeMeta, TraceEvent, ordered} from './events';
export {humanLine, shellQuote, commandLine, HumanContext, HumanEventWriter} from './human';
export {ArgInfo, BufferValue, SyscallParts, SyscallSink, SyscallsMeta} from './syscalls';
export {JsonEventWriter} from './json';
export {LiveDecoder} from './live';

export interface OpenedTrace {
  reader: TraceReader;
  decoder: Decoder;
  onProblem: (p: Problem) => void;
}

export function openTrace(path: string, onProblem: (p: Problem) => void = () => {}): OpenedTrace {
  const reader = TraceReader.open(path, {onProblem, reuseBuffers: true});
  try {
    return {reader, decoder: new Decoder(decodeMeta(reader.meta)), onProblem};
  } catch (err) {
    reader.close();
    throw err;
  }
}

export interface WalkOptions {
  /** Include the processes alive at start as `process` events (first). */
  processes?: boolean;
}

/**
 * Calls emit for every event in file order: the start-of-recording snapshot, then the
 * events of each intact chunk's records as they complete (a syscall at its exit record),
 * then the syscalls that never completed. Frame problems become reader problems.
 */
export function forEachEvent(t: OpenedTrace, opts: WalkOptions, emit: (e: TraceEvent) => void): void {
  for (const _ of eachChunk(t, opts, emit)) void _;
}

/** eachChunk is forEachEvent one chunk at a time: it yields after each chunk (the first with the snapshot before it), and at the end. */
export function* eachChunk(t: OpenedTrace, opts: WalkOptions, emit: (e: TraceEvent) => void): Generator<void> {
  const {reader, decoder} = t;
  if (opts.processes !== false) for (const e of decoder.processEvents()) emit(e);
  let problems = reader.problems.length;
  for (const chunk of reader.chunks()) {
    // Damage the reader skipped since the last chunk: records are missing in between.
    if (reader.problems.length !== problems) decoder.gap();
    const {problem} = forEachFrame(chunk, (buf, off, len) => decoder.feed(buf, off, len, emit));
    if (problem) {
      // Frame damage is found after the reader's own checks; report it the same way.
      reader.problems.push(problem);
      t.onProblem(problem);
    }
    problems = reader.problems.length;
    yield;
  }
  decoder.end(emit);
  yield;
}

export interface PrintOptions extends WalkOptions {
  /** NDJSON (the event model's keys) instead of human lines. */
  json?: boolean;
  /** Rows of `fields` instead (table.ts); with json, only those fields of each event. */
  table?: TableFormat;
  fields?: readonly FieldPath[];
  /** Print only the events this accepts; it sees every event, in stream order. */
  test?: ((e: TraceEvent) => boolean) | null;
  /** Whether the test reads `time` (the RFC 3339 string): if not, events tested are built without it. */
  testReadsTime?: boolean;
  /** Human lines: the zone and date rule (HumanTime); the local zone, time of day only, by default. */
  times?: HumanTime;
  /** With json: each event mapped onto this schema (src/schema), and the file's host and writer for it. */
  schema?: {name: Schema; context: SchemaContext};
  /** Set as `host` on each event object the test sees (a merge of several hosts' files); not written. */
  host?: string;
  /** Called with each event's boot-clock time just before it is written (a merge keys its lines on it). */
  onTime?: (ts: number | bigint) => void;
}

/** decode --json --schema: each event built whole, mapped (mapEvent) and written as JSON. */
class SchemaEventWriter implements SyscallSink {
  constructor(private readonly out: Output, private readonly schema: Schema, private readonly ctx: SchemaContext) {}

  syscall(_p: SyscallParts): boolean {
    return false;
  }

  readonly event = (e: TraceEvent): void => {
    // The decoder's events are the model's (src/api/events.ts types them).
    this.out.line(toJson(mapEvent(e as unknown as ModelEvent, this.schema, this.ctx)));
  };
}

/**
 * decode: every event of the trace as a line into out, NDJSON or human. Syscall events
 * are written without becoming objects (json.ts, human.ts). A test needs an object, so
 * with one each syscall event is built for it (without its time string, unless the test
 * reads it) and one that passes is still written from its parts; other events, and a
 * syscall the writer declines, are built whole and tested on the way out.
 */
export function printEvents(t: OpenedTrace, opts: PrintOptions, out: Output): void {
  for (const _ of printByChunk(t, opts, out)) void _;
}

/** printByChunk is printEvents one chunk at a time (eachChunk): a merge of several files interleaves their lines between chunks. */
export function* printByChunk(t: OpenedTrace, opts: PrintOptions, out: Output): Generator<void> {
  const {decoder} = t;
  const test = opts.test ?? null;
  const fields = opts.fields ?? parseFields(DEFAULT_FIELDS);
  const w = opts.schema ? new SchemaEventWriter(out, opts.schema.name, opts.schema.context)
    : opts.table ? new TableEventWriter(out, opts.table, fields)
    : opts.json && opts.fields ? new FieldsJsonWriter(out, opts.fields)
      : opts.json ? new JsonEventWriter(out, decoder.clock, decoder.arch) : new HumanEventWriter(out, decoder.clock, decoder, opts.times);
  let sink: SyscallSink = w;
  let emit: (e: TraceEvent) => void = w.event;
  const host = opts.host;
  const onTime = opts.onTime;
  if (test) {
    const times = opts.testReadsTime !== false;
    sink = {
      syscall(p: SyscallParts): boolean {
        const e = decoder.syscallEvent(p, times);
        if (host !== undefined) e.host = host;
        if (!test(e)) return true; // taken: filtered out
        onTime?.(p.ts_ns);
        return w.syscall(p); // declined: the decoder builds it whole, emit tests it again
      },
    };
    emit = (e) => {
      if (host !== undefined) e.host = host;
      const ok = test(e);
      if (host !== undefined) delete e.host;
      if (!ok) return;
      onTime?.(e.ts_ns as number);
      w.event(e);
    };
  } else if (onTime) {
    sink = {
      syscall(p: SyscallParts): boolean {
        onTime(p.ts_ns);
        return w.syscall(p);
      },
    };
    emit = (e) => {
      onTime(e.ts_ns as number);
      w.event(e);
    };
  }
  decoder.direct = sink;
  try {
    yield* eachChunk(t, opts, emit);
  } finally {
    decoder.direct = null;
  }
}
