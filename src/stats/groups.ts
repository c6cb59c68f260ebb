// stats --by: the `sort | uniq -c` questions of a trace — per executable, command name,
// user, parent program, cgroup or container, how many execs, failed execs, non-zero exits
// and distinct processes. One pass, streaming.
//
// What each event counts for, and where:
//   exec         execs += 1, in the group of the new image (exe: its filename)
//   exec_failed  exec_failed += 1, in the group of the caller (its comm, uid, cgroup, parent)
//                but, for exe, of the file it tried to run: the exe column is about
//                executables, so /nonexistent/tool is a row with a failed exec and no exec
//   exit         nonzero_exits += 1 when exit_code != 0 or a signal killed it, in the group
//                of the process as it ended (exe: the last image it ran)
//   processes    the distinct processes with an exec, exec_failed or exit in the group: a
//                process is its pid and start (exec_id without its exec count), so a pid
//                reused by another process counts twice; files without exec_id fall back
//                to the pid, and a fork or an exit ends its process there too
// Forks, syscalls, lost markers and the processes alive at start place nothing in a group
// (a fork names no image: its child's exec or exit does).
//
// Memory: per group, four numbers (the groups are the answer, so they are kept); per live
// process, one small entry (the groups it was counted in, its current image, its parent's),
// dropped at its exit or when its pid shows up as a new process. So memory follows the
// processes alive at one time, not the file's length nor the processes it ever saw.

import {forEachEvent, type OpenedTrace} from '../decode';
import type {TraceEvent} from '../decode/events';
import {displayText, type Text} from '../decode/text';

/** GROUP_KEYS lists what stats --by can group by. */
export const GROUP_KEYS = ['exe', 'comm', 'uid', 'user', 'parent', 'cgroup', 'container'] as const;

/** GroupKey is one of GROUP_KEYS. */
export type GroupKey = (typeof GROUP_KEYS)[number];

/**
 * GroupValue is a group's value for one key: a filename (exe, parent: text, or its bytes when
 * not UTF-8), a comm, a user name, a container id or cgroup path (strings), a uid or a cgroup
 * id (numbers), or null where the trace does not say (shown as `-`).
 */
export type GroupValue = Text | number | null;

/** GroupCounts are what is counted per group, and over all of them. */
export interface GroupCounts {
  /** exec events. */
  execs: number;
  /** exec_failed events. */
  exec_failed: number;
  /** exit events with exit_code != 0 or a signal. */
  nonzero_exits: number;
  /** Distinct processes with an exec, exec_failed or exit in the group (over all: in any group). */
  processes: number;
}

/** GroupRow is one group: its value for each key it is grouped by (`exe`, `uid`, …), and its counts. */
export type GroupRow = GroupCounts & {[K in GroupKey]?: GroupValue};

/** GroupReport is what `stats --by KEY --json` prints (beside the file and its problems). */
export interface GroupReport {
  by: GroupKey[];
  /** The most active groups first (execs, then failed execs, non-zero exits, processes), at most `top`. */
  groups: GroupRow[];
  /** Groups beyond `top`, not listed. */
  more: number;
  /** Over every group: the sums, and the distinct processes counted in any. */
  total: GroupCounts;
  /** With `user`: where the names come from — the recording host's (the file's `users`), or this machine's /etc/passwd. */
  user_names?: 'recording' | 'local';
  complete: boolean;
  filter?: string | null;
}

/** A live process as the collector knows it (see the opening comment). */
interface Proc {
  /** The process's start (exec_id's second number), '' when the file has no exec_id. */
  start: string;
  /** Composite keys of the groups it was counted in, and whether it was counted in the total. */
  groups: string[];
  counted: boolean;
  /** Its current image (exec_id and filename), for the children that name it as their parent. */
  imageId: string | null;
  image: Text | null;
  /** Its parent's image as last resolved: parent_exec_id and filename. */
  parentId: string | null;
  parent: Text | null;
}

/** Where to find a user's name: the recording host's map, else this machine's. */
export interface GroupOptions {
  /** uid (decimal string) → name. */
  users?: Record<string, string>;
}

const NO_TEXT = null;

/** `<boot>:<pid>:<start>:<seq>` → `[pid, start]`, or null for a missing or malformed id. */
function idParts(id: unknown): [number, string] | null {
  if (typeof id !== 'string') return null;
  const a = id.indexOf(':');
  const b = id.indexOf(':', a + 1);
  const c = id.indexOf(':', b + 1);
  if (a < 0 || b < 0 || c < 0) return null;
  return [Number(id.slice(a + 1, b)), id.slice(b + 1, c)];
}

function textOrNull(v: unknown): Text | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as {base64?: unknown}).base64 === 'string') return v as Text;
  return NO_TEXT;
}

