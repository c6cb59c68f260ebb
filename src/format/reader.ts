// TraceReader: reads a trace file front to back in bounded pieces. open()
// parses the file header and META — or, when META is damaged, its copy MCPY
// (format 1.1) — and throws if neither is usable; chunks() then yields each
// intact chunk, decompressed, and reports every damaged, missing or altered
// block as a Problem before moving on to the next block whose header
// verifies. A chunk cut by the end of the file yields its complete records.
// Memory stays flat: one header buffer, one payload buffer (at most
// maxPayloadSize), one resync window, and the decompressed chunk.

import * as fs from 'node:fs';
import {
  BLOCK_F_CRITICAL, BLOCK_F_KNOWN, BLOCK_F_ZSTD, BLOCK_HEADER_SIZE, BH, DEFAULT_LIMITS, FILE_HEADER_SIZE,
  FOOTER_SIZE, MAX_BLOCK_HEADER_SIZE, type ReaderLimits, TAG_CHUNK, TAG_META, TAG_META_COPY, TAG_TRAILER,
} from './constants';
import {FrameCursor} from './frames';
import {decodeDocument, type MetaMap} from './meta';
import {type Problem, type ProblemHandler, type ProblemKind, TraceFormatError, oneLine} from './problems';
import {
  type BlockHeader, blockHeaderFault, decodeBlockHeader, decodeFileHeader, decodeFooter, isHeaderSize,
  scanForBlockHeader, sha256,
} from './wire';
import {PayloadDecompressor} from './zstd';

export interface Chunk {
  seq: number;
  /** File offset of the chunk's block header. */
  offset: number;
  /** record_count from the header (the frames helper checks it against the data). */
  records: number;
  firstTs: bigint;
  lastTs: bigint;
  /** Decompressed frames. With reuseBuffers, valid only until the iterator advances. */
  data: Buffer;
  /** payload_size: bytes the chunk takes on disk after its header. */
  storedSize: number;
  /** The payload as stored (compressed when flags has ZSTD), checksum verified. Valid only until the iterator advances. */
  stored: Buffer;
  /** The block header's flags. */
  flags: number;
  /**
   * Set when the file ends inside this chunk (spec §8.2.1): `data` holds the complete records
   * before the cut, which no checksum covers, and `records` counts them; `stored` is the
   * partial payload, not a block to copy. `declared` is the header's record_count.
   */
  cut?: {declared: number};
}

/** A verified block header, as seen (for verify/stats listings). */
export interface BlockInfo {
  tag: string;
  seq: number;
  offset: number;
  headerSize: number;
  flags: number;
  payloadSize: number;
  rawSize: number;
  records: number;
  firstTs: bigint;
  lastTs: bigint;
}

export interface ReaderOptions {
  /** Called for each problem as it is found (problems are also collected in reader.problems). */
  onProblem?: ProblemHandler;
  /** Called for each block header that verifies, META included, before its payload is read. */
  onBlock?: (b: BlockInfo) => void;
  /** Reuse one buffer for every chunk's data (valid until the iterator advances): no allocation per chunk. */
  reuseBuffers?: boolean;
  /** Override limits (e.g. lower them for a service decoding untrusted uploads). */
  limits?: Partial<ReaderLimits>;
  /** Called as each chunk is handed out: how far into the file the reader is, and the records handed out so far. */
  onProgress?: ProgressFn;
}

/** ProgressPoint is how far a pass over a file is: bytes of it done of `total`, and records done. */
export interface ProgressPoint {
  bytes: number;
  total: number;
  records: number;
  /** Which pass of several this is (`checking`, `hashing`, `copying`); bytes and total are that pass's. */
  stage?: string;
}

/** ProgressFn is called by a pass over a file after each chunk (src/cli/progress.ts draws it). */
export type ProgressFn = (p: ProgressPoint) => void;

export interface ReaderStats {
  /** Chunks and records yielded. */
  chunks: number;
  records: number;
  /** CHNK blocks in sequence whose headers verified (yielded or not), and their record counts. */
  chunksSeen: number;
  recordsSeen: number;
}

