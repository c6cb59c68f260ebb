// One line per event for people: time, type, who, then what happened, with argv quoted
// the way a shell would need it so a line can be pasted back. Syscalls read like strace:
// `cat(10609) openat(dfd=AT_FDCWD, filename="/etc/hosts", flags=O_RDONLY|O_CLOEXEC, mode=0) = 3 <0.000012>`.

import {signalName} from '../util/errno';
import {Output} from '../util/output';
import {defaultHumanTime, formatDuration, HumanTime, WallClock} from '../util/time';
import {ArgStyle, argStyle, formatAddr, formatStyled, RETURNS_ADDR} from './constants';
import {TraceEvent} from './events';
import {capturedText} from './captures';
import {cBytes, cString} from './cstring';
import {displayText, forEachPiece, isRawText, sameText, type RawText, type Text} from './text';
import {ArgInfo, Named, SyscallParts, SyscallPlan, SyscallSink, TaskContext} from './syscalls';

/** What syscall lines need from the file: the Decoder provides it. */
export interface HumanContext {
  readonly arch: string;
  argInfo(nr: number): readonly ArgInfo[] | undefined;
  /** The struct is one field `value`: a scalar read through a pointer (shown as [v], like strace). */
  scalarStruct?(name: string): boolean;
}

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One character inside bash's $'…' quotes. */
function dollarChar(ch: string): string {
  const c = ch.codePointAt(0) as number;
  if (ch === '\\' || ch === "'") return '\\' + ch;
  if (ch === '\n') return '\\n';
  if (ch === '\t') return '\\t';
  if (ch === '\r') return '\\r';
  if (c < 0x20 || c === 0x7f) return hexByte(c);
  return ch;
}

const hexByte = (c: number) => '\\x' + c.toString(16).padStart(2, '0');

/**
 * Quotes one argument for a POSIX shell; control bytes, and bytes that are not UTF-8
 * (a RawText, text.ts), use bash's $'…' form, which writes them back exactly.
 */
/** The exec flags a human line shows, when set (the event model's booleans). */
const EXEC_MARKS = ['memfd', 'deleted', 'setuid', 'setgid', 'privileged'];

export function shellQuote(s: Text): string {
  if (typeof s !== 'string') {
    if (!isRawText(s)) return shellQuote(String(s));
    let q = "$'";
    forEachPiece(s, (p) => (q += typeof p === 'number' ? hexByte(p) : dollarChar(p)));
    return q + "'";
  }
  if (s === '') return "''";
  if (SAFE.test(s)) return s;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(s)) {
    let q = "$'";
    for (const ch of s) q += dollarChar(ch);
    return q + "'";
  }
  return "'" + s.replace(/'/g, "'\\''") + "'";
}

export function commandLine(argv: readonly Text[] | undefined): string {
  return argv ? argv.map(shellQuote).join(' ') : '';
}

/** Ancestors a human line names in full; a longer chain shows its first ANCESTRY_HEAD and its root. */
const ANCESTRY_SHOWN = 5;
const ANCESTRY_HEAD = 3;

/**
 * ancestryText gives decode --ancestors' tail of a line: `  ← sh(18170) ← node(18158) ← …`,
 * the parent first. A long chain keeps the nearest ancestors (who launched it) and the
 * root (where the session began), and says how many it left out between them.
 */
export function ancestryText(ancestors: unknown): string {
  if (!Array.isArray(ancestors)) return '';
  if (ancestors.length === 0) return '  ← (no parent known)';
  const one = (a: {pid?: unknown; comm?: unknown}) => `${typeof a.comm === 'string' ? a.comm : '?'}(${a.pid})`;
  const all = ancestors as {pid?: unknown; comm?: unknown}[];
  const shown = all.length <= ANCESTRY_SHOWN
    ? all.map(one)
    : [...all.slice(0, ANCESTRY_HEAD).map(one), `… ${all.length - ANCESTRY_HEAD - 1} more`, one(all[all.length - 1])];
  return `  ← ${shown.join(' ← ')}`;
}

function who(e: TraceEvent): string {
  return `[${e.pid} ppid=${e.ppid} uid=${e.uid} comm=${JSON.stringify(e.comm ?? '')}]`;
}

