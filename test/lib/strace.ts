// strace -c's table, as the tests that compare call counts with strace read it.

import * as fs from 'node:fs';

/** strace -c table → {syscall: [calls, errors]} */
export function straceCounts(file: string): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(\d*)\s*(\w+)$/.exec(line);
    if (m && m[3] !== 'total') out[m[3]] = [Number(m[1]), Number(m[2] || 0)];
  }
  return out;
}

/** One completed call of a strace -f log, or of a decode line: its arguments as strace-style text. */
export interface TracedCall {
  pid: number;
  name: string;
  /** Top-level arguments, as printed (our `name=` prefixes removed). */
  args: string[];
  /** The return value as printed (`3`, `-1`; `?` when none). */
  ret: string;
  /** The errno name of a failed call. */
  errno?: string;
  /** What strace prints after the return value in parentheses: `in [5], left {…}`, `[{fd=5, revents=POLLIN}]`, `Timeout`. */
  note?: string;
}

/** The index just past the bracket, brace, parenthesis or string that opens at s[i]. */
function skipGroup(s: string, i: number): number {
  const open = s[i];
  if (open === '"') {
    for (let j = i + 1; j < s.length; j++) {
      if (s[j] === '\\') j++;
      else if (s[j] === '"') return j + 1;
    }
    return s.length;
  }
  const close = open === '(' ? ')' : open === '[' ? ']' : '}';
  for (let j = i + 1; j < s.length;) {
    if (s[j] === close) return j + 1;
    if ('"([{'.includes(s[j])) j = skipGroup(s, j);
    else j++;
  }
  return s.length;
}

/** Splits `a, {b, c}, "d, e"` at its top-level commas. */
export function splitTop(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < s.length;) {
    if ('"([{'.includes(s[i])) {
      i = skipGroup(s, i);
    } else if (s[i] === ',' && s[i + 1] === ' ') {
      out.push(s.slice(start, i));
      start = i += 2;
    } else {
      i++;
    }
  }
  if (s.length > 0) out.push(s.slice(start));
  return out;
}

/** `name(args) = ret (note)` → its parts; undefined for a line of another shape. */
function parseCall(pid: number, text: string): TracedCall | undefined {
  const m = /^([a-z_0-9]+)\(/.exec(text);
  if (!m) return undefined;
  const open = m[1].length;
  const end = skipGroup(text, open);
  const args = splitTop(text.slice(open + 1, end - 1));
  const rest = text.slice(end);
  const r = /^\s+= (-?\d+|0x[0-9a-f]+|\?)(?: ([A-Z][A-Z0-9_]+))?(?: \((.*)\))?/.exec(rest);
  if (!r) return {pid, name: m[1], args, ret: '?'};
  return {pid, name: m[1], args, ret: r[1], errno: r[2], note: r[3]};
}

/**
 * The calls of a `strace -f -o FILE` log, in the order they completed, with a call
 * split by another process's (`<unfinished ...>` … `<... name resumed>`) put together.
 */
export function straceCalls(file: string): TracedCall[] {
  const out: TracedCall[] = [];
  const open = new Map<number, string>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    let text = m[2];
    if (text.endsWith(' <unfinished ...>')) {
      open.set(pid, text.slice(0, -' <unfinished ...>'.length));
      continue;
    }
    const resumed = /^<\.\.\. [a-z_0-9]+ resumed>\s?(.*)$/.exec(text);
    if (resumed) {
      const head = open.get(pid) ?? '';
      open.delete(pid);
      // strace ends the first part before an argument (`foo(3, ` … `>"data", 5) = 5`).
      text = (head.endsWith(',') ? head + ' ' : head) + resumed[1];
    }
    const c = parseCall(pid, text);
    if (c) out.push(c);
  }
  return out;
}

/** The syscall lines of `exectrace decode` (human form), as calls like strace's. */
export function decodedCalls(text: string): TracedCall[] {
  const out: TracedCall[] = [];
  for (const line of text.split('\n')) {
    const m = /^\S+ \S+?\((\d+)(?:\/\d+)?\) (.*)$/.exec(line);
    if (!m) continue;
    const c = parseCall(Number(m[1]), m[2].replace(/ <\d+\.\d+>( <no entry>)?$/, ''));
    if (c) out.push({...c, args: c.args.map((a) => a.replace(/^[a-z_0-9]+=/, ''))});
  }
  return out;
}
