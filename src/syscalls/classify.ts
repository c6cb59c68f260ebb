// What to capture from each syscall argument, decided from its C type and name (tracefs),
// with the kernel's BTF for sizes and struct layouts, plus a short table of the arguments
// whose C type says the wrong thing (a non-const pointer the kernel only reads, a struct
// pointer that is really an array, a buffer whose length comes before it).
//
// Rules, for an argument of type T:
//   - not a pointer (or a pointer to a pointer, e.g. execve's argv): the value only.
//   - char * or void * followed by an integer length argument (count, len, size, …): a
//     buffer of that length; const → captured at entry (write's buf), else at exit with at
//     most `ret` bytes (read's buf).
//   - const char * without a length: a string at entry; so is a char * named like a path
//     (mount's dev_name, umount's name).
//   - struct X * (or a typedef of a struct): the struct, sized and laid out by the kernel's
//     BTF; const → at entry, else at exit. Timeouts (timeout, tsp, tvp) are inputs even when
//     not const. Unions, and structs that are arrays (iovec, pollfd, …), are values.
//   - pointers to scalars (int *, loff_t *): the value only, unless OVERRIDES says otherwise.

import { Btf, FieldLayout, RecordLayout, recordLayout } from '../btf';
import { ET_BYTES_MAX } from '../abi';
import { parseCType, resolveBase, Scalar } from './ctypes';
import type { FormatField } from './format';
import type { ArgInfo } from './meta';

type Capture = 'in' | 'out';

export type Override =
  | { kind: 'value' }
  | { kind: 'str' }
  /** len: the name of the argument holding the length; ret: at most ret bytes (outputs). */
  | { kind: 'buf'; capture: Capture; len: string; ret?: boolean }
  /** struct: the BTF name when the C type does not give it (a typedef of a pointer). */
  | { kind: 'struct'; capture: Capture; struct?: string }
  /** The scalar a T * points to, or `count` of them (pipe's int[2]). */
  | { kind: 'scalar'; capture: Capture; count?: number };

const IN: Capture = 'in';
const OUT: Capture = 'out';
const VALUE: Override = { kind: 'value' };
const structIn: Override = { kind: 'struct', capture: IN };
const intOut: Override = { kind: 'scalar', capture: OUT };
const scalarIn: Override = { kind: 'scalar', capture: IN };

/**
 * Exceptions to the rules, by syscall (table name) and argument name. Every entry is checked
 * against this machine's tracefs by test/syscalls-discovery.test.ts.
 */
