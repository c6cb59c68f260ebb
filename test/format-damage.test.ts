// The trace file format on damaged and hostile files: every input yields the
// intact chunks plus precise problems, or a one-line error — never a crash,
// a hang or unbounded memory (PRODUCT.md principles 4 and 5).

import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zb from 'zstd-napi/binding';
import {
  BH, BLOCK_F_ZSTD, type BlockInfo, type Chunk, DEFAULT_LIMITS, type Problem, TraceReader, TraceWriter,
  encodeBlockHeader, encodeDocument, encodeFileHeader, encodeFooter, forEachFrame, sha256,
} from '../src/format';

function frames(records: Buffer[]): Buffer {
  return Buffer.concat(records.flatMap((r) => {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(r.length);
    return [len, r];
  }));
}

function rec(id: number, len = 40): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (id * 31 + i) & 0xff;
  return b;
}

interface Sample {
  bytes: Buffer;
  blocks: BlockInfo[];
  batches: Buffer[];
}

/**
 * A valid file with `n` chunks (chunk i holds i+10 records) and, optionally, a trailer. The
 * metadata copy is seq 1, so chunk i (from 0) is seq i+2.
 */
function sample(dir: string, n = 3, trailer = true): Sample {
  const file = path.join(dir, `sample-${n}-${trailer}.bin`);
  const w = TraceWriter.create(file, {exectrace: '0.1.0', host: {hostname: 'h'}}, {force: true});
  const batches: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const b = frames(Array.from({length: i + 10}, (_, j) => rec(i * 100 + j, 30 + j)));
    batches.push(b);
    w.writeChunk(b, {records: i + 10, firstTs: i, lastTs: i});
  }
  if (trailer) w.close({end_reason: 'test'});
  else w.destroy();
  const blocks: BlockInfo[] = [];
  const r = TraceReader.open(file, {onBlock: (b) => blocks.push(b)});
  for (const c of r.chunks()) void c;
  r.close();
  return {bytes: fs.readFileSync(file), blocks, batches};
}

interface Outcome {
  chunks: Chunk[];
  problems: Problem[];
  reader: TraceReader;
}

function read(dir: string, bytes: Buffer, opts = {}): Outcome {
  const file = path.join(dir, 'damaged.bin');
  fs.writeFileSync(file, bytes);
  const reader = TraceReader.open(file, opts);
  const chunks: Chunk[] = [];
  try {
    for (const c of reader.chunks()) chunks.push({...c, data: Buffer.from(c.data)});
  } finally {
    reader.close();
  }
  return {chunks, problems: reader.problems, reader};
}

function openError(dir: string, bytes: Buffer): string {
  const file = path.join(dir, 'bad.bin');
  fs.writeFileSync(file, bytes);
  try {
    TraceReader.open(file).close();
  } catch (e) {
    if (!(e instanceof Error)) throw new Error(`threw a non-Error: ${String(e)}`);
    return e.message;
  }
  return '(no error)';
}

/** A file built block by block with valid checksums: for payloads a writer would never produce. */
function build(blocks: Array<{tag: string; payload: Buffer; flags?: number; raw?: number; records?: number}>, header = encodeFileHeader()): Buffer {
  const parts = [header];
  let prev: Buffer = Buffer.alloc(32);
  blocks.forEach((b, seq) => {
    const h = encodeBlockHeader({tag: b.tag, seq, flags: b.flags ?? 0, payloadSize: b.payload.length, rawSize: b.raw ?? b.payload.length,
      recordCount: b.records ?? 0, firstTs: 0n, lastTs: 0n, payloadSha256: sha256(b.payload), prevHash: prev});
    parts.push(h, b.payload);
    prev = sha256(h);
  });
  return Buffer.concat(parts);
}

function zstd(buf: Buffer): Buffer {
  const out = Buffer.alloc(zb.compressBound(buf.length));
  return out.subarray(0, zb.compress(out, buf, 3));
}

