// Damaged and hostile files through the CLI, as a user meets them: decode, stats and verify
// on the committed fixtures/damaged-*.bin (made from the real recording
// fixtures/exec-scenarios.bin by scripts/make-damaged-fixtures.js). Damage costs the
// damaged chunk only, is named on stderr (seq, offset, records) and makes the exit status
// 3; a file that cannot be read at all is one line and status 1, never a stack trace; and
// recover turns every damaged file into one that verify calls intact and that decodes to
// the same events.

import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {createHash} from 'node:crypto';
import {TraceReader, verifyFile} from '../src/format';
import {recoverFile} from '../src/recover';
import {cli, lines} from './lib/cli';
import {decodeLines, fileSha256} from './lib/files';

const ROOT = path.resolve(__dirname, '..');
const FIX = path.join(ROOT, 'fixtures');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const gen = require('../scripts/make-damaged-fixtures.js') as {
  makeAll(): Record<string, Buffer>;
  blocksOf(b: Buffer): Array<{tag: string; seq: number; offset: number; header: Buffer; payload: Buffer; records: number}>;
  BASE_NAME: string;
};

const BASE = path.join(FIX, gen.BASE_NAME);
const base = fs.readFileSync(BASE);
const [, c1, c2, c3, c4, tr] = gen.blocksOf(base);
const fix = (name: string) => path.join(FIX, name);
const rel = (name: string) => path.relative(ROOT, fix(name));

const sha256 = fileSha256;

t.test('the committed fixtures are what scripts/make-damaged-fixtures.js makes (make damaged-fixtures)', async (t) => {
  for (const [name, bytes] of Object.entries(gen.makeAll())) {
    t.ok(fs.existsSync(fix(name)) && fs.readFileSync(fix(name)).equals(bytes), name);
  }
  t.same([c1, c2, c3, c4].map((c) => [c.tag, c.records]), [['CHNK', 9], ['CHNK', 9], ['CHNK', 9], ['CHNK', 9]], 'the base holds 4 chunks of 9 records');
});

t.test('the intact base: decode 0, verify intact 0', async (t) => {
  const [d, v] = await Promise.all([cli(['decode', rel(gen.BASE_NAME), '--json', '--no-processes']), cli(['verify', rel(gen.BASE_NAME)])]);
  t.equal(d.status, 0);
  t.equal(d.stderr, '');
  t.equal(lines(d.stdout).length, 36);
  t.equal(v.status, 0);
  const head = createHash('sha256').update(tr.header).digest('hex');
  t.equal(v.stdout, [
    `${rel(gen.BASE_NAME)}: intact`,
    '  contents    format 1.0, 4 readable chunks (36 records), trailer (command exited)',
    `  size        ${base.length} bytes`,
    `  sha256      ${sha256(BASE)}`,
    `  chain head  ${head}`,
    ''].join('\n'));
});

interface Damage {
  name: string;
  /** Records decode still delivers (of 36). */
  records: number;
  /** decode's stderr, after "exectrace: FILE: ". */
  problems: Array<string | RegExp>;
  /** verify's findings: [kind, seq, offset]. */
  findings: Array<[string, number | null, number]>;
  complete: boolean;
}

