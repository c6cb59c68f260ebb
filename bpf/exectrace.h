/* SPDX-License-Identifier: MIT */
/*
 * Wire records shared by exectrace.bpf.c (which writes them into the ring
 * buffer) and the recorder (which copies them, unparsed, into trace files).
 *
 * The decoder never hard-codes these offsets: the recorder reads the layout of
 * every struct named et_* below from this object's BTF and stores it in the
 * trace file. So: fixed-width types only, explicit padding, and a size check
 * on each struct. Renaming or reordering fields is allowed (old files carry
 * their own layout); changing the meaning of a field is not.
 *
 * Variable-length tails: a record whose struct ends in `__u8 tail[]` is
 * followed by segments, in the order of its `<segment>_len` fields; each
 * length counts the bytes actually stored (strings include their NUL).
 */
#ifndef EXECTRACE_H
#define EXECTRACE_H

#define ET_COMM_LEN 16

/* Compile-time ceilings; the runtime limits (rodata) may only be lower. */
#define ET_PATH_MAX 4096          /* filename and interp segments */
#define ET_ARGS_MAX (128 * 1024)  /* argv bytes of one exec; power of two */
#define ET_ARGV_PTRS_MAX 1024     /* argv pointers read for a failed exec */

enum et_type {
	ET_EXEC = 1,        /* successful exec, argv read from the new image */
	ET_EXEC_FAILED = 2, /* execve/execveat that returned an error */
	ET_FORK = 3,        /* a new process (not a new thread) */
	ET_EXIT = 4,        /* a process (thread group leader) exited */
	ET_LOST = 5,        /* written by the recorder, never by BPF */
	ET_SYS_ENTER = 6,   /* syscall entry: only for calls with entry captures or no return */
	ET_SYS_EXIT = 7,    /* syscall exit: args, ret, duration, output captures */
	ET_TASK = 8,        /* a task's context: when first seen, and after it may have changed */
	ET_HASH = 9,        /* written by the recorder, never by BPF: an exec's file's SHA-256 */
	ET_FD = 10,         /* what a descriptor (or the cwd) refers to: after a call that made or
	                     * changed it, just before its et_sys_exit; at start, from snapshot_fds */
	ET_TYPE_MAX = 11,
};

/* et_header.flags */
#define ET_F_TRUNCATED (1u << 0) /* a tail segment was cut at its limit */
#define ET_F_NO_ENTER (1u << 1)  /* sys_exit without its entry (the call began before recording) */
#define ET_F_INFLIGHT (1u << 2)  /* written by the recorder: still in the call when recording stopped */

/* et_exec_failed.syscall */
#define ET_SYS_EXECVE 1
#define ET_SYS_EXECVEAT 2

struct et_header {
	__u16 type;   /* enum et_type */
	__u16 flags;  /* ET_F_* */
	__u32 size;   /* whole record: header, body and tail */
	__u64 ts_ns;  /* bpf_ktime_get_boot_ns() */
	__u32 pid;    /* thread-group id */
	__u32 tid;
	__u32 cpu;
	__u32 _pad0;
};

/* Who a task is, read from task_struct at the moment of the event. */
struct et_task {
	__u32 ppid;      /* real_parent's thread-group id */
	__u32 uid;
	__u32 gid;
	__u32 euid;
	__u32 egid;
	__u32 loginuid;  /* 4294967295 when unset */
	__u32 sessionid; /* 4294967295 when unset */
	__u32 _pad0;
	__u64 cgroup_id; /* default hierarchy (cgroup v2) */
	/* The identity of the image the process runs (formats/trace-format.md,
	 * "exec_id"): its start and its exec count, read from the thread-group
	 * leader, and the same two of the real parent's process. */
	__u64 start_ns;        /* leader's start_boottime (boot clock) */
	__u64 exec_seq;        /* leader's self_exec_id: +1 at each exec, inherited at fork */
	__u64 parent_start_ns; /* real_parent's leader's start_boottime */
	__u64 parent_exec_seq; /* real_parent's leader's self_exec_id, now */
	__u32 ns_pid;    /* namespace inode numbers */
	__u32 ns_mnt;
	__u32 ns_net;
	__u32 ns_uts;
	__u32 ns_ipc;
	__u32 ns_user;
	__u32 ns_cgroup;
	__u32 _pad1;
	char comm[ET_COMM_LEN];
};

