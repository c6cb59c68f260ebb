// Wire structures of format v1 — file header, block header, footer — and the
// position math over them (verification, resync scanning). Nothing here does
// I/O: every function takes a Buffer and an offset, so the reader and writer
// own the file and these stay testable byte by byte.

import {createHash} from 'node:crypto';
import {
  BH, BLOCK_HEADER_SIZE, FH, FILE_HEADER_SIZE, FILE_MAGIC, FOOTER_MAGIC, FOOTER_SIZE, FORMAT_MAJOR,
  FORMAT_MINOR, FT, HASH_SIZE, MAX_BLOCK_HEADER_SIZE,
} from './constants';
import {TraceFormatError} from './problems';

export interface FileHeader {
  major: number;
  minor: number;
  flags: number;
}

export function encodeFileHeader(major = FORMAT_MAJOR, minor = FORMAT_MINOR): Buffer {
  const b = Buffer.alloc(FILE_HEADER_SIZE);
  FILE_MAGIC.copy(b, FH.magic);
  b.writeUInt16LE(major, FH.major);
  b.writeUInt16LE(minor, FH.minor);
  b.writeUInt32LE(0, FH.flags);
  return b;
}

/**
 * Parses the file header from the first bytes of a file (`buf` may be shorter
 * than 16 bytes when the file is). Throws TraceFormatError with the messages
 * the spec's "Reading" section lists.
 */
export function decodeFileHeader(buf: Buffer): FileHeader {
  if (buf.length === 0) throw new TraceFormatError('empty file', 0);
  const n = Math.min(buf.length, FILE_MAGIC.length);
  if (!buf.subarray(0, n).equals(FILE_MAGIC.subarray(0, n))) {
    throw new TraceFormatError('not an exectrace file: bad magic at offset 0', 0);
  }
  if (buf.length < FILE_HEADER_SIZE) {
    throw new TraceFormatError(`truncated file: it ends at offset ${buf.length}, inside the ${FILE_HEADER_SIZE}-byte file header`, buf.length);
  }
  const major = buf.readUInt16LE(FH.major);
  const minor = buf.readUInt16LE(FH.minor);
  if (major !== FORMAT_MAJOR) {
    throw new TraceFormatError(`unsupported trace format version ${major}.${minor} (this exectrace reads ${FORMAT_MAJOR}.x)`, FH.major);
  }
  return {major, minor, flags: buf.readUInt32LE(FH.flags)};
}

export interface BlockHeader {
  tag: string;
  headerSize: number;
  seq: number;
  flags: number;
  payloadSize: number;
  rawSize: number;
  recordCount: number;
  firstTs: bigint;
  lastTs: bigint;
  payloadSha256: Buffer;
  prevHash: Buffer;
}

/** The fields a writer chooses; header_size and header_check follow from them. */
export type BlockHeaderInit = Omit<BlockHeader, 'headerSize'>;

export function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * header_check: the first 4 bytes, read as u32 LE, of SHA-256 over the whole
 * header except the header_check field itself (bytes [0,124) and
 * [128, header_size)). Covers extension bytes of longer headers too.
 */
export function computeHeaderCheck(buf: Buffer, off: number, headerSize: number): number {
  const h = createHash('sha256');
  h.update(buf.subarray(off, off + BH.headerCheck));
  if (headerSize > BLOCK_HEADER_SIZE) h.update(buf.subarray(off + BLOCK_HEADER_SIZE, off + headerSize));
  return h.digest().readUInt32LE(0);
}

export function encodeBlockHeader(h: BlockHeaderInit): Buffer {
  const b = Buffer.alloc(BLOCK_HEADER_SIZE);
  if (!/^[A-Z]{4}$/.test(h.tag)) throw new Error(`encode block header: bad tag ${JSON.stringify(h.tag)}`);
  b.write(h.tag, BH.tag, 'latin1');
  b.writeUInt32LE(BLOCK_HEADER_SIZE, BH.headerSize);
  b.writeBigUInt64LE(BigInt(h.seq), BH.seq);
  b.writeUInt32LE(h.flags >>> 0, BH.flags);
  b.writeUInt32LE(h.payloadSize, BH.payloadSize);
  b.writeUInt32LE(h.rawSize, BH.rawSize);
  b.writeUInt32LE(h.recordCount, BH.recordCount);
  b.writeBigUInt64LE(h.firstTs, BH.firstTs);
  b.writeBigUInt64LE(h.lastTs, BH.lastTs);
  if (h.payloadSha256.length !== HASH_SIZE || h.prevHash.length !== HASH_SIZE) {
    throw new Error('encode block header: hashes must be 32 bytes');
  }
  h.payloadSha256.copy(b, BH.payloadSha256);
  h.prevHash.copy(b, BH.prevHash);
  b.writeUInt32LE(computeHeaderCheck(b, 0, BLOCK_HEADER_SIZE), BH.headerCheck);
  return b;
}

