// The chunk step of record (src/record/chunks.ts) and the lost records made from the
// kernel's counters (src/record/counters.ts), offline: synthetic batches built with the
// record layouts of the committed bpf/exectrace.bpf.o, a stand-in for the file writer,
// counter values made up here. No kernel, no addon.

import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {btfFromElf, recordLayouts} from '../src/btf';
import {ChunkWriter, frameHeader, type ChunkSink} from '../src/record/chunks';
import {LossCounter, pos, writeUint} from '../src/record/counters';
import {STRUCTS, layoutsByStruct} from '../src/record/types';
import {ET_EXIT, ET_FORK, ET_LOST, ET_SYS_ENTER, ET_SYS_EXIT} from '../src/abi';
import type {BatchSummary} from '../src/record/native';
import type {ChunkInfo} from '../src/format/writer';

const OBJECT = path.resolve(__dirname, '..', 'bpf', 'exectrace.bpf.o');
const layouts = layoutsByStruct(recordLayouts(btfFromElf(fs.readFileSync(OBJECT)), STRUCTS));
const header = frameHeader(layouts.et_header);
const FORK = ET_FORK;
const EXIT = ET_EXIT;

/** One frame: [u32 length][a record of `struct` with its header's type and ts], padded to `size` bytes. */
function frame(struct: string, type: number, ts: bigint, size = layouts[struct].size): Buffer {
  const l = layouts[struct];
  const f = Buffer.alloc(4 + size);
  f.writeUInt32LE(size, 0);
  const rec = f.subarray(4);
  writeUint(rec, pos(l, 'hdr.type'), type);
  writeUint(rec, pos(l, 'hdr.size'), Math.min(size, 0xffff));
  writeUint(rec, pos(l, 'hdr.ts_ns'), ts);
  return f;
}

const fork = (ts: number, size?: number): Buffer => frame('et_fork', FORK, BigInt(ts), size);
const exit = (ts: number): Buffer => frame('et_exit', EXIT, BigInt(ts));

interface Written {
  frames: Buffer;
  info: ChunkInfo;
}

/** A sink that keeps a copy of every chunk (the writer's frames may be a reused buffer). */
function sink(): ChunkSink & {chunks: Written[]; syncs: number} {
  const s = {
    chunks: [] as Written[],
    syncs: 0,
    writeChunk(frames: Buffer, info: ChunkInfo): void {
      s.chunks.push({frames: Buffer.from(frames), info: {...info}});
    },
    syncSoon(): void {
      s.syncs++;
    },
  };
  return s;
}

function writer(chunkBytes: number, extra: {onBatch?: (b: Buffer) => void; onWriteError?: (e: Error) => void} = {}): ChunkWriter {
  return new ChunkWriter({chunkBytes, header, lostType: ET_LOST, ...extra});
}

t.test('size: batches are copied together until a chunk holds chunkBytes, then written as one', async (t) => {
  const out = sink();
  const batches = [[fork(30), fork(10)], [exit(20)], [fork(50), exit(40)]].map((fs_) => Buffer.concat(fs_));
  const w = writer(batches[2].length + fork(60).length);
  w.frames(batches[0]);
  w.frames(batches[1]);
  t.equal(out.chunks.length, 0, 'nothing is written before there is a sink');
  w.writeTo(out);
  w.frames(batches[2]);
  t.equal(out.chunks.length, 0, 'below chunkBytes: still pending');
  w.frames(Buffer.concat([fork(60)]));
  t.equal(out.chunks.length, 1, 'the next frame fills the chunk');
  t.same(out.chunks[0].frames, Buffer.concat([batches[2], fork(60)]), 'frames in the order taken, unchanged');
  t.same(out.chunks[0].info, {records: 3, firstTs: 40n, lastTs: 60n, counted: true}, 'records and the time span of the chunk');
  t.equal(w.written, 3);
  t.same([...w.recorded()], [[FORK, 4], [EXIT, 2]], 'every frame counted, sink or not');
});