/* et_exec.exec_flags */
#define ET_EXEC_DELETED (1u << 0)        /* the image's file had no links left (run, then removed) */
#define ET_EXEC_MEMFD (1u << 1)          /* the image is a memfd (memfd_create + fexecve) */
#define ET_EXEC_SETUID (1u << 2)         /* the file's mode has S_ISUID */
#define ET_EXEC_SETGID (1u << 3)         /* the file's mode has S_ISGID */
#define ET_EXEC_PRIVILEGED (1u << 4)     /* the exec changed ids or gained capabilities (AT_SECURE) */
#define ET_EXEC_CWD (1u << 5)            /* cwd was read (no components: the root) */
#define ET_EXEC_CWD_TRUNCATED (1u << 6)  /* the cwd walk stopped at its limit: leading components are missing */
#define ET_EXEC_KNOWN (1u << 7)          /* the recorder had already hashed this file identity (hashed_files) */

#define ET_CWD_DEPTH 48  /* path components of cwd read at exec */

/* The image's file, from its inode at exec (bprm->file: a script's interpreter). */
struct et_file {
	__u64 ino;
	__u64 size;
	__u64 mtime_ns; /* since the epoch */
	__u64 ctime_ns;
	__u32 dev;      /* st_dev as stat(2) encodes it */
	__u32 mode;     /* st_mode */
	__u32 uid;
	__u32 gid;
	__u32 nlink;
	__u32 _pad0;
};

struct et_exec {
	struct et_header hdr;
	struct et_task task;
	struct et_file file;
	__u32 exec_flags;   /* ET_EXEC_* */
	char parent_comm[ET_COMM_LEN];
	__u32 old_tid;      /* the thread that called exec (differs for non-leaders) */
	__u32 argc;         /* linux_binprm.argc: the real count, never truncated */
	__u32 args_size;    /* mm->arg_end - mm->arg_start: the real argv size */
	__u32 filename_len; /* tail segment: bprm->filename */
	__u32 interp_len;   /* tail segment: bprm->interp (differs for scripts) */
	__u32 args_len;     /* tail segment: NUL-separated argv from mm->arg_start */
	__u32 cwd_len;      /* tail segment: cwd's components from the cwd up to the
	                     * process's root, NUL-separated (ET_EXEC_CWD) */
	__u8 tail[];
};

struct et_exec_failed {
	struct et_header hdr;
	struct et_task task;
	__s32 error_code;   /* negative errno returned by the syscall */
	__u32 syscall;      /* ET_SYS_EXECVE or ET_SYS_EXECVEAT */
	__s32 dfd;          /* execveat's dirfd; -100 (AT_FDCWD) for execve */
	__u32 at_flags;     /* execveat's flags; 0 for execve */
	__u32 argc;         /* argv strings in the tail, the last one possibly cut (the walk
	                     * stops at NULL, a limit or an unreadable pointer) */
	__u32 filename_len; /* tail segment: the filename argument */
	__u32 args_len;     /* tail segment: NUL-separated argv as passed */
	__u32 _pad0;
	__u8 tail[];
};

/* et_fork.fork_flags: what the child shares with the task that forked it
 * (read from the two tasks, so it holds whatever clone flags were used) */
#define ET_FORK_FILES (1u << 0) /* the descriptor table (CLONE_FILES) */
#define ET_FORK_FS (1u << 1)    /* the cwd and root (CLONE_FS) */

struct et_fork {
	struct et_header hdr; /* pid/tid: the child */
	struct et_task task;  /* the child's context; task.ppid is the parent */
	__u32 parent_tid;     /* the thread that forked */
	__u32 fork_flags;     /* ET_FORK_* */
};

