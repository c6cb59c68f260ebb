// SPDX-License-Identifier: MIT
// Broken objects for test/native.test.ts, compiled by the test with clang:
//   -DREJECT  a program the verifier refuses (a load through a scalar)
//   default   one program that attaches and one whose tracepoint does not exist
// No includes, so any clang with a BPF target builds it.

#define SEC(name) __attribute__((section(name), used))

char LICENSE[] SEC("license") = "GPL";

#ifdef REJECT
static unsigned int (*bpf_get_prandom_u32)(void) = (void *)7; /* BPF_FUNC_get_prandom_u32 */

SEC("tp_btf/sched_process_exec")
int et_test_reject(void *ctx)
{
	return *(int *)(long)bpf_get_prandom_u32();
}
#else
SEC("tp_btf/sched_process_exec")
int et_test_attaches(void *ctx)
{
	return 0;
}

SEC("tracepoint/et_test_nosuch/et_test_nosuch")
int et_test_noattach(void *ctx)
{
	return 0;
}
#endif
