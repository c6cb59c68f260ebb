// The SHA-256 of the file each exec ran (formats/trace-format.md §10.16), computed in user
// space while recording, without ever hashing a file that is not the one that ran.
//
// Which file: the exec record holds what the kernel read from the image's inode at the
// exec (et_exec.file: dev, ino, size, mtime, ctime, nlink). A file is read only through a
// descriptor whose fstat gives exactly those — but for a ctime that moved because links
// were removed since (a binary deleted while it runs: unlink changes ctime, and only
// nlink tells why) — and whose size, mtime and ctime are the same again after the read.
// Descriptors, in order: /proc/PID/exe, which the drain thread opened the moment the exec
// record woke it (so even a deleted or memfd image of a short-lived process is held); the
// path (the interpreter of a script, else the filename, made absolute with the cwd); the
// same path under /proc/PID/root (a process in another mount namespace).
//
// Cost: a digest is computed once per file identity and reused (an exec storm of one binary
// reads it once), in a worker thread of its own, so neither the drain nor the main thread
// that writes chunks ever waits for a read. Files wait for the worker in a bounded queue;
// an exec that finds it full gets `backlog` instead of a digest, and the most files ever
// waiting is counted.

import * as fs from 'node:fs';
import * as path from 'node:path';
import {Worker} from 'node:worker_threads';
import type {RecordLayout} from '../btf';
import {
  ET_EXEC_DELETED, ET_EXEC_MEMFD, ET_HASH, ET_HASH_BACKLOG, ET_HASH_CHANGED, ET_HASH_GONE, ET_HASH_LATE, ET_HASH_OK,
  ET_HASH_REPLACED, ET_HASH_TOO_LARGE, ET_HASH_UNREADABLE, HASH_STATUS,
} from '../abi';
import {pos, writeUint, type FieldPos} from './counters';

/** What `--hash-max` and the chunk's wait default to. */
export const HASH_DEFAULTS = {maxBytes: 256 * 1024 * 1024, waitMs: 2000};

/** How many files may wait for the worker at once. */
const QUEUE_MAX = 256;
/** Digests kept for reuse, by file identity (the oldest is forgotten first). */
const CACHE_MAX = 8192;

export interface HashOptions {
  /** Files larger than this are not read (`too_large`). */
  maxBytes: number;
  /** How long a chunk that is due may wait for the digests of its execs (then `late`). */
  waitMs: number;
}

/** The trailer's `hashes`: what the recorder did. */
export interface HashStats {
  execs: number;
  hashed: number;
  cached: number;
  errors: Record<string, number>;
  backlog_max: number;
}

/** The outcome for one exec: a digest, or why there is none. */
export interface HashResult {
  status: number;
  sha256?: Buffer;
}

/** One exec's digest, which may come later; `done` once it has. */
export class PendingHash {
  result: HashResult | null = null;
  constructor(readonly frame: Buffer) {}
  get done(): boolean {
    return this.result !== null;
  }
}

/** What the hasher reads of an exec record (offsets from the object's BTF). */
interface ExecFields {
  pid: FieldPos;
  start: FieldPos;
  seq: FieldPos;
  dev: FieldPos;
  ino: FieldPos;
  size: FieldPos;
  mtime: FieldPos;
  ctime: FieldPos;
  nlink: FieldPos;
  flags: FieldPos;
  tail: number;
  filenameLen: FieldPos;
  interpLen: FieldPos;
  argsLen: FieldPos;
  cwdLen: FieldPos;
  cwdFlag: number;
  cwdTruncated: number;
}

/** The file identity the kernel recorded, and where to look for the file. */
interface ExecFile {
  key: string;
  dev: number;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  nlink: number;
  pid: number;
  /**
   * The exec record, its paths read from it only when the file must be looked for: valid
   * during take() only (the drain may reuse its batch once the batch is taken).
   */
  rec: Buffer;
  flags: number;
}

/** What becomes of the descriptors of one file while the worker reads it. */
interface Job {
  id: number;
  fd: number;
  file: ExecFile;
  waiters: PendingHash[];
}

/** A descriptor of the file that ran, and its fstat when it was opened. */
interface Opened {
  fd: number;
  st: fs.BigIntStats;
}

export interface HasherParts {
  exec: RecordLayout;
  hash: RecordLayout;
  /** struct et_file_key: how onKnown's keys are laid out. */
  fileKey: RecordLayout;
  /** et_header's size: the hash record starts with a copy of the exec's header. */
  headerSize: number;
  cwdFlag: number;
  cwdTruncated: number;
}