/* The process ended: written by its last thread to exit (hdr.tid), after every
 * call of the process (not when the leader is only replaced by a sibling
 * thread's exec). task is that thread's, but comm, the leader's. */
struct et_exit {
	struct et_header hdr;
	struct et_task task;
	__u32 exit_code;        /* as wait() reports it: status << 8 | 0x80 core | signal */
	__u32 nr_threads;       /* signal->nr_threads at exit, this thread included */
	__u64 running_time_ns;  /* now - task->start_boottime */
};

/* Written by the recorder when a per-CPU lost counter grows. */
struct et_lost {
	struct et_header hdr;   /* pid/tid 0; cpu: where the loss was counted */
	__u32 event_type;       /* enum et_type of the lost records */
	__u32 nr;               /* ET_SYS_EXIT losses: the syscall number; else 0 */
	__u64 count;
	__u64 window_start_ns;  /* the loss happened after this boot-clock time */
	__u64 window_end_ns;    /* and before this one */
};

/* et_hash.status: why an exec has no digest (0: it has one). */
enum et_hash_status {
	ET_HASH_OK = 0,
	ET_HASH_REPLACED = 1,   /* a file was found, but not the one that ran, and the process was gone */
	ET_HASH_GONE = 2,       /* neither the process nor the path could be opened */
	ET_HASH_TOO_LARGE = 3,  /* larger than the recorder's --hash-max */
	ET_HASH_BACKLOG = 4,    /* the recorder's queue of files to hash was full */
	ET_HASH_LATE = 5,       /* not hashed by the time its chunk had to be written */
	ET_HASH_CHANGED = 6,    /* the file changed while it was being read */
	ET_HASH_UNREADABLE = 7, /* an I/O or permission error */
};

/* Key of the map `hashed_files`: a file identity the recorder has hashed
 * (et_file's dev, ino, size, mtime_ns, ctime_ns), so an exec of it needs
 * neither an early wakeup nor /proc/PID/exe. */
struct et_file_key {
	__u64 ino;
	__u64 size;
	__u64 mtime_ns;
	__u64 ctime_ns;
	__u32 dev;
	__u32 _pad0;
};

/* Written by the recorder just before the exec record it describes, in the
 * same chunk: the SHA-256 of the file the exec ran (et_exec.file), read from
 * a descriptor whose fstat matched what the kernel recorded. The header is
 * the exec's (ts_ns, pid, tid, cpu). */
struct et_hash {
	struct et_header hdr;
	__u64 start_ns;  /* the exec's task.start_ns and task.exec_seq: which exec */
	__u64 exec_seq;
	__u32 status;    /* enum et_hash_status */
	__u32 _pad0;
	__u8 sha256[32]; /* zero unless status is ET_HASH_OK */
};

/* Value of the per-CPU arrays `counters` (indexed by enum et_type) and
 * `sys_counters` (indexed by syscall number; counts sys_exit records). */
struct et_counter {
	__u64 sent;     /* records handed to the ring buffer */
	__u64 lost;     /* records the ring buffer refused (full) */
	__u64 filtered; /* records not written because a filter excluded them */
};

/* ---- syscalls ---------------------------------------------------------- */

#define ET_SYS_NARGS 6
#define ET_SYSCALL_MAX 512   /* syscall numbers traced: 0 .. ET_SYSCALL_MAX-1 */
#define ET_STR_MAX 4096      /* ceiling of one captured string */
#define ET_BYTES_MAX 4096    /* ceiling of one captured buffer or struct (--bytes) */
#define ET_SOCKADDR_MAX 128  /* bytes of one socket address: sizeof(struct sockaddr_storage) */
#define ET_FDSET_MAX 128     /* bytes of one fd_set capture: FD_SETSIZE (1024) descriptors */
#define ET_ARRAY_MAX 64      /* elements of one array capture (pollfd, epoll_event) */
#define ET_IOV_MAX 32        /* elements of an iovec vector described (the data may come from fewer) */
#define ET_COMM_FILTERS 16   /* --comm values */
#define ET_UID_FILTERS 64    /* --uid values */

