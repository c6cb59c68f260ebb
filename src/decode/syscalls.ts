// Syscall records → `syscall` events. The kernel writes an et_sys_exit for every traced
// call and an et_sys_enter only for calls with entry captures (or that never return); this
// pairs them per thread into one event, decodes the arguments by their C type from the
// file's `syscalls` metadata (formats/trace-format.md, "Syscalls"), and rejoins the process
// context that et_task_ctx records carry. Everything — offsets, argument names, sizes,
// signedness, struct layouts — comes from the file.
//
// Ordering: a syscall event is emitted when it is resolved — at its exit record; at its
// entry for a call that never returns (exit, exit_group); or, for an entry that never gets
// its exit, when the thread's next syscall record shows up, its process exits or execs, or
// the stream ends. So syscall events are in completion order, stamped
// with their ENTRY time (`ts_ns`; the exit time when the kernel never saw the entry): a
// long call appears after shorter calls that began later. Memory: one pending entry per thread inside a traced call with entry captures,
// and one context per live thread.

import {symbolsOf} from './symbolic';
import {isUtf8} from 'node:buffer';
import {decodeText, isRawText, type RawText, type Text} from './text';
import {errnoName} from '../util/errno';
import {WallClock} from '../util/time';
import {checkLayout, FieldLayout, RecordLayout, RecordType} from './layout';
import {compileStruct, compileType, CompiledType, helpers as h, RawEvent, StructReader} from './records';
import type {Identities} from './identity';
import {containerIdOf} from './container';
import {arrayValue, fdsetFds, iovecValue, msghdrValue, sockaddrValue, type Damage, type FdSetValue, type IovecValue, type MsghdrReaders} from './captures';
import type {SockAddr} from './sockaddr';
import {FdModel, OpenFile, resolvePath, type SnapshotFd} from '../fds/model';
import {FD_DESCRIBED} from '../fds/calls';
import {fdArgsOf, pathArgsOf, type FdArg, type PathArg} from '../fds/args';
import {FD_FLAG_DEFAULTS, type FdDesc, type FdFlagBits} from '../fds/target';

// One argument's description is the recorder's own type (plain data, no record-side code).
import type {ArgInfo, ArgKind} from '../syscalls/meta';
export type {ArgInfo, ArgKind} from '../syscalls/meta';

/** The `syscalls` metadata key as read from a file: every part may be missing or hostile. */
export interface SyscallsMeta {
  arch?: string;
  table: Record<string, string>;
  traced?: number[];
  implicit?: number[];
  args?: Record<string, ArgInfo[]>;
  structs?: Record<string, RecordLayout>;
  options?: {max_str?: number; max_bytes?: number; comm?: string[]};
}

/**
 * A captured buffer in JSON: `text` when the stored bytes are valid UTF-8 (exact, JSON
 * escapes the rest), else `base64`; `len` is the length the call dealt with (count for
 * write, the return value for read), `truncated` whether fewer bytes than that were stored.
 */
export type BufferValue = ({text: string} | {base64: string}) & {len: number; truncated: boolean};

export type ArgValue = number | bigint | string | null | BufferValue | RawText | Record<string, unknown>
  | SockAddr | IovecValue | FdSetValue | Record<string, unknown>[];