export const OVERRIDES: Readonly<Record<string, Readonly<Record<string, Override>>>> = {
  // Inputs whose pointer type is not const.
  sendto: { buff: { kind: 'buf', capture: IN, len: 'len' }, addr: { kind: 'buf', capture: IN, len: 'addr_len' } },
  bind: { umyaddr: { kind: 'buf', capture: IN, len: 'addrlen' } },
  connect: { uservaddr: { kind: 'buf', capture: IN, len: 'addrlen' } },
  sethostname: { name: { kind: 'buf', capture: IN, len: 'len' } },
  setdomainname: { name: { kind: 'buf', capture: IN, len: 'len' } },
  setsockopt: { optval: { kind: 'buf', capture: IN, len: 'optlen' } },
  bpf: { uattr: { kind: 'buf', capture: IN, len: 'size' } },
  init_module: { umod: { kind: 'buf', capture: IN, len: 'len' } },
  sched_setaffinity: { user_mask_ptr: { kind: 'buf', capture: IN, len: 'len' } },
  nanosleep: { rqtp: structIn },
  rt_sigprocmask: { nset: structIn },
  rt_sigsuspend: { unewset: structIn },
  rt_sigqueueinfo: { uinfo: structIn },
  rt_tgsigqueueinfo: { uinfo: structIn },
  pidfd_send_signal: { info: structIn },
  signalfd: { user_mask: structIn },
  signalfd4: { user_mask: structIn },
  setrlimit: { rlim: structIn },
  sched_setparam: { param: structIn },
  sched_setscheduler: { param: structIn },
  sched_setattr: { uattr: structIn },
  settimeofday: { tv: structIn, tz: structIn },
  setitimer: { value: structIn },
  timer_create: { timer_event_spec: structIn, created_timer_id: intOut },
  epoll_ctl: { event: structIn },
  clone3: { uargs: structIn },
  openat2: { how: structIn },
  mq_open: { u_attr: structIn },
  mount_setattr: { uattr: structIn },
  open_tree_attr: { uattr: structIn },
  file_setattr: { ufattr: structIn },
  cachestat: { cstat_range: structIn },
  rseq: { rseq: structIn },
  set_robust_list: { head: structIn },
  perf_event_open: { attr_uptr: structIn },
  sendmsg: { msg: structIn },
  utime: { times: structIn },
  io_cancel: { iocb: structIn },
  open_by_handle_at: { handle: structIn },
  getxattrat: { uargs: structIn },
  select: { inp: structIn, outp: structIn, exp: structIn },
  pselect6: { inp: structIn, outp: structIn, exp: structIn },
  capget: { header: { kind: 'struct', capture: IN, struct: '__user_cap_header_struct' } },
  capset: { header: { kind: 'struct', capture: IN, struct: '__user_cap_header_struct' } },
  // Buffers the C type calls a struct, or whose length comes before them.
  getdents: { dirent: { kind: 'buf', capture: OUT, len: 'count', ret: true } },
  getdents64: { dirent: { kind: 'buf', capture: OUT, len: 'count', ret: true } },
  sched_getaffinity: { user_mask_ptr: { kind: 'buf', capture: OUT, len: 'len', ret: true } },
  // Arrays of structs (one element would mislead), variable-sized structs, and pointers the
  // kernel keeps rather than reads.
  utimes: { utimes: VALUE },
  futimesat: { utimes: VALUE },
  utimensat: { utimes: VALUE },
  epoll_wait: { events: VALUE },
  epoll_pwait: { events: VALUE },
  epoll_pwait2: { events: VALUE },
  io_getevents: { events: VALUE },
  io_pgetevents: { events: VALUE },
  msgsnd: { msgp: VALUE },
  msgrcv: { msgp: VALUE },
  lsm_get_self_attr: { ctx: VALUE },
  lsm_set_self_attr: { ctx: VALUE },
  getcpu: { unused: VALUE, cpup: intOut, nodep: intOut },
  // Scalars returned (or passed) through a pointer.
  pipe: { fildes: { kind: 'scalar', capture: OUT, count: 2 } },
  pipe2: { fildes: { kind: 'scalar', capture: OUT, count: 2 } },
  socketpair: { usockvec: { kind: 'scalar', capture: OUT, count: 2 } },
  wait4: { stat_addr: intOut },
  getresuid: { ruidp: intOut, euidp: intOut, suidp: intOut },
  getresgid: { rgidp: intOut, egidp: intOut, sgidp: intOut },
  accept: { upeer_addrlen: intOut },
  accept4: { upeer_addrlen: intOut },
  getsockname: { usockaddr_len: intOut },
  getpeername: { usockaddr_len: intOut },
  recvfrom: { addr_len: intOut },
  getsockopt: { optval: VALUE, optlen: intOut }, // optval's length is *optlen: known only through a pointer
  io_setup: { ctxp: intOut },
  time: { tloc: intOut },
  get_robust_list: { len_ptr: intOut },
  get_mempolicy: { policy: intOut },
  sendfile: { offset: scalarIn },
  splice: { off_in: scalarIn, off_out: scalarIn },
  copy_file_range: { off_in: scalarIn, off_out: scalarIn },
};

