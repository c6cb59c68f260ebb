// The event model onto the Open Cybersecurity Schema Framework: process events as Process
// Activity (class_uid 1007, category System Activity): an exec or a fork is a Launch (with
// launch_type_id Exec or Fork), an exit a Terminate, a failed exec a Launch whose status is
// Failure, a process alive at start an Other activity. OCSF has no class for one syscall or
// for a loss marker: those become Base Events (class_uid 0) with the details in `unmapped`.
// Types follow the schema: time an integer of milliseconds since the epoch, uids strings,
// pids integers; the nanoseconds stay in unmapped.

import type {TraceEvent} from '../api/events';
import {commandLine} from '../decode/human';
import {displayText} from '../decode/text';
import type {SchemaContext} from '.';
import {prune} from './ecs';

/** OCSF_VERSION is the OCSF schema version the mapping follows (metadata.version). */
export const OCSF_VERSION = '1.5.0';

const ACTIVITY = {launch: 1, terminate: 2, other: 99} as const;
const ACTIVITY_NAME: Record<number, string> = {1: 'Launch', 2: 'Terminate', 99: 'Other'};
/** launch_type_id: 2 Fork, 3 Exec (the two steps of Unix process creation). */
const LAUNCH = {fork: 2, exec: 3} as const;

/**
 * toOcsf maps one event onto OCSF: Process Activity for process, exec, exec_failed, fork
 * and exit events, a Base Event for syscall and lost events. Pure; `ctx` gives the device.
 */
export function toOcsf(e: TraceEvent, ctx: SchemaContext = {}): Record<string, unknown> {
  const ev = e as unknown as Record<string, unknown>;
  const common = {
    time: msOf(e.time),
    severity_id: 1, severity: 'Informational',
    metadata: prune({version: OCSF_VERSION, product: {name: 'exectrace', vendor_name: 'exectrace', version: ctx.version}, log_name: 'exectrace'}),
    device: prune({
      hostname: ctx.hostname, type_id: 0, type: 'Unknown',
      os: {name: 'Linux', type_id: 200, type: 'Linux', version: ctx.kernel, cpu_bits: ctx.arch === 'x86_64' || ctx.arch === 'aarch64' ? 64 : undefined},
      boot_uid: ctx.bootId,
    }),
  };
  const unmapped: Record<string, unknown> = {type: e.type, time: e.time, ts_ns: e.ts_ns};
  if (e.type === 'lost') {
    Object.assign(unmapped, prune({
      event: e.event, nr: e.nr, count: e.count, cpu: e.cpu, window_start: e.window_start, window_end: e.window_end, queue: e.queue,
    }));
    return {...base(99, 'lost'), ...common, message: `${e.count} ${e.event} event(s) lost on cpu ${e.cpu}`, unmapped};
  }
  const self = processObject(e, ev);
  const parent = prune({pid: e.ppid, uid: str(ev.parent_exec_id), name: str(ev.parent_comm)});
  const actor: {process: Record<string, unknown>; user: {uid: string}} = {process: parent, user: {uid: String(e.uid)}};
  for (const k of ['euid', 'egid', 'gid', 'loginuid', 'sessionid', 'cgroup', 'cgroup_id', 'container_id', 'ns', 'cpu', 'truncated', 'cwd', 'ancestors']) {
    if (ev[k] !== undefined) unmapped[k] = ev[k];
  }
  if (e.type === 'syscall') {
    Object.assign(unmapped, shallow({
      syscall: e.syscall, nr: e.nr, args: e.args, sym: e.sym, ret: e.ret, errno: e.errno, duration_ns: e.duration_ns,
      fd_paths: e.fd_paths, paths: e.paths, incomplete: e.incomplete, in_flight: e.in_flight, cut: e.cut, implicit: e.implicit,
    }));
    const failed = typeof e.ret === 'number' || typeof e.ret === 'bigint' ? Number(e.ret) < 0 : null;
    return {
      ...prune({
        ...base(99, e.syscall), ...common, ...status(failed, e.errno), actor: {process: self, user: {uid: String(e.uid)}},
        duration: typeof e.duration_ns === 'number' ? Math.round(e.duration_ns / 1e6) : undefined,
      }),
      unmapped,
    };
  }
  self.parent_process = parent;
  let activity: number = ACTIVITY.other;
  const extra: Record<string, unknown> = {};
  switch (e.type) {
    case 'process':
      if (e.start_time) self.created_time = msOf(e.start_time);
      break;
    case 'exec':
      activity = ACTIVITY.launch;
      Object.assign(extra, {launch_type_id: LAUNCH.exec, launch_type: 'Exec'}, status(false));
      for (const k of ['interp', 'prev_exec_id', 'setuid', 'setgid', 'privileged', 'memfd', 'deleted', 'file', 'sha256_error']) {
        if (ev[k] !== undefined) unmapped[k] = ev[k];
      }
      break;
    case 'exec_failed':
      activity = ACTIVITY.launch;
      Object.assign(extra, {launch_type_id: LAUNCH.exec, launch_type: 'Exec'}, status(true, e.errno));
      unmapped.error_code = e.error_code;
      break;
    case 'fork':
      activity = ACTIVITY.launch;
      self.created_time = msOf(e.time);
      Object.assign(extra, {launch_type_id: LAUNCH.fork, launch_type: 'Fork'}, status(false));
      unmapped.parent_tid = e.parent_tid;
      break;
    case 'exit':
      activity = ACTIVITY.terminate;
      // An exit is the process's own doing: the actor is the process itself.
      actor.process = {...self};
      self.terminated_time = msOf(e.time);
      extra.exit_code = e.exit_code;
      Object.assign(unmapped, {signal: e.signal, core_dumped: e.core_dumped, running_time_ns: e.running_time_ns});
      break;
  }
  return {
    ...prune({
      class_uid: 1007, class_name: 'Process Activity', category_uid: 1, category_name: 'System Activity',
      activity_id: activity, activity_name: ACTIVITY_NAME[activity], type_uid: 1007 * 100 + activity,
      type_name: `Process Activity: ${ACTIVITY_NAME[activity]}`,
      ...common, ...extra, actor, process: self,
    }),
    unmapped,
  };
}