export class Hasher {
  readonly stats: HashStats = {execs: 0, hashed: 0, cached: 0, errors: {}, backlog_max: 0};
  private readonly f: ExecFields;
  private readonly cache = new Map<string, HashResult>();
  private readonly inflight = new Map<string, Job>();
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;
  private worker: Worker | null = null;
  private readonly hashL: RecordLayout;
  private readonly headerSize: number;
  /** et_hash's fields, found once: take() runs for every exec. */
  private readonly h: {type: FieldPos; flags: FieldPos; size: FieldPos; start: FieldPos; seq: FieldPos; status: FieldPos; sha256: FieldPos};
  private readonly keyL: RecordLayout;
  /** Called whenever an exec's digest (or its error) arrives. */
  onDone: () => void = () => {};
  /**
   * Called with the et_file_key of each file identity given a lasting answer (a digest, or
   * too_large): the recorder puts it in the kernel's `hashed_files`, so that later execs of
   * it neither wake the drain nor have /proc/PID/exe opened.
   */
  onKnown: (key: Buffer) => void = () => {};

  constructor(private readonly opts: HashOptions, parts: HasherParts) {
    const e = parts.exec;
    this.f = {
      pid: pos(e, 'hdr.pid'), start: pos(e, 'task.start_ns'), seq: pos(e, 'task.exec_seq'),
      dev: pos(e, 'file.dev'), ino: pos(e, 'file.ino'), size: pos(e, 'file.size'),
      mtime: pos(e, 'file.mtime_ns'), ctime: pos(e, 'file.ctime_ns'), nlink: pos(e, 'file.nlink'), flags: pos(e, 'exec_flags'),
      tail: e.tail?.offset ?? e.size,
      filenameLen: pos(e, 'filename_len'), interpLen: pos(e, 'interp_len'), argsLen: pos(e, 'args_len'), cwdLen: pos(e, 'cwd_len'),
      cwdFlag: parts.cwdFlag, cwdTruncated: parts.cwdTruncated,
    };
    this.hashL = parts.hash;
    this.headerSize = parts.headerSize;
    const l = parts.hash;
    this.h = {
      type: pos(l, 'hdr.type'), flags: pos(l, 'hdr.flags'), size: pos(l, 'hdr.size'), start: pos(l, 'start_ns'),
      seq: pos(l, 'exec_seq'), status: pos(l, 'status'), sha256: pos(l, 'sha256'),
    };
    this.keyL = parts.fileKey;
  }

  /**
   * One exec record (its bytes in `rec`) and the descriptor the drain opened for it (or
   * -errno): returns its pending digest, done already when the answer is known now (a
   * digest of the same file computed earlier, or no file to read); otherwise onDone is
   * called once it is. Takes `fd`: closes it, or hands it to the worker, who reads it.
   */
  take(rec: Buffer, fd: number): PendingHash {
    this.stats.execs++;
    const p = new PendingHash(this.frameFor(rec));
    let file: ExecFile;
    try {
      file = this.fileOf(rec);
    } catch {
      closeQuietly(fd);
      this.finish(p, {status: ET_HASH_UNREADABLE});
      return p;
    }
    const known = this.cache.get(file.key);
    if (known) {
      closeQuietly(fd);
      if (known.status === ET_HASH_OK) this.stats.cached++;
      this.finish(p, known);
      return p;
    }
    const running = this.inflight.get(file.key);
    if (running) {
      closeQuietly(fd);
      running.waiters.push(p);
      return p;
    }
    const found = this.open(file, fd);
    if (!('fd' in found)) {
      this.finish(p, found);
      return p;
    }
    if (file.size > BigInt(this.opts.maxBytes)) {
      closeQuietly(found.fd);
      this.remember(file, {status: ET_HASH_TOO_LARGE});
      this.finish(p, {status: ET_HASH_TOO_LARGE});
      return p;
    }
    if (this.jobs.size >= QUEUE_MAX) {
      closeQuietly(found.fd);
      this.finish(p, {status: ET_HASH_BACKLOG});
      return p;
    }
    const job: Job = {id: this.nextId++, fd: found.fd, file, waiters: [p]};
    this.jobs.set(job.id, job);
    this.inflight.set(file.key, job);
    this.stats.backlog_max = Math.max(this.stats.backlog_max, this.jobs.size);
    this.post(job, found.st);
    return p;
  }

  /** The exec's digest was not there when its chunk could wait no longer. */
  giveUp(p: PendingHash): void {
    if (!p.done) this.finish(p, {status: ET_HASH_LATE});
  }

  /** Files still waiting for the worker. */
  get waiting(): number {
    return this.jobs.size;
  }

