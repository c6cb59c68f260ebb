// The event model as types: one interface per event kind, a union discriminated on `type`.
// These are the objects decode --json prints (the README's event model; the file format in
// formats/trace-format.md), as the library hands them out.
//
// 64-bit values (ts_ns, cgroup_id, a syscall's ret or pointer arguments) are a `number`
// while they are exact in a double (below 2^53 in magnitude) and a `bigint` beyond: the
// common case costs no BigInt, and no value is ever rounded. `U64` says which fields can be
// either.

import type {Ancestor} from '../processes/model';
import type {FdSetValue, IovecValue} from '../decode/captures';
import type {SockAddr} from '../decode/sockaddr';

export type {Ancestor, FdSetValue, IovecValue, SockAddr};

/** A 64-bit value: a number while exact (|v| < 2^53), else a bigint. */
export type U64 = number | bigint;

/** A string from the kernel: text when its bytes are UTF-8, else its exact bytes in base64. */
export type Text = string | {base64: string};

/** A captured buffer argument (read's data, write's): text where printable, else base64. */
export type BufferValue = ({text: string} | {base64: string}) & {len: number; truncated: boolean};

/**
 * A decoded syscall argument: an integer, a string, a buffer, a struct (field → value), a
 * socket address, an iovec vector, an fd_set, an array of structs (pollfds, epoll events),
 * or null.
 */
export type ArgValue = U64 | Text | BufferValue | SockAddr | IovecValue | FdSetValue | null | {[field: string]: unknown}
  | {[field: string]: unknown}[];

/** Inode numbers of the task's namespaces, as `ls -l /proc/PID/ns` shows them. */
export interface Namespaces {
  pid?: number;
  mnt?: number;
  net?: number;
  uts?: number;
  ipc?: number;
  user?: number;
  cgroup?: number;
}

/** What every event of a task carries. */
export interface TaskFields {
  /** RFC 3339, UTC, nanoseconds. */
  time: string;
  /** The boot clock (CLOCK_BOOTTIME) the kernel stamped the record with. */
  ts_ns: U64;
  /** Thread-group id (the process). */
  pid: number;
  tid: number;
  ppid: number;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  loginuid: number;
  sessionid: number;
  comm: string;
  cpu?: number;
  cgroup_id?: U64;
  /** The cgroup v2 path, when the recording knew it. */
  cgroup?: string;
  ns?: Namespaces;
  /** Set when a capture (argv, a string) was cut at its limit. */
  truncated?: boolean;
}

/** A process alive when recording started, from /proc. */
export interface ProcessEvent extends Omit<TaskFields, 'cpu'> {
  type: 'process';
  filename: Text | null;
  argv: Text[];
  /** When the process started (RFC 3339), when known. */
  start_time?: string;
  /** In a syscall recording: its working directory at start (null: unreadable). */
  cwd?: Text | null;
  /**
   * In a syscall recording: its descriptors open at start, number → what each refers to
   * (as fd_paths names them); absent when the recording does not know them.
   */
  fds?: {[fd: string]: Text | null};
  /** Descriptors open at start that `fds` does not list (past the recorder's limits). */
  fds_omitted?: number;
}

/** A successful execve/execveat: the new image and its argv, read from the new image. */
export interface ExecEvent extends TaskFields {
  type: 'exec';
  /** The file as the kernel opened it. */
  filename: Text;
  /** The interpreter of a script (#!), when it was one. */
  interp?: Text;
  argv: Text[];
  /** The real argument count and bytes, even when argv was cut (`truncated`). */
  argc: number;
  args_size: number;
  parent_comm: string;
  /** The thread that called exec (another thread's exec returns under the leader's tid). */
  old_tid: number;
  /** With the `ancestors` option: who forked this process, from the parent upward. */
  ancestors?: Ancestor[];
}