/** The resync window; a candidate header never needs more than this plus MAX_BLOCK_HEADER_SIZE bytes. */
const SCAN_WINDOW = 1 << 20;

type HeaderRead =
  | {state: 'ok'; header: BlockHeader; raw: Buffer}
  | {state: 'truncated'; have: number}
  | {state: 'bad'; reason: string};

class FileSource {
  constructor(readonly path: string, readonly fd: number, readonly size: number) {}

  /** Reads buf[0, len) from `pos`; returns the bytes read (fewer only at the end of the file). */
  readAt(pos: number, len: number, buf: Buffer): number {
    let done = 0;
    try {
      while (done < len) {
        const n = fs.readSync(this.fd, buf, done, len - done, pos + done);
        if (n === 0) break;
        done += n;
      }
    } catch (e) {
      throw new TraceFormatError(`read ${this.path} at offset ${pos + done}: ${(e as Error).message}`, pos + done);
    }
    return done;
  }
}

export class TraceReader {
  /** Format version of the file. */
  readonly version: {major: number; minor: number};
  /** The META document. */
  readonly meta: MetaMap;
  readonly fileSize: number;
  /** Problems found by the last chunks() pass, in file order. */
  problems: Problem[] = [];
  /** The TRLR document, once chunks() has reached it; null if the file has none (or it is unreadable). */
  trailer: MetaMap | null = null;
  /** True once chunks() has read a readable trailer followed by a valid footer. */
  complete = false;
  stats: ReaderStats = {chunks: 0, records: 0, chunksSeen: 0, recordsSeen: 0};

  private readonly limits: ReaderLimits;
  private readonly src: FileSource;
  private readonly zstd = PayloadDecompressor.shared();
  private readonly hdrBuf = Buffer.alloc(MAX_BLOCK_HEADER_SIZE);
  private payloadBuf = Buffer.alloc(0);
  private scanBuf: Buffer | null = null;
  private dataBuf: Buffer | null = null;
  /** Where chunks() starts: the block after META (the copy when META was damaged), and the chain there. */
  private walkFrom = 0;
  private walkPrevHash: Buffer | null = null;
  /** payload_sha256 of the metadata in use, which a copy must match. */
  private metaSha: Buffer = Buffer.alloc(0);
  /** Damage to META found by open() when its copy stood in: reported again by every chunks() pass. */
  private metaProblems: Problem[] = [];
  private closed = false;

  private constructor(src: FileSource, private readonly opts: ReaderOptions) {
    this.src = src;
    this.fileSize = src.size;
    this.limits = {...DEFAULT_LIMITS, ...opts.limits};
    const head = Buffer.alloc(FILE_HEADER_SIZE);
    const fh = decodeFileHeader(head.subarray(0, src.readAt(0, FILE_HEADER_SIZE, head)));
    this.version = {major: fh.major, minor: fh.minor};
    this.meta = this.readMeta();
  }

  /** Opens a trace file and reads its header and metadata. Throws TraceFormatError (one line) if it cannot. */
  static open(path: string, opts: ReaderOptions = {}): TraceReader {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (e) {
      throw new TraceFormatError(`open ${path}: ${(e as Error).message}`);
    }
    try {
      const st = fs.fstatSync(fd);
      if (st.isDirectory()) throw new TraceFormatError(`open ${path}: is a directory`);
      return new TraceReader(new FileSource(path, fd, st.size), opts);
    } catch (e) {
      fs.closeSync(fd);
      if (e instanceof TraceFormatError) throw e;
      throw new TraceFormatError(`read ${path}: ${(e as Error).message}`);
    }
  }

  get path(): string {
    return this.src.path;
  }

