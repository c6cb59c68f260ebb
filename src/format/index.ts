// src/format: the trace file format v1 — formats/trace-format.md is the
// authoritative spec, this folder implements it. wire.ts holds the byte
// layouts and position math (no I/O); writer.ts appends blocks for the
// recorder; reader.ts reads files front to back with bounded memory and
// reports damage as problems instead of failing; frames.ts walks the records
// of a decompressed chunk without allocating per record; verify.ts checks a
// whole file's integrity for `exectrace verify`, and series.ts the links
// between the files of a rotated recording. Offline-safe: no
// native/ or Linux-only imports (zstd-napi is portable).

export * from './constants';
export {
  type BlockHeader, type BlockHeaderInit, type FileHeader, type Footer, type ScanResult, type ScanState,
  computeHeaderCheck, decodeBlockHeader, decodeFileHeader, decodeFooter, encodeBlockHeader, encodeFileHeader,
  encodeFooter, blockHeaderFault, scanForBlockHeader, sha256,
} from './wire';
export {type Problem, type ProblemHandler, type ProblemKind, TraceFormatError, oneLine} from './problems';
export {type MetaMap, type MetaValue, decodeDocument, encodeDocument, scanDocument} from './meta';
export {type FrameFn, type FramedChunk, FrameCursor, checkFrames, countFrames, forEachFrame, framesProblem} from './frames';
export {type ChunkInfo, createExclusive, removeForOverwrite, type StoredChunk, TraceWriter, type WriterOptions, type WriterStats} from './writer';
export {type BlockInfo, type Chunk, type ProgressFn, type ProgressPoint, type ReaderOptions, type ReaderStats, TraceReader, peekTrailer} from './reader';
export {PayloadCompressor, PayloadDecompressor} from './zstd';
export {type Finding, type FindingKind, type VerifyOptions, type VerifyReport, fileSha256, verifyFile} from './verify';
export {type SeriesFinding, type SeriesFindingKind, type SeriesPlace, type SeriesReport, seriesPlace, verifySeries} from './series';
