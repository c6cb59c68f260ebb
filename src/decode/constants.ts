// Symbolic names for syscall argument values in human output, the way strace shows them
// (AT_FDCWD, O_RDONLY|O_CLOEXEC, PROT_READ|PROT_WRITE). JSON keeps the raw numbers; these
// tables only make lines readable. Values are those of the Linux UAPI headers named beside
// each table; where x86_64 and arm64 differ the arch picks the table. Bits without a name
// are kept as a hex remainder (O_RDONLY|0x40000000), so nothing is hidden.

import {AF_INET, AF_INET6, AF_NETLINK, familyName} from './sockaddr';

export type Arch = 'x86_64' | 'aarch64' | string;

/** [bits, name]: composite values (several bits) first, so they win over their parts. */
type Bits = readonly (readonly [number, string])[];

export const AT_FDCWD = -100;

// include/uapi/asm-generic/fcntl.h (x86_64 uses it unchanged).
const O_GENERIC: Bits = [
  [0o20200000, 'O_TMPFILE'], // __O_TMPFILE | O_DIRECTORY
  [0o4010000, 'O_SYNC'], // __O_SYNC | O_DSYNC
  [0o100, 'O_CREAT'],
  [0o200, 'O_EXCL'],
  [0o400, 'O_NOCTTY'],
  [0o1000, 'O_TRUNC'],
  [0o2000, 'O_APPEND'],
  [0o4000, 'O_NONBLOCK'],
  [0o10000, 'O_DSYNC'],
  [0o20000, 'O_ASYNC'],
  [0o40000, 'O_DIRECT'],
  [0o100000, 'O_LARGEFILE'],
  [0o200000, 'O_DIRECTORY'],
  [0o400000, 'O_NOFOLLOW'],
  [0o1000000, 'O_NOATIME'],
  [0o2000000, 'O_CLOEXEC'],
  [0o10000000, 'O_PATH'],
];

// arch/arm64/include/uapi/asm/fcntl.h moves four bits.
const O_ARM64: Bits = O_GENERIC.map(([v, n]): readonly [number, string] => {
  switch (n) {
    case 'O_TMPFILE': return [0o20040000, n];
    case 'O_DIRECTORY': return [0o40000, n];
    case 'O_NOFOLLOW': return [0o100000, n];
    case 'O_DIRECT': return [0o200000, n];
    case 'O_LARGEFILE': return [0o400000, n];
    default: return [v, n];
  }
});

const O_ACCMODE = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'];

// include/uapi/asm-generic/mman-common.h
const PROT: Bits = [
  [0x1, 'PROT_READ'], [0x2, 'PROT_WRITE'], [0x4, 'PROT_EXEC'], [0x8, 'PROT_SEM'],
  [0x01000000, 'PROT_GROWSDOWN'], [0x02000000, 'PROT_GROWSUP'],
];
// arch/arm64/include/uapi/asm/mman.h
const PROT_ARM64: Bits = [...PROT, [0x10, 'PROT_BTI'], [0x20, 'PROT_MTE']];

// include/uapi/linux/mman.h (MAP_TYPE values) and asm-generic/mman{,-common}.h; MAP_32BIT is x86's.
const MAP_TYPES = ['0', 'MAP_SHARED', 'MAP_PRIVATE', 'MAP_SHARED_VALIDATE'];
const MAP: Bits = [
  [0x10, 'MAP_FIXED'], [0x20, 'MAP_ANONYMOUS'], [0x100, 'MAP_GROWSDOWN'], [0x800, 'MAP_DENYWRITE'],
  [0x1000, 'MAP_EXECUTABLE'], [0x2000, 'MAP_LOCKED'], [0x4000, 'MAP_NORESERVE'], [0x8000, 'MAP_POPULATE'],
  [0x10000, 'MAP_NONBLOCK'], [0x20000, 'MAP_STACK'], [0x40000, 'MAP_HUGETLB'], [0x80000, 'MAP_SYNC'],
  [0x100000, 'MAP_FIXED_NOREPLACE'], [0x4000000, 'MAP_UNINITIALIZED'],
];
const MAP_X86: Bits = [...MAP, [0x40, 'MAP_32BIT']];

// include/uapi/linux/fcntl.h: the AT_* flags of the *at syscalls.
const AT: Bits = [
  [0x100, 'AT_SYMLINK_NOFOLLOW'], [0x400, 'AT_SYMLINK_FOLLOW'], [0x800, 'AT_NO_AUTOMOUNT'],
  [0x1000, 'AT_EMPTY_PATH'], [0x2000, 'AT_STATX_FORCE_SYNC'], [0x4000, 'AT_STATX_DONT_SYNC'],
  [0x8000, 'AT_RECURSIVE'],
];
const AT_UNLINK: Bits = [[0x200, 'AT_REMOVEDIR']];
const AT_ACCESS: Bits = [[0x200, 'AT_EACCESS'], [0x100, 'AT_SYMLINK_NOFOLLOW'], [0x1000, 'AT_EMPTY_PATH']];
// include/uapi/linux/fcntl.h (RENAME_*)
const RENAME: Bits = [[0x1, 'RENAME_NOREPLACE'], [0x2, 'RENAME_EXCHANGE'], [0x4, 'RENAME_WHITEOUT']];
// include/linux/fs.h (F_OK is 0)
const ACCESS: Bits = [[0x4, 'R_OK'], [0x2, 'W_OK'], [0x1, 'X_OK']];
const SEEK = ['SEEK_SET', 'SEEK_CUR', 'SEEK_END', 'SEEK_DATA', 'SEEK_HOLE'];

