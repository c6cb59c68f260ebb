// src/syscalls: record-time discovery for syscall tracing.
//
// What it is for: the kernel side records a syscall only if the recorder has filled its
// entry of the BPF map `sys_descs` (struct et_sysdesc: trace or not, and for each argument
// what to capture — a string, a buffer, a struct — at entry or at exit). This folder
// decides those entries for the running kernel, and writes down everything the decoder will
// need as the `syscalls` metadata key: the number → name table, each traced syscall's
// argument names and C types, and the kernel layouts of the structs captured.
//
// Sources, all read at record time: the syscall table generated from the uapi headers
// (table_x86_64.ts, `make syscall-table`), the argument names and C types of the syscall
// tracepoints in tracefs (format.ts), the kernel's BTF for typedef sizes and struct
// layouts (ctypes.ts, classify.ts), and our BPF object's BTF for the layout of et_sysdesc
// itself (plan.ts). The constants of bpf/exectrace.h live in src/abi.ts.
//
// Files: table.ts + table_x86_64.ts (numbers and names),
// format.ts (tracefs format files), ctypes.ts (C type names, sized by BTF), classify.ts
// (capture rules and their exceptions), plan.ts (buildSyscallPlan), meta.ts (the types of
// the metadata, safe for the offline side to import).

export { buildSyscallPlan, descEncoder, unknownSyscallMessage, CTX_SYSCALLS, NORETURN_SYSCALLS } from './plan';
export { closeMatches } from '../util/suggest';
export type { SyscallPlan, SyscallPlanOptions } from './plan';
export { syscallTable, hostArch } from './table';
export type { SyscallTable } from './table';
export { parseEventFormat, readEventFormats, enterEventName } from './format';
export type { EventFormat, FormatField } from './format';
export { classifyArgs, rawArgs, unmatchedOverrides, OVERRIDES } from './classify';
export type { Override, ClassifyContext } from './classify';
export { parseCType, resolveBase } from './ctypes';
export type { CType, BaseType } from './ctypes';
export type { ArgInfo, ArgKind, SyscallsMeta } from './meta';
export * as abi from '../abi';
