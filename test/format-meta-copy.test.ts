// The metadata copy (format 1.1, spec §6.1 and §8.1): one changed byte in either copy of
// the metadata costs nothing — decode shows every event, verify names the damaged copy,
// recover writes a file whose metadata is whole again — and 1.0 files, with one copy, read
// as before. The file is the real recording fixtures/exec-scenarios-4chunks.bin (1.0)
// written again by today's writer.

import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {BH, TraceReader, TraceWriter, encodeBlockHeader, sha256, verifyFile} from '../src/format';
import {recoverFile} from '../src/recover';
import {blocksOf, decodeLines, readRecording, writeRecording} from './lib/files';
import {cli} from './lib/cli';

const ROOT = path.resolve(__dirname, '..');
const OLD = path.join(ROOT, 'fixtures', 'exec-scenarios-4chunks.bin');
const rec = readRecording(OLD);


function openError(file: string): string {
  try {
    TraceReader.open(file).close();
  } catch (e) {
    return (e as Error).message;
  }
  return '(no error)';
}


const dir = t.testdir();
const FILE = path.join(dir, 'scenarios-1.1.bin');
writeRecording(FILE, rec, [9, 9, 9, 9]);
const bytes = fs.readFileSync(FILE);
const blocks = blocksOf(FILE);
const [meta, copy] = blocks;
const EVENTS = decodeLines(OLD);

t.test('a 1.1 file: the metadata twice, then the chunks; it reads as the 1.0 recording it came from', async (t) => {
  t.same(blocks.map((b) => [b.tag, b.seq]), [['META', 0], ['MCPY', 1], ['CHNK', 2], ['CHNK', 3], ['CHNK', 4], ['CHNK', 5], ['TRLR', 6]]);
  t.equal(copy.offset, meta.offset + 128 + meta.payloadSize, 'the copy follows META at once');
  t.ok(bytes.subarray(copy.offset + 128, copy.offset + 128 + copy.payloadSize).equals(bytes.subarray(meta.offset + 128, meta.offset + 128 + meta.payloadSize)),
    'with the same stored payload');
  t.ok(bytes.subarray(copy.offset + BH.payloadSha256, copy.offset + BH.payloadSha256 + 32).equals(bytes.subarray(meta.offset + BH.payloadSha256, meta.offset + BH.payloadSha256 + 32)));
  t.same(bytes.subarray(copy.offset + BH.prevHash, copy.offset + BH.prevHash + 32), sha256(bytes.subarray(meta.offset, meta.offset + 128)), 'and chains to it');
  t.same([bytes.readUInt16LE(8), bytes.readUInt16LE(10)], [1, 1], 'file header: format 1.1');
  const v = verifyFile(FILE);
  t.same(v.findings, []);
  t.same([v.version, v.chunks, v.records, v.blocks], ['1.1', 4, 36, 7]);
  t.same(decodeLines(FILE), EVENTS);
});

t.test('a 1.0 file (one copy) still reads, and a damaged META in it is still the end', async (t) => {
  const r = TraceReader.open(OLD);
  t.same(r.version, {major: 1, minor: 0});
  r.close();
  t.same(blocksOf(OLD).map((b) => [b.tag, b.seq]), [['META', 0], ['CHNK', 1], ['CHNK', 2], ['CHNK', 3], ['CHNK', 4], ['TRLR', 5]]);
  t.same(verifyFile(OLD).findings, []);
  t.equal(EVENTS.length, 36);
  const old = Buffer.from(fs.readFileSync(OLD));
  old[16 + 128 + 100] ^= 0x01;
  const damaged = path.join(dir, 'old-damaged.bin');
  fs.writeFileSync(damaged, old);
  t.equal(openError(damaged), 'damaged metadata block at offset 16: payload checksum mismatch', 'the 1.0 error, word for word');
});

interface Flip {
  what: string;
  /** File offset of the byte changed. */
  at: number;
  finding: [string, number | null, number, string];
}

const FLIPS: Flip[] = [
  {
    what: 'a byte of META\'s payload', at: meta.offset + 128 + (meta.payloadSize >> 1),
    finding: ['modified', 0, 16, `metadata block seq 0 at offset 16 fails its checksum (payload SHA-256 mismatch); the metadata was read from its copy, metadata copy seq 1 at offset ${copy.offset}`],
  },
  {
    what: 'a byte of the copy\'s payload', at: copy.offset + 128 + (copy.payloadSize >> 1),
    finding: ['modified', 1, copy.offset, `metadata copy seq 1 at offset ${copy.offset} fails its checksum (payload SHA-256 mismatch); nothing lost, the metadata was read from the metadata block at offset 16`],
  },
  {
    what: 'a byte of META\'s header', at: meta.offset + BH.rawSize,
    finding: ['modified', 0, 16, `damaged metadata block header at offset 16 (header_check mismatch); the metadata was read from its copy, metadata copy seq 1 at offset ${copy.offset}`],
  },
  {
    what: 'a byte of the copy\'s header', at: copy.offset + BH.rawSize,
    finding: ['modified', 1, copy.offset, `damaged block header at offset ${copy.offset} (header_check mismatch), where the metadata copy belongs; skipped ${blocks[2].offset - copy.offset} bytes to the next valid block header at offset ${blocks[2].offset}, blocks seq 1..1 lost`],
  },
];

