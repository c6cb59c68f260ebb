// The native addon (build/Release/exectrace_native.node) behind a typed API.
//
// The addon does native work with native types only: it loads one BPF object,
// attaches its programs and drains the `events` ring buffer from a thread of
// its own, handing batches of raw frames to JS. This wrapper owns the public
// API and validates every argument before it crosses (openTracer, start), so
// the addon's own checks only keep a wrong call from crashing the process.
//
// Linux-only: the offline side (format, decode, stats) must not import this.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** Options of {@link openTracer}. */
export interface TracerOptions {
  /** Path to the compiled BPF object (bpf/exectrace.bpf.o). */
  object: string;
  /** The whole .rodata image to load instead of the object's defaults; its length must equal the object's. */
  rodata?: Buffer;
  /** Size of the `events` ring buffer in bytes: a power of two, at least the page size. Default: the object's. */
  ringBytes?: number;
  /**
   * Programs (by name, e.g. 'sys_enter') not to load at all: their autoload is
   * turned off before load, so they cost nothing and attach() skips them. A
   * name the object does not have is an error that lists the ones it has.
   */
  disable?: string[];
  /** max_entries of named maps, set before load (e.g. shrink `pids` when no --pid is given). Not for `events`: see ringBytes. */
  maxEntries?: Record<string, number>;
}

/** What {@link NativeTracer.mapDump} returns: `count` entries, keys and values each packed back to back. */
export interface MapDump {
  keys: Buffer;
  values: Buffer;
  count: number;
  /** The map's key size: entry i's key is keys[i*keySize, (i+1)*keySize). */
  keySize: number;
  /** The map's value size: entry i's value is values[i*valueSize, (i+1)*valueSize). */
  valueSize: number;
}

/** Where every record's header keeps its type and timestamp (from the object's BTF). */
export interface HeaderLayout {
  /** Bytes of the header: shorter frames are not summarized. */
  size: number;
  typeOffset: number;
  typeSize: 2 | 4;
  /** A u64. */
  tsOffset: number;
  /** A u32, the thread-group id: needed by openExeType. */
  pidOffset?: number;
  /** Count frames per type id below this (at most {@link SUMMARY_TYPES}). */
  types: number;
}

/** How the drain thread batches records, for {@link NativeTracer.start}. */
export interface DrainOptions {
  /** Hand a batch over once it holds at least this many bytes. */
  batchBytes: number;
  /** Or once this many milliseconds have passed since the last hand-over (if the batch is not empty). */
  flushMs: number;
  /** Summarize every batch in the drain thread, as it copies the records (see {@link BatchSummary}). */
  header?: HeaderLayout;
  /**
   * Build batches in this many reused buffers instead of handing each batch's memory to
   * JS: a batch is then valid only until the handler returns (copy what you keep). Spares
   * V8 a full GC every few dozen MiB of records. 0 (the default): every Buffer is the
   * handler's to keep.
   */
  pool?: number;
  /**
   * Records of this type id (exec records) get /proc/PID/exe opened by the drain thread as
   * it copies them, and the handler gets those descriptors (see {@link ExeDescriptors}).
   * Needs `header` with `pidOffset`.
   */
  openExeType?: number;
  /**
   * With openExeType: an exec record with a bit of `mask` in the u32 at `offset` (et_exec's
   * exec_flags, ET_EXEC_KNOWN) gets -EEXIST instead of a descriptor: its file is hashed already.
   */
  openExeSkip?: {offset: number; mask: number};
}

/**
 * With {@link DrainOptions.openExeType}: for each record of that type in the batch, the
 * byte offset of its frame and the descriptor of /proc/PID/exe opened as the drain copied
 * it, or -errno when that failed (-EMFILE: the batch had too many). The handler owns the
 * descriptors and must close every one.
 */
export type ExeDescriptors = Int32Array;

/** Type ids {@link HeaderLayout.types} may cover. */
export const SUMMARY_TYPES = 64;
/** Bytes a pool buffer holds beyond batchBytes: a larger record moves its batch to memory of its own. */
const POOL_SLACK = 256 << 10;
const MAX_POOL = 64;

/**
 * What the drain saw in one batch, read while it copied the records. The arrays are
 * overwritten before every call: read them inside the handler.
 */
