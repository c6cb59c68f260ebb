// The constants of bpf/exectrace.h, mirrored here because TypeScript cannot include a C
// header: the record type ids (enum et_type), the record header's flags, and those of the
// syscall path. This is the only copy: everything in src/ and test/ that needs one of
// these values imports it from here. test/syscalls-discovery.test.ts reads the header and
// fails when a value differs, and checks the type ids against enum et_type in the BTF
// of bpf/exectrace.bpf.o, the object the recorder loads. Struct layouts are NOT mirrored: they come from
// the object's BTF (src/btf, recordLayout).

// enum et_type: the type id in every record's header, and the index of the `counters` map.
export const ET_EXEC = 1;
export const ET_EXEC_FAILED = 2;
export const ET_FORK = 3;
export const ET_EXIT = 4;
/** Written by the recorder, never by BPF: records the kernel counted as lost. */
export const ET_LOST = 5;
export const ET_SYS_ENTER = 6;
export const ET_SYS_EXIT = 7;
export const ET_TASK = 8;
/** Written by the recorder, never by BPF: the SHA-256 of an exec's file, just before the exec. */
export const ET_HASH = 9;
/** What a descriptor (or the cwd) refers to: after a call that made or changed it, and at start. */
export const ET_FD = 10;
/** One past the largest type id: the entries of the `counters` map. */
export const ET_TYPE_MAX = 11;

// et_header.flags
/** A tail segment was cut at its limit. */
export const ET_F_TRUNCATED = 1 << 0;
/** A sys_exit without its entry (the call began before recording). */
export const ET_F_NO_ENTER = 1 << 1;
/** Written by the recorder: still in the call when recording stopped. */
export const ET_F_INFLIGHT = 1 << 2;

// et_exec.exec_flags, by the name the event model gives each (formats/trace-format.md §10.5).
export const ET_EXEC_DELETED = 1 << 0;
export const ET_EXEC_MEMFD = 1 << 1;
export const ET_EXEC_SETUID = 1 << 2;
export const ET_EXEC_SETGID = 1 << 3;
export const ET_EXEC_PRIVILEGED = 1 << 4;
export const ET_EXEC_CWD = 1 << 5;
export const ET_EXEC_CWD_TRUNCATED = 1 << 6;
/** The recorder had already hashed the file identity when the exec ran (the `hashed_files` map). */
export const ET_EXEC_KNOWN = 1 << 7;
/** The `exec_flags` metadata a recording writes: name → bit. */
export const EXEC_FLAGS = {
  deleted: ET_EXEC_DELETED, memfd: ET_EXEC_MEMFD, setuid: ET_EXEC_SETUID, setgid: ET_EXEC_SETGID,
  privileged: ET_EXEC_PRIVILEGED, cwd: ET_EXEC_CWD, cwd_truncated: ET_EXEC_CWD_TRUNCATED, known: ET_EXEC_KNOWN,
};
// enum et_hash_status: et_hash.status, by the name the event model gives each (sha256_error).
export const ET_HASH_OK = 0;
export const ET_HASH_REPLACED = 1;
export const ET_HASH_GONE = 2;
export const ET_HASH_TOO_LARGE = 3;
export const ET_HASH_BACKLOG = 4;
export const ET_HASH_LATE = 5;
export const ET_HASH_CHANGED = 6;
export const ET_HASH_UNREADABLE = 7;
/** The `enums.status` of the hash record type: value → name. */
export const HASH_STATUS: Record<number, string> = {
  [ET_HASH_OK]: 'ok', [ET_HASH_REPLACED]: 'replaced', [ET_HASH_GONE]: 'gone', [ET_HASH_TOO_LARGE]: 'too_large',
  [ET_HASH_BACKLOG]: 'backlog', [ET_HASH_LATE]: 'late', [ET_HASH_CHANGED]: 'changed', [ET_HASH_UNREADABLE]: 'unreadable',
};

// et_fork.fork_flags: what the child shares with the task that forked it.
/** The descriptor table (CLONE_FILES). */
export const ET_FORK_FILES = 1 << 0;
/** The cwd and root (CLONE_FS). */
export const ET_FORK_FS = 1 << 1;

