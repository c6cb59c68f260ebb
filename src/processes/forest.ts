// `exectrace tree`: the process forest of a trace file, built from the process table
// (model.ts) after one pass over the file, then cut down to what was asked: one process's
// ancestry and subtree (--pid, --exec-id), the processes of a name, a user or a time window
// with their ancestors, or everything that did something during the recording.
//
// Which processes are shown. A selection — the subtrees of the processes named by --pid
// or --exec-id, narrowed by --comm, --uid, --since and --until, or all processes when none
// of --pid/--exec-id is given — plus the ancestors of every selected process, so that each
// one is shown where it was launched from (an ancestor shown only for that is `context`).
// Without --pid/--exec-id, a process that was alive at start and did nothing during the
// recording, nor any of its descendants, is left out and counted (`idle`; `all` keeps it):
// a system-wide snapshot holds hundreds of such processes (kernel threads, daemons), and
// they would drown the few that the recording is about.
//
// Memory: every process of the file is kept until the end, since the forest is printed
// whole; this is the output's size, unlike decode --ancestors and --tree, whose table keeps
// only the processes alive at a time and their ancestors.

import {forEachEvent, shellQuote} from '../decode';
import {Decoder, decodeMeta} from '../decode/events';
import type {Text} from '../decode/text';
import {type Problem, TraceReader} from '../format';
import {parseTimeBound, recordingEnd, type Span} from '../filter/time';
import {UsageError} from '../util/errors';
import {recordedUsers, resolveUid} from '../util/users';
import {WallClock, type Zone} from '../util/time';
import {type Exit, type FailedExec, type Image, type ImageOrigin, keyOf, type Process, type ProcessOrigin} from './model';

type U64 = number | bigint;

/** ProcessTreeOptions says which processes processTree() shows (all that are given must hold). */
export interface ProcessTreeOptions {
  /** The processes that had these pids, their ancestors and their subtrees (every process a reused pid named). */
  pid?: number[];
  /** The processes these exec ids name (pid and start: any image of a process's chain), their ancestors and subtrees. */
  execId?: string[];
  /** Only processes that ran under one of these comms (any image), with their ancestors. */
  comm?: string[];
  /** Only processes of these real uids (any image; numbers, or user names from this machine's /etc/passwd). */
  uid?: (number | string)[];
  /** Only processes alive at some time in [since, until): forms as decode's --since/--until. */
  since?: string;
  until?: string;
  /** Keep the processes alive at start that did nothing during the recording (left out by default). */
  all?: boolean;
  /** The zone a time of day given to since/until is in (default local, as decode). */
  zone?: Zone;
  /** Called for each problem (damage) as the pass finds it. */
  onProblem?: (p: Problem) => void;
}

/** ProcessImage is one image of a process as processTree() gives it (model.ts's Image, with its time). */
export interface ProcessImage {
  exec_id: string | null;
  how: ImageOrigin;
  /** RFC 3339 UTC of the exec or fork that began it; null when unknown. */
  time: string | null;
  ts_ns: U64 | null;
  comm: string;
  filename: Text | null;
  argv: Text[] | null;
  uid: number | null;
  euid: number | null;
  interp?: Text;
  truncated?: boolean;
  flags?: string[];
  thread?: number;
}

/** ProcessFailedExec is an exec the process tried that failed. */
export interface ProcessFailedExec extends Omit<FailedExec, 'ts_ns'> {
  time: string;
  ts_ns: U64;
}

/** ProcessExit is a process's end as its exit event said. */
export interface ProcessExit extends Omit<Exit, 'ts_ns'> {
  time: string;
  ts_ns: U64;
}

/** ProcessNode is one process of the forest, with its children (oldest first). */
export interface ProcessNode {
  pid: number;
  /** The parent's pid when it was forked (null: unknown, the process is a placeholder). */
  ppid: number | null;
  /** The image it ran last. */
  exec_id: string | null;
  /** The image of the parent that forked it. */
  parent_exec_id: string | null;
  comm: string;
  /** Its real uid, last known. */
  uid: number | null;
  /** When it was forked (RFC 3339 UTC; boot clock ns): null when the file does not say. */
  start_time: string | null;
  start_ns: U64 | null;
  /** `snapshot`: alive at start; `fork`: its fork is in the file; `unseen`: neither, known from later events. */
  origin: ProcessOrigin;
  /** From its first image to its last. */
  images: ProcessImage[];
  /** Images left out of the list (a process that exec'd more than model.ts's MAX_IMAGES times). */
  images_omitted: number;
  failed_execs: ProcessFailedExec[];
  failed_omitted: number;
  exit: ProcessExit | null;
  /**
   * `exited`, `killed` (by a signal), `running` at the end of the recording, or `unknown`:
   * its end is not in the file (a later process took its pid; or the file is a filtered one,
   * which holds only the exits its filter kept).
   */
  status: 'exited' | 'killed' | 'running' | 'unknown';
  /** A later event named another parent: its parent ended first. */
  reparented: {ppid: number; time: string; ts_ns: U64} | null;
  /** Shown as the ancestor of a selected process, not selected itself. */
  context: boolean;
  /** Its ancestry was cut here (a chain deeper than model.ts's MAX_DEPTH). */
  ancestry_cut?: true;
  children: ProcessNode[];
}

