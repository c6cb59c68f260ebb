// Numbers fixed by formats/trace-format.md (format v1). Changing any of them
// changes the file format: edit the spec first, then this file, and keep
// test/format.test.ts's spec-sync check passing.

/** "\x89ETRC\r\n\x1a": high bit, name, CRLF and ^Z catch 7-bit and newline-mangling transfers (as PNG does). */
export const FILE_MAGIC = Buffer.from([0x89, 0x45, 0x54, 0x52, 0x43, 0x0d, 0x0a, 0x1a]);
export const FILE_HEADER_SIZE = 16;
/** Offsets inside the file header. */
export const FH = {magic: 0, major: 8, minor: 10, flags: 12} as const;

export const FORMAT_MAJOR = 1;
/** 1.1 added the metadata copy (MCPY); 1.0 files, without it, read the same otherwise. */
export const FORMAT_MINOR = 1;

/** Size of the block header this version writes. */
export const BLOCK_HEADER_SIZE = 128;
/** Readers accept header_size in [BLOCK_HEADER_SIZE, MAX_BLOCK_HEADER_SIZE]. */
export const MAX_BLOCK_HEADER_SIZE = 4096;

/** Offsets inside a block header. */
export const BH = {
  tag: 0,
  headerSize: 4,
  seq: 8,
  flags: 16,
  payloadSize: 20,
  rawSize: 24,
  recordCount: 28,
  firstTs: 32,
  lastTs: 40,
  payloadSha256: 48,
  prevHash: 80,
  reserved: 112,
  headerCheck: 124,
} as const;
export const RESERVED_SIZE = 12;
export const HASH_SIZE = 32;

export const TAG_META = 'META';
/** The metadata copy (format 1.1): META's stored payload again, right after it, so one damaged copy costs nothing. */
export const TAG_META_COPY = 'MCPY';
export const TAG_CHUNK = 'CHNK';
export const TAG_TRAILER = 'TRLR';

/** Block flag bit 0: the payload is exactly one zstd frame. */
export const BLOCK_F_ZSTD = 1 << 0;
/** Flag bits 1..15 change how a payload must be read: a reader that does not know one cannot read the block. */
export const BLOCK_F_CRITICAL = 0x0000ffff;
/** The flag bits this version understands. */
export const BLOCK_F_KNOWN = BLOCK_F_ZSTD;

export const FOOTER_SIZE = 16;
/** "ETRCEND\0" */
export const FOOTER_MAGIC = Buffer.from([0x45, 0x54, 0x52, 0x43, 0x45, 0x4e, 0x44, 0x00]);
/** Offsets inside the footer. */
export const FT = {trailerOffset: 0, magic: 8} as const;

/** Chunk payloads are concatenated frames, each `[u32 LE length][record bytes]`. */
export const FRAME_LENGTH_SIZE = 4;

const MiB = 1024 * 1024;

/** What a reader refuses to believe. All are documented in the spec's "Limits" section. */
export interface ReaderLimits {
  /** payload_size of any block. */
  maxPayloadSize: number;
  /** raw_size of a chunk (bytes after decompression). */
  maxRawSize: number;
  /** raw_size of the META and TRLR blocks (msgpack bytes). */
  maxMetaSize: number;
  /** Nesting depth of maps and arrays in META/TRLR; the top-level map is depth 1. */
  maxDepth: number;
  /** Maps and arrays in one META/TRLR document. */
  maxContainers: number;
  /** Values (keys included) in one META/TRLR document. */
  maxValues: number;
  /** Bytes of one msgpack str. */
  maxStrLength: number;
  /** Bytes of one msgpack bin. */
  maxBinLength: number;
}

export const DEFAULT_LIMITS: Readonly<ReaderLimits> = Object.freeze({
  maxPayloadSize: 64 * MiB,
  maxRawSize: 256 * MiB,
  maxMetaSize: 64 * MiB,
  maxDepth: 32,
  maxContainers: 1 << 20,
  maxValues: 1 << 22,
  maxStrLength: 16 * MiB,
  maxBinLength: 64 * MiB,
});

/** The zstd level writers use unless told otherwise. */
export const DEFAULT_ZSTD_LEVEL = 1;