const metaDoc = (): Buffer => encodeDocument({exectrace: '0.1.0'}, DEFAULT_LIMITS);

t.test('a flipped byte in chunk 2 of 3: chunks 1 and 3 decoded, a checksum problem names seq 3', (t) => {
  const dir = t.testdir();
  const s = sample(dir);
  const c2 = s.blocks.find((b) => b.seq === 3)!;
  const bytes = Buffer.from(s.bytes);
  bytes[c2.offset + 128 + 5] ^= 0x01;
  const o = read(dir, bytes);
  t.same(o.chunks.map((c) => c.seq), [2, 4]);
  t.same(o.chunks[0].data, s.batches[0]);
  t.same(o.chunks[1].data, s.batches[2]);
  t.same(o.problems, [{kind: 'checksum', seq: 3, offset: c2.offset, records: 11,
    message: `chunk seq 3 at offset ${c2.offset} (11 records) fails its checksum (payload SHA-256 mismatch); block skipped`}]);
  t.equal(o.reader.complete, true, 'trailer and footer still read');
  t.end();
});

t.test('a flipped byte in the header of chunk 2: resync, chunks 1 and 3 decoded', (t) => {
  const dir = t.testdir();
  const s = sample(dir);
  const [c2, c3] = [s.blocks.find((b) => b.seq === 3)!, s.blocks.find((b) => b.seq === 4)!];
  const bytes = Buffer.from(s.bytes);
  bytes[c2.offset + BH.payloadSize] ^= 0x40;
  const o = read(dir, bytes);
  t.same(o.chunks.map((c) => c.seq), [2, 4]);
  t.same(o.problems, [{kind: 'header', seq: 3, offset: c2.offset, records: null,
    message: `damaged block header at offset ${c2.offset} (header_check mismatch); skipped ${c3.offset - c2.offset} bytes to the next valid block header at offset ${c3.offset}, blocks seq 3..3 lost`}]);
  t.end();
});

t.test('truncation', async (t) => {
  const dir = t.testdir();
  const s = sample(dir);
  const [c2, c3, tr] = [3, 4, 5].map((q) => s.blocks.find((b) => b.seq === q)!);

  t.test('in the middle of a chunk: earlier chunks, then a truncated problem', async (t) => {
    // 10 bytes of a zstd frame hold no complete zstd block: no record of the cut chunk comes out.
    const cut = c3.offset + 128 + 10;
    const o = read(dir, s.bytes.subarray(0, cut));
    t.same(o.chunks.map((c) => c.seq), [2, 3]);
    t.same(o.chunks[1].data, s.batches[1]);
    t.same(o.problems, [{kind: 'truncated', seq: 4, offset: c3.offset, records: 12,
      message: `chunk seq 4 at offset ${c3.offset} cut at offset ${cut} (${c3.payloadSize - 10} of ${c3.payloadSize} payload bytes missing): 0 of 12 records recovered`}]);
    t.equal(o.reader.trailer, null);
  });
  t.test('in the middle of a block header', async (t) => {
    const cut = c2.offset + 50;
    const o = read(dir, s.bytes.subarray(0, cut));
    t.same(o.chunks.map((c) => c.seq), [2]);
    t.same(o.problems, [{kind: 'truncated', seq: 3, offset: c2.offset, records: null,
      message: `file ends at offset ${cut}, inside the block header at offset ${c2.offset} (50 of at least 128 bytes)`}]);
  });
  t.test('at a block boundary: a file without trailer, no problem', async (t) => {
    const o = read(dir, s.bytes.subarray(0, tr.offset));
    t.same(o.chunks.map((c) => c.seq), [2, 3, 4]);
    t.same(o.problems, []);
    t.equal(o.reader.complete, false);
  });
  t.test('inside the footer', async (t) => {
    const o = read(dir, s.bytes.subarray(0, s.bytes.length - 3));
    t.same(o.chunks.map((c) => c.seq), [2, 3, 4]);
    t.same(o.problems.map((p) => [p.kind, p.message]), [['truncated',
      `file ends at offset ${s.bytes.length - 3}, inside the 16-byte footer at offset ${s.bytes.length - 16}`]]);
    t.not(o.reader.trailer, null, 'the trailer itself is intact');
    t.equal(o.reader.complete, false);
  });
  t.test('just before the footer', async (t) => {
    const o = read(dir, s.bytes.subarray(0, s.bytes.length - 16));
    t.same(o.problems.map((p) => [p.kind, p.message]), [['truncated',
      `file ends at offset ${s.bytes.length - 16}, where the 16-byte footer should start`]]);
  });
  t.test('inside the metadata: an error', async (t) => {
    t.equal(openError(dir, s.bytes.subarray(0, 100)), 'truncated file: it ends at offset 100, inside the metadata block header at offset 16');
    t.equal(openError(dir, s.bytes.subarray(0, 150)), 'truncated file: it ends at offset 150, inside the metadata block at offset 16');
    t.equal(openError(dir, s.bytes.subarray(0, 10)), 'truncated file: it ends at offset 10, inside the 16-byte file header');
  });
});

