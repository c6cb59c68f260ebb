// The record-time plan for syscall tracing: which syscalls to record and what to capture
// from their arguments, as the values of the BPF map `sys_descs` (et_sysdesc, encoded by
// the layout in our object's BTF) and as the `syscalls` metadata the decoder reads.

import { closeMatches } from '../util/suggest';
import * as fs from 'node:fs';
import { Btf, FieldLayout, RecordLayout, parseBtf, recordLayout } from '../btf';
import { UserError } from '../util/errors';
import { UsageError } from '../util/errors';
import {
  ET_ARG_ARRAY,
  ET_ARG_BUF,
  ET_ARG_FDSET,
  ET_ARG_INOUT,
  ET_ARG_IOVEC,
  ET_ARG_LEN32,
  ET_ARG_LEN_ARG,
  ET_ARG_LEN_PTR,
  ET_ARG_LEN_RET,
  ET_ARG_MSGHDR,
  ET_ARG_OUT,
  ET_ARG_SOCKADDR,
  ET_ARG_STR,
  ET_ARG_STRUCT,
  ET_ARG_VALUE,
  ET_BYTES_MAX,
  ET_COMM_FILTERS,
  ET_COMM_LEN,
  ET_STR_MAX,
  ET_SYS_NARGS,
  ET_SYSCALL_MAX,
  ET_SYSD_CTX,
  ET_SYSD_HAS_IN,
  ET_SYSD_HAS_OUT,
  ET_SYSD_NORETURN,
  ET_SYSD_PRE,
  ET_SYSD_TRACE,
  ET_FDS_ARG,
  ET_FDS_CWD,
  ET_FDS_NONE,
  ET_FDS_PAIR,
  ET_FDS_RET,
} from '../abi';
import { FD_DESCRIBED, IMPLICIT_CWD, IMPLICIT_FDS, type FdDescribe } from '../fds/calls';
import { fdArgsOf, pathArgsOf } from '../fds/args';
import { ClassifyContext, classifyArgs, rawArgs } from './classify';
import { enterEventName, readEventFormats } from './format';
import type { ArgInfo, ArgKind, SyscallsMeta } from './meta';
import { SyscallTable, syscallTable } from './table';

/** Never return to the caller when they succeed: the kernel writes their entry record. */
export const NORETURN_SYSCALLS: ReadonlySet<string> = new Set(['exit', 'exit_group']);

/**
 * May change a field of the task's context (et_task): the real/effective uid and gid
 * (set*uid, set*gid), the namespaces (unshare, setns) and comm (prctl PR_SET_NAME). After
 * one of these the kernel compares the context and writes an et_task_ctx if it changed.
 * Not listed: setfsuid/setfsgid/setgroups/capset/personality, which change nothing et_task
 * holds; exec, which the kernel side handles itself; clone/fork, whose child is a new task.
 */
export const CTX_SYSCALLS: ReadonlySet<string> = new Set([
  'setuid', 'setgid', 'setreuid', 'setregid', 'setresuid', 'setresgid', 'unshare', 'setns', 'prctl',
]);

export interface SyscallPlanOptions {
  /** Syscall names to record (table names; tracepoint names such as newfstat are accepted); undefined: all. */
  names?: readonly string[];
  maxStr: number;
  maxBytes: number;
  comm: readonly string[];
  /** tracefs mount point (ensureTracefs()). */
  tracefs: string;
  /** The kernel's BTF: the raw blob, its path (/sys/kernel/btf/vmlinux), or already parsed. */
  kernelBtf: Uint8Array | string | Btf;
  /** Our BPF object's BTF: the layouts of et_sysdesc and et_argdesc. */
  objectBtf: Btf;
  /** uname -m spelling; default: this machine's. */
  arch?: string;
}

export interface SyscallPlan {
  /** sys_descs values by syscall number, for the traced syscalls only (the others stay zero). */
  descs: Map<number, Buffer>;
  meta: SyscallsMeta;
  /** One line each, for the user. */
  warnings: string[];
  /** Lines about the kernel, the same on every run (e.g. which syscalls have no tracepoint): for --verbose. */
  notes: string[];
}