/** The process context every syscall event carries. */
export interface TaskContext {
  ppid?: number;
  uid?: number;
  gid?: number;
  comm?: string;
  euid?: number;
  egid?: number;
  loginuid?: number;
  sessionid?: number;
  cgroup_id?: number | bigint;
  cgroup?: string;
  ns?: Record<string, number>;
  exec_id?: string | null;
  parent_exec_id?: string | null;
  container_id?: string | null;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** A struct name ('stat') or a scalar C type read through a pointer ('int', 'unsigned int', 'int[2]'). */
const STRUCT_KEY = /^[A-Za-z_][A-Za-z0-9_ ]{0,100}(\[\d{1,4}\])?$/;
const KINDS = new Set(['value', 'str', 'buf', 'struct', 'sockaddr', 'fdset', 'array', 'iovec', 'msghdr']);
/** Kinds whose capture reads a layout from `structs`: the whole (struct) and an element (elem). */
const NEEDS_STRUCT = new Set(['struct', 'msghdr']);
const NEEDS_ELEM = new Set(['array', 'iovec', 'msghdr']);
/** Most elements or bytes a `max_count` or `max` may say (a capture is at most 4096 bytes). */
const MAX_LIMIT = 1 << 16;
const MAX_NR = 65535;
const NARGS = 6;

function fail(where: string, what: string): never {
  throw new Error(`bad metadata: ${where}: ${what}`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nrKey(k: string, where: string): number {
  const n = Number(k);
  if (!/^\d{1,5}$/.test(k) || n > MAX_NR) fail(where, `syscall number ${JSON.stringify(k).slice(0, 40)} out of range`);
  return n;
}

interface CheckedSyscalls {
  arch: string;
  names: Map<number, string>;
  args: Map<number, ArgInfo[]>;
  structs: Map<string, RecordLayout>;
  /** Recorded implicitly (formats/trace-format.md §10.11): not shown unless asked. */
  implicit: Set<number>;
}

/** Validates the `syscalls` metadata: names are identifiers, numbers in range, structs laid out. */
export function checkSyscalls(v: unknown): CheckedSyscalls {
  if (!isObj(v)) fail('syscalls', 'not a map');
  const names = new Map<number, string>();
  if (!isObj(v.table)) fail('syscalls.table', 'not a map');
  for (const [k, name] of Object.entries(v.table)) {
    const nr = nrKey(k, 'syscalls.table');
    if (typeof name !== 'string' || !NAME.test(name)) fail(`syscalls.table[${nr}]`, 'name is not an identifier');
    names.set(nr, name);
  }
  const structs = new Map<string, RecordLayout>();
  if (v.structs !== undefined && v.structs !== null) {
    if (!isObj(v.structs)) fail('syscalls.structs', 'not a map');
    for (const [k, l] of Object.entries(v.structs)) {
      if (!STRUCT_KEY.test(k)) fail('syscalls.structs', `struct name ${JSON.stringify(k).slice(0, 40)} is not a C type name`);
      if (!isObj(l)) fail(`syscalls.structs.${k}`, 'layout is not a map');
      // Scalars read through a pointer are named by their C type ('int[2]'): the layout name
      // is only a label here, so it is checked in an identifier spelling.
      structs.set(k, checkLayout({...l, name: k.replace(/\W/g, '_')}, `syscalls.structs.${k}`));
    }
  }
  const args = new Map<number, ArgInfo[]>();
  if (v.args !== undefined && v.args !== null) {
    if (!isObj(v.args)) fail('syscalls.args', 'not a map');
    for (const [k, list] of Object.entries(v.args)) {
      const nr = nrKey(k, 'syscalls.args');
      const where = `syscalls.args[${nr}]`;
      if (!Array.isArray(list) || list.length > NARGS) fail(where, `not a list of at most ${NARGS} arguments`);
      args.set(nr, list.map((a, i) => checkArg(a, `${where}[${i}]`, structs)));
    }
  }
  const implicit = new Set<number>();
  if (v.implicit !== undefined && v.implicit !== null) {
    if (!Array.isArray(v.implicit) || v.implicit.length > MAX_NR + 1) fail('syscalls.implicit', 'not a list of syscall numbers');
    for (const nr of v.implicit) {
      if (!Number.isInteger(nr) || nr < 0 || nr > MAX_NR) fail('syscalls.implicit', 'not a list of syscall numbers');
      implicit.add(nr);
    }
  }
  return {arch: typeof v.arch === 'string' ? v.arch : 'x86_64', names, args, structs, implicit};
}

function checkArg(a: unknown, where: string, structs: Map<string, RecordLayout>): ArgInfo {
  if (!isObj(a)) fail(where, 'not a map');
  if (typeof a.name !== 'string' || !NAME.test(a.name) || a.name === '__proto__') fail(where, 'name is not an identifier');
  if (a.size !== 1 && a.size !== 2 && a.size !== 4 && a.size !== 8) fail(where, `${a.name}: size is not 1, 2, 4 or 8`);
  const value: ArgInfo = {name: a.name, type: typeof a.type === 'string' ? a.type : '', size: a.size, signed: a.signed === true, kind: 'value'};
  // A kind or capture this reader does not know is a value (its segment skipped): kinds
  // are added without a format version change (formats/trace-format.md §10.11).
  if (typeof a.kind !== 'string' || !KINDS.has(a.kind)) return value;
  if (a.kind !== 'value' && a.capture !== 'in' && a.capture !== 'out' && a.capture !== 'inout') return value;
  if (a.len_arg !== undefined && a.len_arg !== null && !(Number.isInteger(a.len_arg) && (a.len_arg as number) >= 0 && (a.len_arg as number) < NARGS)) {
    fail(where, `${a.name}: len_arg out of range`);
  }
  if (NEEDS_STRUCT.has(a.kind) && (typeof a.struct !== 'string' || !structs.has(a.struct))) {
    fail(where, `${a.name}: struct ${String(a.struct).slice(0, 40)} has no layout in syscalls.structs`);
  }
  if (NEEDS_ELEM.has(a.kind) && (typeof a.elem !== 'string' || !structs.has(a.elem))) {
    fail(where, `${a.name}: element ${String(a.elem).slice(0, 40)} has no layout in syscalls.structs`);
  }
  if ((a.kind === 'iovec' || a.kind === 'msghdr') && !structs.get(a.elem as string)?.fields.some((f) => f.name === 'iov_len')) {
    fail(where, `${a.name}: element ${a.elem as string} has no iov_len field`);
  }
  const limit = (k: 'max' | 'max_count'): number | undefined => {
    const v = a[k];
    if (v === undefined || v === null) return undefined;
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > MAX_LIMIT) fail(where, `${a.name}: ${k} out of range`);
    return v as number;
  };
  let outFields: string[] | undefined;
  if (a.out_fields !== undefined && a.out_fields !== null) {
    if (!Array.isArray(a.out_fields) || a.out_fields.length > 16 || !a.out_fields.every((f) => typeof f === 'string' && NAME.test(f))) {
      fail(where, `${a.name}: out_fields is not a list of field names`);
    }
    outFields = a.out_fields as string[];
  }
  return {
    ...value, kind: a.kind as ArgKind, capture: a.kind === 'value' ? undefined : (a.capture as 'in' | 'out' | 'inout'),
    struct: NEEDS_STRUCT.has(a.kind) ? (a.struct as string) : undefined,
    elem: NEEDS_ELEM.has(a.kind) ? (a.elem as string) : undefined,
    len_arg: typeof a.len_arg === 'number' ? a.len_arg : undefined, len_ptr: a.len_ptr === true, len_ret: a.len_ret === true,
    max: limit('max'), max_count: limit('max_count'), out_fields: outFields,
  };
}

// ---- per-syscall plans ---------------------------------------------------------------------

const enum Phase { None = 0, In = 1, Out = 2, InOut = 3 }

interface ArgPlan {
  name: string;
  index: number;
  info: ArgInfo;
  phase: Phase;
  struct?: StructReader;
  /** The struct's layout is one field named `value`: a scalar or array read through a pointer. */
  scalar: boolean;
  /** The name of the argument holding a buffer's length (len_arg). */
  lenName?: string;
  /** array, iovec: one element's reader and size. */
  elem?: StructReader;
  elemSize: number;
  /** msghdr: the readers of its header and of its iovec elements. */
  msghdr?: MsghdrReaders;
}

/** Reads through dv, a DataView of the record's buffer. */
type RegsReader = (dv: DataView, o: number) => Record<string, ArgValue>;

interface SysPlan {
  nr: number;
  name: string;
  args: ArgPlan[];
  inArgs: ArgPlan[];
  /** Arguments an exit record may hold captures of: the outputs, and inputs re-read at exit. */
  exitArgs: ArgPlan[];
  /** An et_sys_enter is expected before the exit (the call has entry captures). */
  hasIn: boolean;
  /** exit, exit_group: the call never returns, so its entry is the whole event. */
  noReturn: boolean;
  /** Every argument's register value, typed, from an entry or an exit record. */
  regsEnter: RegsReader;
  regsExit: RegsReader;
  /** Recorded implicitly: shown only when the decoder is asked to (showImplicit). */
  implicit: boolean;
  /** What the descriptor model does with a call of it; null: nothing (most syscalls, or no model). */
  fds: FdPlan | null;
}

/** What a syscall means to the descriptor model (src/fds). */
interface FdPlan {
  args: FdArg[];
  paths: PathArg[];
  /** It returns a new descriptor (FD_DESCRIBED: the kernel describes the return value). */
  returnsFd: boolean;
  /** pipe, socketpair: the argument that holds the two new descriptors. */
  pair: string | null;
  /** Arguments holding descriptors inside them: a pollfd array (poll, ppoll), an fd_set (select, pselect6). */
  sets: {name: string; kind: 'pollfd' | 'fdset'}[];
  effect: Effect;
}

const enum Effect { None, Close, CloseRange, Fcntl, Ioctl, Unshare, Chdir }

const EFFECTS: Record<string, Effect> = {
  close: Effect.Close, close_range: Effect.CloseRange, fcntl: Effect.Fcntl, ioctl: Effect.Ioctl, unshare: Effect.Unshare,
  chdir: Effect.Chdir, fchdir: Effect.Chdir,
};

/** fcntl commands and ioctl requests the model follows. */
const F_DUPFD = 0;
const F_SETFD = 2;
const F_DUPFD_CLOEXEC = 1030;
const FIONCLEX = 0x5450;
const FIOCLEX = 0x5451;
const EBADF = -9;
const AT_FDCWD = -100;

/**
 * Named is a reused list of names for one event (fd_paths, paths): argument name → value,
 * in argument order. Valid during SyscallSink.syscall() only.
 */
export class Named {
  n = 0;
  readonly keys: string[] = [];
  /** A name (Text), null (unknown), or for pipe's and socketpair's pair of descriptors an array of both. */
  readonly values: (Text | null | (Text | null)[])[] = [];
  /** The open file a name is of, when it is one (writers cache what they make of it there: OpenFile.json). */
  readonly files: (OpenFile | null)[] = [];

  push(key: string, v: Text | null | (Text | null)[], file: OpenFile | null = null): void {
    this.keys[this.n] = key;
    this.values[this.n] = v;
    this.files[this.n] = file;
    this.n++;
  }

  /** The value named key, or undefined. */
  get(key: string): Text | null | (Text | null)[] | undefined {
    for (let i = 0; i < this.n; i++) if (this.keys[i] === key) return this.values[i];
    return undefined;
  }

  /** As an object, for an event. */
  object(): Record<string, Text | null | (Text | null)[]> {
    const o: Record<string, Text | null | (Text | null)[]> = {};
    for (let i = 0; i < this.n; i++) o[this.keys[i]] = this.values[i];
    return o;
  }
}

/** The register value of one argument, sign-extended or truncated to its C type's size. */
function regExpr(size: number, signed: boolean, at: string): string {
  switch (size) {
    case 1: return signed ? `dv.getInt8(${at})` : `dv.getUint8(${at})`;
    case 2: return signed ? `dv.getInt16(${at}, true)` : `dv.getUint16(${at}, true)`;
    case 4: return signed ? `dv.getInt32(${at}, true)` : `dv.getUint32(${at}, true)`;
    default: return signed ? `h.s64v(dv, ${at})` : `h.u64v(dv, ${at})`;
  }
}

/** One generated function per syscall and record type: an object literal of fixed shape. */
function compileRegs(args: ArgPlan[], argsOffset: number, nr: number): RegsReader {
  const props = args.map((a) => `${JSON.stringify(a.name)}: ${regExpr(a.info.size, a.info.signed, `o + ${argsOffset + a.index * 8}`)}`);
  // Names are checked identifiers (never __proto__) and pass through JSON.stringify.
  const make = new Function('h', `return function regs_${nr < 0 ? 'raw' : nr}(dv, o) {\nreturn {${props.join(', ')}};\n};`);
  return make(h) as RegsReader;
}

// ---- record layouts ------------------------------------------------------------------------

interface Offsets {
  ts: number;
  pid: number;
  tid: number;
  cpu: number;
  flags: number;
  flagsSize: number;
  nr: number;
  cut: number;
  args: number;
  segLen: number;
  segSize: number;
  ret: number;
  enterTs: number;
  tail: number;
  minSize: number;
}

function need(l: RecordLayout, name: string, where: string, ok: (f: FieldLayout) => boolean, what: string): FieldLayout {
  const f = l.fields.find((x) => x.name === name);
  if (!f || !ok(f)) fail(where, `field ${name} ${f ? `is not ${what}` : 'not found'}`);
  return f;
}

const isInt = (f: FieldLayout): boolean => f.kind === 'uint' || f.kind === 'int' || f.kind === 'enum';
const int4 = (f: FieldLayout): boolean => isInt(f) && f.count === undefined && f.size === 4;
const small = (f: FieldLayout): boolean => isInt(f) && f.count === undefined && (f.size === 4 || f.size === 2 || f.size === 1);
const int8 = (f: FieldLayout): boolean => isInt(f) && f.count === undefined && f.size === 8;

function offsets(rt: RecordType, header: RecordLayout, exit: boolean): Offsets {
  const l = rt.layout;
  const where = `record_types ${rt.event}`;
  const hf = (n: string, ok: (f: FieldLayout) => boolean, what: string) => need(header, n, 'record_header', ok, what);
  const flags = hf('flags', small, 'an integer');
  const args = need(l, 'args', where, (f) => isInt(f) && f.count === NARGS && f.elemSize === 8, `an array of ${NARGS} 8-byte integers`);
  const seg = need(l, 'seg_len', where, (f) => isInt(f) && f.count === NARGS && [1, 2, 4].includes(f.elemSize ?? 0), `an array of ${NARGS} integers`);
  if (!l.tail) fail(where, 'layout has no tail');
  return {
    ts: hf('ts_ns', int8, 'an 8-byte integer').offset,
    pid: hf('pid', int4, 'a 4-byte integer').offset,
    tid: hf('tid', int4, 'a 4-byte integer').offset,
    cpu: hf('cpu', int4, 'a 4-byte integer').offset,
    flags: flags.offset,
    flagsSize: flags.size,
    nr: need(l, 'nr', where, int4, 'a 4-byte integer').offset,
    cut: need(l, 'cut', where, int4, 'a 4-byte integer').offset,
    args: args.offset,
    segLen: seg.offset,
    segSize: seg.elemSize as number,
    ret: exit ? need(l, 'ret', where, int8, 'an 8-byte integer').offset : -1,
    enterTs: exit ? need(l, 'enter_ts_ns', where, int8, 'an 8-byte integer').offset : -1,
    tail: l.tail.offset,
    minSize: l.size,
  };
}

function readFlags(dv: DataView, o: number, f: Offsets): number {
  return f.flagsSize === 2 ? dv.getUint16(o + f.flags, true) : f.flagsSize === 4 ? dv.getUint32(o + f.flags, true) : dv.getUint8(o + f.flags);
}

/** A u64 as a number (rounded past 2^53: times and durations are used as numbers). */
function u64n(dv: DataView, at: number): number {
  return dv.getUint32(at + 4, true) * 4294967296 + dv.getUint32(at, true);
}

// ---- the decoder ---------------------------------------------------------------------------

/** An entry waiting for its exit; holds decoded values only (record buffers are reused). */
interface Pending {
  ts: number;
  pid: number;
  tid: number;
  cpu: number;
  plan: SysPlan;
  args: Record<string, ArgValue>;
  cut: string[] | null;
  malformed: boolean;
  inFlight: boolean;
  /** Moved from the thread that called exec to the leader's tid (see onExec). */
  moved: boolean;
  /** Already emitted (a call that never returns is shown at its entry); kept only to absorb its in-flight copy. */
  emitted: boolean;
}

export type Emit = (e: RawEvent & {time: string}) => void;

/** What a direct sink may know about a syscall: its name, number and arguments, from the file. */
export interface SyscallPlan {
  readonly name: string;
  readonly nr: number;
  readonly args: readonly {readonly name: string; readonly info: ArgInfo}[];
}

/**
 * One syscall event's values before they become an event object, named as the event's
 * keys (the context keys stay in ctx, comm aside). Reused from event to event: valid
 * during SyscallSink.syscall() only, and not to be changed.
 */
export interface SyscallParts {
  ctx: TaskContext;
  /** The same object for every event of one syscall (a cache key for sinks). */
  plan: SyscallPlan;
  ts_ns: number;
  pid: number;
  tid: number;
  cpu: number;
  comm: string | undefined;
  syscall: string;
  nr: number;
  args: Record<string, ArgValue> | null;
  /** What its descriptor arguments (and a descriptor it returns, as `ret`) refer to; null: none. */
  fd_paths: Named | null;
  /** Its relative path arguments, made absolute; null: none. */
  paths: Named | null;
  ret: number | bigint | null;
  duration_ns: number | null;
  errno: string | undefined;
  incomplete: 'no_entry' | 'no_exit' | undefined;
  in_flight: boolean;
  cut: string[] | null;
  malformed: boolean;
  /** A call recorded implicitly (formats/trace-format.md §10.11), shown because the decoder was asked to. */
  implicit: boolean;
}

/**
 * Takes syscall events without their objects (decode --json, stats): the common event of a
 * syscall storm is then written or counted without allocating. syscall() returns false to
 * decline one (a value it does not handle): that event is built and emitted as usual.
 */
export interface SyscallSink {
  syscall(p: SyscallParts): boolean;
}

export interface SyscallDecoderOptions {
  header: RecordLayout;
  enter?: RecordType;
  exit?: RecordType;
  task?: RecordType;
  meta: unknown;
  flags: {noEnter: number; inFlight: number};
  clock: WallClock;
  cgroups: Map<number, string>;
  snapshot: Map<number, TaskContext>;
  ids: Identities;
  /** The `fd` record type (formats/trace-format.md §10.18): with it, the descriptor model is kept. */
  fd?: RecordType;
  /** The `fd_flags` bits (§10.5), and the processes alive at start with their descriptors. */
  fdFlags?: FdFlagBits;
  snapshotFds?: {pid: number; fds: SnapshotFd[] | undefined; omitted: number; cwd: Text | null}[];
  /**
   * false for a file written by `exectrace filter`, which holds only some of the calls that
   * changed descriptors: what was known before a call is unknown at it, and only the call's
   * own descriptions name anything (formats/trace-format.md §10.18.1).
   */
  fdReplay?: boolean;
}

const NO_CONTEXT: TaskContext = {};
/** Syscalls that never return: their entry record is all there is. */
const NO_RETURN = new Set(['exit', 'exit_group']);
const NO_REGS: RegsReader = () => ({});
/**
 * The arguments of every call of a syscall without any (getppid): one shared object, so
 * a storm of them allocates nothing; each event built from it gets its own `{}`.
 */
const NO_ARGS: Record<string, ArgValue> = Object.freeze({}) as Record<string, ArgValue>;
const noArgs: RegsReader = () => NO_ARGS;

export class SyscallDecoder {
  readonly arch: string;
  private readonly names: Map<number, string>;
  private readonly argInfos: Map<number, ArgInfo[]>;
  private readonly structs = new Map<string, StructReader>();
  private readonly structLayouts: Map<string, RecordLayout>;
  /** Plans by syscall number (at most MAX_NR + 1 entries), and the last one asked for. */
  private readonly plans = new Map<number, SysPlan>();
  private lastNr = -1;
  private lastPlan: SysPlan | null = null;
  private viewOf: Buffer | null = null;
  private view: DataView = new DataView(new ArrayBuffer(0));
  private rawPlan: SysPlan | undefined;
  private readonly enterOff: Offsets | null;
  private readonly exitOff: Offsets | null;
  private readonly task: CompiledType | null;
  private readonly pending = new Map<number, Pending>();
  private readonly ctxByTid = new Map<number, TaskContext>();
  private readonly ctxByPid = new Map<number, TaskContext>();
  private readonly threads = new Map<number, number[]>();
  /** The process of each thread the stream introduced (its task records), for the forker of a fork. */
  private readonly pidOfTid = new Map<number, number>();
  private readonly flags: SyscallDecoderOptions['flags'];
  private readonly clock: WallClock;
  private readonly cgroups: Map<number, string>;
  private readonly snapshot: Map<number, TaskContext>;
  private readonly ids: Identities;
  private readonly implicitNrs: Set<number>;
  /** The descriptor model (src/fds), when the file describes descriptors (it has `fd` records); else null, at no cost. */
  fds: FdModel | null = null;
  private readonly fdType: CompiledType | null = null;
  private readonly fdBits: FdFlagBits = FD_FLAG_DEFAULTS;
  /** The et_fd records of a call whose exit has not come yet, by tid. */
  private readonly fdPending = new Map<number, FdRecord[]>();
  private readonly fdNames = new Named();
  private readonly fdReplay: boolean = true;
  private readonly pathNames = new Named();
  /** Set by captures(): a segment ran past its record. */
  private malformed = false;
  /** Set by the compound captures' decoders (captures.ts): a count inside a segment ran past it. */
  private readonly damage: Damage = {malformed: false};
  /** Show the calls recorded implicitly (formats/trace-format.md §10.11) as events; else they only feed the model. */
  showImplicit = false;
  /** Whether built events get their time string (Decoder.times). */
  times = true;
  /** Where syscall events go before they are built as objects (null: always built). */
  direct: SyscallSink | null = null;
  private readonly parts: SyscallParts = {
    ctx: NO_CONTEXT, plan: {name: '', nr: 0, args: []}, ts_ns: 0, pid: 0, tid: 0, cpu: 0, comm: undefined, syscall: '', nr: 0,
    args: null, fd_paths: null, paths: null, ret: null, duration_ns: null, errno: undefined, incomplete: undefined, in_flight: false, cut: null,
    malformed: false, implicit: false,
  };
  readonly enterId: number;
  readonly exitId: number;
  readonly taskId: number;
  readonly fdId: number;

  constructor(o: SyscallDecoderOptions) {
    const meta = o.meta === undefined || o.meta === null ? {table: {}} : o.meta;
    const c = checkSyscalls(meta);
    this.arch = c.arch;
    this.names = c.names;
    this.argInfos = c.args;
    this.structLayouts = c.structs;
    this.enterOff = o.enter ? offsets(o.enter, o.header, false) : null;
    this.exitOff = o.exit ? offsets(o.exit, o.header, true) : null;
    this.task = o.task ? compileType(o.task, o.header, 0) : null;
    this.enterId = o.enter?.id ?? -1;
    this.exitId = o.exit?.id ?? -1;
    this.taskId = o.task?.id ?? -1;
    this.flags = o.flags;
    this.clock = o.clock;
    this.cgroups = o.cgroups;
    this.snapshot = o.snapshot;
    this.ids = o.ids;
    this.implicitNrs = c.implicit;
    this.fdId = o.fd?.id ?? -1;
    if (o.fd) {
      this.fdType = compileType(o.fd, o.header, 0);
      this.fdBits = o.fdFlags ?? FD_FLAG_DEFAULTS;
      const model = new FdModel(this.fdBits);
      for (const p of o.snapshotFds ?? []) model.snapshot(p.pid, p.fds, p.omitted, p.cwd);
      this.fds = model;
      this.fdReplay = o.fdReplay !== false;
    }
  }

  /** The argument descriptions of syscall nr (for human output). */
  argInfo(nr: number): readonly ArgInfo[] | undefined {
    return this.argInfos.get(nr);
  }

  /** Whether the struct `name` is a scalar (or array of scalars) read through a pointer. */
  scalarStruct(name: string): boolean {
    const l = this.structLayouts.get(name);
    return l !== undefined && l.fields.length === 1 && l.fields[0].name === 'value';
  }

  minSize(id: number): number {
    if (id === this.enterId) return (this.enterOff as Offsets).minSize;
    if (id === this.exitId) return (this.exitOff as Offsets).minSize;
    if (id === this.fdId) return (this.fdType as CompiledType).minSize;
    return this.task ? this.task.minSize : Infinity;
  }

  /**
   * Stops following descriptors (decode --no-fd-paths): events get no fd_paths and paths,
   * at no cost. Before the first record only (plans made earlier keep what they knew).
   */
  dropFds(): void {
    this.fds = null;
    this.fdPending.clear();
  }

  /** Whether syscall nr was recorded implicitly (formats/trace-format.md §10.11). */
  isImplicit(nr: number): boolean {
    return this.implicitNrs.has(nr);
  }

  /** The names of the syscalls recorded implicitly. */
  implicitNames(): Set<string> {
    return new Set([...this.implicitNrs].map((nr) => this.names.get(nr) ?? `syscall_${nr}`));
  }

  private plan(nr: number): SysPlan {
    // A thread's calls come in runs of one syscall: the last plan first.
    if (nr === this.lastNr) return this.lastPlan as SysPlan;
    const p = this.plans.get(nr) ?? this.makePlan(nr);
    if (nr <= MAX_NR) {
      this.lastNr = nr;
      this.lastPlan = p;
    }
    return p;
  }

  /** A DataView of a record buffer, kept while records come from it (one chunk after another). */
  private newView(b: Buffer): DataView {
    this.viewOf = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return this.view;
  }

  private makePlan(nr: number): SysPlan {
    const infos = this.argInfos.get(nr);
    if (!infos) {
      // Not described (or a number no table has, e.g. from a damaged record): the six raw
      // registers, read by one shared reader; cached only for plausible numbers.
      const raw = this.rawPlan ??= this.describe(-1, undefined);
      const name = this.names.get(nr) ?? `syscall_${nr}`;
      const p = {...raw, nr, name, noReturn: NO_RETURN.has(name), implicit: this.implicitNrs.has(nr), fds: this.fdPlan(name, raw.args)};
      if (nr <= MAX_NR) this.plans.set(nr, p);
      return p;
    }
    const p = this.describe(nr, infos);
    this.plans.set(nr, p);
    return p;
  }

  /** The reader of the struct layout `name` (checked to exist), made once per file. */
  private reader(name: string): StructReader {
    let r = this.structs.get(name);
    if (!r) {
      r = compileStruct(this.structLayouts.get(name) as RecordLayout);
      this.structs.set(name, r);
    }
    return r;
  }

  private describe(nr: number, infos: ArgInfo[] | undefined): SysPlan {
    const args: ArgPlan[] = [];
    if (infos) {
      infos.forEach((info, index) => {
        let struct: StructReader | undefined;
        let scalar = false;
        if ((info.kind === 'struct' || info.kind === 'msghdr') && info.struct) {
          const layout = this.structLayouts.get(info.struct) as RecordLayout;
          scalar = info.kind === 'struct' && layout.fields.length === 1 && layout.fields[0].name === 'value';
          struct = this.reader(info.struct);
        }
        const elem = info.elem !== undefined ? this.reader(info.elem) : undefined;
        const elemSize = info.elem !== undefined ? (this.structLayouts.get(info.elem) as RecordLayout).size : 0;
        const msghdr = info.kind === 'msghdr' && struct && elem
          ? {header: struct, headerSize: (this.structLayouts.get(info.struct as string) as RecordLayout).size, elem, elemSize}
          : undefined;
        const phase = info.kind === 'value' ? Phase.None : info.capture === 'out' ? Phase.Out : info.capture === 'inout' ? Phase.InOut : Phase.In;
        args.push({name: info.name, index, info, struct, scalar, phase, elem, elemSize, msghdr});
      });
      for (const a of args) if (a.info.len_arg !== undefined) a.lenName = args[a.info.len_arg]?.name;
    } else {
      // No description (a syscall the recording did not describe): the six raw registers.
      for (let i = 0; i < NARGS; i++) {
        args.push({name: `arg${i}`, index: i, info: {name: `arg${i}`, type: '', size: 8, signed: false, kind: 'value'}, scalar: false, phase: Phase.None, elemSize: 0});
      }
    }
    const inArgs = args.filter((a) => a.phase === Phase.In || a.phase === Phase.InOut);
    const p: SysPlan = {
      nr, name: this.names.get(nr) ?? `syscall_${nr}`, args, inArgs,
      exitArgs: args.filter((a) => a.phase !== Phase.None),
      hasIn: inArgs.length > 0,
      noReturn: NO_RETURN.has(this.names.get(nr) ?? ''),
      regsEnter: !this.enterOff ? NO_REGS : args.length ? compileRegs(args, this.enterOff.args, nr) : noArgs,
      regsExit: !this.exitOff ? NO_REGS : args.length ? compileRegs(args, this.exitOff.args, nr) : noArgs,
      implicit: this.implicitNrs.has(nr),
      fds: infos ? this.fdPlan(this.names.get(nr) ?? '', args) : null,
    };
    return p;
  }

  /** What the descriptor model does with calls of a syscall; null when nothing (or there is no model). */
  private fdPlan(name: string, args: ArgPlan[]): FdPlan | null {
    if (this.fds === null) return null;
    const infos = args.map((a) => a.info);
    const fdArgs = fdArgsOf(name, infos);
    const paths = pathArgsOf(name, infos);
    const d = Object.prototype.hasOwnProperty.call(FD_DESCRIBED, name) ? FD_DESCRIBED[name] : undefined;
    const effect = Object.prototype.hasOwnProperty.call(EFFECTS, name) ? EFFECTS[name] : Effect.None;
    const pair = d?.how === 'pair' && args.some((a) => a.name === d.arg) ? d.arg : null;
    const sets: FdPlan['sets'] = [];
    for (const a of infos) {
      if (a === undefined) continue;
      if (a.kind === 'fdset') sets.push({name: a.name, kind: 'fdset'});
      else if (a.kind === 'array' && a.elem === 'pollfd') sets.push({name: a.name, kind: 'pollfd'});
    }
    if (!fdArgs.length && !paths.length && !sets.length && d === undefined && effect === Effect.None) return null;
    return {args: fdArgs, paths, returnsFd: d?.how === 'ret', pair, sets, effect};
  }

  // ---- records ----

  /** An et_sys_enter record of n bytes at b[o] (n >= its layout's size). */
  enter(b: Buffer, o: number, n: number, emit: Emit): void {
    const f = this.enterOff as Offsets;
    const dv = b === this.viewOf ? this.view : this.newView(b);
    const tid = dv.getUint32(o + f.tid, true);
    const inFlight = (readFlags(dv, o, f) & this.flags.inFlight) !== 0;
    const plan = this.plan(dv.getUint32(o + f.nr, true));
    const ts = u64n(dv, o + f.ts);
    const prev = this.pending.get(tid);
    if (prev !== undefined) {
      this.pending.delete(tid);
      // Written by the recorder at stop for a call still open: if its entry record is the
      // pending one, that one (with its captures) is the in-flight call.
      if (inFlight && prev.plan.nr === plan.nr && prev.ts === ts) {
        prev.inFlight = true;
        this.settle(prev, emit);
        return;
      }
      this.settle(prev, emit);
    }
    const args = plan.regsEnter(dv, o);
    this.malformed = false;
    const cut = plan.inArgs.length ? this.captures(plan.inArgs, b, o, n, f, null, args, false, null) : null;
    const p: Pending = {
      ts, tid, plan, args, cut,
      pid: dv.getUint32(o + f.pid, true),
      cpu: dv.getUint32(o + f.cpu, true),
      malformed: this.malformed, inFlight, moved: false, emitted: false,
    };
    if (inFlight) {
      this.noExit(p, emit);
      return;
    }
    this.pending.set(tid, p);
    if (plan.noReturn) this.settle(p, emit);
  }

  /** An et_sys_exit record. */
  exit(b: Buffer, o: number, n: number, emit: Emit): void {
    const f = this.exitOff as Offsets;
    const dv = b === this.viewOf ? this.view : this.newView(b);
    const tid = dv.getUint32(o + f.tid, true);
    const plan = this.plan(dv.getUint32(o + f.nr, true));
    const enterTs = u64n(dv, o + f.enterTs);
    const exitTs = u64n(dv, o + f.ts);
    const ret = h.s64v(dv, o + f.ret);
    const noEnter = enterTs === 0 || (readFlags(dv, o, f) & this.flags.noEnter) !== 0;
    const cpu = dv.getUint32(o + f.cpu, true);
    this.malformed = false;
    const p = this.pending.size === 0 ? undefined : this.pending.get(tid);
    if (p !== undefined) {
      this.pending.delete(tid);
      if (p.plan.nr === plan.nr && (p.ts === enterTs || (p.moved && noEnter))) {
        const cut = plan.exitArgs.length ? this.captures(plan.exitArgs, b, o, n, f, ret, p.args, true, p.cut) : p.cut;
        this.put(emit, p.ts, p.pid, tid, cpu, plan, p.args, ret, exitTs - p.ts, undefined, false, cut, p.malformed || this.malformed);
        return;
      }
      this.settle(p, emit);
    }
    // Without its entry the kernel knows no arguments. With entry captures expected but
    // their record missing (lost), the registers are known but the captures are not.
    const pid = dv.getUint32(o + f.pid, true);
    if (noEnter) {
      this.put(emit, exitTs, pid, tid, cpu, plan, null, ret, null, 'no_entry', false, null, false);
      return;
    }
    const args = plan.regsExit(dv, o);
    const cut = plan.exitArgs.length ? this.captures(plan.exitArgs, b, o, n, f, ret, args, true, null) : null;
    this.put(emit, enterTs, pid, tid, cpu, plan, args, ret, exitTs - enterTs, plan.hasIn ? 'no_entry' : undefined, false, cut, this.malformed);
  }

  /** An et_task_ctx record: remembered, never shown. */
  taskRecord(b: Buffer, o: number, n: number): void {
    const e = (this.task as CompiledType).read(b, o, n);
    if (e.exec_id !== undefined) this.ids.stamp(e);
    this.setContext(e.pid as number, e.tid as number, e);
  }

  /**
   * An et_fd record: what a descriptor refers to after the call whose exit comes next from
   * the same thread. Kept until that exit, where it is applied after the call's arguments
   * were named and before its return value is (formats/trace-format.md §10.18.1).
   */
  fdRecord(b: Buffer, o: number, n: number): void {
    if (this.fds === null) return;
    const e = (this.fdType as CompiledType).read(b, o, n);
    const tid = e.tid as number;
    const r: FdRecord = {fd: e.fd as number, enterTs: Number(e.enter_ts_ns), cloexec: (Number(e.fd_flags) & this.fdBits.cloexec) !== 0, desc: fdDesc(e)};
    const list = this.fdPending.get(tid);
    // A thread has one call at a time: a few records at most (pipe's two); more is a hostile file.
    if (list === undefined) this.fdPending.set(tid, [r]);
    else if (list.length < 8) list.push(r);
  }

  /** Records were lost or skipped (a lost marker, a damaged chunk): the descriptor model forgets what it knew. */
  onLost(event: string | undefined, nr: unknown): void {
    const m = this.fds;
    if (m === null) return;
    if (event === 'sys_exit' && typeof nr === 'number') {
      // A lost call that changes no descriptor changes nothing the model knows.
      const name = this.names.get(nr);
      if (name !== undefined && !Object.prototype.hasOwnProperty.call(FD_DESCRIBED, name) && !Object.prototype.hasOwnProperty.call(EFFECTS, name)) return;
    } else if (event !== undefined && event !== 'fd' && event !== 'fork' && event !== 'exec' && event !== 'sys_exit') {
      return;
    }
    m.lost();
  }

  /** A damaged chunk was skipped: what it held is unknown. */
  onGap(): void {
    this.fds?.lost();
    this.fdPending.clear();
  }

  // ---- lifecycle hooks from the other record types ----

  /** exec: the other threads died in de_thread; the caller's open execve moves to the leader's tid. */
  onExec(e: RawEvent, emit: Emit): void {
    const pid = e.pid as number;
    const caller = typeof e.old_tid === 'number' ? e.old_tid : pid;
    this.resolve(emit, (p) => p.pid === pid && p.tid !== caller);
    const p = this.pending.get(caller);
    if (p && caller !== pid) {
      this.pending.delete(caller);
      p.tid = pid;
      p.moved = true;
      this.pending.set(pid, p);
    }
    this.forget(pid);
    this.setContext(pid, pid, e);
    this.fds?.exec(pid, e.cwd === undefined ? undefined : (e.cwd as Text | null));
  }

  /** fork: `shares` is et_fork.fork_flags as {files, fs} (what the child shares with its parent). */
  onFork(e: RawEvent, shares: {files: boolean; fs: boolean}): void {
    this.ctxByPid.set(e.pid as number, this.context(e));
    if (this.fds !== null) {
      // The table is the forking thread's process's: the real parent's, unless CLONE_PARENT
      // made another process the parent (then parent_tid is a thread of the forker, not of ppid).
      const ppid = e.ppid as number;
      const forker = typeof e.parent_tid === 'number' ? this.pidOfTid.get(e.parent_tid) ?? ppid : ppid;
      this.fds.fork(e.pid as number, forker, shares.files, shares.fs);
    }
  }

  /** exit of a process: its threads' open calls will not return; its contexts are dropped. */
  onExit(e: RawEvent, emit: Emit): void {
    const pid = e.pid as number;
    this.resolve(emit, (p) => p.pid === pid);
    this.forget(pid);
    this.ctxByPid.delete(pid);
    this.fds?.exit(pid);
  }

  /** End of the stream: every open call is incomplete, oldest first. */
  end(emit: Emit): void {
    this.resolve(emit, () => true);
  }

  private resolve(emit: Emit, which: (p: Pending) => boolean): void {
    if (this.pending.size === 0) return;
    const out: Pending[] = [];
    for (const [tid, p] of this.pending) {
      if (which(p)) {
        out.push(p);
        this.pending.delete(tid);
      }
    }
    out.sort((a, b) => a.ts - b.ts);
    for (const p of out) this.settle(p, emit);
  }

  // ---- context ----

  private context(e: RawEvent): TaskContext {
    const cg = typeof e.cgroup_id === 'number' ? this.cgroups.get(e.cgroup_id) : undefined;
    return {
      ppid: e.ppid as number, uid: e.uid as number, gid: e.gid as number, comm: e.comm as string,
      euid: e.euid as number, egid: e.egid as number, loginuid: e.loginuid as number,
      sessionid: e.sessionid as number, cgroup_id: e.cgroup_id as number, cgroup: cg,
      container_id: cg === undefined ? undefined : containerIdOf(cg),
      ns: e.ns as Record<string, number> | undefined,
      exec_id: e.exec_id as string | null | undefined, parent_exec_id: e.parent_exec_id as string | null | undefined,
    };
  }

  private setContext(pid: number, tid: number, e: RawEvent): void {
    const c = this.context(e);
    if (!this.ctxByTid.has(tid)) {
      const list = this.threads.get(pid);
      if (list) list.push(tid);
      else this.threads.set(pid, [tid]);
      this.pidOfTid.set(tid, pid);
    }
    this.ctxByTid.set(tid, c);
    this.ctxByPid.set(pid, c);
  }

  private forget(pid: number): void {
    for (const tid of this.threads.get(pid) ?? []) {
      this.ctxByTid.delete(tid);
      this.pidOfTid.delete(tid);
      this.fdPending.delete(tid);
    }
    this.threads.delete(pid);
  }

  // ---- arguments ----

  /**
   * Decodes the captures of one record into args (over the register values there). The
   * tail holds one segment per argument, in argument order (length 0 when nothing was
   * captured for it). At exit, an input holds a segment only when the kernel read it again
   * (it was unreadable at entry): then it replaces the entry's value and cut verdict.
   * Returns the names of the arguments whose capture was cut (`cut` updated), or null.
   */
  private captures(list: ArgPlan[], b: Buffer, o: number, n: number, f: Offsets, ret: number | bigint | null,
    args: Record<string, ArgValue>, atExit: boolean, cut: string[] | null): string[] | null {
    const cutBits = b.readUInt32LE(o + f.cut);
    const end = o + n;
    let pos = o + f.tail;
    let next = 0;
    // A socket address whose length is returned through a pointer is decoded after that
    // pointer's own capture (a later argument), which says how long the address is.
    let late: {a: ArgPlan; at: number; len: number; ptr: number | bigint} | null = null;
    for (const a of list) {
      let len = 0;
      for (; next <= a.index; next++) {
        const at = o + f.segLen + next * f.segSize;
        len = f.segSize === 4 ? b.readUInt32LE(at) : f.segSize === 2 ? b.readUInt16LE(at) : b.readUInt8(at);
        if (len > end - pos) {
          len = end - pos;
          this.malformed = true;
        }
        if (next < a.index) pos += len;
      }
      const wasCut = ((cutBits >>> a.index) & 1) === 1;
      // At exit an input holds a segment only when it was read again; an inout capture
      // holds none when the call failed or the memory could not be read: the entry's
      // value stands (and a cut at exit is still said).
      if (atExit && len === 0 && (a.phase === Phase.In || (a.phase === Phase.InOut && a.name in args && args[a.name] !== null && typeof args[a.name] === 'object'))) {
        if (wasCut && a.phase === Phase.InOut && !(cut ?? []).includes(a.name)) (cut ??= []).push(a.name);
        continue;
      }
      const ptr = h.u64(b, o + f.args + a.index * 8);
      if (cut !== null && atExit && (a.phase === Phase.In || a.phase === Phase.InOut)) {
        cut = cut.filter((x) => x !== a.name);
        if (cut.length === 0) cut = null;
      }
      if (wasCut) (cut ??= []).push(a.name);
      if (a.info.kind === 'sockaddr' && a.info.len_ptr && len > 0 && (ret === null || Number(ret) >= 0)) late = {a, at: pos, len, ptr};
      else args[a.name] = capture(a, b, pos, len, wasCut, ptr, ret, args, atExit, this.damage);
      pos += len;
    }
    if (late !== null) {
      const v = late.a.lenName === undefined ? undefined : args[late.a.lenName];
      args[late.a.name] = sockaddrValue(b, late.at, late.len, typeof v === 'number' ? v : undefined);
    }
    if (this.damage.malformed) {
      this.damage.malformed = false;
      this.malformed = true;
    }
    return cut;
  }

  // ---- events ----

  /** Emits an entry that will get no exit, once. */
  private settle(p: Pending, emit: Emit): void {
    if (p.emitted) return;
    p.emitted = true;
    this.noExit(p, emit);
  }

  private noExit(p: Pending, emit: Emit): void {
    this.put(emit, p.ts, p.pid, p.tid, p.cpu, p.plan, p.args, null, null, 'no_exit', p.inFlight, p.cut, p.malformed);
  }

  /**
   * One syscall event is complete: to the direct sink when there is one and it takes it,
   * else built as an object and emitted. Every syscall event goes through here.
   */
  private put(emit: Emit, ts: number, pid: number, tid: number, cpu: number, plan: SysPlan, args: Record<string, ArgValue> | null,
    ret: number | bigint | null, duration: number | null, incomplete: 'no_entry' | 'no_exit' | undefined, inFlight: boolean,
    cut: string[] | null, malformed: boolean): void {
    const q = this.parts;
    const c = this.ctxByTid.get(tid) ?? this.ctxByPid.get(pid) ?? this.snapshot.get(pid) ?? NO_CONTEXT;
    q.ctx = c;
    q.plan = plan;
    q.ts_ns = ts;
    q.pid = pid;
    q.tid = tid;
    q.cpu = cpu;
    q.comm = c.comm;
    q.syscall = plan.name;
    q.nr = plan.nr;
    q.args = args;
    q.ret = ret;
    q.duration_ns = duration;
    let errno: string | undefined;
    if (ret !== null) {
      const r = typeof ret === 'number' ? ret : Number(ret);
      if (r < 0 && r >= -4095) errno = errnoName(r);
    }
    q.errno = errno;
    q.incomplete = incomplete;
    q.in_flight = inFlight;
    q.cut = cut;
    q.malformed = malformed;
    q.implicit = plan.implicit;
    q.fd_paths = null;
    q.paths = null;
    if (this.fds !== null && (plan.fds !== null || this.fdPending.size !== 0)) this.followFds(q, plan, args, ret, incomplete);
    // A call recorded only for the model has done its work there.
    if (plan.implicit && !this.showImplicit) return;
    const d = this.direct;
    if (d !== null && d.syscall(q)) return;
    emit(this.event(q));
  }

  // ---- descriptors ----

  /**
   * One call through the descriptor model (formats/trace-format.md §10.18.1): the kernel's
   * descriptions left by an earlier call whose exit never came are applied first; then the
   * call's descriptor and path arguments are named (q.fd_paths, q.paths), as they were when
   * it was made; then what it did is applied — its own descriptions, a close, a dup … —
   * and a descriptor it returns is named (`ret`).
   */
  private followFds(q: SyscallParts, plan: SysPlan, args: Record<string, ArgValue> | null, ret: number | bigint | null,
    incomplete: 'no_entry' | 'no_exit' | undefined): void {
    const m = this.fds as FdModel;
    if (!this.fdReplay) m.lost();
    const pid = q.pid;
    const exited = ret !== null && incomplete !== 'no_exit';
    let mine: FdRecord[] | null = null;
    if (this.fdPending.size !== 0 && exited) {
      const list = this.fdPending.get(q.tid);
      if (list !== undefined) {
        this.fdPending.delete(q.tid);
        for (const r of list) {
          if (r.enterTs === q.ts_ns && incomplete === undefined) (mine ??= []).push(r);
          else this.applyFd(pid, r);
        }
      }
    }
    const fp = plan.fds;
    if (fp === null) {
      if (mine !== null) for (const r of mine) this.applyFd(pid, r);
      return;
    }
    const r = ret === null ? NaN : Number(ret);
    const names = this.fdNames;
    names.n = 0;
    if (args !== null) {
      // A call that did not fail with EBADF found its descriptors open.
      const open = exited && r !== EBADF;
      for (const a of fp.args) {
        const v = args[a.name];
        if (typeof v !== 'number') continue;
        const fd = v | 0; // the C int: 0xffffffff is -1
        if (fd === AT_FDCWD && a.dir) {
          names.push(a.name, m.cwd(pid));
          continue;
        }
        if (fd < 0) continue;
        // The kernel ignores a directory descriptor for an absolute path.
        const used = !(a.dir && absoluteAfter(fp, a, args));
        const f = m.lookup(pid, fd, open && used && !a.mayBeClosed);
        if (f === null) names.push(a.name, null);
        else if (f !== undefined) names.push(a.name, f.text, f);
      }
      for (const set of fp.sets) {
        const list = this.innerFds(args[set.name], set.kind);
        if (list === null) continue;
        names.push(set.name, list.map((fd) => (fd < 0 ? null : m.lookup(pid, fd, false)?.text ?? null)));
      }
      const paths = this.pathNames;
      paths.n = 0;
      for (const pa of fp.paths) {
        const v = args[pa.name];
        if (!isText(v) || startsWithSlash(v) || isEmptyText(v)) continue;
        let dir: Text | null = null;
        const dv = pa.dirIndex >= 0 ? args[plan.args[pa.dirIndex].name] : AT_FDCWD;
        const dfd = typeof dv === 'number' ? dv | 0 : -1;
        if (dfd === AT_FDCWD) dir = m.cwd(pid);
        else if (dfd >= 0) dir = m.fileOf(pid, dfd)?.dirPath ?? null;
        paths.push(pa.name, resolvePath(dir, v));
      }
      q.paths = paths.n ? paths : null;
    }
    if (exited) {
      let described = -1;
      let cwdSet = false;
      if (mine !== null) {
        for (const rec of mine) {
          this.applyFd(pid, rec);
          if (rec.fd === AT_FDCWD) cwdSet = true;
          else if (rec.fd === r) described = r;
        }
      }
      this.effect(fp, pid, args, r, cwdSet);
      if (r >= 0 && (fp.returnsFd || (fp.effect === Effect.Fcntl && args !== null && isDupCmd(args.cmd)))) {
        if (fp.returnsFd && described !== r) m.unknown(pid, r); // its description is missing (lost, or an older file)
        const t = m.name(pid, r, true);
        if (t !== undefined) names.push('ret', t);
      }
      if (fp.pair !== null && r === 0 && args !== null) {
        const v = args[fp.pair];
        if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number') {
          names.push(fp.pair, [m.name(pid, v[0], true) ?? null, m.name(pid, v[1], true) ?? null]);
        }
      }
    }
    q.fd_paths = names.n ? names : null;
  }

  /** The descriptors inside a pollfd array (each element's fd) or an fd_set (those given); null when it holds none. */
  private innerFds(v: ArgValue | undefined, kind: 'pollfd' | 'fdset'): number[] | null {
    if (kind === 'pollfd') {
      if (!Array.isArray(v) || v.length === 0) return null;
      return v.map((e) => {
        const fd = typeof e === 'object' && e !== null ? (e as Record<string, unknown>).fd : undefined;
        return typeof fd === 'number' ? fd | 0 : -1;
      });
    }
    const fds = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as {fds?: unknown}).fds : undefined;
    return Array.isArray(fds) && fds.length > 0 && fds.every((x) => typeof x === 'number') ? (fds as number[]) : null;
  }

