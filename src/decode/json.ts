// decode --json without building events: syscall events (nearly all of a syscall-heavy
// trace) are written as NDJSON bytes straight from the decoder's values into the output
// buffer, the same bytes toJson(event) gives. What is the same for many events is made
// once: the `,"ppid":…,"ns":{…}` run of a thread's context (the same for every event of the
// thread until its context changes), and per syscall the `,"syscall":…,"args":` run and a
// generated writer for its arguments (the names come from the file's syscall metadata).
//
// Exactness over reach: a value this writer does not handle exactly as toJson would
// (anything but numbers, bigints, strings, booleans, null and plain arrays and objects of
// those, not too deep) makes it take back what it wrote of the event and decline it: the
// decoder then builds the object, which goes through toJson like every other event.

import {toJson} from '../util/json';
import {Output} from '../util/output';
import {WallClock} from '../util/time';
import type {TraceEvent} from './events';
import type {Named, SyscallParts, SyscallPlan, SyscallSink, TaskContext} from './syscalls';
import {symbolicArgs, symbolText, type SymArg} from './symbolic';
import type {Arch} from './constants';

/** The context keys of a syscall event, in its key order (SyscallDecoder.event). */
const CONTEXT_KEYS = ['ppid', 'uid', 'gid', 'comm', 'exec_id', 'parent_exec_id', 'euid', 'egid', 'loginuid', 'sessionid', 'cgroup_id', 'cgroup', 'container_id', 'ns'] as const;

/** Deeper than this, a value is left to toJson (which has its own limit). */
const MAX_DEPTH = 32;

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
/** What follows the nanoseconds in a syscall event's head: `000000000Z","ts_ns":` (9 + 11). */
const NANOS_TAIL = 20;
const RET = ascii(',"ret":');
const DURATION = ascii(',"duration_ns":');
const ERRNO = ascii(',"errno":');
const NO_ENTRY = ascii(',"incomplete":"no_entry"');
const NO_EXIT = ascii(',"incomplete":"no_exit"');
const IN_FLIGHT = ascii(',"in_flight":true');
const CUT = ascii(',"cut":[');
const MALFORMED = ascii(',"malformed":true');
const IMPLICIT = ascii(',"implicit":true');
const FD_PATHS = ascii(',"fd_paths":{');
const PATHS = ascii(',"paths":{');
const NULL = ascii('null');
const TRUE = ascii('true');
const FALSE = ascii('false');

type ArgsWriter = (o: Output, a: Record<string, unknown>) => boolean;

const SYM = ascii(',"sym":{');
const COMMA = ascii(',');

interface PlanOut {
  /** `,"syscall":"openat","nr":257,"args":` */
  head: Buffer;
  /** The head, then args null (no entry) or {} (a syscall without arguments). */
  headNull: Buffer;
  headEmpty: Buffer;
  noArgs: boolean;
  args: ArgsWriter;
  /** The arguments with a symbolic form (symbolic.ts), and `"name":` of each. */
  sym: readonly SymArg[];
  symKeys: Buffer[];
}

/** A JSON number exactly as JSON.stringify writes it. */
export function writeNumber(o: Output, v: number): void {
  if (Number.isSafeInteger(v)) {
    if (v < 0) {
      o.byte(45);
      o.digits(-v);
    } else {
      o.digits(v);
    }
  } else if (Number.isFinite(v)) {
    o.ascii(String(v));
  } else {
    o.bytes(NULL);
  }
}

/** A JSON string exactly as JSON.stringify writes it. */
export function writeString(o: Output, s: string): void {
  const n = s.length;
  // Printable ASCII without `"` or `\` needs no escaping: the common case, byte by byte.
  let plain = n <= 256;
  if (plain) {
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        plain = false;
        break;
      }
    }
  }
  if (plain) {
    o.reserve(n + 2);
    const b = o.buf;
    let p = o.pos;
    b[p++] = 0x22;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    b[p++] = 0x22;
    o.pos = p;
  } else {
    o.utf8(JSON.stringify(s));
  }
}

