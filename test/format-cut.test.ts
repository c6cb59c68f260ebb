// A file cut inside a chunk (a copy cut short, a disk that filled): decode, verify and
// recover keep every record of the cut chunk that the bytes before the cut hold whole
// (spec §8.2.1), report the cut with the count, and recover writes those records out.
// The records are the real recording fixtures/exec-lossy.bin's.

import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zb from 'zstd-napi/binding';
import {type Chunk, type Problem, TraceReader, TraceWriter, verifyFile} from '../src/format';
import {recoverFile} from '../src/recover';
import {filterFile} from '../src/filter';
import {blocksOf, decodeLines, readRecording, writeRecording} from './lib/files';
import {cli} from './lib/cli';

const ROOT = path.resolve(__dirname, '..');
const FIXTURE = path.join(ROOT, 'fixtures', 'exec-lossy.bin');
const rec = readRecording(FIXTURE);
const FIRST = 200;
const REST = rec.frames.length - FIRST;
const PER_SEGMENT = 40;

/**
 * One zstd frame of `frames`, flushed after every `per` records, so that it holds one zstd
 * block per group (the writer's one-shot frames hold one per 128 KiB). `sealed[i]` says how
 * many records are decodable from the first `end` bytes of the frame.
 */
function segmented(frames: Buffer[], per: number): {payload: Buffer; sealed: Array<{records: number; end: number}>} {
  const cctx = new zb.CCtx();
  cctx.setParameter(zb.CParameter.compressionLevel, 1);
  cctx.setPledgedSrcSize(frames.reduce((n, f) => n + f.length, 0));
  const out = Buffer.alloc(1 << 20);
  const parts: Buffer[] = [];
  let size = 0;
  const drain = (src: Buffer, op: zb.EndDirective): void => {
    let input = src;
    for (;;) {
      const [left, produced, consumed] = cctx.compressStream2(out, input, op);
      parts.push(Buffer.from(out.subarray(0, produced)));
      size += produced;
      input = input.subarray(consumed);
      if (left === 0 && input.length === 0) return;
    }
  };
  const sealed: Array<{records: number; end: number}> = [];
  for (let i = 0; i < frames.length; i += per) {
    drain(Buffer.concat(frames.slice(i, i + per)), zb.EndDirective.flush);
    sealed.push({records: Math.min(frames.length, i + per), end: size});
  }
  drain(Buffer.alloc(0), zb.EndDirective.end);
  return {payload: Buffer.concat(parts), sealed};
}

interface Read {
  chunks: Chunk[];
  problems: Problem[];
}


function read(file: string): Read {
  const r = TraceReader.open(file);
  const chunks: Chunk[] = [];
  try {
    for (const c of r.chunks()) chunks.push({...c, data: Buffer.from(c.data)});
  } finally {
    r.close();
  }
  return {chunks, problems: r.problems};
}