  /** A kernel description of a descriptor (or of the cwd), into the model. */
  private applyFd(pid: number, r: FdRecord): void {
    const m = this.fds as FdModel;
    if (r.fd === AT_FDCWD) m.describeCwd(pid, r.desc);
    else if (r.fd >= 0) m.describe(pid, r.fd, r.desc, r.cloexec);
  }

  /** What a call did to descriptors that its arguments say (close, close_range, fcntl, ioctl, unshare, chdir). */
  private effect(fp: FdPlan, pid: number, args: Record<string, ArgValue> | null, r: number, cwdSet: boolean): void {
    const m = this.fds as FdModel;
    if (fp.effect === Effect.None || r < 0 && fp.effect !== Effect.Close) return;
    if (args === null) {
      // It changed something, but what is not known (its entry was not seen).
      if (fp.effect === Effect.Chdir) m.describeCwd(pid, null);
      else if (fp.effect !== Effect.Ioctl) m.forget(pid);
      return;
    }
    let missing = false;
    const num = (k: string): number => {
      const v = args[k];
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(BigInt.asUintN(32, v));
      missing = true; // recorded without its argument names (no tracepoint format): what it did is unknown
      return 0;
    };
    switch (fp.effect) {
      case Effect.Close: {
        const fd = num('fd') | 0;
        if (!missing && r !== EBADF) m.close(pid, fd);
        break;
      }
      case Effect.CloseRange: {
        const first = num('fd') >>> 0;
        const last = num('max_fd') >>> 0;
        const flags = num('flags') >>> 0;
        if (!missing) m.closeRange(pid, first, last, flags);
        break;
      }
      case Effect.Fcntl: {
        const cmd = num('cmd') | 0;
        const fd = num('fd') | 0;
        if (missing) break;
        if (cmd === F_DUPFD || cmd === F_DUPFD_CLOEXEC) m.dup(pid, fd, r, cmd === F_DUPFD_CLOEXEC);
        else if (cmd === F_SETFD) m.setCloexec(pid, fd, (num('arg') & 1) !== 0);
        break;
      }
      case Effect.Ioctl: {
        const cmd = num('cmd') >>> 0;
        const fd = num('fd') | 0;
        if (!missing && (cmd === FIOCLEX || cmd === FIONCLEX)) m.setCloexec(pid, fd, cmd === FIOCLEX);
        break;
      }
      case Effect.Unshare: {
        const flags = num('unshare_flags');
        if (!missing) m.unshare(pid, flags);
        break;
      }
      case Effect.Chdir:
        if (!cwdSet) m.describeCwd(pid, null); // its description is missing
        break;
    }
    if (missing && fp.effect !== Effect.Ioctl) m.forget(pid);
  }