  /** Releases the file. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.src.fd);
  }

  [Symbol.iterator](): Generator<Chunk, void, undefined> {
    return this.chunks();
  }

  /**
   * Yields every intact chunk in file order; each call starts over after
   * META and resets problems, trailer, complete and stats.
   */
  *chunks(): Generator<Chunk, void, undefined> {
    if (this.closed) throw new TraceFormatError(`read ${this.path}: the reader is closed`);
    this.problems = [];
    this.trailer = null;
    this.complete = false;
    this.stats = {chunks: 0, records: 0, chunksSeen: 0, recordsSeen: 0};
    const size = this.fileSize;
    let pos = this.walkFrom;
    let expectSeq = 1;
    // SHA-256 of the previous verified header; null right after a resync (the chain is known broken there).
    let prevHash: Buffer | null = this.walkPrevHash;
    let lostBlocks = false;
    for (const p of this.metaProblems) this.report(p.kind, p.seq, p.offset, p.records, p.message);

    while (pos < size) {
      const r = this.readHeaderAt(pos);
      if (r.state === 'truncated') {
        this.report('truncated', expectSeq, pos, null,
          `file ends at offset ${size}, inside the block header at offset ${pos} (${r.have} of at least ${BLOCK_HEADER_SIZE} bytes)`);
        return;
      }
      const fault = r.state === 'bad' ? r.reason : this.limitFault(r.header);
      if (r.state === 'bad' || fault !== null) {
        lostBlocks = true;
        const next = this.resync(pos + 1);
        if (next < 0) {
          this.report('header', expectSeq, pos, null,
            `damaged block header at offset ${pos} (${fault}); no valid block header follows, ${size - pos} bytes skipped to the end of the file`);
          return;
        }
        const nr = this.readHeaderAt(next);
        const nextSeq = nr.state === 'ok' ? nr.header.seq : NaN;
        const lost = nextSeq > expectSeq ? `, blocks seq ${expectSeq}..${nextSeq - 1} lost` : '';
        // A 1.1 writer puts the copy right after META: name it, so that a reader of the message knows only the copy is gone.
        const copy = this.version.minor >= 1 && expectSeq === 1 && pos === this.walkFrom ? ', where the metadata copy belongs' : '';
        this.report('header', nextSeq > expectSeq ? expectSeq : null, pos, null,
          `damaged block header at offset ${pos} (${fault})${copy}; skipped ${next - pos} bytes to the next valid block header at offset ${next}${lost}`);
        pos = next;
        prevHash = null;
        continue;
      }

      const h = r.header;
      const end = pos + h.headerSize + h.payloadSize;
      this.opts.onBlock?.({
        tag: h.tag, seq: h.seq, offset: pos, headerSize: h.headerSize, flags: h.flags, payloadSize: h.payloadSize,
        rawSize: h.rawSize, records: h.recordCount, firstTs: h.firstTs, lastTs: h.lastTs,
      });
      const isChunk = h.tag === TAG_CHUNK;
      const name = blockName(h, pos);
      const cutShort = `file ends at offset ${size}, inside ${name} (${end - size} of ${h.payloadSize} payload bytes missing)`;
      if (end > size && !isChunk) {
        this.report('truncated', h.seq, pos, null, cutShort);
        return;
      }
      const headerHash = sha256(r.raw);

      // Order: a block out of sequence is reported as such; a block in sequence whose prev_hash does not
      // name the block before it breaks the chain.
      if (h.tag === TAG_META || h.seq < expectSeq) {
        this.report('sequence', h.seq, pos, isChunk ? h.recordCount : null,
          `${name} is out of order (expected seq ${expectSeq}); block skipped`);
        if (end > size) {
          this.report('truncated', h.seq, pos, h.recordCount, cutShort);
          return;
        }
        prevHash = headerHash;
        pos = end;
        continue;
      }
      if (h.seq > expectSeq && prevHash !== null) {
        lostBlocks = true;
        this.report('sequence', expectSeq, pos, null,
          `blocks seq ${expectSeq}..${h.seq - 1} are missing before ${name}`);
      } else if (prevHash !== null && !prevHash.equals(h.prevHash)) {
        this.report('chain', h.seq, pos, isChunk ? h.recordCount : null,
          `${name} does not chain to the block before it (prev_hash mismatch): a block was altered, removed or inserted`);
      }
      prevHash = headerHash;
      expectSeq = h.seq + 1;
      if (isChunk) {
        this.stats.chunksSeen++;
        this.stats.recordsSeen += h.recordCount;
      }

      if (end > size) {
        const cut = this.unpackCut(h, pos, name);
        if (cut !== null) {
          this.stats.chunks++;
          this.stats.records += cut.records;
          this.opts.onProgress?.({bytes: size, total: size, records: this.stats.records});
          yield cut;
        }
        return;
      }

      const payload = this.readPayload(pos + h.headerSize, h.payloadSize);
      if (!sha256(payload).equals(h.payloadSha256)) {
        const after = h.tag === TAG_META_COPY
          ? `nothing lost, the metadata was read from the metadata block at offset ${FILE_HEADER_SIZE}`
          : 'block skipped';
        this.report('checksum', h.seq, pos, isChunk ? h.recordCount : null,
          `${name}${isChunk ? ` (${h.recordCount} records)` : ''} fails its checksum (payload SHA-256 mismatch); ${after}`);
        if (h.tag === TAG_TRAILER) {
          this.checkFooter(pos, end);
          return;
        }
        pos = end;
        continue;
      }

      if (isChunk) {
        const data = this.unpack(h, payload, name, pos);
        if (data !== null) {
          this.stats.chunks++;
          this.stats.records += h.recordCount;
          this.opts.onProgress?.({bytes: end, total: size, records: this.stats.records});
          yield {
            seq: h.seq, offset: pos, records: h.recordCount, firstTs: h.firstTs, lastTs: h.lastTs,
            data, storedSize: h.payloadSize, stored: payload, flags: h.flags,
          };
        }
      } else if (h.tag === TAG_META_COPY) {
        // Intact, but is it a copy of the metadata in use? Only a copy altered and re-sealed differs.
        if (!h.payloadSha256.equals(this.metaSha)) {
          this.report('checksum', h.seq, pos, null,
            `${name} is not a copy of the metadata in use (its payload SHA-256 differs from that of the metadata block at offset ${FILE_HEADER_SIZE}); copy ignored`);
        }
      } else if (h.tag === TAG_TRAILER) {
        this.readTrailer(h, payload, name, pos, lostBlocks);
        this.checkFooter(pos, end);
        return;
      }
      // Unknown tags (added by a later 1.x) are skipped; they still count in seq and the chain.
      pos = end;
    }
  }