/** How one argument is shown. */
export type ArgStyle = 'fd_at' | 'o_flags' | 'o_bits' | 'prot' | 'map_flags' | 'at_flags' | 'at_unlink' | 'at_access'
  | 'rename' | 'access' | 'mode' | 'addr' | 'int32' | 'whence' | SocketStyle;

const OPEN = {flags: 'o_flags', mode: 'mode'} as const;
const SOCKET = {family: 'af', type: 'sock_type', protocol: 'sock_protocol'} as const;
const SOCKOPT = {level: 'sol', optname: 'sockopt'} as const;
const STYLES: Record<string, Record<string, ArgStyle>> = {
  open: OPEN,
  openat: OPEN,
  creat: {mode: 'mode'},
  pipe2: {flags: 'o_bits'},
  dup3: {flags: 'o_bits'},
  mmap: {addr: 'addr', prot: 'prot', flags: 'map_flags', fd: 'int32'},
  mprotect: {start: 'addr', prot: 'prot'},
  pkey_mprotect: {start: 'addr', prot: 'prot'},
  munmap: {addr: 'addr'},
  mremap: {addr: 'addr', new_addr: 'addr'},
  madvise: {start: 'addr'},
  brk: {brk: 'addr'},
  newfstatat: {flag: 'at_flags'},
  fstatat64: {flag: 'at_flags'},
  statx: {flags: 'at_flags'},
  fchownat: {flag: 'at_flags'},
  utimensat: {flags: 'at_flags'},
  linkat: {flags: 'at_flags'},
  execveat: {flags: 'at_flags'},
  name_to_handle_at: {flag: 'at_flags'},
  fchmodat2: {flags: 'at_flags', mode: 'mode'},
  open_tree: {flags: 'at_flags'},
  unlinkat: {flag: 'at_unlink'},
  faccessat: {mode: 'access'},
  faccessat2: {mode: 'access', flags: 'at_access'},
  access: {mode: 'access'},
  renameat2: {flags: 'rename'},
  chmod: {mode: 'mode'},
  fchmod: {mode: 'mode'},
  fchmodat: {mode: 'mode'},
  mkdir: {mode: 'mode'},
  mkdirat: {mode: 'mode'},
  mknod: {mode: 'mode'},
  mknodat: {mode: 'mode'},
  umask: {mask: 'mode'},
  lseek: {whence: 'whence'},
  socket: SOCKET,
  socketpair: SOCKET,
  setsockopt: SOCKOPT,
  getsockopt: SOCKOPT,
  shutdown: {how: 'shut'},
  accept4: {flags: 'sock_flags'},
  sendto: {flags: 'msg_flags'},
  recvfrom: {flags: 'msg_flags'},
  sendmsg: {flags: 'msg_flags'},
  recvmsg: {flags: 'msg_flags'},
  sendmmsg: {flags: 'msg_flags'},
  recvmmsg: {flags: 'msg_flags'},
  epoll_ctl: {op: 'epoll_op'},
  epoll_create1: {flags: 'epoll_flags'},
};

const DIRFD = /^(dfd|olddfd|newdfd|dirfd|from_dfd|to_dfd)$/;
const AT_SYSCALL = /at2?$/;

/** The style of argument `arg` of `syscall`, or null for a plain number. */
export function argStyle(syscall: string, arg: string): ArgStyle | null {
  const s = STYLES[syscall]?.[arg];
  if (s) return s;
  if (DIRFD.test(arg) || (arg === 'fd' && AT_SYSCALL.test(syscall))) return 'fd_at';
  return null;
}

/** Syscalls whose return value is an address. */
export const RETURNS_ADDR = new Set(['mmap', 'mremap', 'brk', 'shmat']);

const TWO32 = 4294967296;

function lowHigh(v: number | bigint): [number, bigint] {
  if (typeof v === 'bigint') {
    const u = BigInt.asUintN(64, v);
    return [Number(u & 0xffffffffn), u >> 32n];
  }
  const u = v < 0 ? v + 2 ** 64 : v; // a negative int flag: its 32 low bits are what counts
  const lo = v < 0 ? v >>> 0 : u % TWO32;
  const hi = v < 0 ? 0n : BigInt(Math.floor(u / TWO32));
  return [lo, hi];
}

