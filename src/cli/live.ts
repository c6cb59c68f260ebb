// record --stdout: the live view, written as decode writes events, on the library's Tracer.

import {Tracer, type RecordSummary, type TracerOptions} from '..';
import {loadNative} from '../record/native';
import {Output} from '../util/output';
import type {Zone} from '../util/time';

/**
 * Live mode (--stdout): a Tracer, whose events are written as decode writes them. When the
 * reader goes away (`| head`), the live view stops with one line; the file, if any, is
 * recorded to its normal end, else the recording stops as after a signal.
 */
export async function live(opts: TracerOptions, json: boolean, zone: Zone): Promise<RecordSummary> {
  const tracer = await Tracer.open(opts);
  const out = new Output(1, 1 << 20, () => {
    if (opts.output) {
      process.stderr.write(`exectrace: the live output was closed (its reader went away); recording goes on into ${opts.output}\n`);
    } else {
      process.stderr.write('exectrace: the live output was closed (its reader went away); recording stops\n');
      void tracer.close('live output closed');
    }
  });
  // A reader can leave while nothing is written (an idle command): look every quarter second.
  const native = loadNative();
  const watch = setInterval(() => {
    if (native.readerGone(1)) out.gone();
  }, 250);
  try {
    for await (const batch of tracer.batches()) {
      if (out.closed) break;
      for (const e of batch) out.line(tracer.line(e, {json, zone}));
      if (tracer.pending === 0) out.flush(); // caught up: show it now
    }
    await out.end();
  } finally {
    clearInterval(watch);
  }
  return tracer.done;
}