  private readMeta(): MetaMap {
    const pos = FILE_HEADER_SIZE;
    const size = this.fileSize;
    const r = this.readHeaderAt(pos);
    if (r.state === 'truncated') {
      throw new TraceFormatError(`truncated file: it ends at offset ${size}, inside the metadata block header at offset ${pos}`, size);
    }
    if (r.state === 'bad') {
      // No sizes to go by: the copy is the first block whose header verifies after META's extent begins.
      const at = this.resync(pos + 1, pos + MAX_BLOCK_HEADER_SIZE + this.limits.maxPayloadSize + 1);
      return this.useCopy(at, null, null, 'header',
        `damaged metadata block header at offset ${pos} (${r.reason})`);
    }
    const h = r.header;
    const where = `metadata block at offset ${pos}`;
    if (h.tag !== TAG_META) throw new TraceFormatError(`damaged ${where}: expected tag "META", found ${JSON.stringify(h.tag)}`, pos);
    if (h.seq !== 0) throw new TraceFormatError(`damaged ${where}: seq ${h.seq}, expected 0`, pos);
    const fault = this.limitFault(h);
    if (fault !== null) throw new TraceFormatError(`unreadable ${where}: ${fault}`, pos);
    this.opts.onBlock?.({
      tag: h.tag, seq: h.seq, offset: pos, headerSize: h.headerSize, flags: h.flags, payloadSize: h.payloadSize,
      rawSize: h.rawSize, records: h.recordCount, firstTs: h.firstTs, lastTs: h.lastTs,
    });
    const end = pos + h.headerSize + h.payloadSize;
    if (end > size) throw new TraceFormatError(`truncated file: it ends at offset ${size}, inside the ${where}`, size);
    const headerHash = sha256(r.raw);
    const payload = this.readPayload(pos + h.headerSize, h.payloadSize);
    if (!sha256(payload).equals(h.payloadSha256)) {
      return this.useCopy(end, h, headerHash, 'checksum',
        `damaged ${where}: payload checksum mismatch`);
    }
    // Past its checksum, META is as written: its copy holds the same bytes, so a failure here is final.
    let meta: MetaMap;
    try {
      meta = this.parseMetaPayload(h, payload);
    } catch (e) {
      if (!(e instanceof MetaFault)) throw e;
      const what = e.stage === 'damaged' ? `damaged ${where}` : `unreadable metadata at offset ${pos}`;
      throw new TraceFormatError(`${what}: ${e.message}`, pos);
    }
    this.walkFrom = end;
    this.walkPrevHash = headerHash;
    this.metaSha = h.payloadSha256;
    return meta;
  }

