// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * exectrace kernel side: exec (successful and failed), fork and exit records,
 * and syscall entry/exit records with the process context they ran in,
 * written into one ring buffer, in the layouts of exectrace.h.
 *
 * Variable-length records (exec, exec_failed) are built in per-CPU scratch
 * slots, then copied into a ring-buffer reservation of their exact size
 * through a dynptr, whose writes are bounds-checked at run time. That keeps
 * the verifier's job small (no variable offsets into a fixed buffer) and the
 * memory bounded without help from the loader: per-CPU array values are
 * capped at 32 KiB, so a record with 128 KiB of argv is spread over several
 * slots instead of one large value sized per CPU.
 *
 * Record-time filters (--pid/--follow, --uid, --comm, --cgroup, --pidns; see
 * wanted()) are tested before a record is built: an excluded record never
 * reaches the ring and is counted as filtered, not lost. Each record is
 * matched on the task it is about: exec the new image, exec_failed the
 * caller, fork the child, exit the exiting process, syscall records the
 * calling thread at the call's entry.
 *
 * Programs are named after their attach points.
 */
#include "kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "exectrace.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Options; userspace replaces the whole .rodata image before load. */
const volatile __u32 max_arg_bytes = 32768; /* argv bytes kept per exec, <= ET_ARGS_MAX */
const volatile __u32 max_args = 256;        /* argv pointers read for a failed exec, <= ET_ARGV_PTRS_MAX */
const volatile __u32 trace_syscalls = 0;    /* 1: sys_enter/sys_exit record the calls sys_descs selects */
const volatile __u32 max_str = ET_STR_MAX;  /* bytes of one captured string, NUL included, <= ET_STR_MAX */
const volatile __u32 max_bytes = 64;        /* bytes of one captured buffer, <= ET_BYTES_MAX */
const volatile __u32 self_tgid = 0;         /* the recorder's process: its syscalls are never recorded */
const volatile __u32 wake_exec = 0;         /* 1: every exec record wakes the drain (the recorder hashes the exec's file) */
const volatile __u32 exit_group_dead = 0;   /* 1: sched_process_exit's second argument is group_dead (6.16+) */
const volatile __u32 stats_only = 0;        /* 1: execs are counted in exec_counts, and no record is written */

/*
 * Record-time filters (see wanted()). Each is off at 0; a filter that is off
 * costs nothing, as the verifier drops the code behind a false constant.
 */
const volatile __u32 pid_filter_on = 0;     /* 1: only processes whose tgid is a key of `pids` */
const volatile __u32 follow = 0;            /* 1: a process forked by one in `pids` joins `pids` */
const volatile __u32 uid_count = 0;         /* only tasks whose real uid is one of uid_list[0 .. uid_count) */
const volatile __u32 comm_count = 0;        /* only tasks whose comm is one of comm_list[0 .. comm_count) */
const volatile __u32 pidns_filter = 0;      /* a PID namespace's inode number: only tasks in it or below */
const volatile __u64 cgroup_filter = 0;     /* a cgroup v2 id: only tasks in that cgroup or below */
const volatile __u32 cgroup_level = 0;      /* its depth under the root of the v2 hierarchy */
/* The values of --uid and --comm (NUL-padded, as two words): a few compares
 * cost less than a hash lookup. */
const volatile __u32 uid_list[ET_UID_FILTERS] = {};
const volatile __u64 comm_list[ET_COMM_FILTERS][ET_COMM_LEN / 8] = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* the loader resizes it */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ET_TYPE_MAX);
	__type(key, __u32);
	__type(value, struct et_counter);
} counters SEC(".maps");

/*
 * Per-CPU scratch, in 32 KiB slots (the largest per-CPU value the kernel
 * allows). Tracepoint handlers run with preemption disabled and these
 * tracepoints never fire from interrupt context, so no two programs use the
 * slots of one CPU at the same time.
 *   SLOT_REC   fixed record part at 0, path segments A at PATH_A, B at PATH_B,
 *              C at PATH_C (an exec's cwd components)
 *   SLOT_STR   one piece of one argv string of a failed exec; a path walk's state
 *   SLOT_ITER, SLOT_ITER_STR  the same two for the snapshot_fds iterator, which
 *              runs preemptibly: a tracepoint program may use the others meanwhile
 *   SLOT_ARGS.. argv bytes, contiguous across the slots: byte i of the argv
 *              area is byte i % SLOT_SIZE of slot SLOT_ARGS + i / SLOT_SIZE
 */
#define SLOT_SIZE 32768
#define ARGS_SLOTS (ET_ARGS_MAX / SLOT_SIZE)
#define PATH_A 256
#define PATH_B (PATH_A + ET_PATH_MAX)
#define PATH_C (PATH_B + ET_PATH_MAX)

enum { SLOT_REC, SLOT_STR, SLOT_ITER, SLOT_ITER_STR, SLOT_ARGS, SLOT_COUNT = SLOT_ARGS + ARGS_SLOTS };

struct slot {
	__u8 bytes[SLOT_SIZE];
};

_Static_assert(ET_ARGS_MAX % SLOT_SIZE == 0, "argv area is whole slots");
_Static_assert(sizeof(struct et_exec) <= PATH_A && sizeof(struct et_exec_failed) <= PATH_A,
	       "fixed record part fits before the paths");
_Static_assert(PATH_C + ET_PATH_MAX <= SLOT_SIZE, "the three paths fit in SLOT_REC");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SLOT_COUNT);
	__type(key, __u32);
	__type(value, struct slot);
} scratch SEC(".maps");

/* A failed exec is only known at sys_exit; its arguments are kept here from
 * sys_enter, by thread id. */
struct exec_call {
	__u64 filename; /* user pointers, still valid when the call fails */
	__u64 argv;
	__s32 dfd;
	__u32 at_flags;
	__u32 syscall; /* ET_SYS_* */
	__u32 _pad0;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct exec_call);
} exec_calls SEC(".maps");

/* ---- syscall maps ---- */

/* Per-syscall capture descriptors, filled by the recorder before attach. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ET_SYSCALL_MAX);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__type(key, __u32);
	__type(value, struct et_sysdesc);
} sys_descs SEC(".maps");

/* Per syscall number: et_sys_exit records sent and lost, calls filtered out. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ET_SYSCALL_MAX);
	__type(key, __u32);
	__type(value, struct et_counter);
} sys_counters SEC(".maps");

/*
 * --pid and --follow: the processes (thread-group ids) recorded. The recorder
 * puts the --pid processes in before it starts, with their descendants when
 * following, and itself when following its command, whose fork then puts the
 * command in before it runs. With `follow`, sched_process_fork adds every
 * process forked by a member; sched_process_exit removes a process when its
 * last thread exits, so a recycled pid is never taken for a followed one.
 * Not an LRU: a full map must not evict the processes followed; a process that
 * cannot be added is counted in pids_full and the recorder reports it.
 */
#define PIDS_MAX 65536

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PIDS_MAX); /* the loader shrinks it to 1 when no --pid/--follow */
	__type(key, __u32);            /* tgid */
	__type(value, __u8);           /* 1 */
} pids SEC(".maps");

/* Processes --follow could not add: `pids` was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pids_full SEC(".maps");

/*
 * What the syscall programs keep per thread for the filters, in task-local
 * storage: that the thread is
 * inside a call a filter excluded at entry, whose exit is then not recorded
 * either, even if the task changed meanwhile (an exec, a setuid); and whether
 * it is in --pidns, which never changes for a task.
 */
#define PIDNS_UNKNOWN 0
#define PIDNS_IN 1
#define PIDNS_OUT 2

struct filter_state {
	__u8 excluded_call; /* 1: in a call a filter excluded */
	__u8 pidns;         /* PIDNS_* */
	__u16 _pad0;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct filter_state);
} filter_states SEC(".maps");

/* et_sys_stash.in_call */
#define STASH_IDLE 0  /* between calls */
#define STASH_CALL 1  /* in the call described by nr, args, enter_ts */
#define STASH_CHILD 2 /* a new task that has not run yet: its first sys_exit is the
		       * return of the fork/clone that made it, which is not a call of its own */

/*
 * One per thread, made the first time the syscall programs see it (or at its
 * fork), rewritten in place at every traced entry, deleted when the thread
 * exits. At stop, the entries with in_call == STASH_CALL are the calls still
 * in progress (the recorder looks each live thread up through a pidfd).
 *
 * Task-local storage rather than a hash keyed by tid: a lookup is a few
 * loads from the task (measured here: ~25 ns less per entry than the LRU
 * hash lookup, and as much again per exit), nothing is preallocated, nothing
 * is evicted, and the entry follows the task, so a non-leader's exec (which
 * takes the leader's tid) needs no move.
 */
struct et_sys_stash {
	__u64 enter_ts;   /* hdr.ts_ns of the entry (and of its et_sys_enter, if any) */
	__u32 nr;
	__u32 in_call;    /* STASH_* */
	__u64 args[ET_SYS_NARGS];
	__u64 ctx_cookie; /* ctx_cookie() when the task's context was last written; 0: never */
	__u32 retry;      /* bit i: argument i's entry capture found its memory unreadable
			   * (a page not yet faulted in): sys_exit captures it again */
	__u32 pre_len;    /* ET_SYSD_PRE: the int read at entry (an output buffer's size);
			   * PRE_UNKNOWN when it could not be read */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct et_sys_stash);
} sys_stash SEC(".maps");

/*
 * Puts every wire struct into this object's BTF, where the recorder reads the
 * record layouts: et_exec, et_exec_failed, et_fork, et_exit and et_lost (only
 * the recorder writes that one) as parameters, et_header and et_task as their
 * members, enum et_type as the return type; et_counter comes with `counters`.
 * Parameters, unlike pointer members of a struct, make clang emit the whole
 * struct rather than a forward declaration. No program calls this function,
 * so libbpf never loads it.
 */
__attribute__((noinline)) enum et_type btf_anchor(struct et_exec *exec, struct et_exec_failed *exec_failed,
						   struct et_fork *fork, struct et_exit *exit, struct et_lost *lost)
{
	return ET_LOST;
}

/* The same for the syscall records; et_sysdesc, et_argdesc, et_counter and
 * et_sys_stash also come with their maps; et_snap is what snapshot_tasks writes. */
__attribute__((noinline)) enum et_type btf_anchor_sys(struct et_sys_enter *enter, struct et_sys_exit *exit,
						       struct et_task_ctx *task, struct et_sysdesc *desc,
						       struct et_argdesc *arg)
{
	return ET_TASK;
}

__attribute__((noinline)) enum et_type btf_anchor_snap(struct et_snap *snap, struct et_fd *fd)
{
	return ET_TASK;
}

/*
 * The file identities the recorder has hashed (it adds each one it has a
 * digest for): an exec of one of them is marked ET_EXEC_KNOWN and does not
 * wake the drain, which then opens no /proc/PID/exe for it. An exec storm of
 * one binary costs one wakeup, not one per exec. LRU: a forgotten identity
 * costs only a wakeup and an open again.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct et_file_key);
	__type(value, __u8);
} hashed_files SEC(".maps");

/* et_hash (only the recorder writes it) and its status names. */
__attribute__((noinline)) enum et_hash_status btf_anchor_hash(struct et_hash *hash, struct et_file_key *key)
{
	return ET_HASH_OK;
}

static __always_inline void *slot(__u32 key)
{
	return bpf_map_lookup_elem(&scratch, &key);
}

static __always_inline void count(__u32 type, long err)
{
	struct et_counter *c = bpf_map_lookup_elem(&counters, &type);

	if (!c)
		return;
	if (err)
		c->lost++;
	else
		c->sent++;
}

/* A record of this type that a filter kept out of the ring. */
static __always_inline void count_filtered_type(__u32 type)
{
	struct et_counter *c = bpf_map_lookup_elem(&counters, &type);

	if (c)
		c->filtered++;
}

/* include/linux/pid_namespace.h: MAX_PID_NS_LEVEL; levels run from 0 to it. */
#define PIDNS_LEVELS 33

/*
 * The filter tests read the task with direct loads where the verifier allows
 * them (every caller holds a BTF task pointer): a load costs a nanosecond, a
 * bpf_probe_read call tens.
 */

/* t lives in PID namespace pidns_filter or in one of its descendants: walk
 * up from the namespace its pids live in (task_active_pid_ns()). */
