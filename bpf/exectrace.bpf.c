// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * exectrace kernel side: exec (successful and failed), fork and exit records
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
 *   SLOT_REC   fixed record part at 0, path segment A at PATH_A, B at PATH_B
 *   SLOT_STR   one piece of one argv string of a failed exec
 *   SLOT_ARGS.. argv bytes, contiguous across the slots: byte i of the argv
 *              area is byte i % SLOT_SIZE of slot SLOT_ARGS + i / SLOT_SIZE
 */
#define SLOT_SIZE 32768
#define ARGS_SLOTS (ET_ARGS_MAX / SLOT_SIZE)
#define PATH_A 256
#define PATH_B (PATH_A + ET_PATH_MAX)

enum { SLOT_REC, SLOT_STR, SLOT_ARGS, SLOT_COUNT = SLOT_ARGS + ARGS_SLOTS };

struct slot {
	__u8 bytes[SLOT_SIZE];
};

_Static_assert(ET_ARGS_MAX % SLOT_SIZE == 0, "argv area is whole slots");
_Static_assert(sizeof(struct et_exec) <= PATH_A && sizeof(struct et_exec_failed) <= PATH_A,
	       "fixed record part fits before the paths");
_Static_assert(PATH_B + ET_PATH_MAX <= SLOT_SIZE, "both paths fit in SLOT_REC");

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

/* Wake the drain only when a quarter of the ring is pending; otherwise it
 * finds the records on its next timed poll. One wakeup per record would cost
 * more than the record itself. */
static __always_inline __u64 wakeup_flags(void)
{
	__u64 pending = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);

	return pending >= size / 4 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
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
 * SLOT_REC, then args_len bytes of the argv area.
 */
static __always_inline long emit(void *rec, __u64 rec_size, __u64 a_len, __u64 b_len, __u64 args_len)
{
	__u8 *paths = rec;
	struct bpf_dynptr d;
	/* 64-bit lengths: clang keeps the verifier's bounds on them. */
	__u64 off, done = 0;
	long err;

	if (a_len > ET_PATH_MAX || b_len > ET_PATH_MAX || args_len > ET_ARGS_MAX)
		return -1;
	err = bpf_ringbuf_reserve_dynptr(&events, rec_size + a_len + b_len + args_len, 0, &d);
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
	if (err) {
		/* Cannot happen with the bounds above; never submit garbage. */
		bpf_ringbuf_discard_dynptr(&d, 0);
		return err;
	}
	bpf_ringbuf_submit_dynptr(&d, wakeup_flags());
	return 0;
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

	/* This exec succeeded: sys_exit will run under the leader's tid, so
	 * the caller's pending entry must go now (a no-op for a leader). */
	bpf_map_delete_elem(&exec_calls, &old_tid);

	rec = slot(SLOT_REC);
	if (!rec)
		return 0;
	e = (struct et_exec *)rec;

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

	fill_header(&e->hdr, ET_EXEC, flags, sizeof(*e) + a_len + b_len + got, now,
		    BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
	fill_task(&e->task, p);
	BPF_CORE_READ_INTO(&e->parent_comm, p, real_parent, comm);
	e->old_tid = old_pid;
	e->argc = BPF_CORE_READ(bprm, argc);
	e->args_size = size > 0xffffffffULL ? 0xffffffffU : size;
	e->filename_len = a_len;
	e->interp_len = b_len;
	e->args_len = got;

	err = emit(e, sizeof(*e), a_len, b_len, got);
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
	/* execve(filename, argv, envp) */
	return enter_exec(ctx->args[0], ctx->args[1], -100 /* AT_FDCWD */, 0, ET_SYS_EXECVE);
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int sys_enter_execveat(struct syscall_trace_enter *ctx)
{
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

static __always_inline int exit_exec(struct syscall_trace_exit *ctx)
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
	long ret = ctx->ret, n, a_len, err;

	pending = bpf_map_lookup_elem(&exec_calls, &tid);
	if (!pending)
		return 0;
	call = *pending;
	bpf_map_delete_elem(&exec_calls, &tid);
	if (ret >= 0)
		return 0;

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

	err = emit(f, sizeof(*f), a_len, 0, w.total);
	count(ET_EXEC_FAILED, err);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int sys_exit_execve(struct syscall_trace_exit *ctx)
{
	return exit_exec(ctx);
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int sys_exit_execveat(struct syscall_trace_exit *ctx)
{
	return exit_exec(ctx);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 pid = BPF_CORE_READ(child, pid);
	__u32 tgid = BPF_CORE_READ(child, tgid);
	struct et_fork *r;

	if (pid != tgid)
		return 0; /* a new thread, not a new process */
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count(ET_FORK, -1);
		return 0;
	}
	fill_header(&r->hdr, ET_FORK, 0, sizeof(*r), bpf_ktime_get_boot_ns(), tgid, pid);
	fill_task(&r->task, child);
	r->parent_tid = BPF_CORE_READ(parent, pid);
	r->_pad0 = 0;
	bpf_ringbuf_submit(r, wakeup_flags());
	count(ET_FORK, 0);
	return 0;
}

static __always_inline bool exec_in_progress_elsewhere(struct task_struct *p)
{
	struct signal_struct *sig = BPF_CORE_READ(p, signal);
	struct task_struct *execing = NULL;

	if (bpf_core_field_exists(sig->group_exec_task))
		execing = BPF_CORE_READ(sig, group_exec_task);
	else if (bpf_core_field_exists(((struct signal_struct___pre_5_16 *)sig)->group_exit_task))
		execing = BPF_CORE_READ((struct signal_struct___pre_5_16 *)sig, group_exit_task);
	return execing && execing != p;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, pid);
	__u32 tgid = BPF_CORE_READ(p, tgid);
	__u64 now = bpf_ktime_get_boot_ns();
	struct et_exit *r;

	/* A thread killed inside execve never reaches sys_exit. */
	bpf_map_delete_elem(&exec_calls, &pid);
	if (pid != tgid)
		return 0;
	/* A leader killed because another of its threads is exec'ing: the
	 * process lives on under the same pid, the exec'ing thread taking
	 * the leader's place. */
	if (exec_in_progress_elsewhere(p))
		return 0;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count(ET_EXIT, -1);
		return 0;
	}
	fill_header(&r->hdr, ET_EXIT, 0, sizeof(*r), now, tgid, pid);
	fill_task(&r->task, p);
	r->exit_code = BPF_CORE_READ(p, exit_code);
	r->nr_threads = BPF_CORE_READ(p, signal, nr_threads);
	r->running_time_ns = now - BPF_CORE_READ(p, start_boottime);
	bpf_ringbuf_submit(r, wakeup_flags());
	count(ET_EXIT, 0);
	return 0;
}