/** Integer arguments that give the length in bytes of the pointer argument just before them. */
const LEN_NAMES = new Set(['count', 'len', 'size', 'bufsiz', 'bufsize', 'nbytes', 'msg_len', 'plen', 'argsz', 'optlen', 'addrlen', 'addr_len']);
/** Non-const char * arguments that are strings the kernel reads (paths and names). */
const PATH_NAMES = new Set(['filename', 'pathname', 'path', 'name', 'oldname', 'newname', 'dev_name', 'dir_name', 'type', 'specialfile', 'new_root', 'put_old']);
/** Struct pointers that are timeouts: read by the kernel, whatever their constness. */
const TIMEOUT_NAMES = new Set(['timeout', 'tsp', 'tvp']);
/** Structs always passed as arrays. */
const ARRAY_STRUCTS = new Set(['iovec', 'pollfd', 'sembuf', 'mmsghdr', 'futex_waitv']);

export interface ClassifyContext {
  /** The kernel's BTF. */
  btf: Btf;
  /** Layouts of captured structs, by name: filled as structs are met. */
  structs: Map<string, RecordLayout>;
  warnings: string[];
}

/** Arguments of a syscall without a format file: six raw register values. */
export function rawArgs(count = 6): ArgInfo[] {
  return Array.from({ length: count }, (_, i) => ({ name: `arg${i}`, type: 'unsigned long', size: 8, signed: false, kind: 'value' }));
}

export function classifyArgs(syscall: string, fields: readonly FormatField[], ctx: ClassifyContext): ArgInfo[] {
  const own = Object.prototype.hasOwnProperty.call(OVERRIDES, syscall) ? OVERRIDES[syscall] : {};
  return fields.map((field, i) => {
    const value = valueInfo(syscall, field, ctx);
    const override = Object.prototype.hasOwnProperty.call(own, field.name) ? own[field.name] : undefined;
    const captured = override !== undefined ? applyOverride(syscall, fields, i, override, ctx) : byRule(syscall, fields, i, ctx);
    return captured === undefined ? value : { ...value, ...captured };
  });
}

/** The value part: name, C type, and the size and signedness of the C type. */
function valueInfo(syscall: string, field: FormatField, ctx: ClassifyContext): ArgInfo {
  const ct = parseCType(field.type);
  let scalar: Scalar = { size: 8, signed: false };
  if (ct.pointers === 0) {
    const base = resolveBase(ctx.btf, ct.base);
    if (base.kind === 'int') scalar = base;
    else if (base.kind === 'char') scalar = { size: 1, signed: true };
    else if (base.kind !== 'pointer') ctx.warnings.push(`${syscall}: unknown C type '${field.type}' of argument ${field.name}: recorded as an unsigned 64-bit value`);
  }
  return { name: field.name, type: field.type, size: scalar.size as ArgInfo['size'], signed: scalar.signed, kind: 'value' };
}

type Captured = Pick<ArgInfo, 'kind' | 'capture' | 'struct' | 'len_arg' | 'len_ret'>;

function byRule(syscall: string, fields: readonly FormatField[], i: number, ctx: ClassifyContext): Captured | undefined {
  const field = fields[i];
  const ct = parseCType(field.type);
  if (ct.pointers !== 1) return undefined;
  const base = resolveBase(ctx.btf, ct.base);
  if (base.kind === 'char' || base.kind === 'void') {
    const len = lengthArg(fields, i, ctx);
    if (len !== undefined) return ct.constBase ? buf(IN, len, false) : buf(OUT, len, true);
    if (base.kind === 'char' && (ct.constBase || PATH_NAMES.has(field.name))) return { kind: 'str', capture: IN };
    return undefined;
  }
  if (base.kind === 'struct') {
    if (base.union || ARRAY_STRUCTS.has(base.name)) return undefined;
    return struct(syscall, base.name, ct.constBase || TIMEOUT_NAMES.has(field.name) ? IN : OUT, field, ctx);
  }
  return undefined;
}

