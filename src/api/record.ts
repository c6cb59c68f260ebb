// record() and countExecs() for programs: what `exectrace record` and `record --stats-only`
// run, with their defaults. Linux and root only; the native addon is loaded on first use and a missing piece (root, BTF, the addon) is one
// line of error.

import {DEFAULT_ZSTD_LEVEL} from '../format';
import type {RecordOptions, RecordSummary} from '../record/recorder';
import type {ExecCountOptions, ExecCountSummary} from '../record/counts';

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
  // Loaded here, not at the top: the recorder pulls in BTF, the syscall tables and the addon's
  // loader, which the offline side of the front door (decode, stats, ...) must not pay for.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const {record: run} = require('../record/recorder') as typeof import('../record/recorder');
  // An option given as undefined takes its default too.
  const d = RECORD_DEFAULTS;
  return run({
    ...opts,
    maxArgs: opts.maxArgs ?? d.maxArgs, maxArgBytes: opts.maxArgBytes ?? d.maxArgBytes, ringBytes: opts.ringBytes ?? d.ringBytes,
    chunkBytes: opts.chunkBytes ?? d.chunkBytes, flushMs: opts.flushMs ?? d.flushMs, level: opts.level ?? d.level,
  });
}

/**
 * countExecs is `exectrace record --stats-only`: execs counted per process and name in the
 * kernel, handed to `onInterval` every `intervalMs` (default 2000), no file written; resolves
 * with the totals of the run when the command exits, `durationMs` passes, `signal` aborts,
 * or SIGINT/SIGTERM arrive. Linux and root, as record(); loads the native addon on first use.
 */
export function countExecs(opts: ExecCountOptions): Promise<ExecCountSummary> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const {countExecs: run} = require('../record/counts') as typeof import('../record/counts');
  return run(opts);
}