t.test('not a trace file: the exact one-line errors', (t) => {
  const dir = t.testdir();
  const s = sample(dir, 1);
  t.equal(openError(dir, Buffer.alloc(0)), 'empty file');
  t.equal(openError(dir, Buffer.from('{"type":"exec"}\n')), 'not an exectrace file: bad magic at offset 0');
  t.equal(openError(dir, Buffer.from([0x89, 0x45, 0x54])), 'truncated file: it ends at offset 3, inside the 16-byte file header');
  t.equal(openError(dir, Buffer.from([0x89, 0x46])), 'not an exectrace file: bad magic at offset 0');
  const v2 = Buffer.from(s.bytes);
  v2.writeUInt16LE(2, 8);
  t.equal(openError(dir, v2), 'unsupported trace format version 2.1 (this exectrace reads 1.x)');
  const v0 = Buffer.from(s.bytes);
  v0.writeUInt16LE(0, 8);
  v0.writeUInt16LE(9, 10);
  t.equal(openError(dir, v0), 'unsupported trace format version 0.9 (this exectrace reads 1.x)');
  let x = 12345;
  const random = Buffer.from(Buffer.alloc(4096, 0).map(() => (x = (x * 1103515245 + 12345) & 0x7fffffff) >> 16));
  t.equal(openError(dir, random), 'not an exectrace file: bad magic at offset 0');
  t.equal(openError(dir, Buffer.concat([s.bytes.subarray(0, 16), random])), 'damaged metadata block header at offset 16 (bad tag 0xdc04f579)');
  // One damaged copy of the metadata is read through the other (see the metadata copy tests); both damaged is the end.
  const metaSum = Buffer.from(s.bytes);
  const copyAt = 16 + 128 + s.blocks[0].payloadSize;
  metaSum[16 + 128 + 3] ^= 1;
  t.equal(openError(dir, metaSum), '(no error)');
  metaSum[copyAt + 128 + 3] ^= 1;
  t.equal(openError(dir, metaSum),
    `damaged metadata block at offset 16: payload checksum mismatch; its copy at offset ${copyAt} is damaged too (payload checksum mismatch)`);
  t.equal(openError(dir, build([{tag: 'CHNK', payload: metaDoc()}])), 'damaged metadata block at offset 16: expected tag "META", found "CHNK"');
  t.equal(openError(dir, build([{tag: 'META', payload: Buffer.from([0x93, 1, 2, 3])}])), 'unreadable metadata at offset 16: document is not a map at byte 0');
  t.equal(openError(dir, build([{tag: 'META', payload: Buffer.from('junk'), flags: BLOCK_F_ZSTD, raw: 10}])),
    'damaged metadata block at offset 16: payload is not a zstd frame');
  t.match(openErrorPath(dir), /^open .*: is a directory$/);
  t.match(openErrorPath(path.join(dir, 'nope', 'x')), /^open .*nope\/x: ENOENT: no such file or directory/);
  t.end();
});

