// exectrace as a library: the front door. The CLI is built on the same parts.
//
// Offline (any OS with Node, no addon): openTrace reads a trace file as typed events,
// verifyTrace checks one. Live (Linux, root): Tracer gives a recording's events as they
// happen, record() runs one as `exectrace record` does; both load the native addon on first
// use and fail with one line where it or the kernel lacks something.

export {openTrace, Trace, type OpenTraceOptions, type Totals} from './api/trace';
export type {
  ArgValue, BufferValue, EventType, ExecEvent, ExecFailedEvent, ExitEvent, ForkEvent, LostEvent, Namespaces, ProcessEvent,
  SyscallEvent, TaskFields, Text, TraceEvent, U64,
} from './api/events';
export {verifyFile as verifyTrace, type Finding, type FindingKind, type Problem, type VerifyOptions, type VerifyReport} from './format';
export {record, RECORD_DEFAULTS, type RecordInput} from './api/record';
export {Tracer, type TracerOptions, type TracerTotals} from './api/tracer';
export type {RecordOptions, RecordSummary, TypeTotals} from './record/recorder';
export type {FilterOptions} from './record/filters';
export type {SyscallRow, TypeRow} from './stats';
export {UsageError, UserError} from './util/errors';
