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
//   processes    the distinct processes with an exec, exec_failed or exit in the group, as
//                the process table (src/processes/model.ts) tells processes apart: a pid
//                and a start (exec_id without its exec count), so a pid reused by another
//                process counts twice; in files without exec_id, a fork starts a new one
// Forks, syscalls, lost markers and the processes alive at start place nothing in a group
// (a fork names no image: its child's exec or exit does). The parent key is the image the
// process's parent ran when it forked the process (the table's parentImage): who launched
// it, not the process it was reparented to when that parent died first — the same parent
// `exectrace tree` and `decode --ancestors` show.
//
// Memory: per group, four numbers (the groups are the answer, so they are kept); per process
// the table knows, the list of groups it was counted in, in a WeakMap beside it: the table
// lets exited processes go, and their lists with them. So memory follows the processes
// alive at one time, not the file's length nor the processes it ever saw.

import {forEachEvent, type OpenedTrace} from '../decode';
import type {TraceEvent} from '../decode/events';
import {displayText, type Text} from '../decode/text';
import type {Process, ProcessTable} from '../processes';

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

/** GroupOptions say where to find a user's name: the recording host's map, else this machine's. */
export interface GroupOptions {
  /** uid (decimal string) → name. */
  users?: Record<string, string>;
}

function textOrNull(v: unknown): Text | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as {base64?: unknown}).base64 === 'string') return v as Text;
  return null;
}

/**
 * GroupCollector counts events per group of `by` (one key, or several: a group per
 * combination, as `sort | uniq -c` of several columns). add() the exec, exec_failed and exit
 * events that matched the filters, in stream order, each after `table` (the decoder's
 * process table, Decoder.trackProcesses) has seen it; other events are ignored. Not
 * thread-safe; one pass.
 */
export class GroupCollector {
  private readonly groups = new Map<string, GroupRow>();
  /** Per process: the composite keys of the groups it was counted in. */
  private readonly counted = new WeakMap<Process, string[]>();
  private readonly total: GroupCounts = {execs: 0, exec_failed: 0, nonzero_exits: 0, processes: 0};
  private readonly users: Map<number, string>;

  constructor(readonly by: GroupKey[], private readonly table: ProcessTable, o: GroupOptions = {}) {
    this.users = new Map(Object.entries(o.users ?? {}).map(([k, v]) => [Number(k), String(v)]));
  }

  private value(k: GroupKey, e: TraceEvent, p: Process | null): GroupValue {
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
        return p?.parentImage?.filename ?? null;
      case 'cgroup': {
        if (typeof e.cgroup === 'string') return e.cgroup;
        const id = e.cgroup_id;
        return typeof id === 'number' ? id : typeof id === 'bigint' ? Number(id) : null;
      }
      case 'container':
        return typeof e.container_id === 'string' ? e.container_id : null;
    }
  }

  /** An event that matched the filters: counted when it is an exec, exec_failed or exit. */
  add(e: TraceEvent): void {
    let n: keyof GroupCounts | null;
    if (e.type === 'exec') n = 'execs';
    else if (e.type === 'exec_failed') n = 'exec_failed';
    else if (e.type === 'exit') n = e.exit_code !== 0 || (e.signal !== null && e.signal !== undefined) ? 'nonzero_exits' : null;
    else return;
    const p = this.table.processOf(e);
    // One key (the common case) needs no array and no JSON to name its group.
    const one = this.by.length === 1 ? this.value(this.by[0], e, p) : undefined;
    const values = one === undefined ? this.by.map((k) => this.value(k, e, p)) : null;
    const key = values === null ? keyText(one as GroupValue) : JSON.stringify(values);
    let g = this.groups.get(key);
    if (g === undefined) {
      // The values first: JSON shows a row as {"exe": …, "execs": …}.
      const row: Partial<GroupRow> = {};
      if (values === null) row[this.by[0]] = one;
      else this.by.forEach((k, i) => (row[k] = values[i]));
      g = Object.assign(row, {execs: 0, exec_failed: 0, nonzero_exits: 0, processes: 0});
      this.groups.set(key, g);
    }
    if (n !== null) {
      g[n]++;
      this.total[n]++;
    }
    // The table places every event of these three types; one it did not would count each time.
    let seen = p ? this.counted.get(p) : undefined;
    if (seen === undefined) {
      seen = [];
      if (p) this.counted.set(p, seen);
      this.total.processes++;
    }
    if (!seen.includes(key)) {
      seen.push(key);
      g.processes++;
    }
  }

  /** The groups, most active first, `top` of them (all when top is undefined). */
  report(top?: number): Pick<GroupReport, 'by' | 'groups' | 'more' | 'total'> {
    const rows = [...this.groups.values()].sort(byActivity(this.by));
    const shown = top === undefined ? rows : rows.slice(0, top);
    return {by: [...this.by], groups: shown, more: rows.length - shown.length, total: {...this.total}};
  }
}

/** A value as a Map key that no other value has: its type first. */
function keyText(v: GroupValue): string {
  if (typeof v === 'string') return `s${v}`;
  if (typeof v === 'number') return `n${v}`;
  return v === null ? '-' : `b${v.base64}`;
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
 * collectGroups runs one pass of the trace into a new GroupCollector of `by`: every event,
 * the processes alive at start first, tested by `test` (null: no filter; then syscall events
 * are not even built), the decoder keeping its process table. Returns the collector and how
 * many events matched (lost markers left out), for the filters' "no event matched".
 */
export function collectGroups(t: OpenedTrace, test: ((e: TraceEvent) => boolean) | null, by: GroupKey[], o: GroupOptions = {}):
  {groups: GroupCollector; matched: number} {
  const g = new GroupCollector(by, t.decoder.trackProcesses(), o);
  let matched = 0;
  t.decoder.direct = test ? null : SKIP_SYSCALLS;
  try {
    forEachEvent(t, {processes: true}, (e) => {
      if (test && !test(e)) return;
      if (e.type !== 'lost') matched++;
      g.add(e);
    });
  } finally {
    t.decoder.direct = null;
  }
  return {groups: g, matched};
}
