// Tracer: a live recording as typed events, for programs. The same in-kernel filters and the
// same recording path as `exectrace record` (Linux, root); with `output`, the file is what
// `record -o` writes. Events go through a bounded queue between the drain and the consumer:
// a consumer slower than the kernel never makes memory grow — what the queue cannot hold is
// dropped and counted as lost, per type with its time window, exactly as the kernel's own
// losses are, and handed to the consumer as `lost` events (queue: true) when it catches up.

import {humanLine} from '../decode';
import {LiveDecoder} from '../decode/live';
import {toJson} from '../util/json';
import {HumanTime, type Zone} from '../util/time';
import type {FilterOptions} from '../record/filters';
import type {RecordSummary, TypeTotals} from '../record/recorder';
import {record, type RecordInput} from './record';
import type {EventType, LostEvent, TraceEvent} from './events';
import type {RotateOptions} from '../record/series';

export interface TracerOptions {
  /** Also write the recording here (mode 0600), as `record -o`; without it nothing goes to disk. */
  output?: string;
  force?: boolean;
  /** Write `output` as a series of files, as `record --rotate-size/--rotate-time/--max-files` (RecordOptions.rotate). */
  rotate?: RotateOptions;
  /** In-kernel filters, as record's flags (--pid, --follow, --pidns, --cgroup, --uid, --comm). */
  pid?: number[];
  follow?: boolean;
  pidNs?: string | number;
  cgroup?: string;
  /** A container id or a prefix of one (--container). */
  container?: string;
  uid?: (number | string)[];
  comm?: string[];
  /** Syscalls to record: 'all' or names; none by default (exec, fork, exit only). */
  syscalls?: 'all' | string[];
  /** Bytes kept of each buffer argument (--bytes). */
  bytes?: number;
  /**
   * With `output`: hash the file each exec ran into it (default true; --no-hash). Live
   * events have no `sha256`: the digest comes after the event.
   */
  hash?: boolean;
  /** Files larger than this are not hashed (--hash-max, default 256 MiB). */
  hashMaxBytes?: number;
  maxArgs?: number;
  maxArgBytes?: number;
  ringBytes?: number;
  /** Only these kinds reach the iterator (the file, if any, keeps everything recorded). */
  events?: EventType[];
  /** Events the queue holds before it drops (default 65,536). */
  queue?: number;
  /** A command to run and record, exactly as given; the recording ends when it exits. */
  command?: (string | Buffer)[];
  durationMs?: number;
  /** When the recording stops before the command: SIGTERM, then SIGKILL this long after (default 2000). */
  killAfterMs?: number;
  /** The file's chunking and compression (record's --chunk-size, --flush-interval, --level). */
  chunkBytes?: number;
  flushMs?: number;
  level?: number;
  /** Progress lines record would print (default: none); verbose adds the kernel's notes. */
  log?: (line: string) => void;
  verbose?: boolean;
  /** Another BPF object (development). */
  object?: string;
}

/** How `line` writes an event: decode's human line (in the local zone, or UTC) or its JSON. */
export interface LineOptions {
  json?: boolean;
  zone?: Zone;
}

/** Counts so far: the queue's own (delivered, dropped) per event type; after close, the recording's too. */
export interface TracerTotals {
  delivered: Record<string, number>;
  /** Dropped by the bounded queue (also handed out as `lost` events with queue: true). */
  dropped: Record<string, number>;
  /** The kernel's sent/recorded/lost/filtered per record type, once the recording has ended. */
  recording: Record<string, TypeTotals> | null;
}

interface Drop {
  count: number;
  firstNs: number;
  lastNs: number;
}

/** Drops with no event queued between them: their lost events go where they happened, at `at`. */
interface DropRun {
  /** The stream position (events queued before the run) the lost events take. */
  at: number;
  byType: Map<string, Drop>;
}

const DEFAULT_QUEUE = 65536;

export class Tracer implements AsyncIterable<TraceEvent> {
  /** The recording's metadata (as in its file): host, clocks, options, filters. */
  meta: Record<string, unknown> = {};
  /** Resolves with record's summary when the recording ends (close, the command's exit, a duration, a signal). */
  readonly done: Promise<RecordSummary>;
  private live: LiveDecoder | null = null;
  private readonly queue: TraceEvent[] = [];
  private head = 0;
  /** Events spliced off the queue's front: queue[i] is stream position shifted + i. */
  private shifted = 0;
  private readonly limit: number;
  private readonly runs: DropRun[] = [];
  private readonly pendingLost: LostEvent[] = [];
  private readonly delivered: Record<string, number> = {};
  private readonly dropped: Record<string, number> = {};
  private readonly wanted: Set<string> | null;
  private readonly abort = new AbortController();
  private summary: RecordSummary | null = null;
  private readonly times = new Map<Zone, HumanTime>();
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;

  private constructor(opts: TracerOptions, started: () => void, failed: (err: Error) => void) {
    this.limit = Math.max(1, opts.queue ?? DEFAULT_QUEUE);
    this.wanted = opts.events?.length ? new Set(opts.events) : null;
    const filters: FilterOptions = {
      pid: opts.pid, follow: opts.follow, cgroup: opts.cgroup, container: opts.container, comm: opts.comm,
      uid: opts.uid?.map(String), pidns: opts.pidNs === undefined ? undefined : String(opts.pidNs),
    };
    const input: RecordInput = {
      output: opts.output, force: opts.force, rotate: opts.rotate, command: opts.command, durationMs: opts.durationMs, killAfterMs: opts.killAfterMs,
      filters, syscalls: opts.syscalls, bytes: opts.bytes, hash: opts.hash, hashMaxBytes: opts.hashMaxBytes, log: opts.log, verbose: opts.verbose, object: opts.object,
      signal: this.abort.signal, maxArgs: opts.maxArgs, maxArgBytes: opts.maxArgBytes, ringBytes: opts.ringBytes,
      chunkBytes: opts.chunkBytes, flushMs: opts.flushMs, level: opts.level,
      onStart: (meta) => {
        this.meta = meta;
        this.live = new LiveDecoder(meta, this.take);
        started();
      },
      onBatch: (frames) => this.live?.feed(frames),
    };
    this.done = record(input).then(
      (s) => {
        this.live?.end();
        this.summary = s;
        this.finish(null);
        return s;
      },
      (err: Error) => {
        this.finish(err);
        failed(err);
        throw err;
      },
    );
    // A failure after open is the iterator's (and done's) to report; do not leave it unhandled.
    this.done.catch(() => {});
  }