for (const [i, f] of FLIPS.entries()) {
  t.test(`${f.what} changed: every event decoded, verify names the copy, recover writes whole metadata`, async (t) => {
    const file = path.join(dir, `flip-${i}.bin`);
    const b = Buffer.from(bytes);
    b[f.at] ^= 0x04;
    fs.writeFileSync(file, b);

    const problems: string[] = [];
    t.same(decodeLines(file, problems), EVENTS, 'decode shows all 36 events');
    t.same(problems, [f.finding[3]]);
    const r = TraceReader.open(file);
    t.same(r.meta, rec.meta, 'the metadata, from whichever copy is intact');
    r.close();

    const v = verifyFile(file);
    t.same(v.findings.map((x) => [x.kind, x.seq, x.offset, x.message]), [f.finding], 'verify names the damaged copy');
    t.same([v.intact, v.chunks, v.records, v.complete], [false, 4, 36, true]);

    const out = path.join(dir, `flip-${i}-recovered.bin`);
    const rr = recoverFile(file, out);
    t.same([rr.records, rr.copied, rr.records_dropped], [36, 4, 0]);
    const v2 = verifyFile(out);
    t.same(v2.findings, [], 'the recovered file verifies clean');
    t.same(blocksOf(out).slice(0, 2).map((x) => x.tag), ['META', 'MCPY'], 'with both copies');
    t.same(decodeLines(out), EVENTS);
    const back = TraceReader.open(out);
    const {recovered_from: note, ...kept} = back.meta;
    back.close();
    t.same(kept, rec.meta, 'the metadata as recorded');
    t.same((note as {problems: Array<{seq: number; offset: number}>}).problems.map((p) => [p.seq, p.offset]), [[f.finding[1], f.finding[2]]]);
  });
}

t.test('the command line: decode exits 3 with every event, verify names the copy', async (t) => {
  const file = path.join(dir, 'flip-0.bin');
  const [dec, ver] = await Promise.all([cli(['decode', file, '--json', '--no-processes']), cli(['verify', file])]);
  t.equal(dec.status, 3);
  t.same(dec.stdout.split('\n').filter(Boolean), EVENTS);
  t.equal(dec.stderr, `exectrace: ${file}: ${FLIPS[0].finding[3]}\n`);
  t.equal(ver.status, 3);
  t.match(ver.stdout, `  modified    ${FLIPS[0].finding[3]}\n`);
  t.match(ver.stdout, 'format 1.1, 4 readable chunks (36 records), trailer (command exited)');
});

t.test('both copies damaged: a one-line error that names both', async (t) => {
  const file = path.join(dir, 'both.bin');
  const b = Buffer.from(bytes);
  b[FLIPS[0].at] ^= 0x04;
  b[FLIPS[1].at] ^= 0x04;
  fs.writeFileSync(file, b);
  t.equal(openError(file),
    `damaged metadata block at offset 16: payload checksum mismatch; its copy at offset ${copy.offset} is damaged too (payload checksum mismatch)`);
  const h = Buffer.from(bytes);
  h[FLIPS[2].at] ^= 0x04;
  h[FLIPS[1].at] ^= 0x04;
  fs.writeFileSync(file, h);
  t.equal(openError(file),
    `damaged metadata block header at offset 16 (header_check mismatch); its copy at offset ${copy.offset} is damaged too (payload checksum mismatch)`);
});

t.test('a copy altered and re-sealed is not taken for the metadata', async (t) => {
  // META damaged, and a "copy" whose own checksums hold but whose payload META's header does not vouch for.
  const file = path.join(dir, 'forged.bin');
  const b = Buffer.from(bytes);
  const forged = Buffer.from(b.subarray(copy.offset + 128, copy.offset + 128 + copy.payloadSize));
  forged[forged.length >> 1] ^= 0x04;
  const h = encodeBlockHeader({tag: 'MCPY', seq: 1, flags: copy.flags, payloadSize: forged.length, rawSize: copy.rawSize, recordCount: 0,
    firstTs: 0n, lastTs: 0n, payloadSha256: sha256(forged), prevHash: sha256(b.subarray(16, 16 + 128))});
  h.copy(b, copy.offset);
  forged.copy(b, copy.offset + 128);
  fs.writeFileSync(file, b);
  t.same(verifyFile(file).findings.map((x) => [x.kind, x.seq, x.message]), [
    ['modified', 1, `metadata copy seq 1 at offset ${copy.offset} is not a copy of the metadata in use (its payload SHA-256 differs from that of the metadata block at offset 16); copy ignored`],
    ['modified', 2, `chunk seq 2 at offset ${blocks[2].offset} does not chain to the block before it (prev_hash mismatch): a block was altered, removed or inserted`],
  ], 'with META intact, the altered copy is reported and ignored');
  b[FLIPS[0].at] ^= 0x04;
  fs.writeFileSync(file, b);
  t.equal(openError(file),
    `damaged metadata block at offset 16: payload checksum mismatch; its copy at offset ${copy.offset} is damaged too (its payload SHA-256 is not the metadata block's)`);
});

t.test('a recorder killed before its first chunk, or after it, leaves both copies', async (t) => {
  for (const chunks of [0, 1]) {
    const file = path.join(dir, `killed-${chunks}.bin`);
    const w = TraceWriter.create(file, rec.meta);
    if (chunks) w.writeChunk(Buffer.concat(rec.frames.slice(0, 9)), {records: 9, firstTs: 0, lastTs: 0});
    w.destroy(); // what SIGKILL leaves: no trailer
    t.same(blocksOf(file).map((b) => b.tag), ['META', 'MCPY', ...(chunks ? ['CHNK'] : [])]);
    const b = fs.readFileSync(file);
    b[FLIPS[0].at] ^= 0x04;
    fs.writeFileSync(file, b);
    const first = path.join(dir, `first-${chunks}.bin`);
    writeRecording(first, {...rec, frames: rec.frames.slice(0, 9 * chunks)}, chunks ? [9] : []);
    const problems: string[] = [];
    t.same(decodeLines(file, problems), decodeLines(first), 'META damaged: the records read through the copy');
    t.same(problems, [FLIPS[0].finding[3]]);
  }
});
