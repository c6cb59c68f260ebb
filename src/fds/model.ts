// The descriptor model: fed the snapshot's descriptors and working directories, then every
// fork, exec, exit, descriptor description (et_fd) and descriptor-changing call in stream
// order, it keeps per process a table of what each descriptor refers to, so that a call's
// descriptor arguments can be named offline: `write(fd=3</srv/app/out.log>, …)`. The rules
// are formats/trace-format.md §10.18.1; this is their one implementation.
//
// Never a guess. What the model knows comes from the kernel's descriptions (at start, and
// after each call that made a descriptor); what it has not seen — a process the file does
// not introduce, a descriptor past a limit, anything after records were lost — is
// *unknown* (null), never the last thing that was there. Loss is cheap to apply: an epoch
// counter, so that every entry and table made before it reads as unknown.
//
// Sharing. Threads use their process's table (by pid). A fork copies the parent's table,
// or shares it (fork_flags.files: CLONE_FILES); the cwd likewise (CLONE_FS). A socket is
// one object for every descriptor that refers to it, in every process (keyed by its
// inode), so that a connect through one descriptor renames all of them, as the kernel
// would show it.
//
// Memory: the live processes' tables (an exit drops one), at most MAX_TABLE_FDS entries a
// table, MAX_FDS in all, MAX_PROCESSES processes (the oldest forgotten past that: then
// unknown), MAX_SOCKETS sockets remembered by inode for later renames.

import {decodeText, isRawText, type Text} from '../decode/text';
import {pathOf, targetText, type FdDesc, type FdFlagBits} from './target';

/** MAX_TABLE_FDS: descriptors one table holds; past it, the table is incomplete. */
export const MAX_TABLE_FDS = 65536;
/** MAX_FDS: descriptors all tables hold together; past it, tables that would grow are incomplete. */
export const MAX_FDS = 1_048_576;
/** MAX_PROCESSES: processes whose tables are kept; the oldest is forgotten past it. */
export const MAX_PROCESSES = 65536;
/** MAX_SOCKETS: sockets remembered by inode (a unix peer learned later, a connect through a dup). */
export const MAX_SOCKETS = 65536;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const SOCKFS = 0x534f434b;
const SOCK_STREAM = 1;
const SOCK_SEQPACKET = 5;
const AF_UNIX = 1;

/** OpenFile is one open file as the kernel described it: shared by every descriptor that refers to it. */
export class OpenFile {
  /** A unix stream socket's peer, learned from the other end's description. */
  peerIno: number | bigint = 0;
  private named: Text | null | undefined;
  /** What writers make of the name, cached here while it stays the same (json.ts: the JSON string's bytes). */
  json: Buffer | null = null;

  constructor(public desc: FdDesc, private readonly bits: FdFlagBits) {}

  /** The name of what it refers to (strace -yy's spelling), or null when the description names nothing. */
  get text(): Text | null {
    if (this.named === undefined) this.named = targetText(this.desc, this.bits, this.desc.peer_ino || this.peerIno);
    return this.named;
  }

  /** Its path when it is a directory that is still there: what a relative path is resolved against. */
  get dirPath(): Text | null {
    if ((this.desc.mode & S_IFMT) !== S_IFDIR || (this.desc.fd_flags & this.bits.deleted) !== 0) return null;
    return pathOf(this.desc, this.bits);
  }

  /** A newer description of the same file (a socket bound or connected since). */
  update(desc: FdDesc): void {
    this.desc = desc;
    this.changed();
  }

  changed(): void {
    this.named = undefined;
    this.json = null;
  }
}

interface Entry {
  /** null: open, but what it refers to is unknown. */
  file: OpenFile | null;
  cloexec: boolean;
  /** The model's epoch when it was set: an entry of an earlier epoch is unknown. */
  epoch: number;
}

class Table {
  readonly entries = new Map<number, Entry>();
  /** Processes that use it. */
  refs = 1;
  /** The epoch in which it is complete (every open descriptor is an entry); -1: never. */
  completeIn: number;
  /**
   * In an incomplete table, the descriptors closed since (close, close_range): not open, as
   * far as the file knows, until something opens them again. Valid in epoch closedIn.
   */
  closed: Set<number> | null = null;
  /** Every descriptor from this one up was closed (close_range(n, ~0)). */
  closedFrom = Infinity;
  closedIn = -1;

  constructor(complete: boolean, epoch: number) {
    this.completeIn = complete ? epoch : -1;
  }
}

class Fs {
  refs = 1;
  constructor(public cwd: Text | null, public epoch: number) {}
}

