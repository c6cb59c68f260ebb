// record() for programs: what `exectrace record` runs, with its defaults. Linux and root only;
// the native addon is loaded on first use and a missing piece (root, BTF, the addon) is one
// line of error.

import {DEFAULT_ZSTD_LEVEL} from '../format';
import {record as run, type RecordOptions, type RecordSummary} from '../record/recorder';

/** The options of `exectrace record`; those left out take its defaults. */
export type RecordInput = Partial<Pick<RecordOptions, 'maxArgs' | 'maxArgBytes' | 'ringBytes' | 'chunkBytes' | 'flushMs' | 'level'>> &
  Omit<RecordOptions, 'maxArgs' | 'maxArgBytes' | 'ringBytes' | 'chunkBytes' | 'flushMs' | 'level'>;

/** The defaults `exectrace record` uses (its --max-args, --max-arg-bytes, --ring-size, …). */
export const RECORD_DEFAULTS = {
  maxArgs: 256,
  maxArgBytes: 32 * 1024,
  ringBytes: 16 << 20,
  chunkBytes: 4 << 20,
  flushMs: 1000,
  level: DEFAULT_ZSTD_LEVEL,
} as const;

/**
 * Records until the command exits, `durationMs` passes, `signal` aborts, or SIGINT/SIGTERM;
 * writes `output` (mode 0600, locked while written) and resolves with the summary.
 */
export function record(opts: RecordInput): Promise<RecordSummary> {
  return run({...RECORD_DEFAULTS, ...opts});
}
