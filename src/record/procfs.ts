// What the recorder reads from /proc and /sys at start: the processes alive (decoded later
// as `process` events), the cgroup id → path map, and the host's identity. Everything here
// is best effort per process — a process that exits while being read is simply left out.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {splitNul, textOrBytes} from '../util/bytes';

export interface HostInfo {
  hostname: string;
  kernel_release: string;
  kernel_version: string;
  arch: string;
  page_size: number;
  boot_id: string;
  nr_cpus: number;
  clk_tck: number;
}

/** A file's text, or null if it cannot be read (a process that exited, a missing file). */
export function readText(p: string): string | null {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

/** The ids of the processes in /proc now (its numeric entries). */
export function processIds(): number[] {
  return fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
}

/** The thread-group id of a running task (a thread id gives its process), or null if it is gone. */
export function tgidOf(pid: number): number | null {
  const st = readText(`/proc/${pid}/status`);
  const m = st && /^Tgid:\s+(\d+)/m.exec(st);
  return m ? Number(m[1]) : null;
}

/**
 * A /proc/<pid>/stat line split: comm (which may hold spaces and parentheses, so it ends
 * at the last ')'), and the fields after it — fields[0] is the state, fields[1] the ppid.
 */
export function splitStat(stat: string): {comm: string; fields: string[]} {
  const close = stat.lastIndexOf(')');
  return {comm: stat.slice(stat.indexOf('(') + 1, close), fields: stat.slice(close + 2).split(' ')};
}

/**
 * The host's identity. Reads files only: a subprocess here would appear in the recording.
 * page_size comes from the addon (sysconf); USER_HZ, the unit of /proc/<pid>/stat start
 * times, is 100 on every Linux architecture exectrace records on.
 */
export function hostInfo(pageSize: number): HostInfo {
  return {
    hostname: os.hostname(),
    kernel_release: os.release(),
    kernel_version: os.version(),
    arch: os.machine(),
    page_size: pageSize,
    boot_id: (readText('/proc/sys/kernel/random/boot_id') ?? '').trim(),
    nr_cpus: os.cpus().length,
    clk_tck: 100,
  };
}

export interface ProcSnapshot {
  pid: number;
  tid: number;
  ppid: number;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  loginuid: number;
  sessionid: number;
  comm: string;
  /** Strings where the bytes are UTF-8, else the bytes (msgpack bin): decode keeps them exact. */
  filename: string | Uint8Array | null;
  argv: (string | Uint8Array)[];
  cgroup: string | null;
  ns: Record<string, number>;
  start_time_ns: number;
  /** What exec_id is made of (formats/trace-format.md §10.10), from the kernel's task iterator. */
  start_ns?: number | bigint;
  exec_seq?: number | bigint;
  parent_start_ns?: number | bigint;
  parent_exec_seq?: number | bigint;
}

/** One et_snap, as the snapshot_tasks iterator writes it. */
export interface TaskIdentity {
  ppid: number;
  start_ns: number | bigint;
  exec_seq: number | bigint;
  parent_start_ns: number | bigint;
  parent_exec_seq: number | bigint;
}

/**
 * Gives each snapshot process the kernel's identity of it (exact start, exec count, and the
 * parent's). A process whose pid the iterator saw with another start (it ended and the pid
 * was reused in between) or another parent gets none: never someone else's.
 */
export function addIdentities(processes: ProcSnapshot[], ids: Map<number, TaskIdentity>, clkTck: number): void {
  for (const p of processes) {
    const id = ids.get(p.pid);
    if (!id || id.ppid !== p.ppid) continue;
    // /proc's start is in clock ticks: the kernel's, truncated to them, must agree.
    const ticks = Math.floor((Number(id.start_ns) * clkTck) / 1e9);
    if (Math.abs(ticks - Math.round((p.start_time_ns * clkTck) / 1e9)) > 1) continue;
    p.start_ns = id.start_ns;
    p.exec_seq = id.exec_seq;
    p.parent_start_ns = id.parent_start_ns;
    p.parent_exec_seq = id.parent_exec_seq;
  }
}

const NAMESPACES = ['pid', 'mnt', 'net', 'uts', 'ipc', 'user', 'cgroup'];

/** Reads one /proc/<pid>; null if it vanished or is unreadable. */
export function readProcess(pid: number, clkTck: number): ProcSnapshot | null {
  const dir = `/proc/${pid}`;
  const stat = readText(`${dir}/stat`);
  const status = readText(`${dir}/status`);
  if (stat === null || status === null) return null;
  const {comm, fields: rest} = splitStat(stat);
  const ppid = Number(rest[1]);
  const startTicks = Number(rest[19]);
  const ids = (key: string): number[] => {
    const m = status.match(new RegExp(`^${key}:\\s+(\\d+)\\s+(\\d+)`, 'm'));
    return m ? [Number(m[1]), Number(m[2])] : [0, 0];
  };
  const [uid, euid] = ids('Uid');
  const [gid, egid] = ids('Gid');
  let argv: (string | Uint8Array)[] = [];
  try {
    const cmdline = fs.readFileSync(`${dir}/cmdline`);
    const end = cmdline.length && cmdline[cmdline.length - 1] === 0 ? cmdline.length - 1 : cmdline.length;
    if (end > 0) argv = splitNul(cmdline.subarray(0, end)).map(textOrBytes);
  } catch {
    /* gone, or not ours to read */
  }
  let filename: string | Uint8Array | null = null;
  try {
    filename = textOrBytes(fs.readlinkSync(`${dir}/exe`, {encoding: 'buffer'}));
  } catch {
    /* kernel threads have no exe */
  }
  const ns: Record<string, number> = {};
  for (const n of NAMESPACES) {
    try {
      const m = fs.readlinkSync(`${dir}/ns/${n}`).match(/\[(\d+)\]/);
      if (m) ns[n] = Number(m[1]);
    } catch {
      /* namespace unsupported or process gone */
    }
  }
  const cg = readText(`${dir}/cgroup`);
  const cgm = cg?.match(/^0::(.*)$/m);
  const num = (p: string, d: number): number => {
    const v = Number((readText(p) ?? '').trim());
    return Number.isFinite(v) ? v : d;
  };
  return {
    pid, tid: pid, ppid, uid, gid, euid, egid,
    loginuid: num(`${dir}/loginuid`, 4294967295),
    sessionid: num(`${dir}/sessionid`, 4294967295),
    comm, filename, argv,
    cgroup: cgm ? cgm[1] : null,
    ns,
    start_time_ns: Math.round((startTicks * 1e9) / clkTck),
  };
}

export function snapshotProcesses(clkTck: number): ProcSnapshot[] {
  const out: ProcSnapshot[] = [];
  for (const pid of processIds()) {
    const p = readProcess(pid, clkTck);
    if (p) out.push(p);
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** Where the cgroup v2 hierarchy is mounted (it may sit beside v1 controllers), if anywhere. */
export function cgroup2Mount(): string | null {
  const mounts = readText('/proc/self/mounts') ?? '';
  for (const line of mounts.split('\n')) {
    const f = line.split(' ');
    if (f[2] === 'cgroup2') return f[1].replace(/\\040/g, ' ');
  }
  return null;
}

/**
 * cgroup v2 ids are the inode numbers of the cgroup v2 directories; the map lets decode
 * show the path (as /proc/<pid>/cgroup writes it) for the cgroup_id the kernel reported.
 * Only the v2 mount is walked: v1 inode numbers mean nothing here. Bounded so a huge
 * hierarchy cannot bloat the file's metadata.
 */
export function cgroupPaths(root: string | null = cgroup2Mount(), limit = 20000): Record<string, string> {
  const out: Record<string, string> = {};
  if (!root) return out;
  let n = 0;
  const walk = (dir: string, rel: string): void => {
    if (n >= limit) return;
    let st: fs.Stats;
    try {
      st = fs.statSync(dir);
    } catch {
      return;
    }
    out[String(st.ino)] = rel || '/';
    n++;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, {withFileTypes: true});
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name), `${rel}/${e.name}`);
  };
  walk(root, '');
  return out;
}
