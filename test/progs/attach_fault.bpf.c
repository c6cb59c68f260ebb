// SPDX-License-Identifier: MIT
// exectrace's own BPF object plus one program that cannot attach (its tracepoint does not
// exist), for test/record-robustness.test.ts: `record --object` loads it, attaches every
// real program, then fails on this last one — an attach that fails halfway.
#include "../../bpf/exectrace.bpf.c"

SEC("tracepoint/et_test_nosuch/et_test_nosuch")
int et_test_noattach(void *ctx)
{
	return 0;
}
