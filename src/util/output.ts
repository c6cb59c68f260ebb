// Buffered line output for decode: one write per ~64 KiB instead of one per event, and
// backpressure so that piping into a slow reader does not grow memory without bound.

import {Writable} from 'node:stream';

export class Output {
  private buf: string[] = [];
  private size = 0;
  private closed = false;

  constructor(private readonly out: Writable, private readonly limit = 1 << 16) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      // The reader went away (`| head`): stop quietly, as command-line tools do.
      if (err.code === 'EPIPE') {
        this.closed = true;
        process.exit(0);
      }
    });
  }

  line(s: string): void {
    if (this.closed) return;
    this.buf.push(s);
    this.size += s.length + 1;
    if (this.size >= this.limit) this.flush();
  }

  flush(): void {
    if (!this.buf.length) return;
    this.out.write(this.buf.join('\n') + '\n');
    this.buf = [];
    this.size = 0;
  }

  async end(): Promise<void> {
    this.flush();
    if (this.out.writableNeedDrain) await new Promise((r) => this.out.once('drain', r));
  }
}
