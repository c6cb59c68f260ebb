// The writer on a bad day, offline: a write that fails mid-block (here EFBIG from a file
// size limit, the same path as ENOSPC) cuts the partial block off again, so the file ends
// at its last complete chunk and reads as an unfinished recording, not a damaged one; the
// error is one line naming the file and the errno. And the background fdatasync the
// recorder starts every flush never races close: the fd is closed once, after the sync.

import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {spawnSync} from 'node:child_process';
import {TraceWriter, verifyFile} from '../src/format';

const ROOT = path.resolve(__dirname, '..');

function frames(n: number, size: number, seed: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(size);
    const rec = Buffer.alloc(size);
    let x = (seed * 7919 + i) >>> 0;
    for (let j = 0; j < size; j++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0; // incompressible enough
      rec[j] = x >>> 24;
    }
    parts.push(len, rec);
  }
  return Buffer.concat(parts);
}

t.test('a write that fails mid-chunk: the partial chunk is cut off, the error is one line', {skip: process.platform !== 'linux' && 'needs ulimit -f'}, async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'limited.bin');
  // The writer runs in a child with a 32 KiB file size limit (SIGXFSZ ignored, so write() fails with EFBIG).
  const script = `
    const {TraceWriter} = require(${JSON.stringify(path.join(ROOT, 'dist/src/format'))});
    const frames = ${frames.toString()};
    const w = TraceWriter.create(${JSON.stringify(file)}, {exectrace: 'test'});
    let error = null;
    for (let i = 0; i < 100 && !error; i++) {
      try { w.writeChunk(frames(5, 1000, i), {records: 5, firstTs: i, lastTs: i}); } catch (e) { error = e.message; }
    }
    let again = null;
    try { w.writeChunk(frames(1, 10, 0), {records: 1, firstTs: 0, lastTs: 0}); } catch (e) { again = e.message; }
    w.destroy();
    console.log(JSON.stringify({error, again, ...w.stats}));`;
  const r = spawnSync('sh', ['-c', `trap '' XFSZ; ulimit -f 64; exec "$0" -e "$1"`, process.execPath, script], {encoding: 'utf8'});
  t.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.equal(out.error, `write ${file}: file too large (EFBIG)`);
  t.equal(out.again, out.error, 'a failed writer keeps failing with the same error');
  t.ok(out.chunks >= 3, `${out.chunks} chunks were written before the limit`);
  t.equal(fs.statSync(file).size, out.bytes, 'the file ends where the last complete block ends');
  const v = verifyFile(file);
  t.same(v.findings.map((f) => f.kind), ['trailer-missing'], 'an unfinished file, not a truncated one');
  t.equal(v.chunks, out.chunks);
  t.equal(v.records, out.records);
});

t.test('a failed metadata write removes the file it created', {skip: process.platform !== 'linux' && 'needs ulimit -f'}, async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'nometa.bin');
  const script = `
    const {TraceWriter} = require(${JSON.stringify(path.join(ROOT, 'dist/src/format'))});
    try { TraceWriter.create(${JSON.stringify(file)}, {exectrace: 'test', pad: require('crypto').randomBytes(64 * 1024)}); }
    catch (e) { console.log(e.message); }`;
  const r = spawnSync('sh', ['-c', `trap '' XFSZ; ulimit -f 16; exec "$0" -e "$1"`, process.execPath, script], {encoding: 'utf8'});
  t.equal(r.stdout, `write ${file}: file too large (EFBIG)\n`, r.stderr);
  t.notOk(fs.existsSync(file), 'nothing is left behind');
});

t.test('syncSoon then close: the file is complete, its fd closed exactly once after the sync', async (t) => {
  const dir = t.testdir();
  const fds = () => fs.readdirSync('/proc/self/fd').length;
  const before = process.platform === 'linux' ? fds() : 0;
  const file = path.join(dir, 'synced.bin');
  const w = TraceWriter.create(file, {exectrace: 'test'});
  w.writeChunk(frames(3, 100, 1), {records: 3, firstTs: 1, lastTs: 2});
  w.syncSoon();
  w.syncSoon(); // one at a time: a second call while one runs is a no-op
  w.writeChunk(frames(3, 100, 2), {records: 3, firstTs: 3, lastTs: 4});
  w.close({end_reason: 'test'});
  t.equal(verifyFile(file).intact, true);
  await new Promise((r) => setTimeout(r, 200));
  if (process.platform === 'linux') t.equal(fds(), before, 'no fd left open');
  t.equal(w.error, null);
  const d = TraceWriter.create(path.join(dir, 'destroyed.bin'), {exectrace: 'test'});
  d.writeChunk(frames(1, 10, 3), {records: 1, firstTs: 0, lastTs: 0});
  d.syncSoon();
  d.destroy();
  d.destroy();
  await new Promise((r) => setTimeout(r, 200));
  if (process.platform === 'linux') t.equal(fds(), before, 'destroy during a sync closes once the sync is done');
});
