// The commands that write a new trace file, for programs: filterTrace is `filter -o`,
// recoverTrace is `recover`. Offline, on any OS with Node; no addon.

import {filterFile, type FilterFileReport} from '../filter';
import {specOf, type OpenTraceOptions} from './trace';

export {recoverFile as recoverTrace, type RecoverOptions, type RecoverReport} from '../recover';
export type {FilterFileReport} from '../filter';

/** openTrace's filters, and how to write the new file. */
export interface FilterTraceOptions extends OpenTraceOptions {
  /** Replace the output file if it exists. */
  force?: boolean;
  /** zstd level for the chunks written anew (chunks kept whole keep their stored bytes). */
  level?: number;
  /** The source's name in the new file's notes (default: the input's file name). */
  sourceName?: string;
}

/**
 * `exectrace filter INPUT -o OUTPUT`: writes the records behind the events the filters keep
 * (with the context records they need, every loss record, a `filter` note and a trailer
 * that keeps the source's kernel counters) to `output`, mode 0600. The report's `warnings`
 * are the filters' warnings, then, when filters were given and nothing matched, why. Throws
 * a one-line Error when it cannot write the file.
 */
export function filterTrace(input: string, output: string, o: FilterTraceOptions = {}): FilterFileReport {
  return filterFile(input, output, specOf(o), {
    force: o.force, level: o.level, processes: o.processes !== false, onProblem: o.onProblem, zone: o.zone ?? 'local',
    sourceName: o.sourceName, onProgress: o.onProgress,
  });
}
