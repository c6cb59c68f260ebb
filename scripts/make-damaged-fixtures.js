#!/usr/bin/env node
// Makes the damaged and hostile trace files of fixtures/ from the real recording
// fixtures/exec-scenarios.bin, deterministically (no clock, seeded randomness), for the
// offline CLI tests (test/cli-damage.test.ts) and the fuzz test (test/fuzz.test.ts).
//
//   node scripts/make-damaged-fixtures.js            write fixtures/ (make damaged-fixtures)
//   node scripts/make-damaged-fixtures.js --check    exit 1 if a committed file differs
//
// The recording holds one chunk; the base, exec-scenarios-4chunks.bin, re-cuts its records
// into four chunks of nine so that damage to one chunk leaves others to read. Every other
// file is the base with one kind of damage. Every file is laid out as format 1.0 (one copy
// of the metadata, chunks from seq 1), as the recording is: they are also what shows that
// 1.0 files stay readable (the metadata copy of 1.1 has tests of its own). Needs the
// compiled library (make build).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zb = require('zstd-napi/binding');
const F = require('../dist/src/format');

const ROOT = path.resolve(__dirname, '..');
const FIXTURES = path.join(ROOT, 'fixtures');
const SOURCE = path.join(FIXTURES, 'exec-scenarios.bin');
const BASE_NAME = 'exec-scenarios-4chunks.bin';
const CHUNKS = 4;

/** mulberry32: a small seeded PRNG, so "random" fixtures are the same on every run. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(seed, n) {
  const r = prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

function zstd(buf, level = 3) {
  const out = Buffer.alloc(zb.compressBound(buf.length));
  return Buffer.from(out.subarray(0, zb.compress(out, buf, level)));
}

/** A zstd frame of `mib` MiB of zeros that does not declare its size: a few KiB on disk. */
function bomb(mib) {
  const cctx = new zb.CCtx();
  cctx.setParameter(zb.CParameter.compressionLevel, 3);
  cctx.setParameter(zb.CParameter.contentSizeFlag, 0);
  const zeros = Buffer.alloc(1 << 20);
  const out = Buffer.alloc(1 << 20);
  const parts = [];
  for (let i = 0; i < mib; i++) {
    const [, produced] = cctx.compressStream2(out, zeros, zb.EndDirective.continue);
    parts.push(Buffer.from(out.subarray(0, produced)));
  }
  for (;;) {
    const [left, produced] = cctx.compressStream2(out, Buffer.alloc(0), zb.EndDirective.end);
    parts.push(Buffer.from(out.subarray(0, produced)));
    if (left === 0) break;
  }
  return Buffer.concat(parts);
}

/** Reads a file into its blocks: {tag, seq, offset, header, payload, flags, rawSize, records, firstTs, lastTs}. */
function blocksOf(bytes) {
  const out = [];
  let pos = F.FILE_HEADER_SIZE;
  while (pos + F.BLOCK_HEADER_SIZE <= bytes.length) {
    const h = F.decodeBlockHeader(bytes, pos);
    const end = pos + h.headerSize + h.payloadSize;
    out.push({
      tag: h.tag, seq: h.seq, offset: pos, header: bytes.subarray(pos, pos + h.headerSize),
      payload: bytes.subarray(pos + h.headerSize, end), flags: h.flags, rawSize: h.rawSize,
      records: h.recordCount, firstTs: h.firstTs, lastTs: h.lastTs,
    });
    pos = end;
    if (h.tag === F.TAG_TRAILER) break;
  }
  return out;
}

/** Encodes a block header for `b` with seq and prev_hash given (checksums always valid). */
function header(b, seq, prev) {
  return F.encodeBlockHeader({
    tag: b.tag, seq, flags: b.flags, payloadSize: b.payload.length, rawSize: b.rawSize, recordCount: b.records,
    firstTs: b.firstTs, lastTs: b.lastTs, payloadSha256: F.sha256(b.payload), prevHash: prev,
  });
}

/** The file header of format 1.0, which every fixture here keeps. */
const HEADER_1_0 = F.encodeFileHeader(1, 0);

/** A whole file from blocks, re-chained from seq 0, with a footer when the last block is TRLR. */
function assemble(blocks, fileHeader = HEADER_1_0) {
  const parts = [fileHeader];
  let prev = Buffer.alloc(32);
  let offset = fileHeader.length;
  let trailerAt = -1;
  blocks.forEach((b, seq) => {
    if (b.tag === F.TAG_TRAILER) {
      // The trailer names the chain head before it: keep it true, so only the intended damage shows.
      const doc = F.decodeDocument(Buffer.from(b.payload), F.DEFAULT_LIMITS);
      doc.final_hash = prev.toString('hex');
      const payload = F.encodeDocument(doc, F.DEFAULT_LIMITS);
      b = {...b, payload, rawSize: payload.length};
      trailerAt = offset;
    }
    const h = header(b, seq, prev);
    parts.push(h, b.payload);
    offset += h.length + b.payload.length;
    prev = F.sha256(h);
  });
  if (trailerAt >= 0) parts.push(F.encodeFooter(trailerAt));
  return Buffer.concat(parts);
}

