/* SPDX-License-Identifier: MIT */
/*
 * Test input for test/btf.test.ts: one variable of every wire struct of
 * bpf/exectrace.h, so that clang -g -target bpf puts them all in the object's
 * BTF. gcc #includes this file as well, to print offsetof/sizeof of the same
 * structs for comparison with the layouts derived from BTF.
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

struct et_header et_header_var;
struct et_task et_task_var;
struct et_exec et_exec_var;
struct et_exec_failed et_exec_failed_var;
struct et_fork et_fork_var;
struct et_exit et_exit_var;
struct et_lost et_lost_var;
struct et_counter et_counter_var;
struct et_exec_count_key et_exec_count_key_var;
struct et_exec_count et_exec_count_var;
enum et_type et_type_var;
