// `record`: load the BPF object, attach, and copy raw ring-buffer records into a trace file
// in large zstd chunks. The hot path never builds an object per event: batches arrive from
// the addon's drain thread as whole buffers of frames, are scanned once (type and
// timestamp, read through the layouts taken from the object's BTF) and queued for the next
// chunk. Lost-event counters are polled on the flush timer and turned into `lost` records
// at the point in the stream where the loss was seen.

import * as fs from 'node:fs';
import * as path from 'node:path';
import {spawn, ChildProcess} from 'node:child_process';
import {btfFromElf, recordLayouts, rodataImage, rodataDefaults, RecordLayout} from '../btf';
import {TraceWriter} from '../format';
import {loadNative, NativeTracer, openTracer, packageRoot} from './native';
import {cgroupPaths, hostInfo, snapshotProcesses} from './procfs';
import {checkBtf, checkRoot, ensureTracefs, UserError} from './preflight';
import {RECORD_TYPES, STRUCTS, TRUNCATED_FLAG, LOST_TYPE_ID, layoutsByStruct} from './types';

export const PACKAGE_ROOT = packageRoot();
export const DEFAULT_OBJECT = path.join(PACKAGE_ROOT, 'bpf', 'exectrace.bpf.o');
const FORMAT_VERSION = '1.0';

export interface RecordOptions {
  /** The trace file; without it nothing is written (live mode only). */
  output?: string;
  force?: boolean;
  command?: string[];
  durationMs?: number;
  maxArgs: number;
  maxArgBytes: number;
  ringBytes: number;
  chunkBytes: number;
  flushMs: number;
  level: number;
  object?: string;
  /** Where progress lines go (stderr in the CLI). */
  log?: (line: string) => void;
  /** Live mode: the file's metadata once known, then every batch of frames as it arrives. */
  onStart?: (meta: Record<string, unknown>) => void;
  onBatch?: (frames: Buffer) => void;
}

export interface TypeTotals {
  sent: number;
  lost: number;
  recorded: number;
}

export interface RecordSummary {
  output: string | null;
  durationNs: number;
  bytes: number;
  chunks: number;
  records: number;
  totals: Record<string, TypeTotals>;
  endReason: string;
  childExit?: {code: number | null; signal: string | null};
}