interface Proc {
  table: Table;
  fs: Fs;
}

/** SnapshotFd is one descriptor open at start: its number, close-on-exec, and the kernel's description. */
export interface SnapshotFd {
  fd: number;
  cloexec: boolean;
  desc: FdDesc;
}

/** FdModel is the descriptor model (see the top of this file): one per decoder, fed in stream order. */
export class FdModel {
  private readonly procs = new Map<number, Proc>();
  private readonly sockets = new Map<string, OpenFile>();
  /** Bumped at each loss: what was known before it is unknown. */
  private epoch = 0;
  /** Entries in all tables. */
  private total = 0;
  private lastPid = -1;
  private lastProc: Proc | null = null;

  constructor(private readonly bits: FdFlagBits) {}

  /** A process alive at start: its descriptors (undefined: unknown) and cwd (null: unknown). */
  snapshot(pid: number, fds: readonly SnapshotFd[] | undefined, omitted: number, cwd: Text | null): void {
    const t = new Table(fds !== undefined && omitted === 0, this.epoch);
    const p: Proc = {table: t, fs: new Fs(cwd, this.epoch)};
    this.put(pid, p);
    for (const f of fds ?? []) this.set(t, f.fd, this.file(f.desc), f.cloexec);
  }

  /** A fork: the child copies (or shares) the table and cwd of the process that forked it. */
  fork(child: number, parent: number, shareFiles: boolean, shareFs: boolean): void {
    const q = this.procs.get(parent);
    let table: Table;
    let fs: Fs;
    if (q === undefined) {
      table = new Table(false, this.epoch);
      fs = new Fs(null, this.epoch);
    } else {
      if (shareFiles) {
        table = q.table;
        table.refs++;
      } else {
        table = this.copy(q.table);
      }
      if (shareFs) {
        fs = q.fs;
        fs.refs++;
      } else {
        fs = new Fs(q.fs.cwd, q.fs.epoch);
      }
    }
    this.drop(child);
    this.put(child, {table, fs});
  }

  /** A successful exec: a table of its own, without the close-on-exec descriptors; the cwd the exec record read. */
  exec(pid: number, cwd: Text | null | undefined): void {
    const p = this.proc(pid);
    if (p.table.refs > 1) {
      p.table.refs--;
      p.table = this.copy(p.table);
    }
    for (const [fd, e] of p.table.entries) if (e.cloexec) this.unset(p.table, fd);
    if (cwd !== undefined) this.setCwd(pid, cwd);
  }

  /** The process ended: its table and cwd go (unless another process shares them). */
  exit(pid: number): void {
    this.drop(pid);
  }

  /** Records were lost or damaged: nothing known so far can be trusted (§10.18.1). */
  lost(): void {
    this.epoch++;
  }

  /** Whether pid's table is complete: a descriptor not in it is closed, as far as the file knows. */
  complete(pid: number): boolean {
    return this.proc(pid).table.completeIn === this.epoch;
  }

  /**
   * name gives what descriptor fd of pid refers to: its name (strace -yy's spelling), null
   * when it is unknown, undefined when it is not open as far as the file knows (not in a
   * complete table, and `open` does not say the call found it open).
   */
  name(pid: number, fd: number, open: boolean): Text | null | undefined {
    const f = this.lookup(pid, fd, open);
    return f === null || f === undefined ? f : f.text;
  }

  /**
   * lookup is name() one step earlier: the open file itself (whose `text` is its name), null
   * when unknown, undefined when not open as far as the file knows.
   */
  lookup(pid: number, fd: number, open: boolean): OpenFile | null | undefined {
    const t = this.proc(pid).table;
    const e = t.entries.get(fd);
    if (e === undefined) {
      if (open) return null;
      if (t.completeIn === this.epoch) return undefined;
      const closed = t.closedIn === this.epoch && (fd >= t.closedFrom || (t.closed !== null && t.closed.has(fd)));
      return closed ? undefined : null;
    }
    if (e.epoch !== this.epoch) return null;
    return e.file;
  }

  /** The open file behind descriptor fd of pid, when known. */
  fileOf(pid: number, fd: number): OpenFile | null {
    const e = this.proc(pid).table.entries.get(fd);
    return e !== undefined && e.epoch === this.epoch ? e.file : null;
  }

  /** The working directory of pid, or null when unknown. */
  cwd(pid: number): Text | null {
    const fs = this.proc(pid).fs;
    return fs.epoch === this.epoch ? fs.cwd : null;
  }