/** ProcessForest is what processTree() gives, and what `tree --json` prints. */
export interface ProcessForest {
  file: string;
  /** The processes shown, by their roots. */
  roots: ProcessNode[];
  /** The selection as `tree` flags (`--comm curl --since 10:42`), '' for none. */
  selection: string;
  /** Processes selected (ancestors shown only for context not counted). */
  matched: number;
  /** Processes alive at start left out because nothing happened to them or below them (options.all shows them). */
  idle: number;
  /** The pids given to `pid` that named several processes (pid reuse), each process by its start and last image: all are shown. */
  reused: {pid: number; processes: {start_time: string | null; start_ns: U64 | null; exec_id: string | null}[]}[];
  /** Whether the file's events carry exec ids (else processes are told apart by pid and fork order). */
  ids: boolean;
  /** The recording's start and end (the trailer's, else the last event's), RFC 3339 UTC and boot clock. */
  recording: {start_time: string; start_ns: U64; end_time: string | null; end_ns: U64 | null};
  /** The clock pair that turns a boot-clock ns into wall time (formatTree's times). */
  clock: {boot_ns: U64; realtime_ns: U64};
  /** The file ended cleanly (it has its trailer). */
  complete: boolean;
  /** Damage found by the pass (one line each); the intact chunks were read. */
  problems: string[];
  /**
   * The recording host's names of the uids shown (from the file's `users`,
   * formats/trace-format.md §10.17); null in a file recorded without them.
   */
  users: Record<string, string> | null;
}

const EXEC_ID = /^[0-9a-f]{16}:\d{1,10}:\d{1,20}:\d{1,20}$/;

/**
 * processTree reads a trace file once and gives its process forest, cut down as `o` says
 * (see the top of src/processes/forest.ts). Throws a one-line UsageError for an option it
 * cannot read, and for a pid or exec id no process of the file had; a one-line Error for a
 * file it cannot read at all. Damage is reported through onProblem and `problems`.
 */