function openErrorPath(p: string): string {
  try {
    TraceReader.open(p).close();
  } catch (e) {
    return (e as Error).message;
  }
  return '(no error)';
}

t.test('a decompression bomb is a problem, with bounded memory', (t) => {
  const dir = t.testdir();
  // 100 MiB of zeros streamed through zstd 1 MiB at a time, so this test never holds 100 MiB either.
  const bomb = (declareSize: boolean): Buffer => {
    const cctx = new zb.CCtx();
    cctx.setParameter(zb.CParameter.compressionLevel, 3);
    if (declareSize) cctx.setPledgedSrcSize(100 << 20);
    else cctx.setParameter(zb.CParameter.contentSizeFlag, 0);
    const zeros = Buffer.alloc(1 << 20);
    const out = Buffer.alloc(1 << 20);
    const parts: Buffer[] = [];
    for (let i = 0; i < 100; i++) {
      const [, produced] = cctx.compressStream2(out, zeros, zb.EndDirective.continue);
      parts.push(Buffer.from(out.subarray(0, produced)));
    }
    for (;;) {
      const [left, produced] = cctx.compressStream2(out, Buffer.alloc(0), zb.EndDirective.end);
      parts.push(Buffer.from(out.subarray(0, produced)));
      if (left === 0) break;
    }
    return Buffer.concat(parts);
  };
  const meta = metaDoc();
  for (const declared of [false, true]) {
    const b = bomb(declared);
    t.ok(b.length < 64 * 1024, `the bomb is small (${b.length} bytes)`);
    const good = frames([rec(1)]);
    const bytes = build([
      {tag: 'META', payload: zstd(meta), flags: BLOCK_F_ZSTD, raw: meta.length},
      {tag: 'CHNK', payload: b, flags: BLOCK_F_ZSTD, raw: 1024, records: 3},
      {tag: 'CHNK', payload: zstd(good), flags: BLOCK_F_ZSTD, raw: good.length, records: 1},
    ]);
    const before = process.memoryUsage();
    const o = read(dir, bytes);
    const after = process.memoryUsage();
    t.same(o.chunks.map((c) => c.seq), [2], 'the chunk after the bomb is read');
    t.same(o.problems, [{kind: 'decompress', seq: 1, offset: 16 + 128 + zstd(meta).length, records: 3,
      message: `chunk seq 1 at offset ${16 + 128 + zstd(meta).length} (3 records) cannot be decompressed: ${declared
        ? 'zstd frame declares 104857600 bytes, the block header says 1024'
        : 'zstd frame expands past the 1024 bytes the block header declares'}; block skipped`}]);
    t.ok(after.rss - before.rss < 32 << 20, `rss grew by ${((after.rss - before.rss) / 1048576).toFixed(1)} MiB`);
    t.ok(after.arrayBuffers - before.arrayBuffers < 8 << 20, 'no large buffer allocated');
  }
  t.end();
});