/**
 * Any value of an event as toJson writes it, or false (having written part of it) for one
 * it leaves to toJson: undefined at the top, functions, symbols, typed arrays and other
 * non-plain objects, nesting deeper than MAX_DEPTH.
 */
export function writeValue(o: Output, v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'number':
      writeNumber(o, v);
      return true;
    case 'string':
      writeString(o, v);
      return true;
    case 'bigint':
      // JSON.stringify refuses it; toJson then writes the event with its exact writer,
      // which agrees with JSON.stringify on every other value handled here.
      o.ascii(v.toString());
      return true;
    case 'boolean':
      o.bytes(v ? TRUE : FALSE);
      return true;
    case 'object': {
      if (v === null) {
        o.bytes(NULL);
        return true;
      }
      if (depth >= MAX_DEPTH) return false;
      if (Array.isArray(v)) {
        o.byte(0x5b);
        for (let i = 0; i < v.length; i++) {
          if (i) o.byte(0x2c);
          const x = v[i];
          if (x === undefined) o.bytes(NULL);
          else if (!writeValue(o, x, depth + 1)) return false;
        }
        o.byte(0x5d);
        return true;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return false;
      o.byte(0x7b);
      let first = true;
      for (const k of Object.keys(v)) {
        const x = (v as Record<string, unknown>)[k];
        if (x === undefined) continue;
        if (!first) o.byte(0x2c);
        first = false;
        writeString(o, k);
        o.byte(0x3a);
        if (!writeValue(o, x, depth + 1)) return false;
      }
      o.byte(0x7d);
      return true;
    }
    default:
      return false;
  }
}

/** `,"fd_paths":{"fd":"/etc/passwd","ret":null}`: names (Text, null, or a pair) as toJson writes the event's object. */
function writeNamed(o: Output, head: Buffer, n: Named): void {
  o.bytes(head);
  for (let i = 0; i < n.n; i++) {
    if (i) o.byte(0x2c);
    writeString(o, n.keys[i]);
    o.byte(0x3a);
    const v = n.values[i];
    const f = n.files[i];
    // Made once per open file while its name stays; a name that changed since the call
    // (a socket bound by it, whose event is written after) is the call's, not cached.
    if (f !== null && f.text === v) o.bytes(f.json ??= Buffer.from(JSON.stringify(v), 'utf8'));
    else if (typeof v === 'string') writeString(o, v);
    else writeValue(o, v, 2); // null, a RawText, a pair: plain data
  }
  o.byte(0x7d);
}

/** The JSON text of a value as writeValue writes it, or null where writeValue declines. */
function jsonText(v: unknown): string | null {
  const o = (scratch ??= new Output(-1, 1 << 12));
  o.rewind(0);
  if (!writeValue(o, v, 1)) return null;
  return o.buf.toString('utf8', 0, o.pos);
}

/** jsonText's buffer (never flushed: it has no file). */
let scratch: Output | null = null;

/** The run of keys from pid to cpu of one thread on one cpu, as last written. */
interface Who {
  ctx: TaskContext;
  pid: number;
  tid: number;
  cpu: number;
  bytes: Buffer;
}

/** Threads whose runs are kept; past this, the cache starts over (a trace of many short-lived threads). */
const MAX_THREADS = 4096;

/**
 * The writer of a syscall's `args` object, generated once per syscall: the object is
 * always made by that syscall's register reader, so its keys are the argument names in
 * order (a repeated name once, where it first appears).
 */
function compileArgs(plan: SyscallPlan): ArgsWriter {
  const names = [...new Set(plan.args.map((a) => a.name))];
  const keys = names.map((n, i) => ascii(`${i ? ',' : '{'}${JSON.stringify(n)}:`));
  const lines: string[] = [];
  if (names.length === 0) lines.push('o.byte(0x7b);');
  names.forEach((n, i) => {
    lines.push(`o.bytes(K[${i}]);`, `x = a[${JSON.stringify(n)}];`);
    // Register values are numbers (bigints past 2^53); captures may be anything.
    lines.push('if (typeof x === "number") num(o, x); else if (x === undefined || !val(o, x, 2)) return false;');
  });
  lines.push('o.byte(0x7d);', 'return true;');
  // Names are checked identifiers (syscalls.ts) and pass through JSON.stringify.
  const make = new Function('K', 'num', 'val', `return function args_${plan.nr < 0 ? 'raw' : plan.nr}(o, a) {\nlet x;\n${lines.join('\n')}\n};`);
  return make(keys, writeNumber, writeValue) as ArgsWriter;
}

