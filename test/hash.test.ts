// The SHA-256 of exec files, offline (formats/trace-format.md §10.16): the hasher's rule
// that only the file the kernel recorded is ever hashed (src/record/hasher.ts), the chunk
// step that parks a chunk until its digests are there and puts each hash record just before
// its exec (src/record/chunks.ts), and the readers: decode's `sha256`/`sha256_error`, the
// records filter -o keeps, stats' line. Synthetic exec records with the layouts of the
// committed bpf/exectrace.bpf.o; real files in a temporary directory. No kernel, no addon.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {createHash} from 'node:crypto';
import {btfFromElf, recordLayouts} from '../src/btf';
import {ChunkWriter, frameHeader, type ChunkSink} from '../src/record/chunks';
import {Hasher, PendingHash} from '../src/record/hasher';
import {pos, writeUint} from '../src/record/counters';
import {RECORD_TYPES, STRUCTS, layoutsByStruct} from '../src/record/types';
import {
  ET_EXEC, ET_EXEC_CWD, ET_EXEC_CWD_TRUNCATED, ET_EXEC_MEMFD, ET_FORK, ET_HASH, ET_HASH_LATE, ET_LOST, HASH_STATUS,
} from '../src/abi';
import {openTrace, filterTrace, type TraceEvent} from '../src';
import {Synth} from './lib/synth';
import type {ChunkInfo} from '../src/format/writer';

const OBJECT = path.resolve(__dirname, '..', 'bpf', 'exectrace.bpf.o');
const layouts = layoutsByStruct(recordLayouts(btfFromElf(fs.readFileSync(OBJECT)), STRUCTS));
const header = frameHeader(layouts.et_header);
const execL = layouts.et_exec;
const hashL = layouts.et_hash;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-hash-'));
t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));

function sha(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** A file of `bytes` bytes made of `fill`. */
function makeFile(name: string, bytes: number, fill = 'a'): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, fill.repeat(bytes));
  return p;
}

interface ExecSpec {
  pid: number;
  ts: number;
  /** The file whose identity the kernel recorded (stat now). */
  identity: string;
  filename: string;
  interp?: string;
  /** cwd as the kernel writes it: components from the cwd up. */
  cwd?: string[];
  flags?: number;
  start?: number;
  seq?: number;
}

/** One exec frame: [u32 length][et_exec with its tail]. */
function execFrame(s: ExecSpec): Buffer {
  const st = fs.statSync(s.identity, {bigint: true});
  const z = (x: string): Buffer => Buffer.concat([Buffer.from(x, 'latin1'), Buffer.alloc(1)]);
  const filename = z(s.filename);
  const interp = z(s.interp ?? s.filename);
  const argv = z(path.basename(s.filename));
  const cwd = s.cwd ? Buffer.concat(s.cwd.map(z)) : Buffer.alloc(0);
  const tail = Buffer.concat([filename, interp, argv, cwd]);
  const rec = Buffer.alloc(execL.size + tail.length);
  const put = (name: string, v: number | bigint): void => writeUint(rec, pos(execL, name), v);
  put('hdr.type', ET_EXEC);
  put('hdr.size', rec.length);
  put('hdr.ts_ns', BigInt(s.ts));
  put('hdr.pid', s.pid);
  put('hdr.tid', s.pid);
  put('task.start_ns', BigInt(s.start ?? 1000 + s.pid));
  put('task.exec_seq', BigInt(s.seq ?? 2));
  put('file.dev', Number(st.dev));
  put('file.ino', st.ino);
  put('file.size', st.size);
  put('file.mtime_ns', st.mtimeNs);
  put('file.ctime_ns', st.ctimeNs);
  put('file.nlink', Number(st.nlink));
  put('file.mode', Number(st.mode));
  put('exec_flags', (s.flags ?? 0) | (s.cwd ? ET_EXEC_CWD : 0));
  put('filename_len', filename.length);
  put('interp_len', interp.length);
  put('args_len', argv.length);
  put('cwd_len', cwd.length);
  tail.copy(rec, execL.tail?.offset ?? execL.size);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(rec.length);
  return Buffer.concat([len, rec]);
}