export interface BatchSummary {
  /** [smallest, largest] timestamp of the frames with a whole header; [0, 0] if none. */
  readonly ts: BigUint64Array;
  /** [frames, frames with a whole header, `other` frames]: those with a type id >= types or shorter than a header. */
  readonly frames: Uint32Array;
  /** Frames per type id, for ids below {@link HeaderLayout.types}. */
  readonly counts: Uint32Array;
}

/**
 * A batch is a concatenation of frames `[u32 LE length][record bytes]`, one per
 * ring-buffer record, exactly as the kernel wrote them. Without a pool the Buffer
 * is the callee's to keep: the addon hands its memory over and never touches it
 * again. With a header, `summary` describes the batch. A throw from the handler
 * is an uncaught exception, as for any callback.
 */
export type BatchHandler = (batch: Buffer, summary?: BatchSummary, exe?: ExeDescriptors) => void;

/**
 * How the addon itself calls back: a malloc'd batch is `batch` (slot -1); a pooled one
 * is null, and the first `size` bytes of pool[slot], until the call returns.
 */
export type AddonBatchHandler = (batch: Buffer | null, slot: number, size: number, exe?: ExeDescriptors) => void;

/** The addon's own tracer: {@link NativeTracer} but for start(). */
export interface AddonTracer extends Omit<NativeTracer, 'start'> {
  start(onBatch: AddonBatchHandler, options: {
    batchBytes: number; flushMs: number; header?: HeaderLayout; summary?: Buffer; pool?: Buffer[]; openExeType?: number;
    openExeSkip?: {offset: number; mask: number};
  }): void;
}

/** One loaded BPF object. Use it from the thread that created it. */
export interface NativeTracer {
  /** libbpf_num_possible_cpus(): how many values a per-CPU map holds per key. */
  readonly nrCpus: number;
  /** Attaches every program from its SEC(); on failure detaches them again and throws naming the program. */
  attach(): void;
  /**
   * Detaches every program, keeping the maps and the ring: once it returns no record is
   * sent any more, so a stop() after it drains everything the counters count as sent.
   */
  detach(): void;
  /** Starts the drain thread. Throws if already running (a finished stop() allows a new start). */
  start(onBatch: BatchHandler, options: DrainOptions): void;
  /** Final drain, the last batch delivered to onBatch, thread joined; then resolves. Resolves at once if not started. */
  stop(): Promise<void>;
  /**
   * Raw values of a per-CPU array (default `counters`; also `sys_counters`): for
   * each key 0..max_entries-1, for each cpu 0..nrCpus-1, one value of the map's
   * value size (struct et_counter: u64 sent, lost, filtered = 24 bytes). The
   * kernel pads each value to 8 bytes; the padding is not copied.
   */
  counters(mapName?: string): Buffer;
  /**
   * Writes one entry (create or replace) of a hash or array map, after load,
   * before or after attach. key and value must be exactly the map's key and
   * value sizes; errors name the map.
   */
  mapUpdate(mapName: string, key: Buffer, value: Buffer): void;
  /** Deletes one entry of a hash map; false when it had no such key. key must be exactly the map's key size. */
  mapDelete(mapName: string, key: Buffer): boolean;
  /**
   * Every entry of a hash or array map (not per-CPU). Programs may change the
   * map during the walk: what is returned is each entry as read, no key twice.
   */
  mapDump(mapName: string): MapDump;
  /**
   * The values a task-storage map holds for the threads `tids` (e.g. `sys_stash` at
   * stop, to find the calls still in progress), each looked up through a pidfd of the
   * thread: such a map has no keys to walk. Keys are the u32 tids that have a value;
   * threads without one, or gone, are left out. Thread pidfds need Linux 6.9; before
   * that only thread-group leaders are found.
   */
  taskStorage(mapName: string, tids: Uint32Array): MapDump;
  /** Runs the iterator program `name` (SEC("iter/…")) once: the bytes it wrote. attach() leaves it alone. */
  runIter(name: string): Buffer;
  /**
   * Destroys links, then the object. Idempotent. Never waits on JS: a running
   * drain is stopped at once and batches not yet delivered are dropped (await
   * stop() first to keep them). Also runs when the Node environment exits.
   */
  close(): void;
}

/**
 * The clocks needed to place bpf_ktime_get_boot_ns() timestamps in wall-clock
 * time, read at one instant: realtime_ns is the midpoint of the tightest of a
 * few realtime/boot/realtime windows, uncertainty_ns that window's width.
 */
