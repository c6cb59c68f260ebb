// The trace file format on intact files: round trips, the writer's file
// handling, forward compatibility, the frames helper, and that the spec's
// tables and example agree with the code (formats/trace-format.md).

import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BH, BLOCK_F_ZSTD, FH, FT, FILE_MAGIC, FOOTER_MAGIC, FrameCursor, type BlockInfo, type Chunk, TraceReader,
  TraceWriter, checkFrames, encodeBlockHeader, encodeDocument, DEFAULT_LIMITS, encodeFileHeader, forEachFrame,
  scanForBlockHeader, sha256, blockHeaderFault, decodeBlockHeader,
} from '../src/format';

/** Concatenated frames `[u32 LE len][record]`. */
function frames(records: Buffer[]): Buffer {
  return Buffer.concat(records.flatMap((r) => {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(r.length);
    return [len, r];
  }));
}

/** A record of `len` bytes whose content identifies it. */
function rec(id: number, len = 40): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (id * 31 + i) & 0xff;
  return b;
}

const META = {
  exectrace: '0.1.0',
  format: '1.0',
  created: '2025-11-23T17:55:00.123Z',
  host: {hostname: 'h1', kernel_release: '6.18.0', arch: 'x86_64', page_size: 4096, boot_id: 'b-1', nr_cpus: 2},
  clock: {start: {boot_ns: 5_000_000_000, realtime_ns: 1763920500123456789n, monotonic_ns: 4_999_000_000}},
  options: {chunk_bytes: 4 << 20, filters: []},
  processes: [{pid: 1, ppid: 0, comm: 'init', argv: ['/sbin/init', 'splash'], filename: null, start_time_ns: 1}],
};

function readAll(file: string, opts = {}): {r: TraceReader; chunks: Chunk[]} {
  const r = TraceReader.open(file, opts);
  const chunks: Chunk[] = [];
  for (const c of r.chunks()) chunks.push({...c, data: Buffer.from(c.data)});
  r.close();
  return {r, chunks};
}

t.test('round trip: metadata, three chunks, trailer', (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'trace.bin');
  const w = TraceWriter.create(file, META);
  const batches = [[rec(1), rec(2, 7)], [rec(3, 100)], [rec(4), rec(5), rec(6, 1)]];
  batches.forEach((b, i) => w.writeChunk(frames(b), {records: b.length, firstTs: 10 * i + 1, lastTs: BigInt(10 * i + 2)}));
  t.same(w.stats, {bytes: w.stats.bytes, chunks: 3, records: 6, rawBytes: batches.flat().reduce((n, r) => n + 4 + r.length, 0)});
  const st = w.close({clock_end: {boot_ns: 6_000_000_000, realtime_ns: 1763920501123456789n}, totals: {exec: {sent: 6, lost: 0, recorded: 6}}, end_reason: 'signal SIGINT'});
  t.equal(st.bytes, fs.statSync(file).size);

  const blocks: BlockInfo[] = [];
  const {r, chunks} = readAll(file, {onBlock: (b: BlockInfo) => blocks.push(b)});
  t.same(r.version, {major: 1, minor: 1});
  t.same(r.meta, META, 'metadata comes back exactly, 64-bit clock included');
  t.equal(typeof (r.meta.clock as {start: {realtime_ns: unknown}}).start.realtime_ns, 'bigint');
  t.equal(typeof (r.meta.clock as {start: {boot_ns: unknown}}).start.boot_ns, 'number');
  t.same(r.problems, []);
  t.equal(r.complete, true);
  t.same(chunks.map((c) => [c.seq, c.records, c.firstTs, c.lastTs]), [[2, 2, 1n, 2n], [3, 1, 11n, 12n], [4, 3, 21n, 22n]]);
  chunks.forEach((c, i) => t.same(c.data, frames(batches[i]), `chunk ${i + 1} data`));
  // The metadata copy follows META at once, with the same stored payload.
  t.same(blocks.map((b) => [b.tag, b.seq, b.offset]), [
    ['META', 0, 16], ['MCPY', 1, 16 + 128 + blocks[0].payloadSize], ['CHNK', 2, chunks[0].offset], ['CHNK', 3, chunks[1].offset],
    ['CHNK', 4, chunks[2].offset], ['TRLR', 5, blocks[5].offset],
  ]);
  t.same([blocks[1].flags, blocks[1].payloadSize, blocks[1].rawSize, blocks[1].records], [blocks[0].flags, blocks[0].payloadSize, blocks[0].rawSize, 0]);
  t.same(r.trailer, {
    clock_end: {boot_ns: 6_000_000_000, realtime_ns: 1763920501123456789n},
    totals: {exec: {sent: 6, lost: 0, recorded: 6}},
    end_reason: 'signal SIGINT',
    chunks: 3,
    records: 6,
    final_hash: (r.trailer as {final_hash: string}).final_hash,
  });
  t.match((r.trailer as {final_hash: string}).final_hash, /^[0-9a-f]{64}$/);
  t.same(r.stats, {chunks: 3, records: 6, chunksSeen: 3, recordsSeen: 6});

  // The footer points at the trailer.
  const bytes = fs.readFileSync(file);
  t.equal(Number(bytes.readBigUInt64LE(bytes.length - 16)), blocks[5].offset);
  t.same(bytes.subarray(bytes.length - 8), FOOTER_MAGIC);
  t.end();
});

