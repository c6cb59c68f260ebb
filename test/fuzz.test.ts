// Fuzzing the offline entry points — what decode (with --ancestors and --tree too), tree, stats, verify, filter -o
// and recover run — with mutations of
// the committed fixtures: flipped bits, overwritten, inserted, deleted and repeated bytes,
// cuts, splices between files, and "re-sealed" mutations (a chunk's or the metadata's
// decompressed bytes changed, then compressed, checksummed and chained again, so the
// mutation reaches the msgpack reader and the record decoder instead of stopping at a
// checksum). Every input must give output or a one-line error of our own; never a
// TypeError/RangeError (a crash in the CLI), a multi-line message, a hang, or runaway memory.
//
// Bounded: FUZZ_SECONDS (default 10) of mutations; `make fuzz` runs it longer. The seed is
// printed; FUZZ_SEED=n repeats a run. A failing input is saved under /tmp for a rerun.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BH, FILE_HEADER_SIZE, TAG_TRAILER, TraceFormatError, decodeBlockHeader, encodeBlockHeader, encodeFooter, sha256,
  verifyFile, PayloadDecompressor, PayloadCompressor, BLOCK_F_ZSTD,
} from '../src/format';
import {forEachEvent, humanLine, openTrace, ordered, printEvents} from '../src/decode';
import {StatsCollector, collectStats, formatStats} from '../src/stats';
import {Output} from '../src/util/output';
import {toJson} from '../src/util/json';
import {compileFilter, filterFile} from '../src/filter';
import {recoverFile} from '../src/recover';
import {formatTree, processTree} from '../src/processes';
import {readRecording, writeRecording} from './lib/files';
import {openTrace as openLibraryTrace, UsageError} from '../src';

const ROOT = path.resolve(__dirname, '..');
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 10);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SEEDS = ['exec-scenarios.bin', 'exec-scenarios-4chunks.bin', 'damaged-no-trailer.bin', 'damaged-altered.bin', 'syscalls-cat.bin', 'syscalls-net.bin', 'exec-lossy.bin', 'exec-tree.bin']
  .map((n) => fs.readFileSync(path.join(ROOT, 'fixtures', n)));
// The fixtures are format 1.0: two of them written again by today's writer bring the metadata copy in.
{
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-fuzz-seeds-'));
  for (const [n, sizes] of [['exec-scenarios.bin', [9, 9, 9]], ['syscalls-cat.bin', [50]], ['syscalls-net.bin', [10]]] as const) {
    const out = path.join(dir, n);
    writeRecording(out, readRecording(path.join(ROOT, 'fixtures', n)), [...sizes]);
    SEEDS.push(fs.readFileSync(out));
  }
  fs.rmSync(dir, {recursive: true, force: true});
}
/** Time one input may take through all the entry points (a hang shows here). */
const MAX_MS_PER_INPUT = 5000;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = mulberry32(SEED);
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(a: T[]): T => a[int(a.length)];
const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x41, 0x5a, 0xc0, 0xdb, 0xdd, 0xdf];

interface Block {
  offset: number;
  headerSize: number;
  payloadSize: number;
}

/** The blocks of a well-formed file (the seeds are). */
function blocks(b: Buffer): Block[] {
  const out: Block[] = [];
  let pos = FILE_HEADER_SIZE;
  while (pos + 128 <= b.length) {
    const h = decodeBlockHeader(b, pos);
    out.push({offset: pos, headerSize: h.headerSize, payloadSize: h.payloadSize});
    pos += h.headerSize + h.payloadSize;
    if (h.tag === TAG_TRAILER) break;
  }
  return out;
}

const zin = new PayloadDecompressor();
const zout = new PayloadCompressor(1);