  /** Descriptor fd of pid refers to what desc describes (a kernel description, after a call). */
  describe(pid: number, fd: number, desc: FdDesc, cloexec: boolean): void {
    this.set(this.proc(pid).table, fd, this.file(desc), cloexec);
  }

  /** The working directory of pid is what desc describes (after chdir, fchdir); null: it changed, to what is unknown. */
  describeCwd(pid: number, desc: FdDesc | null): void {
    this.setCwd(pid, desc === null ? null : pathOf(desc, this.bits));
  }

  /** Descriptor fd of pid is open, but what it refers to is unknown (a call returned it without a description). */
  unknown(pid: number, fd: number): void {
    this.set(this.proc(pid).table, fd, null, false);
  }

  /** close(fd). */
  close(pid: number, fd: number): void {
    const t = this.proc(pid).table;
    this.unset(t, fd);
    this.noteClosed(t, fd, fd);
  }

  /** close_range(first, last, flags) that succeeded: CLOSE_RANGE_UNSHARE (2), CLOSE_RANGE_CLOEXEC (4). */
  closeRange(pid: number, first: number, last: number, flags: number): void {
    const p = this.proc(pid);
    if ((flags & 2) !== 0 && p.table.refs > 1) {
      p.table.refs--;
      p.table = this.copy(p.table);
    }
    for (const [fd, e] of p.table.entries) {
      if (fd < first || fd > last) continue;
      if ((flags & 4) !== 0) e.cloexec = true;
      else this.unset(p.table, fd);
    }
    if ((flags & 4) === 0) this.noteClosed(p.table, first, last);
  }

  /** In an incomplete table, descriptors first..last are known closed now (a complete one needs no note). */
  private noteClosed(t: Table, first: number, last: number): void {
    if (t.completeIn === this.epoch) return;
    if (t.closedIn !== this.epoch) {
      t.closed = null;
      t.closedFrom = Infinity;
      t.closedIn = this.epoch;
    }
    if (last >= 0x7fffffff) {
      t.closedFrom = Math.min(t.closedFrom, first);
      return;
    }
    const set = (t.closed ??= new Set());
    for (let fd = first; fd <= last && set.size < MAX_TABLE_FDS; fd++) set.add(fd);
  }

  /** fcntl F_DUPFD: descriptor `to` now refers to what `from` does (unknown when `from` is). */
  dup(pid: number, from: number, to: number, cloexec: boolean): void {
    const t = this.proc(pid).table;
    const e = t.entries.get(from);
    this.set(t, to, e !== undefined && e.epoch === this.epoch ? e.file : null, cloexec);
  }

  /** F_SETFD, FIOCLEX, FIONCLEX. */
  setCloexec(pid: number, fd: number, on: boolean): void {
    const e = this.proc(pid).table.entries.get(fd);
    if (e !== undefined) e.cloexec = on;
  }

  /** unshare: CLONE_FILES (0x400) gives the process a copy of a shared table, CLONE_FS (0x200) of a shared cwd. */
  unshare(pid: number, flags: number): void {
    const p = this.proc(pid);
    if ((flags & 0x400) !== 0 && p.table.refs > 1) {
      p.table.refs--;
      p.table = this.copy(p.table);
    }
    if ((flags & 0x200) !== 0 && p.fs.refs > 1) {
      p.fs.refs--;
      p.fs = new Fs(p.fs.cwd, p.fs.epoch);
    }
  }

  /** A call of pid changed descriptors in a way the file does not say (its arguments are unknown): its table is unknown from here. */
  forget(pid: number): void {
    const p = this.proc(pid);
    for (const e of p.table.entries.values()) e.epoch = -1;
    p.table.completeIn = -1;
  }

  // ---- inside ----

  /** The process of pid, made (unknown table and cwd) when the file has not introduced it. */
  private proc(pid: number): Proc {
    // A storm is one thread's calls, one after the other: the last process first.
    if (pid === this.lastPid) return this.lastProc as Proc;
    let p = this.procs.get(pid);
    if (p === undefined) {
      p = {table: new Table(false, this.epoch), fs: new Fs(null, this.epoch)};
      this.put(pid, p);
    }
    this.lastPid = pid;
    this.lastProc = p;
    return p;
  }

  private put(pid: number, p: Proc): void {
    this.lastPid = -1;
    if (this.procs.size >= MAX_PROCESSES && !this.procs.has(pid)) {
      // The oldest (Map order) is forgotten: if it shows up again, it is unknown.
      this.drop(this.procs.keys().next().value as number);
    }
    this.procs.set(pid, p);
  }

