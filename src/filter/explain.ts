// When a filter keeps no event, say so, and say why where the file can tell: a --pid no
// event has, a --syscall in a file without syscall records, a --since past the recording's
// end. Empty output with status 0 and no word reads like "nothing happened", which is a
// different finding. Run only after a pass kept nothing: it reads the file once more, so
// a filter that matches costs nothing for it.

import {forEachEvent, openTrace} from '../decode';
import type {TraceEvent} from '../decode/events';
import type {SyscallParts} from '../decode/syscalls';
import {shellQuote} from '../decode/human';
import {wallSecond, zoneName, type WallClock, type Zone} from '../util/time';
import type {EventFilter} from './compile';

/** What a file holds, as far as the filter flags can ask. */
export interface FileSummary {
  events: number;
  pids: Set<number>;
  /** The processes by identity (`<boot>:<pid>:<start>`, the exec_id without its exec_seq). */
  keys: Set<string>;
  uids: Set<number>;
  comms: Set<string>;
  types: Set<string>;
  syscalls: Set<string>;
  /** Syscalls recorded only to follow descriptors (formats/trace-format.md §10.11): not shown unless asked. */
  implicit: Set<string>;
  first: number | bigint | null;
  last: number | bigint | null;
  clock: WallClock;
}

/** One pass over `path` (problems were reported by the pass that came first). */
export function summarize(path: string, processes: boolean): FileSummary {
  const t = openTrace(path);
  const s: FileSummary = {
    events: 0, pids: new Set(), keys: new Set(), uids: new Set(), comms: new Set(), types: new Set(), syscalls: new Set(),
    implicit: t.decoder.implicitNames(), first: null, last: null, clock: t.decoder.clock,
  };
  const see = (type: string, pid: unknown, uid: unknown, comm: unknown, ts: unknown) => {
    s.events++;
    s.types.add(type);
    if (typeof pid === 'number') s.pids.add(pid);
    if (typeof uid === 'number') s.uids.add(uid);
    if (typeof comm === 'string') s.comms.add(comm);
    // The span is of what happened during the recording: the snapshot is its start.
    if ((typeof ts === 'number' || typeof ts === 'bigint') && type !== 'lost') {
      if (s.first === null || ts < s.first) s.first = ts;
      if (s.last === null || ts > s.last) s.last = ts;
    }
  };
  t.decoder.direct = {
    syscall(p: SyscallParts): boolean {
      see('syscall', p.pid, p.ctx.uid, p.comm, p.ts_ns);
      s.syscalls.add(p.syscall);
      return true;
    },
  };
  try {
    forEachEvent(t, {processes}, (e: TraceEvent) => {
      see(e.type, e.pid, e.uid, e.comm, e.ts_ns);
      if (typeof e.exec_id === 'string') s.keys.add(e.exec_id.slice(0, e.exec_id.lastIndexOf(':')));
      if (e.type === 'syscall' && typeof e.syscall === 'string') s.syscalls.add(e.syscall);
    });
  } finally {
    t.decoder.direct = null;
    t.reader.close();
  }
  return s;
}

const list = (xs: Iterable<unknown>, max = 8): string => {
  const a = [...xs].map(String).sort((x, y) => Number(x) - Number(y) || (x < y ? -1 : x > y ? 1 : 0));
  return a.length > max ? `${a.slice(0, max).join(', ')}, …` : a.join(', ');
};

/** `2026-11-23 18:12:22–18:12:23 UTC` for the events' span, in the zone. */
function spanText(s: FileSummary, zone: Zone): string {
  const a = s.clock.split(s.first as number | bigint)[0];
  const b = s.clock.split(s.last as number | bigint)[0] + 1;
  const from = wallSecond(a, zone);
  const to = wallSecond(b, zone);
  return `${from}–${to.slice(0, 10) === from.slice(0, 10) ? to.slice(11) : to} ${zoneName(a, zone)}`;
}

/**
 * The lines to print when `filter` kept no event of the file: one per flag that alone
 * explains it, else one that names the whole filter.
 */
export function explainEmpty(filter: EventFilter, s: FileSummary, zone: Zone): string[] {
  const spec = filter.spec;
  const why: string[] = [];
  if (s.events === 0) return ['no event matched: the file holds no events'];
  const flag = (name: string, v: unknown) => `--${name} ${shellQuote(String(v))}`;
  if (spec.tree !== undefined && !s.pids.has(spec.tree)) why.push(`${flag('tree', spec.tree)}: no such process in this file`);
  if (spec.tree_exec_id !== undefined && !s.keys.has(spec.tree_exec_id.slice(0, spec.tree_exec_id.lastIndexOf(':')))) {
    why.push(`${flag('tree-exec-id', spec.tree_exec_id)}: no such process in this file`);
  }
  if (spec.pid?.length && !spec.pid.some((p) => s.pids.has(p))) {
    why.push(`${spec.pid.map((p) => flag('pid', p)).join(' ')}: no such process in this file`);
  }
  if (spec.type?.length && !spec.type.some((x) => s.types.has(x))) {
    why.push(`${spec.type.map((x) => flag('type', x)).join(' ')}: this file has no such events (it has ${list(s.types)})`);
  }
  if (spec.syscall?.length && !spec.syscall.some((x) => s.syscalls.has(x))) {
    const what = spec.syscall.map((x) => flag('syscall', x)).join(' ');
    const implicit = spec.syscall.filter((x) => s.implicit.has(x));
    if (implicit.length) why.push(`${what}: recorded only to name descriptors (record --syscall), not shown: --implicit shows ${implicit.join(', ')}`);
    else why.push(s.syscalls.size === 0 ? `${what}: this file has no syscall records` : `${what}: no such call in this file (it has ${list(s.syscalls)})`);
  }
  if (spec.uid?.length && !spec.uid.some((u) => s.uids.has(u))) {
    why.push(`${spec.uid.map((u) => flag('uid', u)).join(' ')}: no event of this user in this file (uids: ${list(s.uids)})`);
  }
  if (spec.comm?.length && !spec.comm.some((c) => s.comms.has(c))) {
    why.push(`${spec.comm.map((c) => flag('comm', c)).join(' ')}: no task of that name in this file`);
  }
  const {since, until} = filter.bounds;
  if (s.first !== null && s.last !== null) {
    const span = spanText(s, zone);
    if (since !== undefined && since > s.last) why.push(`${flag('since', spec.since)}: the recording spans ${span}`);
    else if (until !== undefined && until <= s.first) why.push(`${flag('until', spec.until)}: the recording spans ${span}`);
  }
  if (why.length) return why.map((w) => `no event matched: ${w}`);
  // A --where field no event had (a typo, likely) is warned of already, and is the reason.
  if (filter.warnings().length) return [];
  return [`no event matched ${filter.describe()}`];
}