function forkFrame(ts: number): Buffer {
  const f = Buffer.alloc(4 + layouts.et_fork.size);
  f.writeUInt32LE(layouts.et_fork.size, 0);
  const rec = f.subarray(4);
  writeUint(rec, pos(layouts.et_fork, 'hdr.type'), ET_FORK);
  writeUint(rec, pos(layouts.et_fork, 'hdr.size'), layouts.et_fork.size);
  writeUint(rec, pos(layouts.et_fork, 'hdr.ts_ns'), BigInt(ts));
  return f;
}

function hasher(maxBytes = 1 << 20): Hasher {
  return new Hasher({maxBytes, waitMs: 2000}, {
    exec: execL, hash: hashL, fileKey: layouts.et_file_key, headerSize: layouts.et_header.size, cwdFlag: ET_EXEC_CWD,
    cwdTruncated: ET_EXEC_CWD_TRUNCATED,
  });
}

/** The status name and hex digest of an et_hash frame. */
function hashOf(frame: Buffer): {status: string; sha256: string | null; pid: number; ts: bigint} {
  const rec = frame.subarray(4);
  const status = rec.readUInt32LE(pos(hashL, 'status').offset);
  const at = pos(hashL, 'sha256').offset;
  return {
    status: HASH_STATUS[status], sha256: status === 0 ? rec.toString('hex', at, at + 32) : null,
    pid: rec.readUInt32LE(pos(hashL, 'hdr.pid').offset), ts: rec.readBigUInt64LE(pos(hashL, 'hdr.ts_ns').offset),
  };
}

/** What the hasher gives one exec: waits until done (the worker). */
async function hashOne(h: Hasher, s: ExecSpec, fd = -2): Promise<{status: string; sha256: string | null}> {
  const p = h.take(execFrame(s).subarray(4), fd);
  await until(() => p.done);
  const {status, sha256} = hashOf(p.frame);
  return {status, sha256};
}

