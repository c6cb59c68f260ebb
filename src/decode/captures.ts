// The compound syscall captures (formats/trace-format.md §10.11) → values, and the values →
// strace's notation: socket addresses (sockaddr.ts does the bytes), fd_sets, arrays of
// structs (pollfd, epoll_event), iovec vectors with the first bytes across them, and
// msghdrs with their address and vector. The decoder (syscalls.ts) hands each function
// one segment, already bounded by its record; every count and length inside a segment is
// checked against the bytes there, so any segment gives a value (and says so when its own
// counts did not fit: `malformed`).

import {isUtf8} from 'node:buffer';
import {formatStyled, type ArgStyle, type Arch} from './constants';
import {cBytes, cString} from './cstring';
import type {StructReader} from './records';
import type {ArgInfo} from '../syscalls/meta';
import {decodeSockaddr, formatSockaddr, isSockAddr, type SockAddr} from './sockaddr';
import {isRawText} from './text';

/** IovElement is one buffer of an iovec vector in JSON: its first bytes (text when UTF-8, else base64) and its iov_len. */
export type IovElement = ({text: string} | {base64: string}) & {len: number | bigint};

/**
 * IovecValue is an iovec vector in JSON: `iov`, the elements described (at most max_count) with the bytes
 * kept of each; `len`, the bytes the call handled (an input: the sum of the elements'
 * lengths; an output: the return value); `truncated`, fewer bytes or elements kept than that.
 */
export interface IovecValue {
  iov: IovElement[];
  len: number;
  truncated: boolean;
}

/** FdSetValue is an fd_set in JSON: the descriptors the call was given (entry), and those it found ready (exit). */
export interface FdSetValue {
  fds?: number[];
  ready?: number[];
}

/**
 * Damage is where the functions below say that a segment's own counts ran past it (the
 * caller's, one per decoder: they set `malformed`, never clear it).
 */
export interface Damage {
  malformed: boolean;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined);

/** Bytes as JSON: text when they are UTF-8 (exact), else base64. */
function bytesValue(b: Buffer): {text: string} | {base64: string} {
  let i = 0;
  while (i < b.length && b[i] < 0x80) i++;
  if (i === b.length) return {text: b.toString('latin1')};
  return isUtf8(b) ? {text: b.toString('utf8')} : {base64: b.toString('base64')};
}

/** sockaddrValue gives the address in a segment; `addrLen` is the length the call gave or returned (truncated when larger). */
export function sockaddrValue(b: Buffer, at: number, len: number, addrLen: number | undefined): SockAddr {
  return decodeSockaddr(b.subarray(at, at + len), addrLen !== undefined && addrLen > len ? addrLen : len);
}

/** fdsetFds gives the descriptors set in an fd_set segment (little-endian bit order), those below `n` when it is known. */
export function fdsetFds(b: Buffer, at: number, len: number, n: number | undefined): number[] {
  const out: number[] = [];
  for (let j = 0; j < len; j++) {
    const byte = b[at + j];
    if (byte === 0) continue;
    for (let k = 0; k < 8; k++) {
      const fd = j * 8 + k;
      if (n !== undefined && fd >= n) return out;
      if (byte & (1 << k)) out.push(fd);
    }
  }
  return out;
}

/**
 * arrayValue gives the whole elements of `elemSize` bytes in an array segment, each read by
 * `elem`; `omit`: fields the call writes, left out of an entry capture.
 */
export function arrayValue(b: Buffer, at: number, len: number, elem: StructReader, elemSize: number, omit: readonly string[] | undefined,
  d: Damage): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  if (elemSize <= 0) return out;
  if (len % elemSize !== 0) d.malformed = true;
  for (let p = at; p + elemSize <= at + len; p += elemSize) {
    const e = elem(b, p, elemSize);
    if (omit) for (const f of omit) delete e[f];
    out.push(e);
  }
  return out;
}

/**
 * iovecValue gives the iovec capture at b[at, at+len): u32 count, u32 0, count elements, the data. `handled`
 * is the return value for an output (the bytes the call moved), null for an input; `given`
 * the element count the call was given (its vlen), when known.
 */
export function iovecValue(b: Buffer, at: number, len: number, elem: StructReader, elemSize: number,
  handled: number | null, given: number | undefined, d: Damage): IovecValue {
  let count = len >= 8 ? b.readUInt32LE(at) : 0;
  if (len < 8 || elemSize <= 0 || count > Math.floor((len - 8) / elemSize)) {
    d.malformed = true;
    count = len < 8 || elemSize <= 0 ? 0 : Math.floor((len - 8) / elemSize);
  }
  const end = at + len;
  let p = at + 8 + count * elemSize;
  const iov: IovElement[] = [];
  let sum = 0;
  let kept = 0;
  for (let k = 0; k < count; k++) {
    const e = elem(b, at + 8 + k * elemSize, elemSize);
    const iovLen = typeof e.iov_len === 'number' || typeof e.iov_len === 'bigint' ? e.iov_len : 0;
    const n = Number(iovLen);
    const take = Math.min(n, end - p);
    iov.push({...bytesValue(b.subarray(p, p + take)), len: iovLen});
    p += take;
    kept += take;
    sum += n;
  }
  const moved = handled === null ? sum : Math.min(handled, sum);
  return {iov, len: handled === null ? sum : handled, truncated: kept < moved || (given !== undefined && count < given)};
}

