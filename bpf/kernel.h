/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * The few kernel types exectrace.bpf.c reads, declared by hand instead of a
 * generated vmlinux.h.
 *
 * Every struct carries preserve_access_index, so each field access becomes a
 * CO-RE relocation that libbpf resolves against the running kernel's BTF at
 * load time: a field's offset comes from the kernel, never from this file.
 * What this file must get right is the field names and their types (the size
 * of a field read with BPF_CORE_READ is taken from here); member order and
 * the members we leave out do not matter. Field types follow Linux 6.18
 * (checked against /sys/kernel/btf/vmlinux).
 *
 * Also here: the fixed-width typedefs and the UAPI constants that libbpf's
 * bpf_helpers.h and our maps need, with the values of include/uapi/linux/bpf.h
 * (a stable ABI).
 */
#ifndef EXECTRACE_KERNEL_H
#define EXECTRACE_KERNEL_H

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;

typedef _Bool bool;
enum { false = 0, true = 1 };

typedef int pid_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;

/* ---- UAPI: include/uapi/linux/bpf.h ---- */

enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_RINGBUF = 27,
	BPF_MAP_TYPE_TASK_STORAGE = 29,
};

/* bpf_map_update_elem() flags */
enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
};

/* map_flags */
enum {
	BPF_F_NO_PREALLOC = (1U << 0),
	BPF_F_RDONLY_PROG = (1U << 7), /* programs may read the map, not write it */
};

/* bpf_task_storage_get() flags */
enum {
	BPF_LOCAL_STORAGE_GET_F_CREATE = (1ULL << 0),
};

/* bpf_ringbuf_output/submit() flags */
enum {
	BPF_RB_NO_WAKEUP = (1ULL << 0),
	BPF_RB_FORCE_WAKEUP = (1ULL << 1),
};

/* bpf_ringbuf_query() flags */
enum {
	BPF_RB_AVAIL_DATA = 0,
	BPF_RB_RING_SIZE = 1,
	BPF_RB_CONS_POS = 2,
	BPF_RB_PROD_POS = 3,
};

/* Opaque to programs; the verifier tracks it on the stack. */
struct bpf_dynptr {
	__u64 __opaque[2];
} __attribute__((aligned(8)));

/* ---- kernel types (CO-RE) ---- */

#define __core __attribute__((preserve_access_index))

typedef struct {
	uid_t val;
} kuid_t;

typedef struct {
	gid_t val;
} kgid_t;

/* include/linux/ns_common.h: 6.18 added ns_type, ns_id, ... before and
 * after inum; only inum (the inode number of /proc/<pid>/ns/<type>) is read. */
struct proc_ns_operations {
	const char *name; /* "net", "mnt" ...: what readlink of an nsfs file starts with */
} __core;

struct ns_common {
	const struct proc_ns_operations *ops;
	unsigned int inum;
} __core;

struct pid_namespace {
	unsigned int level;            /* 0: the initial namespace */
	struct pid_namespace *parent;
	struct ns_common ns;
} __core;

struct mnt_namespace {
	struct ns_common ns;
} __core;

struct net {
	struct ns_common ns;
} __core;

struct uts_namespace {
	struct ns_common ns;
} __core;

struct ipc_namespace {
	struct ns_common ns;
} __core;

struct user_namespace {
	struct ns_common ns;
} __core;

struct cgroup_namespace {
	struct ns_common ns;
} __core;

struct nsproxy {
	struct uts_namespace *uts_ns;
	struct ipc_namespace *ipc_ns;
	struct mnt_namespace *mnt_ns;
	struct pid_namespace *pid_ns_for_children;
	struct net *net_ns;
	struct cgroup_namespace *cgroup_ns;
} __core;

/* include/linux/pid.h: numbers[level] is the pid in the namespace the task
 * lives in (task_active_pid_ns()), numbers[0] the one in the init ns. */