  /**
   * Loads the programs and starts recording; resolves once events flow (the BPF programs
   * are attached). Fails with one line where root, BTF or the addon are missing.
   */
  static open(opts: TracerOptions = {}): Promise<Tracer> {
    return new Promise((resolve, reject) => {
      // record() may call onStart before the constructor returns: resolve after it has.
      const t: Tracer = new Tracer(opts, () => void Promise.resolve().then(() => resolve(t)), reject);
    });
  }

  /** Events in stream order until the recording ends. Breaking out of the loop does not close the tracer. */
  async *[Symbol.asyncIterator](): AsyncIterator<TraceEvent> {
    for (;;) {
      const batch = await this.nextBatch(1);
      if (!batch) return;
      yield batch[0];
    }
  }

  /**
   * The same events, as arrays of what has arrived (up to `max` at a time): one await per
   * batch instead of one per event, for a consumer that keeps up with a busy system.
   */
  async *batches(max = 4096): AsyncIterable<TraceEvent[]> {
    for (;;) {
      const batch = await this.nextBatch(max);
      if (!batch) return;
      yield batch;
    }
  }

  /** Up to max events in stream order (lost events in place), waiting for one; null at the end. */
  private async nextBatch(max: number): Promise<TraceEvent[] | null> {
    for (;;) {
      const out: TraceEvent[] = [];
      while (out.length < max) {
        const lost = this.lostEvent();
        if (lost) {
          out.push(lost);
          continue;
        }
        if (this.head >= this.queue.length) break;
        const e = this.queue[this.head++];
        this.delivered[e.type] = (this.delivered[e.type] ?? 0) + 1;
        out.push(e);
      }
      if (this.head > 4096 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.shifted += this.head;
        this.head = 0;
      }
      if (out.length) return out;
      if (this.ended) {
        if (this.failure) throw this.failure;
        return null;
      }
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  /** Events waiting in the queue (lost events of drops not counted). */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** An event as decode writes it: a human line, or (json) its NDJSON line, without the newline. */
  line(e: TraceEvent, opts: LineOptions = {}): string {
    const d = this.live?.decoder;
    if (!d) throw new Error('tracer: no event yet');
    if (opts.json) return toJson(e as never);
    const zone = opts.zone ?? 'local';
    let times = this.times.get(zone);
    if (!times) this.times.set(zone, (times = new HumanTime(d.clock, zone)));
    return humanLine(e as never, d.clock, d, times);
  }

  totals(): TracerTotals {
    return {delivered: {...this.delivered}, dropped: {...this.dropped}, recording: this.summary?.totals ?? null};
  }

  /**
   * Stops the recording (detach, drain, in-flight calls, the file's trailer) and frees every
   * BPF program, map and link; resolves with the summary, whose end reason is `reason`.
   * Idempotent. Events still queued can be read after it.
   */
  async close(reason = 'closed'): Promise<RecordSummary> {
    if (!this.ended) this.abort.abort(reason);
    return this.done;
  }

  private readonly take = (e: unknown): void => {
    const ev = e as TraceEvent;
    if (this.wanted && !this.wanted.has(ev.type)) return;
    if (this.queue.length - this.head >= this.limit) {
      const ns = Number(ev.ts_ns);
      const at = this.shifted + this.queue.length;
      let run = this.runs[this.runs.length - 1];
      if (!run || run.at !== at) this.runs.push((run = {at, byType: new Map()}));
      const d = run.byType.get(ev.type);
      if (d) {
        d.count++;
        d.lastNs = ns;
      } else {
        run.byType.set(ev.type, {count: 1, firstNs: ns, lastNs: ns});
      }
      this.dropped[ev.type] = (this.dropped[ev.type] ?? 0) + 1;
      this.signal();
      return;
    }
    this.queue.push(ev);
    this.signal();
  };

  /**
   * The next lost event, when the consumer has reached the place of a run of drops: after
   * every event queued before it, before any queued after it (one per type dropped).
   */
  private lostEvent(): LostEvent | null {
    if (this.pendingLost.length) return this.pendingLost.shift() as LostEvent;
    const run = this.runs[0];
    if (!run || !this.live || run.at > this.shifted + this.head) return null;
    this.runs.shift();
    const clock = this.live.decoder.clock;
    for (const [type, d] of run.byType) {
      this.pendingLost.push({
        type: 'lost', time: clock.rfc3339(d.lastNs), ts_ns: d.lastNs, cpu: -1, event: type, nr: 0, count: d.count,
        window_start: clock.rfc3339(d.firstNs), window_end: clock.rfc3339(d.lastNs), window_start_ns: d.firstNs, window_end_ns: d.lastNs,
        queue: true,
      });
    }
    return this.pendingLost.shift() ?? null;
  }

  private finish(err: Error | null): void {
    this.ended = true;
    this.failure = err;
    this.signal();
  }

  private signal(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
