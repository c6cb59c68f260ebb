// Integrity verification of a trace file (`exectrace verify`): one pass of the
// reader with every chunk's framing checked, its problems sorted into what a
// custodian asks — is the file intact, cut short, altered, reordered, missing
// blocks, its trailer gone or inconsistent — plus the SHA-256 of the whole file
// and the chain head (spec §5.2) for a chain-of-custody log. Offline-safe.

import * as fs from 'node:fs';
import {createHash} from 'node:crypto';
import {BLOCK_HEADER_SIZE, MAX_BLOCK_HEADER_SIZE, type ReaderLimits, TAG_TRAILER} from './constants';
import {checkFrames} from './frames';
import {type Problem, type ProblemKind, TraceFormatError} from './problems';
import {type BlockInfo, type ProgressFn, TraceReader, tagName} from './reader';
import {seriesPlace, type SeriesPlace} from './series';

/**
 * truncated: the file ends inside a block or the footer.
 * modified: bytes of a block differ from what its checksums or the chain say (altered, damaged, re-sealed).
 * reordered: a block appears again or before one it should follow.
 * missing: blocks are absent from the sequence.
 * trailer-missing: the file ends cleanly after a chunk, with no trailer (the recorder did not finish).
 * trailer-inconsistent: the trailer or footer disagrees with the blocks, or is unreadable.
 * chain-head: the chain head differs from the one the caller expected (--chain-head).
 */
export type FindingKind =
  | 'truncated' | 'modified' | 'reordered' | 'missing' | 'trailer-missing' | 'trailer-inconsistent' | 'chain-head';

export interface Finding {
  kind: FindingKind;
  /** The reader's problem kind behind this finding (spec §8.5); null for findings of verify's own. */
  problem: ProblemKind | null;
  /** The block concerned (for a chain break, the block whose prev_hash does not match); null when unknown. */
  seq: number | null;
  offset: number;
  /** Records in the block concerned, from its verified header; null when unknown. */
  records: number | null;
  message: string;
}

export interface VerifyReport {
  file: string;
  /** Bytes in the file. */
  size: number;
  /** Hex SHA-256 of the whole file. */
  sha256: string;
  /** Hex SHA-256 of the header of the last complete block (the trailer's, in a finished file). */
  chain_head: string;
  /** Format version from the file header, e.g. "1.1" (a file written before the metadata copy: "1.0"). */
  version: string;
  intact: boolean;
  /** Blocks whose headers verified, META and TRLR included. */
  blocks: number;
  /**
   * Chunks whose payload and framing are sound (a chain problem does not exclude one), and their
   * records; a chunk cut by the file's end counts with the complete records recovered from it.
   */
  chunks: number;
  records: number;
  /** A readable trailer followed by a valid footer. */
  complete: boolean;
  /** The trailer's end_reason, when there is one. */
  end_reason: string | null;
  /** In file order; empty when intact. */
  findings: Finding[];
  /** In a file of a rotated recording: its place in the series (spec §10.19); verifySeries checks the links. */
  series?: SeriesPlace;
}

export interface VerifyOptions {
  /** Hex chain head kept elsewhere (printed by an earlier verify): a finding when the file's differs. */
  expectChainHead?: string;
  limits?: Partial<ReaderLimits>;
  /** Called after each chunk checked (stage `checking`), then as the whole file is hashed (`hashing`): a progress line. */
  onProgress?: ProgressFn;
}

