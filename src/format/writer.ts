// TraceWriter: appends blocks to a new trace file, synchronously. create()
// writes the metadata twice (META and its copy MCPY, format 1.1) before it
// returns, so every file with a chunk holds both, however it ends. The recorder
// hands it batches of raw frames; each becomes one CHNK block (one zstd
// frame, hashed and chained). Every block is written whole (one writev)
// before the next starts, so a killed recorder leaves a file whose complete
// blocks all read; a block whose write fails (disk full) is cut off again, so
// the file ends at its last complete block. syncSoon() makes what was written
// durable in the background, without stalling the caller's thread.

import * as fs from 'node:fs';
import {
  BLOCK_F_CRITICAL, BLOCK_F_KNOWN, BLOCK_F_ZSTD, DEFAULT_LIMITS, DEFAULT_ZSTD_LEVEL, HASH_SIZE, TAG_CHUNK, TAG_META, TAG_META_COPY,
  TAG_TRAILER,
} from './constants';
import {countFrames} from './frames';
import {encodeDocument} from './meta';
import {encodeBlockHeader, encodeFileHeader, encodeFooter, sha256} from './wire';
import {PayloadCompressor} from './zstd';

export interface WriterOptions {
  /** Replace an existing regular file (never follows a symlink: the link itself is replaced). */
  force?: boolean;
  /** zstd level for META and chunks; default 3. */
  level?: number;
  /**
   * The file, already created empty at `path` by the caller (the recorder creates and
   * locks it before it loads anything): written to instead of creating it; `force` is
   * then not looked at.
   */
  fd?: number;
}

export interface ChunkInfo {
  /** Frames in the batch; checked against the batch unless `counted`. */
  records: number;
  /**
   * The caller built the framing itself and counted the frames as it did (the recorder:
   * the drain thread frames and counts every record it copies), so a second pass over
   * every frame would find nothing: skip it.
   */
  counted?: boolean;
  /** Smallest and largest record timestamp (boot-clock ns) in the batch; 0 when unknown. */
  firstTs: bigint | number;
  lastTs: bigint | number;
}

/** A chunk payload exactly as another file stores it (see copyChunk). */
export interface StoredChunk {
  /** The stored payload: one zstd frame when flags has ZSTD, else the frames themselves. */
  payload: Buffer;
  flags: number;
  /** Bytes after decompression. */
  rawSize: number;
  records: number;
  firstTs: bigint | number;
  lastTs: bigint | number;
}

export interface WriterStats {
  /** Bytes written to the file so far. */
  bytes: number;
  chunks: number;
  records: number;
  /** Frame bytes handed to writeChunk (before compression). */
  rawBytes: number;
}

const MAX_U64 = (1n << 64n) - 1n;

export class TraceWriter {
  private offset = 0;
  private prevHash: Buffer = Buffer.alloc(HASH_SIZE);
  private seq = 0;
  private fd: number | null;
  private failed: Error | null = null;
  /** A background fdatasync is running; close and destroy leave the fd to it to close. */
  private syncing = false;
  private closeAfterSync = false;
  /** Bytes written when the last background sync started. */
  private syncedTo = 0;
  private readonly zstd: PayloadCompressor;
  private readonly counts: WriterStats = {bytes: 0, chunks: 0, records: 0, rawBytes: 0};

  private constructor(readonly path: string, fd: number, zstd: PayloadCompressor) {
    this.fd = fd;
    this.zstd = zstd;
  }

  /**
   * Creates `path` with mode 0600 and writes the file header, the META block
   * and its copy. Refuses to replace an existing file unless opts.force.
   */
  static create(path: string, meta: object, opts: WriterOptions = {}): TraceWriter {
    const level = opts.level ?? DEFAULT_ZSTD_LEVEL;
    // Validate everything before the file exists, so a bad argument leaves nothing behind.
    const doc = encodeDocument(meta, DEFAULT_LIMITS);
    const zstd = PayloadCompressor.shared(level);
    let fd: number;
    if (opts.fd !== undefined) {
      fd = opts.fd;
    } else {
      if (opts.force) removeForOverwrite(path);
      fd = createExclusive(path);
    }
    const w = new TraceWriter(path, fd, zstd);
    try {
      w.write([encodeFileHeader()]);
      const stored = zstd.compress(doc);
      w.writeBlock(TAG_META, BLOCK_F_ZSTD, stored, doc.length, 0, 0n, 0n);
      // Right away, not after a chunk: a recorder killed before its first flush leaves both copies too.
      w.writeBlock(TAG_META_COPY, BLOCK_F_ZSTD, stored, doc.length, 0, 0n, 0n);
    } catch (e) {
      // Without its metadata the file is useless, and it is ours (created exclusively): remove it.
      w.destroy();
      try {
        fs.unlinkSync(path);
      } catch {
        // already gone
      }
      throw e;
    }
    return w;
  }

