// strace's output, as the tests that compare with it read it: the -c table (call counts),
// and the calls of `strace -f -yy -o FILE` with the annotations -yy puts on descriptors.

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

/** One -yy annotation: `3</etc/passwd>` is {fd: 3, text: '/etc/passwd'}; `AT_FDCWD</tmp>` has fd -100. */
export interface Annotation {
  fd: number;
  text: string;
}

/** One call of `strace -f -yy` output, its unfinished and resumed halves joined. */
export interface StraceCall {
  pid: number;
  name: string;
  /** The annotations in its arguments, in order (a pipe's pair: both). */
  args: Annotation[];
  /** The annotation of its return value, when it returned a descriptor. */
  ret: Annotation | null;
  /** The return value as strace printed it (`3`, `-1`, `?`). */
  retText: string;
  line: string;
}

/**
 * The annotations in a piece of strace's text, in order: a number or AT_FDCWD followed by
 * `<…>` (nested brackets kept: `/dev/null<char 1:3>`), quoted strings skipped. strace 6.1
 * writes a deleted file's `(deleted)` after the brackets: it is moved inside, as readlink
 * and exectrace write it.
 */
export function annotations(s: string): Annotation[] {
  const out: Annotation[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === '\\') i++;
      continue;
    }
    if (c !== '<') continue;
    const before = /(-?\d+|AT_FDCWD)$/.exec(s.slice(Math.max(0, i - 24), i));
    if (!before) continue;
    let depth = 0;
    let j = i;
    for (; j < s.length; j++) {
      if (s[j] === '"') {
        for (j++; j < s.length && s[j] !== '"'; j++) if (s[j] === '\\') j++; // a unix socket's quoted path
      } else if (s[j] === '<') depth++;
      else if (s[j] === '>' && s[j - 1] !== '-' && --depth === 0) break; // not a socket's `->`
    }
    let text = s.slice(i + 1, j);
    if (s.startsWith('(deleted)', j + 1)) {
      text += ' (deleted)';
      j += '(deleted)'.length;
    }
    out.push({fd: before[1] === 'AT_FDCWD' ? -100 : Number(before[1]), text});
    i = j;
  }
  return out;
}

/** The calls in an `strace -f -yy -o FILE` output, by pid, in the order each process made them. */
export function straceYyCalls(file: string): Map<number, StraceCall[]> {
  const out = new Map<number, StraceCall[]>();
  const open = new Map<number, string>();
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(raw);
    if (!m) continue;
    const pid = Number(m[1]);
    let body = m[2];
    if (body.startsWith('+++') || body.startsWith('---')) continue;
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(body);
    if (resumed) {
      const head = open.get(pid);
      open.delete(pid);
      if (head === undefined) continue;
      body = head + resumed[2];
    } else if (body.endsWith('<unfinished ...>')) {
      open.set(pid, body.slice(0, -'<unfinished ...>'.length));
      continue;
    }
    // The arguments end at the last `) = `: the return value holds none.
    const call = /^(\w+)\((.*)\)\s+=\s+(.*)$/.exec(body);
    if (!call) continue;
    const [, name, args, ret] = call;
    const retText = /^(-?\d+|\?|0x[0-9a-f]+)/.exec(ret)?.[1] ?? ret;
    const retAnn = /^\d+</.test(ret) ? annotations(ret)[0] ?? null : null;
    const list = out.get(pid) ?? [];
    list.push({pid, name, args: annotations(args), ret: retAnn, retText, line: raw});
    out.set(pid, list);
  }
  return out;
}