/** Verifies `path`. Throws TraceFormatError (one line) when the file cannot be read as a trace at all. */
export function verifyFile(path: string, opts: VerifyOptions = {}): VerifyReport {
  const blocks: BlockInfo[] = [];
  const progress = opts.onProgress;
  let done = 0;
  const reader = TraceReader.open(path, {
    reuseBuffers: true, limits: opts.limits, onBlock: (b) => blocks.push(b),
    onProgress: progress && ((p) => {
      done = p.records;
      progress({...p, stage: 'checking'});
    }),
  });
  const problems: Problem[] = [];
  let chunks = 0;
  let records = 0;
  try {
    for (const c of reader.chunks()) {
      const p = checkFrames(c);
      if (p) {
        reader.problems.push(p);
      } else {
        chunks++;
        records += c.records;
      }
    }
    problems.push(...reader.problems);
  } finally {
    reader.close();
  }

  const fd = openForHash(path);
  let fileHash: string;
  let headerHashes: Map<number, string>;
  try {
    fileHash = hashFile(fd, path, progress && ((pos) => progress({bytes: pos, total: reader.fileSize, records: done, stage: 'hashing'}))).sha256;
    headerHashes = hashHeaders(fd, blocks, reader.fileSize);
  } finally {
    fs.closeSync(fd);
  }
  // The chain head: the last block that is whole in the file.
  let head = '';
  for (const b of blocks) if (b.offset + b.headerSize + b.payloadSize <= reader.fileSize) head = headerHashes.get(b.offset) ?? head;

  const findings = problems.map(toFinding);
  const last = blocks[blocks.length - 1];
  // A trailer that is there but damaged is reported by its own problem.
  if (!blocks.some((b) => b.tag === TAG_TRAILER) && !problems.some((p) => p.kind === 'truncated')) {
    const after = last && last.tag !== TAG_TRAILER ? ` after ${blockName(last)}` : '';
    findings.push({
      kind: 'trailer-missing', problem: null, seq: null, offset: reader.fileSize, records: null,
      message: `no trailer: the file ends at offset ${reader.fileSize}${after}; the recording did not finish (or the file was cut at a block boundary)`,
    });
  }
  const want = opts.expectChainHead?.toLowerCase();
  if (want !== undefined && want !== head) {
    const at = blocks.find((b) => headerHashes.get(b.offset) === want);
    findings.push({
      kind: 'chain-head', problem: null, seq: at?.seq ?? null, offset: at?.offset ?? reader.fileSize, records: null,
      message: at
        ? `the expected chain head is that of ${blockName(at)}: blocks were added after it`
        : `the chain head ${head} is not the expected ${want}: the file was rewritten, or cut or extended at a block boundary`,
    });
  }
  const endReason = reader.trailer?.end_reason;
  const series = seriesPlace(reader.meta, reader.trailer);
  return {
    file: path,
    size: reader.fileSize,
    sha256: fileHash,
    chain_head: head,
    version: `${reader.version.major}.${reader.version.minor}`,
    intact: findings.length === 0,
    blocks: blocks.length,
    chunks,
    records,
    complete: reader.complete,
    end_reason: typeof endReason === 'string' ? endReason : null,
    findings,
    ...(series && {series}),
  };
}

function toFinding(p: Problem): Finding {
  const f = {problem: p.kind, seq: p.seq, offset: p.offset, records: p.records, message: p.message};
  switch (p.kind) {
    case 'truncated':
      return {kind: 'truncated', ...f};
    case 'sequence':
      // The reader's two sequence cases: a gap ("... are missing before ...") or a block seen again / too early.
      return {kind: / are missing before /.test(p.message) ? 'missing' : 'reordered', ...f};
    case 'trailer':
      return {kind: 'trailer-inconsistent', ...f};
    case 'header':
    case 'checksum':
    case 'decompress':
    case 'frames':
    case 'chain':
      return {kind: 'modified', ...f};
  }
}

function blockName(b: BlockInfo): string {
  return `${tagName(b.tag)} seq ${b.seq} at offset ${b.offset}`;
}

function openForHash(path: string): number {
  try {
    return fs.openSync(path, 'r');
  } catch (e) {
    throw new TraceFormatError(`open ${path}: ${(e as Error).message}`);
  }
}

/** Hex SHA-256 and size of a whole file, as verify prints it (e.g. for a copy's note of its source). */
export function fileSha256(path: string): {sha256: string; size: number} {
  const fd = openForHash(path);
  try {
    return hashFile(fd, path);
  } finally {
    fs.closeSync(fd);
  }
}

function hashFile(fd: number, path: string, onBytes?: (pos: number) => void): {sha256: string; size: number} {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  let pos = 0;
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, pos);
    } catch (e) {
      throw new TraceFormatError(`read ${path} at offset ${pos}: ${(e as Error).message}`, pos);
    }
    if (n === 0) break;
    h.update(buf.subarray(0, n));
    pos += n;
    onBytes?.(pos);
  }
  return {sha256: h.digest('hex'), size: pos};
}

/** SHA-256 of every verified block header, by offset. */
function hashHeaders(fd: number, blocks: BlockInfo[], size: number): Map<number, string> {
  const out = new Map<number, string>();
  const buf = Buffer.allocUnsafe(MAX_BLOCK_HEADER_SIZE);
  for (const b of blocks) {
    const len = Math.max(BLOCK_HEADER_SIZE, b.headerSize);
    if (b.offset + len > size) continue;
    const n = fs.readSync(fd, buf, 0, len, b.offset);
    out.set(b.offset, createHash('sha256').update(buf.subarray(0, n)).digest('hex'));
  }
  return out;
}