struct upid {
	int nr;
	struct pid_namespace *ns;
} __core;

struct pid {
	unsigned int level;
	struct upid numbers[1];
} __core;

struct cred {
	kuid_t uid;
	kgid_t gid;
	kuid_t euid;
	kgid_t egid;
	struct user_namespace *user_ns;
} __core;

struct kernfs_node {
	__u64 id; /* the cgroup id of a cgroup's directory */
} __core;

/* include/linux/cgroup-defs.h: ancestors[level] is the cgroup itself,
 * ancestors[0] the root (6.1+; declared [1], indexed by level). */
struct cgroup {
	int level;
	struct kernfs_node *kn;
	struct cgroup *ancestors[1];
} __core;

/* Before 6.1 the ancestors were kept by id. */
struct cgroup___pre_6_1 {
	__u64 ancestor_ids[1];
} __core;

struct css_set {
	struct cgroup *dfl_cgrp; /* this task's cgroup in the v2 hierarchy */
} __core;

typedef struct {
	int counter;
} atomic_t;

struct signal_struct {
	atomic_t live;   /* threads not yet in do_exit(): 0 once the last one is */
	int nr_threads;
	int group_exit_code; /* the status of a group exit (exit_group, a fatal signal) */
	unsigned int flags;  /* SIGNAL_* */
} __core;

/* include/linux/sched/signal.h */
#define SIGNAL_GROUP_EXIT 0x00000004 /* group_exit_code is the process's status */

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
} __core;

/* include/linux/fs.h, dcache.h, mount.h: what the exec's file and the cwd
 * walk read. Inode times changed shape twice: 6.11+ keep seconds and
 * nanoseconds apart (i_mtime_sec, i_mtime_nsec); 6.6-6.10 keep a timespec64
 * named __i_mtime / __i_ctime; before, i_mtime / i_ctime. */
struct timespec64 {
	__s64 tv_sec;
	long tv_nsec;
};

struct super_block {
	__u32 s_dev; /* kernel encoding: major << 20 | minor */
	unsigned long s_magic; /* which filesystem: pipefs, sockfs, anon_inodefs ... */
} __core;

struct inode {
	unsigned short i_mode;
	__u32 i_rdev;      /* kernel encoding, as s_dev */
	void *i_private;   /* nsfs: the namespace's ns_common */
	kuid_t i_uid;
	kgid_t i_gid;
	struct super_block *i_sb;
	unsigned long i_ino;
	unsigned int __i_nlink;
	__s64 i_size;
	__s64 i_mtime_sec;
	__s64 i_ctime_sec;
	__u32 i_mtime_nsec;
	__u32 i_ctime_nsec;
} __core;

struct inode___timespec {
	struct timespec64 __i_mtime;
	struct timespec64 __i_ctime;
} __core;

struct inode___old {
	struct timespec64 i_mtime;
	struct timespec64 i_ctime;
} __core;

struct qstr {
	__u32 len;
	const unsigned char *name;
} __core;

struct hlist_bl_node {
	struct hlist_bl_node *next, **pprev; /* pprev NULL: unhashed */
} __core;

struct dentry;

struct dentry_operations {
	char *(*d_dname)(struct dentry *, char *, int); /* set: a pseudo file, named on demand */
} __core;

struct dentry {
	struct hlist_bl_node d_hash;
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
	const struct dentry_operations *d_op;
} __core;

struct vfsmount {
	struct dentry *mnt_root;
} __core;

/* fs/mount.h: a vfsmount is the `mnt` member of its struct mount. */
struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
} __core;

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
} __core;

struct fs_struct {
	struct path root;
	struct path pwd;
} __core;

struct file {
	struct path f_path;
	struct inode *f_inode;
	unsigned int f_flags;
	void *private_data; /* sockfs: its struct socket; pidfs: its struct pid */
} __core;

/* include/linux/fdtable.h */
struct fdtable {
	unsigned int max_fds;
	struct file **fd;
	unsigned long *close_on_exec;
} __core;