t.test('size: a batch of a chunk\'s worth is written as it is; one that would overshoot by 1 MiB first flushes what is pending', async (t) => {
  const out = sink();
  const chunkBytes = 4096;
  const w = writer(chunkBytes);
  w.writeTo(out);
  w.frames(fork(5));
  const big = Buffer.concat([fork(7, (1 << 20) + chunkBytes), fork(6)]);
  let handed: Buffer | undefined;
  out.writeChunk = (frames, info) => {
    if (frames.length === big.length) handed = frames;
    out.chunks.push({frames: Buffer.from(frames), info: {...info}});
  };
  w.frames(big);
  t.equal(out.chunks.length, 2);
  t.same(out.chunks[0].info, {records: 1, firstTs: 5n, lastTs: 5n, counted: true}, 'the pending frame first, in a chunk of its own');
  t.same(out.chunks[1].info, {records: 2, firstTs: 6n, lastTs: 7n, counted: true});
  t.equal(handed, big, 'the big batch reaches the writer without a copy');
  w.frames(fork(8, chunkBytes - 4));
  t.equal(out.chunks.length, 3, 'nothing pending: a batch of exactly chunkBytes is a chunk at once');
});

t.test('interval: what is pending is written every flush interval, after the loss poll, then synced', async (t) => {
  const out = sink();
  const w = writer(1 << 20);
  w.writeTo(out);
  const order: string[] = [];
  out.writeChunk = (frames, info) => {
    order.push(`chunk ${info.records}`);
    out.chunks.push({frames: Buffer.from(frames), info: {...info}});
  };
  w.frames(Buffer.concat([fork(1), exit(2)]));
  w.startInterval(20, () => order.push('poll'));
  await new Promise((r) => setTimeout(r, 70));
  w.stopInterval();
  t.equal(out.chunks.length, 1, 'one chunk: later ticks had nothing to write');
  t.same(order.slice(0, 2), ['poll', 'chunk 2']);
  t.ok(order.filter((o) => o === 'poll').length >= 2, 'the poll runs on every tick');
  t.ok(out.syncs >= 2, 'a background sync on every tick');
  const ticks = order.length;
  await new Promise((r) => setTimeout(r, 50));
  t.equal(order.length, ticks, 'stopInterval stops the ticks');
});

t.test('time span: smallest and largest timestamp of the frames with a whole header; short frames counted but neither typed nor timed', async (t) => {
  const out = sink();
  const w = writer(1 << 20);
  w.writeTo(out);
  const short = Buffer.alloc(4 + 3);
  short.writeUInt32LE(3, 0);
  w.frames(Buffer.concat([exit(900), short, fork(100), fork(500)]));
  w.flush();
  t.same(out.chunks[0].info, {records: 4, firstTs: 100n, lastTs: 900n, counted: true});
  t.same([...w.recorded()], [[FORK, 2], [EXIT, 1]]);
  w.frames(short);
  w.flush();
  t.same(out.chunks[1].info, {records: 1, firstTs: 0n, lastTs: 0n, counted: true}, 'no whole header: no span');
  w.flush();
  t.equal(out.chunks.length, 2, 'an empty flush writes nothing');
  const cut = Buffer.concat([fork(1), fork(2)]).subarray(0, 4 + layouts.et_fork.size + 6);
  w.frames(cut);
  w.flush();
  t.equal(out.chunks[2].info.records, 1, 'a frame cut short at the end of a batch is not read');
});

t.test('summarized: the drain\'s counts and span are taken as they are; a batch with other frames is scanned', async (t) => {
  const out = sink();
  const w = writer(1 << 20);
  w.writeTo(out);
  const summary = (frames: number[], ts: bigint[], counts: number[]): BatchSummary => ({
    frames: Uint32Array.from(frames),
    ts: BigUint64Array.from(ts),
    counts: Uint32Array.from(counts),
  });
  const counts = new Array(9).fill(0);
  counts[FORK] = 7; // what the drain says, not what the frames hold: it is trusted
  w.summarized(Buffer.concat([fork(10), fork(20)]), summary([2, 2, 0], [3n, 4n], counts));
  w.summarized(Buffer.concat([exit(30)]), summary([1, 1, 1], [0n, 0n], new Array(9).fill(0)));
  w.summarized(Buffer.concat([exit(40)]));
  w.flush();
  t.same(out.chunks[0].info, {records: 4, firstTs: 3n, lastTs: 40n, counted: true});
  t.same([...w.recorded()], [[FORK, 7], [EXIT, 2]]);
});