function joinBits(lo: number, hi: bigint, table: Bits, names: string[]): string {
  let rest = lo >>> 0;
  for (const [bits, name] of table) {
    if (bits !== 0 && (rest & bits) >>> 0 === bits) {
      names.push(name);
      rest = (rest & ~bits) >>> 0;
    }
  }
  const rem = (hi << 32n) | BigInt(rest);
  if (rem !== 0n) names.push('0x' + rem.toString(16));
  return names.length ? names.join('|') : '0';
}

/** A flags value as NAME|NAME|0xrest; '0' when no bit is set. */
export function formatBits(v: number | bigint, table: Bits): string {
  const [lo, hi] = lowHigh(v);
  return joinBits(lo, hi, table, []);
}

export function formatOpenFlags(v: number | bigint, arch: Arch = 'x86_64'): string {
  const [lo, hi] = lowHigh(v);
  const table = arch === 'aarch64' || arch === 'arm64' ? O_ARM64 : O_GENERIC;
  // O_PATH ignores the access mode; strace still shows it, so do we.
  return joinBits(lo & ~3, hi, table, [O_ACCMODE[lo & 3]]);
}

export function formatProt(v: number | bigint, arch: Arch = 'x86_64'): string {
  const [lo] = lowHigh(v);
  if (lo === 0 && BigInt(v) === 0n) return 'PROT_NONE';
  return formatBits(v, arch === 'aarch64' || arch === 'arm64' ? PROT_ARM64 : PROT);
}

export function formatMapFlags(v: number | bigint, arch: Arch = 'x86_64'): string {
  const [lo, hi] = lowHigh(v);
  const type = lo & 0xf;
  const first = type < MAP_TYPES.length ? MAP_TYPES[type] : '0x' + type.toString(16);
  const names = type === 0 ? [] : [first];
  return joinBits(lo & ~0xf, hi, arch === 'x86_64' ? MAP_X86 : MAP, names);
}

function hex(v: number | bigint): string {
  if (typeof v === 'number' && v < 0) return '0x' + BigInt.asUintN(64, BigInt(v)).toString(16);
  return '0x' + v.toString(16);
}

/** An address: NULL or hex. */
export function formatAddr(v: number | bigint): string {
  return v === 0 || v === 0n ? 'NULL' : hex(v);
}

/**
 * An argument value in the given style (numbers only; strings and buffers are shown
 * elsewhere). `args`: the call's other arguments, for the styles that depend on one (a
 * socket's protocol on its family, an option's name on its level).
 */
export function formatStyled(style: ArgStyle, v: number | bigint, arch: Arch = 'x86_64', args?: Readonly<Record<string, unknown>>): string {
  switch (style) {
    case 'fd_at': {
      const n = typeof v === 'bigint' ? Number(BigInt.asIntN(32, v)) : v > 0x7fffffff ? (v % TWO32) | 0 : v;
      return n === AT_FDCWD ? 'AT_FDCWD' : String(n);
    }
    case 'o_flags': return formatOpenFlags(v, arch);
    case 'o_bits': return formatBits(v, arch === 'aarch64' || arch === 'arm64' ? O_ARM64 : O_GENERIC);
    case 'prot': return formatProt(v, arch);
    case 'map_flags': return formatMapFlags(v, arch);
    case 'at_flags': return formatBits(v, AT);
    case 'at_unlink': return formatBits(v, AT_UNLINK);
    case 'at_access': return formatBits(v, AT_ACCESS);
    case 'rename': return formatBits(v, RENAME);
    case 'access': return v === 0 || v === 0n ? 'F_OK' : formatBits(v, ACCESS);
    case 'mode': return v === 0 || v === 0n ? '0' : '0' + BigInt.asUintN(64, BigInt(v)).toString(8);
    case 'addr': return formatAddr(v);
    case 'int32': return String(typeof v === 'bigint' ? Number(BigInt.asIntN(32, v)) : lowHigh(v)[0] | 0);
    case 'whence': return typeof v === 'number' && SEEK[v] ? SEEK[v] : String(v);
    default: return formatSocketStyle(style, v, args);
  }
}

// ---- sockets, poll and epoll ----------------------------------------------------------------
// The values are the same on x86_64 and arm64 (both use the asm-generic socket and poll
// headers; alpha, mips, parisc and sparc, which do not, are not recorded).

type SocketStyle = 'af' | 'sock_type' | 'sock_flags' | 'sock_protocol' | 'sol' | 'sockopt' | 'shut' | 'msg_flags'
  | 'poll_events' | 'epoll_events' | 'epoll_data' | 'epoll_op' | 'epoll_flags';

/** [value, name] pairs as a lookup. */
const named = (pairs: readonly (readonly [number, string])[]): ReadonlyMap<number, string> => new Map(pairs);

// include/linux/net.h (enum sock_type) and SOCK_CLOEXEC/SOCK_NONBLOCK, which are O_CLOEXEC/O_NONBLOCK.
const SOCK_TYPES = named([[1, 'SOCK_STREAM'], [2, 'SOCK_DGRAM'], [3, 'SOCK_RAW'], [4, 'SOCK_RDM'], [5, 'SOCK_SEQPACKET'],
  [6, 'SOCK_DCCP'], [10, 'SOCK_PACKET']]);