t.test('hostile metadata: deep, huge, or too many values', (t) => {
  const dir = t.testdir();
  const metaFile = (doc: Buffer): Buffer => build([{tag: 'META', payload: zstd(doc), flags: BLOCK_F_ZSTD, raw: doc.length}]);
  const key = Buffer.from([0x81, 0xa1, 0x61]); // {"a": ...
  // 100000 nested one-element arrays.
  const deep = Buffer.concat([key, Buffer.alloc(100000, 0x91), Buffer.from([0xc0])]);
  t.equal(openError(dir, metaFile(deep)), 'unreadable metadata at offset 16: nesting deeper than 32 at byte 34');
  // An array claiming 4 billion elements in a few bytes.
  t.equal(openError(dir, metaFile(Buffer.concat([key, Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0])]))),
    'unreadable metadata at offset 16: container of 4294967295 values in 1 bytes at byte 3');
  // A string claiming 4 GiB.
  t.equal(openError(dir, metaFile(Buffer.concat([key, Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff])]))),
    'unreadable metadata at offset 16: string of 4294967295 bytes above the limit of 16777216 at byte 3');
  // 5 million nils: within the size limit, above the value limit.
  const many = Buffer.concat([key, Buffer.from([0xdd, 0x00, 0x4c, 0x4b, 0x40]), Buffer.alloc(5_000_000, 0xc0)]);
  t.equal(openError(dir, metaFile(many)), 'unreadable metadata at offset 16: more than 4194304 values at byte 4194309');
  // A million empty maps: above the container limit.
  const maps = Buffer.concat([key, Buffer.from([0xdd, 0x00, 0x10, 0x00, 0x01]), Buffer.alloc((1 << 20) + 1, 0x80)]);
  t.equal(openError(dir, metaFile(maps)), 'unreadable metadata at offset 16: more than 1048576 maps and arrays at byte 1048582');
  // A raw size above the metadata limit is refused before anything is allocated.
  t.equal(openError(dir, build([{tag: 'META', payload: zstd(metaDoc()), flags: BLOCK_F_ZSTD, raw: 100 << 20}])),
    'unreadable metadata block at offset 16: raw_size 104857600 above the limit of 67108864');
  // Keys must be strings; no extensions; nothing after the document; no __proto__.
  t.equal(openError(dir, metaFile(Buffer.from([0x81, 0x01, 0x02]))), 'unreadable metadata at offset 16: map key is not a string at byte 1');
  t.equal(openError(dir, metaFile(Buffer.from([0x81, 0xa1, 0x61, 0xd6, 0xff, 0, 0, 0, 0]))),
    'unreadable metadata at offset 16: msgpack extension type 0xd6 (not allowed in metadata) at byte 3');
  t.equal(openError(dir, metaFile(Buffer.from([0x80, 0xc0]))), 'unreadable metadata at offset 16: 1 bytes after the end of the document at byte 1');
  t.equal(openError(dir, metaFile(Buffer.concat([Buffer.from([0x81, 0xa9]), Buffer.from('__proto__'), Buffer.from([0x80])]))),
    'unreadable metadata at offset 16: msgpack: The key __proto__ is not allowed');
  t.end();
});