  /** Stops the worker; what it was reading is given up. */
  async close(): Promise<void> {
    for (const job of this.jobs.values()) closeQuietly(job.fd);
    this.jobs.clear();
    this.inflight.clear();
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  /** The et_hash frame of an exec record: its header, then which exec, status and digest once known. */
  private frameFor(rec: Buffer): Buffer {
    const l = this.hashL;
    const h = this.h;
    const frame = Buffer.alloc(4 + l.size);
    frame.writeUInt32LE(l.size, 0);
    const out = frame.subarray(4);
    rec.copy(out, 0, 0, this.headerSize);
    writeUint(out, h.type, ET_HASH);
    writeUint(out, h.flags, 0);
    writeUint(out, h.size, l.size);
    rec.copy(out, h.start.offset, this.f.start.offset, this.f.start.offset + 8);
    rec.copy(out, h.seq.offset, this.f.seq.offset, this.f.seq.offset + 8);
    return frame;
  }

  /** Settles one exec: its frame gets the status and digest, and an error is counted. */
  private finish(p: PendingHash, r: HashResult): void {
    if (p.done) return;
    p.result = r;
    const out = p.frame.subarray(4);
    writeUint(out, this.h.status, r.status);
    if (r.sha256) r.sha256.copy(out, this.h.sha256.offset);
    if (r.status !== ET_HASH_OK) {
      const name = HASH_STATUS[r.status] ?? String(r.status);
      this.stats.errors[name] = (this.stats.errors[name] ?? 0) + 1;
    }
  }

  private remember(file: ExecFile, r: HashResult): void {
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(file.key, r);
    const l = this.keyL;
    const k = Buffer.alloc(l.size);
    writeUint(k, pos(l, 'dev'), file.dev);
    writeUint(k, pos(l, 'ino'), file.ino);
    writeUint(k, pos(l, 'size'), file.size);
    writeUint(k, pos(l, 'mtime_ns'), file.mtimeNs);
    writeUint(k, pos(l, 'ctime_ns'), file.ctimeNs);
    this.onKnown(k);
  }

  /** The identity the kernel recorded (all most execs need: their digest is known by it). */
  private fileOf(rec: Buffer): ExecFile {
    const f = this.f;
    const u64 = (at: FieldPos): bigint => rec.readBigUInt64LE(at.offset);
    const u32 = (at: FieldPos): number => rec.readUInt32LE(at.offset);
    const dev = u32(f.dev);
    const ino = u64(f.ino);
    const size = u64(f.size);
    const mtimeNs = u64(f.mtime);
    const ctimeNs = u64(f.ctime);
    return {
      key: `${dev}:${ino}:${size}:${mtimeNs}:${ctimeNs}`, dev, ino, size, mtimeNs, ctimeNs, nlink: u32(f.nlink),
      pid: u32(f.pid), rec, flags: u32(f.flags),
    };
  }

  /** The paths worth trying, most likely first: none for a deleted or memfd image. */
  private pathsOf(file: ExecFile): string[] {
    const f = this.f;
    const {rec, flags, pid} = file;
    const u32 = (at: FieldPos): number => rec.readUInt32LE(at.offset);
    const paths: string[] = [];
    if (!(flags & (ET_EXEC_DELETED | ET_EXEC_MEMFD))) {
      let at = f.tail;
      const seg = (len: number): Buffer => {
        const b = rec.subarray(at, Math.min(rec.length, at + len));
        at += len;
        return b;
      };
      const cstr = (b: Buffer): string => {
        const nul = b.indexOf(0);
        return (nul >= 0 ? b.subarray(0, nul) : b).toString('latin1');
      };
      const filename = cstr(seg(u32(f.filenameLen)));
      const interp = cstr(seg(u32(f.interpLen)));
      seg(u32(f.argsLen));
      const cwdParts = seg(u32(f.cwdLen));
      // bprm->interp differs from filename for a script: the file that ran is the interpreter.
      let p = interp && interp !== filename ? interp : filename;
      if (p && !p.startsWith('/')) {
        // cwd components run from the cwd up to the root: reversed, joined, a path.
        const whole = (flags & f.cwdFlag) !== 0 && (flags & f.cwdTruncated) === 0;
        const parts = cwdParts.length ? cwdParts.toString('latin1').split('\0').filter((s) => s !== '') : [];
        p = whole ? path.join('/', ...parts.reverse(), p) : '';
      }
      // /dev/fd/N and /proc/self/… would name the recorder's own files, not the process's.
      if (p && !/^\/(dev\/fd|proc\/self|proc\/thread-self)\//.test(p)) {
        paths.push(p, `/proc/${pid}/root${p}`);
      }
    }
    return paths;
  }

  /**
   * A descriptor of the very file the exec ran, or why there is none: `fd` from the drain
   * first, then each path. latin1 round-trips the bytes of a path that is not UTF-8.
   */
  private open(file: ExecFile, fd: number): Opened | HashResult {
    let foundOther = false;
    let denied = false;
    if (fd >= 0) {
      const st = this.matches(fd, file);
      if (st) return {fd, st};
      foundOther = true; // the process exec'd again since: /proc/PID/exe names its new image
      closeQuietly(fd);
    }
    for (const p of this.pathsOf(file)) {
      let cand: number;
      try {
        // O_NONBLOCK: a FIFO put in the binary's place must not hang the recorder.
        cand = fs.openSync(Buffer.from(p, 'latin1'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM') denied = true;
        continue;
      }
      const st = this.matches(cand, file);
      if (st) return {fd: cand, st};
      foundOther = true;
      closeQuietly(cand);
    }
    if (foundOther) return {status: ET_HASH_REPLACED};
    return {status: denied ? ET_HASH_UNREADABLE : ET_HASH_GONE};
  }

  /** The descriptor's fstat when it is the file the kernel recorded (see the top of this file), else null. */
  private matches(fd: number, file: ExecFile): fs.BigIntStats | null {
    let st: fs.BigIntStats;
    try {
      st = fs.fstatSync(fd, {bigint: true});
    } catch {
      return null;
    }
    const same = st.isFile() && Number(st.dev) === file.dev && st.ino === file.ino && st.size === file.size &&
      st.mtimeNs === file.mtimeNs && (st.ctimeNs === file.ctimeNs || Number(st.nlink) < file.nlink);
    return same ? st : null;
  }

  private post(job: Job, st: fs.BigIntStats): void {
    if (!this.worker) {
      this.worker = new Worker(WORKER, {eval: true});
      this.worker.unref();
      this.worker.on('message', (m: {id: number; status: number; sha256?: Uint8Array}) => this.reply(m));
      this.worker.on('error', () => this.failAll());
    }
    this.worker.postMessage({id: job.id, fd: job.fd, size: Number(st.size), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs});
  }

  private reply(m: {id: number; status: number; sha256?: Uint8Array}): void {
    const job = this.jobs.get(m.id);
    if (!job) return;
    this.jobs.delete(m.id);
    closeQuietly(job.fd);
    const r: HashResult = m.status === ET_HASH_OK && m.sha256 ? {status: ET_HASH_OK, sha256: Buffer.from(m.sha256)} : {status: m.status};
    this.inflight.delete(job.file.key);
    if (r.status === ET_HASH_OK) this.remember(job.file, r);
    if (r.status === ET_HASH_OK) {
      this.stats.hashed++;
      this.stats.cached += job.waiters.length - 1;
    }
    for (const p of job.waiters) this.finish(p, r);
    this.onDone();
  }

  /** The worker died (it should not): every file waiting for it is unreadable. */
  private failAll(): void {
    const jobs = [...this.jobs.values()];
    this.jobs.clear();
    this.inflight.clear();
    this.worker = null;
    for (const job of jobs) {
      closeQuietly(job.fd);
      for (const p of job.waiters) this.finish(p, {status: ET_HASH_UNREADABLE});
    }
    this.onDone();
  }
}

function closeQuietly(fd: number): void {
  if (fd < 0) return;
  try {
    fs.closeSync(fd);
  } catch {
    // closed already
  }
}

// The worker: reads a file through a descriptor the main thread opened and checked, in
// 1 MiB pieces, and hashes it; then checks that the file did not change meanwhile.
const WORKER = `
const {parentPort} = require('node:worker_threads');
const fs = require('node:fs');
const {createHash} = require('node:crypto');
const buf = Buffer.allocUnsafe(1 << 20);
parentPort.on('message', (m) => {
  let status = ${ET_HASH_OK};
  let sha256;
  try {
    const h = createHash('sha256');
    let at = 0;
    for (;;) {
      const n = fs.readSync(m.fd, buf, 0, buf.length, at);
      if (n === 0) break;
      h.update(n === buf.length ? buf : buf.subarray(0, n));
      at += n;
    }
    const st = fs.fstatSync(m.fd, {bigint: true});
    if (at !== m.size || Number(st.size) !== m.size || st.mtimeNs !== m.mtimeNs || st.ctimeNs !== m.ctimeNs) status = ${ET_HASH_CHANGED};
    else sha256 = h.digest();
  } catch (err) {
    status = ${ET_HASH_UNREADABLE};
  }
  parentPort.postMessage({id: m.id, status, sha256});
});
`;