static __always_inline bool in_pidns(struct task_struct *t)
{
	struct pid *pid = t->thread_pid;
	struct pid_namespace *ns = NULL;

	if (!pid)
		return false;
	/* A variable index: the one read through a helper. */
	bpf_core_read(&ns, sizeof(ns), &pid->numbers[pid->level].ns);
	for (int i = 0; i < PIDNS_LEVELS && ns; i++) {
		if (BPF_CORE_READ(ns, ns.inum) == pidns_filter)
			return true;
		if (BPF_CORE_READ(ns, level) == 0)
			break;
		ns = BPF_CORE_READ(ns, parent);
	}
	return false;
}

/* t's cgroup (v2) is cgroup_filter or below it: its ancestor at the
 * filter's level is the filter's cgroup, as cgroup_is_descendant() checks. */
static __always_inline bool in_cgroup(struct task_struct *t)
{
	struct cgroup *cg = t->cgroups->dfl_cgrp;
	__u32 want = cgroup_level;

	if (!cg || cg->level < 0 || (__u32)cg->level < want)
		return false;
	if (bpf_core_field_exists(cg->ancestors)) {
		struct cgroup *anc = NULL;

		/* Through a helper: the verifier refuses direct loads from a
		 * flexible array member. */
		bpf_core_read(&anc, sizeof(anc), &cg->ancestors[want]);
		return anc && BPF_CORE_READ(anc, kn, id) == cgroup_filter;
	} else {
		struct cgroup___pre_6_1 *old = (void *)cg;
		__u64 id = 0;

		bpf_core_read(&id, sizeof(id), &old->ancestor_ids[want]);
		return id == cgroup_filter;
	}
}

/* Any record-time filter on: a constant once loaded. */
#define FILTERS_ON (pid_filter_on || uid_count || comm_count || pidns_filter || cgroup_filter)

static __always_inline bool uid_listed(__u32 uid)
{
	for (__u32 i = 0; i < ET_UID_FILTERS; i++) {
		if (i >= uid_count)
			break;
		if (uid_list[i] == uid)
			return true;
	}
	return false;
}

static __always_inline bool comm_listed(struct task_struct *t)
{
	/* NUL-padded in the kernel, as the recorder writes the list. */
	__u64 c0 = *(__u64 *)&t->comm[0], c1 = *(__u64 *)&t->comm[8];

	for (__u32 i = 0; i < ET_COMM_FILTERS; i++) {
		if (i >= comm_count)
			break;
		if (comm_list[i][0] == c0 && comm_list[i][1] == c1)
			return true;
	}
	return false;
}

/* The syscall programs' per-thread filter state, made at first need. */
static __always_inline struct filter_state *filter_state(struct task_struct *t)
{
	return bpf_task_storage_get(&filter_states, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
}

/*
 * The record-time filters: true when records about task t (of process tgid)
 * are to be written. Every filter given must match (--pid/--follow, --uid,
 * --pidns, --cgroup, --comm); one given several times matches any of its
 * values. Each test is compiled out at load when its option is off, so with
 * no filter this is `true` and costs nothing. Cheapest tests first: a
 * test that excludes ends it. st, when given, caches the --pidns answer.
 */
static __always_inline bool wanted_st(struct task_struct *t, __u32 tgid, struct filter_state *st)
{
	if (uid_count && !uid_listed(t->real_cred->uid.val))
		return false;
	if (comm_count && !comm_listed(t))
		return false;
	if (cgroup_filter && !in_cgroup(t))
		return false;
	if (pid_filter_on && !bpf_map_lookup_elem(&pids, &tgid))
		return false;
	if (pidns_filter) {
		/* The walk once per thread when st (the syscall path) has it. */
		__u8 known = st ? st->pidns : PIDNS_UNKNOWN;

		if (known == PIDNS_UNKNOWN) {
			known = in_pidns(t) ? PIDNS_IN : PIDNS_OUT;
			if (st)
				st->pidns = known;
		}
		if (known != PIDNS_IN)
			return false;
	}
	return true;
}

static __always_inline bool wanted(struct task_struct *t, __u32 tgid)
{
	return wanted_st(t, tgid, NULL);
}

/*
 * record --stats-only: execs counted per process and image name in a hash map
 * instead of records in the ring (execve-tracker's mode). The recorder reads
 * the counts each interval without losing or doubling one, however the execs
 * fall around the read: the programs count into generation `gen` (0 or 1, in
 * exec_count_gen, part of the key); at the end of an interval the recorder
 * flips it, waits until every program that may still have read the old value
 * has returned (an RCU grace period: tracepoint programs run inside an RCU
 * read-side section), then reads and deletes the old generation's entries,
 * which nothing writes any more. The map is sized by the loader (one entry
 * when unused, so a recording pays nothing for it); an exec that finds it full
 * is counted in exec_counts_full[gen], never dropped silently.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* the loader sizes it for --stats-only */
	__type(key, struct et_exec_count_key);
	__type(value, struct et_exec_count);
} exec_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__type(key, __u32);
	__type(value, __u32); /* the generation execs are counted in; the recorder flips it */
} exec_count_gen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2); /* per generation */
	__type(key, __u32);
	__type(value, __u64);
} exec_counts_full SEC(".maps");

static __always_inline void count_exec(struct task_struct *t, __u32 tgid, bool failed)
{
	struct et_exec_count_key k = {};
	struct et_exec_count one = {}, *c;
	__u32 zero = 0, *gen = bpf_map_lookup_elem(&exec_count_gen, &zero);

	if (!gen)
		return;
	k.pid = tgid;
	k.gen = *gen & 1;
	BPF_CORE_READ_INTO(&k.comm, t, comm);
	c = bpf_map_lookup_elem(&exec_counts, &k);
	if (!c) {
		if (failed)
			one.failed = 1;
		else
			one.execs = 1;
		if (!bpf_map_update_elem(&exec_counts, &k, &one, BPF_NOEXIST))
			return;
		/* Another CPU made the entry meanwhile, or the map is full. */
		c = bpf_map_lookup_elem(&exec_counts, &k);
		if (!c) {
			__u32 g = k.gen;
			__u64 *full = bpf_map_lookup_elem(&exec_counts_full, &g);

			if (full)
				(*full)++;
			return;
		}
	}
	if (failed)
		__sync_fetch_and_add(&c->failed, 1);
	else
		__sync_fetch_and_add(&c->execs, 1);
}

/*
 * Wake the drain only when a quarter of the ring is pending; otherwise it
 * finds the records on its next timed poll. A wakeup is an interrupt (a
 * costly self-IPI in a VM), so one per record would cost far more than the
 * record: above the quarter, wake once per WAKE_STEP bytes submitted, not for
 * every record. A drain that is awake needs none (its poll returns while data
 * is pending, and it empties the ring); one that is asleep gets one within
 * WAKE_STEP bytes, even when records of other CPUs cross a step in between.
 * `size` is this record's size, already counted in the pending bytes.
 */
#define WAKE_STEP (64 * 1024)

static __always_inline __u64 wakeup_flags(__u64 size)
{
	__u64 pending = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 ring = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);

	if (pending < ring / 4)
		return BPF_RB_NO_WAKEUP;
	if (pending < size || pending - size < ring / 4 || pending / WAKE_STEP != (pending - size) / WAKE_STEP)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void fill_header(struct et_header *h, __u16 type, __u16 flags, __u32 size,
					__u64 ts, __u32 pid, __u32 tid)
{
	h->type = type;
	h->flags = flags;
	h->size = size;
	h->ts_ns = ts;
	h->pid = pid;
	h->tid = tid;
	h->cpu = bpf_get_smp_processor_id();
	h->_pad0 = 0;
}

/* Every field is written, padding included: the destination may be a ring
 * reservation or a reused scratch slot, neither of which is zeroed. */
static __always_inline void fill_task(struct et_task *t, struct task_struct *task)
{
	const struct cred *cred = BPF_CORE_READ(task, real_cred);
	struct nsproxy *nsp = BPF_CORE_READ(task, nsproxy);
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid upid = {};

	t->ppid = BPF_CORE_READ(task, real_parent, tgid);
	/* Objective credentials (real_cred), as /proc/<pid>/status shows
	 * them; they differ from task->cred only during a temporary override.
	 * The ids are global (init user namespace) ids. */
	t->uid = BPF_CORE_READ(cred, uid.val);
	t->gid = BPF_CORE_READ(cred, gid.val);
	t->euid = BPF_CORE_READ(cred, euid.val);
	t->egid = BPF_CORE_READ(cred, egid.val);
	if (bpf_core_field_exists(task->loginuid)) {
		t->loginuid = BPF_CORE_READ(task, loginuid.val);
		t->sessionid = BPF_CORE_READ(task, sessionid);
	} else {
		t->loginuid = (__u32)-1;
		t->sessionid = (__u32)-1;
	}
	t->_pad0 = 0;
	t->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	/* The leader's: a thread's own start is its clone's, and the thread
	 * that execs takes the leader's start_boottime in de_thread(). */
	t->start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	t->exec_seq = BPF_CORE_READ(task, group_leader, self_exec_id);
	t->parent_start_ns = BPF_CORE_READ(task, real_parent, group_leader, start_boottime);
	t->parent_exec_seq = BPF_CORE_READ(task, real_parent, group_leader, self_exec_id);
	/* The namespace the task's pids live in: task_active_pid_ns(). */
	bpf_core_read(&upid, sizeof(upid), &pid->numbers[level]);
	t->ns_pid = BPF_CORE_READ(upid.ns, ns.inum);
	t->ns_mnt = BPF_CORE_READ(nsp, mnt_ns, ns.inum);
	t->ns_net = BPF_CORE_READ(nsp, net_ns, ns.inum);
	t->ns_uts = BPF_CORE_READ(nsp, uts_ns, ns.inum);
	t->ns_ipc = BPF_CORE_READ(nsp, ipc_ns, ns.inum);
	t->ns_user = BPF_CORE_READ(cred, user_ns, ns.inum);
	t->ns_cgroup = BPF_CORE_READ(nsp, cgroup_ns, ns.inum);
	t->_pad1 = 0;
	/* The whole array, not up to the NUL: comm is NUL-padded in the
	 * kernel, so no stale bytes follow it into the record. */
	BPF_CORE_READ_INTO(&t->comm, task, comm);
}

/*
 * Copies a record built in scratch into the ring: the fixed part (rec, whose
 * hdr.size the caller has set to the total), path segments A and B from
 * SLOT_REC, then args_len bytes of the argv area. `wake`: wake the drain now
 * (an exec whose file the recorder will open through /proc/PID/exe while the
 * process, often short-lived, still runs), whatever the ring holds.
 */
static __always_inline long emit(void *rec, __u64 rec_size, __u64 a_len, __u64 b_len, __u64 args_len, __u64 c_len,
				 bool wake)
{
	__u8 *paths = rec;
	struct bpf_dynptr d;
	/* 64-bit lengths: clang keeps the verifier's bounds on them. */
	__u64 off, done = 0;
	long err;

	if (a_len > ET_PATH_MAX || b_len > ET_PATH_MAX || args_len > ET_ARGS_MAX || c_len > ET_PATH_MAX)
		return -1;
	err = bpf_ringbuf_reserve_dynptr(&events, rec_size + a_len + b_len + args_len + c_len, 0, &d);
	if (err) {
		bpf_ringbuf_discard_dynptr(&d, 0);
		return err;
	}
	err = bpf_dynptr_write(&d, 0, rec, rec_size, 0);
	off = rec_size;
	err |= bpf_dynptr_write(&d, off, paths + PATH_A, a_len, 0);
	off += a_len;
	err |= bpf_dynptr_write(&d, off, paths + PATH_B, b_len, 0);
	off += b_len;
	for (__u32 i = 0; i < ARGS_SLOTS; i++) {
		__u64 len = args_len - done;
		void *src;

		if (!len)
			break;
		if (len > SLOT_SIZE)
			len = SLOT_SIZE;
		src = slot(SLOT_ARGS + i);
		if (!src) {
			err = -1;
			break;
		}
		err |= bpf_dynptr_write(&d, off + done, src, len, 0);
		done += len;
	}
	if (c_len)
		err |= bpf_dynptr_write(&d, off + args_len, paths + PATH_C, c_len, 0);
	if (err) {
		/* Cannot happen with the bounds above; never submit garbage. */
		bpf_ringbuf_discard_dynptr(&d, 0);
		return err;
	}
	bpf_ringbuf_submit_dynptr(&d, wake ? BPF_RB_FORCE_WAKEUP : wakeup_flags(rec_size + a_len + b_len + args_len + c_len));
	return 0;
}

