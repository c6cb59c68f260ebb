// exec_id, prev_exec_id and parent_exec_id: which image a process runs, as a string that
// pid reuse, other boots and other hosts cannot make ambiguous (formats/trace-format.md
// §10.14). The kernel stamps every et_task with the process's start time and exec count,
// and the same two of its parent; the snapshot's processes have them from the recorder's
// task iterator. This turns them into the ids, and keeps the one piece of state the ids
// need: the parent image that forked a process, which outlives the parent's next exec.

import {lastIds} from './records';

type U64 = number | bigint;

interface Forked {
  ppid: number;
  parentStart: U64;
  parentExecId: string;
}

/** The process whose image an event names, and its parent's, as the event model shows them. */
export interface ImageIds {
  exec_id: string | null;
  parent_exec_id: string | null;
}

export class Identities {
  /** The first 16 hex digits of the boot id (64 bits), or null when the file has none. */
  readonly boot: string | null;
  private readonly forked = new Map<number, Forked>();

  constructor(bootId: unknown) {
    const hex = typeof bootId === 'string' ? bootId.replace(/-/g, '').toLowerCase() : '';
    this.boot = /^[0-9a-f]{16}/.test(hex) ? hex.slice(0, 16) : null;
  }

  /** `<boot>:<pid>:<start_ns>:<exec_seq>`; null for a file without the fields. */
  id(pid: number, start: U64 | undefined, seq: U64 | undefined): string | null {
    if (this.boot === null || start === undefined || seq === undefined) return null;
    return `${this.boot}:${pid}:${start}:${seq}`;
  }

  /**
   * Sets e.exec_id and e.parent_exec_id (and e.prev_exec_id on an exec) from lastIds, the
   * identity of the record just read. A fork remembers the parent image that made the child:
   * the child's later events keep it while its parent is the same process, and name the new
   * parent's image once it is reparented.
   */
  stamp(e: Record<string, unknown>, ids: readonly U64[] = lastIds): void {
    const pid = e.pid as number;
    const ppid = e.ppid as number;
    const [start, seq, pstart, pseq] = ids;
    e.exec_id = this.id(pid, start, seq);
    // pid 0 is the kernel's idle task, the parent of init and kthreadd: no process.
    let parent = ppid === 0 ? null : this.id(ppid, pstart, pseq);
    if (e.type === 'fork') {
      if (parent !== null) this.forked.set(pid, {ppid, parentStart: pstart, parentExecId: parent});
    } else {
      const f = this.forked.get(pid);
      if (f && f.ppid === ppid && f.parentStart === pstart) parent = f.parentExecId;
    }
    e.parent_exec_id = parent;
    if (e.type === 'exec') e.prev_exec_id = this.id(pid, start, minusOne(seq));
    if (e.type === 'exit') this.forked.delete(pid);
  }

  /** The ids of a snapshot process (metadata `processes`, with the iterator's fields). */
  ofSnapshot(p: Record<string, unknown>): ImageIds {
    const u = (v: unknown): U64 | undefined => (typeof v === 'number' || typeof v === 'bigint' ? v : undefined);
    return {
      exec_id: this.id(p.pid as number, u(p.start_ns), u(p.exec_seq)),
      parent_exec_id: p.ppid === 0 ? null : this.id(p.ppid as number, u(p.parent_start_ns), u(p.parent_exec_seq)),
    };
  }
}

function minusOne(v: U64): U64 {
  return typeof v === 'bigint' ? v - 1n : v - 1;
}
