// Compiling the filter flags into one test over decoded events (see index.ts).

import {constantNames, constantValue} from '../decode/constants';
import {UsageError} from '../util/errors';
import type {Zone} from '../util/time';
import type {Decoder, SnapshotProcess} from '../decode/events';
import type {SyscallParts} from '../decode/syscalls';
import {shellQuote} from '../decode/human';
import {compileWhere, type CompiledWhere} from './expr';
import {parseTimeBound, recordingEnd, type TimeBound} from './time';
import {ProcessTree} from './tree';


/** What an exec id looks like (formats/trace-format.md §10.14). */
const EXEC_ID = /^[0-9a-f]{16}:\d{1,10}:\d{1,20}:\d{1,20}$/;

/** Event types the --type flag (and `type == ...`) can name. */
export const EVENT_TYPES = ['exec', 'exec_failed', 'fork', 'exit', 'syscall', 'lost', 'process'] as const;

/** The filter flags, as given on the command line. */
export interface FilterSpec {
  pid?: number[];
  comm?: string[];
  type?: string[];
  syscall?: string[];
  uid?: number[];
  since?: string;
  until?: string;
  where?: string[];
  tree?: number;
  /** The process an exec id names (`<boot>:<pid>:<start_ns>:<exec_seq>`) and its descendants. */
  tree_exec_id?: string;
}

/** What compiling a filter needs from the file. */
export interface FilterContext {
  /** The file's path: the time of day is placed using the recording's end, from its trailer. */
  path?: string;
  decoder: Decoder;
  /** The zone clock times given to --since/--until are in: the one human output shows (UTC by default here). */
  zone?: Zone;
  meta: {
    clock?: {start?: {boot_ns: number | bigint; realtime_ns: number | bigint}};
    processes?: SnapshotProcess[];
    syscalls?: unknown;
  };
}

type Test = (e: Record<string, unknown>) => boolean;

/** What --tree and --tree-exec-id ask of each event: whether it belongs (ProcessTree). */
interface Membership {
  step(e: Record<string, unknown>): boolean;
  stepSyscall(pid: number, ctx: Record<string, unknown>, comm?: unknown): boolean;
}
type PartsTest = (p: SyscallParts) => boolean;

export class EventFilter {
  /** The matching test; call it once per event, in stream order (--tree follows the stream). */
  readonly test: (e: Record<string, unknown>) => boolean;
  /**
   * The same test over a syscall event's parts (decode's SyscallSink), for a filter of flags
   * only: it decides without the event object. null with a --where, which reads the event.
   * Called in place of test for that event (--tree follows the stream through either).
   */
  readonly testSyscall: PartsTest | null;
  /** The time window as resolved (RFC 3339), when --since/--until were given. */
  readonly window: {since?: string; until?: string};
  /** The same window on the boot clock that events' ts_ns are on. */
  bounds: {since?: number | bigint; until?: number | bigint} = {};
  /**
   * Whether lost markers count as matches (--type lost asks for them): otherwise they pass
   * every filter without counting, so that a filter that kept only them says it found nothing.
   */
  get countsLost(): boolean {
    return this.spec.type?.includes('lost') === true;
  }
  private readonly wheres: CompiledWhere[];

  constructor(readonly spec: FilterSpec, test: Test, window: {since?: string; until?: string}, wheres: CompiledWhere[],
    testSyscall: PartsTest | null = null) {
    this.test = test;
    this.testSyscall = testSyscall;
    this.window = window;
    this.wheres = wheres;
  }

  /** Whether any condition was given. */
  get active(): boolean {
    return describeSpec(this.spec) !== '';
  }

  /** The flags as a command line: `--comm curl --where 'type == "exec"'`. */
  describe(): string {
    return describeSpec(this.spec);
  }