t.test('chunks() can be run again and yields the same', (t) => {
  const file = path.join(t.testdir(), 'trace.bin');
  const w = TraceWriter.create(file, {exectrace: 'x'});
  w.writeChunk(frames([rec(1)]), {records: 1, firstTs: 0, lastTs: 0});
  w.close({});
  const r = TraceReader.open(file);
  const a = [...r].map((c) => c.seq);
  const b = [...r.chunks()].map((c) => c.seq);
  r.close();
  t.same(a, [2]);
  t.same(b, [2]);
  t.end();
});

t.test('writer: the file is created with mode 0600', (t) => {
  const file = path.join(t.testdir(), 'trace.bin');
  const old = process.umask(0o000);
  try {
    TraceWriter.create(file, {exectrace: 'x'}).close({});
  } finally {
    process.umask(old);
  }
  t.equal(fs.statSync(file).mode & 0o777, 0o600);
  t.end();
});

t.test('writer: refuses to overwrite without force', (t) => {
  const dir = t.testdir({'trace.bin': 'precious', 'target.txt': 'not mine'});
  const file = path.join(dir, 'trace.bin');
  t.throws(() => TraceWriter.create(file, {exectrace: 'x'}), {message: `output file ${file} exists (use --force to overwrite)`});
  t.equal(fs.readFileSync(file, 'utf8'), 'precious', 'the existing file is untouched');

  TraceWriter.create(file, {exectrace: 'x'}, {force: true}).close({});
  t.equal(TraceReader.open(file).meta.exectrace, 'x', 'force replaces it');
  t.equal(fs.statSync(file).mode & 0o777, 0o600, 'mode 0600 after replacing too');

  // A symlink is replaced, never written through.
  const link = path.join(dir, 'link.bin');
  fs.symlinkSync(path.join(dir, 'target.txt'), link);
  t.throws(() => TraceWriter.create(link, {exectrace: 'x'}), {message: `output file ${link} exists (use --force to overwrite)`});
  TraceWriter.create(link, {exectrace: 'x'}, {force: true}).close({});
  t.equal(fs.readFileSync(path.join(dir, 'target.txt'), 'utf8'), 'not mine');
  t.equal(fs.lstatSync(link).isFile(), true);

  // Not a regular file: refused even with force.
  t.throws(() => TraceWriter.create(dir, {exectrace: 'x'}, {force: true}), {message: `output file ${dir} exists and is not a regular file`});
  t.end();
});

