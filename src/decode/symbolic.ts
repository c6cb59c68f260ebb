// The symbolic form of syscall arguments in JSON (`sym`): decode --json keeps every argument
// as the number the kernel saw, and puts beside them, in `sym`, the names human output
// shows for the arguments that have some (`"flags":577` → `"sym":{"flags":"O_WRONLY|O_CREAT|
// O_TRUNC"}`), so a consumer needs no table of its own. The names are constants.ts's, for
// the file's architecture; a bit without a name stays a hex remainder, as in human lines.

import {argStyle, formatStyled, type Arch, type ArgStyle} from './constants';
import type {SyscallPlan} from './syscalls';

/** Styles that only re-spell the number (an address in hex, an int's sign): not symbolic. */
const PLAIN: ReadonlySet<ArgStyle> = new Set<ArgStyle>(['addr', 'int32']);

/** One argument with a symbolic form. */
export interface SymArg {
  name: string;
  style: ArgStyle;
}

const bySyscall = new WeakMap<SyscallPlan, readonly SymArg[]>();

/** The arguments of a syscall (as the file describes it) that have a symbolic form; [] for most. */
export function symbolicArgs(plan: SyscallPlan): readonly SymArg[] {
  let out = bySyscall.get(plan);
  if (out === undefined) {
    const seen = new Set<string>();
    const list: SymArg[] = [];
    for (const a of plan.args) {
      if (seen.has(a.name)) continue;
      seen.add(a.name);
      const style = argStyle(plan.name, a.name);
      if (style !== null && !PLAIN.has(style)) list.push({name: a.name, style});
    }
    out = list;
    bySyscall.set(plan, out);
  }
  return out;
}

/**
 * The symbolic text of one value, or null when it says nothing the number does not (a
 * directory fd other than AT_FDCWD is just its number).
 */
export function symbolText(style: ArgStyle, v: number | bigint, arch: Arch, args?: Readonly<Record<string, unknown>>): string | null {
  // A socket's protocol is named by its family, an option by its level: not remembered by value.
  if (CONTEXTUAL.has(style)) return formatStyled(style, v, arch, args);
  // Calls repeat their flags (O_RDONLY|O_CLOEXEC thousands of times): remember the texts.
  const key = `${arch}\0${style}`;
  let memo = memos.get(key);
  if (memo === undefined) memos.set(key, (memo = new Map()));
  let s = memo.get(v);
  if (s === undefined) {
    s = formatStyled(style, v, arch);
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(v, s);
  }
  return style === 'fd_at' && s !== 'AT_FDCWD' ? null : s;
}

/** Styles whose text depends on another argument of the call. */
const CONTEXTUAL: ReadonlySet<ArgStyle> = new Set<ArgStyle>(['sock_protocol', 'sockopt']);

/** Texts remembered per style; a file whose values never repeat starts over past this. */
const MEMO_MAX = 512;
const memos = new Map<string, Map<number | bigint, string>>();

/** `sym` of one call: argument name → its symbolic form; null when no argument has one. */
export function symbolsOf(plan: SyscallPlan, args: Readonly<Record<string, unknown>> | null, arch: Arch): Record<string, string> | null {
  const list = symbolicArgs(plan);
  if (list.length === 0 || args === null) return null;
  let out: Record<string, string> | null = null;
  for (const {name, style} of list) {
    const v = args[name];
    if (typeof v !== 'number' && typeof v !== 'bigint') continue;
    const s = symbolText(style, v, arch, args);
    if (s === null) continue;
    (out ??= {})[name] = s;
  }
  return out;
}
