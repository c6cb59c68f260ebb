// What the recorder knows about the records bpf/exectrace.bpf.c writes: which struct each
// type id uses and how its variable-length tail is cut into segments. Field offsets are
// not here — they come from the object's BTF — and all of this is written into the file's
// metadata, so the decoder needs none of it (formats/trace-format.md, `record_types`).

import type {RecordLayout} from '../btf';

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

// Ids are enum et_type in bpf/exectrace.h.
export const RECORD_TYPES: RecordTypeInfo[] = [
  {
    id: 1, event: 'exec', struct: 'et_exec',
    tail: [
      {name: 'filename', len_field: 'filename_len', kind: 'string'},
      {name: 'interp', len_field: 'interp_len', kind: 'string'},
      {name: 'argv', len_field: 'args_len', kind: 'strings'},
    ],
  },
  {
    id: 2, event: 'exec_failed', struct: 'et_exec_failed',
    tail: [
      {name: 'filename', len_field: 'filename_len', kind: 'string'},
      {name: 'argv', len_field: 'args_len', kind: 'strings'},
    ],
    enums: {syscall: {1: 'execve', 2: 'execveat'}},
  },
  {id: 3, event: 'fork', struct: 'et_fork'},
  {id: 4, event: 'exit', struct: 'et_exit'},
  {id: 5, event: 'lost', struct: 'et_lost'},
  // Syscall records: their tails are cut per argument, as the `syscalls` metadata says.
  {id: 6, event: 'sys_enter', struct: 'et_sys_enter'},
  {id: 7, event: 'sys_exit', struct: 'et_sys_exit'},
  {id: 8, event: 'task', struct: 'et_task_ctx'},
];

export const LOST_TYPE_ID = 5;
export const SYS_ENTER_TYPE_ID = 6;
export const SYS_EXIT_TYPE_ID = 7;
export const NO_ENTER_FLAG = 2; // ET_F_NO_ENTER
export const INFLIGHT_FLAG = 4; // ET_F_INFLIGHT
/** struct et_sys_stash (bpf/exectrace.bpf.c): in_call == STASH_CALL means a call is open. */
export const STASH_STRUCT = 'et_sys_stash';
export const STASH_CALL = 1;
export const TRUNCATED_FLAG = 1; // ET_F_TRUNCATED

export const STRUCTS = ['et_header', 'et_counter', ...RECORD_TYPES.map((t) => t.struct)];

/** BPF program names of the syscall path: not loaded at all unless syscalls are recorded. */
export const SYSCALL_PROGRAMS = ['sys_enter', 'sys_exit'];
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