export function buildSyscallPlan(opts: SyscallPlanOptions): SyscallPlan {
  checkOptions(opts);
  const table = syscallTable(opts.arch);
  const warnings: string[] = [];
  const notes: string[] = [];
  const selected = selectSyscalls(table, opts.names, warnings);
  const encode = descEncoder(opts.objectBtf);
  const btf = opts.kernelBtf instanceof Btf ? opts.kernelBtf : parseBtf(typeof opts.kernelBtf === 'string' ? readKernelBtf(opts.kernelBtf) : opts.kernelBtf);

  const asked = selected.map((nr) => table.byNr.get(nr) as string);
  const { formats, missing } = readEventFormats(opts.tracefs, asked, table.events);
  const ctx: ClassifyContext = { btf, structs: new Map(), warnings };
  const argsOf = new Map<string, ArgInfo[]>();
  const classify = (name: string): ArgInfo[] => {
    let args = argsOf.get(name);
    if (args === undefined) {
      const format = formats.get(name);
      args = format === undefined ? rawArgs() : classifyArgs(name, format.args, ctx);
      argsOf.set(name, args);
    }
    return args;
  };
  // With --syscall, the calls that say what a descriptor or the cwd is are recorded too
  // (formats/trace-format.md §10.11, `implicit`): only when what was asked needs them.
  const implicit: number[] = [];
  if (opts.names !== undefined) {
    const wanted = new Set<string>();
    const needs = (name: string) => {
      const args = classify(name);
      if (fdArgsOf(name, args).length > 0 || Object.prototype.hasOwnProperty.call(FD_DESCRIBED, name)) return IMPLICIT_FDS;
      return pathArgsOf(name, args).length > 0 ? IMPLICIT_CWD : [];
    };
    for (const name of asked) for (const n of needs(name)) wanted.add(n);
    for (const name of [...wanted].sort()) {
      const nr = table.byName.get(name);
      if (nr === undefined || nr >= ET_SYSCALL_MAX || selected.includes(nr)) continue;
      implicit.push(nr);
    }
    if (implicit.length > 0) {
      const more = readEventFormats(opts.tracefs, implicit.map((nr) => table.byNr.get(nr) as string), table.events);
      for (const [k, v] of more.formats) formats.set(k, v);
      // Not asked for: news only with --verbose (the decoder then treats their effects as unknown).
      if (more.missing.length > 0) notes.push(`${more.missing.join(', ')}: no tracepoint on this kernel: recorded implicitly with raw arguments arg0..arg5`);
      selected.push(...implicit);
      selected.sort((a, b) => a - b);
      implicit.sort((a, b) => a - b);
    }
  }
  if (missing.length > 0) {
    const what = opts.names === undefined
      ? `${missing.length} syscalls have no tracepoint on this kernel (${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ', …' : ''})`
      : missing.map((n) => `${n} has no tracepoint on this kernel (events/syscalls/${enterEventName(n, table.events)})`).join('; ');
    // Asked for by name, it is news; among all of them, it is this kernel, every time.
    (opts.names === undefined ? notes : warnings).push(`${what}: recorded with their arguments as raw values arg0..arg5`);
  }

  const meta: SyscallsMeta = {
    arch: table.arch,
    table: Object.fromEntries([...table.byNr].map(([nr, name]) => [String(nr), name])),
    traced: selected,
    ...(opts.names !== undefined && { implicit }),
    args: {},
    structs: {},
    options: { max_str: opts.maxStr, max_bytes: opts.maxBytes, comm: [...opts.comm] },
  };
  const descs = new Map<number, Buffer>();
  for (const nr of selected) {
    const name = table.byNr.get(nr) as string;
    let args = classify(name);
    if (args.length > ET_SYS_NARGS) {
      warnings.push(`${name}: ${args.length} arguments in its tracepoint format, only the first ${ET_SYS_NARGS} are recorded`);
      args = args.slice(0, ET_SYS_NARGS);
    }
    let flags = ET_SYSD_TRACE;
    if (args.some((a) => a.capture === 'in' || a.capture === 'inout')) flags |= ET_SYSD_HAS_IN;
    if (args.some((a) => a.capture === 'out' || a.capture === 'inout')) flags |= ET_SYSD_HAS_OUT;
    if (NORETURN_SYSCALLS.has(name)) flags |= ET_SYSD_NORETURN;
    if (CTX_SYSCALLS.has(name)) flags |= ET_SYSD_CTX;
    const pre = entryLength(args, ctx.structs);
    if (pre !== undefined) flags |= ET_SYSD_PRE;
    meta.args[String(nr)] = args;
    const fd = Object.prototype.hasOwnProperty.call(FD_DESCRIBED, name) ? FD_DESCRIBED[name] : undefined;
    descs.set(nr, encode(flags, args, ctx.structs, pre, fdHow(name, fd, args, warnings)));
  }
  meta.structs = Object.fromEntries([...ctx.structs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { descs, meta, warnings, notes };
}

function readKernelBtf(file: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new UserError(`cannot read the kernel BTF ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): syscall tracing needs a kernel built with CONFIG_DEBUG_INFO_BTF=y`);
  }
}

function checkOptions(opts: SyscallPlanOptions): void {
  const intIn = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
  if (!intIn(opts.maxStr, 1, ET_STR_MAX)) throw new UserError(`string limit ${opts.maxStr} is out of range: use 1 to ${ET_STR_MAX} bytes`);
  if (!intIn(opts.maxBytes, 0, ET_BYTES_MAX)) throw new UserError(`--bytes ${opts.maxBytes} is out of range: use 0 to ${ET_BYTES_MAX}`);
  if (opts.comm.length > ET_COMM_FILTERS) throw new UserError(`${opts.comm.length} --comm values given: at most ${ET_COMM_FILTERS}`);
  for (const c of opts.comm) {
    const bytes = Buffer.byteLength(c);
    if (bytes === 0 || bytes >= ET_COMM_LEN) {
      throw new UserError(`--comm '${c}': a command name is 1 to ${ET_COMM_LEN - 1} bytes (the kernel keeps the first ${ET_COMM_LEN - 1} of a program's name)`);
    }
  }
}

/** Numbers of the syscalls to trace, ascending. */
function selectSyscalls(table: SyscallTable, names: readonly string[] | undefined, warnings: string[]): number[] {
  if (names === undefined) {
    const all = [...table.byNr.keys()].sort((a, b) => a - b);
    const beyond = all.filter((nr) => nr >= ET_SYSCALL_MAX);
    if (beyond.length > 0) warnings.push(`syscalls numbered ${ET_SYSCALL_MAX} and above are not recorded: ${beyond.map((nr) => table.byNr.get(nr)).join(', ')}`);
    return all.filter((nr) => nr < ET_SYSCALL_MAX);
  }
  const byEvent = new Map([...table.events].map(([name, event]) => [event, name]));
  const out = new Set<number>();
  for (const given of names) {
    const name = table.byName.has(given) ? given : byEvent.get(given);
    const nr = name === undefined ? undefined : table.byName.get(name);
    if (nr === undefined) throw new UsageError(unknownSyscallMessage(given, table));
    if (nr >= ET_SYSCALL_MAX) throw new UsageError(`syscall '${given}' (${nr}) cannot be recorded: only numbers below ${ET_SYSCALL_MAX} can`);
    out.add(nr);
  }
  return [...out].sort((a, b) => a - b);
}

/** "unknown syscall 'opneat' (did you mean openat?)" */
export function unknownSyscallMessage(given: string, table: SyscallTable): string {
  const shown = JSON.stringify(given).slice(1, -1).replace(/'/g, "\\'");
  const close = closeMatches(given, [...table.byName.keys(), ...table.events.values()], 3);
  if (close.length === 0) return `unknown syscall '${shown}' (not in the ${table.arch} syscall table)`;
  const list = close.length === 1 ? close[0] : `${close.slice(0, -1).join(', ')} or ${close[close.length - 1]}`;
  return `unknown syscall '${shown}' (did you mean ${list}?)`;
}

/**
 * The int an exit capture needs from the call's entry (ET_SYSD_PRE): the size of the
 * buffer it will fill, which bounds what is read of it after the call — accept's
 * *upeer_addrlen (an argument pointing to the length), recvmsg's msg_namelen (a field of
 * the msghdr). At most one per syscall.
 */
function entryLength(args: readonly ArgInfo[], structs: ReadonlyMap<string, RecordLayout>): { arg: number; off: number } | undefined {
  for (const [i, a] of args.entries()) {
    if (a.len_ptr && a.len_arg !== undefined) return { arg: a.len_arg, off: 0 };
    if (a.kind === 'msghdr' && a.capture === 'out') {
      const f = structs.get(a.struct as string)?.fields.find((x) => x.name === 'msg_namelen');
      if (f !== undefined) return { arg: i, off: f.offset };
    }
  }
  return undefined;
}

/** What et_sysdesc.fd_how and fd_arg say for a syscall (ET_FDS_*, and the argument's index). */
export interface FdHow {
  how: number;
  arg: number;
}

const NO_FDS: FdHow = { how: ET_FDS_NONE, arg: 0 };

function fdHow(name: string, d: FdDescribe | undefined, args: readonly ArgInfo[], warnings: string[]): FdHow {
  if (d === undefined) return NO_FDS;
  switch (d.how) {
    case 'ret':
      return { how: ET_FDS_RET, arg: 0 };
    case 'cwd':
      return { how: ET_FDS_CWD, arg: 0 };
    case 'arg':
    case 'pair': {
      const i = args.findIndex((a) => a.name === d.arg);
      // Raw arguments (no tracepoint format): said already; the decoder then knows less.
      if (i < 0 && args[0]?.name === 'arg0') return NO_FDS;
      if (i < 0) {
        warnings.push(`${name}: no argument ${d.arg}: what its descriptors refer to is not recorded`);
        return NO_FDS;
      }
      return { how: d.how === 'arg' ? ET_FDS_ARG : ET_FDS_PAIR, arg: i };
    }
  }
}

const KIND_VALUES: Record<ArgKind, number> = {
  value: ET_ARG_VALUE, str: ET_ARG_STR, buf: ET_ARG_BUF, struct: ET_ARG_STRUCT, sockaddr: ET_ARG_SOCKADDR,
  fdset: ET_ARG_FDSET, array: ET_ARG_ARRAY, iovec: ET_ARG_IOVEC, msghdr: ET_ARG_MSGHDR,
};

/** et_argdesc.size: the bytes the kernel side reads (a struct, a msghdr) or may keep (an address, a set, an array). */
function captureSize(a: ArgInfo, structs: ReadonlyMap<string, RecordLayout>): number {
  const size = (name: string | undefined) => (name === undefined ? 0 : structs.get(name)?.size ?? 0);
  switch (a.kind) {
    case 'struct':
    case 'msghdr':
      return size(a.struct);
    case 'sockaddr':
    case 'fdset':
      return a.max ?? 0;
    case 'array':
      return (a.max_count ?? 0) * size(a.elem);
    default:
      return 0;
  }
}

/**
 * Encodes et_sysdesc values by the layouts of et_sysdesc and et_argdesc in our object's BTF
 * (so a reordered or widened field in bpf/exectrace.h needs no change here).
 */
export function descEncoder(objectBtf: Btf): (flags: number, args: readonly ArgInfo[], structs: ReadonlyMap<string, RecordLayout>,
  pre?: { arg: number; off: number }, fds?: FdHow) => Buffer {
  const sys = recordLayout(objectBtf, 'et_sysdesc');
  const arg = recordLayout(objectBtf, 'et_argdesc');
  const find = (l: RecordLayout, name: string): FieldLayout => {
    const f = l.fields.find((x) => x.name === name);
    if (f === undefined) throw new Error(`sys_descs: struct ${l.name} has no field '${name}' in the object's BTF`);
    return f;
  };
  const field = (l: RecordLayout, name: string): FieldLayout => {
    const f = find(l, name);
    if ((f.kind !== 'uint' && f.kind !== 'int') || f.count !== undefined) throw new Error(`sys_descs: ${l.name}.${name} is not an integer (${f.kind})`);
    return f;
  };
  const sysFlags = field(sys, 'flags');
  const preArg = field(sys, 'pre_arg');
  const preOff = field(sys, 'pre_off');
  const fdHowField = field(sys, 'fd_how');
  const fdArgField = field(sys, 'fd_arg');
  const args = find(sys, 'args');
  if ((args.count ?? 0) < ET_SYS_NARGS || args.elemSize !== arg.size) {
    throw new Error(`sys_descs: et_sysdesc.args is ${args.count ?? 1} x ${args.elemSize ?? args.size} bytes, expected ${ET_SYS_NARGS} x ${arg.size} (struct et_argdesc)`);
  }
  const kind = field(arg, 'kind');
  const flags = field(arg, 'flags');
  const lenArg = field(arg, 'len_arg');
  const elem = field(arg, 'elem');
  const size = field(arg, 'size');
  return (sysdescFlags, infos, structs, pre, fds = NO_FDS) => {
    const out = Buffer.alloc(sys.size);
    put(out, sysFlags, sysdescFlags);
    if (pre !== undefined) {
      put(out, preArg, pre.arg);
      put(out, preOff, pre.off);
    }
    put(out, fdHowField, fds.how);
    put(out, fdArgField, fds.arg);
    infos.forEach((a, i) => {
      const base = args.offset + i * arg.size;
      let f = 0;
      if (a.capture === 'out') f |= ET_ARG_OUT;
      if (a.capture === 'inout') f |= ET_ARG_INOUT;
      if (a.len_arg !== undefined && !a.len_ptr) f |= ET_ARG_LEN_ARG;
      if (a.len_ptr === true) f |= ET_ARG_LEN_PTR;
      if (a.len_ret === true) f |= ET_ARG_LEN_RET;
      // An int length's upper register half is not part of it (formats/trace-format.md, argument values).
      if (a.len_arg !== undefined && !a.len_ptr && infos[a.len_arg]?.size === 4) f |= ET_ARG_LEN32;
      put(out, kind, KIND_VALUES[a.kind], base);
      put(out, flags, f, base);
      put(out, lenArg, a.len_arg ?? 0, base);
      put(out, elem, a.kind === 'array' && a.elem !== undefined ? structs.get(a.elem)?.size ?? 0 : 0, base);
      put(out, size, captureSize(a, structs), base);
    });
    return out;
  };
}

function put(buf: Buffer, f: FieldLayout, value: number, base = 0): void {
  const at = base + f.offset;
  if (value < 0 || value >= 2 ** (8 * Math.min(f.size, 6))) throw new Error(`sys_descs: ${value} does not fit ${f.name} (${f.size} bytes)`);
  buf.writeUIntLE(value, at, Math.min(f.size, 6));
}