  /** The event object of a syscall's parts, as emitted (with its time string when `times`). */
  event(q: SyscallParts, times = this.times): RawEvent & {time: string} {
    const c = q.ctx;
    // One literal, one shape. Context keys the file does not know stay undefined, which
    // toJson leaves out; the optional keys below are rare and added only when they apply.
    const time = times ? this.clock.rfc3339(q.ts_ns) : '';
    const args = q.args === NO_ARGS ? {} : q.args;
    // Descriptors and paths named beside the arguments (the JSON writer's key order, json.ts):
    // a literal of its own, so that events without them keep one shape; a key it does not
    // have is undefined, which toJson leaves out.
    const e: RawEvent & {time: string} = q.fd_paths === null && q.paths === null ? {
      type: 'syscall', time, ts_ns: q.ts_ns, pid: q.pid, tid: q.tid,
      ppid: c.ppid, uid: c.uid, gid: c.gid, comm: c.comm, exec_id: c.exec_id, parent_exec_id: c.parent_exec_id, euid: c.euid, egid: c.egid,
      loginuid: c.loginuid, sessionid: c.sessionid, cgroup_id: c.cgroup_id, cgroup: c.cgroup, container_id: c.container_id, ns: c.ns,
      cpu: q.cpu, syscall: q.syscall, nr: q.nr, args, ret: q.ret, duration_ns: q.duration_ns,
    } : {
      type: 'syscall', time, ts_ns: q.ts_ns, pid: q.pid, tid: q.tid,
      ppid: c.ppid, uid: c.uid, gid: c.gid, comm: c.comm, exec_id: c.exec_id, parent_exec_id: c.parent_exec_id, euid: c.euid, egid: c.egid,
      loginuid: c.loginuid, sessionid: c.sessionid, cgroup_id: c.cgroup_id, cgroup: c.cgroup, container_id: c.container_id, ns: c.ns,
      cpu: q.cpu, syscall: q.syscall, nr: q.nr, args, fd_paths: q.fd_paths?.object(), paths: q.paths?.object(), ret: q.ret, duration_ns: q.duration_ns,
    };
    if (q.errno !== undefined) e.errno = q.errno;
    if (q.incomplete !== undefined) e.incomplete = q.incomplete;
    if (q.in_flight) e.in_flight = true;
    if (q.cut !== null) e.cut = q.cut;
    if (q.malformed) e.malformed = true;
    if (q.implicit) e.implicit = true;
    if (q.args !== null && q.args !== NO_ARGS) {
      const sym = symbolsOf(q.plan, q.args, this.arch);
      if (sym !== null) e.sym = sym;
    }
    return e;
  }
}