  /**
   * Appends one CHNK block holding `frames` (concatenated `[u32 LE len][record]`),
   * compressed as one zstd frame. The buffer may be reused once this returns.
   */
  writeChunk(frames: Buffer, info: ChunkInfo): void {
    this.usable();
    const n = info.counted ? info.records : countFrames(frames);
    if (n < 0) throw new Error('write chunk: malformed frames (a length runs past the end of the batch)');
    if (n !== info.records) throw new Error(`write chunk: the batch holds ${n} records, info.records says ${info.records}`);
    if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`write chunk: ${String(n)} records is not a u32`);
    if (frames.length > DEFAULT_LIMITS.maxRawSize) {
      throw new Error(`write chunk: ${frames.length} bytes above the ${DEFAULT_LIMITS.maxRawSize}-byte chunk limit`);
    }
    const payload = this.zstd.compress(frames);
    if (payload.length > DEFAULT_LIMITS.maxPayloadSize) {
      throw new Error(`write chunk: compressed to ${payload.length} bytes, above the ${DEFAULT_LIMITS.maxPayloadSize}-byte limit (write smaller chunks)`);
    }
    this.writeBlock(TAG_CHUNK, BLOCK_F_ZSTD, payload, frames.length, n, u64(info.firstTs, 'firstTs'), u64(info.lastTs, 'lastTs'));
    this.counts.chunks++;
    this.counts.records += n;
    this.counts.rawBytes += frames.length;
  }

  /**
   * Appends a CHNK block whose payload is already stored elsewhere (recover
   * copies intact chunks byte for byte). Only seq and prev_hash are new; the
   * caller vouches for the payload (it passed its checksum and decompresses
   * to rawSize bytes of well-formed frames).
   */
  copyChunk(c: StoredChunk): void {
    this.usable();
    const unknown = c.flags & BLOCK_F_CRITICAL & ~BLOCK_F_KNOWN;
    if (unknown) throw new Error(`copy chunk: unsupported flags 0x${unknown.toString(16)}`);
    if (!(c.flags & BLOCK_F_ZSTD) && c.rawSize !== c.payload.length) {
      throw new Error(`copy chunk: raw size ${c.rawSize} differs from the ${c.payload.length}-byte uncompressed payload`);
    }
    if (c.payload.length > DEFAULT_LIMITS.maxPayloadSize || c.rawSize > DEFAULT_LIMITS.maxRawSize) {
      throw new Error(`copy chunk: ${c.payload.length} stored / ${c.rawSize} raw bytes are above the limits`);
    }
    this.writeBlock(TAG_CHUNK, c.flags, c.payload, c.rawSize, c.records, u64(c.firstTs, 'firstTs'), u64(c.lastTs, 'lastTs'));
    this.counts.chunks++;
    this.counts.records += c.records;
    this.counts.rawBytes += c.rawSize;
  }

  /** fdatasync: makes every block written so far durable. Blocks the caller; see syncSoon. */
  sync(): void {
    this.usable();
    try {
      fs.fdatasyncSync(this.fd!);
    } catch (e) {
      throw this.fail('sync', e);
    }
  }

  /**
   * Starts an fdatasync on libuv's thread pool, unless one is running or
   * nothing was written since the last one started, and returns at once: the
   * recorder calls it on every flush tick, so a power loss costs at most a
   * tick or two of data, and a slow disk never stalls the drain. A failure
   * makes the next write (or close) throw.
   */
  syncSoon(): void {
    if (this.fd === null || this.failed || this.syncing || this.offset === this.syncedTo) return;
    const fd = this.fd;
    this.syncing = true;
    this.syncedTo = this.offset;
    fs.fdatasync(fd, (err) => {
      this.syncing = false;
      if (err && !this.failed) this.fail('sync', err);
      if (this.closeAfterSync) {
        this.closeAfterSync = false;
        closeQuietly(fd);
      }
    });
  }

  /**
   * Writes the TRLR block and the footer, fsyncs and closes. The writer fills
   * `chunks`, `records` and `final_hash` itself; the caller gives the rest
   * (`clock_end`, `totals`, `end_reason`, ...).
   */
  close(trailer: object): WriterStats {
    this.usable();
    if (typeof trailer !== 'object' || trailer === null || Array.isArray(trailer)) throw new Error('close: trailer must be a map');
    const doc = encodeDocument({
      ...trailer,
      chunks: this.counts.chunks,
      records: this.counts.records,
      final_hash: this.prevHash.toString('hex'),
    }, DEFAULT_LIMITS);
    const trailerOffset = this.offset;
    this.writeBlock(TAG_TRAILER, 0, doc, doc.length, 0, 0n, 0n);
    try {
      this.write([encodeFooter(trailerOffset)]);
    } catch (e) {
      // A trailer without its footer reads as a truncated file: end at the last chunk instead.
      this.cutBack(trailerOffset);
      throw e;
    }
    try {
      fs.fsyncSync(this.fd!);
    } catch (e) {
      this.destroy();
      throw this.fail('fsync', e);
    }
    const fd = this.fd!;
    this.fd = null;
    if (this.syncing) {
      this.closeAfterSync = true; // the background sync still uses fd; its callback closes it
      return this.stats;
    }
    try {
      fs.closeSync(fd);
    } catch (e) {
      throw this.fail('close', e);
    }
    return this.stats;
  }

  /** Closes without a trailer (the file stays readable up to its last block). Idempotent. */
  destroy(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    if (this.syncing) this.closeAfterSync = true;
    else closeQuietly(fd);
  }

  /**
   * Closes and removes the file: for a derived copy (filter, recover) that failed halfway,
   * which must not pass for a finished one. A recording is never discarded: destroy() it.
   */
  discard(): void {
    this.destroy();
    fs.rmSync(this.path, {force: true});
  }

  /** The error that stopped this writer (a failed write, sync or close), or null. */
  get error(): Error | null {
    return this.failed;
  }

  /** Hex SHA-256 of the last block header written: the chain head, worth keeping elsewhere (spec §5.2). */
  get chainHead(): string {
    return this.prevHash.toString('hex');
  }

  get stats(): WriterStats {
    return {...this.counts, bytes: this.offset};
  }

  private writeBlock(tag: string, flags: number, payload: Buffer, rawSize: number, records: number, firstTs: bigint, lastTs: bigint): void {
    const header = encodeBlockHeader({
      tag, seq: this.seq, flags, payloadSize: payload.length, rawSize, recordCount: records,
      firstTs, lastTs, payloadSha256: sha256(payload), prevHash: this.prevHash,
    });
    const start = this.offset;
    try {
      this.write([header, payload]);
    } catch (e) {
      this.cutBack(start);
      throw e;
    }
    this.prevHash = sha256(header);
    this.seq++;
  }

  /** Writes bufs at the current offset, as one writev unless the kernel takes less. */
  private write(bufs: Buffer[]): void {
    const total = bufs.reduce((n, b) => n + b.length, 0);
    let done = 0;
    try {
      while (done < total) {
        let skip = done;
        const rest: Buffer[] = [];
        for (const b of bufs) {
          if (skip >= b.length) skip -= b.length;
          else {
            rest.push(skip ? b.subarray(skip) : b);
            skip = 0;
          }
        }
        done += fs.writevSync(this.fd!, rest, this.offset + done);
      }
    } catch (e) {
      throw this.fail('write', e);
    } finally {
      this.offset += done;
    }
  }

  /** After a failed write: drop the partial block, so the file ends at its last complete one. */
  private cutBack(to: number): void {
    if (this.fd === null || this.offset === to) return;
    try {
      fs.ftruncateSync(this.fd, to);
      this.offset = to;
    } catch {
      // the partial block stays; readers report it as a truncated block
    }
  }

  private fail(op: string, e: unknown): Error {
    this.failed = new Error(`${op} ${this.path}: ${ioReason(e)}`);
    return this.failed;
  }

  private usable(): void {
    if (this.failed) throw this.failed;
    if (this.fd === null) throw new Error(`write ${this.path}: the trace file is closed`);
  }
}

