// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * The clock floor of `make bench`: the floor's two programs (floor.bpf.c), each
 * reading the clock exectrace stamps records with (bpf_ktime_get_boot_ns) once
 * and keeping it in a per-CPU slot, so nothing is optimised away. A recorder that
 * gives every syscall its time and duration reads the clock at entry and at exit
 * at least: the storm under this object is what that alone costs, before any
 * record is stored or written.
 */
#include "kernel.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} last_ts SEC(".maps");

static __always_inline void stamp(void)
{
	__u32 zero = 0;
	__u64 *t = bpf_map_lookup_elem(&last_ts, &zero);

	if (t)
		*t = bpf_ktime_get_boot_ns();
}

SEC("tp_btf/sys_enter")
int sys_enter(void *ctx)
{
	stamp();
	return 0;
}

SEC("tp_btf/sys_exit")
int sys_exit(void *ctx)
{
	stamp();
	return 0;
}
