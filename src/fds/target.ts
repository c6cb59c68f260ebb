// What a descriptor refers to, as one line of text in strace -yy's spelling: a path
// (`/etc/passwd`, `/dev/null<char 1:3>`, `/memfd:x (deleted)`), a socket and both its ends
// (`TCP:[127.0.0.1:45678->127.0.0.1:9]`, `UNIX-STREAM:[1234->1235,"/run/x.sock"]`), a pipe
// (`pipe:[1234]`), an anonymous inode (`anon_inode:[eventfd]`), a namespace (`net:[4026531833]`),
// a pidfd (`pid:42`). Made from a description the kernel wrote (an et_fd record, or the
// snapshot's `fds`: formats/trace-format.md §10.18), never from a guess.

import {decodeText, isRawText, type Text} from '../decode/text';
import {inet6} from '../decode/sockaddr';

/** FdDesc is what the kernel said of one open file (the fields of an et_fd record, §10.18). */
export interface FdDesc {
  fd_flags: number;
  ino: number | bigint;
  dev: number;
  rdev: number;
  mode: number;
  magic: number;
  family: number;
  sock_type: number;
  protocol: number;
  local_port: number;
  peer_port: number;
  portid: number;
  local_addr: Uint8Array | null;
  peer_addr: Uint8Array | null;
  peer_ino: number | bigint;
  pidfd_pid: number;
  /** The path's components, leaf first (fd_flags path), or one name (fd_flags name). */
  path: Text[];
  /** A unix socket's bound address (sun_path bytes). */
  addr: Uint8Array | null;
}

/** The bits of et_fd.fd_flags this reads, by their metadata names (§10.5 `fd_flags`). */
export interface FdFlagBits {
  cloexec: number;
  deleted: number;
  path: number;
  path_truncated: number;
  name: number;
}

/** FD_FLAG_DEFAULTS: the bits exectrace writes, for a file whose metadata does not name them. */
export const FD_FLAG_DEFAULTS: FdFlagBits = {cloexec: 1, deleted: 2, path: 4, path_truncated: 8, name: 16};

const PIPEFS = 0x50495045;
const SOCKFS = 0x534f434b;
const ANON_INODEFS = 0x09041934;
const NSFS = 0x6e736673;
const PIDFS = 0x50494446;

const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;

const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_RAW = 3;
const SOCK_SEQPACKET = 5;

/** inet protocols strace -yy names, by IPPROTO_* number. */
const INET_PROTOCOLS: Record<number, string> = {6: 'TCP', 17: 'UDP', 136: 'UDPLITE', 33: 'DCCP', 132: 'SCTP'};
const UNIX_TYPES: Record<number, string> = {[SOCK_STREAM]: 'UNIX-STREAM', [SOCK_DGRAM]: 'UNIX-DGRAM', [SOCK_SEQPACKET]: 'UNIX-SEQPACKET'};
/** NETLINK_* protocol names, as strace -yy gives them. */
const NETLINK_PROTOCOLS = [
  'ROUTE', 'UNUSED', 'USERSOCK', 'FIREWALL', 'SOCK_DIAG', 'NFLOG', 'XFRM', 'SELINUX', 'ISCSI', 'AUDIT', 'FIB_LOOKUP',
  'CONNECTOR', 'NETFILTER', 'IP6_FW', 'DNRTMSG', 'KOBJECT_UEVENT', 'GENERIC', '', 'SCSITRANSPORT', 'ECRYPTFS', 'RDMA',
  'CRYPTO', 'SMC',
];

/** SockAddr is one end of an inet socket, as src/decode's socket addresses are: family, address text, port. */
export interface SockAddr {
  family: 'AF_INET' | 'AF_INET6';
  addr: string;
  port: number;
}

/** The text of a 4- or 16-byte address (network order), as inet_ntop writes it (src/decode/sockaddr.ts's inet6). */
export function inetText(b: Uint8Array, v6: boolean): string {
  if (!v6) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const w = Buffer.alloc(16);
  w.set(b.subarray(0, 16));
  return inet6(w, 0);
}

const isZero = (b: Uint8Array | null, n: number): boolean => {
  if (b === null) return true;
  for (let i = 0; i < n && i < b.length; i++) if (b[i] !== 0) return false;
  return true;
};

/** The two ends of an inet socket (null: not set), as socket addresses. */
export function inetEnds(d: FdDesc): {local: SockAddr | null; peer: SockAddr | null} {
  const v6 = d.family === AF_INET6;
  const n = v6 ? 16 : 4;
  const family = v6 ? 'AF_INET6' : 'AF_INET';
  const end = (addr: Uint8Array | null, port: number): SockAddr | null =>
    port === 0 && isZero(addr, n) ? null : {family, addr: inetText(addr ?? new Uint8Array(16), v6), port};
  return {local: end(d.local_addr, d.local_port), peer: end(d.peer_addr, d.peer_port)};
}

/** `127.0.0.1:80`, `[::1]:80`. */
export function sockAddrText(a: SockAddr): string {
  return a.family === 'AF_INET6' ? `[${a.addr}]:${a.port}` : `${a.addr}:${a.port}`;
}

/**
 * socketText names a socket as strace -yy does: its protocol, then in brackets its ends
 * where they are set (`TCP:[127.0.0.1:8080]` bound, `TCP:[a->b]` connected), else its inode
 * (`TCP:[656826]`); a unix socket by its inode, its peer's and its address
 * (`UNIX-STREAM:[656845->656846,"/tmp/u.sock"]`); a bound netlink socket by its protocol and
 * port id (`NETLINK:[ROUTE:4242]`).
 */