/**
 * GroupCollector counts events per group of `by` (one key, or several: a group per
 * combination, as `sort | uniq -c` of several columns). see() every event in stream order,
 * the processes alive at start first, saying whether it matched the filters: only matching
 * events are counted, but every one keeps the process table right. Not thread-safe; one pass.
 */
export class GroupCollector {
  private readonly groups = new Map<string, GroupRow>();
  private readonly procs = new Map<number, Proc>();
  private readonly total: GroupCounts = {execs: 0, exec_failed: 0, nonzero_exits: 0, processes: 0};
  private readonly users: Map<number, string>;

  constructor(readonly by: GroupKey[], o: GroupOptions = {}) {
    this.users = new Map(Object.entries(o.users ?? {}).map(([k, v]) => [Number(k), String(v)]));
  }

  /** Every event, in stream order; `matched`: it passed the filters, so it counts. */
  see(e: TraceEvent, matched: boolean): void {
    switch (e.type) {
      case 'process':
      case 'exec':
      case 'fork':
        this.track(e);
        break;
      case 'exec_failed':
      case 'exit':
        break;
      default:
        return;
    }
    if (matched && e.type !== 'process' && e.type !== 'fork') this.count(e);
    if (e.type === 'exit') {
      // Its last event: the pid is free for another process from now on.
      const p = this.procs.get(e.pid as number);
      if (p && p.start === startOf(e)) this.procs.delete(e.pid as number);
    }
  }

  /** The process of e (made when first seen, or anew when its pid now names another process). */
  private proc(e: TraceEvent): Proc {
    const pid = e.pid as number;
    const start = startOf(e);
    let p = this.procs.get(pid);
    // A fork is a new process; so is a known pid with another start.
    if (!p || p.start !== start || e.type === 'fork') {
      p = {start, groups: [], counted: false, imageId: null, image: NO_TEXT, parentId: null, parent: NO_TEXT};
      this.procs.set(pid, p);
    }
    return p;
  }

  /** The images processes run: what the parent key names. */
  private track(e: TraceEvent): void {
    const p = this.proc(e);
    if (e.type === 'fork') {
      // The child runs its parent's image until it execs.
      const parent = this.procs.get(e.ppid as number);
      p.imageId = typeof e.exec_id === 'string' ? e.exec_id : null;
      p.image = parent ? parent.image : NO_TEXT;
    } else {
      p.imageId = typeof e.exec_id === 'string' ? e.exec_id : null;
      p.image = textOrNull(e.filename);
    }
    this.parentOf(e, p);
  }

  /**
   * The filename of the image that e's parent ran (parent_exec_id, §10.14): the parent's
   * current image when the id names it, kept with the child so that it outlives the parent.
   * Without exec_ids, the current image of ppid.
   */
  private parentOf(e: TraceEvent, p: Proc): Text | null {
    const id = typeof e.parent_exec_id === 'string' ? e.parent_exec_id : null;
    if (id !== null) {
      if (id === p.parentId) return p.parent;
      const parts = idParts(id);
      const q = parts ? this.procs.get(parts[0]) : undefined;
      p.parentId = id;
      p.parent = q && q.imageId === id ? q.image : NO_TEXT;
      return p.parent;
    }
    if (e.exec_id === undefined || e.exec_id === null) {
      // A file without identities: the parent process as the ppid names it now.
      const q = this.procs.get(e.ppid as number);
      if (q) p.parent = q.image;
    }
    return p.parent;
  }

  private value(k: GroupKey, e: TraceEvent, p: Proc): GroupValue {
    switch (k) {
      case 'exe':
        return textOrNull(e.filename);
      case 'comm':
        return typeof e.comm === 'string' ? e.comm : null;
      case 'uid':
        return typeof e.uid === 'number' ? e.uid : null;
      case 'user': {
        if (typeof e.uid !== 'number') return null;
        return this.users.get(e.uid) ?? String(e.uid);
      }
      case 'parent':
        return this.parentOf(e, p);
      case 'cgroup': {
        if (typeof e.cgroup === 'string') return e.cgroup;
        const id = e.cgroup_id;
        return typeof id === 'number' ? id : typeof id === 'bigint' ? Number(id) : null;
      }
      case 'container':
        return typeof e.container_id === 'string' ? e.container_id : null;
    }
  }

  private count(e: TraceEvent): void {
    const p = this.proc(e);
    const values = this.by.map((k) => this.value(k, e, p));
    const key = JSON.stringify(values);
    let g = this.groups.get(key);
    if (g === undefined) {
      // The values first: JSON shows a row as {"exe": …, "execs": …}.
      const row: Partial<GroupRow> = {};
      this.by.forEach((k, i) => (row[k] = values[i]));
      g = Object.assign(row, {execs: 0, exec_failed: 0, nonzero_exits: 0, processes: 0});
      this.groups.set(key, g);
    }
    let n: keyof GroupCounts | null = null;
    if (e.type === 'exec') n = 'execs';
    else if (e.type === 'exec_failed') n = 'exec_failed';
    else if (e.type === 'exit' && (e.exit_code !== 0 || (e.signal !== null && e.signal !== undefined))) n = 'nonzero_exits';
    if (n !== null) {
      g[n]++;
      this.total[n]++;
    }
    if (!p.groups.includes(key)) {
      p.groups.push(key);
      g.processes++;
    }
    if (!p.counted) {
      p.counted = true;
      this.total.processes++;
    }
  }

