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
	ET_TYPE_MAX = 6,
};

/* et_header.flags */
#define ET_F_TRUNCATED (1u << 0) /* a tail segment was cut at its limit */

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

struct et_exec {
	struct et_header hdr;
	struct et_task task;
	char parent_comm[ET_COMM_LEN];
	__u32 old_tid;      /* the thread that called exec (differs for non-leaders) */
	__u32 argc;         /* linux_binprm.argc: the real count, never truncated */
	__u32 args_size;    /* mm->arg_end - mm->arg_start: the real argv size */
	__u32 filename_len; /* tail segment: bprm->filename */
	__u32 interp_len;   /* tail segment: bprm->interp (differs for scripts) */
	__u32 args_len;     /* tail segment: NUL-separated argv from mm->arg_start */
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

struct et_fork {
	struct et_header hdr; /* pid/tid: the child */
	struct et_task task;  /* the child's context; task.ppid is the parent */
	__u32 parent_tid;     /* the thread that forked */
	__u32 _pad0;
};

/* The thread-group leader exited (not when it is only being replaced by a
 * sibling thread's exec). */
struct et_exit {
	struct et_header hdr;
	struct et_task task;
	__u32 exit_code;        /* task->exit_code: status << 8 | 0x80 core | signal */
	__u32 nr_threads;       /* signal->nr_threads at exit, this thread included */
	__u64 running_time_ns;  /* now - task->start_boottime */
};

/* Written by the recorder when a per-CPU lost counter grows. */
struct et_lost {
	struct et_header hdr;   /* pid/tid 0; cpu: where the loss was counted */
	__u32 event_type;       /* enum et_type of the lost records */
	__u32 _pad0;
	__u64 count;
	__u64 window_start_ns;  /* the loss happened after this boot-clock time */
	__u64 window_end_ns;    /* and before this one */
};

/* Value of the per-CPU array `counters`, indexed by enum et_type. */
struct et_counter {
	__u64 sent; /* records handed to the ring buffer */
	__u64 lost; /* records the ring buffer refused (full) */
};

/* C++ (the native addon) spells it static_assert; _Static_assert is C only. */
#if defined(__cplusplus)
#define ET_STATIC_ASSERT static_assert
#elif defined(__clang__) || defined(__GNUC__) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L)
#define ET_STATIC_ASSERT _Static_assert
#endif
#ifdef ET_STATIC_ASSERT
ET_STATIC_ASSERT(sizeof(struct et_header) == 32, "et_header size");
ET_STATIC_ASSERT(sizeof(struct et_task) == 88, "et_task size");
ET_STATIC_ASSERT(sizeof(struct et_exec) == 160, "et_exec size");
ET_STATIC_ASSERT(sizeof(struct et_exec_failed) == 152, "et_exec_failed size");
ET_STATIC_ASSERT(sizeof(struct et_fork) == 128, "et_fork size");
ET_STATIC_ASSERT(sizeof(struct et_exit) == 136, "et_exit size");
ET_STATIC_ASSERT(sizeof(struct et_lost) == 64, "et_lost size");
ET_STATIC_ASSERT(sizeof(struct et_counter) == 16, "et_counter size");
#undef ET_STATIC_ASSERT
#endif

#endif /* EXECTRACE_H */