const movedBy = fs.statSync(fix('damaged-altered.bin')).size - base.length;
const NO_TRAILER = 'no trailer: the recording did not end cleanly (everything up to the last chunk was decoded)';
const DAMAGE: Damage[] = [
  {
    name: 'damaged-flipped-byte.bin', records: 27, complete: true,
    problems: [`chunk seq 2 at offset ${c2.offset} (9 records) fails its checksum (payload SHA-256 mismatch); block skipped`],
    findings: [['modified', 2, c2.offset]],
  },
  {
    name: 'damaged-header.bin', records: 27, complete: true,
    problems: [`damaged block header at offset ${c2.offset} (header_check mismatch); skipped ${c3.offset - c2.offset} bytes to the next valid block header at offset ${c3.offset}, blocks seq 2..2 lost`],
    findings: [['modified', 2, c2.offset]],
  },
  {
    name: 'damaged-truncated.bin', records: 18, complete: false,
    problems: [`chunk seq 3 at offset ${c3.offset} cut at offset ${c3.offset + 128 + 10} (${c3.payload.length - 10} of ${c3.payload.length} payload bytes missing): 0 of 9 records recovered`],
    findings: [['truncated', 3, c3.offset]],
  },
  {
    name: 'damaged-no-trailer.bin', records: 36, complete: false,
    problems: [NO_TRAILER],
    findings: [['trailer-missing', null, tr.offset]],
  },
  {
    name: 'damaged-reordered.bin', records: 27, complete: true,
    problems: [
      `blocks seq 2..2 are missing before chunk seq 3 at offset ${c2.offset}`,
      `chunk seq 2 at offset ${c2.offset + c4.offset - c3.offset} is out of order (expected seq 4); block skipped`,
      `chunk seq 4 at offset ${c4.offset} does not chain to the block before it (prev_hash mismatch): a block was altered, removed or inserted`,
    ],
    findings: [['missing', 2, c2.offset], ['reordered', 2, c2.offset + c4.offset - c3.offset], ['modified', 4, c4.offset]],
  },
  {
    name: 'damaged-missing-chunk.bin', records: 27, complete: true,
    problems: [`blocks seq 2..2 are missing before chunk seq 3 at offset ${c2.offset}`],
    findings: [['missing', 2, c2.offset]],
  },
  {
    name: 'damaged-altered.bin', records: 36, complete: true,
    problems: [`chunk seq 3 at offset ${c3.offset + movedBy} does not chain to the block before it (prev_hash mismatch): a block was altered, removed or inserted`],
    findings: [['modified', 3, c3.offset + movedBy]],
  },
  {
    name: 'damaged-trailer.bin', records: 36, complete: true,
    problems: [`trailer seq 5 at offset ${tr.offset} counts 4 chunks with 37 records, the file holds 4 with 36`],
    findings: [['trailer-inconsistent', 5, tr.offset]],
  },
  {
    name: 'damaged-absurd-chunk.bin', records: 27, complete: true,
    problems: [`damaged block header at offset ${c2.offset} (raw_size 4294967295 above the limit of 268435456); skipped ${c3.offset - c2.offset} bytes to the next valid block header at offset ${c3.offset}, blocks seq 2..2 lost`],
    findings: [['modified', 2, c2.offset]],
  },
  {
    name: 'damaged-bomb-chunk.bin', records: 27, complete: true,
    problems: [/^chunk seq 2 at offset \d+ \(9 records\) cannot be decompressed: zstd frame expands past the \d+ bytes the block header declares; block skipped$/],
    findings: [['modified', 2, c2.offset]],
  },
  {
    name: 'damaged-garbage-tail.bin', records: 9, complete: false,
    problems: [`damaged block header at offset ${c2.offset} (bad tag 0xbb534989); no valid block header follows, 8192 bytes skipped to the end of the file`, NO_TRAILER],
    findings: [['modified', 2, c2.offset], ['trailer-missing', null, c2.offset + 8192]],
  },
];