function frameList(data) {
  const out = [];
  const c = new F.FrameCursor().reset(data);
  while (c.next()) out.push(data.subarray(c.offset - 4, c.offset + c.length));
  return out;
}

function tsOf(frame, tsOffset) {
  return frame.readBigUInt64LE(4 + tsOffset);
}

/**
 * The base: the recording's records in CHUNKS chunks, same metadata, same trailer (counts
 * redone), assembled block by block as a 1.0 writer wrote them — compressed at level 3, the
 * trailer stored as is — since TraceWriter now writes 1.1.
 */
function makeBase() {
  const r = F.TraceReader.open(SOURCE);
  const frames = [];
  try {
    for (const c of r.chunks()) frames.push(...frameList(Buffer.from(c.data)));
  } finally {
    r.close();
  }
  if (!r.trailer) throw new Error(`${SOURCE} has no trailer`);
  const tsField = r.meta.record_header.fields.find((f) => f.name === 'ts_ns');
  const metaDoc = F.encodeDocument(r.meta, F.DEFAULT_LIMITS);
  const blocks = [{tag: F.TAG_META, flags: F.BLOCK_F_ZSTD, payload: zstd(metaDoc), rawSize: metaDoc.length, records: 0, firstTs: 0n, lastTs: 0n}];
  const per = Math.ceil(frames.length / CHUNKS);
  for (let i = 0; i < frames.length; i += per) {
    const part = frames.slice(i, i + per);
    const ts = part.map((f) => tsOf(f, tsField.offset));
    const min = ts.reduce((a, b) => (b < a ? b : a));
    const max = ts.reduce((a, b) => (b > a ? b : a));
    const raw = Buffer.concat(part);
    blocks.push({tag: F.TAG_CHUNK, flags: F.BLOCK_F_ZSTD, payload: zstd(raw), rawSize: raw.length, records: part.length, firstTs: min, lastTs: max});
  }
  const {chunks: _c, records: _r, final_hash: _f, ...rest} = r.trailer;
  // final_hash is filled in by assemble(), which knows the chain.
  const trailer = F.encodeDocument({...rest, chunks: blocks.length - 1, records: frames.length, final_hash: ''}, F.DEFAULT_LIMITS);
  blocks.push({tag: F.TAG_TRAILER, flags: 0, payload: trailer, rawSize: trailer.length, records: 0, firstTs: 0n, lastTs: 0n});
  return assemble(blocks);
}

/** A file holding only the file header and a META block with this (raw msgpack) document. */
function metaOnly(doc, rawSize = doc.length) {
  return assemble([{tag: 'META', flags: F.BLOCK_F_ZSTD, payload: zstd(doc), rawSize, records: 0, firstTs: 0n, lastTs: 0n}]);
}