/** An exec that failed, with the argv it was given. */
export interface ExecFailedEvent extends TaskFields {
  type: 'exec_failed';
  filename: Text;
  argv: Text[];
  argc?: number;
  /** The negative errno the call returned, and its name. */
  error_code: number;
  errno: string;
  syscall: 'execve' | 'execveat';
  dfd: number;
  at_flags: number;
  /** With the `ancestors` option: who forked this process, from the parent upward. */
  ancestors?: Ancestor[];
}

/** A new process or thread: pid/tid are the child's, ppid its parent's. */
export interface ForkEvent extends TaskFields {
  type: 'fork';
  parent_tid: number;
}

/** The end of a process, written when its last thread exits (tid), after all its calls. */
export interface ExitEvent extends TaskFields {
  type: 'exit';
  /** The status wait() reports: the exit code, or the signal that killed it. */
  exit_code: number;
  signal: number | null;
  core_dumped: boolean;
  running_time_ns: U64;
  nr_threads: number;
  /** The last image the recording saw this process run, when it saw one. */
  filename?: Text | null;
  argv?: Text[];
}

/** One syscall, entry and exit together; `time`/`ts_ns` are the entry's. */
export interface SyscallEvent extends TaskFields {
  type: 'syscall';
  syscall: string;
  nr: number;
  /** Argument name → value; null for a call seen only at its exit. */
  args: {[name: string]: ArgValue} | null;
  /**
   * fd_paths gives what its descriptor arguments refer to, by argument name (`fd`, `dfd`,
   * `oldfd` …, `ret` for one it returns; pipe's and socketpair's pair as an array), in
   * strace -yy's spelling: `/etc/passwd`, `TCP:[127.0.0.1:45678->127.0.0.1:9]`, `pipe:[1234]`,
   * `anon_inode:[eventfd]`; null when the recording does not know (formats/trace-format.md
   * §10.18.1). An argument that is not open, as far as the recording knows, is absent.
   * Absent when the recording does not describe descriptors (older files, exec-only ones).
   */
  fd_paths?: {[name: string]: Text | null | (Text | null)[]};
  /** paths gives its relative path arguments made absolute (null: the directory is unknown), by argument name. */
  paths?: {[name: string]: Text | null};
  /** null when the call never returned within the recording. */
  ret: U64 | null;
  /** The errno name when ret is negative (an error). */
  errno?: string;
  duration_ns: number | null;
  /** A call seen without its exit (still running, or the thread died) or without its entry. */
  incomplete?: 'no_exit' | 'no_entry';
  /** Still in progress when recording stopped. */
  in_flight?: boolean;
  /** Arguments whose capture was cut at its limit. */
  cut?: string[];
  /**
   * The symbolic form of the arguments that have one, as human output shows them
   * (`flags: 'O_WRONLY|O_CREAT|O_TRUNC'`, `dfd: 'AT_FDCWD'`, `mode: '0644'`); `args` keeps
   * the numbers. Absent when no argument has one.
   */
  sym?: {[name: string]: string};
  /** Recorded only to follow descriptors (record --syscall), shown because `implicit` was asked for. */
  implicit?: true;
}

/** Records the ring buffer could not take: how many, of which type, and when. */
export interface LostEvent {
  type: 'lost';
  time: string;
  ts_ns: U64;
  cpu: number;
  /** The event type lost (`syscall` losses name the call in `nr`). */
  event: string;
  nr: number;
  count: number;
  /** The loss happened between these two times. */
  window_start: string;
  window_end: string;
  window_start_ns: U64;
  window_end_ns: U64;
  truncated?: boolean;
  /** Dropped by a live Tracer's bounded queue (a consumer slower than the kernel), not by the kernel; cpu is -1. */
  queue?: true;
}

/** Every event the decoder gives, discriminated on `type`. */
export type TraceEvent = ProcessEvent | ExecEvent | ExecFailedEvent | ForkEvent | ExitEvent | SyscallEvent | LostEvent;

/** The `type` of each kind of event. */
export type EventType = TraceEvent['type'];