  /**
   * META is damaged: reads the metadata from its copy (spec §8.1 step 6), the block at `at`
   * (-1: none found). `meta` and `metaHash` are META's header and its SHA-256 when that
   * header verified. Throws `failure` (with why the copy could not stand in, when there was
   * one) unless the copy is whole.
   */
  private useCopy(at: number, meta: BlockHeader | null, metaHash: Buffer | null, kind: ProblemKind, failure: string): MetaMap {
    const fail = (why: string | null): never => {
      throw new TraceFormatError(why === null ? failure : `${failure}; its copy at offset ${at} is damaged too (${why})`, FILE_HEADER_SIZE);
    };
    if (at < 0) return fail(null);
    const r = this.readHeaderAt(at);
    // A 1.0 file, or a copy whose own header is gone: no copy to speak of.
    if (r.state !== 'ok' || r.header.tag !== TAG_META_COPY) return fail(null);
    const h = r.header;
    if (h.seq !== 1) return fail(`seq ${h.seq}, expected 1`);
    const fault = this.limitFault(h);
    if (fault !== null) return fail(fault);
    const end = at + h.headerSize + h.payloadSize;
    if (end > this.fileSize) return fail(`the file ends at offset ${this.fileSize}, inside it`);
    // META's verified header vouches for one payload: the copy must be that payload.
    if (meta !== null && !meta.payloadSha256.equals(h.payloadSha256)) return fail('its payload SHA-256 is not the metadata block\'s');
    const payload = this.readPayload(at + h.headerSize, h.payloadSize);
    if (!sha256(payload).equals(h.payloadSha256)) return fail('payload checksum mismatch');
    let doc: MetaMap;
    try {
      doc = this.parseMetaPayload(h, payload);
    } catch (e) {
      if (!(e instanceof MetaFault)) throw e;
      return fail(e.stage === 'damaged' ? e.message : `unreadable: ${e.message}`);
    }
    const name = blockName(h, at);
    const what = kind === 'header' ? failure : `metadata block seq 0 at offset ${FILE_HEADER_SIZE} fails its checksum (payload SHA-256 mismatch)`;
    this.metaProblems = [{kind, seq: 0, offset: FILE_HEADER_SIZE, records: null, message: oneLine(`${what}; the metadata was read from its copy, ${name}`)}];
    // The walk checks the copy like any block; the chain from META holds only if META's header verified.
    this.walkFrom = at;
    this.walkPrevHash = metaHash;
    this.metaSha = h.payloadSha256;
    return doc;
  }

  /**
   * The document of a META or MCPY payload that passed its checksum. Throws MetaFault: `damaged`
   * when the payload is not one zstd frame of raw_size bytes, `unreadable` when the document is not.
   */
  private parseMetaPayload(h: BlockHeader, payload: Buffer): MetaMap {
    let doc: Buffer = payload;
    if (h.flags & BLOCK_F_ZSTD) {
      doc = Buffer.allocUnsafe(h.rawSize);
      try {
        this.zstd.decompressInto(payload, doc);
      } catch (e) {
        throw new MetaFault('damaged', (e as Error).message);
      }
    }
    try {
      return decodeDocument(doc, this.limits);
    } catch (e) {
      throw new MetaFault('unreadable', (e as Error).message);
    }
  }