t.test('writer: checks its input', (t) => {
  const dir = t.testdir();
  t.throws(() => TraceWriter.create(path.join(dir, 'a.bin'), {exectrace: 'x'}, {level: 99}), {message: /^zstd level 99 outside -\d+\.\.22$/});
  t.notOk(fs.existsSync(path.join(dir, 'a.bin')), 'nothing created for a bad level');
  t.throws(() => TraceWriter.create(path.join(dir, 'b.bin'), [] as unknown as object), {message: 'document must be a map'});
  let deep: unknown = 1;
  for (let i = 0; i < 40; i++) deep = [deep];
  t.throws(() => TraceWriter.create(path.join(dir, 'c.bin'), {deep}), {message: /^cannot encode: /});

  const w = TraceWriter.create(path.join(dir, 'd.bin'), {exectrace: 'x'}, {level: 1});
  t.throws(() => w.writeChunk(frames([rec(1), rec(2)]), {records: 3, firstTs: 0, lastTs: 0}),
    {message: 'write chunk: the batch holds 2 records, info.records says 3'});
  t.throws(() => w.writeChunk(Buffer.from([9, 0, 0, 0, 1]), {records: 1, firstTs: 0, lastTs: 0}),
    {message: 'write chunk: malformed frames (a length runs past the end of the batch)'});
  t.throws(() => w.writeChunk(frames([rec(1)]), {records: 1, firstTs: -1, lastTs: 0}), {message: 'write chunk: firstTs -1 is not a u64'});
  w.writeChunk(frames([rec(1)]), {records: 1, firstTs: 0, lastTs: 0});
  w.close({});
  t.throws(() => w.writeChunk(frames([rec(1)]), {records: 1, firstTs: 0, lastTs: 0}), {message: /the trace file is closed$/});
  const {r, chunks} = readAll(path.join(dir, 'd.bin'));
  t.same(r.problems, []);
  t.equal(chunks.length, 1, 'rejected chunks were not written');
  t.end();
});

t.test('a file without a trailer reads fine', (t) => {
  const file = path.join(t.testdir(), 'trace.bin');
  const w = TraceWriter.create(file, META);
  w.writeChunk(frames([rec(1)]), {records: 1, firstTs: 1, lastTs: 1});
  w.writeChunk(frames([rec(2), rec(3)]), {records: 2, firstTs: 2, lastTs: 3});
  w.sync();
  w.destroy(); // what a killed recorder leaves
  w.destroy();
  const {r, chunks} = readAll(file);
  t.same(chunks.map((c) => c.records), [1, 2]);
  t.same(r.problems, []);
  t.equal(r.trailer, null);
  t.equal(r.complete, false);
  t.end();
});

t.test('reuseBuffers: one data buffer for every chunk', (t) => {
  const file = path.join(t.testdir(), 'trace.bin');
  const w = TraceWriter.create(file, {exectrace: 'x'});
  for (let i = 0; i < 4; i++) w.writeChunk(frames([rec(i, 50 + i)]), {records: 1, firstTs: i, lastTs: i});
  w.close({});
  const r = TraceReader.open(file, {reuseBuffers: true});
  const seen = new Set<ArrayBufferLike>();
  const firstBytes: number[] = [];
  for (const c of r.chunks()) {
    seen.add(c.data.buffer);
    t.same(c.data, frames([rec(c.seq - 2, 50 + c.seq - 2)]), 'chunks start at seq 2, after the metadata copy');
    firstBytes.push(c.data[4]);
  }
  r.close();
  t.equal(seen.size, 1);
  t.same(firstBytes, [0, 31, 62, 93]);
  t.end();
});

t.test('forward compatibility: minor version, longer headers, unknown blocks and keys', (t) => {
  // Hand-built 1.7 file: META with an unknown key, a 160-byte CHNK header, an unknown "INDX"
  // block, and an ancillary flag bit — all of which a 1.0 reader must read past.
  const file = path.join(t.testdir(), 'future.bin');
  const parts: Buffer[] = [encodeFileHeader(1, 7)];
  let prev: Buffer = Buffer.alloc(32);
  const add = (tag: string, seq: number, flags: number, payload: Buffer, raw: number, records: number, headerSize = 128): void => {
    const h128 = encodeBlockHeader({tag, seq, flags, payloadSize: payload.length, rawSize: raw, recordCount: records,
      firstTs: 0n, lastTs: 0n, payloadSha256: sha256(payload), prevHash: prev});
    const h = Buffer.alloc(headerSize);
    h128.copy(h);
    h.writeUInt32LE(headerSize, BH.headerSize);
    h.fill(0xab, 128); // a later version's extra header bytes
    const check = sha256(h.subarray(0, BH.headerCheck), h.subarray(128)).readUInt32LE(0);
    h.writeUInt32LE(check, BH.headerCheck);
    parts.push(h, payload);
    prev = sha256(h);
  };
  const meta = encodeDocument({exectrace: '9.9.9', some_future_key: {x: [1, 2]}}, DEFAULT_LIMITS);
  add('META', 0, 0, meta, meta.length, 0);
  const data = frames([rec(1), rec(2)]);
  add('CHNK', 1, 1 << 16, data, data.length, 2, 160); // uncompressed, ancillary bit 16
  add('INDX', 2, 0, Buffer.from('whatever'), 8, 0);
  const data2 = frames([rec(3)]);
  add('CHNK', 3, 0, data2, data2.length, 1);
  fs.writeFileSync(file, Buffer.concat(parts));

  const {r, chunks} = readAll(file);
  t.same(r.version, {major: 1, minor: 7});
  t.same(r.meta.some_future_key, {x: [1, 2]});
  t.same(r.problems, []);
  t.same(chunks.map((c) => c.seq), [1, 3]);
  t.same(chunks[0].data, data);
  t.same(chunks[1].data, data2);
  t.end();
});

