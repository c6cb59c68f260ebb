// Record-time filters (--pid, --follow, --pidns, --cgroup, --uid, --comm): checked and
// resolved against the running system before anything is loaded, turned into the BPF
// object's options (rodata) and map entries, described in the file's metadata
// (`options.filters`), and the --pid/--follow process set seeded in the kernel.
//
// The matching itself happens in bpf/exectrace.bpf.c (wanted()): a record a filter
// excludes never enters the ring buffer and is counted as `filtered`, never as lost.

import * as fs from 'node:fs';
import * as path from 'node:path';
import {UserError} from '../util/errors';
import {UsageError} from '../util/errors';
import {resolveUid} from '../util/users';
import {cgroup2Mount, cgroupPaths, processIds, readText, splitStat, tgidOf} from './procfs';
import {containerOf} from '../decode/container';
import type {NativeTracer} from './native';
import {rodataVariables} from '../btf';

/** bpf/exectrace.h and exectrace.bpf.c: the sizes of the filter maps. */
export const ET_COMM_LEN = 16;
export const ET_COMM_FILTERS = 16;
export const ET_UID_FILTERS = 64;
export const PIDS_MAX = 65536;
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** The filters as given on the command line. */
export interface FilterOptions {
  pid?: number[];
  follow?: boolean;
  pidns?: string;
  cgroup?: string;
  /** --container: a container id or a prefix of one, resolved to its cgroup at start. */
  container?: string;
  uid?: string[];
  comm?: string[];
  /** --syscall names: which syscalls are recorded (kept for the metadata). */
  syscall?: string[];
}

/** The filters resolved: process ids, namespace and cgroup ids, uids. */
export interface Filters {
  /** Thread-group ids given with --pid. */
  pid: number[];
  follow: boolean;
  /** With --follow and a command: the command is followed from its fork on. */
  followCommand: boolean;
  pidns: number | null;
  cgroup: {path: string; id: bigint; level: number} | null;
  uid: number[];
  comm: string[];
  syscall: string[];
}

/** "4026532198", "pid:[4026532198]" or a /proc/PID/ns/pid path → the inode number. */
function parsePidns(v: string): number {
  const s = v.trim();
  let n: number | undefined;
  const m = /^(\d+)$/.exec(s) ?? /^pid:\[(\d+)\]$/.exec(s);
  if (m) {
    n = Number(m[1]);
  } else if (s.startsWith('/')) {
    try {
      const link = fs.readlinkSync(s);
      const lm = /^pid:\[(\d+)\]$/.exec(link);
      if (lm) n = Number(lm[1]);
    } catch {
      /* not a namespace link */
    }
  }
  if (n === undefined || !Number.isSafeInteger(n) || n < 1 || n > 0xffffffff) {
    throw new UsageError(`--pidns '${v}': not a PID namespace inode number ` +
      '(e.g. 4026532198: see `lsns -t pid` or `readlink /proc/PID/ns/pid`)');
  }
  return n;
}

