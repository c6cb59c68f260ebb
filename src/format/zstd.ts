// zstd for block payloads, through zstd-napi's low-level binding so buffers
// are ours: the writer reuses one output buffer, and the reader decompresses
// single-pass into a buffer of exactly raw_size bytes. Single-pass
// decompression writes straight into that buffer (no window allocation), so
// a frame that would expand past raw_size — a decompression bomb — stops
// with "Destination buffer is too small" after at most raw_size bytes. Only a
// frame cut by the end of the file is streamed (decompressPrefix), so that the
// zstd blocks before the cut still come out.

import * as zb from 'zstd-napi/binding';

/** ZSTD_MAGICNUMBER as the first four bytes of a frame read LE. */
const ZSTD_MAGIC = 0xfd2fb528;

export class PayloadCompressor {
  private static readonly byLevel = new Map<number, PayloadCompressor>();
  private readonly cctx = new zb.CCtx();
  private out: Buffer = Buffer.alloc(0);

  /**
   * One compressor per level for the whole process. A context and its output buffer are
   * native memory that V8 does not see, so a process making many writers (tests, a
   * library user) would otherwise grow until a GC it has no reason to run. Sharing is
   * safe because a compress() result is written out synchronously before the next call.
   */
  static shared(level: number): PayloadCompressor {
    let c = PayloadCompressor.byLevel.get(level);
    if (!c) {
      c = new PayloadCompressor(level);
      PayloadCompressor.byLevel.set(level, c);
    }
    return c;
  }

  constructor(readonly level: number) {
    const lo = zb.minCLevel();
    const hi = zb.maxCLevel();
    if (!Number.isInteger(level) || level < lo || level > hi) {
      throw new Error(`zstd level ${level} outside ${lo}..${hi}`);
    }
  }

  /** One zstd frame (content size recorded, no zstd checksum: payload_sha256 covers it). Valid until the next call. */
  compress(src: Uint8Array): Buffer {
    const bound = zb.compressBound(src.length);
    if (this.out.length < bound) this.out = Buffer.allocUnsafe(bound);
    const n = this.cctx.compress(this.out, src, this.level);
    return this.out.subarray(0, n);
  }
}

export class PayloadDecompressor {
  private static one: PayloadDecompressor | null = null;
  private readonly dctx = new zb.DCtx();
  /** For cut frames only: streaming keeps state between calls, which the one-shot context must not carry. */
  private stream: zb.DCtx | null = null;

  /** One for the whole process, as PayloadCompressor.shared(): decompressInto() is synchronous. */
  static shared(): PayloadDecompressor {
    return (PayloadDecompressor.one ??= new PayloadDecompressor());
  }

  /**
   * Decompresses `src`, which must be exactly one zstd frame, into all of
   * `dst`. Throws Error with a one-line reason if it is not, or if it does
   * not produce exactly dst.length bytes.
   */
  decompressInto(src: Buffer, dst: Buffer): void {
    if (src.length < 4 || src.readUInt32LE(0) !== ZSTD_MAGIC) throw new Error('payload is not a zstd frame');
    let frameSize: number;
    let declared: number | null;
    try {
      frameSize = zb.findFrameCompressedSize(src);
      declared = zb.getFrameContentSize(src);
    } catch (e) {
      throw new Error(`zstd: ${(e as Error).message}`);
    }
    if (frameSize !== src.length) {
      throw new Error(`payload holds more than one zstd frame (the first ends at byte ${frameSize} of ${src.length})`);
    }
    if (declared !== null && declared !== dst.length) {
      throw new Error(`zstd frame declares ${declared} bytes, the block header says ${dst.length}`);
    }
    let n: number;
    try {
      n = this.dctx.decompress(dst, src);
    } catch (e) {
      const m = (e as Error).message;
      if (/too small/i.test(m)) throw new Error(`zstd frame expands past the ${dst.length} bytes the block header declares`);
      throw new Error(`zstd: ${m}`);
    }
    if (n !== dst.length) throw new Error(`zstd frame expands to ${n} bytes, the block header says ${dst.length}`);
  }

  /**
   * Decompresses the start of a zstd frame whose end is missing (a file cut inside the
   * block), into `dst`, as far as the bytes go; returns how many bytes came out. zstd emits
   * whole blocks of its own, so the output ends where the last complete zstd block did.
   * Never throws: damaged bytes end the output where the decoder stopped. The output is
   * bounded by dst.length however far the frame claims to expand, and the window zstd may
   * allocate by what dst could hold, so a hostile frame header costs no more memory.
   */
  decompressPrefix(src: Buffer, dst: Buffer): number {
    if (src.length < 4 || src.readUInt32LE(0) !== ZSTD_MAGIC || dst.length === 0) return 0;
    const d = (this.stream ??= new zb.DCtx());
    let produced = 0;
    let consumed = 0;
    try {
      d.reset(zb.ResetDirective.sessionAndParameters);
      d.setParameter(zb.DParameter.windowLogMax, windowLogFor(dst.length));
      // Small input slices: an error in a call loses that call's output, so lose little.
      while (consumed < src.length && produced < dst.length) {
        const [, out, used] = d.decompressStream(dst.subarray(produced), src.subarray(consumed, consumed + PREFIX_SLICE));
        produced += out;
        consumed += used;
        if (out === 0 && used === 0) break;
      }
      // Input all taken: zstd may still hold decoded bytes it has not flushed to dst.
      for (;;) {
        if (produced >= dst.length) break;
        const [, out] = d.decompressStream(dst.subarray(produced), EMPTY);
        if (out === 0) break;
        produced += out;
      }
    } catch {
      // what came out before the damage stays
    }
    return produced;
  }
}

const EMPTY = Buffer.alloc(0);
/** Input bytes per decompressStream call in decompressPrefix. */
const PREFIX_SLICE = 16 * 1024;

/** The smallest zstd window log (10..31) that a frame decompressing to `bytes` needs at most. */
function windowLogFor(bytes: number): number {
  let log = 10;
  while (log < 31 && 2 ** log < bytes) log++;
  return log;
}