async function until(ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

t.test('hasher: the file the kernel recorded is hashed through its path; one that is not the same file never is', async (t) => {
  const h = hasher();
  t.teardown(() => h.close());
  const a = makeFile('prog', 5000, 'x');
  t.same(await hashOne(h, {pid: 10, ts: 1, identity: a, filename: a}), {status: 'ok', sha256: sha(a)}, 'by its absolute path');

  // Replaced after the exec: same name, another inode (what `cp new prog` over it or an
  // install does). The identity the kernel recorded is the old file's.
  const b = makeFile('prog2', 5000, 'x');
  const frame = execFrame({pid: 11, ts: 2, identity: b, filename: b});
  fs.rmSync(b);
  makeFile('prog2', 5000, 'y');
  const p = h.take(frame.subarray(4), -2);
  await until(() => p.done);
  t.same(hashOf(p.frame), {status: 'replaced', sha256: null, pid: 11, ts: 2n}, 'a file at the path, not the one that ran: replaced');

  // Changed in place with its size and mtime put back: ctime still tells.
  const c = makeFile('prog3', 100, 'c');
  const cf = execFrame({pid: 12, ts: 3, identity: c, filename: c});
  const st = fs.statSync(c);
  await new Promise((r) => setTimeout(r, 20));
  fs.writeFileSync(c, 'd'.repeat(100));
  fs.utimesSync(c, st.atime, st.mtime);
  const pc = h.take(cf.subarray(4), -2);
  await until(() => pc.done);
  t.equal(hashOf(pc.frame).status, 'replaced', 'same size and mtime, new contents: ctime moved, not hashed');

  t.same(await hashOne(h, {pid: 13, ts: 4, identity: a, filename: path.join(dir, 'elsewhere')}), {status: 'ok', sha256: sha(a)},
    'a file identity hashed before: its digest, wherever the path points now');
  const d = makeFile('prog4', 10, 'd');
  t.same(await hashOne(h, {pid: 14, ts: 5, identity: d, filename: path.join(dir, 'gone-now')}), {status: 'gone', sha256: null},
    'nothing at the path: gone');
  t.same(await hashOne(h, {pid: 15, ts: 6, identity: d, filename: d, flags: ET_EXEC_MEMFD}), {status: 'gone', sha256: null},
    'a memfd image is never looked for by path');
  t.equal(h.stats.hashed, 1);
  t.equal(h.stats.cached, 1);
  t.same(h.stats.errors, {replaced: 2, gone: 2});
});

t.test('hasher: a relative filename is made absolute with the cwd; a script hashes its interpreter; a descriptor from the drain is checked too', async (t) => {
  const h = hasher();
  t.teardown(() => h.close());
  const sub = path.join(dir, 'bin dir');
  fs.mkdirSync(sub, {recursive: true});
  const prog = path.join(sub, 'tool');
  fs.writeFileSync(prog, 'tool bytes');
  const up = sub.split('/').filter(Boolean).reverse();
  t.same(await hashOne(h, {pid: 20, ts: 1, identity: prog, filename: './tool', cwd: up}), {status: 'ok', sha256: sha(prog)},
    './tool in the cwd the kernel read');
  t.same(await hashOne(h, {pid: 21, ts: 2, identity: prog, filename: './tool', cwd: up.slice(0, 2), flags: ET_EXEC_CWD_TRUNCATED}),
    {status: 'ok', sha256: sha(prog)}, 'cut cwd: no path, but the cached digest of the same file identity');
  const interp = makeFile('interp', 300, 'i');
  const script = makeFile('script.sh', 10, 's');
  t.same(await hashOne(h, {pid: 22, ts: 3, identity: interp, filename: script, interp}), {status: 'ok', sha256: sha(interp)},
    'a script: the file that ran is its interpreter (et_exec.file describes it)');
  const other = makeFile('other', 7, 'o');
  const fd = fs.openSync(other, 'r');
  t.same(await hashOne(h, {pid: 23, ts: 4, identity: script, filename: script}, fd), {status: 'ok', sha256: sha(script)},
    'a descriptor of another file (the process exec\'d again) is set aside for the path');
  t.throws(() => fs.fstatSync(fd), 'and closed');
});

t.test('hasher: one digest per file identity; too large; the worker reads in the background', async (t) => {
  const h = hasher(4096);
  t.teardown(() => h.close());
  const known: Buffer[] = [];
  h.onKnown = (k) => known.push(k);
  const a = makeFile('same', 3000, 'q');
  const ps = [30, 31, 32].map((pid) => h.take(execFrame({pid, ts: pid, identity: a, filename: a}).subarray(4), -2));
  t.notOk(ps[0].done, 'not done at once: the worker reads it');
  await until(() => ps.every((p) => p.done));
  t.same(ps.map((p) => hashOf(p.frame).sha256), [sha(a), sha(a), sha(a)]);
  const later = h.take(execFrame({pid: 33, ts: 33, identity: a, filename: a}).subarray(4), -2);
  t.ok(later.done, 'a later exec of the same file is answered at once, from the cache');
  t.same(h.stats, {execs: 4, hashed: 1, cached: 3, errors: {}, backlog_max: 1});
  const big = makeFile('big', 5000);
  t.same(await hashOne(h, {pid: 34, ts: 34, identity: big, filename: big}), {status: 'too_large', sha256: null}, 'over maxBytes');
  // The kernel learns each identity given a lasting answer, as struct et_file_key.
  const keyOf = (f: string): Buffer => {
    const st = fs.statSync(f, {bigint: true});
    const k = Buffer.alloc(layouts.et_file_key.size);
    writeUint(k, pos(layouts.et_file_key, 'dev'), Number(st.dev));
    writeUint(k, pos(layouts.et_file_key, 'ino'), st.ino);
    writeUint(k, pos(layouts.et_file_key, 'size'), st.size);
    writeUint(k, pos(layouts.et_file_key, 'mtime_ns'), st.mtimeNs);
    writeUint(k, pos(layouts.et_file_key, 'ctime_ns'), st.ctimeNs);
    return k;
  };
  t.same(known, [keyOf(a), keyOf(big)], 'onKnown: the hashed file once, and the one too large');
});

// --- the chunk step ------------------------------------------------------------------

interface Written {
  frames: Buffer;
  info: ChunkInfo;
}

function sink(): ChunkSink & {chunks: Written[]} {
  const s = {
    chunks: [] as Written[],
    writeChunk(frames: Buffer, info: ChunkInfo): void {
      s.chunks.push({frames: Buffer.from(frames), info: {...info}});
    },
  };
  return s;
}

/** The record types of a chunk's frames, in order. */
function typesOf(frames: Buffer): number[] {
  const out: number[] = [];
  for (let p = 0; p + 4 <= frames.length;) {
    const len = frames.readUInt32LE(p);
    out.push(frames.readUInt16LE(p + 4 + header.typeOffset));
    p += 4 + len;
  }
  return out;
}

/** The (frame offset, fd) pairs the drain would give for the exec frames of a batch. */
function exeOf(batch: Buffer, fd = -2): Int32Array {
  const pairs: number[] = [];
  for (let p = 0; p + 4 <= batch.length;) {
    const len = batch.readUInt32LE(p);
    if (batch.readUInt16LE(p + 4 + header.typeOffset) === ET_EXEC) pairs.push(p, fd);
    p += 4 + len;
  }
  return Int32Array.from(pairs);
}

t.test('chunks: a due chunk waits for its digests, then holds each hash record just before its exec', async (t) => {
  const h = hasher();
  t.teardown(() => h.close());
  const out = sink();
  const w = new ChunkWriter({chunkBytes: 1 << 20, header, lostType: ET_LOST, hasher: h, hashWaitMs: 5000}, out);
  const a = makeFile('c1', 2000, '1');
  const b = makeFile('c2', 3000, '2');
  const batch = Buffer.concat([forkFrame(5), execFrame({pid: 40, ts: 6, identity: a, filename: a}), forkFrame(7),
    execFrame({pid: 41, ts: 8, identity: b, filename: b})]);
  w.frames(batch, false, exeOf(batch));
  w.flush();
  t.equal(out.chunks.length, 0, 'parked: the digests are still being computed');
  w.frames(forkFrame(9));
  w.flush();
  t.equal(out.chunks.length, 0, 'a later chunk waits behind it: chunks stay in order');
  await w.settle();
  t.equal(out.chunks.length, 2);
  t.same(typesOf(out.chunks[0].frames), [ET_FORK, ET_HASH, ET_EXEC, ET_FORK, ET_HASH, ET_EXEC], 'each hash record just before its exec');
  t.same(out.chunks[0].info, {records: 6, firstTs: 5n, lastTs: 8n, counted: true}, 'the hash records counted in the chunk');
  t.same(typesOf(out.chunks[1].frames), [ET_FORK]);
  const first = out.chunks[0].frames.subarray(4 + layouts.et_fork.size);
  t.match(hashOf(first), {status: 'ok', sha256: sha(a), pid: 40, ts: 6n}, 'the hash record has its exec\'s header');
  t.equal(w.hashRecords, 2);
  t.equal(w.written, 7);
  t.same([...w.recorded()], [[ET_EXEC, 2], [ET_FORK, 3]], 'hash records are not counted as kernel records');
});

t.test('chunks: a digest that does not come within hashWaitMs makes its exec `late`; the drain never waits', async (t) => {
  // A hasher that never answers: the chunk writes itself after the wait.
  const pending: PendingHash[] = [];
  const stub = {
    onDone: () => {},
    take(rec: Buffer): PendingHash {
      const p = new PendingHash(Buffer.alloc(4 + hashL.size));
      p.frame.writeUInt32LE(hashL.size, 0);
      rec.copy(p.frame, 4, 0, layouts.et_header.size);
      writeUint(p.frame.subarray(4), pos(hashL, 'hdr.type'), ET_HASH);
      pending.push(p);
      return p;
    },
    giveUp(p: PendingHash): void {
      p.result = {status: ET_HASH_LATE};
      writeUint(p.frame.subarray(4), pos(hashL, 'status'), ET_HASH_LATE);
    },
  } as unknown as Hasher;
  const out = sink();
  const w = new ChunkWriter({chunkBytes: 1 << 20, header, lostType: ET_LOST, hasher: stub, hashWaitMs: 60}, out);
  const a = makeFile('slow', 10);
  const batch = Buffer.concat([execFrame({pid: 50, ts: 1, identity: a, filename: a})]);
  const start = Date.now();
  w.frames(batch, false, exeOf(batch));
  w.flush();
  w.frames(forkFrame(2));
  t.equal(out.chunks.length, 0);
  await w.settle();
  t.ok(Date.now() - start >= 55, `written after the wait (${Date.now() - start} ms)`);
  t.same(out.chunks.map((c) => typesOf(c.frames)), [[ET_HASH, ET_EXEC], [ET_FORK]]);
  t.equal(hashOf(out.chunks[0].frames).status, 'late');
});

t.test('chunks: without a hasher the descriptors are closed and nothing waits', async (t) => {
  const out = sink();
  const w = new ChunkWriter({chunkBytes: 1 << 20, header, lostType: ET_LOST}, out);
  const a = makeFile('nohash', 10);
  const fd = fs.openSync(a, 'r');
  const batch = execFrame({pid: 60, ts: 1, identity: a, filename: a});
  w.frames(batch, false, exeOf(batch, fd));
  t.throws(() => fs.fstatSync(fd), 'the drain\'s descriptor is closed');
  w.flush();
  t.same(out.chunks.map((c) => typesOf(c.frames)), [[ET_EXEC]], 'written at once, as it is');
});

// --- readers -------------------------------------------------------------------------

const TREE = path.resolve(__dirname, '..', 'fixtures', 'exec-tree.bin');
const HASH_TYPE = {...RECORD_TYPES.find((r) => r.id === ET_HASH), layout: hashL};

/** A file with the hash record type; `hashed`: options.hash says the recorder hashed. */
function synth(hashed: boolean): Synth {
  const base = new Synth(TREE);
  return new Synth(TREE, {
    record_types: [...(base.meta.record_types as unknown[]), HASH_TYPE] as never,
    options: {...(base.meta.options as object), ...(hashed && {hash: {max_bytes: 256 << 20, wait_ms: 2000}})} as never,
  });
}

function hashRec(s: Synth, ts: number, pid: number, start: number, seq: number, status: number, digest?: string): Buffer {
  const r = s.record('hash', {ts, pid}, {start_ns: start, exec_seq: seq, status});
  if (digest) Buffer.from(digest, 'hex').copy(r, pos(hashL, 'sha256').offset);
  return r;
}

function execRec(s: Synth, ts: number, pid: number, start: number, seq: number, file: string): Buffer {
  return s.record('exec', {ts, pid}, {'task.ppid': 1, 'task.comm': 'x', old_tid: pid, argc: 1, 'task.start_ns': start, 'task.exec_seq': seq},
    {filename: file, argv: [file]});
}

const DIGEST = 'ab'.repeat(32);

t.test('decode: sha256 from the hash record before the exec, its status name, `missing` when none, nothing in files without hashing', async (t) => {
  const s = synth(true);
  const f = path.join(dir, 'h.bin');
  s.write(f, [[
    hashRec(s, s.at(1), 700, 5, 3, 0, DIGEST), execRec(s, s.at(1), 700, 5, 3, '/bin/a'),
    hashRec(s, s.at(2), 701, 6, 3, 2), execRec(s, s.at(2), 701, 6, 3, '/bin/b'),
    execRec(s, s.at(3), 702, 7, 3, '/bin/c'),
    hashRec(s, s.at(4), 703, 8, 9, 0, DIGEST), execRec(s, s.at(4), 703, 8, 3, '/bin/d'),
  ]]);
  const execs = [...openTrace(f, {processes: false})].filter((e) => e.type === 'exec') as TraceEvent[];
  t.same(execs.map((e) => [e.filename, e.sha256, e.sha256_error]), [
    ['/bin/a', DIGEST, undefined],
    ['/bin/b', undefined, 'gone'],
    ['/bin/c', undefined, 'missing'],
    ['/bin/d', undefined, 'missing'],
  ], 'the last: a hash record of another exec of that pid is not taken for this one');
  t.equal([...openTrace(f)].filter((e) => e.type === 'hash').length, 0, 'hash records are not events');
  const st = openTrace(f).stats();
  t.same(st.report.hashes, {execs: 4, hashed: 1, errors: {missing: 2, gone: 1}});
  t.notOk(st.report.events.some((r) => r.event === 'hash'), 'no hash row among the events');

  const plain = synth(false);
  const g = path.join(dir, 'plain.bin');
  plain.write(g, [[execRec(plain, plain.at(1), 800, 5, 3, '/bin/e')]]);
  const e = [...openTrace(g, {processes: false})][0];
  t.notOk('sha256' in e || 'sha256_error' in e, 'a file recorded without hashing: neither key');
  t.equal(openTrace(g).stats().report.hashes, null);
});

t.test('filter -o keeps the hash record of each exec it keeps, just before it', async (t) => {
  const s = synth(true);
  const f = path.join(dir, 'hf.bin');
  s.write(f, [[
    hashRec(s, s.at(1), 700, 5, 3, 0, DIGEST), execRec(s, s.at(1), 700, 5, 3, '/bin/keep'),
    hashRec(s, s.at(2), 701, 6, 3, 0, 'cd'.repeat(32)), execRec(s, s.at(2), 701, 6, 3, '/bin/drop'),
  ]]);
  const out = path.join(dir, 'hf-out.bin');
  const r = filterTrace(f, out, {where: 'filename == "/bin/keep"', force: true});
  t.equal(r.records_out, 2, 'the exec and its hash record');
  const execs = [...openTrace(out, {processes: false})];
  t.same(execs.map((e) => [e.filename, e.sha256]), [['/bin/keep', DIGEST]]);
});

t.test('chunks: a cut (rotation) waits behind a parked chunk, and the chunks taken after it go to the next file', async (t) => {
  // The hasher never answers: the exec's chunk is parked for hashWaitMs.
  const stub = {
    onDone: () => {},
    take(rec: Buffer): PendingHash {
      const p = new PendingHash(Buffer.alloc(4 + hashL.size));
      p.frame.writeUInt32LE(hashL.size, 0);
      rec.copy(p.frame, 4, 0, layouts.et_header.size);
      writeUint(p.frame.subarray(4), pos(hashL, 'hdr.type'), ET_HASH);
      return p;
    },
    giveUp(p: PendingHash): void {
      p.result = {status: ET_HASH_LATE};
    },
  } as unknown as Hasher;
  const files = [sink(), sink()];
  let current = 0;
  const out: ChunkSink = {writeChunk: (f, i) => files[current].writeChunk(f, i)};
  const w = new ChunkWriter({chunkBytes: 1 << 20, header, lostType: ET_LOST, hasher: stub, hashWaitMs: 60}, out);
  const a = makeFile('cut', 10);
  const batch = execFrame({pid: 70, ts: 1, identity: a, filename: a});
  w.frames(batch, false, exeOf(batch));
  w.frames(forkFrame(2));
  let cutAt = -1;
  const ran = w.cut(() => {
    cutAt = files[0].chunks.length;
    current = 1;
  });
  t.equal(ran, false, 'the cut waits: a chunk ahead of it is parked');
  w.frames(forkFrame(3)); // taken after the cut
  w.flush();
  await w.settle();
  t.equal(cutAt, 1, 'the cut ran once the parked chunk was written');
  t.same(files[0].chunks.map((c) => typesOf(c.frames)), [[ET_HASH, ET_EXEC, ET_FORK]], 'the first file: everything taken before the cut');
  t.same(files[1].chunks.map((c) => typesOf(c.frames)), [[ET_FORK]], 'the next file: what came after it, once');

  // Without anything parked, the cut runs at once, after the pending chunk is flushed.
  const direct = sink();
  const w2 = new ChunkWriter({chunkBytes: 1 << 20, header, lostType: ET_LOST}, direct);
  w2.frames(forkFrame(4));
  let seen = -1;
  t.equal(w2.cut(() => (seen = direct.chunks.length)), true);
  t.equal(seen, 1, 'the pending chunk was written before the cut ran');
  t.equal(w2.cancelCut(), false, 'nothing left to cancel');

  // Stopping while a cut waits: it is dropped, and what came after it stays in the current file.
  const one = sink();
  const w3 = new ChunkWriter({chunkBytes: 1 << 20, header, lostType: ET_LOST, hasher: stub, hashWaitMs: 60}, one);
  const b3 = execFrame({pid: 71, ts: 5, identity: a, filename: a});
  w3.frames(b3, false, exeOf(b3));
  let cutRan = false;
  t.equal(w3.cut(() => (cutRan = true)), false);
  w3.frames(forkFrame(6));
  t.equal(w3.cancelCut(), true, 'the waiting cut is dropped');
  await w3.settle();
  t.equal(cutRan, false, 'it never runs');
  t.same(one.chunks.map((c) => typesOf(c.frames)), [[ET_HASH, ET_EXEC], [ET_FORK]], 'every chunk in the one file, in order');
});
