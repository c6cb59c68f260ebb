// A rotated recording's files, offline (formats/trace-format.md §10.19, §8.7): their names,
// --max-files, the series' links as src/record/series.ts writes them (with real trace files,
// synthetic records), and `exectrace verify` over the files: intact, a file missing in the
// middle or at the end (by number and name), a file cut short (the link after it breaks), a
// file given twice, and the oldest removed (informative only). No kernel.

import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {randomBytes} from 'node:crypto';
import {seriesPlace, TraceReader, TraceWriter, verifyFile, verifySeries} from '../src/format';
import {pruneSeries, Series, seriesNames, seriesNumber, seriesPath, type SeriesMeta} from '../src/record/series';
import {cli} from './lib/cli';

t.test('names: trace.bin → trace-000001.bin, and only names of that pattern are the series\'', async (t) => {
  const n = seriesNames('/var/log/exectrace/trace.bin');
  t.same(n, {dir: '/var/log/exectrace', stem: 'trace', ext: '.bin'});
  t.equal(seriesPath(n, 1), '/var/log/exectrace/trace-000001.bin');
  t.equal(seriesPath(n, 1234567), '/var/log/exectrace/trace-1234567.bin', 'more digits once needed');
  t.equal(seriesPath(seriesNames('/tmp/rec'), 2), '/tmp/rec-000002', 'no extension');
  t.equal(seriesPath(seriesNames('/tmp/a.b.bin'), 3), '/tmp/a.b-000003.bin', 'the last dot starts the extension');
  t.equal(seriesNumber(n, 'trace-000042.bin'), 42);
  t.equal(seriesNumber(n, 'trace-1234567.bin'), 1234567);
  for (const other of ['trace-42.bin', 'trace-000042.bin.tmp', 'trace.bin', 'xtrace-000001.bin', 'trace-00000a.bin', 'trace-000000.bin']) {
    t.equal(seriesNumber(n, other), null, `${other} is not one of the series`);
  }
});

/** Frames of `n` 16-byte records (the writer only frames them; verify checks the framing). */
function frames(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n * 20);
  for (let i = 0; i < n; i++) {
    out.writeUInt32LE(16, i * 20);
    randomBytes(12).copy(out, i * 20 + 4); // does not compress: each chunk adds about 4 KB
    out.writeUInt32LE(seed + i, i * 20 + 16);
  }
  return out;
}

/** A series written as the recorder writes one, without a kernel: a chunk per call, rotated by size. */
async function writeSeries(output: string, chunks: number, rotateBytes: number, maxFiles?: number): Promise<Series> {
  const s: Series = new Series(output, {bytes: rotateBytes, maxFiles}, {
    open: (file: string, series: SeriesMeta) => TraceWriter.create(file, {exectrace: 'test', series}, {level: 1}),
    ending: (why) => (w, place) => w.close({end_reason: `rotated (${why})`, series: place}),
    log: () => {},
    fail: (err) => {
      throw err;
    },
  });
  s.start((then) => then());
  for (let i = 0; i < chunks; i++) {
    s.writeChunk(frames(200, i * 1000), {records: 200, firstTs: 0, lastTs: 0, counted: true});
    await new Promise((r) => setImmediate(r)); // a rotation runs from the event loop
  }
  s.stop();
  s.writer!.close({end_reason: 'command exited', series: {id: s.id, seq: s.seq, next: null}});
  return s;
}

t.test('a series: each file complete, 0600, linked to the one before by its chain head', async (t) => {
  const dir = t.testdir();
  const s = await writeSeries(path.join(dir, 'trace.bin'), 8, 6000);
  const names = fs.readdirSync(dir).sort();
  t.ok(names.length >= 3, `several files (${names.join(', ')})`);
  t.same(names, names.map((_, i) => `trace-${String(i + 1).padStart(6, '0')}.bin`), 'numbered from 1, no gap');
  t.same(s.files.map((f) => path.basename(f)), names);
  const reports = names.map((n) => verifyFile(path.join(dir, n)));
  for (const [i, r] of reports.entries()) {
    t.equal(r.intact, true, `${names[i]} intact on its own`);
    t.equal(fs.statSync(r.file).mode & 0o777, 0o600, `${names[i]} is mode 0600`);
    const rd = TraceReader.open(r.file);
    const meta = rd.meta.series as Record<string, unknown>;
    rd.close();
    t.equal(meta.seq, i + 1);
    t.equal(meta.first, i === 0);
    t.same(meta.prev, i === 0 ? null : {file: names[i - 1], seq: i, chain_head: reports[i - 1].chain_head}, 'names the file before and its chain head');
    t.equal(r.series?.next, i + 1 < names.length ? names[i + 1] : null, 'the trailer names the next file');
  }
  const [v] = verifySeries(reports);
  t.same(v.findings, []);
  t.equal(v.intact, true);
  t.equal(v.whole, true);

  // A new recording with the same -o numbers on after the files there; it never overwrites.
  const again = new Series(path.join(dir, 'trace.bin'), {bytes: 2000}, {open: () => { throw new Error('unused'); }, ending: () => () => {}, log: () => {}, fail: () => {}});
  t.equal(again.nextPath, path.join(dir, `trace-${String(names.length + 1).padStart(6, '0')}.bin`));
  t.not(again.id, s.id, 'a new series id');
});

