// Socket addresses as a process hands them to the kernel or gets them back (struct
// sockaddr_in, _in6, _un, _nl: a family, then the family's own fields) → plain objects for
// JSON and --where (`args.uservaddr.port == 443`), and strace's notation for people
// (`{sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}`).
//
// Pure functions of the bytes, for any caller that holds an address (syscall arguments,
// and what names a socket's peer): every length is checked against the bytes given, and
// any bytes give a value — a family this file does not know, or an address too short for
// its family, keeps its exact bytes as base64. Layouts are the Linux UAPI ones named beside
// each decoder; the family is in the recording host's byte order (little-endian: x86_64,
// arm64), ports and IPv4/IPv6 addresses in network byte order, as on the wire.

import {cBytes, cString} from './cstring';
import {decodeText, type Text} from './text';

/** SockAddrInet is an AF_INET address (include/uapi/linux/in.h, struct sockaddr_in). */
export interface SockAddrInet {
  family: 'AF_INET';
  /** Dotted quad: "127.0.0.1". */
  addr: string;
  port: number;
  truncated?: true;
}

/** SockAddrInet6 is an AF_INET6 address (include/uapi/linux/in6.h, struct sockaddr_in6). */
export interface SockAddrInet6 {
  family: 'AF_INET6';
  /** As inet_ntop(3) writes it: "::1", "fe80::1", "::ffff:10.0.0.5". */
  addr: string;
  port: number;
  flowinfo: number;
  /** Absent from a 24-byte address (RFC 2133's sockaddr_in6, which the kernel still takes). */
  scope_id?: number;
  truncated?: true;
}

/**
 * SockAddrUnix is an AF_UNIX address (include/uapi/linux/un.h, struct sockaddr_un): a filesystem `path`
 * (up to its first NUL), or an `abstract` name (the bytes after the leading NUL, NULs
 * included), or neither: an unnamed socket (just the family).
 */
export interface SockAddrUnix {
  family: 'AF_UNIX';
  path?: Text;
  abstract?: Text;
  truncated?: true;
}

/** SockAddrNetlink is an AF_NETLINK address (include/uapi/linux/netlink.h, struct sockaddr_nl). */
export interface SockAddrNetlink {
  family: 'AF_NETLINK';
  pid: number;
  groups: number;
  truncated?: true;
}

/**
 * SockAddrOther is any other address, or one too short for its family: the family's name (a number when it
 * has none, null when the bytes do not even hold one) and the address's exact bytes.
 */
export interface SockAddrOther {
  family: string | number | null;
  base64: string;
  truncated?: true;
}

/** SockAddr is a decoded socket address: decodeSockaddr's value, formatSockaddr's argument. */
export type SockAddr = SockAddrInet | SockAddrInet6 | SockAddrUnix | SockAddrNetlink | SockAddrOther;

// include/linux/socket.h: AF_* by value (AF_LOCAL is AF_UNIX; AF_ROUTE is AF_NETLINK).
const FAMILIES: readonly string[] = [
  'AF_UNSPEC', 'AF_UNIX', 'AF_INET', 'AF_AX25', 'AF_IPX', 'AF_APPLETALK', 'AF_NETROM', 'AF_BRIDGE', 'AF_ATMPVC', 'AF_X25',
  'AF_INET6', 'AF_ROSE', 'AF_DECnet', 'AF_NETBEUI', 'AF_SECURITY', 'AF_KEY', 'AF_NETLINK', 'AF_PACKET', 'AF_ASH', 'AF_ECONET',
  'AF_ATMSVC', 'AF_RDS', 'AF_SNA', 'AF_IRDA', 'AF_PPPOX', 'AF_WANPIPE', 'AF_LLC', 'AF_IB', 'AF_MPLS', 'AF_CAN',
  'AF_TIPC', 'AF_BLUETOOTH', 'AF_IUCV', 'AF_RXRPC', 'AF_ISDN', 'AF_PHONET', 'AF_IEEE802154', 'AF_CAIF', 'AF_ALG', 'AF_NFC',
  'AF_VSOCK', 'AF_KCM', 'AF_QIPCRTR', 'AF_SMC', 'AF_XDP', 'AF_MCTP',
];

/** AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK are the families decoded field by field. */
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;

/** familyName gives the AF_* name of an address family, or undefined for a value without one. */
export function familyName(v: number): string | undefined {
  return Number.isInteger(v) && v >= 0 && v < FAMILIES.length ? FAMILIES[v] : undefined;
}

/** Bytes of sockaddr_un.sun_path (UNIX_PATH_MAX). */
const UNIX_PATH_MAX = 108;

/**
 * decodeSockaddr gives the address held in `bytes`. `len` is the length the call gave or
 * returned for it (addrlen); when it is more than the bytes at hand (a capture cut at its
 * limit, or a buffer too small for the address), the value says `truncated: true` and
 * decodes what is there. Never throws: bytes too short for their family give SockAddrOther.
 */
