// How damage is reported. A reader throws (TraceFormatError) only when nothing
// can be recovered: not a trace file, unsupported version, unreadable
// metadata. Everything else — a damaged chunk, a cut file, a broken chain —
// becomes a Problem, and reading continues with the next intact block.

export type ProblemKind =
  /** A block header failed verification (or declares impossible sizes); bytes were skipped to the next valid header. */
  | 'header'
  /** A block's payload does not match its payload_sha256; the block was skipped. */
  | 'checksum'
  /** A payload that passed its checksum is not one zstd frame of exactly raw_size bytes; the block was skipped. */
  | 'decompress'
  /** The file ends inside a block or the footer. */
  | 'truncated'
  /** A block's seq is not the next one: blocks are missing, repeated or out of order. */
  | 'sequence'
  /** A block's prev_hash does not name the block before it: a block was altered, removed or inserted. */
  | 'chain'
  /** A decompressed chunk's frames are malformed or disagree with its record_count. */
  | 'frames'
  /** The trailer or footer is unreadable or disagrees with the blocks read. */
  | 'trailer';

export interface Problem {
  kind: ProblemKind;
  /** The seq of the block concerned (for a skipped damaged header, the first seq that was lost); null when unknown. */
  seq: number | null;
  /** File offset of the block header concerned, or of the damage. */
  offset: number;
  /** Records lost or concerned, from a verified block header; null when unknown. */
  records: number | null;
  /** One line, meant for a human: what, where, what was skipped. */
  message: string;
}

export type ProblemHandler = (p: Problem) => void;

/** An input that cannot be read at all. The message is one line, naming the place. */
export class TraceFormatError extends Error {
  constructor(message: string, readonly offset?: number) {
    super(oneLine(message));
    this.name = 'TraceFormatError';
  }
}

/** Messages may quote bytes from a hostile file: keep them to one printable line. */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f\u2028\u2029]+/g, ' ').slice(0, 1000);
}