/* et_argdesc.kind: what is captured from the memory an argument points to */
enum et_arg_kind {
	ET_ARG_VALUE = 0,  /* nothing: the register value only */
	ET_ARG_STR = 1,    /* NUL-terminated string, up to max_str bytes */
	ET_ARG_BUF = 2,    /* bytes, length from len_arg and/or ret, up to max_bytes */
	ET_ARG_STRUCT = 3, /* `size` bytes (a struct whose layout is in the file's metadata) */
	ET_ARG_SOCKADDR = 4, /* a socket address: length from len_arg (LEN_PTR: the int it points to), at most `size` */
	ET_ARG_FDSET = 5,  /* an fd_set: (value of len_arg + 7) / 8 bytes, at most `size` */
	ET_ARG_ARRAY = 6,  /* elements of `elem` bytes, as many as len_arg's value (or ret), at most `size` bytes */
	ET_ARG_IOVEC = 7,  /* an iovec vector of len_arg's value elements: the elements, and the first bytes across them */
	ET_ARG_MSGHDR = 8, /* a user_msghdr, the address at its msg_name and an iovec capture of its msg_iov */
};

/* et_argdesc.flags */
#define ET_ARG_OUT (1u << 0)     /* captured at exit (an output); else at entry */
#define ET_ARG_LEN_ARG (1u << 1) /* length is the value of argument len_arg */
#define ET_ARG_LEN_RET (1u << 2) /* at exit, at most ret bytes (ret < 0: none); ARRAY: ret elements */
#define ET_ARG_LEN_PTR (1u << 3) /* len_arg points to the length (an int): read at exit, at most its value at entry */
#define ET_ARG_INOUT (1u << 4)   /* captured at entry, and again at exit (the memory after the call) */
#define ET_ARG_LEN32 (1u << 5)   /* the length argument is a 32-bit int: its low half, none when negative */

struct et_argdesc {
	__u8 kind;    /* enum et_arg_kind */
	__u8 flags;   /* ET_ARG_* */
	__u8 len_arg; /* index of the argument holding the length (or element count) */
	__u8 elem;    /* ET_ARG_ARRAY: bytes of one element */
	__u32 size;   /* STRUCT, MSGHDR: bytes of the struct; SOCKADDR, FDSET, ARRAY: most bytes captured */
};

/* et_sysdesc.flags */
#define ET_SYSD_TRACE (1u << 0)    /* record this syscall */
#define ET_SYSD_HAS_IN (1u << 1)   /* has entry captures: write an et_sys_enter */
#define ET_SYSD_NORETURN (1u << 2) /* never returns on success (exit, exit_group): write an et_sys_enter */
#define ET_SYSD_CTX (1u << 3)      /* may change the task's context (setuid, unshare, setns …) */
#define ET_SYSD_PRE (1u << 4)      /* at entry, keep the int at args[pre_arg] + pre_off (an output's buffer size) */
#define ET_SYSD_HAS_OUT (1u << 5)  /* has exit captures (out or inout) */

/* et_sysdesc.fd_how: which descriptor sys_exit describes in an et_fd, written
 * just before the call's et_sys_exit, when the call succeeded */
#define ET_FDS_NONE 0
#define ET_FDS_RET 1  /* the return value (>= 0): open, socket, accept, dup, pipe-less fd makers */
#define ET_FDS_ARG 2  /* argument fd_arg, after the call (0 or -EINPROGRESS): connect, bind */
#define ET_FDS_PAIR 3 /* the two ints argument fd_arg points to (ret 0): pipe, socketpair */
#define ET_FDS_CWD 4  /* the working directory (ret 0): chdir, fchdir */