for (const d of DAMAGE) {
  t.test(`${d.name}: the rest decoded, the damage named on stderr, exit 3; recover makes it intact`, async (t) => {
    const file = rel(d.name);
    const dir = t.testdir();
    const fixed = path.join(dir, 'fixed.bin');
    const [dec, st, ver] = await Promise.all([
      cli(['decode', file, '--json', '--no-processes']),
      cli(['stats', file, '--json']),
      cli(['verify', file, '--json']),
    ]);

    t.equal(dec.status, 3, 'decode exits 3');
    t.equal(lines(dec.stdout).length, d.records, `decode delivers ${d.records} records`);
    const errs = lines(dec.stderr);
    t.equal(errs.length, d.problems.length, dec.stderr);
    d.problems.forEach((p, i) => {
      const prefix = `exectrace: ${file}: `;
      t.ok(errs[i]?.startsWith(prefix), errs[i]);
      if (typeof p === 'string') t.equal(errs[i]?.slice(prefix.length), p);
      else t.match(errs[i]?.slice(prefix.length), p);
    });

    t.equal(st.status, 3, 'stats exits 3');
    const s = JSON.parse(st.stdout);
    t.equal(s.records, d.records);
    t.equal(s.complete, d.complete);
    t.notOk(st.stderr.includes('    at '), 'no stack trace');

    t.equal(ver.status, 3, 'verify exits 3');
    const v = JSON.parse(ver.stdout);
    t.equal(v.intact, false);
    t.equal(v.sha256, sha256(fix(d.name)));
    t.same(v.findings.map((f: {kind: string; seq: number | null; offset: number}) => [f.kind, f.seq, f.offset]), d.findings);

    // recover, and what it made, in-process (the CLI of recover has its own test below).
    const rec = recoverFile(fix(d.name), fixed);
    t.equal(rec.records, d.records);
    t.equal(fs.statSync(fixed).mode & 0o777, 0o600, 'the recovered file is 0600');
    const v2 = verifyFile(fixed);
    t.equal(v2.intact, true, 'verify calls the recovered file intact');
    t.same(v2.findings, []);
    t.same(decodeLines(fixed), lines(dec.stdout), 'the recovered file decodes to the same events');
    const r = TraceReader.open(fixed);
    for (const c of r.chunks()) void c;
    r.close();
    const note = r.meta.recovered_from as {file: string; sha256: string; problems: Array<{kind: string}>};
    t.equal(note.file, d.name);
    t.equal(note.sha256, v.sha256);
    t.same(note.problems.map((p) => p.kind), d.findings.map((f) => f[0]));
    const trailer = r.trailer as {end_reason: string; records: number; totals: Record<string, {recorded: number; sent?: number}>};
    t.equal(trailer.end_reason, 'recovered');
    t.equal(trailer.records, d.records);
    t.equal(Object.values(trailer.totals).reduce((n, x) => n + x.recorded, 0), d.records, 'totals recounted from the records');
    t.equal(trailer.totals.exec.sent !== undefined, d.complete, 'the kernel counters survive only with the original trailer');
  });
}

const HOSTILE: Array<[string, string]> = [
  ['damaged-empty.bin', 'empty file'],
  ['damaged-random.bin', 'not an exectrace file: bad magic at offset 0'],
  ['damaged-bad-magic.bin', 'not an exectrace file: bad magic at offset 0'],
  ['damaged-future-version.bin', 'unsupported trace format version 2.0 (this exectrace reads 1.x)'],
  ['damaged-absurd-length.bin', 'unreadable metadata block at offset 16: payload_size 4294967040 above the limit of 67108864'],
  ['damaged-bomb-meta.bin', 'damaged metadata block at offset 16: zstd frame expands past the 26317 bytes the block header declares'],
  ['damaged-deep-meta.bin', 'unreadable metadata at offset 16: nesting deeper than 32 at byte 34'],
  ['damaged-huge-meta.bin', 'unreadable metadata at offset 16: string of 20971520 bytes above the limit of 16777216 at byte 3'],
];

for (const [name, message] of HOSTILE) {
  t.test(`${name}: one line, exit 1, for decode, stats, verify and recover`, async (t) => {
    const file = rel(name);
    const out = path.join(t.testdir(), 'out.bin');
    const runs = await Promise.all([cli(['decode', file]), cli(['stats', file]), cli(['verify', file])]);
    for (const [i, cmd] of ['decode', 'stats', 'verify'].entries()) {
      t.equal(runs[i].status, 1, `${cmd} exits 1`);
      t.equal(runs[i].stdout, '', `${cmd} prints nothing on stdout`);
      t.equal(runs[i].stderr, `exectrace ${cmd}: ${message}\n`);
    }
    t.throws(() => recoverFile(fix(name), out), {message: `cannot recover ${fix(name)}: ${message}`});
    t.notOk(fs.existsSync(out), 'recover leaves no output behind');
  });
}