t.test('cut at several offsets inside a chunk of several zstd blocks: every complete record before the cut', async (t) => {
  const dir = t.testdir();
  const {payload, sealed} = segmented(rec.frames.slice(FIRST), PER_SEGMENT);
  t.ok(sealed.length > 5, `${sealed.length} zstd blocks in the chunk`);
  const whole = path.join(dir, 'whole.bin');
  writeRecording(whole, rec, [FIRST, REST], new Map([[1, payload]]));
  const bytes = fs.readFileSync(whole);
  const blocks = blocksOf(whole);
  const intact = read(whole);
  t.same(intact.problems, []);
  t.same(intact.chunks.map((c) => [c.seq, c.records]), [[2, FIRST], [3, REST]], 'the whole file: the metadata copy, then two chunks');
  const c2 = intact.chunks[1];
  const start = c2.offset + 128;

  // Where to cut, as payload bytes kept: the header alone, inside the zstd frame header, just
  // before and at the ends of zstd blocks, and one byte short of the whole payload.
  const keep = [0, 5, sealed[0].end - 1, sealed[0].end, sealed[3].end + 7, sealed[sealed.length - 2].end, payload.length - 1];
  const recovered: number[] = [];
  for (const [i, kept] of keep.entries()) {
    const cut = start + kept;
    const expect = sealed.filter((s) => s.end <= kept).reduce((n, s) => Math.max(n, s.records), 0);
    recovered.push(expect);
    const file = path.join(dir, `cut-${i}.bin`);
    fs.writeFileSync(file, bytes.subarray(0, cut));
    const message = `chunk seq 3 at offset ${c2.offset} cut at offset ${cut} (${payload.length - kept} of ${payload.length} payload bytes missing): ${expect} of ${REST} records recovered`;

    const o = read(file);
    t.same(o.problems, [{kind: 'truncated', seq: 3, offset: c2.offset, records: REST, message}], `cut at ${cut}: the problem counts ${expect} records`);
    t.same(o.chunks.map((c) => [c.seq, c.records, c.cut ?? null]), [[2, FIRST, null], ...(expect ? [[3, expect, {declared: REST}]] : [])]);
    if (expect) t.ok(o.chunks[1].data.equals(Buffer.concat(rec.frames.slice(FIRST, FIRST + expect))), 'the records recovered are the intact file\'s, byte for byte');

    // What the intact file holds before that point, as its own file: decode must give the same.
    const before = path.join(dir, `before-${i}.bin`);
    writeRecording(before, {...rec, frames: rec.frames.slice(0, FIRST + expect)}, [FIRST]);
    const problems: string[] = [];
    const lines = decodeLines(file, problems);
    t.same(lines, decodeLines(before), `decode gives the events of the ${FIRST + expect} records before the cut`);
    t.same(problems, [message]);

    const v = verifyFile(file);
    t.same(v.findings.map((f) => [f.kind, f.seq, f.offset, f.records, f.message]), [['truncated', 3, c2.offset, REST, message]]);
    t.equal(v.records, FIRST + expect, 'verify counts the records recovered');

    const out = path.join(dir, `recovered-${i}.bin`);
    const r = recoverFile(file, out);
    t.same([r.records, r.records_dropped, r.copied, r.reframed], [FIRST + expect, REST - expect, 1, expect ? 1 : 0]);
    const v2 = verifyFile(out);
    t.same(v2.findings, [], 'the recovered file verifies intact');
    t.equal(v2.records, FIRST + expect);
    t.same(decodeLines(out), lines, 'the recovered file holds the records recovered');

    // filter -o keeping everything: the cut chunk's records are written anew, not its partial payload copied.
    const filtered = path.join(dir, `filtered-${i}.bin`);
    filterFile(file, filtered, {}, {force: true});
    t.same(verifyFile(filtered).findings, [], 'the filtered file verifies intact');
    t.same(decodeLines(filtered), lines, 'and holds the same events');
  }
  t.comment(`payload bytes kept ${keep.join(', ')} of ${payload.length}: records recovered ${recovered.join(', ')} of ${REST}`);
  t.same(recovered, [0, 0, 0, PER_SEGMENT, 4 * PER_SEGMENT, (sealed.length - 1) * PER_SEGMENT, REST],
    'what each cut recovers (the last cut keeps every zstd block; only the frame\'s empty last block is cut)');

  // The command line says it too, with exit status 3.
  const file = path.join(dir, 'cut-4.bin');
  const cut = start + keep[4];
  const message = `chunk seq 3 at offset ${c2.offset} cut at offset ${cut} (${payload.length - keep[4]} of ${payload.length} payload bytes missing): ${4 * PER_SEGMENT} of ${REST} records recovered`;
  const [dec, ver] = await Promise.all([cli(['decode', file, '--json', '--no-processes']), cli(['verify', file])]);
  t.equal(dec.status, 3);
  t.equal(dec.stderr, `exectrace: ${file}: ${message}\n`);
  t.equal(dec.stdout.split('\n').filter(Boolean).length, decodeLines(path.join(dir, 'before-4.bin')).length);
  t.equal(ver.status, 3);
  t.match(ver.stdout, `  truncated   ${message}\n`);
  t.match(ver.stdout, `format 1.1, 2 readable chunks (${FIRST + 4 * PER_SEGMENT} records)`);
  t.same(blocks.map((b) => b.tag), ['META', 'MCPY', 'CHNK', 'CHNK', 'TRLR']);
});