  private readTrailer(h: BlockHeader, payload: Buffer, name: string, pos: number, lostBlocks: boolean): void {
    let doc: Buffer = payload;
    if (h.flags & BLOCK_F_ZSTD) {
      doc = Buffer.allocUnsafe(h.rawSize);
      try {
        this.zstd.decompressInto(payload, doc);
      } catch (e) {
        this.report('decompress', h.seq, pos, null, `${name} cannot be decompressed: ${(e as Error).message}`);
        return;
      }
    }
    let t: MetaMap;
    try {
      t = decodeDocument(doc, this.limits);
    } catch (e) {
      this.report('trailer', h.seq, pos, null, `${name} is unreadable: ${(e as Error).message}`);
      return;
    }
    this.trailer = t;
    const want = h.prevHash.toString('hex');
    if (typeof t.final_hash === 'string' && t.final_hash !== want) {
      this.report('trailer', h.seq, pos, null, `${name}: final_hash ${oneLine(t.final_hash).slice(0, 80)} differs from the chain (${want})`);
    }
    // Missing blocks already reported explain a count mismatch; only report one nothing else explains.
    const {chunksSeen, recordsSeen} = this.stats;
    if (!lostBlocks && (t.chunks !== chunksSeen || t.records !== recordsSeen) &&
        (typeof t.chunks === 'number' || typeof t.records === 'number')) {
      this.report('trailer', h.seq, pos, null,
        `${name} counts ${String(t.chunks)} chunks with ${String(t.records)} records, the file holds ${chunksSeen} with ${recordsSeen}`);
    }
  }

  private checkFooter(trailerPos: number, at: number): void {
    const left = this.fileSize - at;
    if (left < FOOTER_SIZE) {
      this.report('truncated', null, at, null,
        `file ends at offset ${this.fileSize}, ${left === 0 ? 'where' : 'inside'} the ${FOOTER_SIZE}-byte footer ${left === 0 ? 'should start' : 'at offset ' + at}`);
      return;
    }
    const b = this.hdrBuf;
    this.src.readAt(at, FOOTER_SIZE, b);
    const f = decodeFooter(b, 0);
    if (!f.magicOk) {
      this.report('trailer', null, at, null, `damaged footer at offset ${at}: bad magic`);
      return;
    }
    if (f.trailerOffset !== trailerPos) {
      this.report('trailer', null, at, null, `footer at offset ${at} points to offset ${f.trailerOffset}, the trailer is at offset ${trailerPos}`);
      return;
    }
    if (left > FOOTER_SIZE) {
      this.report('trailer', null, at + FOOTER_SIZE, null,
        `${left - FOOTER_SIZE} unexpected bytes after the footer, from offset ${at + FOOTER_SIZE} to the end of the file`);
      return;
    }
    this.complete = this.trailer !== null;
  }

  /** Decompressed (or copied) chunk data, or null after reporting why not. */
  private unpack(h: BlockHeader, payload: Buffer, name: string, pos: number): Buffer | null {
    const reuse = this.opts.reuseBuffers === true;
    if (!(h.flags & BLOCK_F_ZSTD)) return reuse ? payload : Buffer.from(payload);
    // Decompress into a scratch buffer; hand it out only on success (then, unless reusing, drop it).
    if (this.dataBuf === null || this.dataBuf.length < h.rawSize) {
      this.dataBuf = Buffer.allocUnsafeSlow(reuse ? Math.max(h.rawSize, 64 * 1024) : h.rawSize);
    }
    const dst = this.dataBuf.subarray(0, h.rawSize);
    try {
      this.zstd.decompressInto(payload, dst);
    } catch (e) {
      this.report('decompress', h.seq, pos, h.recordCount,
        `${name} (${h.recordCount} records) cannot be decompressed: ${(e as Error).message}; block skipped`);
      return null;
    }
    if (!reuse) this.dataBuf = null;
    return dst;
  }

