// Filtering: one predicate language for `filter`, `decode` and `stats`. Flags cover the
// common cases (--pid, --comm, --type, --syscall, --uid, --since/--until, --tree) and
// --where EXPR the rest (expr.ts); all of them are compiled once, against the file's own
// metadata (its clock, syscall table and process snapshot), into one test run on every
// decoded event. `lost` events pass every filter: what the kernel could not deliver might
// have matched. select.ts maps the events a filter keeps back to the raw records behind
// them, and file.ts writes those into a new trace file. Offline-safe: decode and format only.

export {
  EVENT_TYPES, EventFilter, appliedSpec, compileFilter, describeSpec, type FilterContext, type FilterSpec,
} from './compile';
export {compileWhere, WhereError, type CompiledWhere, type WhereContext} from './expr';
export {parseTimeBound, recordingEnd, type Span, type TimeBound} from './time';
export {ProcessTree} from './tree';
export {Selector, selectTrace, type SelectSink} from './select';
export {filterFile, type FilterFileOptions, type FilterFileReport} from './file';
export {explainEmpty, summarize, type FileSummary} from './explain';