/* include/uapi/linux/stat.h */
#define S_ISUID 04000
#define S_ISGID 02000

/* The memfd's dentry name: "memfd:" and the name given to memfd_create. */
#define MEMFD_PREFIX 0x3a64666d656dULL /* "memfd:" little-endian, 6 bytes */

/* Multigrain timestamps (6.13+) keep a flag in bit 31 of i_ctime_nsec; a
 * nanosecond count never reaches it. */
#define NSEC_MASK 0x3fffffffu

static __always_inline __u64 inode_time(struct inode *inode, bool ctime)
{
	if (bpf_core_field_exists(inode->i_mtime_sec)) {
		if (ctime)
			return BPF_CORE_READ(inode, i_ctime_sec) * 1000000000ULL + (BPF_CORE_READ(inode, i_ctime_nsec) & NSEC_MASK);
		return BPF_CORE_READ(inode, i_mtime_sec) * 1000000000ULL + BPF_CORE_READ(inode, i_mtime_nsec);
	}
	struct inode___timespec *ts = (void *)inode;
	if (bpf_core_field_exists(ts->__i_mtime)) {
		if (ctime)
			return BPF_CORE_READ(ts, __i_ctime.tv_sec) * 1000000000ULL + BPF_CORE_READ(ts, __i_ctime.tv_nsec);
		return BPF_CORE_READ(ts, __i_mtime.tv_sec) * 1000000000ULL + BPF_CORE_READ(ts, __i_mtime.tv_nsec);
	}
	struct inode___old *old = (void *)inode;
	if (ctime)
		return BPF_CORE_READ(old, i_ctime.tv_sec) * 1000000000ULL + BPF_CORE_READ(old, i_ctime.tv_nsec);
	return BPF_CORE_READ(old, i_mtime.tv_sec) * 1000000000ULL + BPF_CORE_READ(old, i_mtime.tv_nsec);
}

/* The image's file as its inode has it now, at the end of a successful exec:
 * what a later stat() of the same file must agree with. Returns ET_EXEC_*. */