/* Value of the array `sys_descs`, indexed by syscall number; filled by the recorder. */
struct et_sysdesc {
	__u32 flags;   /* ET_SYSD_* */
	__u8 pre_arg;  /* ET_SYSD_PRE: the argument pointing to the int */
	__u8 pre_off;  /* ET_SYSD_PRE: the int's offset there */
	__u8 fd_how;   /* ET_FDS_* */
	__u8 fd_arg;   /* ET_FDS_ARG, ET_FDS_PAIR: the argument's index */
	struct et_argdesc args[ET_SYS_NARGS];
};

struct et_sys_enter {
	struct et_header hdr;          /* ts_ns: entry */
	__u32 nr;
	__u32 cut;                     /* bit i: argument i's capture was cut at its limit */
	__u64 args[ET_SYS_NARGS];
	__u32 seg_len[ET_SYS_NARGS];   /* bytes of argument i's entry capture in the tail */
	__u8 tail[];                   /* entry captures, in argument order */
};

struct et_sys_exit {
	struct et_header hdr;          /* ts_ns: exit */
	__u32 nr;
	__u32 cut;                     /* bit i: argument i's capture was cut at its limit */
	__s64 ret;
	__u64 enter_ts_ns;             /* 0 when the entry was not seen (ET_F_NO_ENTER) */
	__u64 args[ET_SYS_NARGS];      /* as they were at entry */
	__u32 seg_len[ET_SYS_NARGS];   /* bytes of argument i's exit capture in the tail */
	__u8 tail[];                   /* exit captures, in argument order */
};

struct et_task_ctx {
	struct et_header hdr;
	struct et_task task;
};

/* et_fd.fd: not a descriptor but the process's working directory */
#define ET_FD_CWD (-100)
/* et_fd.nr in the records of snapshot_fds (the descriptors open at start) */
#define ET_FD_SNAPSHOT 0xffffffffu

/* et_fd.fd_flags */
#define ET_FD_CLOEXEC (1u << 0)        /* closed at exec (FD_CLOEXEC) */
#define ET_FD_DELETED (1u << 1)        /* its name is unlinked (readlink adds " (deleted)") */
#define ET_FD_PATH (1u << 2)           /* `path`: its components, leaf first, up to the root */
#define ET_FD_PATH_TRUNCATED (1u << 3) /* the walk stopped at its limit: leading ones missing */
#define ET_FD_NAME (1u << 4)           /* `path`: one name, a pseudo file's (anon inode, nsfs) */

/*
 * What descriptor fd of process hdr.pid refers to, read from its file in the
 * kernel: the inode (what stat(2) gives), the superblock's magic (which pseudo
 * filesystem: pipe, socket, anon inode ...), the path as the kernel resolved it
 * (the dentries walked up to the process's root, as readlink of
 * /proc/PID/fd/N gives it), and for a socket both ends as the kernel holds them.
 */
struct et_fd {
	struct et_header hdr;   /* the call's exit time, pid, tid (snapshot: when read) */
	__u64 enter_ts_ns;      /* the call's entry, as its et_sys_exit.enter_ts_ns; 0 in the snapshot */
	__u32 nr;               /* the call's syscall number; ET_FD_SNAPSHOT at start */
	__s32 fd;               /* the descriptor; ET_FD_CWD: the working directory */
	__u32 fd_flags;         /* ET_FD_* */
	__u32 f_flags;          /* file->f_flags: O_ACCMODE, O_APPEND, O_NONBLOCK ... */
	__u64 ino;
	__u32 dev;              /* st_dev as stat(2) encodes it */
	__u32 rdev;             /* st_rdev */
	__u32 mode;             /* st_mode */
	__u32 nlink;
	__u64 magic;            /* the superblock's s_magic */
	/* a socket (sockfs): */
	__u16 family;           /* AF_* */
	__u16 sock_type;        /* SOCK_* */
	__u16 protocol;         /* IPPROTO_*, NETLINK_* ... */
	__u8 state;             /* skc_state (TCP_ESTABLISHED ...) */
	__u8 _pad0;
	__u16 local_port;       /* inet: host order */
	__u16 peer_port;
	__u32 portid;           /* netlink: the socket's port id (0: not bound) */
	__u8 local_addr[16];    /* inet: 4 (AF_INET) or 16 bytes, network order */
	__u8 peer_addr[16];
	__u64 peer_ino;         /* unix: the peer socket's inode (0: none, or not accepted yet) */
	__u32 pidfd_pid;        /* a pidfd: its process's pid (initial namespace) */
	__u32 path_len;         /* tail segment: ET_FD_PATH components or ET_FD_NAME's name */
	__u32 addr_len;         /* tail segment: unix: the bound address's sun_path bytes (an
				 * abstract one starts with NUL) */
	__u32 _pad1;
	__u8 tail[];
};

