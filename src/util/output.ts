// Buffered line output for decode: one write per ~64 KiB instead of one per event, written
// synchronously to the file descriptor. Decoding is a synchronous loop, so going through a
// Node stream would queue every line in memory when the reader is slower than we are (and a
// pipe's queue can fail with ENOBUFS); a blocking write is the backpressure.

import * as fs from 'node:fs';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

export class Output {
  private buf: string[] = [];
  private size = 0;

  constructor(private readonly fd = 1, private readonly limit = 1 << 16) {}

  line(s: string): void {
    this.buf.push(s);
    this.size += s.length + 1;
    if (this.size >= this.limit) this.flush();
  }

  flush(): void {
    if (!this.buf.length) return;
    const data = Buffer.from(this.buf.join('\n') + '\n', 'utf8');
    this.buf = [];
    this.size = 0;
    writeAll(this.fd, data);
  }

  async end(): Promise<void> {
    this.flush();
  }
}

/**
 * Writes all of data. A non-blocking pipe (Node makes stdout one) answers EAGAIN when full:
 * wait a millisecond and try again. EPIPE (`| head` went away) ends the program quietly,
 * as command-line tools do.
 */
function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += fs.writeSync(fd, data, off, data.length - off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') Atomics.wait(sleeper, 0, 0, 1);
      else if (code === 'EPIPE') process.exit(0);
      else throw err;
    }
  }
}