t.test('altered, removed, repeated blocks: sequence and chain problems', (t) => {
  const dir = t.testdir();
  const s = sample(dir);
  const [c1, c2, c3, tr] = [2, 3, 4, 5].map((q) => s.blocks.find((b) => b.seq === q)!);
  const end = (b: BlockInfo): number => b.offset + b.headerSize + b.payloadSize;

  // Chunk 2 cut out cleanly.
  const removed = Buffer.concat([s.bytes.subarray(0, c2.offset), s.bytes.subarray(end(c2))]);
  let o = read(dir, removed);
  t.same(o.chunks.map((c) => c.seq), [2, 4]);
  // The footer still points where the trailer was: the removal shows there too.
  const trailerGone = (shift: number): [string, null, string] => ['trailer', null,
    `footer at offset ${s.bytes.length - 16 + shift} points to offset ${tr.offset}, the trailer is at offset ${tr.offset + shift}`];
  t.same(o.problems.map((p) => [p.kind, p.seq, p.message]), [
    ['sequence', 3, `blocks seq 3..3 are missing before chunk seq 4 at offset ${c2.offset}`],
    trailerGone(c2.offset - end(c2)),
  ]);

  // Chunk 1 repeated.
  const repeated = Buffer.concat([s.bytes.subarray(0, end(c1)), s.bytes.subarray(c1.offset, end(c1)), s.bytes.subarray(end(c1))]);
  o = read(dir, repeated);
  t.same(o.chunks.map((c) => c.seq), [2, 3, 4]);
  t.same(o.problems.map((p) => [p.kind, p.seq, p.message]), [
    ['sequence', 2, `chunk seq 2 at offset ${end(c1)} is out of order (expected seq 3); block skipped`],
    trailerGone(end(c1) - c1.offset),
  ]);

  // Chunk 2's records replaced and its checksums recomputed: only the chain notices.
  const forged = frames(Array.from({length: 11}, (_, j) => rec(999, 30 + j)));
  const payload = zstd(forged);
  const h = encodeBlockHeader({tag: 'CHNK', seq: 3, flags: BLOCK_F_ZSTD, payloadSize: payload.length, rawSize: forged.length,
    recordCount: 11, firstTs: 1n, lastTs: 1n, payloadSha256: sha256(payload), prevHash: s.bytes.subarray(c2.offset + BH.prevHash, c2.offset + BH.prevHash + 32)});
  const altered = Buffer.concat([s.bytes.subarray(0, c2.offset), h, payload, s.bytes.subarray(end(c2))]);
  o = read(dir, altered);
  t.same(o.chunks.map((c) => c.seq), [2, 3, 4]);
  const c3off = c2.offset + 128 + payload.length;
  t.same(o.problems.map((p) => [p.kind, p.seq, p.offset, p.message]), [
    ['chain', 4, c3off, `chunk seq 4 at offset ${c3off} does not chain to the block before it (prev_hash mismatch): a block was altered, removed or inserted`],
    ...(c3off === c3.offset ? [] : [['trailer', null, s.bytes.length - 16 + c3off - c3.offset, trailerGone(c3off - c3.offset)[2]]]),
  ]);

  // Junk after the footer; a footer pointing elsewhere.
  o = read(dir, Buffer.concat([s.bytes, Buffer.from('extra')]));
  t.same(o.problems.map((p) => [p.kind, p.message]), [['trailer', `5 unexpected bytes after the footer, from offset ${s.bytes.length} to the end of the file`]]);
  const moved = Buffer.from(s.bytes);
  encodeFooter(c3.offset).copy(moved, moved.length - 16);
  o = read(dir, moved);
  t.same(o.problems.map((p) => [p.kind, p.message]), [['trailer', `footer at offset ${moved.length - 16} points to offset ${c3.offset}, the trailer is at offset ${tr.offset}`]]);
  t.end();
});

t.test('a chunk with valid checksums but broken framing: a frames problem from the frames helper', (t) => {
  const dir = t.testdir();
  const meta = metaDoc();
  const good = frames([rec(1), rec(2)]);
  const bad = Buffer.concat([frames([rec(3)]), Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3])]);
  const o = read(dir, build([
    {tag: 'META', payload: zstd(meta), flags: BLOCK_F_ZSTD, raw: meta.length},
    {tag: 'CHNK', payload: zstd(good), flags: BLOCK_F_ZSTD, raw: good.length, records: 2},
    {tag: 'CHNK', payload: zstd(bad), flags: BLOCK_F_ZSTD, raw: bad.length, records: 2},
  ]));
  t.same(o.problems, []);
  const results = o.chunks.map((c) => forEachFrame(c, () => undefined));
  t.same(results[0], {frames: 2, problem: null});
  t.same(results[1].frames, 1);
  t.same(results[1].problem?.kind, 'frames');
  t.equal(results[1].problem?.seq, 2);
  t.equal(results[1].problem?.message,
    `chunk seq 2 at offset ${o.chunks[1].offset}: frame 1 at byte 44 claims 2147483647 bytes, only 3 remain; 1 of 2 records read, the rest of the chunk skipped`);
  t.end();
});

// --- Fuzzing ----------------------------------------------------------------------------