export function processTree(path: string, o: ProcessTreeOptions = {}): ProcessForest {
  const problems: Problem[] = [];
  const onProblem = (p: Problem): void => {
    problems.push(p);
    o.onProblem?.(p);
  };
  const reader = TraceReader.open(path, {reuseBuffers: true, onProblem});
  try {
    const decoder = new Decoder(decodeMeta(reader.meta));
    for (const id of o.execId ?? []) {
      if (!EXEC_ID.test(id)) throw new UsageError(`--exec-id: ${JSON.stringify(id)} is not an exec id (<boot>:<pid>:<start_ns>:<exec_seq>, as decode --json shows it)`);
    }
    // A name is the recording host's when the file has its users, else this machine's.
    const users = recordedUsers(reader.meta);
    const byName = new Map(Object.entries(users ?? {}).map(([uid, name]) => [name, Number(uid)]));
    const uids = new Set((o.uid ?? []).map((u) => (typeof u === 'number' ? u : byName.get(u) ?? resolveUid(u))));
    const window = timeWindow(path, reader.meta, o);
    // Nothing is printed from the events themselves: no time strings.
    decoder.times = false;
    const table = decoder.trackProcesses();
    const all: Process[] = [...table.snapshot];
    table.listen((p) => all.push(p));
    let last: U64 | null = null;
    const seen = (ts: unknown) => {
      if ((typeof ts === 'number' || typeof ts === 'bigint') && (last === null || ts > last)) last = ts;
    };
    // A process seen only through its calls is in the forest too; its calls need no object.
    decoder.direct = {
      syscall(p) {
        table.sight(p.pid, p.ctx, p.comm);
        seen(p.ts_ns);
        return true;
      },
    };
    try {
      // Frame damage (a chunk cut short) is found here, past the reader's own checks.
      forEachEvent({reader, decoder, onProblem}, {processes: false}, (e) => {
        if (e.type !== 'lost') seen(e.ts_ns);
      });
    } finally {
      decoder.direct = null;
    }

    // A file recorded before the ids existed has a boot id but no ids in its records.
    const ids = all.some((p) => p.key !== null);
    const clockStart = (reader.meta as {clock: {start: {boot_ns: U64; realtime_ns: U64}}}).clock.start;
    const trailerEnd = (reader.trailer as {clock_end?: {boot_ns?: U64}} | null)?.clock_end?.boot_ns;
    const end: U64 | null = typeof trailerEnd === 'number' || typeof trailerEnd === 'bigint' ? trailerEnd : last;
    const clock = new WallClock(clockStart);

    const kids = new Map<Process, Process[]>();
    for (const p of all) {
      if (p.parent === null) continue;
      const list = kids.get(p.parent);
      if (list) list.push(p);
      else kids.set(p.parent, [p]);
    }
    const subtree = (roots: Process[]): Set<Process> => {
      const out = new Set<Process>();
      const todo = [...roots];
      while (todo.length) {
        const p = todo.pop() as Process;
        if (out.has(p)) continue;
        out.add(p);
        for (const c of kids.get(p) ?? []) todo.push(c);
      }
      return out;
    };

    // The processes asked for by identity, each pid and id checked against the file.
    const reused: ProcessForest['reused'] = [];
    let asked: Process[] | null = null;
    if (o.pid?.length || o.execId?.length) {
      asked = [];
      for (const pid of o.pid ?? []) {
        const found = all.filter((p) => p.pid === pid);
        if (!found.length) throw new UsageError(`--pid ${pid}: no process of ${path} had this pid`);
        if (found.length > 1) {
          reused.push({pid, processes: found.map((p) => ({start_time: p.start_ns === null ? null : clock.rfc3339(p.start_ns), start_ns: p.start_ns, exec_id: p.image?.exec_id ?? null}))});
        }
        asked.push(...found);
      }
      for (const id of o.execId ?? []) {
        if (!ids) throw new UsageError(`--exec-id: ${path} has no exec ids (it was recorded before they existed): give --pid`);
        // The process the id names: its pid and start, whichever of its images (as --tree-exec-id).
        const key = keyOf(id);
        const found = all.filter((p) => p.key === key);
        if (!found.length) throw new UsageError(`--exec-id ${id}: no process of ${path} has this pid and start`);
        asked.push(...found);
      }
    }

    const comms = new Set(o.comm ?? []);
    const holds = (p: Process): boolean => {
      if (comms.size && !p.images.some((i) => comms.has(i.comm))) return false;
      if (uids.size && !p.images.some((i) => i.uid !== null && uids.has(i.uid))) return false;
      if (window) {
        const from = p.start_ns;
        const to = p.exit?.ts_ns ?? null;
        if (window.until !== undefined && from !== null && from >= window.until) return false;
        if (window.since !== undefined && to !== null && to < window.since) return false;
      }
      return true;
    };
    let selected = [...(asked ? subtree(asked) : all)].filter(holds);
    let idle = 0;
    if (!asked && !o.all) {
      const busy = activeBelow(all);
      const before = selected.length;
      selected = selected.filter((p) => busy.has(p));
      idle = before - selected.length;
    }
    const chosen = new Set(selected);
    const shown = new Set(selected);
    for (const p of selected) for (let a = p.parent; a !== null && !shown.has(a); a = a.parent) shown.add(a);

    // A filtered file (filter -o) holds the exits it kept only: one it lacks says nothing of the end.
    const filtered = typeof reader.meta.filter === 'object' && reader.meta.filter !== null;
    const node = (p: Process): ProcessNode => toNode(p, clock, !chosen.has(p), filtered);
    const build = (root: Process): ProcessNode => {
      // Depth first, without recursion: a chain may be MAX_DEPTH deep.
      const top = node(root);
      const todo: [Process, ProcessNode][] = [[root, top]];
      while (todo.length) {
        const [p, n] = todo.pop() as [Process, ProcessNode];
        for (const c of kids.get(p) ?? []) {
          if (!shown.has(c)) continue;
          const cn = node(c);
          n.children.push(cn);
          todo.push([c, cn]);
        }
      }
      return top;
    };
    const roots = all.filter((p) => shown.has(p) && (p.parent === null || !shown.has(p.parent))).map(build);
    return {
      file: path, roots, selection: selectionText(o), matched: selected.length, idle, reused, ids,
      recording: {
        start_time: clock.rfc3339(clockStart.boot_ns), start_ns: clockStart.boot_ns,
        end_time: end === null ? null : clock.rfc3339(end), end_ns: end,
      },
      clock: {boot_ns: clockStart.boot_ns, realtime_ns: clockStart.realtime_ns},
      complete: reader.complete, problems: problems.map((p) => p.message), users: usersOf(roots, users),
    };
  } finally {
    reader.close();
  }
}