/** One event as a line; `times` says in which zone, and whether with the date (the local zone, by default). */
export function humanLine(e: TraceEvent, clock: WallClock, ctx?: HumanContext, times: HumanTime = defaultHumanTime(clock)): string {
  const t = typeof e.ts_ns === 'number' ? times.format(e.ts_ns) : '';
  if (e.type === 'syscall') return `${t} ${syscallLine(e as unknown as SyscallView, ctx)}`;
  const head = `${t} ${e.type.padEnd(11)}`;
  switch (e.type) {
    case 'process':
    case 'exec': {
      const argv = e.argv as Text[] | undefined;
      // Kernel threads have no argv: show their name in brackets, as ps does.
      const cmd = argv && argv.length ? commandLine(argv) : `[${e.comm}]`;
      let s = `${head} ${who(e)} ${cmd}`;
      if (e.filename && (!argv || !sameText(argv[0], e.filename))) s += `  (${displayText(e.filename)})`;
      if (e.interp) s += `  interp=${displayText(e.interp)}`;
      if (e.truncated) s += `  [truncated: argc=${e.argc}]`;
      const marks = EXEC_MARKS.filter((k) => e[k] === true);
      if (marks.length) s += `  [${marks.join(' ')}]`;
      return s + ancestryText(e.ancestors);
    }
    case 'exec_failed':
      return `${head} ${who(e)} ${shellQuote((e.filename ?? '') as Text)}: ${commandLine(e.argv as Text[])} = ${e.errno}${ancestryText(e.ancestors)}`;
    case 'fork':
      return `${head} ${who(e)} child of ${e.ppid}`;
    case 'exit': {
      const status = e.signal !== null && e.signal !== undefined
        ? `killed by ${signalName(e.signal as number)}${e.core_dumped ? ' (core dumped)' : ''}`
        : `exit_code=${e.exit_code}`;
      const ran = typeof e.running_time_ns === 'number' ? ` after ${formatDuration(e.running_time_ns)}` : '';
      const what = e.argv ? `  ${commandLine(e.argv as Text[])}` : '';
      return `${head} ${who(e)} ${status}${ran}${what}`;
    }
    case 'lost':
      return `${head} cpu=${e.cpu} ${e.count} ${e.event} event(s) lost between ${e.window_start} and ${e.window_end}`;
    default:
      return `${head} ${JSON.stringify(e)}`;
  }
}

// ---- syscalls ----------------------------------------------------------------------------

// C-syntax strings and bytes live in cstring.ts (socket addresses use them too); re-exported
// here for the callers that always found them here.
export {cBytes, cString};

/** Struct members shown first, for the structs people look at most; the others follow up to MAX_MEMBERS. */
const PREFERRED: Record<string, readonly string[]> = {
  stat: ['st_ino', 'st_mode', 'st_size'],
  statx: ['stx_ino', 'stx_mode', 'stx_size'],
  timespec: ['tv_sec', 'tv_nsec'],
  __kernel_timespec: ['tv_sec', 'tv_nsec'],
};
const MAX_MEMBERS = 4;

function member(k: string, v: unknown, depth: number): string {
  if (typeof v === 'number' && /mode$/.test(k)) return `${k}=0${v.toString(8)}`;
  return `${k}=${plain(v, depth + 1)}`;
}