/** Mutates the decompressed payload of one block, then compresses, checksums and re-chains every block after it. */
function reseal(src: Buffer): Buffer {
  const bl = blocks(src);
  const k = int(bl.length);
  const parts: Buffer[] = [src.subarray(0, FILE_HEADER_SIZE)];
  let prev: Buffer = Buffer.alloc(32);
  let trailerAt = -1;
  let offset = FILE_HEADER_SIZE;
  bl.forEach((b, i) => {
    const h = decodeBlockHeader(src, b.offset);
    let payload = src.subarray(b.offset + b.headerSize, b.offset + b.headerSize + b.payloadSize);
    let rawSize = h.rawSize;
    if (i === k) {
      let raw: Buffer = Buffer.from(payload);
      if (h.flags & BLOCK_F_ZSTD) {
        raw = Buffer.alloc(h.rawSize);
        zin.decompressInto(payload, raw);
      }
      raw = mutateBytes(raw, 1 + int(4));
      rawSize = raw.length;
      payload = h.flags & BLOCK_F_ZSTD ? Buffer.from(zout.compress(raw)) : raw;
    }
    const hdr = encodeBlockHeader({...h, payloadSize: payload.length, rawSize, payloadSha256: sha256(payload), prevHash: prev});
    if (h.tag === TAG_TRAILER) trailerAt = offset;
    parts.push(hdr, payload);
    offset += hdr.length + payload.length;
    prev = sha256(hdr);
  });
  if (trailerAt >= 0) parts.push(encodeFooter(trailerAt));
  return Buffer.concat(parts);
}

/** Byte-level mutations, `n` of them. */
function mutateBytes(src: Buffer, n: number): Buffer {
  let b = Buffer.from(src);
  for (let i = 0; i < n; i++) {
    const at = b.length ? int(b.length) : 0;
    switch (int(7)) {
      case 0: // flip a bit
        if (b.length) b[at] ^= 1 << int(8);
        break;
      case 1: // an interesting byte
        if (b.length) b[at] = pick(INTERESTING);
        break;
      case 2: // a random u32, LE (lengths, counts, sizes)
        if (at + 4 <= b.length) b.writeUInt32LE(int(2 ** 32), at);
        break;
      case 3: // cut
        b = b.subarray(0, at);
        break;
      case 4: { // insert random bytes
        const ins = Buffer.from(Array.from({length: 1 + int(64)}, () => int(256)));
        b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
        break;
      }
      case 5: // delete a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(256)))]);
        break;
      case 6: { // repeat a range elsewhere
        const from = int(b.length + 1);
        const len = int(512);
        b = Buffer.concat([b.subarray(0, at), b.subarray(from, from + len), b.subarray(at)]);
        break;
      }
    }
  }
  return b;
}

/** A block header field set to a random or extreme value, header re-sealed (sizes, seq, flags lie credibly). */
function lyingHeader(src: Buffer): Buffer {
  const bl = blocks(src);
  const b = Buffer.from(src);
  const blk = pick(bl);
  const field = pick([BH.seq, BH.flags, BH.payloadSize, BH.rawSize, BH.recordCount, BH.headerSize]);
  const v = pick([0, 1, 0xffffffff, 0x7fffffff, 128, 4096, 4097, int(2 ** 32)]);
  b.writeUInt32LE(v, blk.offset + field);
  const h = decodeBlockHeader(b, blk.offset);
  if (h.headerSize !== 128) return b; // header_size itself changed: leave the check broken
  encodeBlockHeader(h).copy(b, blk.offset);
  return b;
}

function mutate(): Buffer {
  const src = pick(SEEDS);
  switch (int(5)) {
    case 0:
      return mutateBytes(src, 1 + int(8));
    case 1: { // the chunks and trailer only: damage to the metadata ends a read at once, so spread the effort
      const after = blocks(src)[1]?.offset ?? FILE_HEADER_SIZE;
      return Buffer.concat([src.subarray(0, after), mutateBytes(src.subarray(after), 1 + int(8))]);
    }
    case 2:
      return reseal(src);
    case 3:
      return lyingHeader(src);
    default: { // splice: the start of one file, the end of another
      const other = pick(SEEDS);
      return Buffer.concat([src.subarray(0, int(src.length)), other.subarray(int(other.length))]);
    }
  }
}