  /** Whether the test may read the event field `key` (or within it): flags read fixed fields, --where its paths. */
  reads(key: string): boolean {
    if (key === 'type' || key === 'syscall' || key === 'pid' || key === 'uid' || key === 'comm' || key === 'ts_ns' || key === 'ppid') return true;
    return this.wheres.some((w) => w.paths().some((p) => p === key || p.startsWith(`${key}.`) || p.startsWith(`${key}[`)));
  }

  /** After a pass: --where paths no event had (likely typos), as one-line warnings. */
  warnings(): string[] {
    const out: string[] = [];
    for (const w of this.wheres) {
      for (const p of w.unseenPaths()) out.push(`--where: no event tested had a field ${p.path} (column ${p.col}): ${w.source}`);
    }
    return out;
  }
}

/** Flags in a fixed order, each value quoted for a shell. */
export function describeSpec(s: FilterSpec): string {
  const parts: string[] = [];
  // Also reads the `applied` note of a filtered file, which may hold anything.
  const add = (flag: string, vals: unknown) => {
    const list = Array.isArray(vals) ? vals : vals === undefined || vals === null ? [] : [vals];
    for (const v of list) parts.push(`--${flag} ${shellQuote(String(v))}`);
  };
  add('tree', s.tree);
  add('tree-exec-id', s.tree_exec_id);
  add('pid', s.pid);
  add('comm', s.comm);
  add('type', s.type);
  add('syscall', s.syscall);
  add('uid', s.uid);
  add('since', s.since);
  add('until', s.until);
  add('where', s.where);
  return parts.join(' ');
}