export function decodeSockaddr(bytes: Uint8Array, len = bytes.length): SockAddr {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = b.length;
  const cut = len > n;
  if (n < 2) return mark({family: null, base64: b.toString('base64')}, cut);
  const fam = b.readUInt16LE(0);
  switch (fam) {
    case AF_INET:
      // sa_family_t sin_family; __be16 sin_port; struct in_addr sin_addr; padding
      if (n < 8) break;
      return mark({family: 'AF_INET', addr: `${b[4]}.${b[5]}.${b[6]}.${b[7]}`, port: b.readUInt16BE(2)}, cut);
    case AF_INET6: {
      // sa_family_t sin6_family; __be16 sin6_port; __be32 sin6_flowinfo; struct in6_addr sin6_addr; __u32 sin6_scope_id
      if (n < 24) break;
      const a: SockAddrInet6 = {family: 'AF_INET6', addr: inet6(b, 8), port: b.readUInt16BE(2), flowinfo: b.readUInt32BE(4)};
      if (n >= 28) a.scope_id = b.readUInt32LE(24);
      return mark(a, cut);
    }
    case AF_UNIX: {
      // sa_family_t sun_family; char sun_path[108]
      const end = Math.min(n, 2 + UNIX_PATH_MAX);
      if (end === 2) return mark({family: 'AF_UNIX'}, cut);
      if (b[2] === 0) return mark({family: 'AF_UNIX', abstract: decodeText(b, 3, end)}, cut);
      const nul = b.indexOf(0, 2);
      return mark({family: 'AF_UNIX', path: decodeText(b, 2, nul >= 0 && nul < end ? nul : end)}, cut);
    }
    case AF_NETLINK:
      // __kernel_sa_family_t nl_family; unsigned short nl_pad; __u32 nl_pid; __u32 nl_groups
      if (n < 12) break;
      return mark({family: 'AF_NETLINK', pid: b.readUInt32LE(4), groups: b.readUInt32LE(8)}, cut);
  }
  return mark({family: familyName(fam) ?? fam, base64: b.toString('base64')}, cut);
}

function mark<T extends SockAddr>(a: T, cut: boolean): T {
  if (cut) a.truncated = true;
  return a;
}

/**
 * inet6 gives the IPv6 address at b[at] as glibc's inet_ntop writes it (strace shows that form): lowercase hex
 * groups without leading zeros, the first longest run of two or more zero groups as "::",
 * and an IPv4-mapped (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d) address with its last
 * 32 bits dotted.
 */
export function inet6(b: Buffer, at: number): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(b.readUInt16BE(at + 2 * i));
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) best = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (best >= 0 && i >= best && i < best + bestLen) {
      if (i === best) s += ':';
      continue;
    }
    if (i !== 0) s += ':';
    if (i === 6 && best === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      s += `${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`;
      return s;
    }
    s += w[i].toString(16);
  }
  if (best >= 0 && best + bestLen === 8) s += ':';
  return s;
}

/**
 * formatSockaddr gives an address in strace's notation:
 * `{sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}`,
 * `{sa_family=AF_UNIX, sun_path="/run/x"}` (an abstract name as `sun_path=@"name"`),
 * `{sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}`; any other as its sa_data bytes.
 * A truncated address ends with `...`.
 */
export function formatSockaddr(a: SockAddr): string {
  const more = a.truncated ? '...' : '';
  if ('base64' in a) {
    const b = Buffer.from(a.base64, 'base64');
    const fam = a.family === null ? '' : `sa_family=${a.family}`;
    if (b.length <= 2) return `{${fam}}${more}`;
    return `{${fam}, sa_data=${cBytes(b.subarray(2))}${more}}`;
  }
  switch (a.family) {
    case 'AF_INET':
      return `{sa_family=AF_INET, sin_port=htons(${a.port}), sin_addr=inet_addr("${a.addr}")}${more}`;
    case 'AF_INET6': {
      const scope = a.scope_id === undefined ? '' : `, sin6_scope_id=${a.scope_id}`;
      return `{sa_family=AF_INET6, sin6_port=htons(${a.port}), sin6_flowinfo=htonl(${a.flowinfo}), inet_pton(AF_INET6, "${a.addr}", &sin6_addr)${scope}}${more}`;
    }
    case 'AF_UNIX':
      if (a.abstract !== undefined) return `{sa_family=AF_UNIX, sun_path=@${cString(a.abstract)}${more}}`;
      if (a.path !== undefined) return `{sa_family=AF_UNIX, sun_path=${cString(a.path)}${more}}`;
      return `{sa_family=AF_UNIX}${more}`;
    case 'AF_NETLINK':
      return `{sa_family=AF_NETLINK, nl_pid=${a.pid}, nl_groups=${a.groups.toString(16).padStart(8, '0')}}${more}`;
  }
}

/** isSockAddr tells a decoded address (an object whose `family` is a string, number or null) from other values. */
export function isSockAddr(v: unknown): v is SockAddr {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const f = (v as Record<string, unknown>).family;
  return typeof f === 'string' || typeof f === 'number' || (f === null && typeof (v as Record<string, unknown>).base64 === 'string');
}