static __always_inline __u32 exec_file(struct et_file *f, struct linux_binprm *bprm)
{
	struct file *file = BPF_CORE_READ(bprm, file);
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	__u32 kdev = BPF_CORE_READ(inode, i_sb, s_dev);
	__u32 major = kdev >> 20, minor = kdev & 0xfffff;
	__u64 name = 0;
	__u32 flags = 0;

	f->ino = BPF_CORE_READ(inode, i_ino);
	f->size = BPF_CORE_READ(inode, i_size);
	f->mtime_ns = inode_time(inode, false);
	f->ctime_ns = inode_time(inode, true);
	/* new_encode_dev(): what stat(2) puts in st_dev. */
	f->dev = (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
	f->mode = BPF_CORE_READ(inode, i_mode);
	f->uid = BPF_CORE_READ(inode, i_uid.val);
	f->gid = BPF_CORE_READ(inode, i_gid.val);
	f->nlink = BPF_CORE_READ(inode, __i_nlink);
	f->_pad0 = 0;

	if (f->nlink == 0) {
		/* memfd_create's files are born unlinked (shmem, "memfd:<name>"). */
		bpf_probe_read_kernel(&name, 6, BPF_CORE_READ(file, f_path.dentry, d_name.name));
		flags |= name == MEMFD_PREFIX ? ET_EXEC_MEMFD : ET_EXEC_DELETED;
	}
	if (f->mode & S_ISUID)
		flags |= ET_EXEC_SETUID;
	if (f->mode & S_ISGID)
		flags |= ET_EXEC_SETGID;
	if (BPF_CORE_READ_BITFIELD_PROBED(bprm, secureexec))
		flags |= ET_EXEC_PRIVILEGED;
	return flags;
}

/*
 * A path as getcwd() or readlink of /proc/PID/fd/N would give it (below the
 * process's own root), written as NUL-separated components from the leaf
 * upward at PATH_C of the slot `out`: at most ET_CWD_DEPTH components and
 * ET_PATH_MAX bytes, else WALK_TRUNCATED (the components nearest the root are
 * the ones left out). Crosses mounts through struct mount. One step per
 * bpf_loop callback, verified once: the pointers are kept as numbers and read
 * with CO-RE probes. An exec's cwd walks in SLOT_STR and SLOT_REC, a call's
 * descriptor too (before its exit record is built there), the snapshot's
 * iterator in slots of its own: a tracepoint program may run on its CPU while
 * it is preempted.
 */
#define WALK_SEEN (1u << 0)      /* the walk ended: at the root, or at a limit */
#define WALK_TRUNCATED (1u << 1) /* at a limit (with WALK_SEEN) */
/* Shifted into place, the two are ET_EXEC_CWD and ET_EXEC_CWD_TRUNCATED, or
 * ET_FD_PATH and ET_FD_PATH_TRUNCATED: no branch for the verifier to follow. */
_Static_assert((WALK_SEEN << 5) == ET_EXEC_CWD && (WALK_TRUNCATED << 5) == ET_EXEC_CWD_TRUNCATED, "exec cwd flags");
_Static_assert((WALK_SEEN << 2) == ET_FD_PATH && (WALK_TRUNCATED << 2) == ET_FD_PATH_TRUNCATED, "fd path flags");

struct path_walk {
	__u64 dentry;   /* struct dentry * of the next component */
	__u64 mnt;      /* struct mount * it is on */
	__u64 root;     /* the process's root dentry and mount */
	__u64 root_mnt;
	__u64 off;      /* bytes written */
	__u32 flags;    /* WALK_* */
	__u32 _pad0;
};

/* Where a walk keeps its state and writes its components. */
struct walk_slots {
	__u32 state;
	__u32 out;
};

static long walk_step(__u32 i, void *ctx)
{
	/* The walk's state lives in a slot, not on the stack: the verifier
	 * then sees each step once, not once per value of the counters. */
	struct walk_slots *ws = ctx;
	struct path_walk *w = slot(ws->state);
	struct dentry *d;
	struct mount *mnt;
	struct vfsmount *vmnt;
	struct dentry *parent;
	__u8 *buf;
	__u64 off;
	__u32 len;
	long n;

	if (!w)
		return 1;
	d = (void *)w->dentry;
	mnt = (void *)w->mnt;
	vmnt = (void *)(w->mnt + bpf_core_field_offset(struct mount, mnt));
	off = w->off;

	if (w->dentry == w->root && (__u64)vmnt == w->root_mnt)
		goto done;
	if (d == BPF_CORE_READ(vmnt, mnt_root)) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (up == mnt || !up)
			goto done; /* the top of the mount tree */
		w->dentry = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = (__u64)up;
		return 0;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (parent == d || !parent)
		goto done; /* a disconnected dentry */
	len = BPF_CORE_READ(d, d_name.len);
	buf = slot(ws->out);
	if (!buf || len > 255 || off > ET_PATH_MAX - 256) {
		w->flags |= WALK_SEEN | WALK_TRUNCATED;
		return 1;
	}
	n = bpf_probe_read_kernel_str(buf + PATH_C + off, 256, BPF_CORE_READ(d, d_name.name));
	if (n <= 0) {
		w->flags |= WALK_SEEN | WALK_TRUNCATED;
		return 1;
	}
	w->off = off + n;
	w->dentry = (__u64)parent;
	if (i == ET_CWD_DEPTH - 1)
		w->flags |= WALK_SEEN | WALK_TRUNCATED;
	return 0;
done:
	w->flags |= WALK_SEEN;
	return 1;
}

/* Walks the path (dentry, vfsmount) of task p up to p's root; returns the
 * bytes written at PATH_C of ws->out and sets *flags to WALK_*. */
static __always_inline __u64 path_walk(struct task_struct *p, struct dentry *dentry, struct vfsmount *vmnt,
				       struct walk_slots *ws, __u32 *flags)
{
	struct fs_struct *fs = BPF_CORE_READ(p, fs);
	struct path_walk *w = slot(ws->state);
	__u64 off;

	*flags = 0;
	if (!fs || !w || !dentry)
		return 0;
	w->dentry = (__u64)dentry;
	w->mnt = (__u64)vmnt - bpf_core_field_offset(struct mount, mnt);
	w->root = (__u64)BPF_CORE_READ(fs, root.dentry);
	w->root_mnt = (__u64)BPF_CORE_READ(fs, root.mnt);
	w->off = 0;
	w->flags = 0;
	bpf_loop(ET_CWD_DEPTH, walk_step, ws, 0);
	*flags = w->flags & (WALK_SEEN | WALK_TRUNCATED);
	off = w->off;
	return off > ET_PATH_MAX ? 0 : off;
}

/*
 * The process's cwd, for its exec record: ET_EXEC_CWD and ET_EXEC_CWD_TRUNCATED.
 * path_walk's steps without path_walk: its flags, exact to the bit, would make
 * the verifier tell apart states of the exec program it now merges, and with
 * --max-arg-bytes 128K the program would pass the verifier's million
 * instructions (E2BIG). Read back from the slot, they are just a number.
 */
static __always_inline __u64 cwd_walk(struct task_struct *p, __u32 *flags)
{
	struct fs_struct *fs = BPF_CORE_READ(p, fs);
	struct walk_slots ws = {.state = SLOT_STR, .out = SLOT_REC};
	struct path_walk *w = slot(SLOT_STR);
	__u64 off;

	if (!fs || !w)
		return 0;
	w->dentry = (__u64)BPF_CORE_READ(fs, pwd.dentry);
	w->mnt = (__u64)BPF_CORE_READ(fs, pwd.mnt) - bpf_core_field_offset(struct mount, mnt);
	w->root = (__u64)BPF_CORE_READ(fs, root.dentry);
	w->root_mnt = (__u64)BPF_CORE_READ(fs, root.mnt);
	w->off = 0;
	w->flags = 0;
	if (!w->dentry)
		return 0;
	bpf_loop(ET_CWD_DEPTH, walk_step, &ws, 0);
	*flags |= w->flags << 5;
	off = w->off;
	return off > ET_PATH_MAX ? 0 : off;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 old_tid = old_pid;
	__u64 now = bpf_ktime_get_boot_ns();
	unsigned long arg_start, arg_end;
	__u64 want, got = 0, limit = max_arg_bytes;
	__u64 size;
	__u16 flags = 0;
	struct et_exec *e;
	__u8 *rec;
	long n, a_len, b_len, err;
	__u64 c_len;
	__u32 exec_flags;

	/* This exec succeeded: sys_exit will run under the leader's tid, so
	 * the caller's pending entry must go now (a no-op for a leader). */
	bpf_map_delete_elem(&exec_calls, &old_tid);
	if (trace_syscalls) {
		/* The syscall stash belongs to the task, which keeps it when a
		 * non-leader's exec gives it the leader's tid. The changed
		 * context is noticed at the next entry, through the cookie. */
		struct et_sys_stash *s = bpf_task_storage_get(&sys_stash, p, 0, 0);

		/* The old image's memory is gone: nothing to capture again at
		 * the execve's exit. */
		if (s)
			s->retry = 0;
	}

	if (!wanted(p, p->tgid)) {
		count_filtered_type(ET_EXEC);
		return 0;
	}
	if (stats_only) {
		count_exec(p, p->tgid, false);
		return 0;
	}

	rec = slot(SLOT_REC);
	if (!rec)
		return 0;
	e = (struct et_exec *)rec;

	exec_flags = exec_file(&e->file, bprm);
	if (wake_exec) {
		struct et_file_key k = {
			.ino = e->file.ino, .size = e->file.size, .mtime_ns = e->file.mtime_ns,
			.ctime_ns = e->file.ctime_ns, .dev = e->file.dev,
		};

		if (bpf_map_lookup_elem(&hashed_files, &k))
			exec_flags |= ET_EXEC_KNOWN;
	}
	c_len = cwd_walk(p, &exec_flags);

	n = bpf_probe_read_kernel_str(rec + PATH_A, ET_PATH_MAX, BPF_CORE_READ(bprm, filename));
	a_len = n > 0 ? n : 0;
	n = bpf_probe_read_kernel_str(rec + PATH_B, ET_PATH_MAX, BPF_CORE_READ(bprm, interp));
	b_len = n > 0 ? n : 0;

	/* argv as the new program sees it, in its own stack: nothing the old
	 * image or another thread does can change it any more. */
	arg_start = BPF_CORE_READ(p, mm, arg_start);
	arg_end = BPF_CORE_READ(p, mm, arg_end);
	size = arg_end > arg_start ? arg_end - arg_start : 0;
	if (limit > ET_ARGS_MAX)
		limit = ET_ARGS_MAX;
	want = size < limit ? size : limit;
	if (size > want)
		flags |= ET_F_TRUNCATED;
	for (__u32 i = 0; i < ARGS_SLOTS; i++) {
		__u64 len = want - got;
		void *dst;

		if (!len)
			break;
		if (len > SLOT_SIZE)
			len = SLOT_SIZE;
		dst = slot(SLOT_ARGS + i);
		if (!dst)
			break;
		if (bpf_probe_read_user(dst, len, (void *)(arg_start + got))) {
			flags |= ET_F_TRUNCATED;
			break;
		}
		got += len;
	}

	fill_header(&e->hdr, ET_EXEC, flags, sizeof(*e) + a_len + b_len + got + c_len, now,
		    BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
	fill_task(&e->task, p);
	BPF_CORE_READ_INTO(&e->parent_comm, p, real_parent, comm);
	e->old_tid = old_pid;
	e->argc = BPF_CORE_READ(bprm, argc);
	e->args_size = size > 0xffffffffULL ? 0xffffffffU : size;
	e->filename_len = a_len;
	e->interp_len = b_len;
	e->args_len = got;
	e->exec_flags = exec_flags;
	e->cwd_len = c_len;

	err = emit(e, sizeof(*e), a_len, b_len, got, c_len, wake_exec && !(exec_flags & ET_EXEC_KNOWN));
	count(ET_EXEC, err);
	return 0;
}

static __always_inline int enter_exec(__u64 filename, __u64 argv, __s32 dfd, __u32 at_flags, __u32 syscall)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct exec_call c = {
		.filename = filename,
		.argv = argv,
		.dfd = dfd,
		.at_flags = at_flags,
		.syscall = syscall,
	};

	bpf_map_update_elem(&exec_calls, &tid, &c, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int sys_enter_execve(struct syscall_trace_enter *ctx)
{
	if (trace_syscalls || stats_only)
		return 0; /* sys_enter does it (see exec_nr); a count needs no arguments */
	/* execve(filename, argv, envp) */
	return enter_exec(ctx->args[0], ctx->args[1], -100 /* AT_FDCWD */, 0, ET_SYS_EXECVE);
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int sys_enter_execveat(struct syscall_trace_enter *ctx)
{
	if (trace_syscalls || stats_only)
		return 0;
	/* execveat(dfd, filename, argv, envp, flags) */
	return enter_exec(ctx->args[1], ctx->args[2], (__s32)ctx->args[0], (__u32)ctx->args[4],
			  ET_SYS_EXECVEAT);
}

/* State of the walk over a failed exec's argv, one bpf_loop step at a time.
 * A step either starts the next string or continues the current one. */
struct argv_walk {
	__u64 argv;   /* user pointer to the pointer array */
	__u64 cur;    /* user address of the rest of the current string; 0 between strings */
	__u32 idx;    /* next argv index */
	__u32 argc;   /* strings stored, the last one possibly cut */
	__u32 total;  /* bytes stored in the argv area */
	__u32 budget; /* max bytes to store */
	__u32 max_args;
	__u32 truncated;
};

static __always_inline bool argv_has_more(struct argv_walk *w)
{
	__u64 p = 0;

	return !bpf_probe_read_user(&p, sizeof(p), (void *)(w->argv + (__u64)w->idx * 8)) && p;
}

/*
 * One piece of one string: read it into SLOT_STR with bpf_probe_read_user_str,
 * never past the end of the current argv slot nor past the budget, and append
 * it to the argv area. A piece cut by that limit goes on in the next step.
 */
static long argv_step(__u32 i, void *ctx)
{
	struct argv_walk *w = ctx;
	__u64 off, room, left, k;
	struct bpf_dynptr d;
	__u8 *str, *dst;
	bool ended = true, first = false;
	long n;

	if (!w->cur) {
		__u64 p = 0;

		if (w->idx >= w->max_args || w->total >= w->budget) {
			if (argv_has_more(w))
				w->truncated = 1;
			return 1;
		}
		if (bpf_probe_read_user(&p, sizeof(p), (void *)(w->argv + (__u64)w->idx * 8))) {
			w->truncated = 1; /* the array itself is unreadable */
			return 1;
		}
		if (!p)
			return 1; /* the NULL that ends argv */
		w->cur = p;
		w->idx++;
		w->argc++;
		first = true;
	}

	if (w->total >= w->budget) {
		w->truncated = 1;
		return 1;
	}
	str = slot(SLOT_STR);
	if (!str)
		return 1;
	off = w->total % SLOT_SIZE;
	room = SLOT_SIZE - off;
	left = (__u64)w->budget - w->total;
	if (room > left)
		room = left;
	if (room > SLOT_SIZE || room == 0)
		return 1;

	n = bpf_probe_read_user_str(str, room, (void *)w->cur);
	if (n <= 0 || (__u64)n > room) {
		/* Unreadable: argc counts only the strings stored, and a
		 * string cut here stays without its NUL. */
		if (first)
			w->argc--;
		w->truncated = 1;
		return 1;
	}
	if ((__u64)n == room) {
		/* Limit reached: the helper put a NUL in the last byte in place
		 * of the real one. Fetch the real byte to tell a string that
		 * ends exactly here from one that goes on. */
		__u8 c = 0;

		if (bpf_probe_read_user(&c, 1, (void *)(w->cur + room - 1))) {
			w->truncated = 1;
			c = 0;
		}
		str[(room - 1) & (SLOT_SIZE - 1)] = c;
		ended = c == 0;
	}

	k = w->total / SLOT_SIZE;
	dst = slot(SLOT_ARGS + k);
	if (!dst || bpf_dynptr_from_mem(dst, SLOT_SIZE, 0, &d))
		return 1;
	if (bpf_dynptr_write(&d, off, str, n, 0))
		return 1;
	w->total += n;

	if (ended) {
		w->cur = 0;
	} else {
		w->cur += n;
		if (w->total >= w->budget) {
			w->truncated = 1;
			return 1;
		}
	}
	return 0;
}

static __always_inline int exit_exec(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	__u64 now = bpf_ktime_get_boot_ns();
	struct exec_call *pending, call;
	struct argv_walk w = {};
	struct et_exec_failed *f;
	__u32 limit = max_arg_bytes, nargs = max_args;
	__u16 flags = 0;
	__u8 *rec;
	long n, a_len, err;

	if (stats_only) {
		/* Counted on the caller, as the record would be: its pid and comm. */
		if (ret >= 0)
			return 0;
		if (wanted(bpf_get_current_task_btf(), id >> 32))
			count_exec(bpf_get_current_task_btf(), id >> 32, true);
		else
			count_filtered_type(ET_EXEC_FAILED);
		return 0;
	}
	pending = bpf_map_lookup_elem(&exec_calls, &tid);
	if (!pending)
		return 0;
	call = *pending;
	bpf_map_delete_elem(&exec_calls, &tid);
	if (ret >= 0)
		return 0;
	if (!wanted(bpf_get_current_task_btf(), id >> 32)) {
		count_filtered_type(ET_EXEC_FAILED);
		return 0;
	}

	rec = slot(SLOT_REC);
	if (!rec)
		return 0;
	f = (struct et_exec_failed *)rec;

	/* The call failed before the point of no return, so the caller's
	 * memory still holds what it passed. */
	n = bpf_probe_read_user_str(rec + PATH_A, ET_PATH_MAX, (void *)call.filename);
	a_len = n > 0 ? n : 0;
	if (n == ET_PATH_MAX) {
		__u8 c = 0;

		bpf_probe_read_user(&c, 1, (void *)(call.filename + ET_PATH_MAX - 1));
		if (c)
			flags |= ET_F_TRUNCATED;
	}

	if (limit > ET_ARGS_MAX)
		limit = ET_ARGS_MAX;
	if (nargs > ET_ARGV_PTRS_MAX)
		nargs = ET_ARGV_PTRS_MAX;
	w.argv = call.argv;
	w.budget = limit;
	w.max_args = nargs;
	/* Each step starts a string or continues one across a slot boundary
	 * (at most ARGS_SLOTS times); one more step looks for a cut argv. */
	if (call.argv)
		bpf_loop(nargs + ARGS_SLOTS + 1, argv_step, &w, 0);
	if (w.truncated)
		flags |= ET_F_TRUNCATED;
	if (w.total > limit)
		w.total = limit;

	fill_header(&f->hdr, ET_EXEC_FAILED, flags, sizeof(*f) + a_len + w.total, now, id >> 32, tid);
	fill_task(&f->task, bpf_get_current_task_btf());
	f->error_code = ret;
	f->syscall = call.syscall;
	f->dfd = call.dfd;
	f->at_flags = call.at_flags;
	f->argc = w.argc;
	f->filename_len = a_len;
	f->args_len = w.total;
	f->_pad0 = 0;

	err = emit(f, sizeof(*f), a_len, 0, w.total, 0, false);
	count(ET_EXEC_FAILED, err);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int sys_exit_execve(struct syscall_trace_exit *ctx)
{
	if (trace_syscalls)
		return 0; /* sys_exit does it */
	return exit_exec(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int sys_exit_execveat(struct syscall_trace_exit *ctx)
{
	if (trace_syscalls)
		return 0;
	return exit_exec(ctx->ret);
}

/* ---- syscalls ----------------------------------------------------------
 *
 * sys_enter stashes the call (time, number, arguments) in the thread's
 * sys_stash entry, in place; sys_exit writes one et_sys_exit from it. So a
 * call without entry captures costs one ring record, and the hot path does
 * no map update or delete: the entry is made once per thread and deleted in
 * sched_process_exit. Calls with entry captures (or that never return) also
 * get an et_sys_enter. An et_task_ctx goes out before a thread's first
 * record and before the first record after its context changed (a cheap
 * fingerprint, ctx_cookie, is compared at each traced entry), and after each
 * call flagged ET_SYSD_CTX.
 *
 * Captures are built in SLOT_REC (syscall records never nest with the exec
 * ones on one CPU: each handler runs to completion with preemption off): the
 * fixed record at 0, argument i's capture at SYS_SEG_AT(i), then copied into
 * an exact-size ring reservation. A call without captures skips the scratch
 * and writes its fixed-size record straight into the ring.
 */
#define SYS_SEG_MAX 4096 /* the larger of ET_STR_MAX and ET_BYTES_MAX */
#define SYS_SEG_BASE 256
#define SYS_SEG_AT(i) (SYS_SEG_BASE + (i) * SYS_SEG_MAX)

_Static_assert(ET_STR_MAX <= SYS_SEG_MAX && ET_BYTES_MAX <= SYS_SEG_MAX, "a capture fits its segment");
_Static_assert(sizeof(struct et_sys_enter) <= SYS_SEG_BASE && sizeof(struct et_sys_exit) <= SYS_SEG_BASE,
	       "fixed record part fits before the segments");
_Static_assert(SYS_SEG_AT(ET_SYS_NARGS) <= SLOT_SIZE, "every segment fits in SLOT_REC");
_Static_assert((SYS_SEG_MAX & (SYS_SEG_MAX - 1)) == 0, "segment size is a power of two");

static __always_inline void count_sys(__u32 nr, long err)
{
	struct et_counter *c = bpf_map_lookup_elem(&sys_counters, &nr);

	if (!c)
		return;
	if (err)
		c->lost++;
	else
		c->sent++;
}

/* A call a filter left out: per syscall, and per record type for the
 * records it would have made (an exit, unless it never returns; an entry,
 * if it has entry captures or never returns). */
static __always_inline void count_filtered(__u32 nr, __u32 flags)
{
	struct et_counter *c = bpf_map_lookup_elem(&sys_counters, &nr);

	if (c)
		c->filtered++;
	if (flags & (ET_SYSD_HAS_IN | ET_SYSD_NORETURN))
		count_filtered_type(ET_SYS_ENTER);
	if (!(flags & ET_SYSD_NORETURN))
		count_filtered_type(ET_SYS_EXIT);
}

/* The syscall's arguments, x86_64 ABI. */
static __always_inline void read_args(__u64 *args, struct pt_regs *regs)
{
	args[0] = regs->di;
	args[1] = regs->si;
	args[2] = regs->dx;
	args[3] = regs->r10;
	args[4] = regs->r8;
	args[5] = regs->r9;
}

static __always_inline __u64 mix(__u64 h, __u64 v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 31);
}

/*
 * A fingerprint of what et_task holds, from direct loads only (a few
 * nanoseconds): the credentials, namespaces, cgroups and parent objects the
 * task points to, its comm and audit ids. commit_creds() always installs a
 * new cred, and exec always commits one, so setuid-style calls and execs
 * change it. Pointers are taken relative to the task: the verifier turns the
 * difference of two pointers into a plain number it lets us hash. Never 0.
 */
static __always_inline __u64 ctx_cookie(struct task_struct *t)
{
	__u64 self = (__u64)t, h = 0;

	h = mix(h, (__u64)t->real_cred - self);
	h = mix(h, (__u64)t->nsproxy - self);
	h = mix(h, (__u64)t->cgroups - self);
	h = mix(h, (__u64)t->real_parent - self);
	h = mix(h, *(__u64 *)&t->comm[0]);
	h = mix(h, *(__u64 *)&t->comm[8]);
	if (bpf_core_field_exists(t->loginuid))
		h = mix(h, ((__u64)t->loginuid.val << 32) | t->sessionid);
	return h | 1;
}

static __always_inline void emit_task_ctx(struct task_struct *t, __u64 ts, __u32 pid, __u32 tid)
{
	struct et_task_ctx *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r) {
		count(ET_TASK, -1);
		return;
	}
	fill_header(&r->hdr, ET_TASK, 0, sizeof(*r), ts, pid, tid);
	fill_task(&r->task, t);
	bpf_ringbuf_submit(r, wakeup_flags(sizeof(*r)));
	count(ET_TASK, 0);
}

/* et_sys_stash.pre_len when the int could not be read: bounds nothing. */
#define PRE_UNKNOWN 0xffffffffu

/*
 * User-memory structs the compound captures walk, as the x86_64 syscall ABI
 * lays them out (include/uapi/linux/uio.h, include/linux/socket.h): user
 * memory, so no CO-RE. The recorder checks the kernel's BTF agrees before it
 * asks for these captures (src/syscalls/classify.ts).
 */
struct et_iovec {
	__u64 base;
	__u64 len;
};

struct et_user_msghdr {
	__u64 msg_name;
	__s32 msg_namelen;
	__u32 _pad0;
	__u64 msg_iov;
	__u64 msg_iovlen;
	__u64 msg_control;
	__u64 msg_controllen;
	__u32 msg_flags;
	__u32 _pad1;
};

_Static_assert(sizeof(struct et_iovec) == 16 && sizeof(struct et_user_msghdr) == 56, "the x86_64 ABI");

/* An iovec capture's head: u32 count, u32 0, count x struct et_iovec. */
#define VEC_HEAD_MAX (8 + ET_IOV_MAX * sizeof(struct et_iovec))
/* A msghdr capture: the header, u32 name length, the name, then an iovec capture. */
#define MSG_NAME_AT (sizeof(struct et_user_msghdr) + 4)

_Static_assert(MSG_NAME_AT + ET_SOCKADDR_MAX + VEC_HEAD_MAX < SYS_SEG_MAX, "a msghdr capture's heads fit its segment");
_Static_assert(ET_FDSET_MAX <= SYS_SEG_MAX && ET_SOCKADDR_MAX <= SYS_SEG_MAX, "fixed captures fit their segment");

/*
 * One argument's capture, as a request: a global function, so the verifier
 * checks it once, on its own, instead of once per argument and path of the
 * programs that call it (six unrolled captures would multiply its states).
 * Its pointer argument must then hold scalars only.
 */
struct capture_req {
	__u64 args[ET_SYS_NARGS]; /* the call's arguments: the pointer, and the length argument */
	__s64 ret;                /* at exit: the return value */
	__u32 idx;                /* the argument */
	__u32 size;               /* et_argdesc.size */
	__u8 kind;                /* et_argdesc.kind */
	__u8 flags;               /* et_argdesc.flags */
	__u8 len_arg;             /* et_argdesc.len_arg */
	__u8 output;              /* 1: an exit capture (out, or inout at exit) */
	__u32 pre_len;            /* et_sys_stash.pre_len */
	__u32 len;                /* result: bytes stored at SYS_SEG_AT(idx) in SLOT_REC */
	__u32 cut;                /* result: fewer bytes than the call's data (limit, or unreadable) */
	__u32 fault;              /* result: the memory could not be read */
	__u8 elem;                /* et_argdesc.elem */
	__u8 _pad0[3];
};

/* What capture_vec is asked for, and answers. */
struct vec_req {
	__u64 vec;    /* the struct iovec array (a user pointer) */
	__u64 count;  /* its elements */
	__u64 want;   /* the call's data: ret at exit, else ~0 (all of it) */
	__u32 idx;    /* the argument: its segment of SLOT_REC */
	__u32 off;    /* where in the segment the capture starts */
	__u32 len;    /* result: bytes written from off */
	__u32 cut;    /* result: elements or bytes left out, or a buffer unreadable */
	__u32 fault;  /* result: the vector itself could not be read */
	__u32 _pad0;
};

/*
 * An iovec capture into segment r->idx at r->off: the count, the elements as
 * read (one read of up to ET_IOV_MAX of them), then the first bytes of their
 * buffers in order, at most max_bytes and r->want, within the segment. Stops
 * at a buffer it cannot read. A global function, as capture_arg.
 */
__attribute__((noinline)) int capture_vec(struct vec_req *r)
{
	__u64 n, k, pos, budget, kept = 0, sum = 0, off, idx;
	__u8 *seg, *head;

	if (!r)
		return 0;
	r->len = 0;
	r->cut = 0;
	r->fault = 0;
	/* Kept in registers: a value clang loaded again from *r after the
	 * check would be unbounded for the verifier. */
	off = r->off;
	idx = r->idx;
	barrier_var(off);
	barrier_var(idx);
	if (idx >= ET_SYS_NARGS || off > SYS_SEG_MAX - VEC_HEAD_MAX)
		return 0;
	seg = slot(SLOT_REC);
	if (!seg)
		return 0;
	seg += SYS_SEG_BASE + idx * SYS_SEG_MAX;
	/* The masks restate for the verifier what the checks above ensure. */
	head = seg + (off & (SYS_SEG_MAX - 1));
	n = r->count;
	if (n > ET_IOV_MAX) {
		n = ET_IOV_MAX;
		r->cut = 1;
	}
	if (n && bpf_probe_read_user(head + 8, n * sizeof(struct et_iovec), (void *)r->vec)) {
		n = 0;
		r->cut = 1;
		r->fault = 1;
	}
	*(__u32 *)head = n;
	*(__u32 *)(head + 4) = 0;
	pos = off + 8 + n * sizeof(struct et_iovec);
	budget = max_bytes;
	if (budget > ET_BYTES_MAX)
		budget = ET_BYTES_MAX;
	if (budget > r->want)
		budget = r->want;
	if (budget > SYS_SEG_MAX - pos)
		budget = SYS_SEG_MAX - pos;
	for (k = 0; k < ET_IOV_MAX; k++) {
		struct et_iovec *e;
		__u64 take;

		if (k >= n)
			break;
		e = (struct et_iovec *)(head + 8 + k * sizeof(struct et_iovec));
		sum += e->len;
		take = e->len < budget ? e->len : budget;
		if (!take)
			continue;
		if (bpf_probe_read_user(seg + (pos & (SYS_SEG_MAX - 1)), take & (SYS_SEG_MAX - 1), (void *)e->base)) {
			r->cut = 1;
			break;
		}
		pos += take;
		kept += take;
		budget -= take;
	}
	/* The call's data: all the buffers hold for an input, ret bytes of them for an output. */
	if (kept < (r->want < sum ? r->want : sum))
		r->cut = 1;
	r->len = pos - off;
	return 0;
}

/* The length an argument gives: a 32-bit one (LEN32) is its low half, and none when negative. */
static __always_inline __u64 len_value(const struct capture_req *q, __u64 la)
{
	__u64 v = q->args[la]; /* la < ET_SYS_NARGS: checked by the caller */

	if (q->flags & ET_ARG_LEN32) {
		v = (__u32)v;
		if (v > 0x7fffffff)
			v = 0;
	}
	return v;
}

/*
 * Captures argument q->idx into its segment of SLOT_REC. A NULL pointer
 * captures nothing and is not a cut. A string keeps its NUL (cut at max_str,
 * the last byte becomes a NUL); a buffer takes its length from argument
 * len_arg (LEN_PTR: the int it points to, after the call, at most the value
 * kept at entry) and/or, for an output, from ret (LEN_RET), at most max_bytes;
 * a socket address and an fd_set their lengths likewise, at most `size`; an
 * array whole elements; a struct `size` bytes, at most ET_BYTES_MAX; an iovec
 * vector and a msghdr go through capture_vec. An output of a failed call
 * (ret < 0) captures nothing.
 */
__attribute__((noinline)) int capture_arg(struct capture_req *q)
{
	/* 64-bit lengths: clang keeps the verifier's bounds on them. */
	__u64 ptr, want, len, limit, i, la;
	__u8 *rec, *dst;
	long n;

	if (!q) /* the verifier checks a global function for any caller */
		return 0;
	q->len = 0;
	q->cut = 0;
	q->fault = 0;
	i = q->idx;
	la = q->len_arg;
	if (i >= ET_SYS_NARGS || la >= ET_SYS_NARGS)
		return 0;
	ptr = q->args[i];
	rec = slot(SLOT_REC);
	if (!rec || !ptr || (q->output && q->ret < 0))
		return 0;
	dst = rec + SYS_SEG_BASE + i * SYS_SEG_MAX;

	switch (q->kind) {
	case ET_ARG_STR:
		limit = max_str;
		if (limit > ET_STR_MAX)
			limit = ET_STR_MAX;
		if (limit == 0)
			return 0;
		n = bpf_probe_read_user_str(dst, limit, (void *)ptr);
		if (n <= 0 || (__u64)n > limit) {
			q->cut = 1;
			q->fault = 1;
			return 0;
		}
		if ((__u64)n == limit) {
			/* The helper put a NUL in the last byte in place of
			 * the real one: is that the end of the string? */
			__u8 c = 0;

			if (bpf_probe_read_user(&c, 1, (void *)(ptr + limit - 1)) || c)
				q->cut = 1;
		}
		q->len = n;
		return 0;
	case ET_ARG_IOVEC: {
		struct vec_req v = {
			.vec = ptr,
			.count = len_value(q, la),
			.want = q->output && (q->flags & ET_ARG_LEN_RET) ? (__u64)q->ret : ~0ULL,
			.idx = i,
		};

		capture_vec(&v);
		q->len = v.len;
		q->cut = v.cut;
		q->fault = v.fault;
		return 0;
	}
	case ET_ARG_MSGHDR: {
		struct et_user_msghdr *m = (struct et_user_msghdr *)dst;
		struct vec_req v = {};
		__u64 nl = 0;

		if (bpf_probe_read_user(m, sizeof(*m), (void *)ptr)) {
			q->cut = 1;
			q->fault = 1;
			return 0;
		}
		if (m->msg_name && m->msg_namelen > 0) {
			nl = m->msg_namelen;
			/* recvmsg: the kernel copied at most the buffer's size
			 * (msg_namelen at entry) and returned the full length. */
			if (q->output && nl > q->pre_len)
				nl = q->pre_len;
			if (nl > ET_SOCKADDR_MAX) {
				nl = ET_SOCKADDR_MAX;
				q->cut = 1;
			}
			if (bpf_probe_read_user(dst + MSG_NAME_AT, nl, (void *)m->msg_name)) {
				nl = 0;
				q->cut = 1;
			}
		}
		*(__u32 *)(dst + sizeof(*m)) = nl;
		v.vec = m->msg_iov;
		v.count = m->msg_iovlen;
		v.want = q->output && (q->flags & ET_ARG_LEN_RET) ? (__u64)q->ret : ~0ULL;
		v.idx = i;
		v.off = MSG_NAME_AT + nl;
		capture_vec(&v);
		q->len = MSG_NAME_AT + nl + v.len;
		q->cut |= v.cut;
		return 0;
	}
	case ET_ARG_BUF:
	case ET_ARG_SOCKADDR:
		want = 0;
		if (q->flags & ET_ARG_LEN_PTR) {
			__u32 v = 0;

			/* The length the call returned through the pointer;
			 * it copied no more than the buffer held. */
			if (!q->output)
				return 0;
			if (bpf_probe_read_user(&v, sizeof(v), (void *)q->args[la])) {
				q->cut = 1;
				q->fault = 1;
				return 0;
			}
			want = v > 0x7fffffff ? 0 : v;
			if (want > q->pre_len)
				want = q->pre_len;
		} else if (q->flags & ET_ARG_LEN_ARG) {
			want = len_value(q, la);
		}
		if (q->output && (q->flags & ET_ARG_LEN_RET) && (!(q->flags & (ET_ARG_LEN_ARG | ET_ARG_LEN_PTR)) || (__u64)q->ret < want))
			want = q->ret;
		if (q->kind == ET_ARG_SOCKADDR) {
			limit = q->size < ET_SOCKADDR_MAX ? q->size : ET_SOCKADDR_MAX;
		} else {
			limit = max_bytes;
			if (limit > ET_BYTES_MAX)
				limit = ET_BYTES_MAX;
		}
		break;
	case ET_ARG_STRUCT:
		want = q->size;
		limit = ET_BYTES_MAX;
		break;
	case ET_ARG_FDSET:
		want = (len_value(q, la) + 7) / 8;
		limit = q->size < ET_FDSET_MAX ? q->size : ET_FDSET_MAX;
		break;
	case ET_ARG_ARRAY:
		want = q->output && (q->flags & ET_ARG_LEN_RET) ? (__u64)q->ret : len_value(q, la);
		if (want > ET_BYTES_MAX)
			want = ET_BYTES_MAX;
		want *= q->elem;
		/* `size` is a whole number of elements (ET_ARRAY_MAX at most). */
		limit = q->size < ET_BYTES_MAX ? q->size : ET_BYTES_MAX;
		break;
	default:
		return 0;
	}
	len = want < limit ? want : limit;
	if (want > len)
		q->cut = 1;
	if (len == 0 || len > SYS_SEG_MAX)
		return 0;
	if (bpf_probe_read_user(dst, len, (void *)ptr)) {
		q->cut = 1;
		q->fault = 1;
		return 0;
	}
	q->len = len;
	return 0;
}

/*
 * The captures of one side of the call into SLOT_REC's segments: at entry
 * the inputs (in and inout); at exit the outputs (out and inout), and the
 * inputs in `retry` once more (the kernel has touched their pages by now; an
 * exec, which replaces the memory, clears retry). Fills seg_len[] and *cut
 * of the record; returns the arguments whose memory could not be read.
 */
static __always_inline __u32 capture_all(__u32 *seg_len, __u32 *cut, const struct et_sysdesc *d,
					 const struct et_sys_stash *s, bool at_exit, __u32 retry, long ret)
{
	struct capture_req q;
	__u32 fault = 0;

#pragma unroll
	for (int i = 0; i < ET_SYS_NARGS; i++)
		q.args[i] = s->args[i];
	q.ret = ret;
	q.pre_len = s->pre_len;
	q._pad0[0] = q._pad0[1] = q._pad0[2] = 0;
	*cut = 0;
#pragma unroll
	for (int i = 0; i < ET_SYS_NARGS; i++) {
		const struct et_argdesc *a = &d->args[i];
		bool out = a->flags & (ET_ARG_OUT | ET_ARG_INOUT);

		seg_len[i] = 0;
		if (a->kind == ET_ARG_VALUE || !(at_exit ? out || (retry & (1u << i)) : !(a->flags & ET_ARG_OUT)))
			continue;
		q.idx = i;
		q.size = a->size;
		q.kind = a->kind;
		q.flags = a->flags;
		q.len_arg = a->len_arg;
		q.elem = a->elem;
		q.output = at_exit && out;
		capture_arg(&q);
		seg_len[i] = q.len;
		*cut |= q.cut << i;
		fault |= q.fault << i;
	}
	return fault;
}

/* The bytes of a record's tail: its segments, each at most SYS_SEG_MAX
 * (emit_sys refuses a record that breaks that). */
static __always_inline __u64 tail_size(const __u32 *seg_len)
{
	__u64 total = 0;

#pragma unroll
	for (int i = 0; i < ET_SYS_NARGS; i++)
		total += seg_len[i];
	return total;
}

/* Copies a record built in SLOT_REC into the ring: the fixed part (its
 * hdr.size already set to rec_size + tail_size), then each argument's
 * segment, seg_len[i] bytes. */
static __always_inline long emit_sys(__u8 *rec, __u64 rec_size, const __u32 *seg_len, __u64 tail_size)
{
	struct bpf_dynptr d;
	__u64 off = rec_size;
	long err;

	if (tail_size > ET_SYS_NARGS * SYS_SEG_MAX)
		return -1;
	err = bpf_ringbuf_reserve_dynptr(&events, rec_size + tail_size, 0, &d);
	if (err) {
		bpf_ringbuf_discard_dynptr(&d, 0);
		return err;
	}
	err = bpf_dynptr_write(&d, 0, rec, rec_size, 0);
#pragma unroll
	for (int i = 0; i < ET_SYS_NARGS; i++) {
		__u64 len = seg_len[i];

		if (len > SYS_SEG_MAX) {
			err = -1;
			break;
		}
		if (!len)
			continue;
		err |= bpf_dynptr_write(&d, off, rec + SYS_SEG_AT(i), len, 0);
		off += len;
	}
	if (err) {
		/* Cannot happen with the bounds above; never submit garbage. */
		bpf_ringbuf_discard_dynptr(&d, 0);
		return err;
	}
	bpf_ringbuf_submit_dynptr(&d, wakeup_flags(rec_size + tail_size));
	return 0;
}

/*
 * With trace_syscalls, sys_enter/sys_exit also keep the failed-exec path
 * (exec_calls, et_exec_failed) in place of the four tracepoint/syscalls/
 * programs, which then return at once: the recorder should not even load
 * them (Tracer `disable`), as any program on a syscalls/ event makes the
 * kernel's perf dispatch run at every syscall entry and exit (~30 ns each
 * here). x86_64 numbers, as the rest of this object.
 */
#define NR_EXECVE 59
#define NR_EXECVEAT 322

static __always_inline bool exec_nr(__u32 nr)
{
	return nr == NR_EXECVE || nr == NR_EXECVEAT;
}

/* True for a task running an ia32 syscall: its numbers are the i386 table's,
 * which the descriptors do not describe. */
static __always_inline bool compat_call(struct task_struct *t)
{
	return t->thread_info.status & TS_COMPAT;
}

/* ET_SYSD_PRE: the int at args[pre_arg] + pre_off at entry (accept's
 * *upeer_addrlen, recvmsg's msg_namelen: the size of the buffer the call
 * will fill), which bounds what the exit capture reads of that buffer. */
static __always_inline __u32 read_pre(const struct et_sys_stash *s, const struct et_sysdesc *d)
{
	__u32 a = d->pre_arg, v = 0;
	__u64 p;

	if (a >= ET_SYS_NARGS)
		return PRE_UNKNOWN;
	p = s->args[a];
	if (!p || bpf_probe_read_user(&v, sizeof(v), (void *)(p + d->pre_off)))
		return PRE_UNKNOWN;
	return v > 0x7fffffff ? 0 : v;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	__u64 now, cookie;
	__u32 nr = id, tid, tgid;
	bool traced;
	struct task_struct *task;
	struct et_sysdesc *d;
	struct et_sys_stash *s;
	struct et_sys_enter *e;
	__u64 tail;
	__u8 *rec;
	long err;

	if (!trace_syscalls || (unsigned long)id >= ET_SYSCALL_MAX)
		return 0;
	d = bpf_map_lookup_elem(&sys_descs, &nr);
	traced = d && (d->flags & ET_SYSD_TRACE);
	if (!traced && !exec_nr(nr))
		return 0;
	task = bpf_get_current_task_btf();
	tgid = task->tgid;
	tid = task->pid;
	if (tgid == self_tgid || compat_call(task))
		return 0;
	if (nr == NR_EXECVE)
		enter_exec(regs->di, regs->si, -100 /* AT_FDCWD */, 0, ET_SYS_EXECVE);
	else if (nr == NR_EXECVEAT)
		enter_exec(regs->si, regs->dx, (__s32)regs->di, (__u32)regs->r8, ET_SYS_EXECVEAT);
	if (!traced)
		return 0;
	if (FILTERS_ON) {
		struct filter_state *st = pidns_filter ? filter_state(task) : NULL;

		if (!wanted_st(task, tgid, st)) {
			if (!st)
				st = filter_state(task);
			if (st)
				st->excluded_call = 1;
			count_filtered(nr, d->flags);
			return 0;
		}
	}
	now = bpf_ktime_get_boot_ns();

	/* Made (zeroed) at first sight of this thread: once per thread, not per call. */
	s = bpf_task_storage_get(&sys_stash, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s)
		return 0;
	/* Before the call's records: the context it runs in, when first seen or
	 * changed since the last one written (by an exec, an untraced setuid,
	 * a move to another cgroup, a new parent ...). */
	cookie = ctx_cookie(task);
	if (cookie != s->ctx_cookie) {
		s->ctx_cookie = cookie;
		emit_task_ctx(task, now, tgid, tid);
	}
	s->enter_ts = now;
	s->nr = nr;
	read_args(s->args, regs);
	s->retry = 0;
	s->in_call = STASH_CALL;

	if (!(d->flags & (ET_SYSD_HAS_IN | ET_SYSD_NORETURN | ET_SYSD_PRE)))
		return 0;
	if (d->flags & ET_SYSD_PRE)
		s->pre_len = read_pre(s, d);
	if (!(d->flags & (ET_SYSD_HAS_IN | ET_SYSD_NORETURN)))
		return 0;
	rec = slot(SLOT_REC);
	if (!rec)
		return 0;
	e = (struct et_sys_enter *)rec;
	e->nr = nr;
#pragma unroll
	for (int i = 0; i < ET_SYS_NARGS; i++)
		e->args[i] = s->args[i];
	s->retry = capture_all(e->seg_len, &e->cut, d, s, false, 0, 0);
	tail = tail_size(e->seg_len);
	fill_header(&e->hdr, ET_SYS_ENTER, e->cut ? ET_F_TRUNCATED : 0, sizeof(*e) + tail, now, tgid, tid);
	err = emit_sys(rec, sizeof(*e), e->seg_len, tail);
	count(ET_SYS_ENTER, err);
	return 0;
}

/* An exit whose entry was not seen: the call began before recording (or its
 * entry was lost to a detach race). Arguments unknown, so no captures. */
static __always_inline void exit_no_enter(struct task_struct *task, struct et_sys_stash *s, __u32 nr, long ret,
					  __u64 now, __u32 tgid, __u32 tid)
{
	struct et_sys_exit *r;
	long err;

	if (!wanted(task, tgid)) {
		/* began before recording, by a task a filter excludes */
		count_filtered(nr, ET_SYSD_TRACE);
		return;
	}
	if (!s)
		s = bpf_task_storage_get(&sys_stash, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (s) {
		__u64 cookie = ctx_cookie(task);

		s->in_call = STASH_IDLE;
		if (cookie != s->ctx_cookie) {
			s->ctx_cookie = cookie;
			emit_task_ctx(task, now, tgid, tid);
		}
	}
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		err = -1;
	} else {
		fill_header(&r->hdr, ET_SYS_EXIT, ET_F_NO_ENTER, sizeof(*r), now, tgid, tid);
		r->nr = nr;
		r->cut = 0;
		r->ret = ret;
		r->enter_ts_ns = 0;
#pragma unroll
		for (int i = 0; i < ET_SYS_NARGS; i++) {
			r->args[i] = 0;
			r->seg_len[i] = 0;
		}
		bpf_ringbuf_submit(r, wakeup_flags(sizeof(*r)));
		err = 0;
	}
	count(ET_SYS_EXIT, err);
	count_sys(nr, err);
}

/* ---- what a descriptor refers to: et_fd ---------------------------------- */

/* include/uapi/linux/magic.h: the pseudo filesystems a descriptor's file may be on */
#define SOCKFS_MAGIC 0x534F434B
#define PIDFS_MAGIC 0x50494446
#define NSFS_MAGIC 0x6e736673
/* include/uapi/linux/stat.h */
#define S_IFMT 0170000
#define S_IFSOCK 0140000
/* include/linux/socket.h */
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define AF_NETLINK 16
#define EINPROGRESS 115

/* In the slot an et_fd is built in: the record at 0, a unix address at
 * FD_ADDR, the path (the walk's components, or a name) at PATH_C. */
#define FD_ADDR PATH_A
#define SUN_PATH_MAX 108

_Static_assert(sizeof(struct et_fd) <= PATH_A, "et_fd fits before the unix address");

/* Snapshot: descriptors described per process at most (the recorder counts the rest). */
#define SNAP_FDS_MAX 4096

/* new_encode_dev(): a kernel dev_t as stat(2) gives it. */
static __always_inline __u32 encode_dev(__u32 kdev)
{
	__u32 major = kdev >> 20, minor = kdev & 0xfffff;

	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

/* The file descriptor fd of task t holds (NULL: none), and whether it is
 * close-on-exec. */
static __always_inline struct file *fd_file(struct task_struct *t, __u32 fd, bool *cloexec)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	unsigned long *coe;
	unsigned long word = 0;
	struct file **fds;
	struct file *f = NULL;

	*cloexec = false;
	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
		return NULL;
	coe = BPF_CORE_READ(fdt, close_on_exec);
	if (!bpf_probe_read_kernel(&word, sizeof(word), &coe[fd / 64]))
		*cloexec = (word >> (fd % 64)) & 1;
	return f;
}

/* A socket's family, type and both ends as the kernel holds them now: inet
 * addresses and ports, a unix socket's bound address (at FD_ADDR of out) and
 * its peer's inode, a netlink socket's port id. */
static __always_inline void describe_socket(struct et_fd *r, struct socket *sock, __u8 *out)
{
	struct sock *sk = BPF_CORE_READ(sock, sk);
	__u16 family;

	if (!sk)
		return;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	r->family = family;
	r->sock_type = BPF_CORE_READ(sk, sk_type);
	r->protocol = BPF_CORE_READ(sk, sk_protocol);
	r->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (family == AF_INET) {
		__u32 local = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 peer = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		__builtin_memcpy(r->local_addr, &local, 4);
		__builtin_memcpy(r->peer_addr, &peer, 4);
	} else if (family == AF_INET6) {
		BPF_CORE_READ_INTO((struct in6_addr *)r->local_addr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO((struct in6_addr *)r->peer_addr, sk, __sk_common.skc_v6_daddr);
	}
	if (family == AF_INET || family == AF_INET6) {
		r->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
		r->peer_port = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	} else if (family == AF_UNIX) {
		struct unix_sock *u = (void *)sk;
		struct unix_address *a = BPF_CORE_READ(u, addr);
		struct sock *peer = BPF_CORE_READ(u, peer);

		if (a) {
			/* name: sun_family, then the path bytes the address uses */
			int len = BPF_CORE_READ(a, len) - 2;

			if (len > 0 && len <= SUN_PATH_MAX &&
			    !bpf_probe_read_kernel(out + FD_ADDR, len & 0x7f,
						   (void *)a + bpf_core_field_offset(struct unix_address, name) + 2))
				r->addr_len = len;
		}
		/* A peer not accepted yet has no socket, so no inode: 0. */
		if (peer)
			r->peer_ino = BPF_CORE_READ(peer, sk_socket, file, f_inode, i_ino);
	} else if (family == AF_NETLINK) {
		r->portid = BPF_CORE_READ((struct netlink_sock *)sk, portid);
	}
}

/* Fills r (zeroed by the caller) with what file f is, as task t sees it;
 * its path goes to PATH_C of ws->out. Returns the path's length. */
static __always_inline __u32 describe_file(struct et_fd *r, struct task_struct *t, struct file *f, struct walk_slots *ws, __u8 *out)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	__u64 len = 0;
	__u32 wf = 0;
	long n;

	r->f_flags = BPF_CORE_READ(f, f_flags);
	r->ino = BPF_CORE_READ(inode, i_ino);
	r->dev = encode_dev(BPF_CORE_READ(inode, i_sb, s_dev));
	r->rdev = encode_dev(BPF_CORE_READ(inode, i_rdev));
	r->mode = BPF_CORE_READ(inode, i_mode);
	r->nlink = BPF_CORE_READ(inode, __i_nlink);
	r->magic = BPF_CORE_READ(inode, i_sb, s_magic);
	if ((r->mode & S_IFMT) == S_IFSOCK && r->magic == SOCKFS_MAGIC)
		describe_socket(r, BPF_CORE_READ(f, private_data), out);
	else if (r->magic == PIDFS_MAGIC) {
		struct pid *pid = BPF_CORE_READ(f, private_data);

		r->pidfd_pid = BPF_CORE_READ(pid, numbers[0].nr);
	}
	if (r->magic == NSFS_MAGIC) {
		/* "net:[4026531833]": the namespace's type names it */
		struct ns_common *ns = BPF_CORE_READ(inode, i_private);

		n = bpf_probe_read_kernel_str(out + PATH_C, 64, BPF_CORE_READ(ns, ops, name));
		if (n > 0) {
			len = n;
			r->fd_flags |= ET_FD_NAME;
		}
	} else if (BPF_CORE_READ(d, d_op, d_dname)) {
		/* A pseudo file (pipe, socket, anon inode): named on demand from
		 * its dentry's name, which is all there is to walk. */
		n = bpf_probe_read_kernel_str(out + PATH_C, 256, BPF_CORE_READ(d, d_name.name));
		if (n > 0) {
			len = n;
			r->fd_flags |= ET_FD_NAME;
		}
	} else {
		len = path_walk(t, d, BPF_CORE_READ(f, f_path.mnt), ws, &wf);
		r->fd_flags |= wf << 2;
		/* d_unlinked(): unhashed, and not a root */
		if (!BPF_CORE_READ(d, d_hash.pprev) && BPF_CORE_READ(d, d_parent) != d)
			r->fd_flags |= ET_FD_DELETED;
	}
	r->path_len = len > ET_PATH_MAX ? 0 : len;
	return r->path_len;
}

/* The working directory of task t, as describe_file describes a file. */
static __always_inline __u32 describe_cwd(struct et_fd *r, struct task_struct *t, struct walk_slots *ws)
{
	struct fs_struct *fs = BPF_CORE_READ(t, fs);
	struct dentry *d = BPF_CORE_READ(fs, pwd.dentry);
	struct inode *inode = BPF_CORE_READ(d, d_inode);
	__u64 len;
	__u32 wf = 0;

	if (!d)
		return 0;
	r->ino = BPF_CORE_READ(inode, i_ino);
	r->dev = encode_dev(BPF_CORE_READ(inode, i_sb, s_dev));
	r->mode = BPF_CORE_READ(inode, i_mode);
	r->nlink = BPF_CORE_READ(inode, __i_nlink);
	r->magic = BPF_CORE_READ(inode, i_sb, s_magic);
	len = path_walk(t, d, BPF_CORE_READ(fs, pwd.mnt), ws, &wf);
	r->fd_flags |= wf << 2;
	if (!BPF_CORE_READ(d, d_hash.pprev) && BPF_CORE_READ(d, d_parent) != d)
		r->fd_flags |= ET_FD_DELETED;
	r->path_len = len > ET_PATH_MAX ? 0 : len;
	return r->path_len;
}

/* Describes descriptor fd (or ET_FD_CWD) of the calling task after call nr,
 * and writes the et_fd, before the call's et_sys_exit. */
static __always_inline void emit_fd(struct task_struct *t, __u32 nr, __u64 enter_ts, __s32 fd, __u64 now, __u32 tgid, __u32 tid)
{
	struct walk_slots ws = {.state = SLOT_STR, .out = SLOT_REC};
	__u8 *out = slot(SLOT_REC);
	struct bpf_dynptr dp;
	struct et_fd *r;
	__u64 path_len, addr_len, size;
	bool coe = false;
	long err;

	if (!out)
		return;
	r = (struct et_fd *)out;
	__builtin_memset(r, 0, sizeof(*r));
	if (fd == ET_FD_CWD) {
		describe_cwd(r, t, &ws);
	} else {
		struct file *f = fd_file(t, fd, &coe);

		if (!f)
			return; /* closed already, by another thread */
		if (coe)
			r->fd_flags |= ET_FD_CLOEXEC;
		describe_file(r, t, f, &ws, out);
	}
	r->enter_ts_ns = enter_ts;
	r->nr = nr;
	r->fd = fd;
	path_len = r->path_len;
	addr_len = r->addr_len;
	if (path_len > ET_PATH_MAX || addr_len > SUN_PATH_MAX)
		return;
	size = sizeof(*r) + path_len + addr_len;
	fill_header(&r->hdr, ET_FD, r->fd_flags & ET_FD_PATH_TRUNCATED ? ET_F_TRUNCATED : 0, size, now, tgid, tid);
	err = bpf_ringbuf_reserve_dynptr(&events, size, 0, &dp);
	if (!err) {
		err = bpf_dynptr_write(&dp, 0, out, sizeof(*r), 0);
		/* The masks change nothing (both were checked above); they keep
		 * the bounds the verifier needs across the spill of the lengths,
		 * and the barriers keep the compiler from dropping them. */
		barrier_var(path_len);
		barrier_var(addr_len);
		if (path_len)
			err |= bpf_dynptr_write(&dp, sizeof(*r), out + PATH_C, path_len & (2 * ET_PATH_MAX - 1), 0);
		if (addr_len)
			err |= bpf_dynptr_write(&dp, sizeof(*r) + path_len, out + FD_ADDR, addr_len & 0x7f, 0);
	}
	if (err) {
		bpf_ringbuf_discard_dynptr(&dp, 0);
	} else {
		bpf_ringbuf_submit_dynptr(&dp, wakeup_flags(size));
	}
	count(ET_FD, err);
}

/* After a successful call that made or changed descriptors (et_sysdesc.fd_how),
 * what they refer to now. */
static __always_inline void emit_fds(struct task_struct *t, const struct et_sysdesc *d, const struct et_sys_stash *s,
				     __u32 nr, long ret, __u64 now, __u32 tgid, __u32 tid)
{
	__s32 pair[2] = {-1, -1};
	__u32 i = d->fd_arg;

	switch (d->fd_how) {
	case ET_FDS_RET:
		if (ret >= 0)
			emit_fd(t, nr, s->enter_ts, ret, now, tgid, tid);
		return;
	case ET_FDS_ARG:
		if ((ret == 0 || ret == -EINPROGRESS) && i < ET_SYS_NARGS)
			emit_fd(t, nr, s->enter_ts, (__s32)s->args[i], now, tgid, tid);
		return;
	case ET_FDS_PAIR:
		if (ret != 0 || i >= ET_SYS_NARGS || bpf_probe_read_user(pair, sizeof(pair), (void *)s->args[i]))
			return;
		if (pair[0] >= 0)
			emit_fd(t, nr, s->enter_ts, pair[0], now, tgid, tid);
		if (pair[1] >= 0)
			emit_fd(t, nr, s->enter_ts, pair[1], now, tgid, tid);
		return;
	case ET_FDS_CWD:
		if (ret == 0)
			emit_fd(t, nr, s->enter_ts, ET_FD_CWD, now, tgid, tid);
		return;
	}
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	__u64 now, nr64;
	__u32 nr, tid, tgid;
	struct task_struct *task;
	struct et_sysdesc *d;
	struct et_sys_stash *s;
	struct et_sys_exit *r;
	bool traced;
	long err;

	if (!trace_syscalls)
		return 0;
	nr64 = regs->orig_ax;
	if (nr64 >= ET_SYSCALL_MAX) {
		/* The exit does not say which call it ends: rt_sigreturn restores
		 * orig_ax to -1 (so that the interrupted call is not restarted),
		 * a tracer may have changed it. The thread's own entry says. */
		task = bpf_get_current_task_btf();
		s = bpf_task_storage_get(&sys_stash, task, 0, 0);
		if (!s || s->in_call != STASH_CALL) {
			struct filter_state *st = FILTERS_ON ? bpf_task_storage_get(&filter_states, task, 0, 0) : NULL;

			if (st)
				st->excluded_call = 0; /* the end of a call a filter left out */
			return 0;
		}
		nr64 = s->nr;
	}
	nr = nr64;
	d = bpf_map_lookup_elem(&sys_descs, &nr);
	traced = d && (d->flags & ET_SYSD_TRACE);
	if (!traced && !exec_nr(nr))
		return 0;
	task = bpf_get_current_task_btf();
	tgid = task->tgid;
	tid = task->pid;
	if (tgid == self_tgid)
		return 0;
	if (exec_nr(nr) && !compat_call(task))
		exit_exec(ret);
	if (!traced)
		return 0;
	if (FILTERS_ON) {
		/* The end of a call a filter excluded, counted at entry. */
		struct filter_state *st = bpf_task_storage_get(&filter_states, task, 0, 0);

		if (st && st->excluded_call) {
			st->excluded_call = 0;
			return 0;
		}
	}

	s = bpf_task_storage_get(&sys_stash, task, 0, 0);
	if (s && s->in_call == STASH_CHILD) {
		/* A new task returning from the fork that made it: that call is
		 * its parent's, recorded there (strace -f counts it once too);
		 * the task's context goes out before its first call. */
		s->in_call = STASH_IDLE;
		return 0;
	}
	now = bpf_ktime_get_boot_ns();
	if (!s || s->in_call != STASH_CALL || s->nr != nr) {
		/* Not an ordinary exit, whose entry was seen, so was not an ia32 call. */
		if (!compat_call(task))
			exit_no_enter(task, s, nr, ret, now, tgid, tid);
		return 0;
	}
	s->in_call = STASH_IDLE;
	/* Before the call's record, so that a reader has the descriptor it
	 * returns when the call's event is complete. */
	if (d->fd_how != ET_FDS_NONE)
		emit_fds(task, d, s, nr, ret, now, tgid, tid);

	if (!s->retry && !(d->flags & ET_SYSD_HAS_OUT)) {
		r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
		if (!r) {
			err = -1;
		} else {
			fill_header(&r->hdr, ET_SYS_EXIT, 0, sizeof(*r), now, tgid, tid);
			r->nr = nr;
			r->cut = 0;
			r->ret = ret;
			r->enter_ts_ns = s->enter_ts;
#pragma unroll
			for (int i = 0; i < ET_SYS_NARGS; i++) {
				r->args[i] = s->args[i];
				r->seg_len[i] = 0;
			}
			bpf_ringbuf_submit(r, wakeup_flags(sizeof(*r)));
			err = 0;
		}
	} else {
		__u8 *rec = slot(SLOT_REC);
		__u64 tail;

		if (!rec)
			return 0;
		r = (struct et_sys_exit *)rec;
		r->nr = nr;
		r->ret = ret;
		r->enter_ts_ns = s->enter_ts;
#pragma unroll
		for (int i = 0; i < ET_SYS_NARGS; i++)
			r->args[i] = s->args[i];
		capture_all(r->seg_len, &r->cut, d, s, true, s->retry, ret);
		tail = tail_size(r->seg_len);
		fill_header(&r->hdr, ET_SYS_EXIT, r->cut ? ET_F_TRUNCATED : 0, sizeof(*r) + tail, now, tgid, tid);
		err = emit_sys(rec, sizeof(*r), r->seg_len, tail);
	}
	count(ET_SYS_EXIT, err);
	count_sys(nr, err);

	/* A call that may change the context (setuid, unshare ...): the new
	 * one after its record, as the call itself ran in the old one. Other
	 * changes are found by the cookie at the next entry. */
	if (d->flags & ET_SYSD_CTX) {
		s->ctx_cookie = ctx_cookie(task);
		emit_task_ctx(task, now, tgid, tid);
	}
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 pid = BPF_CORE_READ(child, pid);
	__u32 tgid = BPF_CORE_READ(child, tgid);
	struct et_fork *r;

	if (trace_syscalls && tgid != self_tgid && !(BPF_CORE_READ(child, flags) & (PF_KTHREAD | PF_IO_WORKER))) {
		/* The child's first sys_exit will be the return of this fork:
		 * tell sys_exit so, before the child can run. */
		struct et_sys_stash *s = bpf_task_storage_get(&sys_stash, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

		if (s)
			s->in_call = STASH_CHILD;
	}
	if (pid != tgid)
		return 0; /* a new thread, not a new process */
	if (follow) {
		/* Before the child can run, so that its first event is kept.
		 * The parent is the task that forked, whoever the child's
		 * real_parent (CLONE_PARENT) is. */
		__u32 ptgid = BPF_CORE_READ(parent, tgid);

		if (bpf_map_lookup_elem(&pids, &ptgid)) {
			__u8 one = 1;

			if (bpf_map_update_elem(&pids, &tgid, &one, BPF_ANY)) {
				__u32 zero = 0;
				__u64 *full = bpf_map_lookup_elem(&pids_full, &zero);

				if (full)
					(*full)++;
			}
		}
	}
	if (stats_only)
		return 0; /* --follow's set is kept above; no record */
	/* The record is the child's: it is matched on the child's context. */
	if (!wanted(child, tgid)) {
		count_filtered_type(ET_FORK);
		return 0;
	}
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count(ET_FORK, -1);
		return 0;
	}
	fill_header(&r->hdr, ET_FORK, 0, sizeof(*r), bpf_ktime_get_boot_ns(), tgid, pid);
	fill_task(&r->task, child);
	r->parent_tid = BPF_CORE_READ(parent, pid);
	/* What the child shares rather than copies: the model of descriptors
	 * follows one table, or two (decode, src/fds). */
	r->fork_flags = (BPF_CORE_READ(child, files) == BPF_CORE_READ(parent, files) ? ET_FORK_FILES : 0) |
			(BPF_CORE_READ(child, fs) == BPF_CORE_READ(parent, fs) ? ET_FORK_FS : 0);
	bpf_ringbuf_submit(r, wakeup_flags(sizeof(*r)));
	count(ET_FORK, 0);
	return 0;
}

/*
 * The process's exit, written when its last thread exits: a thread still
 * blocked in a call when another calls exit_group (or the process is
 * killed) ends that call first, so every call of the process is in the
 * stream before its exit. The status is the one wait() reports: the group's
 * exit code after a group exit, else the leader's own. The leader (maybe
 * already a zombie, whose namespaces are gone) gives the comm and the start
 * time; the exiting thread, still whole, gives the rest of the context.
 */
static __always_inline void emit_exit(struct task_struct *p, struct task_struct *leader, __u64 now, __u32 tgid, __u32 pid)
{
	struct et_exit *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	struct signal_struct *sig = BPF_CORE_READ(p, signal);

	if (!r) {
		count(ET_EXIT, -1);
		return;
	}
	fill_header(&r->hdr, ET_EXIT, 0, sizeof(*r), now, tgid, pid);
	fill_task(&r->task, p);
	BPF_CORE_READ_INTO(&r->task.comm, leader, comm);
	if (BPF_CORE_READ(sig, flags) & SIGNAL_GROUP_EXIT)
		r->exit_code = BPF_CORE_READ(sig, group_exit_code);
	else
		r->exit_code = BPF_CORE_READ(leader, exit_code);
	r->nr_threads = BPF_CORE_READ(sig, nr_threads);
	r->running_time_ns = now - BPF_CORE_READ(leader, start_boottime);
	bpf_ringbuf_submit(r, wakeup_flags(sizeof(*r)));
	count(ET_EXIT, 0);
}

/*
 * Processes whose exit is written, on a kernel without group_dead: there,
 * two threads exiting at once can both see signal->live at 0, and the one
 * whose insert succeeds (BPF_NOEXIST is atomic) writes the exit. Keyed by
 * tgid and the leader's start time, so a reused pid is a new key; old keys
 * age out of the LRU.
 */
struct exit_key {
	__u64 start_boottime;
	__u32 tgid;
	__u32 _pad0;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct exit_key);
	__type(value, __u8);
} exits_written SEC(".maps");

static __always_inline bool last_thread(struct task_struct *p, struct task_struct *leader, __u32 tgid, bool group_dead)
{
	struct exit_key key = {};
	__u8 one = 1;

	if (exit_group_dead)
		return group_dead;
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return false;
	key.start_boottime = BPF_CORE_READ(leader, start_boottime);
	key.tgid = tgid;
	return bpf_map_update_elem(&exits_written, &key, &one, BPF_NOEXIST) == 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, pid);
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct task_struct *leader = p->group_leader; /* a BTF pointer: wanted() reads through it */
	__u64 now = bpf_ktime_get_boot_ns();
	/* Read only where the tracepoint has it: the branch is a load-time
	 * constant, so older kernels never see the access. */
	bool group_dead = exit_group_dead ? (bool)ctx[1] : false;
	bool last;

	/* A thread killed inside execve never reaches sys_exit. */
	bpf_map_delete_elem(&exec_calls, &pid);
	/* Every thread: its syscall state dies with it (the kernel would free
	 * it with the task, but the zombie must not look like it is in a call,
	 * e.g. the exit_group it never returns from, to the recorder at stop). */
	if (trace_syscalls)
		bpf_task_storage_delete(&sys_stash, p);
	/* A leader killed because another of its threads is exec'ing is not
	 * the last: the exec'ing thread lives on as the leader. */
	last = last_thread(p, leader, tgid, group_dead);
	if (last && !stats_only) {
		if (wanted(leader, tgid))
			emit_exit(p, leader, now, tgid, pid);
		else
			count_filtered_type(ET_EXIT);
	}
	/* The last thread of the process: its pid may now be reused. do_exit()
	 * counts the thread out of signal->live before this tracepoint. After the
	 * exit record, which the filter still kept. */
	if (pid_filter_on && last)
		bpf_map_delete_elem(&pids, &tgid);
	return 0;
}

/*
 * The processes alive when recording starts, with what their exec_id is made
 * of: the recorder runs this once, beside its /proc snapshot. One et_snap per
 * thread-group leader.
 */
SEC("iter/task")
int snapshot_tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct et_snap r;

	if (!t || t->pid != t->tgid)
		return 0;
	r.pid = t->tgid;
	r.ppid = BPF_CORE_READ(t, real_parent, tgid);
	r.start_ns = t->start_boottime;
	r.exec_seq = t->self_exec_id;
	r.parent_start_ns = BPF_CORE_READ(t, real_parent, group_leader, start_boottime);
	r.parent_exec_seq = BPF_CORE_READ(t, real_parent, group_leader, self_exec_id);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

/*
 * The descriptors open when recording starts, in the processes the filters
 * keep, and the recorder's 0, 1 and 2, which the command it runs inherits: one
 * et_fd each (nr ET_FD_SNAPSHOT), described as sys_exit describes
 * the ones calls make, at most SNAP_FDS_MAX per process. The recorder runs it
 * once, beside its /proc snapshot, when syscalls are recorded.
 */
__u32 snap_tgid = 0;
__u32 snap_count = 0;

SEC("iter/task_file")
int snapshot_fds(struct bpf_iter__task_file *ctx)
{
	struct walk_slots ws = {.state = SLOT_ITER_STR, .out = SLOT_ITER};
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *t = ctx->task;
	struct file *f = ctx->file;
	__u64 path_len, addr_len;
	struct et_fd *r;
	__u32 tgid;
	bool coe = false;
	__u8 *out;

	if (!t || !f)
		return 0;
	tgid = t->tgid;
	/* The recorder's own stdin, stdout and stderr: what its command inherits. */
	if (tgid == self_tgid ? ctx->fd > 2 : !wanted(t, tgid))
		return 0;
	if (tgid != snap_tgid) {
		snap_tgid = tgid;
		snap_count = 0;
	}
	if (++snap_count > SNAP_FDS_MAX)
		return 0;
	out = slot(SLOT_ITER);
	if (!out)
		return 0;
	r = (struct et_fd *)out;
	__builtin_memset(r, 0, sizeof(*r));
	fd_file(t, ctx->fd, &coe);
	if (coe)
		r->fd_flags |= ET_FD_CLOEXEC;
	describe_file(r, t, f, &ws, out);
	r->nr = ET_FD_SNAPSHOT;
	r->fd = ctx->fd;
	path_len = r->path_len;
	addr_len = r->addr_len;
	if (path_len > ET_PATH_MAX || addr_len > SUN_PATH_MAX)
		return 0;
	fill_header(&r->hdr, ET_FD, r->fd_flags & ET_FD_PATH_TRUNCATED ? ET_F_TRUNCATED : 0,
		    sizeof(*r) + path_len + addr_len, bpf_ktime_get_boot_ns(), tgid, tgid);
	bpf_seq_write(seq, out, sizeof(*r));
	barrier_var(path_len);
	barrier_var(addr_len);
	if (path_len)
		bpf_seq_write(seq, out + PATH_C, path_len & (2 * ET_PATH_MAX - 1));
	if (addr_len)
		bpf_seq_write(seq, out + FD_ADDR, addr_len & 0x7f);
	return 0;
}