// et_fd (formats/trace-format.md §10.18).
/** et_fd.fd of a record that describes the working directory, not a descriptor. */
export const ET_FD_CWD = -100;
/** et_fd.nr of the records the snapshot_fds iterator writes (the descriptors open at start). */
export const ET_FD_SNAPSHOT = 0xffffffff;
// et_fd.fd_flags
/** Closed at exec (FD_CLOEXEC). */
export const ET_FD_CLOEXEC = 1 << 0;
/** The file's name is unlinked: readlink adds " (deleted)". */
export const ET_FD_DELETED = 1 << 1;
/** `path` holds the path's components, leaf first, up to the process's root. */
export const ET_FD_PATH = 1 << 2;
/** The path walk stopped at its limit: leading components are missing. */
export const ET_FD_PATH_TRUNCATED = 1 << 3;
/** `path` holds one name: a pseudo file's (an anon inode's dentry name, an nsfs file's namespace type). */
export const ET_FD_NAME = 1 << 4;
/** The `fd_flags` metadata a recording writes: name → bit. */
export const FD_FLAGS = {
  cloexec: ET_FD_CLOEXEC, deleted: ET_FD_DELETED, path: ET_FD_PATH, path_truncated: ET_FD_PATH_TRUNCATED, name: ET_FD_NAME,
};
// et_sysdesc.fd_how: which descriptor sys_exit describes in an et_fd after a successful call.
export const ET_FDS_NONE = 0;
/** The return value: open, socket, accept, dup … */
export const ET_FDS_RET = 1;
/** Argument fd_arg, after the call (0 or -EINPROGRESS): connect, bind. */
export const ET_FDS_ARG = 2;
/** The two ints argument fd_arg points to: pipe, socketpair. */
export const ET_FDS_PAIR = 3;
/** The working directory: chdir, fchdir. */
export const ET_FDS_CWD = 4;
/** Descriptors snapshot_fds describes per process at most. */
export const SNAP_FDS_MAX = 4096;

/** Path components of cwd the kernel reads at exec. */
export const ET_CWD_DEPTH = 48;

/** Arguments per syscall in et_sysdesc.args, et_sys_enter.args, et_sys_exit.args. */
export const ET_SYS_NARGS = 6;
/** Syscall numbers 0 .. ET_SYSCALL_MAX-1 can be traced (entries of the `sys_descs` map). */
export const ET_SYSCALL_MAX = 512;
/** Ceiling of one captured string (the max_str option may only be lower). */
export const ET_STR_MAX = 4096;
/** Ceiling of one captured buffer or struct (the max_bytes option, --bytes, may only be lower). */
export const ET_BYTES_MAX = 4096;
/** Bytes of one socket address capture: sizeof(struct sockaddr_storage). */
export const ET_SOCKADDR_MAX = 128;
/** Bytes of one fd_set capture: FD_SETSIZE (1024) descriptors. */
export const ET_FDSET_MAX = 128;
/** Elements of one array capture (pollfd, epoll_event). */
export const ET_ARRAY_MAX = 64;
/** Elements of an iovec vector a capture describes. */
export const ET_IOV_MAX = 32;
/** --comm values the kernel filter holds. */
export const ET_COMM_FILTERS = 16;
/** Bytes of a task's comm, NUL included. */
export const ET_COMM_LEN = 16;

// enum et_arg_kind: what is captured from the memory an argument points to.
export const ET_ARG_VALUE = 0;
export const ET_ARG_STR = 1;
export const ET_ARG_BUF = 2;
export const ET_ARG_STRUCT = 3;
export const ET_ARG_SOCKADDR = 4;
export const ET_ARG_FDSET = 5;
export const ET_ARG_ARRAY = 6;
export const ET_ARG_IOVEC = 7;
export const ET_ARG_MSGHDR = 8;

// et_argdesc.flags
/** Captured at exit (an output); else at entry. */
export const ET_ARG_OUT = 1 << 0;
/** The capture's length is the value of argument len_arg. */
export const ET_ARG_LEN_ARG = 1 << 1;
/** At exit, at most ret bytes (none when ret < 0); an array: ret elements. */
export const ET_ARG_LEN_RET = 1 << 2;
/** Argument len_arg points to the length (an int): read at exit, at most its value at entry. */
export const ET_ARG_LEN_PTR = 1 << 3;
/** Captured at entry, and again at exit. */
export const ET_ARG_INOUT = 1 << 4;
/** The length argument is a 32-bit int: its low half, none when negative. */
export const ET_ARG_LEN32 = 1 << 5;

// et_sysdesc.flags
/** Record this syscall. */
export const ET_SYSD_TRACE = 1 << 0;
/** Has entry captures: the kernel writes an et_sys_enter. */
export const ET_SYSD_HAS_IN = 1 << 1;
/** Never returns on success (exit, exit_group): the kernel writes an et_sys_enter. */
export const ET_SYSD_NORETURN = 1 << 2;
/** May change the task's context: the kernel checks it after the call and writes an et_task_ctx. */
export const ET_SYSD_CTX = 1 << 3;
/** At entry, the kernel keeps the int at args[pre_arg] + pre_off (an output buffer's size) for the exit capture. */
export const ET_SYSD_PRE = 1 << 4;
/** Has exit captures (out or inout). */
export const ET_SYSD_HAS_OUT = 1 << 5;
