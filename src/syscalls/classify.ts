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
//
// What the C type cannot say comes from OVERRIDES: socket addresses (sized by a length
// argument, or returned with their length through a pointer), fd_sets sized by select's n,
// arrays of structs (poll's pollfd, epoll's epoll_event), iovec vectors and msghdrs
// (formats/trace-format.md §10.11).

import { Btf, FieldLayout, RecordLayout, recordLayout } from '../btf';
import { ET_ARRAY_MAX, ET_BYTES_MAX, ET_FDSET_MAX, ET_IOV_MAX, ET_SOCKADDR_MAX } from '../abi';
import { parseCType, resolveBase, Scalar } from './ctypes';
import type { FormatField } from './format';
import type { ArgInfo } from './meta';

type Capture = 'in' | 'out';

export type Override =
  | { kind: 'value' }
  | { kind: 'str' }
  /**
   * len: the name of the argument holding the length; ptr: that argument points to the
   * length (an output's, read after the call); ret: at most ret bytes (outputs).
   */
  | { kind: 'buf'; capture: Capture; len: string; ret?: boolean; ptr?: boolean }
  /** A socket address of `len` bytes (ptr: the length is returned through that pointer). */
  | { kind: 'sockaddr'; capture: Capture; len: string; ptr?: boolean }
  /** An fd_set of select's `len` descriptors, before and after the call. */
  | { kind: 'fdset'; len: string }
  /** An array of struct `elem`: `len` elements, or ret (outputs); outFields: what the call writes. */
  | { kind: 'array'; capture: Capture | 'inout'; elem: string; len?: string; ret?: boolean; outFields?: string[] }
  /** An iovec vector of `len` elements: at exit its data is at most ret bytes. */
  | { kind: 'iovec'; capture: Capture; len: string }
  /** A struct user_msghdr with its msg_name and msg_iov: at exit its data is at most ret bytes. */
  | { kind: 'msghdr'; capture: Capture }
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
const addrIn = (len: string): Override => ({ kind: 'sockaddr', capture: IN, len });
const addrOut = (len: string): Override => ({ kind: 'sockaddr', capture: OUT, len, ptr: true });
const vecIn: Override = { kind: 'iovec', capture: IN, len: 'vlen' };
const vecOut: Override = { kind: 'iovec', capture: OUT, len: 'vlen' };
const fdset: Override = { kind: 'fdset', len: 'n' };
const pollfds: Override = { kind: 'array', capture: 'inout', elem: 'pollfd', len: 'nfds', outFields: ['revents'] };
const epollEvents: Override = { kind: 'array', capture: OUT, elem: 'epoll_event', ret: true };

/**
 * Exceptions to the rules, by syscall (table name) and argument name. Every entry is checked
 * against this machine's tracefs by test/syscalls-discovery.test.ts.
 */