function version(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

interface FieldPos {
  offset: number;
  size: number;
}

function pos(l: RecordLayout, name: string): FieldPos {
  const f = l.fields.find((x) => x.name === name);
  if (!f) throw new Error(`bpf object: ${l.name} has no field ${name}`);
  return {offset: f.offset, size: f.size};
}

function writeUint(b: Buffer, at: FieldPos, v: number | bigint): void {
  switch (at.size) {
    case 2: b.writeUInt16LE(Number(v), at.offset); break;
    case 4: b.writeUInt32LE(Number(v), at.offset); break;
    case 8: b.writeBigUInt64LE(BigInt(v), at.offset); break;
    default: throw new Error(`write field: unsupported size ${at.size}`);
  }
}

/**
 * Finds a command on PATH before it runs, as a shell would: otherwise the spawn's own
 * execvp walk would leave one failed exec per PATH entry in the recording.
 */
export function resolveCommand(name: string): string {
  if (name.includes('/')) return name;
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = path.join(dir || '.', name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  throw new UserError(`command not found: ${name}`);
}

export async function record(opts: RecordOptions): Promise<RecordSummary> {
  const log = opts.log ?? (() => {});
  checkRoot();
  checkBtf();
  ensureTracefs();
  if (opts.output !== undefined) {
    const outDir = path.dirname(path.resolve(opts.output));
    try {
      fs.accessSync(outDir, fs.constants.W_OK);
    } catch {
      throw new UserError(`output directory ${outDir} is not writable (or does not exist)`);
    }
    if (!opts.force && fs.existsSync(opts.output)) {
      throw new UserError(`output file ${opts.output} exists (use --force to overwrite)`);
    }
  }

  const objectPath = opts.object ?? DEFAULT_OBJECT;
  const objBytes = fs.readFileSync(objectPath);
  const btf = btfFromElf(objBytes);
  const layouts = layoutsByStruct(recordLayouts(btf, STRUCTS));
  const rodataValues = {max_args: opts.maxArgs, max_arg_bytes: opts.maxArgBytes};
  const rodata = rodataImage(objBytes, rodataValues);
  const effective = {...rodataDefaults(objBytes), ...rodataValues};

  const header = layouts.et_header;
  const typeAt = pos(header, 'type');
  const tsAt = pos(header, 'ts_ns');
  const lostL = layouts.et_lost;
  const counterL = layouts.et_counter;
  const sentAt = pos(counterL, 'sent');
  const lostAt = pos(counterL, 'lost');
  const names = new Map(RECORD_TYPES.map((t) => [t.id, t.event]));
  const recorded = new Map<number, number>();

  const native = loadNative();
  const host = hostInfo(native.pageSize);
  const command = opts.command && opts.command.length ? [resolveCommand(opts.command[0]), ...opts.command.slice(1)] : undefined;
  const cgroups = cgroupPaths();
  const clockStart = native.clocks();
  const tracer: NativeTracer = openTracer({object: objectPath, rodata, ringBytes: opts.ringBytes}, native);
  const nrCpus = tracer.nrCpus;
  let writer: TraceWriter | undefined;
  let child: ChildProcess | undefined;
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  let pendingRecords = 0;
  let firstTs = 0;
  let lastTs = 0;
  let totalRecords = 0;
  let prevLost = new Float64Array(0);
  let prevPollNs = Number(clockStart.boot_ns);
  let writeError: Error | undefined;

  const onBatch = (batch: Buffer): void => {
    // One pass over the frames: count per type and keep the time span of the chunk.
    let p = 0;
    const n = batch.length;
    while (p + 4 <= n) {
      const len = batch.readUInt32LE(p);
      const o = p + 4;
      if (o + len > n) break; // the addon never splits a frame; stop rather than misread
      if (len >= header.size) {
        const t = typeAt.size === 2 ? batch.readUInt16LE(o + typeAt.offset) : batch.readUInt32LE(o + typeAt.offset);
        recorded.set(t, (recorded.get(t) ?? 0) + 1);
        const lo = batch.readUInt32LE(o + tsAt.offset);
        const hi = batch.readUInt32LE(o + tsAt.offset + 4);
        const ts = hi * 4294967296 + lo;
        if (pendingRecords === 0 || ts < firstTs) firstTs = ts;
        if (ts > lastTs) lastTs = ts;
      }
      pendingRecords++;
      p = o + len;
    }
    if (opts.onBatch) opts.onBatch(batch);
    if (!writer) return;
    pending.push(batch);
    pendingBytes += n;
    if (pendingBytes >= opts.chunkBytes) flush();
  };

  const flush = (): void => {
    if (!writer || pendingRecords === 0 || writeError) return;
    const data = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
    try {
      writer.writeChunk(data, {records: pendingRecords, firstTs, lastTs});
    } catch (err) {
      writeError = err as Error;
      stop(`write error: ${(err as Error).message}`);
    }
    totalRecords += pendingRecords;
    pending.length = 0;
    pendingBytes = 0;
    pendingRecords = 0;
    firstTs = 0;
    lastTs = 0;
  };

  /** Reads the per-CPU counters; appends a `lost` record for every counter that grew. */
  const pollCounters = (): {sent: number[]; lost: number[]} => {
    const raw = tracer.counters();
    const keys = raw.length / (nrCpus * 16);
    const sent = new Array<number>(keys).fill(0);
    const lost = new Array<number>(keys).fill(0);
    if (prevLost.length !== keys * nrCpus) prevLost = new Float64Array(keys * nrCpus);
    const now = Number(native.clocks().boot_ns);
    for (let k = 0; k < keys; k++) {
      for (let c = 0; c < nrCpus; c++) {
        const o = (k * nrCpus + c) * 16;
        const s = Number(raw.readBigUInt64LE(o + sentAt.offset));
        const l = Number(raw.readBigUInt64LE(o + lostAt.offset));
        sent[k] += s;
        lost[k] += l;
        const delta = l - prevLost[k * nrCpus + c];
        if (delta > 0) {
          prevLost[k * nrCpus + c] = l;
          const rec = Buffer.alloc(lostL.size);
          writeUint(rec, pos(lostL, 'hdr.type'), LOST_TYPE_ID);
          writeUint(rec, pos(lostL, 'hdr.size'), lostL.size);
          writeUint(rec, pos(lostL, 'hdr.ts_ns'), BigInt(now));
          writeUint(rec, pos(lostL, 'hdr.cpu'), c);
          writeUint(rec, pos(lostL, 'event_type'), k);
          writeUint(rec, pos(lostL, 'count'), BigInt(delta));
          writeUint(rec, pos(lostL, 'window_start_ns'), BigInt(prevPollNs));
          writeUint(rec, pos(lostL, 'window_end_ns'), BigInt(now));
          const frame = Buffer.alloc(4);
          frame.writeUInt32LE(rec.length);
          onBatch(Buffer.concat([frame, rec]));
        }
      }
    }
    prevPollNs = now;
    return {sent, lost};
  };

  let stopping: string | undefined;
  let wake: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (wake = resolve));
  const stop = (reason: string): void => {
    if (stopping) return;
    stopping = reason;
    wake();
  };
  const onSignal = (sig: NodeJS.Signals) => stop(`signal ${sig}`);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  let timer: NodeJS.Timeout | undefined;
  let durationTimer: NodeJS.Timeout | undefined;
  let childExit: RecordSummary['childExit'];
  let endCounters: {sent: number[]; lost: number[]} | undefined;

  try {
    for (const s of signals) process.on(s, onSignal);
    tracer.attach();
    tracer.start(onBatch, {batchBytes: Math.min(opts.chunkBytes, 1 << 20), flushMs: Math.min(opts.flushMs, 100)});
    // The snapshot is taken after attach: a process started in between shows up twice
    // (snapshot and exec), never not at all.
    const processes = snapshotProcesses(host.clk_tck);
    const meta = {
      exectrace: version(),
      format: FORMAT_VERSION,
      created: new Date().toISOString(),
      host: {...host, nr_cpus: nrCpus},
      clock: {start: clockStart},
      options: {
        ...effective,
        ring_bytes: opts.ringBytes,
        chunk_bytes: opts.chunkBytes,
        flush_ms: opts.flushMs,
        zstd_level: opts.level,
        command: opts.command ?? null,
        duration_ms: opts.durationMs ?? null,
        object: path.basename(objectPath),
        object_sha256: require('node:crypto').createHash('sha256').update(objBytes).digest('hex'),
      },
      flags: {truncated: TRUNCATED_FLAG},
      record_header: header,
      record_types: RECORD_TYPES.map((t) => ({...t, layout: layouts[t.struct]})),
      counters: {struct: counterL, types: Object.fromEntries(RECORD_TYPES.map((t) => [t.id, t.event]))},
      cgroups,
      processes,
    };
    opts.onStart?.(meta);
    if (opts.output !== undefined) {
      writer = TraceWriter.create(opts.output, meta, {force: opts.force, level: opts.level});
      log(`recording to ${opts.output} (${processes.length} processes alive at start)`);
    } else {
      log(`recording (live, no file; ${processes.length} processes alive at start)`);
    }

    timer = setInterval(() => {
      pollCounters();
      flush();
    }, opts.flushMs);
    if (opts.durationMs !== undefined) durationTimer = setTimeout(() => stop('duration reached'), opts.durationMs);
    if (command) {
      child = spawn(command[0], command.slice(1), {stdio: 'inherit', argv0: opts.command![0]});
      child.on('error', (err) => {
        childExit = {code: 127, signal: null};
        log(`cannot run ${opts.command![0]}: ${err.message}`);
        stop('command failed to start');
      });
      child.on('exit', (code, signal) => {
        childExit = {code, signal};
        stop('command exited');
      });
    }
    await stopped;
  } finally {
    if (timer) clearInterval(timer);
    if (durationTimer) clearTimeout(durationTimer);
    for (const s of signals) process.off(s, onSignal);
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    try {
      await tracer.stop();
      endCounters = pollCounters();
    } finally {
      tracer.close();
    }
  }
  flush();
  const clockEnd = native.clocks();
  const totals: Record<string, TypeTotals> = {};
  for (const t of RECORD_TYPES) {
    totals[t.event] = {
      sent: t.id === LOST_TYPE_ID ? recorded.get(t.id) ?? 0 : endCounters?.sent[t.id] ?? 0,
      lost: t.id === LOST_TYPE_ID ? 0 : endCounters?.lost[t.id] ?? 0,
      recorded: recorded.get(t.id) ?? 0,
    };
  }
  const endReason = stopping ?? 'stopped';
  const records = [...recorded.values()].reduce((a, b) => a + b, 0);
  let bytes = 0;
  let chunks = 0;
  if (writer) {
    chunks = writer.stats.chunks;
    writer.close({
      clock_end: clockEnd,
      chunks,
      records: totalRecords,
      totals,
      end_reason: endReason,
      unknown_types: [...recorded.keys()].filter((k) => !names.has(k)),
    });
    bytes = fs.statSync(opts.output as string).size;
  }
  if (writeError) throw new UserError(`recording stopped: cannot write ${opts.output}: ${writeError.message}`);
  return {
    output: opts.output ?? null,
    durationNs: Number(clockEnd.boot_ns) - Number(clockStart.boot_ns),
    bytes,
    chunks,
    records,
    totals,
    endReason,
    childExit,
  };
}

export {UserError};