/* What the iter/task program writes for each process when recording starts,
 * read by the recorder to give the snapshot's processes their exec_id. */
struct et_snap {
	__u32 pid;          /* tgid */
	__u32 ppid;         /* real_parent's tgid */
	__u64 start_ns;
	__u64 exec_seq;
	__u64 parent_start_ns;
	__u64 parent_exec_seq;
};

/* ---- record --stats-only ---------------------------------------------- */

/* Key of the hash map `exec_counts`: execs counted in the kernel, per process
 * and the name of the image it runs, in place of exec records. gen is the
 * interval's generation (exec_count_gen), so that the recorder reads and
 * deletes a closed interval's entries while the programs count into the
 * other one. */
struct et_exec_count_key {
	__u32 pid;              /* thread-group id */
	__u32 gen;              /* 0 or 1 */
	char comm[ET_COMM_LEN]; /* the new image's comm; the caller's for a failed exec */
};

struct et_exec_count {
	__u64 execs;  /* successful execs */
	__u64 failed; /* execs that returned an error */
};

/* C++ (the native addon) spells it static_assert; _Static_assert is C only. */
#if defined(__cplusplus)
#define ET_STATIC_ASSERT static_assert
#elif defined(__clang__) || defined(__GNUC__) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L)
#define ET_STATIC_ASSERT _Static_assert
#endif
#ifdef ET_STATIC_ASSERT
ET_STATIC_ASSERT(sizeof(struct et_header) == 32, "et_header size");
ET_STATIC_ASSERT(sizeof(struct et_task) == 120, "et_task size");
ET_STATIC_ASSERT(sizeof(struct et_exec) == 256, "et_exec size");
ET_STATIC_ASSERT(sizeof(struct et_exec_failed) == 184, "et_exec_failed size");
ET_STATIC_ASSERT(sizeof(struct et_fork) == 160, "et_fork size");
ET_STATIC_ASSERT(sizeof(struct et_exit) == 168, "et_exit size");
ET_STATIC_ASSERT(sizeof(struct et_file) == 56, "et_file size");
ET_STATIC_ASSERT(sizeof(struct et_snap) == 40, "et_snap size");
ET_STATIC_ASSERT(sizeof(struct et_lost) == 64, "et_lost size");
ET_STATIC_ASSERT(sizeof(struct et_hash) == 88, "et_hash size");
ET_STATIC_ASSERT(sizeof(struct et_file_key) == 40, "et_file_key size");
ET_STATIC_ASSERT(sizeof(struct et_counter) == 24, "et_counter size");
ET_STATIC_ASSERT(sizeof(struct et_sysdesc) == 56, "et_sysdesc size");
ET_STATIC_ASSERT(sizeof(struct et_sys_enter) == 112, "et_sys_enter size");
ET_STATIC_ASSERT(sizeof(struct et_sys_exit) == 128, "et_sys_exit size");
ET_STATIC_ASSERT(sizeof(struct et_task_ctx) == 152, "et_task_ctx size");
ET_STATIC_ASSERT(sizeof(struct et_fd) == 160, "et_fd size");
ET_STATIC_ASSERT(sizeof(struct et_exec_count_key) == 24, "et_exec_count_key size");
ET_STATIC_ASSERT(sizeof(struct et_exec_count) == 16, "et_exec_count size");
#undef ET_STATIC_ASSERT
#endif

#endif /* EXECTRACE_H */
