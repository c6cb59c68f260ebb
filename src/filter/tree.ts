// --tree PID: a process and all its descendants, read from the process table
// (src/processes) — the same table `exectrace tree` draws, so the two agree on who belongs.
// The root is the first process to have the pid: the one alive at start, else the first
// the stream introduces. A process belongs when the process that forked it does, so an
// orphan stays in the tree of the process that forked it, and a later process given the
// root's pid (pid reuse) belongs only if it descends from the root. --tree-exec-id ID
// roots the tree at the process an exec id names (its pid and start, whichever image of it
// the id names), for the one of several processes with a pid that --tree would not pick.

import {keyOf, type Process, type ProcessTable} from '../processes/model';

/** ProcessTree decides, event by event, whether an event belongs to the tree of one process. */
export class ProcessTree {
  /** The root process, once the table has it. */
  private top: Process | null;
  /** Decided per process on first asking (the parent links it is decided by never change). */
  private readonly members = new WeakMap<Process, boolean>();

  /** `root`: a pid (the first process to have it), or an exec id (the process it names). */
  constructor(readonly root: number | string, private readonly table: ProcessTable) {
    const key = typeof root === 'string' ? keyOf(root) : null;
    const pid = typeof root === 'number' ? root : Number(root.split(':')[1]);
    const fits = (p: Process) => p.pid === pid && (key === null || p.key === key);
    const first = table.fromSnapshot(pid);
    this.top = first !== undefined && fits(first) ? first : null;
    if (this.top === null) {
      table.listen((p) => {
        if (this.top === null && fits(p)) this.top = p;
      });
    }
  }

  /**
   * step tells whether event e belongs to the tree. Call it for every event, in stream
   * order, right after the decoder gave it (the table is then up to date with it).
   */
  step(e: Record<string, unknown>): boolean {
    if (e.type === 'syscall' && typeof e.pid === 'number') return this.stepSyscall(e.pid, e, e.comm);
    const p = this.table.processOf(e);
    return p !== null && this.member(p);
  }

  /** stepSyscall is step() for a syscall of process pid, from its task context and comm (SyscallParts). */
  stepSyscall(pid: number, ctx: Record<string, unknown>, comm?: unknown): boolean {
    // A process known only by its calls is made now, as `tree` makes it: both see it.
    const p = this.table.live(pid) ?? this.table.sight(pid, ctx, comm);
    return this.member(p);
  }

  private member(p: Process): boolean {
    const known = this.members.get(p);
    if (known !== undefined) return known;
    const path: Process[] = [];
    let yes = false;
    for (let a: Process | null = p; a !== null; a = a.parent) {
      if (a === this.top) {
        yes = true;
        break;
      }
      const k = this.members.get(a);
      if (k !== undefined) {
        yes = k;
        break;
      }
      path.push(a);
    }
    for (const a of path) this.members.set(a, yes);
    return yes;
  }
}
