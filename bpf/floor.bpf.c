// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * The floor of `make bench`: empty programs on the hooks exectrace uses for
 * syscalls (the raw sys_enter and sys_exit tracepoints, as tp_btf). The bench
 * loads this object with the addon and runs the syscall storm under it, so
 * every figure can be read against what the kernel itself costs to call a BPF
 * program twice per syscall, before any record is written.
 *
 * No maps: the addon needs `events` only to resize or drain it, and the bench
 * does neither for this object.
 */
#include "kernel.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("tp_btf/sys_enter")
int sys_enter(void *ctx)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int sys_exit(void *ctx)
{
	return 0;
}