export function socketText(d: FdDesc, peerIno: number | bigint = d.peer_ino): string {
  const ino = String(d.ino);
  const kernelName = d.path.length === 1 && typeof d.path[0] === 'string' && /^[A-Za-z0-9_-]{1,32}$/.test(d.path[0]) ? d.path[0] : '';
  if (d.family === AF_INET || d.family === AF_INET6) {
    const proto = d.sock_type === SOCK_RAW ? 'RAW' : INET_PROTOCOLS[d.protocol] ?? kernelName;
    if (!proto) return `socket:[${ino}]`;
    const name = d.family === AF_INET6 && !proto.endsWith('v6') ? `${proto}v6` : proto;
    const {local, peer} = inetEnds(d);
    if (d.local_port === 0 && peer === null) return `${name}:[${ino}]`;
    const l = local ?? {family: d.family === AF_INET6 ? 'AF_INET6' as const : 'AF_INET' as const, addr: d.family === AF_INET6 ? '::' : '0.0.0.0', port: 0};
    return peer === null ? `${name}:[${sockAddrText(l)}]` : `${name}:[${sockAddrText(l)}->${sockAddrText(peer)}]`;
  }
  if (d.family === AF_UNIX) {
    const name = UNIX_TYPES[d.sock_type] ?? (kernelName || 'UNIX');
    let s = `${name}:[${ino}`;
    if (peerIno !== 0 && peerIno !== 0n) s += `->${String(peerIno)}`;
    const a = d.addr;
    if (a !== null && a.length > 0) {
      // A path address ends at its NUL; an abstract one (leading NUL) is all its bytes.
      const abstract = a[0] === 0;
      const bytes = Buffer.from(abstract ? a.subarray(1) : a.subarray(0, a.indexOf(0) < 0 ? a.length : a.indexOf(0)));
      s += `,${abstract ? '@' : ''}${quoted(bytes)}`;
    }
    return s + ']';
  }
  if (d.family === AF_NETLINK) {
    if (d.portid === 0) return `NETLINK:[${ino}]`;
    const proto = NETLINK_PROTOCOLS[d.protocol] || String(d.protocol);
    return `NETLINK:[${proto}:${d.portid}]`;
  }
  return `${kernelName || 'socket'}:[${ino}]`;
}

/** Bytes in double quotes, C-escaped as strace quotes a string. */
function quoted(b: Buffer): string {
  let s = '"';
  for (const c of b) {
    if (c === 0x22 || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += '\\' + c.toString(8).padStart(3, '0');
  }
  return s + '"';
}

/** The path a description names (leaf-first components joined root first), or null for a pseudo file. */
export function pathOf(d: FdDesc, bits: FdFlagBits): Text | null {
  if ((d.fd_flags & bits.path) === 0) return null;
  const truncated = (d.fd_flags & bits.path_truncated) !== 0;
  const up = [...d.path].reverse();
  const lead = truncated ? '' : '/';
  if (up.every((p) => typeof p === 'string')) return lead + (up as string[]).join('/');
  const parts = up.map(bytesOf);
  const out: Buffer[] = [Buffer.from(lead)];
  parts.forEach((b, i) => out.push(Buffer.from(i === 0 ? '' : '/'), b));
  const all = Buffer.concat(out);
  return decodeText(all, 0, all.length);
}

const bytesOf = (t: Text): Buffer => (isRawText(t) ? Buffer.from(t.base64, 'base64') : Buffer.from(t));

/** A text with a suffix (a RawText stays one, its bytes extended). */
function append(t: Text, suffix: string): Text {
  if (!isRawText(t)) return t + suffix;
  const b = Buffer.concat([bytesOf(t), Buffer.from(suffix)]);
  return decodeText(b, 0, b.length);
}

/** A prefix and a text, as one text. */
function join(prefix: string, t: Text): Text {
  if (!isRawText(t)) return prefix + t;
  const b = Buffer.concat([Buffer.from(prefix), bytesOf(t)]);
  return decodeText(b, 0, b.length);
}

/**
 * targetText names what a description refers to, in strace -yy's spelling (see the top of
 * this file). `peerIno` overrides a unix socket's peer when the file learned it later (the
 * other end's accept); null when the description names nothing (a path walk that read no
 * component and did not reach the root).
 */
export function targetText(d: FdDesc, bits: FdFlagBits, peerIno?: number | bigint): Text | null {
  const name = (d.fd_flags & bits.name) !== 0 && d.path.length > 0 ? d.path[0] : null;
  switch (d.magic) {
    case PIPEFS:
      return `pipe:[${String(d.ino)}]`;
    case SOCKFS:
      return socketText(d, peerIno ?? d.peer_ino);
    case ANON_INODEFS:
      return name === null ? `anon_inode:[${String(d.ino)}]` : join('anon_inode:', name);
    case NSFS:
      return typeof name === 'string' ? `${name}:[${String(d.ino)}]` : `nsfs:[${String(d.ino)}]`;
    case PIDFS:
      return d.pidfd_pid ? `pid:${d.pidfd_pid}` : 'anon_inode:[pidfd]';
  }
  let p = pathOf(d, bits);
  if (p === null) {
    // A pseudo file of another kind (memfd_create's on shmem, SysV shared memory): the
    // kernel names it as simple_dname() does, "/<name> (deleted)".
    return name === null ? null : append(join('/', name), ' (deleted)');
  }
  if ((d.fd_flags & bits.deleted) !== 0) p = append(p, ' (deleted)');
  const type = d.mode & S_IFMT;
  if (type === S_IFCHR || type === S_IFBLK) {
    const major = (d.rdev >>> 8) & 0xfff;
    const minor = (d.rdev & 0xff) | ((d.rdev >>> 12) & 0xfff00);
    p = append(p, `<${type === S_IFCHR ? 'char' : 'block'} ${major}:${minor}>`);
  }
  return p;
}