export interface Clocks {
  boot_ns: bigint;
  realtime_ns: bigint;
  monotonic_ns: bigint;
  uncertainty_ns: bigint;
}

/** What the addon exports. */
export interface NativeBinding {
  /** Prefer {@link openTracer}, which validates the options first. */
  Tracer: new (options: TracerOptions) => AddonTracer;
  /** CLOCK_BOOTTIME, CLOCK_REALTIME and CLOCK_MONOTONIC, now. */
  clocks(): Clocks;
  /**
   * waitForPrograms returns once every BPF program that was running anywhere when it was called has
   * returned (an RCU grace period, through membarrier(MEMBARRIER_CMD_GLOBAL): a few ms, on
   * the calling thread); false when the kernel refuses it (no CONFIG_MEMBARRIER, nohz_full).
   */
  waitForPrograms(): boolean;
  /** sysconf(_SC_PAGESIZE). */
  pageSize: number;
  /** libbpf_version_string(), e.g. "v1.1". */
  libbpfVersion: string;
  /**
   * posix_spawn(file, argv) with the bytes given, every signal at its default, an empty
   * signal mask, this process's environment and stdio; the child's pid. Throws an Error
   * with `errno` when the program cannot be run.
   */
  spawn(file: Buffer, argv: Buffer[]): number;
  /** waitpid(pid) on a worker thread: code for a normal exit, else signal (its number) and core. */
  wait(pid: number): Promise<ChildStatus>;
  /** A write lock on the whole file (fcntl F_SETLK): 0 when taken, else the holder's pid (-1 if unknown). */
  lockFile(fd: number): number;
  /** Whether fd is a pipe or socket whose reader has gone away (poll: POLLERR or POLLHUP). */
  readerGone(fd: number): boolean;
}

/** How a child ended, as waitpid tells it. */
export interface ChildStatus {
  code: number | null;
  signal: number | null;
  core: boolean;
}

const ADDON = path.join('build', 'Release', 'exectrace_native.node');

/** The directory holding exectrace's package.json; works from src/ and from dist/src/. */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {name?: unknown};
      if (pkg.name === 'exectrace') return dir;
    } catch {
      // no readable package.json here: keep climbing
    }
    if (path.dirname(dir) === dir) throw new Error(`exectrace package root not found above ${from}`);
  }
}

/** Where the addon is built: build/Release/exectrace_native.node in the package root. */
export function addonPath(): string {
  return path.join(packageRoot(), ADDON);
}

const loaded = new Map<string, NativeBinding>();

/** Loads the addon; a one-line error naming the file and the fix when it has not been built. */
export function loadNative(file: string = addonPath()): NativeBinding {
  const cached = loaded.get(file);
  if (cached) return cached;
  if (!fs.existsSync(file)) {
    const root = path.dirname(path.dirname(path.dirname(file)));
    // A checkout builds with make; an installed package built (or not) at npm install.
    const how = fs.existsSync(path.join(root, 'Makefile'))
      ? `run \`make build\` in ${root}`
      : 'install libbpf-dev and pkg-config (apt-get install libbpf-dev pkg-config), then run `npm rebuild -g exectrace`';
    throw new Error(`the native addon that record needs is not built (${file} is missing): ${how}`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const binding = require(file) as NativeBinding;
  loaded.set(file, binding);
  return binding;
}

function isPositiveInteger(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= max;
}

const MAX_RING_BYTES = 2 ** 31; // the largest power of two a u32 max_entries holds
const MAX_BATCH_BYTES = 2 ** 30;
const MAX_FLUSH_MS = 2 ** 31 - 1;
const MAX_MAP_ENTRIES = 2 ** 32 - 1;

function checkMapName(what: string, mapName: unknown): void {
  if (typeof mapName !== 'string' || mapName === '') throw new TypeError(`${what}: mapName must be a map name`);
}

/** Throws a TypeError for tracer options the addon or the kernel would refuse. */
export function checkTracerOptions(options: TracerOptions, pageSize: number): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('tracer options: expected an object');
  if (typeof options.object !== 'string' || options.object === '') {
    throw new TypeError('tracer options: object must be the path of a .bpf.o file');
  }
  if (options.rodata !== undefined && !Buffer.isBuffer(options.rodata)) {
    throw new TypeError('tracer options: rodata must be a Buffer holding the whole .rodata image');
  }
  if (options.disable !== undefined) {
    if (!Array.isArray(options.disable) || !options.disable.every((n) => typeof n === 'string' && n !== '')) {
      throw new TypeError('tracer options: disable must be an array of program names');
    }
  }
  if (options.maxEntries !== undefined) {
    const m = options.maxEntries;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      throw new TypeError('tracer options: maxEntries must be an object { mapName: entries }');
    }
    for (const [name, entries] of Object.entries(m)) {
      if (name === 'events') throw new TypeError('tracer options: maxEntries cannot resize events; use ringBytes');
      if (!isPositiveInteger(entries, MAX_MAP_ENTRIES)) {
        throw new TypeError(`tracer options: maxEntries.${name} ${String(entries)} must be an integer from 1 to ${MAX_MAP_ENTRIES}`);
      }
    }
  }
  const ring = options.ringBytes;
  if (ring !== undefined && (!isPositiveInteger(ring, MAX_RING_BYTES) || !Number.isInteger(Math.log2(ring)) || ring < pageSize)) {
    throw new TypeError(
      `tracer options: ringBytes ${String(ring)} must be a power of two from the page size (${pageSize}) to ${MAX_RING_BYTES}`,
    );
  }
}

