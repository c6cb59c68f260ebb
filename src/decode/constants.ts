// Symbolic names for syscall argument values in human output, the way strace shows them
// (AT_FDCWD, O_RDONLY|O_CLOEXEC, PROT_READ|PROT_WRITE). JSON keeps the raw numbers; these
// tables only make lines readable. Values are those of the Linux UAPI headers named beside
// each table; where x86_64 and arm64 differ the arch picks the table. Bits without a name
// are kept as a hex remainder (O_RDONLY|0x40000000), so nothing is hidden.

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
  | 'rename' | 'access' | 'mode' | 'addr' | 'int32' | 'whence';

const OPEN = {flags: 'o_flags', mode: 'mode'} as const;
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

/** An argument value in the given style (numbers only; strings and buffers are shown elsewhere). */
export function formatStyled(style: ArgStyle, v: number | bigint, arch: Arch = 'x86_64'): string {
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
  return out;
}

const named = new Map<Arch, Map<string, number | null>>();

/**
 * The value of a constant the decoder shows (`O_CREAT`, `PROT_EXEC`, `AT_FDCWD`) on `arch`;
 * undefined for a name it does not know, null for one with two values (ambiguous).
 */
export function constantValue(name: string, arch: Arch = 'x86_64'): number | null | undefined {
  let m = named.get(arch);
  if (m === undefined) named.set(arch, (m = namedValues(arch)));
  return m.get(name);
}

/** The names constantValue knows on `arch`, for a did-you-mean. */
export function constantNames(arch: Arch = 'x86_64'): string[] {
  constantValue('', arch);
  return [...(named.get(arch) as Map<string, number | null>).keys()];
}