/** A live process in PID namespace `inum`, or null: a namespace without one holds nothing to record. */
function processInPidns(inum: number): number | null {
  const want = `pid:[${inum}]`;
  for (const pid of processIds()) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/ns/pid`) === want) return pid;
    } catch {
      /* gone, or a kernel thread */
    }
  }
  return null;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

function depth(p: string): number {
  return p.split('/').filter((x) => x !== '').length;
}

/**
 * The level of a cgroup v2 directory (0: the root of the hierarchy): its depth below the
 * cgroup2 mount it is under, plus the depth of that mount's root (a mount of a subtree).
 */
function cgroupLevel(dir: string): number {
  let best: {mountPoint: string; root: string} | null = null;
  for (const line of (readText('/proc/self/mountinfo') ?? '').split('\n')) {
    const parts = line.split(' ');
    const dash = parts.indexOf('-');
    if (dash < 0 || parts[dash + 1] !== 'cgroup2') continue;
    const mountPoint = unescapeMount(parts[4]);
    const inside = dir === mountPoint || dir.startsWith(mountPoint.endsWith('/') ? mountPoint : `${mountPoint}/`);
    if (inside && (!best || mountPoint.length > best.mountPoint.length)) best = {mountPoint, root: unescapeMount(parts[3])};
  }
  if (!best) throw new UsageError(`--cgroup ${dir}: no cgroup2 mount found above it in /proc/self/mountinfo`);
  return depth(best.root) + depth(path.relative(best.mountPoint, dir));
}

function resolveCgroup(v: string): {path: string; id: bigint; level: number} {
  const hint = '(give a directory of the cgroup v2 hierarchy; `findmnt -t cgroup2` shows where it is mounted)';
  let dir: string;
  try {
    dir = fs.realpathSync(v);
  } catch {
    throw new UsageError(`--cgroup ${v}: no such directory ${hint}`);
  }
  let st: fs.BigIntStats;
  let type: number;
  try {
    st = fs.statSync(dir, {bigint: true});
    type = Number(fs.statfsSync(dir).type);
  } catch (e) {
    throw new UsageError(`--cgroup ${v}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}) ${hint}`);
  }
  if (!st.isDirectory() || type !== CGROUP2_SUPER_MAGIC) throw new UsageError(`--cgroup ${v}: not a cgroup v2 directory ${hint}`);
  // On cgroup2 the inode number of a cgroup's directory is its id (kernfs_node.id).
  return {path: dir, id: st.ino, level: cgroupLevel(dir)};
}


/** Checks the filters against the running system; every mistake is one line with the fix. */
export function resolveFilters(opts: FilterOptions, hasCommand: boolean, selfPid: number = process.pid): Filters {
  const pids: number[] = [];
  for (const p of opts.pid ?? []) {
    if (!Number.isSafeInteger(p) || p < 1) throw new UsageError(`--pid ${p}: not a process id`);
    const tgid = tgidOf(p);
    if (tgid === null) throw new UsageError(`--pid ${p}: no such process (is it running? see \`ps -p ${p}\`)`);
    if (tgid === selfPid) throw new UsageError(`--pid ${p}: that is exectrace itself, whose activity is never recorded`);
    if (!pids.includes(tgid)) pids.push(tgid);
  }
  if (pids.length > PIDS_MAX / 2) throw new UsageError(`${pids.length} --pid values given: at most ${PIDS_MAX / 2}`);
  const follow = !!opts.follow;
  if (follow && !hasCommand && pids.length === 0) {
    throw new UsageError('--follow follows the command after -- or the processes given with --pid: give one of them');
  }
  let pidns: number | null = null;
  if (opts.pidns !== undefined) {
    pidns = parsePidns(opts.pidns);
    if (processInPidns(pidns) === null) {
      throw new UsageError(`--pidns ${pidns}: no process is in that PID namespace (list them with \`lsns -t pid\`)`);
    }
  }
  if (opts.cgroup !== undefined && opts.container !== undefined) throw new UsageError('--cgroup and --container: give one of them');
  const cgroup = opts.cgroup !== undefined ? resolveCgroup(opts.cgroup) : opts.container !== undefined ? resolveCgroup(containerCgroup(opts.container)) : null;
  const uid: number[] = [];
  for (const u of opts.uid ?? []) {
    const n = resolveUid(u);
    if (!uid.includes(n)) uid.push(n);
  }
  if (uid.length > ET_UID_FILTERS) throw new UsageError(`${uid.length} --uid values given: at most ${ET_UID_FILTERS}`);
  const comm = [...new Set(opts.comm ?? [])];
  if (comm.length > ET_COMM_FILTERS) throw new UsageError(`${comm.length} --comm values given: at most ${ET_COMM_FILTERS}`);
  for (const c of comm) {
    const bytes = Buffer.byteLength(c);
    if (bytes === 0 || bytes >= ET_COMM_LEN) {
      throw new UsageError(`--comm '${c}': a command name is 1 to ${ET_COMM_LEN - 1} bytes (the kernel keeps the first ${ET_COMM_LEN - 1} of a program's name)`);
    }
  }
  return {pid: pids, follow, followCommand: follow && hasCommand, pidns, cgroup, uid, comm, syscall: [...(opts.syscall ?? [])]};
}

/** The BPF object's integer options for these filters (bpf/exectrace.bpf.c, "Record-time filters"). */
export function filterRodata(f: Filters): Record<string, number | bigint> {
  return {
    pid_filter_on: f.pid.length || f.followCommand ? 1 : 0,
    follow: f.follow ? 1 : 0,
    uid_count: f.uid.length,
    comm_count: f.comm.length,
    pidns_filter: f.pidns ?? 0,
    cgroup_filter: f.cgroup?.id ?? 0n,
    cgroup_level: f.cgroup?.level ?? 0,
  };
}

/**
 * Writes the --uid and --comm values into the .rodata image (arrays, which rodataImage
 * does not set): uid_list as u32s, comm_list as NUL-padded 16-byte names. Their place and
 * size come from the object's BTF.
 */
export function writeFilterLists(image: Buffer, objBytes: Uint8Array, f: Filters): void {
  const vars = new Map(rodataVariables(objBytes).map((v) => [v.name, v]));
  const place = (name: string, bytes: number) => {
    const v = vars.get(name);
    if (!v) throw new Error(`bpf object: no .rodata variable ${name}`);
    if (bytes > v.size) throw new Error(`bpf object: ${name} holds ${v.size} bytes, ${bytes} needed`);
    return v.offset;
  };
  const uidAt = place('uid_list', f.uid.length * 4);
  f.uid.forEach((u, i) => image.writeUInt32LE(u, uidAt + i * 4));
  const commAt = place('comm_list', f.comm.length * ET_COMM_LEN);
  f.comm.forEach((c, i) => {
    image.fill(0, commAt + i * ET_COMM_LEN, commAt + (i + 1) * ET_COMM_LEN);
    image.write(c, commAt + i * ET_COMM_LEN, 'utf8');
  });
}

/** max_entries of the filter maps: the process set is ≈5 MB preallocated, so 1 entry when unused. */
export function filterMapSizes(f: Filters): Record<string, number> {
  return f.pid.length || f.followCommand ? {} : {pids: 1};
}