const SOCK_FLAGS: Bits = [[0o2000000, 'SOCK_CLOEXEC'], [0o4000, 'SOCK_NONBLOCK']];

// include/uapi/linux/in.h (IPPROTO_*), in6.h (the IPv6 extension headers and ICMPV6).
const IPPROTO = named([[0, 'IPPROTO_IP'], [1, 'IPPROTO_ICMP'], [2, 'IPPROTO_IGMP'], [4, 'IPPROTO_IPIP'], [6, 'IPPROTO_TCP'],
  [8, 'IPPROTO_EGP'], [12, 'IPPROTO_PUP'], [17, 'IPPROTO_UDP'], [22, 'IPPROTO_IDP'], [29, 'IPPROTO_TP'], [33, 'IPPROTO_DCCP'],
  [41, 'IPPROTO_IPV6'], [46, 'IPPROTO_RSVP'], [47, 'IPPROTO_GRE'], [50, 'IPPROTO_ESP'], [51, 'IPPROTO_AH'], [58, 'IPPROTO_ICMPV6'],
  [92, 'IPPROTO_MTP'], [94, 'IPPROTO_BEETPH'], [98, 'IPPROTO_ENCAP'], [103, 'IPPROTO_PIM'], [108, 'IPPROTO_COMP'], [115, 'IPPROTO_L2TP'],
  [132, 'IPPROTO_SCTP'], [136, 'IPPROTO_UDPLITE'], [137, 'IPPROTO_MPLS'], [143, 'IPPROTO_ETHERNET'], [255, 'IPPROTO_RAW'],
  [262, 'IPPROTO_MPTCP']]);
// include/uapi/linux/netlink.h (NETLINK_INET_DIAG is NETLINK_SOCK_DIAG).
const NETLINK = named([[0, 'NETLINK_ROUTE'], [1, 'NETLINK_UNUSED'], [2, 'NETLINK_USERSOCK'], [3, 'NETLINK_FIREWALL'],
  [4, 'NETLINK_SOCK_DIAG'], [5, 'NETLINK_NFLOG'], [6, 'NETLINK_XFRM'], [7, 'NETLINK_SELINUX'], [8, 'NETLINK_ISCSI'],
  [9, 'NETLINK_AUDIT'], [10, 'NETLINK_FIB_LOOKUP'], [11, 'NETLINK_CONNECTOR'], [12, 'NETLINK_NETFILTER'], [13, 'NETLINK_IP6_FW'],
  [14, 'NETLINK_DNRTMSG'], [15, 'NETLINK_KOBJECT_UEVENT'], [16, 'NETLINK_GENERIC'], [18, 'NETLINK_SCSITRANSPORT'],
  [19, 'NETLINK_ECRYPTFS'], [20, 'NETLINK_RDMA'], [21, 'NETLINK_CRYPTO'], [22, 'NETLINK_SMC']]);

// include/linux/socket.h (SOL_*), spelled as strace spells the IP-level ones (SOL_IP, SOL_TCP).
const SOL_SOCKET = 1;
const SOL_IP = 0;
const SOL_TCP = 6;
const SOL_UDP = 17;
const SOL_IPV6 = 41;
const SOL = named([[SOL_IP, 'SOL_IP'], [SOL_SOCKET, 'SOL_SOCKET'], [SOL_TCP, 'SOL_TCP'], [SOL_UDP, 'SOL_UDP'], [SOL_IPV6, 'SOL_IPV6'],
  [58, 'SOL_ICMPV6'], [132, 'SOL_SCTP'], [136, 'SOL_UDPLITE'], [255, 'SOL_RAW'], [256, 'SOL_IPX'], [257, 'SOL_AX25'],
  [258, 'SOL_ATALK'], [259, 'SOL_NETROM'], [260, 'SOL_ROSE'], [261, 'SOL_DECNET'], [262, 'SOL_X25'], [263, 'SOL_PACKET'],
  [264, 'SOL_ATM'], [265, 'SOL_AAL'], [266, 'SOL_IRDA'], [267, 'SOL_NETBEUI'], [268, 'SOL_LLC'], [269, 'SOL_DCCP'],
  [270, 'SOL_NETLINK'], [271, 'SOL_TIPC'], [272, 'SOL_RXRPC'], [273, 'SOL_PPPOL2TP'], [274, 'SOL_BLUETOOTH'], [275, 'SOL_PNPIPE'],
  [276, 'SOL_RDS'], [277, 'SOL_IUCV'], [278, 'SOL_CAIF'], [279, 'SOL_ALG'], [280, 'SOL_NFC'], [281, 'SOL_KCM'], [282, 'SOL_TLS'],
  [283, 'SOL_XDP'], [284, 'SOL_MPTCP'], [285, 'SOL_MCTP'], [286, 'SOL_SMC'], [287, 'SOL_VSOCK']]);

