/* SPDX-License-Identifier: MIT */
/*
 * Test input for test/syscalls-discovery.test.ts: the syscall descriptor structs of
 * bpf/exectrace.h (et_sysdesc, et_argdesc), kept alive so that clang -g -target bpf puts
 * them in the object's BTF. Compiled into the committed fixtures/sysdesc_layouts.bpf.o, so
 * the offline tests encode sys_descs values from a real BTF without needing clang.
 */

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef signed short __s16;
typedef unsigned int __u32;
typedef signed int __s32;
typedef unsigned long long __u64;
typedef signed long long __s64;

#include "../../bpf/exectrace.h"

struct et_argdesc et_argdesc_var;
struct et_sysdesc et_sysdesc_var;