t.test('verify FILE…: which file is missing, which link is broken, which file is repeated', async (t) => {
  const dir = t.testdir();
  await writeSeries(path.join(dir, 'trace.bin'), 10, 6000);
  const files = fs.readdirSync(dir).sort();
  t.ok(files.length >= 4, `${files.length} files`);
  const at = (i: number) => path.join(dir, files[i]);
  const pattern = path.join(dir, 'trace-*.bin');

  let r = await cli(['verify', pattern]);
  t.equal(r.status, 0, 'a whole series verifies (exit 0)');
  t.match(r.stdout, new RegExp(`^series [0-9a-f]{32}: ${files.length} files, seq 1–${files.length}: intact, whole`, 'm'));

  // A file in the middle gone: its number and name, from its neighbours.
  const kept = fs.readFileSync(at(1));
  fs.rmSync(at(1));
  r = await cli(['verify', pattern]);
  t.equal(r.status, 3, 'exit 3');
  t.match(r.stdout, /NOT INTACT \(file-missing\)/);
  t.match(r.stdout, new RegExp(`file-missing  seq 2 \\(${files[1]}\\) missing: between ${at(0)} \\(seq 1\\) and ${at(2)} \\(seq 3\\)`));
  fs.writeFileSync(at(1), kept, {mode: 0o600});

  // The last file gone: the one before says the recording went on.
  const last = files.length - 1;
  const lastBytes = fs.readFileSync(at(last));
  fs.rmSync(at(last));
  r = await cli(['verify', pattern, '--json']);
  t.equal(r.status, 3);
  const j = JSON.parse(r.stdout);
  t.same(j.series[0].findings.map((f: {kind: string; seq: number; file: string}) => [f.kind, f.seq, f.file]), [['file-missing', last + 1, files[last]]]);
  fs.writeFileSync(at(last), lastBytes, {mode: 0o600});

  // A file cut at a block boundary (its trailer gone): it says so, and the link after it breaks.
  const cut = fs.readFileSync(at(1));
  const trailerOffset = Number(cut.readBigUInt64LE(cut.length - 16));
  fs.writeFileSync(at(1), cut.subarray(0, trailerOffset), {mode: 0o600});
  r = await cli(['verify', pattern]);
  t.equal(r.status, 3);
  t.match(r.stdout, new RegExp(`${at(1)}: NOT INTACT \\(trailer-missing\\)`));
  t.match(r.stdout, new RegExp(`link-broken   link from ${at(1)} \\(seq 2\\) to ${at(2)} \\(seq 3\\) is broken: it names chain head [0-9a-f]{64} for ${files[1]}, and ${at(1)} has [0-9a-f]{64}`));
  fs.writeFileSync(at(1), cut, {mode: 0o600});

  // The same file given twice (a copy under another name).
  const copy = path.join(dir, 'copy.bin');
  fs.copyFileSync(at(2), copy);
  r = await cli(['verify', pattern, copy]);
  t.equal(r.status, 3);
  t.match(r.stdout, new RegExp(`file-repeated  seq 3 is given twice: ${at(2)} and ${copy}`));
  fs.rmSync(copy);

  // --max-files: the oldest removed. What is left still verifies; the start is only said.
  const removed = pruneSeries(seriesNames(path.join(dir, 'trace.bin')), 2, () => {});
  t.same(removed.map((p) => path.basename(p)), files.slice(0, files.length - 2), 'the lowest numbers removed');
  r = await cli(['verify', pattern]);
  t.equal(r.status, 0, 'the files kept verify (exit 0)');
  t.match(r.stdout, new RegExp(`series-start  the series begins before ${at(last - 1)} \\(seq ${last}\\), after ${files[last - 2]} \\(seq ${last - 1}\\): the earlier files are not given`));
});

t.test('seriesPlace: a filtered copy is not a file of the series; keys that cannot be read are said', async (t) => {
  const series = {id: 'a'.repeat(32), seq: 2, first: false, prev: {file: 'trace-000001.bin', seq: 1, chain_head: 'b'.repeat(64)}, started: 'x'};
  t.same(seriesPlace({series}, {series: {id: 'a'.repeat(32), seq: 2, next: null}}),
    {id: 'a'.repeat(32), seq: 2, first: false, prev: series.prev, next: null});
  t.equal(seriesPlace({series, filter: {applied: {}}}, null), null, 'written by filter: a subset, not the file');
  t.equal(seriesPlace({exectrace: '0.1.0'}, null), null, 'not a series file');
  t.equal(seriesPlace({series: 5}, null)?.malformed, 'the metadata\'s series is not a map');
  t.equal(seriesPlace({series: {...series, seq: -1, prev: {file: 3}}}, null)?.malformed, 'unreadable series keys: seq, prev');
  // Reported as a broken link by verify, naming the file.
  const report = {file: 'odd.bin', intact: true, chain_head: '', series: seriesPlace({series: {...series, prev: 'x'}}, null)!} as never;
  const [v] = verifySeries([report]);
  t.same(v.findings.map((f) => [f.kind, f.message]), [['link-broken', 'odd.bin: unreadable series keys: prev']]);
});