/** OCSF's Base Event (class 0, uncategorized) with activity Other: for what no class describes. */
function base(activity: number, name: string): Record<string, unknown> {
  return {
    class_uid: 0, class_name: 'Base Event', category_uid: 0, category_name: 'Uncategorized',
    activity_id: activity, activity_name: name, type_uid: activity, type_name: `Base Event: ${name}`,
  };
}

function status(failed: boolean | null, errno?: string): Record<string, unknown> {
  if (failed === null) return {status_id: 0, status: 'Unknown'};
  return failed ? prune({status_id: 2, status: 'Failure', status_code: errno, status_detail: errno}) : {status_id: 1, status: 'Success'};
}

/** The OCSF process object of the event's task. */
function processObject(e: Exclude<TraceEvent, {type: 'lost'}>, ev: Record<string, unknown>): Record<string, unknown> {
  const argv = Array.isArray(ev.argv) ? (ev.argv as unknown[]) : null;
  const filename = e.type !== 'syscall' && ev.filename !== undefined && ev.filename !== null ? displayText(ev.filename) : undefined;
  const file = filename !== undefined
    ? prune({
      path: filename, name: filename.slice(filename.lastIndexOf('/') + 1), type_id: 1, type: 'Regular File',
      hashes: typeof ev.sha256 === 'string' ? [{algorithm_id: 3, algorithm: 'SHA-256', value: ev.sha256}] : undefined,
    })
    : undefined;
  return prune({
    pid: e.pid, tid: e.tid, uid: str(ev.exec_id), name: e.comm,
    cmd_line: argv ? commandLine(argv as never) : undefined,
    file, user: {uid: String(e.uid)},
  });
}

/** msOf gives the milliseconds since the epoch of an RFC 3339 UTC time with up to nanoseconds (an integer, as OCSF's timestamp_t). */
export function msOf(time: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(time);
  if (!m) return Date.parse(time);
  return Date.parse(m[1] + 'Z') + Number((m[2] ?? '').padEnd(3, '0').slice(0, 3));
}

function shallow(o: Record<string, unknown>): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) r[k] = v;
  return r;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
