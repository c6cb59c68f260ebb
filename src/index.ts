// exectrace as a library: the front door. The CLI is built on the same parts.
//
// Offline (any OS with Node, no addon): openTrace reads a trace file as typed events,
// trace.write() prints its events as decode does, trace.stats() summarizes them as stats does,
// trace.groups() and trace.intervals() count them per group and per interval (stats --by,
// stats --interval), filterTrace writes the matching records into a new file (filter -o),
// recoverTrace rewrites a damaged one (recover), verifyTrace checks one and verifySeries the
// links between the files of a rotated recording, processTree gives the
// process forest (tree) and formatTree draws it, openTraces merges several files in time order
// (decode a.bin b.bin), mapEvent (toEcs, toOcsf) maps an event onto ECS or OCSF for SIEMs, decodeSockaddr and formatSockaddr read a
// socket address's bytes, exportTraces writes trace files as Parquet tables (export) with
// ParquetWriter, a streaming Parquet writer of its own, and query() runs SQL over trace and
// Parquet files with DuckDB (an optional dependency, loaded on the first query). Live (Linux, root): Tracer gives a
// recording's events as they happen, record() runs one as `exectrace record` does,
// countExecs() counts execs per process in the kernel as `record --stats-only` does; they
// load the native addon on first use and fail with one line where it or the kernel lacks
// something.

export {
  openTrace, Trace, type GroupsOptions, type IntervalsOptions, type OpenTraceOptions, type PassReport, type Totals, type TraceGroups,
  type TraceStats, type WriteOptions,
} from './api/trace';
export {openTraces, TraceSet, type FileReport, type HostEvent, type OpenTracesOptions} from './api/merge';
export {mapEvent, SCHEMAS, schemaContextOf, toEcs, toOcsf, ECS_VERSION, OCSF_VERSION, type Schema, type SchemaContext} from './schema';
export {filterTrace, recoverTrace, type FilterFileReport, type FilterTraceOptions, type RecoverOptions, type RecoverReport} from './api/files';
export type {
  Ancestor, ArgValue, BufferValue, EventType, ExecEvent, ExecFailedEvent, ExitEvent, FdSetValue, ForkEvent, IovecValue, LostEvent,
  Namespaces, ProcessEvent, SockAddr, SyscallEvent, TaskFields, Text, TraceEvent, U64,
} from './api/events';
export {decodeSockaddr, formatSockaddr} from './decode/sockaddr';
export {verifyFile as verifyTrace, type Finding, type FindingKind, type Problem, type VerifyOptions, type VerifyReport} from './format';
export {verifySeries, type SeriesFinding, type SeriesFindingKind, type SeriesPlace, type SeriesReport} from './format';
export {countExecs, record, RECORD_DEFAULTS, type RecordInput} from './api/record';
export type {ExecCount, ExecCountInterval, ExecCountOptions, ExecCountSummary} from './record/counts';
export {Tracer, type TracerOptions, type TracerTotals} from './api/tracer';
export type {RecordOptions, RecordSummary, TypeTotals} from './record/recorder';
export type {FilterOptions} from './record/filters';
export {formatStats, type StatsReport, type SyscallRow, type TypeRow} from './stats';
export {mergeStats} from './stats/merge';
export {
  IntervalTable, MAX_INTERVAL_ROWS, type IntervalCounts, type IntervalRow, type IntervalSummary,
} from './stats/intervals';
export {formatGroups, GROUP_KEYS, type GroupCounts, type GroupKey, type GroupReport, type GroupRow, type GroupValue} from './stats/groups';
export {
  formatTime, formatTree, processTree, type ProcessExit, type ProcessFailedExec, type ProcessForest, type ProcessImage, type ProcessNode,
  type ProcessTreeOptions,
} from './processes';
export {
  EVENT_FIELDS, exportTraces, SCHEMA_KEY, SCHEMA_VERSION, TABLE_KEY, TOTALS_FIELDS, type ExportFileReport, type ExportOptions, type ExportReport,
  type PartitionKey,
} from './export';
export {ParquetWriter, type Field as ParquetField, type LeafType as ParquetLeafType, type ParquetOptions} from './parquet';
export {formatCsv, formatJson, formatTable, INSTALL_HINT, query, type QueryOptions, type QueryResult} from './query';
export {toJson} from './util/json';
export {UsageError, UserError} from './util/errors';