function applyOverride(syscall: string, fields: readonly FormatField[], i: number, o: Override, ctx: ClassifyContext): Captured | undefined {
  const field = fields[i];
  switch (o.kind) {
    case 'value':
      return undefined;
    case 'str':
      return { kind: 'str', capture: IN };
    case 'buf': {
      const len = fields.findIndex((f) => f.name === o.len);
      if (len < 0) {
        ctx.warnings.push(`${syscall}: no argument ${o.len} for the length of ${field.name}: ${field.name} recorded as a value`);
        return undefined;
      }
      return buf(o.capture, len, o.ret === true);
    }
    case 'struct': {
      const ct = parseCType(field.type);
      const base = o.struct === undefined ? resolveBase(ctx.btf, ct.base) : undefined;
      const name = o.struct ?? (base?.kind === 'struct' ? base.name : undefined);
      if (name === undefined) {
        ctx.warnings.push(`${syscall}: argument ${field.name} (${field.type}) is not a struct pointer: recorded as a value`);
        return undefined;
      }
      return struct(syscall, name, o.capture, field, ctx);
    }
    case 'scalar': {
      const ct = parseCType(field.type);
      const base = ct.pointers === 1 ? resolveBase(ctx.btf, ct.base) : undefined;
      if (base?.kind !== 'int') {
        ctx.warnings.push(`${syscall}: argument ${field.name} (${field.type}) is not a pointer to an integer: recorded as a value`);
        return undefined;
      }
      const count = o.count ?? 1;
      const spelled = ct.base === 'unsigned' ? 'unsigned int' : ct.base;
      const name = count === 1 ? spelled : `${spelled}[${count}]`;
      if (!ctx.structs.has(name)) ctx.structs.set(name, scalarLayout(name, base, count));
      return { kind: 'struct', capture: o.capture, struct: name };
    }
  }
}

function buf(capture: Capture, lenArg: number, lenRet: boolean): Captured {
  return lenRet ? { kind: 'buf', capture, len_arg: lenArg, len_ret: true } : { kind: 'buf', capture, len_arg: lenArg };
}

function struct(syscall: string, name: string, capture: Capture, field: FormatField, ctx: ClassifyContext): Captured | undefined {
  let layout = ctx.structs.get(name);
  if (layout === undefined) {
    try {
      layout = recordLayout(ctx.btf, name, { bitfields: 'omit' });
    } catch (e) {
      ctx.warnings.push(`${syscall}: argument ${field.name} (${field.type}) recorded as a value: ${(e as Error).message}`);
      return undefined;
    }
    if (layout.size === 0 || layout.size > ET_BYTES_MAX) {
      ctx.warnings.push(`${syscall}: argument ${field.name} (${field.type}) recorded as a value: struct ${name} is ${layout.size} bytes (capture limit ${ET_BYTES_MAX})`);
      return undefined;
    }
    ctx.structs.set(name, layout);
  }
  return { kind: 'struct', capture, struct: name };
}

/** A one-field layout for `count` integers read through a pointer. */
function scalarLayout(name: string, s: Scalar, count: number): RecordLayout {
  const field: FieldLayout = { name: 'value', offset: 0, size: s.size * count, kind: s.signed ? 'int' : 'uint' };
  if (count !== 1) Object.assign(field, { count, elemSize: s.size });
  return { name, size: s.size * count, fields: [field] };
}

/** The index of the integer argument right after fields[i] that holds its length, if any. */
function lengthArg(fields: readonly FormatField[], i: number, ctx: ClassifyContext): number | undefined {
  const next = fields[i + 1];
  if (next === undefined || !LEN_NAMES.has(next.name)) return undefined;
  const ct = parseCType(next.type);
  if (ct.pointers !== 0 || resolveBase(ctx.btf, ct.base).kind !== 'int') return undefined;
  return i + 1;
}

/** Overrides naming a syscall that has a format here but an argument it does not have ('wait4.stat_addr'). */
export function unmatchedOverrides(formats: ReadonlyMap<string, readonly FormatField[]>): string[] {
  const out: string[] = [];
  for (const [syscall, args] of Object.entries(OVERRIDES)) {
    const fields = formats.get(syscall);
    if (fields === undefined) continue;
    for (const [arg, o] of Object.entries(args)) {
      if (!fields.some((f) => f.name === arg)) out.push(`${syscall}.${arg}`);
      if (o.kind === 'buf' && !fields.some((f) => f.name === o.len)) out.push(`${syscall}.${arg} (length ${o.len})`);
    }
  }
  return out;
}