/** mulberry32: a small seeded PRNG, so a failure names a reproducible iteration. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(src: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(src);
  const int = (n: number): number => Math.floor(rnd() * n);
  const ops = 1 + int(4);
  for (let k = 0; k < ops; k++) {
    const at = int(b.length + 1);
    switch (int(8)) {
      case 0: if (b.length) b[Math.min(at, b.length - 1)] ^= 1 << int(8); break;
      case 1: if (b.length) b[Math.min(at, b.length - 1)] = int(256); break;
      case 2: b = b.subarray(0, at); break;
      case 3: b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({length: 1 + int(64)}, () => int(256))), b.subarray(at)]); break;
      case 4: b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + int(200))]); break;
      case 5: { const from = int(b.length); b = Buffer.concat([b.subarray(0, at), b.subarray(from, from + 1 + int(300)), b.subarray(at)]); break; }
      case 6: if (at + 4 <= b.length) b.writeUInt32LE([0, 1, 127, 128, 4096, 4097, 0x7fffffff, 0xffffffff][int(8)], at); break;
      default: if (b.length > 16) { const i = 16 + int(b.length - 16); b[i] = 0x41 + int(26); } break;
    }
  }
  return b;
}

/** Reads as a command would: open, every chunk, every frame. Returns the error message, or null. */
function consume(file: string): string | null {
  let reader: TraceReader | undefined;
  try {
    reader = TraceReader.open(file);
    for (const c of reader.chunks()) forEachFrame(c, () => undefined);
    for (const p of reader.problems) if (/[\n\r]/.test(p.message)) return `multi-line problem: ${JSON.stringify(p.message)}`;
    return null;
  } catch (e) {
    if (!(e instanceof Error)) return `non-Error thrown: ${String(e)}`;
    if (/[\n\r]/.test(e.message) || e.message.length === 0) return `bad message: ${JSON.stringify(e.message)}`;
    return e.message;
  } finally {
    reader?.close();
  }
}

t.test('fuzz: 500 mutations of a small valid file', (t) => {
  const dir = t.testdir();
  const s = sample(dir, 3);
  const rnd = prng(0x5eed);
  const file = path.join(dir, 'fuzz.bin');
  let errors = 0;
  let reads = 0;
  const started = Date.now();
  for (let i = 0; i < 500; i++) {
    fs.writeFileSync(file, mutate(s.bytes, rnd));
    const m = consume(file);
    if (m !== null && (m.startsWith('non-Error') || m.startsWith('bad message') || m.startsWith('multi-line'))) {
      t.fail(`iteration ${i}: ${m}`);
    }
    if (m === null) reads++;
    else errors++;
  }
  t.equal(reads + errors, 500, `${reads} read with or without problems, ${errors} one-line errors`);
  t.ok(Date.now() - started < 60_000, 'no hang');
  t.end();
});

t.test('fuzz: 500 mutations of the metadata and chunk contents, re-sealed with valid checksums', (t) => {
  // Checksums stop nearly every raw mutation at the block level; re-sealing lets them reach the
  // msgpack scanner, zstd and the frames walk.
  const dir = t.testdir();
  const rnd = prng(0xdecade);
  const metaBytes = encodeDocument({exectrace: '0.1.0', host: {hostname: 'h', page_size: 4096}, clock: {start: {boot_ns: 1n << 60n}},
    processes: [{pid: 1, argv: ['a', 'b']}, {pid: 2, argv: []}]}, DEFAULT_LIMITS);
  const chunk = frames([rec(1), rec(2, 3), rec(3, 0)]);
  const file = path.join(dir, 'fuzz2.bin');
  for (let i = 0; i < 500; i++) {
    const meta = i % 2 === 0 ? mutate(metaBytes, rnd) : metaBytes;
    const data = mutate(chunk, rnd);
    const zdata = i % 3 === 0 ? mutate(zstd(data), rnd) : zstd(data);
    fs.writeFileSync(file, build([
      {tag: 'META', payload: zstd(meta), flags: BLOCK_F_ZSTD, raw: meta.length},
      {tag: 'CHNK', payload: zdata, flags: BLOCK_F_ZSTD, raw: data.length, records: 3},
      {tag: 'CHNK', payload: data, flags: 0, raw: data.length, records: 3},
    ]));
    const m = consume(file);
    if (m !== null && (m.startsWith('non-Error') || m.startsWith('bad message') || m.startsWith('multi-line'))) {
      t.fail(`iteration ${i}: ${m}`);
    }
  }
  t.pass('500 iterations');
  t.end();
});