/** Throws a TypeError for start() arguments the addon would refuse. */
export function checkDrainOptions(onBatch: unknown, options: DrainOptions): void {
  if (typeof onBatch !== 'function') throw new TypeError('start: onBatch must be a function');
  if (typeof options !== 'object' || options === null) throw new TypeError('start: expected options { batchBytes, flushMs }');
  if (!isPositiveInteger(options.batchBytes, MAX_BATCH_BYTES)) {
    throw new TypeError(`start: batchBytes ${String(options.batchBytes)} must be an integer from 1 to ${MAX_BATCH_BYTES}`);
  }
  if (!isPositiveInteger(options.flushMs, MAX_FLUSH_MS)) {
    throw new TypeError(`start: flushMs ${String(options.flushMs)} must be an integer from 1 to ${MAX_FLUSH_MS}`);
  }
  if (options.pool !== undefined && options.pool !== 0 && !isPositiveInteger(options.pool, MAX_POOL)) {
    throw new TypeError(`start: pool ${String(options.pool)} must be an integer from 0 to ${MAX_POOL}`);
  }
  const h = options.header;
  if (h !== undefined) {
    const ok = typeof h === 'object' && h !== null && isPositiveInteger(h.size, 1 << 16) && h.size >= 8 &&
      (h.typeSize === 2 || h.typeSize === 4) && Number.isSafeInteger(h.typeOffset) && h.typeOffset >= 0 &&
      h.typeOffset + h.typeSize <= h.size && Number.isSafeInteger(h.tsOffset) && h.tsOffset >= 0 && h.tsOffset + 8 <= h.size &&
      isPositiveInteger(h.types, SUMMARY_TYPES);
    if (!ok) {
      throw new TypeError(`start: header must be { size, typeOffset, typeSize: 2 | 4, tsOffset, types: 1..${SUMMARY_TYPES} } with both fields inside the header`);
    }
    if (h.pidOffset !== undefined && !(Number.isSafeInteger(h.pidOffset) && h.pidOffset >= 0 && h.pidOffset + 4 <= h.size)) {
      throw new TypeError('start: header.pidOffset must be inside the header');
    }
  }
  if (options.openExeType !== undefined) {
    if (!h || h.pidOffset === undefined || !isPositiveInteger(options.openExeType, h.types - 1)) {
      throw new TypeError('start: openExeType needs a header with pidOffset, and a type id below header.types');
    }
  }
  const k = options.openExeSkip;
  if (k !== undefined && !(options.openExeType !== undefined && Number.isSafeInteger(k.offset) && k.offset >= 0 &&
    k.offset <= 1 << 16 && isPositiveInteger(k.mask, 0xffffffff))) {
    throw new TypeError('start: openExeSkip must be { offset, mask: 1..2^32-1 }, with openExeType');
  }
}

/** The addon's tracer with its start() arguments checked and one stop() in flight at a time. */
class CheckedTracer implements NativeTracer {
  readonly #native: AddonTracer;
  #stopping: Promise<void> | undefined;