/** --force: remove a regular file or a symlink (not its target); refuse anything else (a device, a directory). */
/** Creates `path` (mode 0600) for writing; fails if it exists. */
export function createExclusive(path: string): number {
  try {
    const {O_WRONLY, O_CREAT, O_EXCL} = fs.constants;
    return fs.openSync(path, O_WRONLY | O_CREAT | O_EXCL, 0o600);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EEXIST') throw new Error(`output file ${path} exists (use --force to overwrite)`);
    throw new Error(`create ${path}: ${err.message}`);
  }
}

/** Removes `path` so that it can be created anew: a regular file or a symlink (never its target). */
export function removeForOverwrite(path: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`create ${path}: ${(e as Error).message}`);
  }
  if (!st.isFile() && !st.isSymbolicLink()) throw new Error(`output file ${path} exists and is not a regular file`);
  try {
    fs.unlinkSync(path);
  } catch (e) {
    throw new Error(`create ${path}: cannot remove the old file: ${(e as Error).message}`);
  }
}

/** "ENOSPC: no space left on device, write" -> "no space left on device (ENOSPC)". */
function ioReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const m = /^([A-Z][A-Z0-9]+): (.*?)(?:, \w+(?: '.*')?)?$/.exec(err.message ?? '');
  return m && err.code === m[1] ? `${m[2]} (${m[1]})` : String(err.message ?? e);
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // nothing left to save
  }
}

function u64(v: bigint | number, name: string): bigint {
  const b = typeof v === 'bigint' ? v : Number.isSafeInteger(v) ? BigInt(v) : -1n;
  if (b < 0n || b > MAX_U64) throw new Error(`write chunk: ${name} ${String(v)} is not a u64`);
  return b;
}
