// Buffered line output for decode: lines are written as bytes into one reusable buffer,
// and the buffer goes to the file descriptor in one synchronous write per ~1 MiB instead
// of one per event. Decoding is a synchronous loop, so going through a Node stream would
// queue every line in memory when the reader is slower than we are (and a pipe's queue
// can fail with ENOBUFS); a blocking write is the backpressure.
//
// Two ways in: line(s) for text made elsewhere, and the byte-level writers (ascii, digits,
// bytes, ...) that the generated event serializers use to write an event without building
// its string. A serializer may give up half-way (a value it does not handle): mark() and
// rewind() take back what it wrote. The buffer is flushed only between lines, never inside
// one, so a rewind always finds its bytes still there.

import * as fs from 'node:fs';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Decimal digits of 0 ..< 100, two bytes each: digits are written two at a time. */
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = 48 + Math.floor(i / 10);
  PAIRS[2 * i + 1] = 48 + (i % 10);
}

export class Output {
  /** The pending bytes are buf[0, pos). Public for the serializers that write into it. */
  buf: Buffer;
  pos = 0;

  /** The reader went away (EPIPE): what is written from then on is dropped. */
  closed = false;

  /**
   * `onClosed`: called once when the reader goes away; without it, EPIPE ends the program
   * quietly (status 0), as command-line tools do when `| head` has what it wanted.
   */
  constructor(private readonly fd = 1, private readonly limit = 1 << 20, private readonly onClosed?: () => void) {
    // Room for a flush's worth and one typical line past it; a longer line grows the buffer.
    this.buf = Buffer.allocUnsafeSlow(limit + (1 << 16));
  }

  /** One line of text (utf8), newline added. */
  line(s: string): void {
    // utf8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
    this.reserve(s.length * 3 + 1);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    this.buf[this.pos++] = 10;
    if (this.pos >= this.limit) this.flush();
  }

  /** Ends a line written with the byte-level writers. */
  endLine(): void {
    this.buf[this.pos++] = 10;
    if (this.pos >= this.limit) this.flush();
  }

  /** Makes room for n more bytes (within the current line: grows, never flushes). */
  reserve(n: number): void {
    if (this.pos + n + 1 > this.buf.length) this.grow(n + 1);
  }

  mark(): number {
    return this.pos;
  }

  rewind(at: number): void {
    this.pos = at;
  }

  /** A string of characters below 0x80 (the caller knows; no escaping). */
  ascii(s: string): void {
    const n = s.length;
    if (this.pos + n + 1 > this.buf.length) this.grow(n + 1);
    const b = this.buf;
    let p = this.pos;
    if (n > 48) {
      p += b.write(s, p, 'latin1');
    } else {
      for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    }
    this.pos = p;
  }

  /** A string as utf8 (any characters; no escaping). */
  utf8(s: string): void {
    this.reserve(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  bytes(src: Uint8Array): void {
    const n = src.length;
    if (this.pos + n + 1 > this.buf.length) this.grow(n + 1);
    // set() is a memmove: cheaper than a byte loop already at a dozen bytes.
    this.buf.set(src, this.pos);
    this.pos += n;
  }

  byte(c: number): void {
    if (this.pos + 2 > this.buf.length) this.grow(2);
    this.buf[this.pos++] = c;
  }

  /** A non-negative safe integer in decimal. */
  digits(v: number): void {
    if (this.pos + 24 > this.buf.length) this.grow(24);
    if (v < 1e8) {
      this.pos = small(this.buf, this.pos, v);
      return;
    }
    // Below 2^53 the high part is below 10^8 too: two int32-sized halves.
    const hi = Math.floor(v / 1e8);
    this.pos = eight(this.buf, small(this.buf, this.pos, hi), v - hi * 1e8);
  }

  /** An integer 0 ..< 10^9, zero-padded to 9 digits (nanoseconds). */
  nine(v: number): void {
    if (this.pos + 10 > this.buf.length) this.grow(10);
    const hi = Math.floor(v / 1e8);
    this.buf[this.pos] = 48 + hi;
    this.pos = eight(this.buf, this.pos + 1, v - hi * 1e8);
  }

  /** An integer 0 ..< 10^width, zero-padded to width digits. */
  padded(v: number, width: number): void {
    if (this.pos + width + 1 > this.buf.length) this.grow(width + 1);
    const b = this.buf;
    let p = this.pos + width;
    this.pos = p;
    let n = v;
    for (let i = 0; i < width; i++) {
      const q = Math.floor(n / 10);
      b[--p] = 48 + (n - q * 10);
      n = q;
    }
  }

  /** Writes out everything pending. */
  flush(): void {
    if (this.pos === 0) return;
    const n = this.pos;
    this.pos = 0;
    if (this.closed) return;
    if (!writeAll(this.fd, this.buf, n)) this.gone();
  }

  /** The reader is known to be gone without a write having failed (see readerGone). */
  gone(): void {
    if (this.closed) return;
    this.pos = 0;
    if (!this.onClosed) process.exit(0);
    this.closed = true;
    this.onClosed();
  }

  async end(): Promise<void> {
    this.flush();
  }

  private grow(n: number): void {
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + n + (1 << 16)));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}

/** n (0 ..< 10^8) in decimal at b[p]; returns the end. */
function small(b: Buffer, p: number, n: number): number {
  const len = n < 10000 ? (n < 100 ? (n < 10 ? 1 : 2) : n < 1000 ? 3 : 4) : n < 1000000 ? (n < 100000 ? 5 : 6) : n < 10000000 ? 7 : 8;
  const end = p + len;
  let q = end;
  let x = n | 0;
  while (x >= 100) {
    const y = (x / 100) | 0;
    const r = (x - y * 100) << 1;
    b[--q] = PAIRS[r + 1];
    b[--q] = PAIRS[r];
    x = y;
  }
  if (x >= 10) {
    b[--q] = PAIRS[(x << 1) + 1];
    b[--q] = PAIRS[x << 1];
  } else {
    b[--q] = 48 + x;
  }
  return end;
}

/** n (0 ..< 10^8) as exactly 8 digits at b[p]; returns the end. */
function eight(b: Buffer, p: number, n: number): number {
  let x = n | 0;
  for (let q = p + 8; q > p;) {
    const y = (x / 100) | 0;
    const r = (x - y * 100) << 1;
    b[--q] = PAIRS[r + 1];
    b[--q] = PAIRS[r];
    x = y;
  }
  return p + 8;
}

/**
 * Writes data[0, len). A non-blocking pipe (Node makes stdout one) answers EAGAIN when full:
 * wait and try again, 10 µs at first and twice as long each time up to a millisecond — a
 * fast reader (`| wc -l`) drains a pipe's 64 KiB in microseconds, a slow one (`| jq`) is
 * not polled more than a thousand times a second. False on EPIPE (the reader went away).
 */
function writeAll(fd: number, data: Buffer, len: number): boolean {
  let off = 0;
  let wait = 0.01;
  while (off < len) {
    try {
      off += fs.writeSync(fd, data, off, len - off);
      wait = 0.01;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(sleeper, 0, 0, wait);
        wait = Math.min(wait * 2, 1);
      } else if (code === 'EPIPE') return false;
      else throw err;
    }
  }
  return true;
}
