// --tree PID: a process and all its descendants, reconstructed offline. The tree starts
// from the processes alive at start (their ppid), then follows the stream: a fork whose
// parent is in the tree adds the child; an exit takes the process out once its own exit
// event has been kept. Membership is by lifetime, not by number: a pid reused after its
// process exited joins only if its new parent is in the tree, and the root pid counts
// once — the first process to have it, alive at start or created later.

import type {SnapshotProcess} from '../decode/events';

export class ProcessTree {
  private readonly live = new Set<number>();
  /** The root was seen (alive at start or created): a later process reusing its pid is not the root. */
  private rootSeen = false;

  constructor(readonly root: number, snapshot: readonly SnapshotProcess[] = []) {
    const children = new Map<number, number[]>();
    for (const p of Array.isArray(snapshot) ? snapshot : []) {
      if (typeof p !== 'object' || p === null || typeof p.pid !== 'number') continue;
      if (p.pid === root) this.rootSeen = true;
      const list = children.get(p.ppid);
      if (list) list.push(p.pid);
      else children.set(p.ppid, [p.pid]);
    }
    if (!this.rootSeen) return;
    const todo = [root];
    while (todo.length) {
      const pid = todo.pop() as number;
      if (this.live.has(pid)) continue; // a cycle in a hostile snapshot
      this.live.add(pid);
      for (const c of children.get(pid) ?? []) todo.push(c);
    }
  }

  /**
   * Whether event e belongs to the tree, updating the tree as it goes: call it for every
   * event, in stream order, whatever else the filter decides.
   */
  step(e: Record<string, unknown>): boolean {
    const pid = e.pid;
    if (typeof pid !== 'number') return false;
    if (e.type !== 'process') this.sight(pid);
    switch (e.type) {
      case 'fork':
        // A new thread has the pid of its process: nothing changes.
        if (!this.live.has(pid) && this.live.has(e.ppid as number)) this.live.add(pid);
        return this.live.has(pid);
      case 'exit': {
        const member = this.live.has(pid);
        this.live.delete(pid);
        return member;
      }
      default:
        return this.live.has(pid);
    }
  }

  /** step() of a syscall event of process pid (which needs no more of it). */
  stepSyscall(pid: number): boolean {
    this.sight(pid);
    return this.live.has(pid);
  }

  /** The root's first sighting: its fork, or (when that was not recorded) any later event. */
  private sight(pid: number): void {
    if (pid === this.root && !this.rootSeen) {
      this.rootSeen = true;
      this.live.add(pid);
    }
  }

  /** Processes in the tree now. */
  get size(): number {
    return this.live.size;
  }
}