// include/uapi/asm-generic/socket.h; on 64-bit SO_RCVTIMEO is SO_RCVTIMEO_OLD (strace's name).
const SO = named([[1, 'SO_DEBUG'], [2, 'SO_REUSEADDR'], [3, 'SO_TYPE'], [4, 'SO_ERROR'], [5, 'SO_DONTROUTE'], [6, 'SO_BROADCAST'],
  [7, 'SO_SNDBUF'], [8, 'SO_RCVBUF'], [9, 'SO_KEEPALIVE'], [10, 'SO_OOBINLINE'], [11, 'SO_NO_CHECK'], [12, 'SO_PRIORITY'],
  [13, 'SO_LINGER'], [14, 'SO_BSDCOMPAT'], [15, 'SO_REUSEPORT'], [16, 'SO_PASSCRED'], [17, 'SO_PEERCRED'], [18, 'SO_RCVLOWAT'],
  [19, 'SO_SNDLOWAT'], [20, 'SO_RCVTIMEO_OLD'], [21, 'SO_SNDTIMEO_OLD'], [22, 'SO_SECURITY_AUTHENTICATION'],
  [23, 'SO_SECURITY_ENCRYPTION_TRANSPORT'], [24, 'SO_SECURITY_ENCRYPTION_NETWORK'], [25, 'SO_BINDTODEVICE'],
  [26, 'SO_ATTACH_FILTER'], [27, 'SO_DETACH_FILTER'], [28, 'SO_PEERNAME'], [29, 'SO_TIMESTAMP_OLD'], [30, 'SO_ACCEPTCONN'],
  [31, 'SO_PEERSEC'], [32, 'SO_SNDBUFFORCE'], [33, 'SO_RCVBUFFORCE'], [34, 'SO_PASSSEC'], [35, 'SO_TIMESTAMPNS_OLD'],
  [36, 'SO_MARK'], [37, 'SO_TIMESTAMPING_OLD'], [38, 'SO_PROTOCOL'], [39, 'SO_DOMAIN'], [40, 'SO_RXQ_OVFL'],
  [41, 'SO_WIFI_STATUS'], [42, 'SO_PEEK_OFF'], [43, 'SO_NOFCS'], [44, 'SO_LOCK_FILTER'], [45, 'SO_SELECT_ERR_QUEUE'],
  [46, 'SO_BUSY_POLL'], [47, 'SO_MAX_PACING_RATE'], [48, 'SO_BPF_EXTENSIONS'], [49, 'SO_INCOMING_CPU'], [50, 'SO_ATTACH_BPF'],
  [51, 'SO_ATTACH_REUSEPORT_CBPF'], [52, 'SO_ATTACH_REUSEPORT_EBPF'], [53, 'SO_CNX_ADVICE'], [55, 'SO_MEMINFO'],
  [56, 'SO_INCOMING_NAPI_ID'], [57, 'SO_COOKIE'], [59, 'SO_PEERGROUPS'], [60, 'SO_ZEROCOPY'], [61, 'SO_TXTIME'],
  [62, 'SO_BINDTOIFINDEX'], [63, 'SO_TIMESTAMP_NEW'], [64, 'SO_TIMESTAMPNS_NEW'], [65, 'SO_TIMESTAMPING_NEW'],
  [66, 'SO_RCVTIMEO_NEW'], [67, 'SO_SNDTIMEO_NEW'], [68, 'SO_DETACH_REUSEPORT_BPF'], [69, 'SO_PREFER_BUSY_POLL'],
  [70, 'SO_BUSY_POLL_BUDGET'], [71, 'SO_NETNS_COOKIE'], [72, 'SO_BUF_LOCK'], [73, 'SO_RESERVE_MEM'], [74, 'SO_TXREHASH'],
  [75, 'SO_RCVMARK'], [76, 'SO_PASSPIDFD'], [77, 'SO_PEERPIDFD']]);
// include/uapi/linux/in.h
const IP_OPTS = named([[1, 'IP_TOS'], [2, 'IP_TTL'], [3, 'IP_HDRINCL'], [4, 'IP_OPTIONS'], [5, 'IP_ROUTER_ALERT'], [6, 'IP_RECVOPTS'],
  [7, 'IP_RETOPTS'], [8, 'IP_PKTINFO'], [9, 'IP_PKTOPTIONS'], [10, 'IP_MTU_DISCOVER'], [11, 'IP_RECVERR'], [12, 'IP_RECVTTL'],
  [13, 'IP_RECVTOS'], [14, 'IP_MTU'], [15, 'IP_FREEBIND'], [16, 'IP_IPSEC_POLICY'], [17, 'IP_XFRM_POLICY'], [18, 'IP_PASSSEC'],
  [19, 'IP_TRANSPARENT'], [20, 'IP_ORIGDSTADDR'], [21, 'IP_MINTTL'], [22, 'IP_NODEFRAG'], [23, 'IP_CHECKSUM'],
  [24, 'IP_BIND_ADDRESS_NO_PORT'], [25, 'IP_RECVFRAGSIZE'], [26, 'IP_RECVERR_RFC4884'], [32, 'IP_MULTICAST_IF'],
  [33, 'IP_MULTICAST_TTL'], [34, 'IP_MULTICAST_LOOP'], [35, 'IP_ADD_MEMBERSHIP'], [36, 'IP_DROP_MEMBERSHIP'],
  [37, 'IP_UNBLOCK_SOURCE'], [38, 'IP_BLOCK_SOURCE'], [39, 'IP_ADD_SOURCE_MEMBERSHIP'], [40, 'IP_DROP_SOURCE_MEMBERSHIP'],
  [41, 'IP_MSFILTER'], [49, 'IP_MULTICAST_ALL'], [50, 'IP_UNICAST_IF'], [51, 'IP_LOCAL_PORT_RANGE'], [52, 'IP_PROTOCOL']]);