export const OVERRIDES: Readonly<Record<string, Readonly<Record<string, Override>>>> = {
  // Socket addresses: given with their length, or returned with it through a pointer.
  sendto: { buff: { kind: 'buf', capture: IN, len: 'len' }, addr: addrIn('addr_len') },
  bind: { umyaddr: addrIn('addrlen') },
  connect: { uservaddr: addrIn('addrlen') },
  accept: { upeer_sockaddr: addrOut('upeer_addrlen'), upeer_addrlen: intOut },
  accept4: { upeer_sockaddr: addrOut('upeer_addrlen'), upeer_addrlen: intOut },
  getsockname: { usockaddr: addrOut('usockaddr_len'), usockaddr_len: intOut },
  getpeername: { usockaddr: addrOut('usockaddr_len'), usockaddr_len: intOut },
  recvfrom: { addr: addrOut('addr_len'), addr_len: intOut },
  getsockopt: { optval: { kind: 'buf', capture: OUT, len: 'optlen', ptr: true }, optlen: intOut },
  sendmsg: { msg: { kind: 'msghdr', capture: IN } },
  recvmsg: { msg: { kind: 'msghdr', capture: OUT } },
  // Vectors and arrays: the C type says one element.
  readv: { vec: vecOut },
  preadv: { vec: vecOut },
  preadv2: { vec: vecOut },
  writev: { vec: vecIn },
  pwritev: { vec: vecIn },
  pwritev2: { vec: vecIn },
  poll: { ufds: pollfds },
  ppoll: { ufds: pollfds },
  epoll_wait: { events: epollEvents },
  epoll_pwait: { events: epollEvents },
  epoll_pwait2: { events: epollEvents },
  select: { inp: fdset, outp: fdset, exp: fdset },
  pselect6: { inp: fdset, outp: fdset, exp: fdset },
  // Inputs whose pointer type is not const.
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
  utime: { times: structIn },
  io_cancel: { iocb: structIn },
  open_by_handle_at: { handle: structIn },
  getxattrat: { uargs: structIn },
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
/** Structs always passed as arrays (OVERRIDES describes the ones captured as such). */
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

type Captured = Pick<ArgInfo, 'kind' | 'capture' | 'struct' | 'elem' | 'len_arg' | 'len_ptr' | 'len_ret' | 'max' | 'max_count' | 'out_fields'>;

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
      const len = lenIndex(syscall, fields, field, o.len, ctx);
      if (len === undefined) return undefined;
      const b = buf(o.capture, len, o.ret === true);
      return o.ptr ? { ...b, len_ptr: true } : b;
    }
    case 'sockaddr': {
      const len = lenIndex(syscall, fields, field, o.len, ctx);
      if (len === undefined) return undefined;
      return o.ptr
        ? { kind: 'sockaddr', capture: o.capture, len_arg: len, len_ptr: true, max: ET_SOCKADDR_MAX }
        : { kind: 'sockaddr', capture: o.capture, len_arg: len, max: ET_SOCKADDR_MAX };
    }
    case 'fdset': {
      const len = lenIndex(syscall, fields, field, o.len, ctx);
      if (len === undefined) return undefined;
      return { kind: 'fdset', capture: 'inout', len_arg: len, max: ET_FDSET_MAX };
    }
    case 'array': {
      const len = o.len === undefined ? undefined : lenIndex(syscall, fields, field, o.len, ctx);
      if (o.len !== undefined && len === undefined) return undefined;
      if (!abiLayout(syscall, field, o.elem, ctx)) return undefined;
      const a: Captured = { kind: 'array', capture: o.capture, elem: o.elem };
      if (len !== undefined) a.len_arg = len;
      if (o.ret) a.len_ret = true;
      a.max_count = ET_ARRAY_MAX;
      if (o.outFields) a.out_fields = [...o.outFields];
      return a;
    }
    case 'iovec': {
      const len = lenIndex(syscall, fields, field, o.len, ctx);
      if (len === undefined || !abiLayout(syscall, field, 'iovec', ctx)) return undefined;
      return o.capture === OUT
        ? { kind: 'iovec', capture: OUT, elem: 'iovec', len_arg: len, len_ret: true, max_count: ET_IOV_MAX }
        : { kind: 'iovec', capture: IN, elem: 'iovec', len_arg: len, max_count: ET_IOV_MAX };
    }
    case 'msghdr': {
      if (!abiLayout(syscall, field, 'user_msghdr', ctx) || !abiLayout(syscall, field, 'iovec', ctx)) return undefined;
      const m: Captured = { kind: 'msghdr', capture: o.capture, struct: 'user_msghdr', elem: 'iovec' };
      if (o.capture === OUT) m.len_ret = true;
      return { ...m, max: ET_SOCKADDR_MAX, max_count: ET_IOV_MAX };
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

/** The index of the argument named `len` (a length or count), or undefined with a warning. */
function lenIndex(syscall: string, fields: readonly FormatField[], field: FormatField, len: string, ctx: ClassifyContext): number | undefined {
  const i = fields.findIndex((f) => f.name === len);
  if (i < 0) ctx.warnings.push(`${syscall}: no argument ${len} for the length of ${field.name}: ${field.name} recorded as a value`);
  return i < 0 ? undefined : i;
}

/**
 * The layouts that the kernel side walks with its own ABI definitions (struct et_iovec and
 * struct et_user_msghdr in bpf/exectrace.bpf.c): the kernel's BTF must agree with them
 * (fields by name: offset, size), or the capture is not asked for. The other element types
 * (pollfd, epoll_event) are only sized by the kernel side: any layout will do.
 */
const ABI_LAYOUTS: Readonly<Record<string, { size: number; fields: Record<string, [number, number]> }>> = {
  iovec: { size: 16, fields: { iov_base: [0, 8], iov_len: [8, 8] } },
  user_msghdr: { size: 56, fields: { msg_name: [0, 8], msg_namelen: [8, 4], msg_iov: [16, 8], msg_iovlen: [24, 8] } },
};

/** Adds the layout `name` from the kernel's BTF to ctx.structs; false (with a warning) when it cannot serve. */
function abiLayout(syscall: string, field: FormatField, name: string, ctx: ClassifyContext): boolean {
  if (struct(syscall, name, IN, field, ctx) === undefined) return false;
  const layout = ctx.structs.get(name) as RecordLayout;
  const abi = ABI_LAYOUTS[name];
  const elemMax = 255; // et_argdesc.elem is a byte
  const ok = abi === undefined
    ? layout.size <= elemMax
    : layout.size === abi.size && Object.entries(abi.fields).every(([f, [off, size]]) => layout.fields.some((x) => x.name === f && x.offset === off && x.size === size));
  if (!ok) {
    ctx.warnings.push(`${syscall}: argument ${field.name} (${field.type}) recorded as a value: struct ${name} of the kernel's BTF is not the layout the capture reads`);
    if (abi !== undefined) ctx.structs.delete(name);
  }
  return ok;
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
      if ('len' in o && o.len !== undefined && !fields.some((f) => f.name === o.len)) out.push(`${syscall}.${arg} (length ${o.len})`);
    }
  }
  return out;
}