function plain(v: unknown, depth: number): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string' || isRawText(v)) return cString(v);
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => plain(x, depth + 1)).join(', ')}]`;
  if (typeof v === 'object') return depth > 2 ? '{...}' : structText(v as Record<string, unknown>, undefined, depth);
  return String(v);
}

function structText(o: Record<string, unknown>, name: string | undefined, depth = 0): string {
  const keys = Object.keys(o).filter((k) => o[k] !== undefined);
  const first = (name && PREFERRED[name]?.filter((k) => keys.includes(k))) || [];
  const shown = first.length ? first : keys.slice(0, MAX_MEMBERS);
  const parts = shown.map((k) => member(k, o[k], depth));
  if (shown.length < keys.length) parts.push('...');
  return `{${parts.join(', ')}}`;
}

/**
 * What a syscall line reads of its event: a syscall event object, or the decoder's values
 * for one (SyscallParts has these keys too), so both print through the same code.
 */
export interface SyscallView {
  readonly pid: unknown;
  readonly tid: unknown;
  readonly comm: unknown;
  readonly syscall: unknown;
  readonly nr: unknown;
  readonly args: unknown;
  readonly cut?: unknown;
  readonly incomplete?: unknown;
  readonly in_flight?: unknown;
  readonly errno?: unknown;
  readonly ret: unknown;
  readonly duration_ns: unknown;
  /** What descriptor arguments refer to, and relative paths made absolute: a Named (parts) or an object (an event). */
  readonly fd_paths?: unknown;
  readonly paths?: unknown;
}

/** The value named `key` in an event's fd_paths or paths (an object) or the decoder's (a Named); undefined: none. */
function namedValue(v: unknown, key: string): unknown {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Named) return v.get(key);
  if (typeof v === 'object' && Object.prototype.hasOwnProperty.call(v, key)) return (v as Record<string, unknown>)[key];
  return undefined;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/g;

/** Annotations made, by name (a bounded memo: a storm names one file again and again). */
const annotations = new Map<string, string>();

/** `<what it refers to>`, strace -yy's annotation; `<?>` when it is unknown. */
function annotation(t: unknown): string {
  if (t === null) return '<?>';
  if (typeof t === 'string') {
    let a = annotations.get(t);
    if (a === undefined) {
      a = `<${t.replace(CONTROL, (c) => hexByte(c.charCodeAt(0)))}>`;
      if (annotations.size >= 4096) annotations.clear();
      annotations.set(t, a);
    }
    return a;
  }
  return `<${displayText(t).replace(CONTROL, (c) => hexByte(c.charCodeAt(0)))}>`;
}

/** A value (a descriptor, a pair of them, a path) with what it names, when the event says. */
function annotated(text: string, value: unknown, name: unknown): string {
  if (name === undefined) return text;
  if (Array.isArray(name) && Array.isArray(value) && name.length === value.length) {
    return `[${value.map((x, i) => `${plain(x, 1)}${name[i] === undefined ? '' : annotation(name[i])}`).join(', ')}]`;
  }
  return text + annotation(name);
}

/** Whether an argument's value is what was captured (not its address, kept when the capture failed). */
function captured(e: SyscallView, info: ArgInfo, cut: boolean): boolean {
  if (cut) return false;
  if (info.capture === 'out') return !e.errno && e.incomplete !== 'no_exit';
  return e.incomplete !== 'no_entry';
}

/** argStyle, remembered per syscall and argument (a bounded memo: names may come from a hostile file). */
const styles = new Map<string, ArgStyle | null>();

function styleOf(syscall: string, arg: string): ArgStyle | null {
  const key = `${syscall}\0${arg}`;
  let st = styles.get(key);
  if (st === undefined) {
    st = argStyle(syscall, arg);
    if (styles.size >= 4096) styles.clear();
    styles.set(key, st);
  }
  return st;
}

function argText(e: SyscallView, name: string, v: unknown, info: ArgInfo | undefined, cut: boolean, ctx: HumanContext | undefined,
  inner?: readonly unknown[]): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number' || typeof v === 'bigint') {
    const style = styleOf(e.syscall as string, name);
    if (style) return formatStyled(style, v, ctx?.arch ?? 'x86_64', e.args as Record<string, unknown>);
    if (info?.kind === 'struct' && info.struct && ctx?.scalarStruct?.(info.struct) && captured(e, info, cut)) return `[${v}]`;
    // A pointer, or a capture that could not be read (its address is kept).
    if (info && (info.type.includes('*') || info.kind !== 'value')) return formatAddr(v);
    return String(v);
  }
  if (typeof v === 'string' || isRawText(v)) return cString(v) + (cut ? '...' : '');
  const compound = capturedText(e.syscall as string, name, v, info, ctx?.arch ?? 'x86_64', e.args as Record<string, unknown>, e.ret,
    inner === undefined ? undefined : {names: inner, annotate: annotation});
  if (compound !== undefined) return compound;
  if (Array.isArray(v)) return plain(v, 0);
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // A buffer's bytes as strace shows them, each byte past ASCII escaped: binary data that
    // happens to be valid UTF-8 (a DNS packet) is not shown as characters it never held.
    if (typeof o.text === 'string' && typeof o.len === 'number') return textBytes(o.text) + (o.truncated ? '...' : '');
    if (typeof o.base64 === 'string' && typeof o.len === 'number') return cBytes(Buffer.from(o.base64, 'base64')) + (o.truncated ? '...' : '');
    return structText(o, info?.struct);
  }
  return String(v);
}

/** A buffer's text in C syntax, byte by byte (cBytes) when it holds anything past ASCII. */
function textBytes(text: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(text) ? cString(text) : cBytes(Buffer.from(text, 'utf8'));
}

function retText(e: SyscallView): string {
  const ret = e.ret as number | bigint | null;
  if (ret === null || ret === undefined) return '?';
  if (e.errno) return `${ret} ${e.errno}`;
  if (RETURNS_ADDR.has(e.syscall as string) && Number(ret) >= 0) return formatAddr(ret);
  return annotated(String(ret), ret, namedValue(e.fd_paths, 'ret'));
}

/** `comm(pid)` or `comm(pid/tid)`. */
function whoText(e: SyscallView): string {
  const pid = e.pid as number;
  return `${e.comm ?? '?'}(${pid}${e.tid !== pid ? `/${e.tid}` : ''})`;
}

/** The arguments as `name=value, ...`, or `?` when the call's entry is unknown. */
function argList(e: SyscallView, ctx: HumanContext | undefined): string {
  const args = e.args as Record<string, unknown> | null;
  if (!args) return '?';
  const infos = ctx?.argInfo(e.nr as number);
  const cut = e.cut as string[] | undefined;
  return Object.keys(args)
    .map((k, i) => {
      const info = infos?.[i]?.name === k ? infos[i] : infos?.find((a) => a.name === k);
      const named = namedValue(e.fd_paths, k);
      // Descriptors inside the argument (a pollfd array, an fd_set) are named where they are.
      const inner = Array.isArray(named) && (info?.kind === 'array' || info?.kind === 'fdset') ? named : undefined;
      const text = argText(e, k, args[k], info, cut?.includes(k) ?? false, ctx, inner);
      return `${k}=${annotated(inner === undefined ? annotated(text, args[k], named) : text, args[k], namedValue(e.paths, k))}`;
    })
    .join(', ');
}

/** After the call, for an event without its exit. */
function noExitText(e: SyscallView): string {
  // exit and exit_group end the process: strace's `= ?` says the same.
  if (!e.in_flight && (e.syscall === 'exit_group' || e.syscall === 'exit')) return ' = ?';
  return ` ... <unfinished: ${e.in_flight ? 'in flight when recording stopped' : 'no exit'}>`;
}

function durationText(e: SyscallView): string {
  const d = e.duration_ns as number | null;
  return typeof d === 'number' ? ` <${(d / 1e9).toFixed(6)}>` : '';
}

function syscallLine(e: SyscallView, ctx: HumanContext | undefined): string {
  const call = `${whoText(e)} ${e.syscall as string}(${argList(e, ctx)})`;
  if (e.incomplete === 'no_exit') return call + noExitText(e);
  return `${call} = ${retText(e)}${durationText(e)}${e.incomplete === 'no_entry' ? ' <no entry>' : ''}`;
}

// ---- straight to bytes -------------------------------------------------------------------

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
const EQUALS = latin1(' = ');
const OPEN_DURATION = latin1(' <');
const CLOSE_DURATION = latin1('>');
const NO_ENTRY = latin1(' <no entry>');

/** A thread's `comm(pid) `, while its context (where comm comes from) stays the same. */
interface Who {
  ctx: TaskContext;
  pid: number;
  tid: number;
  bytes: Buffer;
}

const MAX_THREADS = 4096;

interface PlanText {
  /** `name(`, `name()` (no arguments), `name(?)` (arguments unknown). */
  open: Buffer;
  empty: Buffer;
  unknown: Buffer;
  noArgs: boolean;
  returnsAddr: boolean;
}

/**
 * decode (human form) without building syscall events: lines written from the decoder's
 * values into the output buffer, the same text humanLine gives. A thread's `comm(pid) `
 * and a syscall's `name(` are made once; time, return value and duration are written as
 * digits; arguments, and every rarer shape of line, go through the functions above.
 */
export class HumanEventWriter implements SyscallSink {
  private readonly plans = new WeakMap<SyscallPlan, PlanText>();
  private lastPlan: SyscallPlan | null = null;
  private lastPlanText: PlanText | null = null;
  /** `comm(pid) ` by thread (at most MAX_THREADS, then started over), and the last one written. */
  private readonly threads = new Map<number, Who>();
  private who: Who | null = null;
  private sec = NaN;
  /** `17:50:56.` (or with the date: HumanTime) for the second `sec`. */
  private secText: Buffer = Buffer.alloc(0);

  private readonly times: HumanTime;

  constructor(private readonly out: Output, private readonly clock: WallClock, private readonly ctx?: HumanContext, times?: HumanTime) {
    this.times = times ?? defaultHumanTime(clock);
  }

  /** Any event, through humanLine. */
  readonly event = (e: TraceEvent): void => {
    this.out.line(humanLine(e, this.clock, this.ctx, this.times));
  };

  syscall(p: SyscallParts): boolean {
    const o = this.out;
    const clock = this.clock;
    const ts = p.ts_ns;
    const ns = clock.nanosOf(ts);
    if (ns >= 0 && ns < 1e9 && Number.isInteger(ns)) {
      const sec = clock.secondsOf(ts);
      if (sec !== this.sec) {
        this.secText = latin1(`${this.times.second(sec)}.`);
        this.sec = sec;
      }
      o.bytes(this.secText);
      o.padded(Math.floor(ns / 1000), 6);
    } else {
      o.utf8(this.times.format(ts));
    }
    o.byte(0x20);
    let who = this.who;
    if (who === null || p.tid !== who.tid || p.ctx !== who.ctx || p.pid !== who.pid) {
      let w = this.threads.get(p.tid);
      if (w === undefined || w.ctx !== p.ctx || w.pid !== p.pid) {
        if (this.threads.size >= MAX_THREADS) this.threads.clear();
        w = {ctx: p.ctx, pid: p.pid, tid: p.tid, bytes: Buffer.from(`${whoText(p)} `, 'utf8')};
        this.threads.set(p.tid, w);
      }
      this.who = who = w;
    }
    o.bytes(who.bytes);
    const plan = p.plan === this.lastPlan ? (this.lastPlanText as PlanText) : this.plan(p.plan);
    if (p.args === null) o.bytes(plan.unknown);
    else if (plan.noArgs) o.bytes(plan.empty);
    else {
      o.bytes(plan.open);
      o.utf8(argList(p, this.ctx));
      o.byte(0x29);
    }
    if (p.incomplete === 'no_exit') {
      o.ascii(noExitText(p));
      o.endLine();
      return true;
    }
    o.bytes(EQUALS);
    const ret = p.ret;
    if (typeof ret === 'number' && p.errno === undefined && !plan.returnsAddr && Number.isSafeInteger(ret) &&
      (p.fd_paths === null || p.fd_paths.get('ret') === undefined)) {
      if (ret < 0) {
        o.byte(0x2d);
        o.digits(-ret);
      } else {
        o.digits(ret);
      }
    } else {
      o.utf8(retText(p));
    }
    const d = p.duration_ns;
    // toFixed(6) of d/1e9 is d/1000 rounded half up; d/1e9 is inexact, so the exact halves
    // (and the unusual: negative, huge) are left to toFixed itself.
    if (d !== null && d >= 0 && d < 1e12 && Number.isInteger(d) && d % 1000 !== 500) {
      const us = Math.round(d / 1000);
      const whole = Math.floor(us / 1e6);
      o.bytes(OPEN_DURATION);
      o.digits(whole);
      o.byte(0x2e);
      o.padded(us - whole * 1e6, 6);
      o.bytes(CLOSE_DURATION);
    } else {
      o.ascii(durationText(p));
    }
    if (p.incomplete === 'no_entry') o.bytes(NO_ENTRY);
    o.endLine();
    return true;
  }

  private plan(plan: SyscallPlan): PlanText {
    let t = this.plans.get(plan);
    if (t === undefined) {
      t = {
        open: Buffer.from(`${plan.name}(`, 'utf8'),
        empty: Buffer.from(`${plan.name}()`, 'utf8'),
        unknown: Buffer.from(`${plan.name}(?)`, 'utf8'),
        noArgs: plan.args.length === 0,
        returnsAddr: RETURNS_ADDR.has(plan.name),
      };
      this.plans.set(plan, t);
    }
    this.lastPlan = plan;
    this.lastPlanText = t;
    return t;
  }
}
