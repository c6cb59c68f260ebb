// Decoding: turns a trace file into events of the model in PRODUCT.md, driven only by the
// file's own metadata (layouts from BTF, clocks, options). Runs anywhere Node runs: no
// native addon, no root, no Linux. Damage is reported through the reader's problems and
// decoding goes on with the next intact chunk.

import {forEachFrame, Problem, TraceReader} from '../format';
import {Decoder, DecodeMeta, TraceEvent} from './events';

export {Decoder, DecodeMeta, TraceEvent, ordered} from './events';
export {humanLine, shellQuote, commandLine, HumanContext} from './human';
export {ArgInfo, BufferValue, SyscallsMeta} from './syscalls';

export interface OpenedTrace {
  reader: TraceReader;
  decoder: Decoder;
  onProblem: (p: Problem) => void;
}

export function openTrace(path: string, onProblem: (p: Problem) => void = () => {}): OpenedTrace {
  const reader = TraceReader.open(path, {onProblem, reuseBuffers: true});
  try {
    return {reader, decoder: new Decoder(reader.meta as unknown as DecodeMeta), onProblem};
  } catch (err) {
    reader.close();
    throw err;
  }
}

export interface WalkOptions {
  /** Include the processes alive at start as `process` events (first). */
  processes?: boolean;
}

/**
 * Calls emit for every event in file order: the start-of-recording snapshot, then the
 * events of each intact chunk's records as they complete (a syscall at its exit record),
 * then the syscalls that never completed. Frame problems become reader problems.
 */
export function forEachEvent(t: OpenedTrace, opts: WalkOptions, emit: (e: TraceEvent) => void): void {
  const {reader, decoder} = t;
  if (opts.processes !== false) for (const e of decoder.processEvents()) emit(e);
  for (const chunk of reader.chunks()) {
    const {problem} = forEachFrame(chunk, (buf, off, len) => decoder.feed(buf, off, len, emit));
    if (problem) {
      // Frame damage is found after the reader's own checks; report it the same way.
      reader.problems.push(problem);
      t.onProblem(problem);
    }
  }
  decoder.end(emit);
}