export class JsonEventWriter implements SyscallSink {
  private readonly contexts = new WeakMap<TaskContext, Buffer | null>();
  private readonly plans = new WeakMap<SyscallPlan, PlanOut>();
  private readonly argsWriters = new WeakMap<SyscallPlan['args'], ArgsWriter>();
  /** `,"pid":…,"tid":…` + the context + `,"cpu":…`, by thread and cpu; and the last one written. */
  private readonly threads = new Map<number, Who>();
  private who: Who | null = null;
  private lastPlan: SyscallPlan | null = null;
  private lastPlanOut: PlanOut | null = null;
  private sec = NaN;
  /** `{"type":"syscall","time":"2026-11-23T17:50:56.000000000Z","ts_ns":` for the second `sec`. */
  private secOut: Buffer = Buffer.alloc(0);

  constructor(private readonly out: Output, private readonly clock: WallClock, private readonly arch: Arch = 'x86_64') {}

  /** Any event, through toJson. */
  readonly event = (e: TraceEvent): void => {
    this.out.line(toJson(e));
  };

  syscall(p: SyscallParts): boolean {
    const o = this.out;
    const ts = p.ts_ns;
    const clock = this.clock;
    const ns = clock.nanosOf(ts);
    if (!(ns >= 0 && ns < 1e9 && Number.isInteger(ns) && Number.isSafeInteger(ts))) return false;
    let who = this.who;
    if (who === null || p.tid !== who.tid || p.ctx !== who.ctx || p.pid !== who.pid || p.cpu !== who.cpu) {
      who = this.thread(p.ctx, p.pid, p.tid, p.cpu);
      if (who === null) return false;
    }
    const plan = p.plan === this.lastPlan ? (this.lastPlanOut as PlanOut) : this.plan(p.plan);
    const start = o.mark();
    const sec = clock.secondsOf(ts);
    if (sec !== this.sec) {
      this.secOut = ascii(`{"type":"syscall","time":"${clock.secondPrefix(sec)}.000000000Z","ts_ns":`);
      this.sec = sec;
    }
    // The second's head with the nanoseconds' place in it, then the nanoseconds written over it.
    o.bytes(this.secOut);
    o.pos -= NANOS_TAIL;
    o.nine(ns);
    o.pos += NANOS_TAIL - 9;
    o.digits(ts);
    o.bytes(who.bytes);
    if (p.args === null) o.bytes(plan.headNull);
    else if (plan.noArgs) o.bytes(plan.headEmpty);
    else {
      o.bytes(plan.head);
      if (!plan.args(o, p.args)) {
        o.rewind(start);
        return false;
      }
    }
    if (p.fd_paths !== null) writeNamed(o, FD_PATHS, p.fd_paths);
    if (p.paths !== null) writeNamed(o, PATHS, p.paths);
    o.bytes(RET);
    const ret = p.ret;
    if (typeof ret === 'number') writeNumber(o, ret);
    else if (ret === null) o.bytes(NULL);
    else o.ascii(ret.toString());
    o.bytes(DURATION);
    if (p.duration_ns === null) o.bytes(NULL);
    else writeNumber(o, p.duration_ns);
    if (p.errno !== undefined) {
      o.bytes(ERRNO);
      writeString(o, p.errno);
    }
    if (p.incomplete !== undefined) o.bytes(p.incomplete === 'no_exit' ? NO_EXIT : NO_ENTRY);
    if (p.in_flight) o.bytes(IN_FLIGHT);
    if (p.cut !== null) {
      o.bytes(CUT);
      for (let i = 0; i < p.cut.length; i++) {
        if (i) o.byte(0x2c);
        writeString(o, p.cut[i]);
      }
      o.byte(0x5d);
    }
    if (p.malformed) o.bytes(MALFORMED);
    if (p.implicit) o.bytes(IMPLICIT);
    if (plan.sym.length && p.args !== null) this.symbols(plan, p.args);
    o.byte(0x7d);
    o.endLine();
    return true;
  }