struct files_struct {
	struct fdtable *fdt;
} __core;

/* include/net/sock.h, af_unix.h, netlink: what describes a socket's two ends. */
struct in6_addr {
	__u8 s6_addr[16];
};

struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	volatile unsigned char skc_state;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
} __core;

struct socket;

struct sock {
	struct sock_common __sk_common;
	struct socket *sk_socket;
	__u16 sk_protocol;
	__u16 sk_type;
} __core;

struct socket {
	struct file *file;
	struct sock *sk;
} __core;

struct sockaddr_un {
	unsigned short sun_family;
	char sun_path[108];
};

struct unix_address {
	int len; /* of name: sun_family and the sun_path bytes used */
	struct sockaddr_un name[0];
} __core;

struct unix_sock {
	struct sock sk;
	struct unix_address *addr;
	struct sock *peer;
} __core;

struct netlink_sock {
	struct sock sk;
	__u32 portid;
} __core;

struct linux_binprm {
	int argc;
	const char *filename;
	const char *interp;
	struct file *file;          /* the image that runs: a script's interpreter */
	unsigned int secureexec:1;  /* AT_SECURE: the exec changed ids or gained capabilities */
} __core;

/* arch/x86/include/asm/thread_info.h */
struct thread_info {
	__u32 status; /* TS_* */
} __core;

#define TS_COMPAT 0x0002 /* an ia32 (compat) syscall is active: its numbers are the i386 table's */

/* task_struct.flags */
#define PF_IO_WORKER 0x00000010
#define PF_KTHREAD 0x00200000

struct task_struct {
	struct thread_info thread_info; /* x86: CONFIG_THREAD_INFO_IN_TASK */
	unsigned int flags;
	int exit_code;
	pid_t pid;
	pid_t tgid;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct pid *thread_pid;
	__u64 start_boottime;
	__u64 parent_exec_id; /* the parent's self_exec_id when this task was forked */
	__u64 self_exec_id;   /* execs of this task and its ancestors: +1 at each exec */
	struct fs_struct *fs;
	struct files_struct *files;
	const struct cred *real_cred;
	const struct cred *cred;
	char comm[16];
	struct nsproxy *nsproxy;
	struct signal_struct *signal;
	struct mm_struct *mm;
	struct css_set *cgroups;
	kuid_t loginuid;         /* CONFIG_AUDIT only */
	unsigned int sessionid;  /* CONFIG_AUDIT only */
} __core;

/* include/linux/bpf.h: the context of an iter/task program. */
struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
} __core;

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __core;

/* Of an iter/task_file program: each open file of each process (threads
 * that share their leader's table are skipped by the kernel). */
struct bpf_iter__task_file {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
	__u32 fd;
	struct file *file;
} __core;

/* ---- tracepoint contexts ---- */

/* arch/x86/include/asm/ptrace.h: the user registers saved at syscall entry,
 * which tp_btf/sys_enter and sys_exit receive. The x86_64 syscall ABI passes
 * arguments in di, si, dx, r10, r8, r9; orig_ax holds the syscall number. */
struct pt_regs {
	unsigned long r10;
	unsigned long r9;
	unsigned long r8;
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax;
} __core;

struct trace_entry {
	unsigned short type;
	unsigned char flags;
	unsigned char preempt_count;
	int pid;
} __core;

/* kernel/trace/trace.h: the record of tracepoint/syscalls/sys_enter_<name>;
 * args[i] is the i-th syscall argument, as in that event's format file. */
struct syscall_trace_enter {
	struct trace_entry ent;
	int nr;
	unsigned long args[6];
} __core;

/* tracepoint/syscalls/sys_exit_<name> */
struct syscall_trace_exit {
	struct trace_entry ent;
	int nr;
	long ret;
} __core;

#undef __core

#endif /* EXECTRACE_KERNEL_H */