t.test('the recording as it is: one zstd block per chunk, so a cut inside it keeps none of its records', async (t) => {
  // exec-lossy.bin (format 1.0) has one chunk of 722 records, 111717 bytes: less than one zstd block.
  const dir = t.testdir();
  const bytes = fs.readFileSync(FIXTURE);
  const blocks = blocksOf(FIXTURE);
  t.same(blocks.map((b) => [b.tag, b.seq]), [['META', 0], ['CHNK', 1], ['TRLR', 2]]);
  const c1 = blocks[1];
  for (const kept of [100, c1.payloadSize >> 1, c1.payloadSize - 1]) {
    const file = path.join(dir, `cut-${kept}.bin`);
    fs.writeFileSync(file, bytes.subarray(0, c1.offset + 128 + kept));
    const o = read(file);
    t.same(o.chunks, []);
    t.same(o.problems.map((p) => p.message), [
      `chunk seq 1 at offset ${c1.offset} cut at offset ${c1.offset + 128 + kept} (${c1.payloadSize - kept} of ${c1.payloadSize} payload bytes missing): 0 of 722 records recovered`]);
  }
});

t.test('an uncompressed chunk cut: the complete frames before the cut, to the byte', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'raw.bin');
  const frames = rec.frames.slice(0, 30);
  const raw = Buffer.concat(frames);
  const w = TraceWriter.create(file, rec.meta);
  w.copyChunk({payload: raw, flags: 0, rawSize: raw.length, records: frames.length, firstTs: 0, lastTs: 0});
  w.destroy();
  const bytes = fs.readFileSync(file);
  const start = bytes.length - raw.length;
  const ends = frames.map((_, i) => frames.slice(0, i + 1).reduce((n, f) => n + f.length, 0));
  for (const kept of [3, ends[0] - 1, ends[0], ends[9] + 2, raw.length - 1]) {
    const cut = path.join(dir, `cut-${kept}.bin`);
    fs.writeFileSync(cut, bytes.subarray(0, start + kept));
    const expect = ends.filter((e) => e <= kept).length;
    const o = read(cut);
    t.match(o.problems[0]?.message, `: ${expect} of 30 records recovered`);
    t.same(o.chunks.map((c) => c.records), expect ? [expect] : []);
    if (expect) t.ok(o.chunks[0].data.equals(Buffer.concat(frames.slice(0, expect))));
  }
});

t.test('a payload all there but damaged is skipped whole, even after a cut with bytes appended', async (t) => {
  // The checksum fails: the damage could be anywhere, so no record of the chunk is guessed at (spec §8.2.1).
  const dir = t.testdir();
  const {payload} = segmented(rec.frames.slice(FIRST), PER_SEGMENT);
  const whole = path.join(dir, 'whole.bin');
  writeRecording(whole, rec, [FIRST, REST], new Map([[1, payload]]));
  const bytes = fs.readFileSync(whole);
  const c2 = read(whole).chunks[1];
  const cut = c2.offset + 128 + (payload.length >> 1);
  const file = path.join(dir, 'appended.bin');
  fs.writeFileSync(file, Buffer.concat([bytes.subarray(0, cut), Buffer.alloc(payload.length, 0x5a)]));
  const o = read(file);
  t.same(o.chunks.map((c) => c.seq), [2]);
  t.same(o.problems[0], {kind: 'checksum', seq: 3, offset: c2.offset, records: REST,
    message: `chunk seq 3 at offset ${c2.offset} (${REST} records) fails its checksum (payload SHA-256 mismatch); block skipped`});
});