  /** The groups, most active first, `top` of them (all when top is undefined). */
  report(top?: number): Pick<GroupReport, 'by' | 'groups' | 'more' | 'total'> {
    const rows = [...this.groups.values()].sort(byActivity(this.by));
    const shown = top === undefined ? rows : rows.slice(0, top);
    return {by: [...this.by], groups: shown, more: rows.length - shown.length, total: {...this.total}};
  }
}

/** exec_id's start (`<boot>:<pid>:<start>:<seq>`), or '' when the event has none. */
function startOf(e: TraceEvent): string {
  const parts = idParts(e.exec_id);
  return parts ? parts[1] : '';
}

/** The order of rows: execs, failed execs, non-zero exits, processes (most first), then the values. */
function byActivity(by: GroupKey[]): (a: GroupRow, b: GroupRow) => number {
  return (a, b) => b.execs - a.execs || b.exec_failed - a.exec_failed || b.nonzero_exits - a.nonzero_exits ||
    b.processes - a.processes || compareValues(by, a, b);
}

function compareValues(by: GroupKey[], a: GroupRow, b: GroupRow): number {
  for (const k of by) {
    const x = a[k] ?? null;
    const y = b[k] ?? null;
    if (typeof x === 'number' && typeof y === 'number') {
      if (x !== y) return x - y;
      continue;
    }
    const s = cell(x);
    const t = cell(y);
    if (s !== t) return s < t ? -1 : 1;
  }
  return 0;
}

/** A value as the table shows it: `-` for null. */
function cell(v: GroupValue | undefined): string {
  return v === null || v === undefined ? '-' : typeof v === 'number' ? String(v) : displayText(v);
}

const HEAD: Record<GroupKey, string> = {
  exe: 'EXE', comm: 'COMM', uid: 'UID', user: 'USER', parent: 'PARENT', cgroup: 'CGROUP', container: 'CONTAINER',
};

/**
 * formatGroups returns the table of a GroupReport for people: the counts, then the values
 * of the keys (the last one unpadded: filenames and paths vary in width), a total line, and
 * a line saying how many groups --top left out, if any.
 */
export function formatGroups(r: Pick<GroupReport, 'by' | 'groups' | 'more' | 'total'>): string {
  const num = (v: number | string, w: number) => String(v).padStart(w);
  const counts = (c: GroupCounts | {execs: string; exec_failed: string; nonzero_exits: string; processes: string}) =>
    `${num(c.execs, 8)}${num(c.exec_failed, 8)}${num(c.nonzero_exits, 9)}${num(c.processes, 11)}`;
  const widths = r.by.map((k) => Math.min(48, Math.max(HEAD[k].length, ...r.groups.map((g) => cell(g[k]).length))));
  const values = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  const out = [`${counts({execs: 'EXECS', exec_failed: 'FAILED', nonzero_exits: 'NONZERO', processes: 'PROCESSES'})}  ${values(r.by.map((k) => HEAD[k]))}`];
  for (const g of r.groups) out.push(`${counts(g)}  ${values(r.by.map((k) => cell(g[k])))}`);
  const n = r.groups.length + r.more;
  out.push(`${counts(r.total)}  total (${n} group${n === 1 ? '' : 's'})`);
  if (r.more) out.push(`(${r.more} more group${r.more === 1 ? '' : 's'} not shown: --top ${n} shows every one)`);
  return out.join('\n');
}

/** A syscall sink that takes every call without building it: syscalls place nothing in a group. */
const SKIP_SYSCALLS = {syscall: (): boolean => true};

/**
 * collectGroups runs one pass of the trace into g: every event, the processes alive at start
 * first, tested by `test` (null: no filter; then syscall events are not even built). Returns
 * how many events matched (lost markers left out), for the filters' "no event matched".
 */
export function collectGroups(t: OpenedTrace, test: ((e: TraceEvent) => boolean) | null, g: GroupCollector): number {
  let matched = 0;
  t.decoder.direct = test ? null : SKIP_SYSCALLS;
  try {
    forEachEvent(t, {processes: true}, (e) => {
      const ok = test ? test(e) : true;
      if (ok && e.type !== 'lost') matched++;
      g.see(e, ok);
    });
  } finally {
    t.decoder.direct = null;
  }
  return matched;
}