  private drop(pid: number): void {
    this.lastPid = -1;
    const p = this.procs.get(pid);
    if (p === undefined) return;
    this.procs.delete(pid);
    if (--p.table.refs === 0) this.total -= p.table.entries.size;
    p.fs.refs--;
  }

  private setCwd(pid: number, cwd: Text | null): void {
    const fs = this.proc(pid).fs;
    fs.cwd = cwd;
    fs.epoch = this.epoch;
  }

  private copy(t: Table): Table {
    const c = new Table(t.completeIn === this.epoch, this.epoch);
    if (t.closedIn === this.epoch) {
      c.closed = t.closed === null ? null : new Set(t.closed);
      c.closedFrom = t.closedFrom;
      c.closedIn = t.closedIn;
    }
    for (const [fd, e] of t.entries) {
      if (this.total >= MAX_FDS) {
        c.completeIn = -1;
        break;
      }
      c.entries.set(fd, {file: e.file, cloexec: e.cloexec, epoch: e.epoch});
      this.total++;
    }
    return c;
  }

  private set(t: Table, fd: number, file: OpenFile | null, cloexec: boolean): void {
    t.closed?.delete(fd);
    const e = t.entries.get(fd);
    if (e !== undefined) {
      e.file = file;
      e.cloexec = cloexec;
      e.epoch = this.epoch;
      return;
    }
    if (t.entries.size >= MAX_TABLE_FDS || this.total >= MAX_FDS) {
      t.completeIn = -1; // not kept: what it refers to reads as unknown
      return;
    }
    t.entries.set(fd, {file, cloexec, epoch: this.epoch});
    this.total++;
  }

  private unset(t: Table, fd: number): void {
    if (t.entries.delete(fd)) this.total--;
  }

  /**
   * The open file a description names: a socket is one object per inode (the newest
   * description wins, and a unix stream socket tells its peer who it is connected to);
   * any other file a new object.
   */
  private file(desc: FdDesc): OpenFile {
    if (desc.magic !== SOCKFS) return new OpenFile(desc, this.bits);
    const key = `${desc.dev}:${String(desc.ino)}`;
    let f = this.sockets.get(key);
    if (f === undefined) {
      f = new OpenFile(desc, this.bits);
      if (this.sockets.size >= MAX_SOCKETS) this.sockets.delete(this.sockets.keys().next().value as string);
    } else {
      f.update(desc);
      this.sockets.delete(key); // to the end: the most recently described
    }
    this.sockets.set(key, f);
    const peer = desc.peer_ino;
    if (desc.family === AF_UNIX && (desc.sock_type === SOCK_STREAM || desc.sock_type === SOCK_SEQPACKET) && peer !== 0 && peer !== 0n) {
      const other = this.sockets.get(`${desc.dev}:${String(peer)}`);
      if (other !== undefined && other.peerIno !== desc.ino && (other.desc.peer_ino === 0 || other.desc.peer_ino === 0n)) {
        other.peerIno = desc.ino;
        other.changed();
      }
    }
    return f;
  }
}

/**
 * resolvePath makes a relative path absolute against a directory, lexically: `.` and `..`
 * components removed, symbolic links not followed (formats/trace-format.md §10.18.2).
 * null when the directory is unknown.
 */
export function resolvePath(dir: Text | null, rel: Text): Text | null {
  if (dir === null) return null;
  const bytes = (t: Text): Buffer => (isRawText(t) ? Buffer.from(t.base64, 'base64') : Buffer.from(t, 'utf8'));
  const parts: Buffer[] = [];
  const walk = (b: Buffer): void => {
    let from = 0;
    for (let i = 0; i <= b.length; i++) {
      if (i < b.length && b[i] !== 0x2f) continue;
      const c = b.subarray(from, i);
      from = i + 1;
      if (c.length === 0 || (c.length === 1 && c[0] === 0x2e)) continue;
      if (c.length === 2 && c[0] === 0x2e && c[1] === 0x2e) parts.pop();
      else parts.push(c);
    }
  };
  const d = bytes(dir);
  // A directory the kernel could not name whole (a walk cut at its limit) does not start with '/'.
  if (d[0] !== 0x2f) return null;
  walk(d);
  walk(bytes(rel));
  const out: Buffer[] = [];
  for (const p of parts) out.push(Buffer.from('/'), p);
  const all = out.length ? Buffer.concat(out) : Buffer.from('/');
  return decodeText(all, 0, all.length);
}