t.test('frames helper', (t) => {
  const data = frames([rec(1, 3), rec(2, 0), rec(3, 5)]);
  const chunk = {data, seq: 4, offset: 1000, records: 3};
  const got: string[] = [];
  const res = forEachFrame(chunk, (buf, off, len) => got.push(buf.toString('hex', off, off + len)));
  t.same(got, [rec(1, 3).toString('hex'), '', rec(3, 5).toString('hex')]);
  t.same(res, {frames: 3, problem: null});

  const cur = new FrameCursor().reset(data);
  const offs: number[] = [];
  while (cur.next()) offs.push(cur.offset, cur.length, cur.index);
  t.same(offs, [4, 3, 0, 11, 0, 1, 15, 5, 2]);
  t.equal(cur.error, null);

  // A length running past the end: earlier frames delivered, then a 'frames' problem.
  const bad = Buffer.concat([frames([rec(1, 3)]), Buffer.from([200, 0, 0, 0, 1, 2])]);
  const seen: number[] = [];
  const r2 = forEachFrame({data: bad, seq: 4, offset: 1000, records: 2}, (_b, _o, len) => seen.push(len));
  t.same(seen, [3]);
  t.same(r2.problem, {kind: 'frames', seq: 4, offset: 1000, records: 2,
    message: 'chunk seq 4 at offset 1000: frame 1 at byte 7 claims 200 bytes, only 2 remain; 1 of 2 records read, the rest of the chunk skipped'});

  t.same(checkFrames({data: Buffer.concat([data, Buffer.from([1, 0])]), seq: 1, offset: 5, records: 3})?.message,
    'chunk seq 1 at offset 5: frame 3 at byte 20: 2 trailing bytes, too short for a length; 3 of 3 records read, the rest of the chunk skipped');
  t.same(checkFrames({data, seq: 1, offset: 5, records: 4})?.message, 'chunk seq 1 at offset 5: holds 3 records, its header says 4');
  t.equal(checkFrames({data: Buffer.alloc(0), seq: 1, offset: 5, records: 0}), null);
  t.end();
});

t.test('wire: header_check and resync scanning', (t) => {
  const h = encodeBlockHeader({tag: 'CHNK', seq: 3, flags: BLOCK_F_ZSTD, payloadSize: 10, rawSize: 20, recordCount: 2,
    firstTs: 5n, lastTs: 6n, payloadSha256: sha256(Buffer.from('p')), prevHash: Buffer.alloc(32, 1)});
  t.equal(h.length, 128);
  t.equal(blockHeaderFault(h, 0), null);
  t.same(decodeBlockHeader(h, 0), {tag: 'CHNK', headerSize: 128, seq: 3, flags: 1, payloadSize: 10, rawSize: 20,
    recordCount: 2, firstTs: 5n, lastTs: 6n, payloadSha256: sha256(Buffer.from('p')), prevHash: Buffer.alloc(32, 1)});
  for (const off of [0, 8, 60, 112, 124]) {
    const d = Buffer.from(h);
    d[off] ^= 0x10;
    t.not(blockHeaderFault(d, 0), null, `a flipped bit at ${off} is caught`);
  }
  const hay = Buffer.concat([Buffer.from('CHNKxxxxMETA'), Buffer.alloc(100, 0x41), h, Buffer.alloc(50)]);
  t.same(scanForBlockHeader(hay, 0, hay.length, true), {state: 'found', index: 112});
  t.same(scanForBlockHeader(hay, 0, 150, false), {state: 'need-more', index: 112});
  t.same(scanForBlockHeader(hay, 0, 150, true), {state: 'none', index: 143});
  t.end();
});