/** An et_fd record waiting for the exit of its call. */
interface FdRecord {
  fd: number;
  enterTs: number;
  cloexec: boolean;
  desc: FdDesc;
}

const isText = (v: unknown): v is Text => typeof v === 'string' || isRawText(v);
const startsWithSlash = (t: Text): boolean => (typeof t === 'string' ? t.charCodeAt(0) === 0x2f : Buffer.from(t.base64, 'base64')[0] === 0x2f);
const isEmptyText = (t: Text): boolean => (typeof t === 'string' ? t.length === 0 : t.base64.length === 0);
const isDupCmd = (v: unknown): boolean => typeof v === 'number' && ((v | 0) === F_DUPFD || (v | 0) === F_DUPFD_CLOEXEC);

/** Whether the path argument after directory descriptor `a` is absolute (the kernel then ignores `a`). */
function absoluteAfter(fp: FdPlan, a: FdArg, args: Record<string, ArgValue>): boolean {
  for (const pa of fp.paths) {
    if (pa.dirIndex !== a.index) continue;
    const v = args[pa.name];
    return isText(v) && startsWithSlash(v);
  }
  return false;
}

const u8 = (v: unknown): Uint8Array | null => (v instanceof Uint8Array ? v : null);
const int = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0);

/**
 * fdDesc gives the description an et_fd record (read by its generated reader) or a
 * snapshot `fds` entry holds (formats/trace-format.md §10.18). Values of the wrong type
 * (a damaged file) read as 0 or empty: what they describe is then named from less.
 */
