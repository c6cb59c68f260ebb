// The event model onto Elastic Common Schema (ECS 8.x): process lifecycle events as
// event.category process, syscalls as process, file or network by what the call touches,
// loss markers as metrics. Field names and types follow ECS's field reference: @timestamp
// an ISO 8601 string, ids (user.id, group.id) keywords (strings), pids longs, event.type
// an array. What ECS has no field for is kept under the custom field set `exectrace`.

import type {TraceEvent} from '../api/events';
import {commandLine} from '../decode/human';
import {displayText} from '../decode/text';
import type {SchemaContext} from '.';

/** ECS_VERSION is the ECS version the mapping follows (written as ecs.version). */
export const ECS_VERSION = '8.11.0';

/** Calls whose subject is a file (ECS event.category file), and the event.type of each kind. */
const FILE_CREATE = new Set(['creat', 'mkdir', 'mkdirat', 'mknod', 'mknodat', 'link', 'linkat', 'symlink', 'symlinkat']);
const FILE_DELETE = new Set(['unlink', 'unlinkat', 'rmdir']);
const FILE_CHANGE = new Set([
  'rename', 'renameat', 'renameat2', 'chmod', 'fchmod', 'fchmodat', 'fchmodat2', 'chown', 'fchown', 'lchown', 'fchownat', 'truncate',
  'ftruncate', 'utime', 'utimes', 'utimensat', 'futimesat', 'setxattr', 'lsetxattr', 'fsetxattr', 'removexattr', 'lremovexattr',
  'fremovexattr', 'write', 'pwrite64', 'writev', 'pwritev', 'pwritev2', 'fallocate',
]);
const FILE_ACCESS = new Set([
  'open', 'openat', 'openat2', 'read', 'pread64', 'readv', 'preadv', 'preadv2', 'stat', 'lstat', 'fstat', 'newfstatat', 'statx',
  'access', 'faccessat', 'faccessat2', 'readlink', 'readlinkat', 'getdents', 'getdents64', 'getxattr', 'lgetxattr', 'fgetxattr',
  'listxattr', 'llistxattr', 'flistxattr', 'chdir', 'fchdir', 'close',
]);
/** Calls on sockets (ECS event.category network); connect and accept start a connection. */
const NET_CONNECT = new Set(['connect', 'accept', 'accept4']);
const NET = new Set([
  'socket', 'socketpair', 'bind', 'listen', 'sendto', 'recvfrom', 'sendmsg', 'recvmsg', 'sendmmsg', 'recvmmsg', 'shutdown',
  'getsockname', 'getpeername', 'setsockopt', 'getsockopt',
]);

const INBOUND = new Set(['accept', 'accept4', 'recvfrom', 'recvmsg', 'getpeername']);

/** O_CREAT on x86-64 and arm64 (asm-generic/fcntl.h), for open/openat's creation. */
const O_CREAT = 0o100;

/**
 * toEcs maps one event onto ECS: an object ready to index (nested, not dotted keys). Pure;
 * `ctx` gives the host fields. Never throws for an event of the model.
 */