  constructor(native: AddonTracer) {
    this.#native = native;
  }

  get nrCpus(): number {
    return this.#native.nrCpus;
  }

  detach(): void {
    this.#native.detach();
  }

  attach(): void {
    this.#native.attach();
  }

  start(onBatch: BatchHandler, options: DrainOptions): void {
    checkDrainOptions(onBatch, options);
    if (this.#stopping) throw new Error('start: stop() has not finished; await it first');
    const pool: Buffer[] = [];
    for (let i = 0; i < (options.pool ?? 0); i++) pool.push(Buffer.allocUnsafeSlow(options.batchBytes + POOL_SLACK));
    let summary: BatchSummary | undefined;
    let summaryBytes: Buffer | undefined;
    if (options.header) {
      // Its own ArrayBuffer (allocUnsafeSlow), so the u64 view is aligned.
      summaryBytes = Buffer.allocUnsafeSlow(32 + 4 * SUMMARY_TYPES);
      const ab = summaryBytes.buffer;
      summary = {
        ts: new BigUint64Array(ab, summaryBytes.byteOffset, 2),
        frames: new Uint32Array(ab, summaryBytes.byteOffset + 16, 3),
        counts: new Uint32Array(ab, summaryBytes.byteOffset + 32, options.header.types),
      };
    }
    const handler: AddonBatchHandler = (batch, slot, size, exe) => onBatch(batch ?? pool[slot].subarray(0, size), summary, exe);
    this.#native.start(handler, {
      batchBytes: options.batchBytes,
      flushMs: options.flushMs,
      ...(options.header && {header: {...options.header}, summary: summaryBytes}),
      ...(pool.length && {pool}),
      ...(options.openExeType !== undefined && {openExeType: options.openExeType}),
      ...(options.openExeSkip !== undefined && {openExeSkip: {...options.openExeSkip}}),
    });
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#native.stop().finally(() => {
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  counters(mapName = 'counters'): Buffer {
    checkMapName('counters', mapName);
    return this.#native.counters(mapName);
  }

  mapUpdate(mapName: string, key: Buffer, value: Buffer): void {
    checkMapName('mapUpdate', mapName);
    if (!Buffer.isBuffer(key)) throw new TypeError(`mapUpdate ${mapName}: key must be a Buffer`);
    if (!Buffer.isBuffer(value)) throw new TypeError(`mapUpdate ${mapName}: value must be a Buffer`);
    this.#native.mapUpdate(mapName, key, value);
  }

  mapDelete(mapName: string, key: Buffer): boolean {
    checkMapName('mapDelete', mapName);
    if (!Buffer.isBuffer(key)) throw new TypeError(`mapDelete ${mapName}: key must be a Buffer`);
    return this.#native.mapDelete(mapName, key);
  }

  mapDump(mapName: string): MapDump {
    checkMapName('mapDump', mapName);
    return this.#native.mapDump(mapName);
  }

  taskStorage(mapName: string, tids: Uint32Array): MapDump {
    checkMapName('taskStorage', mapName);
    if (!(tids instanceof Uint32Array)) throw new TypeError(`taskStorage ${mapName}: tids must be a Uint32Array`);
    return this.#native.taskStorage(mapName, tids);
  }

  runIter(name: string): Buffer {
    if (typeof name !== 'string' || name === '') throw new TypeError('runIter: expected a program name');
    return this.#native.runIter(name);
  }

  close(): void {
    this.#native.close();
  }
}

/**
 * Opens, configures and loads the BPF object (programs not yet attached).
 * Throws a TypeError for bad options, and an Error with libbpf's reason (and
 * the tail of the verifier log) when the object or the kernel refuses.
 */
export function openTracer(options: TracerOptions, binding: NativeBinding = loadNative()): NativeTracer {
  checkTracerOptions(options, binding.pageSize);
  const native = new binding.Tracer({
    object: options.object,
    ...(options.rodata !== undefined && {rodata: options.rodata}),
    ...(options.ringBytes !== undefined && {ringBytes: options.ringBytes}),
    ...(options.disable !== undefined && {disable: [...options.disable]}),
    ...(options.maxEntries !== undefined && {maxEntries: {...options.maxEntries}}),
  });
  return new CheckedTracer(native);
}