/** The spec without empty entries, as stored in a filtered file's `filter.applied`. */
export function appliedSpec(s: FilterSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * Compiles the flags into one test. Throws a one-line Error naming the flag when one cannot
 * be read (a bad time, an unknown syscall, a --where mistake with its column).
 */
export function compileFilter(spec: FilterSpec, ctx: FilterContext): EventFilter {
  const tests: Test[] = [];
  // The same conditions over a syscall's parts, as a syscall event has them: type
  // 'syscall', comm and the context keys from p.ctx.
  const partTests: PartsTest[] = [];
  const window: {since?: string; until?: string} = {};
  const bounds: {since?: number | bigint; until?: number | bigint} = {};

  // --tree goes first: it must see every event to follow forks and exits.
  let tree: Membership | null = null;
  if (spec.tree !== undefined) tree = new ProcessTree(spec.tree, ctx.decoder.trackProcesses());
  if (spec.tree_exec_id !== undefined) {
    if (!EXEC_ID.test(spec.tree_exec_id)) {
      throw new UsageError(`--tree-exec-id: ${JSON.stringify(spec.tree_exec_id)} is not an exec id (<boot>:<pid>:<start_ns>:<exec_seq>, as decode --json shows it)`);
    }
    const byId = new ProcessTree(spec.tree_exec_id, ctx.decoder.trackProcesses());
    if (tree === null) tree = byId;
    else {
      // Both given: an event must be in both trees.
      const byPid = tree;
      tree = {
        step: (e) => byPid.step(e) && byId.step(e),
        stepSyscall: (pid, c, comm) => byPid.stepSyscall(pid, c, comm) && byId.stepSyscall(pid, c, comm),
      };
    }
  }

  if (spec.type?.length) {
    for (const t of spec.type) {
      if (!(EVENT_TYPES as readonly string[]).includes(t)) throw new UsageError(`--type: unknown event type ${JSON.stringify(t)} (${EVENT_TYPES.join(', ')})`);
    }
    const set = new Set(spec.type);
    tests.push((e) => set.has(e.type as string));
    const syscalls = set.has('syscall');
    partTests.push(() => syscalls);
  }
  if (spec.syscall?.length) {
    const known = syscallNames(ctx.meta.syscalls);
    for (const s of spec.syscall) {
      if (known.size && !known.has(s)) throw new UsageError(`--syscall: ${JSON.stringify(s)} is not a syscall this file knows`);
    }
    const set = new Set(spec.syscall);
    tests.push((e) => e.type === 'syscall' && set.has(e.syscall as string));
    partTests.push((p) => set.has(p.syscall));
  }
  if (spec.pid?.length) {
    const set = new Set(spec.pid);
    tests.push((e) => set.has(e.pid as number));
    partTests.push((p) => set.has(p.pid));
  }
  if (spec.uid?.length) {
    const set = new Set(spec.uid);
    tests.push((e) => set.has(e.uid as number));
    partTests.push((p) => set.has(p.ctx.uid as number));
  }
  if (spec.comm?.length) {
    const set = new Set(spec.comm);
    tests.push((e) => set.has(e.comm as string));
    partTests.push((p) => set.has(p.comm as string));
  }
  if (spec.since !== undefined || spec.until !== undefined) {
    const start = ctx.meta.clock?.start;
    if (!start) throw new UsageError('--since/--until: the file has no clock to place times on');
    const span = {
      startBootNs: BigInt(start.boot_ns),
      startRealNs: BigInt(start.realtime_ns),
      endBootNs: ctx.path ? recordingEnd(ctx.path) : null,
    };
    let since: TimeBound | null = null;
    let until: TimeBound | null = null;
    if (spec.since !== undefined) {
      since = parseTimeBound(spec.since, 'since', span, ctx.zone);
      window.since = since.time;
    }
    if (spec.until !== undefined) {
      until = parseTimeBound(spec.until, 'until', span, ctx.zone);
      window.until = until.time;
    }
    if (since && until && since.bootNs > until.bootNs) {
      throw new UsageError(`--since ${spec.since} (${since.time}) is after --until ${spec.until} (${until.time})`);
    }
    const lo = since?.bootNs;
    const hi = until?.bootNs;
    bounds.since = lo;
    bounds.until = hi;
    // [since, until): ts_ns is a number, or a bigint past 2^53; both compare exactly with either.
    const inWindow = (ts: number) => (lo === undefined || ts >= lo) && (hi === undefined || ts < hi);
    tests.push((e) => inWindow(e.ts_ns as number));
    partTests.push((p) => inWindow(p.ts_ns));
  }
  const wheres: CompiledWhere[] = [];
  for (const w of spec.where ?? []) {
    const arch = ctx.decoder.arch;
    const c = compileWhere(w, {
      types: EVENT_TYPES, syscalls: syscallNames(ctx.meta.syscalls),
      constant: (name) => constantValue(name, arch), constantNames: () => constantNames(arch),
    });
    wheres.push(c);
    tests.push(c.test);
  }

  const all = chain(tests);
  let test: Test;
  // A --where reads the event object: no parts test then.
  const parts = wheres.length === 0 ? chain(partTests) : null;
  let testSyscall: PartsTest | null = parts;
  if (tree) {
    const t = tree;
    test = (e) => e.type === 'lost' || (t.step(e) && all(e));
    if (parts) testSyscall = (p) => t.stepSyscall(p.pid, p.ctx as Record<string, unknown>, p.comm) && parts(p);
  } else {
    test = (e) => e.type === 'lost' || all(e);
  }
  const f = new EventFilter(spec, test, window, wheres, testSyscall);
  f.bounds = bounds;
  return f;
}

function chain<T>(tests: ((x: T) => boolean)[]): (x: T) => boolean {
  switch (tests.length) {
    case 0: return () => true;
    case 1: return tests[0];
    case 2: {
      const [a, b] = tests;
      return (e) => a(e) && b(e);
    }
    default:
      return (e) => {
        for (const t of tests) if (!t(e)) return false;
        return true;
      };
  }
}

function syscallNames(meta: unknown): Set<string> {
  const table = (meta as {table?: unknown} | undefined)?.table;
  const out = new Set<string>();
  if (typeof table === 'object' && table !== null) for (const v of Object.values(table)) if (typeof v === 'string') out.add(v);
  return out;
}