  /**
   * A chunk the file's end cuts (spec §8.2.1): the complete records the bytes before the cut
   * hold, after reporting the cut; null when the header's sizes leave nothing to read.
   */
  private unpackCut(h: BlockHeader, pos: number, name: string): Chunk | null {
    const start = pos + h.headerSize;
    const have = Math.max(0, this.fileSize - start);
    const stored = this.readPayload(start, have);
    let raw: Buffer;
    if (h.flags & BLOCK_F_ZSTD) {
      if (this.dataBuf === null || this.dataBuf.length < h.rawSize) this.dataBuf = Buffer.allocUnsafeSlow(h.rawSize);
      raw = this.dataBuf.subarray(0, this.zstd.decompressPrefix(stored, this.dataBuf.subarray(0, h.rawSize)));
    } else {
      raw = stored.subarray(0, Math.min(have, h.rawSize));
    }
    const c = new FrameCursor().reset(raw);
    let records = 0;
    let good = 0;
    while (c.next() && records < h.recordCount) {
      records++;
      good = c.offset + c.length;
    }
    this.report('truncated', h.seq, pos, h.recordCount,
      `${name} cut at offset ${this.fileSize} (${h.payloadSize - have} of ${h.payloadSize} payload bytes missing): ${records} of ${h.recordCount} records recovered`);
    if (records === 0) return null;
    const reuse = this.opts.reuseBuffers === true;
    const data = reuse ? raw.subarray(0, good) : Buffer.from(raw.subarray(0, good));
    if (!reuse && h.flags & BLOCK_F_ZSTD) this.dataBuf = null;
    return {
      seq: h.seq, offset: pos, records, firstTs: h.firstTs, lastTs: h.lastTs, data, storedSize: have, stored,
      flags: h.flags, cut: {declared: h.recordCount},
    };
  }

  /** Why a verified header still cannot be believed, or null. */
  private limitFault(h: BlockHeader): string | null {
    const L = this.limits;
    if (Number.isNaN(h.seq)) return 'seq above 2^53';
    const unknown = h.flags & BLOCK_F_CRITICAL & ~BLOCK_F_KNOWN;
    if (unknown) return `unsupported flags 0x${unknown.toString(16)}`;
    if (h.payloadSize > L.maxPayloadSize) return `payload_size ${h.payloadSize} above the limit of ${L.maxPayloadSize}`;
    const maxRaw = h.tag === TAG_META || h.tag === TAG_TRAILER ? L.maxMetaSize : L.maxRawSize;
    if (h.rawSize > maxRaw) return `raw_size ${h.rawSize} above the limit of ${maxRaw}`;
    if (!(h.flags & BLOCK_F_ZSTD) && h.rawSize !== h.payloadSize) {
      return `raw_size ${h.rawSize} differs from payload_size ${h.payloadSize} in an uncompressed block`;
    }
    return null;
  }

  private readHeaderAt(pos: number): HeaderRead {
    const b = this.hdrBuf;
    const have = this.src.readAt(pos, BLOCK_HEADER_SIZE, b);
    if (have < BLOCK_HEADER_SIZE) return {state: 'truncated', have};
    const hs = b.readUInt32LE(BH.headerSize);
    if (isHeaderSize(hs) && hs > BLOCK_HEADER_SIZE) {
      const more = this.src.readAt(pos + BLOCK_HEADER_SIZE, hs - BLOCK_HEADER_SIZE, b.subarray(BLOCK_HEADER_SIZE));
      if (more < hs - BLOCK_HEADER_SIZE) return {state: 'truncated', have: have + more};
    }
    const fault = blockHeaderFault(b, 0);
    if (fault !== null) return {state: 'bad', reason: fault};
    const header = decodeBlockHeader(b, 0);
    return {state: 'ok', header, raw: b.subarray(0, hs)};
  }

  private readPayload(pos: number, len: number): Buffer {
    if (this.payloadBuf.length < len) this.payloadBuf = Buffer.allocUnsafeSlow(len);
    const buf = this.payloadBuf.subarray(0, len);
    const n = this.src.readAt(pos, len, buf);
    // The caller checked the size; a file that shrank under us reads as truncated garbage, caught by the checksum.
    if (n < len) buf.fill(0, n);
    return buf;
  }

