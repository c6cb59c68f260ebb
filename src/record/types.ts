// What the recorder knows about the records bpf/exectrace.bpf.c writes: which struct each
// type id uses and how its variable-length tail is cut into segments. Field offsets are
// not here — they come from the object's BTF — and all of this is written into the file's
// metadata, so the decoder needs none of it (formats/trace-format.md, `record_types`).

import type {RecordLayout} from '../btf';
import {ET_EXEC, ET_EXEC_FAILED, ET_EXIT, ET_FD, ET_FORK, ET_HASH, ET_LOST, ET_SYS_ENTER, ET_SYS_EXIT, ET_TASK, HASH_STATUS} from '../abi';

export interface TailSegment {
  name: string;
  len_field: string;
  kind: 'string' | 'strings' | 'bytes';
}

export interface RecordTypeInfo {
  id: number;
  event: string;
  struct: string;
  tail?: TailSegment[];
  enums?: Record<string, Record<string, string>>;
}

// Ids are enum et_type in bpf/exectrace.h (src/abi.ts).
export const RECORD_TYPES: RecordTypeInfo[] = [
  {
    id: ET_EXEC, event: 'exec', struct: 'et_exec',
    tail: [
      {name: 'filename', len_field: 'filename_len', kind: 'string'},
      {name: 'interp', len_field: 'interp_len', kind: 'string'},
      {name: 'argv', len_field: 'args_len', kind: 'strings'},
      {name: 'cwd', len_field: 'cwd_len', kind: 'strings'},
    ],
  },
  {
    id: ET_EXEC_FAILED, event: 'exec_failed', struct: 'et_exec_failed',
    tail: [
      {name: 'filename', len_field: 'filename_len', kind: 'string'},
      {name: 'argv', len_field: 'args_len', kind: 'strings'},
    ],
    enums: {syscall: {1: 'execve', 2: 'execveat'}},
  },
  {id: ET_FORK, event: 'fork', struct: 'et_fork'},
  {id: ET_EXIT, event: 'exit', struct: 'et_exit'},
  {id: ET_LOST, event: 'lost', struct: 'et_lost'},
  // Syscall records: their tails are cut per argument, as the `syscalls` metadata says.
  {id: ET_SYS_ENTER, event: 'sys_enter', struct: 'et_sys_enter'},
  {id: ET_SYS_EXIT, event: 'sys_exit', struct: 'et_sys_exit'},
  {id: ET_TASK, event: 'task', struct: 'et_task_ctx'},
  // Written by the recorder just before an exec record when it hashes executables.
  {id: ET_HASH, event: 'hash', struct: 'et_hash', enums: {status: Object.fromEntries(Object.entries(HASH_STATUS))}},
  // What a descriptor refers to, just before the et_sys_exit of the call that made it.
  {
    id: ET_FD, event: 'fd', struct: 'et_fd',
    tail: [
      {name: 'path', len_field: 'path_len', kind: 'strings'},
      {name: 'addr', len_field: 'addr_len', kind: 'bytes'},
    ],
  },
];

/** struct et_sys_stash (bpf/exectrace.bpf.c): in_call == STASH_CALL means a call is open. */
export const STASH_STRUCT = 'et_sys_stash';
export const STASH_CALL = 1;

/** What the snapshot_tasks iterator writes per process (bpf/exectrace.h). */
export const SNAP_STRUCT = 'et_snap';
export const SNAP_PROGRAM = 'snapshot_tasks';
/** What writes an et_fd per descriptor open at start (with syscalls only). */
export const SNAP_FDS_PROGRAM = 'snapshot_fds';

/** The key of the map `hashed_files`: a file identity the recorder has hashed. */
export const FILE_KEY_STRUCT = 'et_file_key';

export const STRUCTS = ['et_header', 'et_counter', SNAP_STRUCT, FILE_KEY_STRUCT, ...RECORD_TYPES.map((t) => t.struct)];

/** BPF program names of the syscall path: not loaded at all unless syscalls are recorded. */
export const SYSCALL_PROGRAMS = ['sys_enter', 'sys_exit', SNAP_FDS_PROGRAM];
/**
 * The classic execve tracepoint programs catch failed execs when syscalls are not traced;
 * when they are, sys_enter/sys_exit do it, and these would only add a perf dispatch to
 * every syscall.
 */
export const EXEC_SYSCALL_PROGRAMS = ['sys_enter_execve', 'sys_enter_execveat', 'sys_exit_execve', 'sys_exit_execveat'];

export type Layouts = Record<string, RecordLayout>;

export function layoutsByStruct(list: RecordLayout[]): Layouts {
  const out: Layouts = {};
  for (const l of list) out[l.name] = l;
  for (const s of STRUCTS) if (!out[s]) throw new Error(`bpf object: struct ${s} not found in its BTF`);
  return out;
}