/** Runs decode, stats and verify as the commands do; returns the error a command would print, or null. */
const printedTo = path.join(os.tmpdir(), `exectrace-fuzz-printed-${process.pid}.out`);
t.teardown(() => fs.rmSync(printedTo, {force: true}));

function runAll(file: string): {errors: Error[]; problems: string[]} {
  const errors: Error[] = [];
  const problems: string[] = [];
  const onProblem = (p: {message: string}): void => {
    problems.push(p.message);
  };
  try { // decode, human and JSON
    const tr = openTrace(file, onProblem);
    try {
      forEachEvent(tr, {processes: true}, (e) => {
        humanLine(e, tr.decoder.clock);
        toJson(ordered(e));
      });
    } finally {
      tr.reader.close();
    }
  } catch (e) {
    errors.push(e as Error);
  }
  // decode as the CLI prints: syscall events written straight from their values (json.ts,
  // HumanEventWriter), unfiltered and through a filter.
  for (const [json, where] of [[true, null], [false, null], [true, 'ret < 0 or type != "syscall"']] as const) {
    try {
      const tr = openTrace(file, onProblem);
      const fd = fs.openSync(printedTo, 'w');
      try {
        const o = new Output(fd, 4096);
        const f = where ? compileFilter({where: [where]}, {path: file, decoder: tr.decoder, meta: tr.reader.meta as never}) : null;
        printEvents(tr, {processes: true, json, test: f?.test, testReadsTime: f?.reads('time')}, o);
        o.flush();
      } finally {
        fs.closeSync(fd);
        tr.reader.close();
      }
    } catch (e) {
      errors.push(e as Error);
    }
  }
  try { // tree (the process forest, every process kept, drawn) and decode --ancestors with --tree (the bounded table)
    formatTree(processTree(file, {all: true, onProblem}));
    const tr = openTrace(file, onProblem);
    try {
      tr.decoder.trackProcesses({ancestors: true});
      const f = compileFilter({tree: 1}, {path: file, decoder: tr.decoder, meta: tr.reader.meta as never});
      forEachEvent(tr, {processes: true}, (e) => {
        if (f.test(e)) toJson(ordered(e));
      });
    } finally {
      tr.reader.close();
    }
  } catch (e) {
    errors.push(e as Error);
  }
  try { // stats, as the CLI collects it (syscall events without objects)
    const tr = openTrace(file, onProblem);
    try {
      const s = new StatsCollector(tr.decoder.eventNames);
      collectStats(tr, s);
      formatStats(s.report(tr.reader.trailer as never, null, 10));
    } finally {
      tr.reader.close();
    }
  } catch (e) {
    errors.push(e as Error);
  }
  try { // stats --by and --interval, through the library as the CLI runs them
    const tr = openLibraryTrace(file, {zone: 'utc'});
    try {
      tr.groups({by: ['exe', 'parent', 'user', 'cgroup', 'container']});
      // Hourly: a forged time in a file without a trailer (whose end is unknown) may make
      // as many rows as MAX_INTERVAL_ROWS allows, which takes longer than an input may here.
      tr.intervals({every: '1h'}, () => {});
    } finally {
      tr.close();
    }
  } catch (e) {
    // A file that cannot be opened at all is a one-line Error, as for decode; a trailer whose
    // end makes --interval's rows too many, a one-line UsageError (exit 2).
    if (!(e instanceof UsageError)) errors.push(e as Error);
    else if (/\n/.test(e.message)) errors.push(e);
  }
  try { // verify
    const r = verifyFile(file);
    for (const f of r.findings) problems.push(f.message);
  } catch (e) {
    errors.push(e as Error);
  }
  // filter -o and recover: whatever the source, a file they write must verify intact and
  // decode (recover's, unless it said the source's layouts are unusable: it copies the
  // chunks as stored then); a source they refuse leaves no file behind.
  for (const [what, derive] of [
    ['filter', (out: string) => filterFile(file, out, {type: ['exec', 'exit', 'syscall', 'lost'], where: ['pid > 1 or argv =~ /e/']}, {force: true, onProblem})],
    ['recover', (out: string) => recoverFile(file, out, {force: true})],
  ] as const) {
    const out = `${file}.${what}`;
    fs.rmSync(out, {force: true});
    let unusable = false;
    try {
      const r = derive(out);
      unusable = 'layouts_error' in r && r.layouts_error !== null;
    } catch (e) {
      errors.push(e as Error);
      if (fs.existsSync(out)) errors.push(new TypeError(`${what} failed but left ${out} behind`));
      continue;
    }
    try {
      const r = verifyFile(out);
      if (!r.intact) errors.push(new TypeError(`the file ${what} wrote does not verify: ${r.findings.map((f) => f.message).join('; ')}`));
      if (unusable) {
        try {
          openTrace(out).reader.close();
          errors.push(new TypeError(`recover said the layouts of the source are unusable, yet ${out} opens`));
        } catch (e) {
          errors.push(e as Error); // the one-line error decode gives
        }
        continue;
      }
      const tr = openTrace(out, (p) => errors.push(new TypeError(`the file ${what} wrote has a problem: ${p.message}`)));
      try {
        forEachEvent(tr, {processes: true}, (e) => toJson(ordered(e)));
      } finally {
        tr.reader.close();
      }
    } catch (e) {
      errors.push(new TypeError(`reading the file ${what} wrote: ${(e as Error).message}`));
    }
  }
  return {errors, problems};
}

