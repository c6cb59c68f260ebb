// The descriptors and working directories of the processes alive when recording starts,
// for the snapshot in the file's metadata (formats/trace-format.md §10.10, `fds`, `cwd`):
// the decoder starts each process's descriptor table from them. The descriptors come from
// the snapshot_fds iterator, which describes each one as sys_exit describes those a call
// makes (bpf/exectrace.bpf.c, et_fd), so the two agree by construction; the cwd from
// /proc/PID/cwd. Bounded: SNAP_FDS_MAX descriptors per process (the kernel stops there;
// the rest are counted from /proc/PID/fd) and SNAPSHOT_FDS_TOTAL in all.

import * as fs from 'node:fs';
import type {RecordLayout} from '../btf';
import {SNAP_FDS_MAX} from '../abi';
import {compileType} from '../decode/records';
import {isRawText, type Text} from '../decode/text';
import {textOrBytes} from '../util/bytes';
import type {ProcSnapshot} from './procfs';

/** SNAPSHOT_FDS_TOTAL: descriptors kept in the metadata in all; a process past it keeps none (all counted in fds_omitted). */
export const SNAPSHOT_FDS_TOTAL = 65536;

/** SnapshotFd is one descriptor open at start, as the metadata holds it: the fields of its et_fd record. */
export type SnapshotFd = Record<string, number | bigint | string | Uint8Array | (string | Uint8Array)[]>;

/** The et_fd fields kept in the metadata (the others are the record's header and lengths). */
const KEPT = ['fd', 'fd_flags', 'f_flags', 'ino', 'dev', 'rdev', 'mode', 'nlink', 'magic'];
/** Kept when the descriptor is a socket (family not 0). */
const SOCKET = ['family', 'sock_type', 'protocol', 'state', 'local_port', 'peer_port', 'portid', 'local_addr', 'peer_addr', 'peer_ino'];

const bytesOf = (t: Text): string | Uint8Array => (isRawText(t) ? new Uint8Array(Buffer.from(t.base64, 'base64')) : t);

/**
 * parseSnapshotFds reads the output of the snapshot_fds iterator (et_fd records, each
 * `hdr.size` bytes) into the metadata's form, by process. A record that does not fit
 * (it cannot happen with our object) ends the parse: what was read is kept.
 */
export function parseSnapshotFds(out: Buffer, fdLayout: RecordLayout, header: RecordLayout): Map<number, SnapshotFd[]> {
  const reader = compileType({
    id: 0, event: 'fd', struct: fdLayout.name, layout: fdLayout,
    tail: [{name: 'path', len_field: 'path_len', kind: 'strings'}, {name: 'addr', len_field: 'addr_len', kind: 'bytes'}],
  }, header, 0);
  const sizeAt = header.fields.find((f) => f.name === 'size')?.offset ?? 4;
  const byPid = new Map<number, SnapshotFd[]>();
  for (let o = 0; o + fdLayout.size <= out.length;) {
    const n = out.readUInt32LE(o + sizeAt);
    if (n < fdLayout.size || o + n > out.length) break;
    const r = reader.read(out, o, n);
    o += n;
    const e: SnapshotFd = {};
    for (const k of KEPT) e[k] = r[k] as number;
    if (r.family) {
      for (const k of SOCKET) {
        const v = r[k];
        e[k] = Buffer.isBuffer(v) ? new Uint8Array(v) : (v as number);
      }
      if ((r.addr as Buffer).length) e.addr = new Uint8Array(r.addr as Buffer);
    }
    if (r.pidfd_pid) e.pidfd_pid = r.pidfd_pid as number;
    if ((r.path as Text[]).length || Number(r.fd_flags) & 4 /* ET_FD_PATH: the root has no components */) e.path = (r.path as Text[]).map(bytesOf);
    const pid = r.pid as number;
    const list = byPid.get(pid);
    if (list) list.push(e);
    else byPid.set(pid, [e]);
  }
  return byPid;
}

/** The entries of /proc/PID/fd now (for a process past SNAP_FDS_MAX), or null. */
function openFds(pid: number): number | null {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** The working directory of pid as readlink gives it (bytes that are not UTF-8 as bin), or null. */
export function cwdOf(pid: number): string | Uint8Array | null {
  try {
    return textOrBytes(fs.readlinkSync(`/proc/${pid}/cwd`, {encoding: 'buffer'}));
  } catch {
    return null;
  }
}

/**
 * addSnapshotFds gives each snapshot process its working directory (`cwd`) and, when the
 * iterator described its descriptors, `fds` (by descriptor number), with `fds_omitted`
 * when some are not listed (past SNAP_FDS_MAX in the process, or SNAPSHOT_FDS_TOTAL in all).
 * A process the iterator left out (a filter's, a kernel thread) has no `fds`: unknown. The
 * recorder's own lists 0, 1 and 2 (what the command it runs inherits) and counts the others as omitted.
 */
export function addSnapshotFds(processes: (ProcSnapshot & {fds?: SnapshotFd[]; fds_omitted?: number; cwd?: string | Uint8Array | null})[],
  byPid: Map<number, SnapshotFd[]>): void {
  let total = 0;
  for (const p of processes) {
    p.cwd = cwdOf(p.pid);
    const list = byPid.get(p.pid);
    if (list === undefined) continue;
    list.sort((a, b) => Number(a.fd) - Number(b.fd));
    let omitted = 0;
    // The recorder's own: only 0, 1 and 2 were described (its command inherits them), the rest are its own business.
    if (list.length >= SNAP_FDS_MAX || p.pid === process.pid) omitted = Math.max(0, (openFds(p.pid) ?? list.length) - list.length);
    if (total + list.length > SNAPSHOT_FDS_TOTAL) {
      omitted += list.length;
      list.length = 0;
    }
    total += list.length;
    p.fds = list;
    if (omitted > 0) p.fds_omitted = omitted;
  }
}