  /** Offset of the first valid block header at or after `from` (and before `before`), or -1. */
  private resync(from: number, before = Infinity): number {
    const size = Math.min(this.fileSize, before + MAX_BLOCK_HEADER_SIZE);
    this.scanBuf ??= Buffer.allocUnsafeSlow(SCAN_WINDOW + MAX_BLOCK_HEADER_SIZE);
    const buf = this.scanBuf;
    let pos = from;
    while (pos + 8 <= size) {
      const n = this.src.readAt(pos, Math.min(buf.length, size - pos), buf);
      const atEof = pos + n >= size;
      const r = scanForBlockHeader(buf, 0, n, atEof);
      if (r.state === 'found') return pos + r.index < before ? pos + r.index : -1;
      if (atEof && r.state === 'none') return -1;
      pos += Math.max(1, r.index);
    }
    return -1;
  }

  private report(kind: ProblemKind, seq: number | null, offset: number, records: number | null, message: string): void {
    const p: Problem = {kind, seq: seq !== null && Number.isFinite(seq) ? seq : null, offset, records, message: oneLine(message)};
    this.problems.push(p);
    this.opts.onProblem?.(p);
  }
}

/** Why a META or MCPY payload that passed its checksum still gives no metadata. */
class MetaFault extends Error {
  constructor(readonly stage: 'damaged' | 'unreadable', message: string) {
    super(message);
  }
}

function blockName(h: BlockHeader, pos: number): string {
  return `${tagName(h.tag)} seq ${h.seq} at offset ${pos}`;
}

/** How messages name a block of this tag. */
export function tagName(tag: string): string {
  switch (tag) {
    case TAG_CHUNK: return 'chunk';
    case TAG_TRAILER: return 'trailer';
    case TAG_META: return 'metadata block';
    case TAG_META_COPY: return 'metadata copy';
    default: return `block ${JSON.stringify(tag)}`;
  }
}

/**
 * The trailer of a finished file, reached through the footer (a seek, not a pass over the
 * chunks), for a reader that needs it before walking them. null when the file has no
 * footer, or the trailer it points to is damaged, is not the last block, or exceeds the
 * default limits: a full read (TraceReader) then says what is wrong.
 */
export function peekTrailer(path: string): MetaMap | null {
  let fd: number | null = null;
  try {
    fd = fs.openSync(path, 'r');
    const size = fs.fstatSync(fd).size;
    if (size < FOOTER_SIZE + BLOCK_HEADER_SIZE) return null;
    const foot = Buffer.alloc(FOOTER_SIZE);
    fs.readSync(fd, foot, 0, FOOTER_SIZE, size - FOOTER_SIZE);
    const f = decodeFooter(foot, 0);
    if (!f.magicOk || !Number.isSafeInteger(f.trailerOffset) || f.trailerOffset + BLOCK_HEADER_SIZE > size - FOOTER_SIZE) return null;
    const hb = Buffer.alloc(MAX_BLOCK_HEADER_SIZE);
    const got = fs.readSync(fd, hb, 0, Math.min(MAX_BLOCK_HEADER_SIZE, size - FOOTER_SIZE - f.trailerOffset), f.trailerOffset);
    if (got < BLOCK_HEADER_SIZE || blockHeaderFault(hb, 0) !== null) return null;
    const h = decodeBlockHeader(hb, 0);
    const at = f.trailerOffset + h.headerSize;
    if (h.tag !== TAG_TRAILER || at + h.payloadSize !== size - FOOTER_SIZE || h.payloadSize > DEFAULT_LIMITS.maxPayloadSize) return null;
    if (h.rawSize > DEFAULT_LIMITS.maxMetaSize) return null;
    const payload = Buffer.alloc(h.payloadSize);
    fs.readSync(fd, payload, 0, h.payloadSize, at);
    if (!sha256(payload).equals(h.payloadSha256)) return null;
    let doc = payload;
    if (h.flags & BLOCK_F_ZSTD) {
      doc = Buffer.alloc(h.rawSize);
      PayloadDecompressor.shared().decompressInto(payload, doc);
    }
    return decodeDocument(doc, DEFAULT_LIMITS);
  } catch {
    return null;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