t.test('counted or not: lost records the recorder makes count as recorded, in-flight calls only as in flight; both are in the file', async (t) => {
  const out = sink();
  const w = writer(1 << 20);
  w.writeTo(out);
  w.frames(fork(1));
  w.frames(frame('et_lost', ET_LOST, 2n), true);
  w.frames(Buffer.concat([frame('et_sys_enter', ET_SYS_ENTER, 3n), frame('et_sys_enter', ET_SYS_ENTER, 4n)]), true);
  w.frames(frame('et_sys_enter', ET_SYS_ENTER, 5n));
  w.flush();
  t.same([...w.recorded()], [[FORK, 1], [ET_LOST, 1], [ET_SYS_ENTER, 1]], 'the kernel\'s sys_enter counted, the recorder\'s not');
  t.equal(w.inflight, 2);
  t.same(out.chunks[0].info, {records: 5, firstTs: 1n, lastTs: 5n, counted: true});
  t.equal(w.written, 5);
});

t.test('no file: every batch is counted and handed on, none written', async (t) => {
  const handed: Buffer[] = [];
  const w = writer(64, {onBatch: (b) => handed.push(Buffer.from(b))});
  const b1 = Buffer.concat([fork(1), exit(2)]);
  const lost = frame('et_lost', ET_LOST, 3n);
  w.frames(b1);
  w.frames(lost, true);
  w.flush();
  t.same(handed, [b1, lost], 'the live consumer sees the lost record too, in stream order');
  t.same([...w.recorded()], [[FORK, 1], [EXIT, 1], [ET_LOST, 1]]);
  t.equal(w.written, 0);
});

t.test('a write error is reported once and ends the writing; counting goes on', async (t) => {
  const errors: string[] = [];
  const w = writer(1, {onWriteError: (e) => errors.push(e.message)});
  let calls = 0;
  w.writeTo({
    writeChunk(): void {
      calls++;
      throw new Error('ENOSPC: no space left on device');
    },
  });
  w.frames(fork(1));
  w.frames(fork(2));
  w.flush();
  t.equal(calls, 1);
  t.same(errors, ['ENOSPC: no space left on device']);
  t.equal(w.writeError?.message, 'ENOSPC: no space left on device');
  t.same([...w.recorded()], [[FORK, 2]]);
});

// --- lost records from the counters ----------------------------------------------------

const counterL = layouts.et_counter;
const stride = Math.ceil(counterL.size / 8) * 8;

/** A per-CPU counter map's raw values: vals[key][cpu] = [sent, lost, filtered]. */
function counterMap(vals: [number, number, number][][]): Buffer {
  const nrCpus = vals[0].length;
  const b = Buffer.alloc(vals.length * nrCpus * stride);
  vals.forEach((perCpu, k) => perCpu.forEach(([sent, lost, filtered], c) => {
    const o = b.subarray((k * nrCpus + c) * stride);
    writeUint(o, pos(counterL, 'sent'), sent);
    writeUint(o, pos(counterL, 'lost'), lost);
    writeUint(o, pos(counterL, 'filtered'), filtered);
  }));
  return b;
}