export function toEcs(e: TraceEvent, ctx: SchemaContext = {}): Record<string, unknown> {
  const ev = e as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {'@timestamp': e.time};
  out.ecs = {version: ECS_VERSION};
  out.host = prune({
    name: ctx.hostname, hostname: ctx.hostname, architecture: ctx.arch,
    boot: ctx.bootId ? {id: ctx.bootId} : undefined,
    os: {type: 'linux', kernel: ctx.kernel},
  });
  out.agent = prune({type: 'exectrace', version: ctx.version});
  const x: Record<string, unknown> = {type: e.type, ts_ns: e.ts_ns};
  if (e.type === 'lost') {
    out.event = {kind: 'metric', action: 'lost', module: 'exectrace', dataset: 'exectrace.lost'};
    x.lost = prune({
      event: e.event, nr: e.nr, count: e.count, cpu: e.cpu, window_start: e.window_start, window_end: e.window_end, queue: e.queue,
    });
    out.exectrace = x;
    return out;
  }
  const proc: Record<string, unknown> = {
    pid: e.pid, name: e.comm, thread: {id: e.tid},
    entity_id: str(ev.exec_id),
    parent: prune({pid: e.ppid, entity_id: str(ev.parent_exec_id), name: str(ev.parent_comm)}),
    user: {id: String(e.euid)}, real_user: {id: String(e.uid)},
    group: {id: String(e.egid)}, real_group: {id: String(e.gid)},
  };
  out.user = {id: String(e.uid)};
  out.group = {id: String(e.gid)};
  if (typeof ev.container_id === 'string') out.container = {id: ev.container_id};
  const argv = Array.isArray(ev.argv) ? (ev.argv as unknown[]) : null;
  if (argv) {
    proc.args = argv.map(displayText);
    proc.args_count = typeof ev.argc === 'number' ? ev.argc : argv.length;
    proc.command_line = commandLine(argv as never);
  }
  if (ev.filename !== undefined && ev.filename !== null && e.type !== 'syscall') proc.executable = displayText(ev.filename);
  if (ev.cwd !== undefined && ev.cwd !== null) proc.working_directory = displayText(ev.cwd);
  if (typeof ev.sha256 === 'string') proc.hash = {sha256: ev.sha256};
  const event: Record<string, unknown> = {kind: 'event', module: 'exectrace', dataset: `exectrace.${e.type}`};
  switch (e.type) {
    case 'process':
      Object.assign(event, {category: ['process'], type: ['info'], action: 'process-running'});
      if (e.start_time) proc.start = e.start_time;
      break;
    case 'exec':
      Object.assign(event, {category: ['process'], type: ['start'], action: 'exec', outcome: 'success'});
      if (e.interp !== undefined) x.interp = displayText(e.interp);
      if (ev.prev_exec_id !== undefined) x.prev_exec_id = ev.prev_exec_id;
      for (const k of ['setuid', 'setgid', 'privileged', 'memfd', 'deleted', 'file', 'sha256_error']) if (ev[k] !== undefined) x[k] = ev[k];
      break;
    case 'exec_failed':
      Object.assign(event, {category: ['process'], type: ['start'], action: 'exec', outcome: 'failure'});
      out.error = {code: e.errno, message: `${e.syscall} failed: ${e.errno}`};
      x.error_code = e.error_code;
      break;
    case 'fork':
      Object.assign(event, {category: ['process'], type: ['start'], action: 'fork', outcome: 'success'});
      x.parent_tid = e.parent_tid;
      break;
    case 'exit':
      Object.assign(event, {category: ['process'], type: ['end'], action: 'exit'});
      proc.exit_code = e.exit_code;
      proc.end = e.time;
      x.signal = e.signal;
      x.core_dumped = e.core_dumped;
      x.running_time_ns = e.running_time_ns;
      break;
    case 'syscall': {
      const name = e.syscall;
      const [category, type] = syscallCategory(name, e.args);
      Object.assign(event, {category: [category], type, action: name});
      if (typeof e.ret === 'number' || typeof e.ret === 'bigint') event.outcome = Number(e.ret) < 0 ? 'failure' : 'success';
      if (typeof e.duration_ns === 'number') event.duration = e.duration_ns;
      if (e.errno) out.error = {code: e.errno};
      const path = filePath(e);
      if (path !== undefined) out.file = {path};
      const peer = peerOf(e);
      if (peer) {
        // The address an accept or a receive returns is who came in: the source; the one a connect or send names, the destination.
        out[INBOUND.has(name) ? 'source' : 'destination'] = {ip: peer.addr, port: peer.port};
        out.network = {type: peer.family === 'AF_INET6' ? 'ipv6' : 'ipv4'};
      }
      x.syscall = shallow({
        name, nr: e.nr, args: e.args, sym: e.sym, ret: e.ret, errno: e.errno, duration_ns: e.duration_ns, fd_paths: e.fd_paths,
        paths: e.paths, incomplete: e.incomplete, in_flight: e.in_flight, cut: e.cut, implicit: e.implicit,
      });
      break;
    }
  }
  out.event = event;
  out.process = prune(proc);
  // The task's context ECS has no place for.
  for (const k of ['loginuid', 'sessionid', 'cgroup', 'cgroup_id', 'ns', 'cpu', 'truncated', 'ancestors'] as const) {
    if (ev[k] !== undefined) x[k] = ev[k];
  }
  out.exectrace = x;
  return out;
}

/** A syscall's ECS category and event.type: by what it acts on. */
function syscallCategory(name: string, args: Record<string, unknown> | null): [string, string[]] {
  if (NET_CONNECT.has(name)) return ['network', ['connection', 'start']];
  if (NET.has(name)) return ['network', ['info']];
  if (FILE_CREATE.has(name)) return ['file', ['creation']];
  if (FILE_DELETE.has(name)) return ['file', ['deletion']];
  if (FILE_CHANGE.has(name)) return ['file', ['change']];
  if (name === 'open' || name === 'openat' || name === 'openat2') {
    const flags = args?.flags;
    if (typeof flags === 'number' && (flags & O_CREAT) !== 0) return ['file', ['creation', 'access']];
  }
  if (FILE_ACCESS.has(name)) return ['file', ['access']];
  return ['process', ['info']];
}

/** The file a syscall names: its path argument (made absolute when the recording knew the directory), else the file its fd names. */
function filePath(e: Extract<TraceEvent, {type: 'syscall'}>): string | undefined {
  const a = e.args ?? {};
  for (const k of ['filename', 'pathname', 'path', 'oldname']) {
    const abs = e.paths?.[k];
    if (abs !== undefined && abs !== null) return displayText(abs);
    const v = a[k];
    if (typeof v === 'string' || (v !== null && typeof v === 'object' && 'base64' in v)) return displayText(v);
  }
  const fd = e.fd_paths?.fd;
  if (typeof fd === 'string' && fd.startsWith('/')) return fd;
  return undefined;
}

/** The socket address a connect/sendto/accept names, when it is an inet one. */
function peerOf(e: Extract<TraceEvent, {type: 'syscall'}>): {family: string; addr: string; port: number} | null {
  for (const v of Object.values(e.args ?? {})) {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const s = v as {family?: unknown; addr?: unknown; port?: unknown};
      if ((s.family === 'AF_INET' || s.family === 'AF_INET6') && typeof s.addr === 'string' && typeof s.port === 'number') {
        return {family: s.family, addr: s.addr, port: s.port};
      }
    }
  }
  return null;
}

/** The object without its undefined values, one level deep (a syscall's args are kept as decoded). */
function shallow(o: Record<string, unknown>): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) r[k] = v;
  return r;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** prune returns the object without its undefined values (and without the empty objects they leave). */
export function prune<T extends Record<string, unknown>>(o: T): T {
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype) {
      const p = prune(v as Record<string, unknown>);
      if (Object.keys(p).length) r[k] = p;
      continue;
    }
    r[k] = v;
  }
  return r as T;
}