// include/uapi/linux/tcp.h
const TCP_OPTS = named([[1, 'TCP_NODELAY'], [2, 'TCP_MAXSEG'], [3, 'TCP_CORK'], [4, 'TCP_KEEPIDLE'], [5, 'TCP_KEEPINTVL'],
  [6, 'TCP_KEEPCNT'], [7, 'TCP_SYNCNT'], [8, 'TCP_LINGER2'], [9, 'TCP_DEFER_ACCEPT'], [10, 'TCP_WINDOW_CLAMP'], [11, 'TCP_INFO'],
  [12, 'TCP_QUICKACK'], [13, 'TCP_CONGESTION'], [14, 'TCP_MD5SIG'], [16, 'TCP_THIN_LINEAR_TIMEOUTS'], [17, 'TCP_THIN_DUPACK'],
  [18, 'TCP_USER_TIMEOUT'], [19, 'TCP_REPAIR'], [20, 'TCP_REPAIR_QUEUE'], [21, 'TCP_QUEUE_SEQ'], [22, 'TCP_REPAIR_OPTIONS'],
  [23, 'TCP_FASTOPEN'], [24, 'TCP_TIMESTAMP'], [25, 'TCP_NOTSENT_LOWAT'], [26, 'TCP_CC_INFO'], [27, 'TCP_SAVE_SYN'],
  [28, 'TCP_SAVED_SYN'], [29, 'TCP_REPAIR_WINDOW'], [30, 'TCP_FASTOPEN_CONNECT'], [31, 'TCP_ULP'], [32, 'TCP_MD5SIG_EXT'],
  [33, 'TCP_FASTOPEN_KEY'], [34, 'TCP_FASTOPEN_NO_COOKIE'], [35, 'TCP_ZEROCOPY_RECEIVE'], [36, 'TCP_INQ'], [37, 'TCP_TX_DELAY']]);
// include/uapi/linux/udp.h
const UDP_OPTS = named([[1, 'UDP_CORK'], [100, 'UDP_ENCAP'], [101, 'UDP_NO_CHECK6_TX'], [102, 'UDP_NO_CHECK6_RX'],
  [103, 'UDP_SEGMENT'], [104, 'UDP_GRO']]);
// include/uapi/linux/in6.h
const IPV6_OPTS = named([[1, 'IPV6_ADDRFORM'], [2, 'IPV6_2292PKTINFO'], [3, 'IPV6_2292HOPOPTS'], [4, 'IPV6_2292DSTOPTS'],
  [5, 'IPV6_2292RTHDR'], [6, 'IPV6_2292PKTOPTIONS'], [7, 'IPV6_CHECKSUM'], [8, 'IPV6_2292HOPLIMIT'], [9, 'IPV6_NEXTHOP'],
  [10, 'IPV6_AUTHHDR'], [11, 'IPV6_FLOWINFO'], [16, 'IPV6_UNICAST_HOPS'], [17, 'IPV6_MULTICAST_IF'], [18, 'IPV6_MULTICAST_HOPS'],
  [19, 'IPV6_MULTICAST_LOOP'], [20, 'IPV6_ADD_MEMBERSHIP'], [21, 'IPV6_DROP_MEMBERSHIP'], [22, 'IPV6_ROUTER_ALERT'],
  [23, 'IPV6_MTU_DISCOVER'], [24, 'IPV6_MTU'], [25, 'IPV6_RECVERR'], [26, 'IPV6_V6ONLY'], [27, 'IPV6_JOIN_ANYCAST'],
  [28, 'IPV6_LEAVE_ANYCAST'], [29, 'IPV6_MULTICAST_ALL'], [30, 'IPV6_ROUTER_ALERT_ISOLATE'], [31, 'IPV6_RECVERR_RFC4884'],
  [32, 'IPV6_FLOWLABEL_MGR'], [33, 'IPV6_FLOWINFO_SEND'], [34, 'IPV6_IPSEC_POLICY'], [35, 'IPV6_XFRM_POLICY'],
  [36, 'IPV6_HDRINCL'], [49, 'IPV6_RECVPKTINFO'], [50, 'IPV6_PKTINFO'], [51, 'IPV6_RECVHOPLIMIT'], [52, 'IPV6_HOPLIMIT'],
  [53, 'IPV6_RECVHOPOPTS'], [54, 'IPV6_HOPOPTS'], [55, 'IPV6_RTHDRDSTOPTS'], [56, 'IPV6_RECVRTHDR'], [57, 'IPV6_RTHDR'],
  [58, 'IPV6_RECVDSTOPTS'], [59, 'IPV6_DSTOPTS'], [60, 'IPV6_RECVPATHMTU'], [61, 'IPV6_PATHMTU'], [62, 'IPV6_DONTFRAG'],
  [66, 'IPV6_RECVTCLASS'], [67, 'IPV6_TCLASS'], [70, 'IPV6_AUTOFLOWLABEL'], [72, 'IPV6_ADDR_PREFERENCES'],
  [73, 'IPV6_MINHOPCOUNT'], [74, 'IPV6_ORIGDSTADDR'], [75, 'IPV6_TRANSPARENT'], [76, 'IPV6_UNICAST_IF'],
  [77, 'IPV6_RECVFRAGSIZE'], [78, 'IPV6_FREEBIND']]);