/** `options.filters` of the file's metadata (formats/trace-format.md §10.4). */
export function filterMeta(f: Filters): Record<string, unknown> {
  return {
    pid: f.pid,
    follow: f.follow,
    pidns: f.pidns,
    cgroup: f.cgroup ? {path: f.cgroup.path, id: f.cgroup.id, level: f.cgroup.level} : null,
    uid: f.uid,
    comm: f.comm,
    syscall: f.syscall,
  };
}

/** One line for the start of a recording; null when nothing is filtered. */
export function describeFilters(f: Filters): string | null {
  const parts: string[] = [];
  if (f.pid.length || f.followCommand) {
    const who = [...(f.followCommand ? ['the command'] : []), ...(f.pid.length ? [`pid ${f.pid.join(',')}`] : [])].join(' and ');
    parts.push(f.follow ? `${who} and descendants` : who);
  }
  if (f.pidns !== null) parts.push(`pid namespace ${f.pidns} and below`);
  if (f.cgroup) parts.push(`cgroup ${f.cgroup.path} (id ${f.cgroup.id}) and below`);
  if (f.uid.length) parts.push(`uid ${f.uid.join(',')}`);
  if (f.comm.length) parts.push(`comm ${f.comm.join(',')}`);
  if (!parts.length) return null;
  return `recording only: ${parts.join('; ')}`;
}

/** pid → ppid of every process now, from /proc/<pid>/stat. */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of processIds()) {
    const stat = readText(`/proc/${pid}/stat`);
    if (stat) out.set(pid, Number(splitStat(stat).fields[1]));
  }
  return out;
}

/**
 * Puts the --pid processes (and, when following, their descendants alive now, and the
 * recorder itself so that the fork of its command is followed) into the kernel's `pids`
 * set. Runs after attach: from then on sched_process_fork adds every process forked by a
 * member, so only processes forked before their parent was added can be missed, and the
 * scan of /proc is repeated until a pass adds none (such a process exists, under its
 * parent, by the time of the next pass). An entry whose process is gone right after it was
 * added is taken out again: its exit was before the kernel could see it in the set, and
 * its pid could be reused. Returns the number of processes added.
 */
export function seedPids(tracer: NativeTracer, f: Filters, selfPid: number = process.pid): number {
  if (!f.pid.length && !f.followCommand) return 0;
  const set = new Set<number>();
  const one = Buffer.from([1]);
  const add = (pid: number): boolean => {
    const k = Buffer.alloc(4);
    k.writeUInt32LE(pid);
    try {
      tracer.mapUpdate('pids', k, one);
    } catch (e) {
      throw new UserError(`cannot follow more than ${PIDS_MAX} processes (${(e as Error).message}): narrow --pid/--follow`);
    }
    if (!fs.existsSync(`/proc/${pid}`)) {
      tracer.mapDelete('pids', k);
      return false;
    }
    set.add(pid);
    return true;
  };
  for (const p of f.pid) {
    if (!add(p)) throw new UserError(`--pid ${p}: the process exited before recording started`);
  }
  if (f.followCommand) add(selfPid);
  if (f.follow) {
    for (let pass = 0; pass < 1000; pass++) {
      let added = 0;
      for (const [pid, ppid] of parents()) {
        if (!set.has(pid) && set.has(ppid) && add(pid)) added++;
      }
      if (!added) break;
    }
  }
  return set.size;
}

/** Processes --follow could not add because the kernel's set was full (per-CPU counts summed). */
export function pidsFull(tracer: NativeTracer): number {
  const raw = tracer.counters('pids_full');
  let n = 0;
  for (let o = 0; o + 8 <= raw.length; o += 8) n += Number(raw.readBigUInt64LE(o));
  return n;
}

/**
 * The cgroup v2 directory of the container whose id starts with `prefix` (docker, containerd,
 * cri-o and podman layouts: src/decode/container.ts): the outermost directory that names it,
 * so that the container's own sub-cgroups are below it. One line, exit 2, when no container
 * or more than one has such an id.
 */
export function containerCgroup(prefix: string): string {
  const want = prefix.toLowerCase();
  if (!/^[0-9a-f]{1,64}$/.test(want)) throw new UsageError(`--container ${prefix}: expected a container id or a prefix of one (hex digits)`);
  const root = cgroup2Mount();
  if (!root) throw new UsageError(`--container ${prefix}: no cgroup v2 hierarchy is mounted`);
  const found = new Map<string, string>();
  for (const rel of Object.values(cgroupPaths(root))) {
    const c = containerOf(rel);
    if (!c || !c.id.startsWith(want)) continue;
    const had = found.get(c.id);
    if (had === undefined || rel.length < had.length) found.set(c.id, rel);
  }
  if (found.size === 0) throw new UsageError(`--container ${prefix}: no container with such an id has a cgroup under ${root}`);
  if (found.size > 1) {
    throw new UsageError(`--container ${prefix}: ${found.size} containers have ids starting so (${[...found.keys()].map((k) => k.slice(0, 12)).join(', ')}): give more of the id`);
  }
  return path.join(root, [...found.values()][0]);
}