/** The names of the uids the shown processes ran as (the file's map can hold a whole passwd). */
function usersOf(roots: ProcessNode[], users: Record<string, string> | null): Record<string, string> | null {
  if (users === null) return null;
  const out: Record<string, string> = {};
  const todo = [...roots];
  while (todo.length) {
    const n = todo.pop() as ProcessNode;
    for (const i of n.images) if (i.uid !== null && users[String(i.uid)] !== undefined) out[String(i.uid)] = users[String(i.uid)];
    todo.push(...n.children);
  }
  return out;
}

/** The options as the flags of `tree` that give them. */
function selectionText(o: ProcessTreeOptions): string {
  const parts: string[] = [];
  const add = (flag: string, vals: unknown) => {
    for (const v of Array.isArray(vals) ? vals : vals === undefined ? [] : [vals]) parts.push(`--${flag} ${shellQuote(String(v))}`);
  };
  add('pid', o.pid);
  add('exec-id', o.execId);
  add('comm', o.comm);
  add('uid', o.uid);
  add('since', o.since);
  add('until', o.until);
  if (o.all) parts.push('--all');
  return parts.join(' ');
}

/** The processes that did something during the recording, or have a descendant that did. */
function activeBelow(all: Process[]): Set<Process> {
  const busy = new Set<Process>();
  for (const p of all) {
    if (!p.active) continue;
    for (let a: Process | null = p; a !== null && !busy.has(a); a = a.parent) busy.add(a);
  }
  return busy;
}

/** --since/--until on the boot clock, read as decode reads them. */
function timeWindow(path: string, meta: Record<string, unknown>, o: ProcessTreeOptions): {since?: U64; until?: U64} | null {
  if (o.since === undefined && o.until === undefined) return null;
  const start = (meta as {clock?: {start?: {boot_ns: U64; realtime_ns: U64}}}).clock?.start;
  if (!start) throw new UsageError('--since/--until: the file has no clock to place times on');
  const span: Span = {startBootNs: BigInt(start.boot_ns), startRealNs: BigInt(start.realtime_ns), endBootNs: recordingEnd(path)};
  const out: {since?: U64; until?: U64} = {};
  if (o.since !== undefined) out.since = parseTimeBound(o.since, 'since', span, o.zone ?? 'local').bootNs;
  if (o.until !== undefined) out.until = parseTimeBound(o.until, 'until', span, o.zone ?? 'local').bootNs;
  if (out.since !== undefined && out.until !== undefined && out.since > out.until) {
    throw new UsageError(`--since ${o.since} is after --until ${o.until}`);
  }
  return out;
}

function toNode(p: Process, clock: WallClock, context: boolean, filtered: boolean): ProcessNode {
  const time = (ts: U64 | null): string | null => (ts === null ? null : clock.rfc3339(ts));
  const last = p.image;
  const status: ProcessNode['status'] = p.exit ? (p.exit.signal !== null ? 'killed' : 'exited') : p.ended || filtered ? 'unknown' : 'running';
  const n: ProcessNode = {
    pid: p.pid, ppid: p.ppid, exec_id: last?.exec_id ?? null, parent_exec_id: p.parentImage?.exec_id ?? null,
    comm: p.comm, uid: lastUid(p.images), start_time: time(p.start_ns), start_ns: p.start_ns, origin: p.origin,
    images: p.images.map((i) => imageNode(i, time)), images_omitted: p.imagesOmitted,
    failed_execs: p.failed.map((f) => ({...f, time: time(f.ts_ns) as string})), failed_omitted: p.failedOmitted,
    exit: p.exit ? {...p.exit, time: time(p.exit.ts_ns) as string} : null, status,
    reparented: p.reparented ? {ppid: p.reparented.ppid, time: time(p.reparented.ts_ns) as string, ts_ns: p.reparented.ts_ns} : null,
    context, children: [],
  };
  if (p.cut) n.ancestry_cut = true;
  return n;
}

function imageNode(i: Image, time: (ts: U64 | null) => string | null): ProcessImage {
  const n: ProcessImage = {exec_id: i.exec_id, how: i.how, time: time(i.ts_ns), ts_ns: i.ts_ns, comm: i.comm, filename: i.filename, argv: i.argv, uid: i.uid, euid: i.euid};
  if (i.interp !== undefined) n.interp = i.interp;
  if (i.truncated) n.truncated = true;
  if (i.flags) n.flags = i.flags;
  if (i.thread !== undefined) n.thread = i.thread;
  return n;
}

function lastUid(images: readonly Image[]): number | null {
  for (let k = images.length - 1; k >= 0; k--) if (images[k].uid !== null) return images[k].uid;
  return null;
}