function lostFields(f: Buffer): Record<string, number> {
  const l = layouts.et_lost;
  if (f.readUInt32LE(0) !== l.size) throw new Error(`lost frame: length ${f.readUInt32LE(0)}, not sizeof(et_lost) ${l.size}`);
  const rec = f.subarray(4);
  const get = (name: string): number => {
    const p = pos(l, name);
    return p.size === 8 ? Number(rec.readBigUInt64LE(p.offset)) : p.size === 4 ? rec.readUInt32LE(p.offset) : rec.readUInt16LE(p.offset);
  };
  const names = ['hdr.type', 'hdr.ts_ns', 'hdr.cpu', 'event_type', 'nr', 'count', 'window_start_ns', 'window_end_ns'];
  return Object.fromEntries(names.map((n) => [n, get(n)]));
}

t.test('losses: a lost counter that grew becomes one lost record per CPU, with the window since the last poll', async (t) => {
  const keys = 9;
  const zero = (): [number, number, number][][] => Array.from({length: keys}, () => [[0, 0, 0], [0, 0, 0]]);
  let types = zero();
  let sys = Array.from({length: 512}, () => [[0, 0, 0], [0, 0, 0]] as [number, number, number][]);
  let now = 2000;
  const emitted: Buffer[] = [];
  const losses = new LossCounter({
    counter: counterL, lost: layouts.et_lost, lostType: ET_LOST, sysExitType: ET_SYS_EXIT, nrCpus: 2,
    read: (map) => counterMap(map === 'counters' ? types : sys),
    now: () => now,
    startNs: 1000,
    emit: (f) => emitted.push(f),
  });
  types[EXIT] = [[10, 0, 1], [20, 3, 2]];
  const first = losses.poll(false);
  t.equal(emitted.length, 1, 'only the counter that grew');
  t.match(lostFields(emitted[0]), {'hdr.type': ET_LOST, 'hdr.ts_ns': 2000, 'hdr.cpu': 1, event_type: EXIT, nr: 0, count: 3,
    window_start_ns: 1000, window_end_ns: 2000});
  t.equal(first.types.sent[EXIT], 30);
  t.equal(first.types.lost[EXIT], 3);
  t.equal(first.types.filtered[EXIT], 3);
  t.equal(first.sys, null, 'sys_counters is read only when syscalls are recorded');

  now = 5000;
  types = zero();
  types[EXIT] = [[10, 1, 1], [25, 5, 2]];
  sys[59] = [[4, 0, 0], [4, 2, 0]];
  const second = losses.poll(true);
  t.equal(emitted.length, 4);
  t.match(lostFields(emitted[1]), {'hdr.cpu': 0, event_type: EXIT, count: 1, window_start_ns: 2000, window_end_ns: 5000});
  t.match(lostFields(emitted[2]), {'hdr.cpu': 1, event_type: EXIT, count: 2, window_start_ns: 2000}, 'the growth, not the total');
  t.match(lostFields(emitted[3]), {event_type: ET_SYS_EXIT, nr: 59, count: 2, 'hdr.cpu': 1}, 'a syscall\'s losses are sys_exit losses, with its number');
  t.equal(second.sys?.lost[59], 2);
  t.equal(second.sys?.sent[59], 8);

  emitted.length = 0;
  losses.poll(true);
  t.equal(emitted.length, 0, 'no growth, no record');
});

t.test('losses: the lost records go through the chunk step, counted as recorded', async (t) => {
  const out = sink();
  const w = writer(1 << 20);
  w.writeTo(out);
  const types = Array.from({length: 9}, () => [[0, 0, 0]] as [number, number, number][]);
  types[FORK] = [[5, 4, 0]];
  const losses = new LossCounter({
    counter: counterL, lost: layouts.et_lost, lostType: ET_LOST, sysExitType: ET_SYS_EXIT, nrCpus: 1,
    read: () => counterMap(types), now: () => 7000, startNs: 1000, emit: (f) => w.frames(f, true),
  });
  w.frames(fork(6500));
  losses.poll(false);
  w.flush();
  t.same(out.chunks[0].info, {records: 2, firstTs: 6500n, lastTs: 7000n, counted: true}, 'the lost record is where the loss was seen');
  t.same([...w.recorded()], [[FORK, 1], [ET_LOST, 1]]);
  t.equal(w.inflight, 0);
});
