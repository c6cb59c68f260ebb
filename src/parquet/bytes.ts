// One growable byte buffer with a DataView over it, for values and pages: appends only,
// reused from row group to row group so that a long export allocates its buffers once.

/** ByteSink is an append-only byte buffer; view() is valid until the next append or clear(). */
export class ByteSink {
  buf: Buffer;
  dv: DataView;
  len = 0;

  constructor(size = 4096) {
    this.buf = Buffer.allocUnsafe(size);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** room makes space for n more bytes. */
  room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
    this.dv = new DataView(next.buffer, next.byteOffset, next.length);
  }

  clear(): void {
    this.len = 0;
  }

  view(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  u8(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }

  u32(v: number): void {
    this.room(4);
    this.dv.setUint32(this.len, v, true);
    this.len += 4;
  }

  i32(v: number): void {
    this.room(4);
    this.dv.setInt32(this.len, v, true);
    this.len += 4;
  }

  /** An int64 from its two halves: lo unsigned, hi signed. */
  i64(lo: number, hi: number): void {
    this.room(8);
    this.dv.setUint32(this.len, lo, true);
    this.dv.setInt32(this.len + 4, hi, true);
    this.len += 8;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** A string's UTF-8 bytes; returns how many. */
  utf8(s: string): number {
    this.room(s.length * 3);
    const n = this.buf.write(s, this.len, 'utf8');
    this.len += n;
    return n;
  }

  varint(v: number): void {
    this.room(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }
}