t.test(`fuzz: mutations of the fixtures through decode, tree, stats, verify, filter and recover for ${SECONDS}s (FUZZ_SEED=${SEED})`, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-fuzz-'));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  const file = path.join(dir, 'input.bin');
  const end = Date.now() + SECONDS * 1000;
  let n = 0;
  let slowest = 0;
  let failures = 0;
  const kinds = new Map<string, number>();
  const rss0 = process.memoryUsage().rss;
  let rssMax = rss0;
  while (Date.now() < end && failures < 5) {
    const input = mutate();
    fs.writeFileSync(file, input);
    const started = Date.now();
    const {errors, problems} = runAll(file);
    // As a program would between inputs: native finalizers run only when the loop turns.
    await new Promise((resolve) => setImmediate(resolve));
    const ms = Date.now() - started;
    slowest = Math.max(slowest, ms);
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
    n++;
    const bad = errors.filter((e) => !(e instanceof Error) || (e.constructor !== Error && !(e instanceof TraceFormatError)) || /\n/.test(e.message));
    const multiLine = problems.filter((m) => /[\n\r]/.test(m));
    for (const e of errors) kinds.set(e.message.replace(/\d+/g, 'N').slice(0, 60), (kinds.get(e.message.replace(/\d+/g, 'N').slice(0, 60)) ?? 0) + 1);
    if (bad.length || multiLine.length || ms > MAX_MS_PER_INPUT) {
      failures++;
      const saved = path.join(os.tmpdir(), `exectrace-fuzz-${SEED}-${n}.bin`);
      fs.writeFileSync(saved, input);
      t.fail(`input ${n} (saved as ${saved}): ${bad.map((e) => `${e.constructor.name}: ${e.stack}`).join('; ')}` +
        `${multiLine.length ? ` multi-line problem: ${JSON.stringify(multiLine[0])}` : ''}${ms > MAX_MS_PER_INPUT ? ` took ${ms} ms` : ''}`);
    }
  }
  t.ok(n > 0, `${n} inputs; slowest ${slowest} ms; rss ${(rss0 / 2 ** 20).toFixed(0)} -> max ${(rssMax / 2 ** 20).toFixed(0)} MiB`);
  t.ok(rssMax - rss0 < 768 * 2 ** 20, 'memory stays bounded');
  t.comment(`errors seen: ${[...kinds.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${v}× ${k}`).join(' | ')}`);
});