  /** `,"sym":{…}` as SyscallDecoder.event makes it (symbolsOf); nothing when no argument has a form. */
  private symbols(plan: PlanOut, args: Readonly<Record<string, unknown>>): void {
    const o = this.out;
    let first = true;
    for (let i = 0; i < plan.sym.length; i++) {
      const {name, style} = plan.sym[i];
      const v = args[name];
      if (typeof v !== 'number' && typeof v !== 'bigint') continue;
      const s = symbolText(style, v, this.arch, args);
      if (s === null) continue;
      o.bytes(first ? SYM : COMMA);
      first = false;
      o.bytes(plan.symKeys[i]);
      writeString(o, s);
    }
    if (!first) o.byte(0x7d);
  }

  /** The run of keys from pid to cpu, made once per thread and cpu; null when the context is not ours to write. */
  private thread(c: TaskContext, pid: number, tid: number, cpu: number): Who | null {
    // tid and cpu are u32: the key is exact below 2^53 (and a collision only costs a rebuild).
    const key = tid * 65536 + cpu;
    let w = this.threads.get(key);
    if (w === undefined || w.tid !== tid || w.ctx !== c || w.pid !== pid || w.cpu !== cpu) {
      const ctx = this.context(c);
      if (ctx === null) return null;
      if (this.threads.size >= MAX_THREADS) this.threads.clear();
      w = {ctx: c, pid, tid, cpu, bytes: Buffer.concat([ascii(`,"pid":${pid},"tid":${tid}`), ctx, ascii(`,"cpu":${cpu}`)])};
      this.threads.set(key, w);
    }
    this.who = w;
    return w;
  }

  /** `,"ppid":…,"ns":{…}` of a context (keys left undefined left out), or null: not ours to write. */
  private context(c: TaskContext): Buffer | null {
    let out = this.contexts.get(c);
    if (out === undefined) {
      let s: string | null = '';
      for (const k of CONTEXT_KEYS) {
        const v = c[k];
        if (v === undefined) continue;
        const t = jsonText(v);
        if (t === null) {
          s = null;
          break;
        }
        s += `,${JSON.stringify(k)}:${t}`;
      }
      out = s === null ? null : Buffer.from(s, 'utf8');
      this.contexts.set(c, out);
    }
    return out;
  }

  /**
   * Syscalls the file does not describe share one list of raw registers: one writer for
   * them all (a damaged file may name thousands of numbers).
   */
  private argsWriter(plan: SyscallPlan): ArgsWriter {
    let w = this.argsWriters.get(plan.args);
    if (w === undefined) {
      w = compileArgs(plan);
      this.argsWriters.set(plan.args, w);
    }
    return w;
  }

  private plan(plan: SyscallPlan): PlanOut {
    let out = this.plans.get(plan);
    if (out === undefined) {
      const head = `,"syscall":${JSON.stringify(plan.name)},"nr":${JSON.stringify(plan.nr)},"args":`;
      out = {
        head: Buffer.from(head, 'utf8'),
        headNull: Buffer.from(`${head}null`, 'utf8'),
        headEmpty: Buffer.from(`${head}{}`, 'utf8'),
        noArgs: plan.args.length === 0,
        args: this.argsWriter(plan),
        sym: symbolicArgs(plan),
        symKeys: symbolicArgs(plan).map((a) => ascii(`${JSON.stringify(a.name)}:`)),
      };
      this.plans.set(plan, out);
    }
    this.lastPlan = plan;
    this.lastPlanOut = out;
    return out;
  }
}