const OPTS_BY_LEVEL = new Map<number, ReadonlyMap<number, string>>([[SOL_SOCKET, SO], [SOL_IP, IP_OPTS], [SOL_TCP, TCP_OPTS],
  [SOL_UDP, UDP_OPTS], [SOL_IPV6, IPV6_OPTS]]);

// include/uapi/linux/net.h
const SHUT = ['SHUT_RD', 'SHUT_WR', 'SHUT_RDWR'];

// include/linux/socket.h (the MSG_* a process can pass or get back)
const MSG: Bits = [[0x1, 'MSG_OOB'], [0x2, 'MSG_PEEK'], [0x4, 'MSG_DONTROUTE'], [0x8, 'MSG_CTRUNC'], [0x10, 'MSG_PROBE'],
  [0x20, 'MSG_TRUNC'], [0x40, 'MSG_DONTWAIT'], [0x80, 'MSG_EOR'], [0x100, 'MSG_WAITALL'], [0x200, 'MSG_FIN'], [0x400, 'MSG_SYN'],
  [0x800, 'MSG_CONFIRM'], [0x1000, 'MSG_RST'], [0x2000, 'MSG_ERRQUEUE'], [0x4000, 'MSG_NOSIGNAL'], [0x8000, 'MSG_MORE'],
  [0x10000, 'MSG_WAITFORONE'], [0x40000, 'MSG_BATCH'], [0x4000000, 'MSG_ZEROCOPY'], [0x20000000, 'MSG_FASTOPEN'],
  [0x40000000, 'MSG_CMSG_CLOEXEC']];

// include/uapi/asm-generic/poll.h
const POLL: Bits = [[0x1, 'POLLIN'], [0x2, 'POLLPRI'], [0x4, 'POLLOUT'], [0x8, 'POLLERR'], [0x10, 'POLLHUP'], [0x20, 'POLLNVAL'],
  [0x40, 'POLLRDNORM'], [0x80, 'POLLRDBAND'], [0x100, 'POLLWRNORM'], [0x200, 'POLLWRBAND'], [0x400, 'POLLMSG'],
  [0x1000, 'POLLREMOVE'], [0x2000, 'POLLRDHUP']];
// include/uapi/linux/eventpoll.h
const EPOLL: Bits = [[0x1, 'EPOLLIN'], [0x2, 'EPOLLPRI'], [0x4, 'EPOLLOUT'], [0x8, 'EPOLLERR'], [0x10, 'EPOLLHUP'],
  [0x20, 'EPOLLNVAL'], [0x40, 'EPOLLRDNORM'], [0x80, 'EPOLLRDBAND'], [0x100, 'EPOLLWRNORM'], [0x200, 'EPOLLWRBAND'],
  [0x400, 'EPOLLMSG'], [0x2000, 'EPOLLRDHUP'], [1 << 27, 'EPOLLURING_WAKE'], [1 << 28, 'EPOLLEXCLUSIVE'], [1 << 29, 'EPOLLWAKEUP'],
  [1 << 30, 'EPOLLONESHOT'], [0x80000000, 'EPOLLET']];
const EPOLL_OPS = ['0', 'EPOLL_CTL_ADD', 'EPOLL_CTL_DEL', 'EPOLL_CTL_MOD'];
const EPOLL_CREATE: Bits = [[0o2000000, 'EPOLL_CLOEXEC']];

/** A value as its name in `names`, or as a number. */
function nameOf(names: ReadonlyMap<number, string>, v: number | bigint): string {
  return (typeof v === 'number' && names.get(v)) || String(v);
}

/** An int argument's value (the low 32 bits of a register, sign-extended when negative). */
function int32(v: number | bigint): number {
  return typeof v === 'bigint' ? Number(BigInt.asIntN(32, v)) : v > 0x7fffffff && v < TWO32 ? v | 0 : v;
}