// --- The spec and the code agree -------------------------------------------------------

const SPEC = fs.readFileSync(path.join(__dirname, '..', 'formats', 'trace-format.md'), 'utf8');

/** Rows `| offset | size | type | `field` | ...` of the table under `heading`. */
function specTable(heading: string): Array<{offset: number; size: number; field: string}> {
  const start = SPEC.indexOf(heading);
  if (start < 0) throw new Error(`spec: no heading ${heading}`);
  const rows: Array<{offset: number; size: number; field: string}> = [];
  for (const line of SPEC.slice(start).split('\n').slice(1)) {
    if (line.startsWith('#')) break;
    const m = /^\| (\d+) \| (\d+) \| [^|]+ \| `(\w+)` \|/.exec(line);
    if (m) rows.push({offset: Number(m[1]), size: Number(m[2]), field: m[3]});
  }
  return rows;
}

t.test('spec: the header tables match the code', (t) => {
  const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  const block = specTable('### 5.1 Block header');
  const names: Record<string, string> = {first_ts_ns: 'firstTs', last_ts_ns: 'lastTs', record_count: 'recordCount'};
  t.same(block.map((r) => [names[r.field] ?? camel(r.field), r.offset]), Object.entries(BH));
  t.equal(block.reduce((n, r) => n + r.size, 0), 128);
  block.forEach((r, i) => i > 0 && t.equal(r.offset, block[i - 1].offset + block[i - 1].size, `${r.field} follows`));

  const file = specTable('## 4. File header');
  t.same(file.map((r) => [r.field, r.offset]), Object.entries(FH));
  t.match(SPEC, FILE_MAGIC.toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1 '));

  const footer = specTable('### 6.5 Footer');
  t.same(footer.map((r) => [camel(r.field), r.offset]), Object.entries(FT));
  t.match(SPEC, FOOTER_MAGIC.toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1 '));

  t.match(SPEC, `| \`payload_size\` (any block) | 64 MiB (${DEFAULT_LIMITS.maxPayloadSize}) |`);
  t.match(SPEC, `| \`raw_size\` of a CHNK | 256 MiB (${DEFAULT_LIMITS.maxRawSize}) |`);
  t.match(SPEC, `| \`raw_size\` of META and TRLR | 64 MiB (${DEFAULT_LIMITS.maxMetaSize}) |`);
  t.match(SPEC, `| msgpack nesting depth (the top-level map is depth 1) | ${DEFAULT_LIMITS.maxDepth} |`);
  t.match(SPEC, `| msgpack maps and arrays in one document | ${DEFAULT_LIMITS.maxContainers} |`);
  t.match(SPEC, `| msgpack values in one document (keys count) | ${DEFAULT_LIMITS.maxValues} |`);
  t.end();
});

t.test('spec: the example file reads as documented', (t) => {
  const m = /<!-- example-hex[^\n]*\n```\n([\s\S]*?)```/.exec(SPEC);
  if (!m) throw new Error('spec: no example');
  const bytes = Buffer.from(m[1].split('\n').filter(Boolean).map((l) => l.slice(6).replace(/ /g, '')).join(''), 'hex');
  const file = path.join(t.testdir(), 'example.bin');
  fs.writeFileSync(file, bytes);
  const blocks: BlockInfo[] = [];
  const {r, chunks} = readAll(file, {onBlock: (b: BlockInfo) => blocks.push(b)});
  t.same(r.meta, {exectrace: '0.1.0'});
  t.same(r.problems, []);
  t.equal(r.complete, true);
  t.same(blocks.map((b) => [b.tag, b.seq, b.offset, b.flags]), [['META', 0, 16, 1], ['CHNK', 1, 170, 1], ['TRLR', 2, 319, 0]]);
  t.same(chunks.map((c) => [c.seq, c.records, c.firstTs, c.lastTs, c.data.toString('hex')]),
    [[1, 1, 7n, 7n, '080000000100000000000000']]);
  t.equal((r.trailer as {end_reason: string}).end_reason, 'example');
  t.equal(Number(bytes.readBigUInt64LE(bytes.length - 16)), 319);
  t.end();
});