/** MsghdrReaders are the layout sizes and readers a msghdr capture needs. */
export interface MsghdrReaders {
  header: StructReader;
  headerSize: number;
  elem: StructReader;
  elemSize: number;
}

/**
 * msghdrValue gives a msghdr capture: the header's fields, with `msg_name` the address it points to (when
 * captured) and `msg_iov` the vector (an IovecValue). `ret`: the return value at exit (the
 * bytes received), null at entry.
 */
export function msghdrValue(b: Buffer, at: number, len: number, r: MsghdrReaders, ret: number | null, d: Damage): Record<string, unknown> {
  if (len < r.headerSize + 4) {
    d.malformed = true;
    return r.header(b, at, Math.min(len, r.headerSize));
  }
  const m = r.header(b, at, r.headerSize);
  let p = at + r.headerSize;
  let nameLen = b.readUInt32LE(p);
  p += 4;
  if (nameLen > at + len - p) {
    d.malformed = true;
    nameLen = at + len - p;
  }
  if (nameLen > 0) m.msg_name = sockaddrValue(b, p, nameLen, num(m.msg_namelen));
  p += nameLen;
  m.msg_iov = iovecValue(b, p, at + len - p, r.elem, r.elemSize, ret, num(m.msg_iovlen), d);
  return m;
}

// ---- strace's notation ---------------------------------------------------------------------

/**
 * FdNames names descriptors inside an argument (strace -yy's annotations): the names of a
 * pollfd array's fds or of an fd_set's given fds, in the same order (fd_paths), and how one
 * is written (`<…>`).
 */
export interface FdNames {
  names: readonly unknown[];
  annotate: (name: unknown) => string;
}

/** formatFdset gives an fd_set as `[3 5]`; with the ready set, `[3 5] => [3]` (strace's in => out). */
export function formatFdset(v: FdSetValue, n?: FdNames): string {
  const given = v.fds ?? [];
  const named = (fd: number): string => {
    const i = n === undefined ? -1 : given.indexOf(fd);
    const t = i < 0 ? undefined : n?.names[i];
    return t === undefined || t === null ? String(fd) : `${fd}${(n as FdNames).annotate(t)}`;
  };
  const set = (fds: number[]) => `[${fds.map(named).join(' ')}]`;
  if (v.fds && v.ready) return `${set(v.fds)} => ${set(v.ready)}`;
  return set(v.fds ?? v.ready ?? []);
}

/** The style of a field of an array element or struct, by the struct's name: poll events, epoll events. */
const FIELD_STYLES: Record<string, Record<string, ArgStyle>> = {
  pollfd: {events: 'poll_events', revents: 'poll_events'},
  epoll_event: {events: 'epoll_events', data: 'epoll_data'},
  user_msghdr: {msg_flags: 'msg_flags'},
};

/** fieldStyle gives the style of field `field` of struct `struct` (pollfd.events: POLLIN|POLLOUT), or null. */
export function fieldStyle(struct: string | undefined, field: string): ArgStyle | null {
  return (struct !== undefined && FIELD_STYLES[struct]?.[field]) || null;
}

function fieldText(struct: string | undefined, k: string, v: unknown, arch: Arch): string {
  const style = fieldStyle(struct, k);
  if (style && (typeof v === 'number' || typeof v === 'bigint')) return `${k}=${formatStyled(style, v, arch)}`;
  return `${k}=${plainText(v)}`;
}

function plainText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string' || isRawText(v)) return cString(v);
  if (Array.isArray(v)) return `[${v.map(plainText).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v as object).map(([k, x]) => `${k}=${plainText(x)}`).join(', ')}}`;
  return String(v);
}

/**
 * formatArray gives an array of structs as `[{fd=5, events=POLLIN, revents=POLLIN}]`, fields
 * styled by the element's struct; `more`: the call had elements beyond these (`, ...]`).
 */
export function formatArray(list: readonly unknown[], elem: string | undefined, arch: Arch, more = false, n?: FdNames): string {
  const parts = list.map((e, i) => {
    if (typeof e !== 'object' || e === null) return plainText(e);
    const t = n?.names[i];
    return `{${Object.entries(e as object).map(([k, v]) => fieldText(elem, k, v, arch)
      + (k === 'fd' && t !== undefined && t !== null ? (n as FdNames).annotate(t) : '')).join(', ')}}`;
  });
  if (more) parts.push('...');
  return `[${parts.join(', ')}]`;
}