/** A tag is four ASCII capitals: cheap to test at every byte while resyncing. */
export function isTagAt(buf: Buffer, off: number): boolean {
  for (let i = off; i < off + 4; i++) {
    const c = buf[i];
    if (c < 0x41 || c > 0x5a) return false;
  }
  return true;
}

export function isHeaderSize(n: number): boolean {
  return n >= BLOCK_HEADER_SIZE && n <= MAX_BLOCK_HEADER_SIZE;
}

/**
 * Why the header_size bytes at `off` are not a valid block header, or null
 * when they are. The caller guarantees the bytes are present (see
 * headerSizeAt for how many).
 */
export function blockHeaderFault(buf: Buffer, off: number): string | null {
  if (!isTagAt(buf, off)) return `bad tag ${showTag(buf, off)}`;
  const hs = buf.readUInt32LE(off + BH.headerSize);
  if (!isHeaderSize(hs)) return `header_size ${hs} outside ${BLOCK_HEADER_SIZE}..${MAX_BLOCK_HEADER_SIZE}`;
  if (computeHeaderCheck(buf, off, hs) !== buf.readUInt32LE(off + BH.headerCheck)) return 'header_check mismatch';
  return null;
}

/** Decodes a header that blockHeaderFault accepted. seq above 2^53 decodes as NaN (the reader rejects it). */
export function decodeBlockHeader(buf: Buffer, off: number): BlockHeader {
  const seq = buf.readBigUInt64LE(off + BH.seq);
  return {
    tag: buf.toString('latin1', off + BH.tag, off + BH.tag + 4),
    headerSize: buf.readUInt32LE(off + BH.headerSize),
    seq: seq <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seq) : NaN,
    flags: buf.readUInt32LE(off + BH.flags),
    payloadSize: buf.readUInt32LE(off + BH.payloadSize),
    rawSize: buf.readUInt32LE(off + BH.rawSize),
    recordCount: buf.readUInt32LE(off + BH.recordCount),
    firstTs: buf.readBigUInt64LE(off + BH.firstTs),
    lastTs: buf.readBigUInt64LE(off + BH.lastTs),
    payloadSha256: Buffer.from(buf.subarray(off + BH.payloadSha256, off + BH.payloadSha256 + HASH_SIZE)),
    prevHash: Buffer.from(buf.subarray(off + BH.prevHash, off + BH.prevHash + HASH_SIZE)),
  };
}

/** A tag for a message: quoted when printable, hex otherwise (bytes come from a possibly hostile file). */
export function showTag(buf: Buffer, off: number): string {
  const t = buf.subarray(off, Math.min(off + 4, buf.length));
  return /^[\x20-\x7e]*$/.test(t.toString('latin1')) ? JSON.stringify(t.toString('latin1')) : `0x${t.toString('hex')}`;
}

/**
 * found: `index` is the offset of a verified block header.
 * need-more: a candidate at `index` needs bytes past `end`; read a window starting there and scan again.
 * none: no header starts in [start, index); positions from `index` on need more bytes to examine.
 */
export type ScanState = 'found' | 'need-more' | 'none';

export interface ScanResult {
  state: ScanState;
  index: number;
}

/**
 * Finds the first valid block header starting in buf[start, end). `atEof`
 * says the window ends where the file ends, so a candidate cut by the end is
 * no candidate at all. Cost: one byte compare per position; SHA-256 only for
 * positions with a 4-capital tag and a plausible header_size (about one in
 * 10^10 for random bytes).
 */
export function scanForBlockHeader(buf: Buffer, start: number, end: number, atEof: boolean): ScanResult {
  const last = end - 8; // tag + header_size must be readable
  for (let i = start; i <= last; i++) {
    const c = buf[i];
    if (c < 0x41 || c > 0x5a || !isTagAt(buf, i)) continue;
    const hs = buf.readUInt32LE(i + BH.headerSize);
    if (!isHeaderSize(hs)) continue;
    if (i + hs > end) {
      if (atEof) continue;
      return {state: 'need-more', index: i};
    }
    if (computeHeaderCheck(buf, i, hs) === buf.readUInt32LE(i + BH.headerCheck)) return {state: 'found', index: i};
  }
  return {state: 'none', index: Math.max(start, last + 1)};
}

export function encodeFooter(trailerOffset: number): Buffer {
  const b = Buffer.alloc(FOOTER_SIZE);
  b.writeBigUInt64LE(BigInt(trailerOffset), FT.trailerOffset);
  FOOTER_MAGIC.copy(b, FT.magic);
  return b;
}

export interface Footer {
  trailerOffset: number;
  magicOk: boolean;
}

export function decodeFooter(buf: Buffer, off: number): Footer {
  const t = buf.readBigUInt64LE(off + FT.trailerOffset);
  return {
    trailerOffset: t <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(t) : NaN,
    magicOk: buf.subarray(off + FT.magic, off + FT.magic + FOOTER_MAGIC.length).equals(FOOTER_MAGIC),
  };
}