t.test('verify --chain-head: a kept chain head catches a cut or an extension at a block boundary', async (t) => {
  const head = createHash('sha256').update(tr.header).digest('hex');
  const c4head = createHash('sha256').update(c4.header).digest('hex');
  const [same, cut, extended, bad] = await Promise.all([
    cli(['verify', rel(gen.BASE_NAME), '--chain-head', head.toUpperCase()]),
    cli(['verify', rel('damaged-no-trailer.bin'), '--chain-head', head, '--json']),
    cli(['verify', rel(gen.BASE_NAME), '--chain-head', c4head, '--json']),
    cli(['verify', rel(gen.BASE_NAME), '--chain-head', 'abc']),
  ]);
  t.equal(same.status, 0);
  t.equal(cut.status, 3);
  t.same(JSON.parse(cut.stdout).findings.map((f: {kind: string}) => f.kind), ['trailer-missing', 'chain-head']);
  t.equal(JSON.parse(cut.stdout).findings[1].message,
    `the chain head ${c4head} is not the expected ${head}: the file was rewritten, or cut or extended at a block boundary`);
  t.equal(extended.status, 3);
  t.same(JSON.parse(extended.stdout).findings, [{kind: 'chain-head', problem: null, seq: 4, offset: c4.offset, records: null,
    message: `the expected chain head is that of chunk seq 4 at offset ${c4.offset}: blocks were added after it`}]);
  t.equal(bad.status, 2);
  t.equal(bad.stderr, 'exectrace verify: --chain-head must be 64 hex digits (a SHA-256, as verify prints it)\n');
});

t.test('recover refuses to overwrite without --force, and to overwrite its input', async (t) => {
  const dir = t.testdir({'exists.bin': 'precious'});
  const out = path.join(dir, 'exists.bin');
  const copy = path.join(dir, 'copy.bin');
  fs.copyFileSync(fix('damaged-no-trailer.bin'), copy);
  const [r1, r2] = await Promise.all([cli(['recover', rel('damaged-no-trailer.bin'), '-o', out]), cli(['recover', copy, '-o', copy, '--force'])]);
  t.equal(r1.status, 1);
  t.equal(lines(r1.stderr).pop(), `exectrace recover: output file ${out} exists (use --force to overwrite)`);
  t.equal(fs.readFileSync(out, 'utf8'), 'precious');
  t.equal(r2.status, 1);
  t.equal(r2.stderr, `exectrace recover: output ${copy} is the input file: write the recovered copy elsewhere\n`);
  t.ok(fs.readFileSync(copy).equals(fs.readFileSync(fix('damaged-no-trailer.bin'))), 'the input is untouched');
  const [r3, r4] = await Promise.all([
    cli(['recover', rel('damaged-no-trailer.bin'), '-o', out, '--force']),
    cli(['recover', rel('damaged-empty.bin'), '-o', path.join(dir, 'none.bin')]),
  ]);
  t.equal(r4.status, 1);
  t.equal(r4.stderr, `exectrace recover: cannot recover ${rel('damaged-empty.bin')}: empty file\n`);
  t.notOk(fs.existsSync(path.join(dir, 'none.bin')));
  t.equal(r3.status, 0);
  t.equal(lines(r3.stderr)[0], `exectrace: ${rel('damaged-no-trailer.bin')}: no trailer: the file ends at offset ${tr.offset} after chunk seq 4 at offset ${c4.offset}; the recording did not finish (or the file was cut at a block boundary)`);
  t.match(r3.stdout, new RegExp(`^${out}: 4 chunks \\(36 records\\) recovered from fixtures/damaged-no-trailer.bin \\(1 problem\\); trailer rebuilt from the records`));
});