function elementBytes(e: Record<string, unknown>): Buffer {
  if (typeof e.text === 'string') return Buffer.from(e.text, 'utf8');
  if (typeof e.base64 === 'string') return Buffer.from(e.base64, 'base64');
  return Buffer.alloc(0);
}

/**
 * formatIovec gives an iovec vector as `[{iov_base="a", iov_len=1}, {iov_base="bc", iov_len=2}]`; `...` after
 * the bytes of a buffer kept in part, and after the last element when the call gave more
 * elements than were described (`given`).
 */
export function formatIovec(v: IovecValue, given: number | undefined): string {
  let left = v.len;
  const parts = v.iov.map((raw) => {
    const e = raw as unknown as Record<string, unknown>;
    const b = elementBytes(e);
    const n = Number(e.len);
    const want = Math.max(0, Math.min(n, left));
    left -= want;
    return `{iov_base=${cBytes(b)}${b.length < want ? '...' : ''}, iov_len=${String(e.len)}}`;
  });
  if (given !== undefined && given > v.iov.length) parts.push('...');
  return `[${parts.join(', ')}]`;
}

/** isIovec tells whether v has the shape of an IovecValue. */
export function isIovec(v: unknown): v is IovecValue {
  return typeof v === 'object' && v !== null && Array.isArray((v as IovecValue).iov) && typeof (v as IovecValue).len === 'number';
}

/**
 * formatMsghdr gives a msghdr as strace shows it: `{msg_name={sa_family=AF_INET, …}, msg_namelen=16,
 * msg_iov=[{iov_base="hi", iov_len=2}], msg_iovlen=1, msg_controllen=0, msg_flags=0}`;
 * msg_control only when there is some.
 */
export function formatMsghdr(m: Record<string, unknown>, arch: Arch): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(m)) {
    if (k === 'msg_control' && (m.msg_controllen === 0 || m.msg_controllen === undefined)) continue;
    if (k === 'msg_name' && isSockAddr(v)) parts.push(`msg_name=${formatSockaddr(v)}`);
    else if (k === 'msg_name' || k === 'msg_control') parts.push(`${k}=${v === 0 || v === null ? 'NULL' : typeof v === 'number' || typeof v === 'bigint' ? '0x' + v.toString(16) : plainText(v)}`);
    else if (k === 'msg_iov' && isIovec(v)) parts.push(`msg_iov=${formatIovec(v, num(m.msg_iovlen))}`);
    else parts.push(fieldText('user_msghdr', k, v, arch));
  }
  return `{${parts.join(', ')}}`;
}

/** Syscalls whose `optval` is an option value: an int (4 bytes) shows as `[1]`, as strace shows it. */
const SOCKOPT_CALLS = new Set(['setsockopt', 'getsockopt']);

/**
 * capturedText gives the human form of a captured value of the kinds above (and of a
 * socket option's int value), or undefined for a value of another shape (a capture that
 * holds an address: the caller shows it as one). `args` and `ret`: the call's arguments and
 * return value, for the counts the forms show against.
 */
export function capturedText(syscall: string, name: string, v: unknown, info: ArgInfo | undefined, arch: Arch,
  args: Readonly<Record<string, unknown>>, ret?: unknown, fdNames?: FdNames): string | undefined {
  if (info === undefined || typeof v !== 'object' || v === null) return undefined;
  const count = info.len_arg === undefined ? undefined : num(Object.values(args)[info.len_arg]);
  switch (info.kind) {
    case 'struct':
      // A struct whose fields have names (epoll_ctl's epoll_event): all of them, styled.
      return info.struct !== undefined && FIELD_STYLES[info.struct] !== undefined && !Array.isArray(v)
        ? formatArray([v], info.struct, arch).slice(1, -1)
        : undefined;
    case 'sockaddr':
      return isSockAddr(v) ? formatSockaddr(v) : undefined;
    case 'fdset': {
      const s = v as FdSetValue;
      return Array.isArray(s.fds) || Array.isArray(s.ready) ? formatFdset(s, fdNames) : undefined;
    }
    case 'array': {
      if (!Array.isArray(v)) return undefined;
      const all = info.len_ret ? num(ret) : count;
      return formatArray(v, info.elem, arch, all !== undefined && all > v.length, fdNames);
    }
    case 'iovec':
      return isIovec(v) ? formatIovec(v, count) : undefined;
    case 'msghdr':
      return Array.isArray(v) ? undefined : formatMsghdr(v as Record<string, unknown>, arch);
    case 'buf': {
      if (!SOCKOPT_CALLS.has(syscall) || name !== 'optval') return undefined;
      const o = v as Record<string, unknown>;
      const b = typeof o.base64 === 'string' ? Buffer.from(o.base64, 'base64') : typeof o.text === 'string' ? Buffer.from(o.text, 'utf8') : undefined;
      return b !== undefined && b.length === 4 && o.truncated !== true ? `[${b.readInt32LE(0)}]` : undefined;
    }
  }
  return undefined;
}
