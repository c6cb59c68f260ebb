// The columns of `exectrace export`: the events table, the totals table, and the schema
// version stored in every file's key-value metadata. formats/parquet-schema.md is the
// specification of both tables; a change here changes it first, and a column's meaning
// never changes within one schema version (columns are only added, at the end, with a
// new minor version).

import type {Field} from '../parquet';

/** SCHEMA_VERSION is stored under SCHEMA_KEY in every file's key-value metadata. */
export const SCHEMA_VERSION = '1.0';
/** SCHEMA_KEY names the schema version in the footer's key-value metadata. */
export const SCHEMA_KEY = 'exectrace.schema';
/** TABLE_KEY says which table a file holds: `events` or `totals`. */
export const TABLE_KEY = 'exectrace.table';
/** MAPPING_KEY names the schema the events were mapped onto (export --schema): `ecs` or `ocsf`; absent in the events table. */
export const MAPPING_KEY = 'exectrace.mapping';

const s = (name: string): Field => ({name, type: 'string'});
const i32 = (name: string): Field => ({name, type: 'int32'});
const i64 = (name: string): Field => ({name, type: 'int64'});
const ts = (name: string): Field => ({name, type: 'timestamp'});
const b = (name: string): Field => ({name, type: 'boolean'});

/**
 * EVENT_FIELDS are the columns of the events table, in file order. Numbers are the event
 * model's (src/api/events.ts); text that is not UTF-8 is shown as decode shows it (\xNN
 * for each byte that is not); shapes that vary (args, sym, fd_paths, paths, ancestors,
 * fds) are JSON text.
 */
export const EVENT_FIELDS: readonly Field[] = [
  {name: 'type', type: 'string', required: true},
  ts('time'), i64('ts_ns'),
  s('host'), s('boot_id'),
  s('exec_id'), s('parent_exec_id'), s('prev_exec_id'),
  i32('pid'), i32('tid'), i32('ppid'),
  i64('uid'), i64('gid'), i64('euid'), i64('egid'), i64('loginuid'), i64('sessionid'),
  s('comm'), i32('cpu'), i64('cgroup_id'), s('cgroup'), s('container_id'),
  {name: 'ns', struct: ['pid', 'mnt', 'net', 'uts', 'ipc', 'user', 'cgroup'].map((name) => ({name, type: 'int64' as const}))},
  b('truncated'),
  // the image: process, exec, exec_failed, exit
  s('filename'), {name: 'argv', list: 'string'}, i32('argc'), i64('args_size'), s('interp'), s('cwd'), s('parent_comm'), i32('old_tid'),
  ts('start_time'), s('sha256'),
  {name: 'file', struct: [
    {name: 'dev', type: 'int64'}, {name: 'ino', type: 'int64'}, {name: 'mode', type: 'int32'}, {name: 'uid', type: 'int64'},
    {name: 'gid', type: 'int64'}, {name: 'size', type: 'int64'}, {name: 'mtime', type: 'timestamp'}, {name: 'ctime', type: 'timestamp'},
    {name: 'nlink', type: 'int64'},
  ]},
  b('deleted'), b('memfd'), b('setuid'), b('setgid'), b('privileged'), s('ancestors'),
  // exec_failed
  i32('error_code'), i32('dfd'), i32('at_flags'),
  // fork
  i32('parent_tid'), i64('clone_flags'),
  // exit
  i32('exit_code'), i32('signal'), b('core_dumped'), i64('running_time_ns'), i32('nr_threads'),
  // syscall (syscall and errno also exec_failed's)
  s('syscall'), i32('nr'), s('args'), i64('ret'), s('errno'), i64('duration_ns'), s('sym'), s('fd_paths'), s('paths'),
  s('incomplete'), b('in_flight'), {name: 'cut', list: 'string'}, b('implicit'),
  // lost
  s('lost_event'), i64('count'), ts('window_start'), ts('window_end'), b('queue'),
  // process
  s('fds'), i32('fds_omitted'),
];

/**
 * TOTALS_FIELDS are the columns of the totals table (export --totals): one row per input
 * file and counter of its trailer (an event type or a syscall), or one row with a null
 * counter for a file without a trailer.
 */
export const TOTALS_FIELDS: readonly Field[] = [
  s('host'), s('boot_id'), {name: 'file', type: 'string', required: true},
  b('complete'), s('end_reason'), ts('start'), ts('end'),
  i64('events'), i64('lost_markers'), i64('lost'),
  s('kind'), s('counter'), i64('sent'), i64('recorded'), i64('counter_lost'), i64('filtered'),
];