/** formatFamily gives the name of an AF_* value (include/linux/socket.h), the number when it has none. */
export function formatFamily(v: number | bigint): string {
  return (typeof v === 'number' && familyName(v)) || String(v);
}

/** formatSockType gives a socket type as SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK (the type in the low 4 bits, then the flags). */
export function formatSockType(v: number | bigint): string {
  const [lo, hi] = lowHigh(v);
  const type = lo & 0xf;
  return joinBits(lo & ~0xf, hi, SOCK_FLAGS, [SOCK_TYPES.get(type) ?? String(type)]);
}

function formatSocketStyle(style: SocketStyle, v: number | bigint, args?: Readonly<Record<string, unknown>>): string {
  switch (style) {
    case 'af': return formatFamily(int32(v));
    case 'sock_type': return formatSockType(v);
    case 'sock_flags': return formatBits(v, SOCK_FLAGS);
    case 'sock_protocol': {
      const family = args?.family;
      if (family === AF_INET || family === AF_INET6) return nameOf(IPPROTO, int32(v));
      if (family === AF_NETLINK) return nameOf(NETLINK, int32(v));
      return String(int32(v));
    }
    case 'sol': return nameOf(SOL, int32(v));
    case 'sockopt': {
      const level = args?.level;
      const names = typeof level === 'number' ? OPTS_BY_LEVEL.get(level) : undefined;
      return names ? nameOf(names, int32(v)) : String(int32(v));
    }
    case 'shut': return (typeof v === 'number' && SHUT[v]) || String(v);
    case 'msg_flags': return formatBits(v, MSG);
    case 'poll_events': return formatBits(typeof v === 'number' ? v & 0xffff : v, POLL);
    case 'epoll_events': return formatBits(v, EPOLL);
    case 'epoll_data': {
      const [lo] = lowHigh(v);
      return `{u32=${lo}, u64=${BigInt.asUintN(64, BigInt(v))}}`;
    }
    case 'epoll_op': return (typeof v === 'number' && v > 0 && EPOLL_OPS[v]) || String(v);
    case 'epoll_flags': return formatBits(v, EPOLL_CREATE);
  }
}

// ---- names as values, for --where (args.flags & O_CREAT, args.prot & PROT_EXEC) ----------

/** Every name → value pair of the tables above for one architecture (a name with two values in it is dropped as ambiguous). */
function namedValues(arch: Arch): Map<string, number | null> {
  const arm = arch === 'aarch64' || arch === 'arm64';
  const out = new Map<string, number | null>();
  const add = (name: string, value: number): void => {
    const had = out.get(name);
    out.set(name, had === undefined || had === value ? value : null);
  };
  const bits = (t: Bits): void => {
    for (const [v, n] of t) add(n, v);
  };
  const list = (names: readonly string[], from = 0): void => {
    names.forEach((n, i) => {
      if (/^[A-Z]/.test(n)) add(n, from + i);
    });
  };
  bits(arm ? O_ARM64 : O_GENERIC);
  list(O_ACCMODE.slice(0, 3));
  add('O_ACCMODE', 3);
  bits(arm ? PROT_ARM64 : PROT);
  add('PROT_NONE', 0);
  bits(arch === 'x86_64' ? MAP_X86 : MAP);
  list(MAP_TYPES);
  bits(AT);
  bits(AT_UNLINK);
  bits(AT_ACCESS);
  add('AT_FDCWD', AT_FDCWD);
  bits(RENAME);
  bits(ACCESS);
  add('F_OK', 0);
  list(SEEK);
  // Sockets, poll and epoll: one set of values on every architecture recorded.
  const map = (m: ReadonlyMap<number, string>): void => {
    for (const [v, n] of m) add(n, v);
  };
  for (let v = 0; v < 64; v++) {
    const f = familyName(v);
    if (f) add(f, v);
  }
  map(SOCK_TYPES);
  bits(SOCK_FLAGS);
  map(IPPROTO);
  map(NETLINK);
  map(SOL);
  for (const m of OPTS_BY_LEVEL.values()) map(m);
  list(SHUT);
  bits(MSG);
  bits(POLL);
  bits(EPOLL);
  list(EPOLL_OPS);
  bits(EPOLL_CREATE);
  return out;
}

const namedByArch = new Map<Arch, Map<string, number | null>>();

/**
 * The value of a constant the decoder shows (`O_CREAT`, `PROT_EXEC`, `AT_FDCWD`) on `arch`;
 * undefined for a name it does not know, null for one with two values (ambiguous).
 */
export function constantValue(name: string, arch: Arch = 'x86_64'): number | null | undefined {
  let m = namedByArch.get(arch);
  if (m === undefined) namedByArch.set(arch, (m = namedValues(arch)));
  return m.get(name);
}

/** The names constantValue knows on `arch`, for a did-you-mean. */
export function constantNames(arch: Arch = 'x86_64'): string[] {
  constantValue('', arch);
  return [...(namedByArch.get(arch) as Map<string, number | null>).keys()];
}