/** Every fixture, by file name. */
function makeAll() {
  const base = makeBase();
  const blocks = blocksOf(base);
  const [meta, c1, c2, c3, c4, trailer] = blocks;
  if (!meta || meta.tag !== 'META' || !trailer || trailer.tag !== 'TRLR' || blocks.length !== CHUNKS + 2) {
    throw new Error('unexpected base layout');
  }
  const out = {[BASE_NAME]: base};
  const copy = () => Buffer.from(base);

  // One byte of chunk 2's stored payload flipped: its checksum fails, chunks 1, 3, 4 read.
  let b = copy();
  b[c2.offset + c2.header.length + (c2.payload.length >> 1)] ^= 0x01;
  out['damaged-flipped-byte.bin'] = b;

  // One bit of chunk 2's header (payload_size): the header fails, the reader resyncs at chunk 3.
  b = copy();
  b[c2.offset + F.BH.payloadSize] ^= 0x40;
  out['damaged-header.bin'] = b;

  // Cut inside chunk 3's payload.
  out['damaged-truncated.bin'] = base.subarray(0, c3.offset + c3.header.length + 10);

  // Cut where the trailer starts: what a killed recorder leaves.
  out['damaged-no-trailer.bin'] = base.subarray(0, trailer.offset);

  // Chunks 2 and 3 swapped, bytes as they are.
  out['damaged-reordered.bin'] = Buffer.concat([
    base.subarray(0, c2.offset), base.subarray(c3.offset, c4.offset), base.subarray(c2.offset, c3.offset), base.subarray(c4.offset),
  ]);

  // Chunk 2 removed (the footer's trailer offset is fixed up, so only the gap is wrong).
  b = Buffer.concat([base.subarray(0, c2.offset), base.subarray(c3.offset)]);
  b.writeBigUInt64LE(BigInt(trailer.offset - (c3.offset - c2.offset)), b.length - F.FOOTER_SIZE);
  out['damaged-missing-chunk.bin'] = b;

  // Chunk 2 altered and re-sealed (its own checksums valid): only the chain, at chunk 3, tells.
  {
    const raw = Buffer.alloc(c2.rawSize);
    new F.PayloadDecompressor().decompressInto(c2.payload, raw);
    const at = raw.indexOf(Buffer.from('execer.out'));
    if (at < 0) throw new Error('chunk 2 holds no "execer.out" to alter');
    raw.write('EXECER', at, 'latin1');
    const altered = {...c2, payload: zstd(raw)};
    const h = header(altered, 2, F.sha256(c1.header));
    out['damaged-altered.bin'] = Buffer.concat([
      base.subarray(0, c2.offset), h, altered.payload, base.subarray(c3.offset, trailer.offset),
      ...(() => {
        // The rest keeps its bytes but moves: fix the footer's trailer offset.
        const delta = h.length + altered.payload.length - (c3.offset - c2.offset);
        const tail = Buffer.from(base.subarray(trailer.offset));
        tail.writeBigUInt64LE(BigInt(trailer.offset + delta), tail.length - F.FOOTER_SIZE);
        return [tail];
      })(),
    ]);
  }

  // The trailer re-sealed with one record too many: inconsistent with the chunks.
  {
    const doc = F.decodeDocument(Buffer.from(trailer.payload), F.DEFAULT_LIMITS);
    doc.records = Number(doc.records) + 1;
    const payload = F.encodeDocument(doc, F.DEFAULT_LIMITS);
    const t2 = {...trailer, payload, rawSize: payload.length};
    const h = header(t2, trailer.seq, F.sha256(c4.header));
    out['damaged-trailer.bin'] = Buffer.concat([base.subarray(0, trailer.offset), h, payload, F.encodeFooter(trailer.offset)]);
  }

  // A chunk header claiming a 4 GiB decompressed size, re-sealed: refused before anything is allocated.
  out['damaged-absurd-chunk.bin'] = assemble([meta, c1, {...c2, rawSize: 0xffffffff}, c3, c4, trailer]);

  // Chunk 2 replaced by a zstd frame that expands to 100 MiB of zeros, claiming its old size.
  out['damaged-bomb-chunk.bin'] = assemble([meta, c1, {...c2, payload: bomb(100)}, c3, c4, trailer]);

  // Valid metadata and chunk 1, then 8 KiB of random bytes: the reader scans them for a header and finds none.
  out['damaged-garbage-tail.bin'] = Buffer.concat([base.subarray(0, c2.offset), randomBytes(2, 8192)]);

  // Hostile from the start: nothing to decode.
  out['damaged-empty.bin'] = Buffer.alloc(0);
  out['damaged-random.bin'] = randomBytes(1, 4096);
  b = copy();
  b[1] = 0x58; // "\x89XTRC"
  out['damaged-bad-magic.bin'] = b;
  b = copy();
  b.writeUInt16LE(2, F.FH.major);
  out['damaged-future-version.bin'] = b;
  // The metadata block claims a payload of almost 4 GiB (header re-sealed).
  out['damaged-absurd-length.bin'] = Buffer.concat([
    HEADER_1_0,
    F.encodeBlockHeader({...F.decodeBlockHeader(base, meta.offset), payloadSize: 0xffffff00}),
    meta.payload,
  ]);
  // The metadata is a zstd frame expanding to 100 MiB, declared as the real metadata's size.
  out['damaged-bomb-meta.bin'] = assemble([{...meta, payload: bomb(100)}]);
  // The metadata nests 100000 arrays deep.
  out['damaged-deep-meta.bin'] = metaOnly(Buffer.concat([Buffer.from([0x81, 0xa1, 0x61]), Buffer.alloc(100000, 0x91), Buffer.from([0xc0])]));
  // The metadata holds a 20 MiB string (above the 16 MiB limit); compressed, a few KiB.
  out['damaged-huge-meta.bin'] = metaOnly(Buffer.concat([
    Buffer.from([0x81, 0xa1, 0x61, 0xdb]), (() => {
      const n = Buffer.alloc(4);
      n.writeUInt32BE(20 << 20);
      return n;
    })(), Buffer.alloc(20 << 20, 0x78),
  ]));
  return out;
}

module.exports = {makeAll, blocksOf, BASE_NAME};

if (require.main === module) {
  const check = process.argv.includes('--check');
  const all = makeAll();
  let stale = 0;
  for (const [name, bytes] of Object.entries(all)) {
    const file = path.join(FIXTURES, name);
    if (check) {
      const same = fs.existsSync(file) && fs.readFileSync(file).equals(bytes);
      if (!same) {
        stale++;
        process.stderr.write(`error: ${path.relative(ROOT, file)} is not what this script makes: run 'make damaged-fixtures' and commit it\n`);
      }
    } else {
      fs.writeFileSync(file, bytes);
      process.stdout.write(`  ${path.relative(ROOT, file)} (${bytes.length} bytes)\n`);
    }
  }
  if (stale) process.exit(1);
}
