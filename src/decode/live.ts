// Decoding while a recording runs: the batches of frames record() hands over (its onBatch),
// through the same Decoder as `decode`, so a live event is the event the file will give.
// Offline code: it needs only the metadata record() passes to onStart, never the addon.

import {FrameCursor} from '../format';
import {Decoder, decodeMeta, type Emit} from './events';

export class LiveDecoder {
  readonly decoder: Decoder;
  private readonly cursor = new FrameCursor();

  constructor(meta: Readonly<Record<string, unknown>>, private readonly emit: Emit) {
    this.decoder = new Decoder(decodeMeta(meta));
  }

  /**
   * Decodes one batch, emitting the events it completes. A syscall's entry is kept until
   * its exit arrives, so the batch must not be a buffer the drain reuses (record gives a
   * live consumer batches of its own).
   */
  feed(frames: Buffer): void {
    const c = this.cursor.reset(frames);
    while (c.next()) this.decoder.feed(c.buf, c.offset, c.length, this.emit);
  }

  /** At the end of the recording: the calls that never completed. */
  end(): void {
    this.decoder.end(this.emit);
  }
}