export function fdDesc(e: Record<string, unknown>): FdDesc {
  const path = Array.isArray(e.path) ? (e.path.slice(0, 64).map((p) => (p instanceof Uint8Array ? decodeText(Buffer.from(p), 0, p.length) : p)).filter(isText)) : [];
  const ino = typeof e.ino === 'bigint' ? e.ino : int(e.ino);
  const peer = typeof e.peer_ino === 'bigint' ? e.peer_ino : int(e.peer_ino);
  return {
    fd_flags: int(e.fd_flags) >>> 0, ino, dev: int(e.dev) >>> 0, rdev: int(e.rdev) >>> 0, mode: int(e.mode) >>> 0,
    magic: int(e.magic), family: int(e.family), sock_type: int(e.sock_type), protocol: int(e.protocol),
    local_port: int(e.local_port), peer_port: int(e.peer_port), portid: int(e.portid) >>> 0,
    local_addr: u8(e.local_addr), peer_addr: u8(e.peer_addr), peer_ino: peer, pidfd_pid: int(e.pidfd_pid) >>> 0,
    path, addr: u8(e.addr),
  };
}

function capture(a: ArgPlan, b: Buffer, at: number, len: number, cut: boolean, ptr: number | bigint, ret: number | bigint | null,
  args: Record<string, ArgValue>, atExit: boolean, d: Damage): ArgValue {
  const nullPtr = ptr === 0;
  // An output of a failed call holds nothing the call wrote: keep the address.
  if ((a.phase === Phase.Out || (a.phase === Phase.InOut && atExit)) && ret !== null && Number(ret) < 0) return nullPtr ? null : ptr;
  const lenValue = (): number | undefined => {
    const v = a.lenName === undefined ? undefined : args[a.lenName];
    return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
  };
  switch (a.info.kind) {
    case 'str':
      if (len === 0) return nullPtr ? null : ptr; // NULL, or unreadable: keep the address
      return h.str(b, at, len);
    case 'struct': {
      if (len === 0) return nullPtr ? null : ptr;
      const r = (a.struct as StructReader)(b, at, len);
      return a.scalar ? (r.value as ArgValue | undefined) ?? ptr : r;
    }
    case 'buf': {
      if (nullPtr && len === 0) return null;
      let want = len;
      if (a.info.len_ret && ret !== null) want = Number(ret);
      else if (a.lenName !== undefined && !a.info.len_ptr) want = lenValue() ?? len;
      return bufferValue(b, at, len, Math.max(want, len), cut || len < want);
    }
    case 'sockaddr':
      if (len === 0) return nullPtr ? null : ptr;
      return sockaddrValue(b, at, len, a.info.len_ptr ? undefined : lenValue());
    case 'fdset': {
      if (len === 0) return nullPtr ? null : ptr;
      const fds = fdsetFds(b, at, len, lenValue());
      if (!atExit || a.phase !== Phase.InOut) return a.phase === Phase.Out ? {ready: fds} : {fds};
      const prev = args[a.name];
      const v: FdSetValue = {};
      if (prev !== null && typeof prev === 'object' && Array.isArray((prev as FdSetValue).fds)) v.fds = (prev as FdSetValue).fds;
      v.ready = fds;
      return v;
    }
    case 'array': {
      if (len === 0) {
        // Nothing to capture (no element) is an empty array, as strace shows it.
        const count = a.info.len_ret ? (ret === null ? undefined : Number(ret)) : lenValue();
        return !nullPtr && count === 0 && !cut ? [] : nullPtr ? null : ptr;
      }
      const omit = !atExit && a.phase === Phase.InOut ? a.info.out_fields : undefined;
      return arrayValue(b, at, len, a.elem as StructReader, a.elemSize, omit, d);
    }
    case 'iovec':
      if (len === 0) return nullPtr ? null : ptr;
      return iovecValue(b, at, len, a.elem as StructReader, a.elemSize, atExit && a.info.len_ret && ret !== null ? Number(ret) : null,
        lenValue(), d);
    case 'msghdr':
      if (len === 0) return nullPtr ? null : ptr;
      return msghdrValue(b, at, len, a.msghdr as MsghdrReaders, atExit && a.info.len_ret && ret !== null ? Number(ret) : null, d);
    default:
      return ptr;
  }
}

function bufferValue(b: Buffer, at: number, stored: number, len: number, truncated: boolean): BufferValue {
  const end = at + stored;
  // Captures are short (--bytes): a byte loop settles the common ASCII case without a view.
  let i = at;
  while (i < end && b[i] < 0x80) i++;
  if (i === end) return {text: b.toString('latin1', at, end), len, truncated};
  const bytes = b.subarray(at, end);
  if (isUtf8(bytes)) return {text: bytes.toString('utf8'), len, truncated};
  return {base64: bytes.toString('base64'), len, truncated};
}
