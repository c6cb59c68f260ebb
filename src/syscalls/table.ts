// Syscall number ↔ name, per architecture, from the committed generated tables.

import { UserError } from '../util/errors';
import { SYSCALLS_X86_64 } from './table_x86_64';

export interface SyscallTable {
  /** uname -m spelling, as in the file's host.arch and syscalls.arch. */
  arch: string;
  byNr: ReadonlyMap<number, string>;
  byName: ReadonlyMap<string, number>;
  /**
   * Table name → tracepoint name (events/syscalls/sys_enter_<name>) where they differ: the
   * tracepoint is named after the kernel's entry point (syscall_64.tbl's last column), e.g.
   * fstat is implemented by sys_newfstat.
   */
  events: ReadonlyMap<string, string>;
}

const TABLES: Record<string, ReadonlyArray<readonly [number, string]>> = {
  x86_64: SYSCALLS_X86_64,
};

/** From arch/x86/entry/syscalls/syscall_64.tbl: rows whose entry point is not sys_<name>. */
const EVENTS: Record<string, Record<string, string>> = {
  x86_64: {
    stat: 'newstat',
    fstat: 'newfstat',
    lstat: 'newlstat',
    uname: 'newuname',
    sendfile: 'sendfile64',
    umount2: 'umount',
  },
};

/** Node's process.arch → uname -m, for the architectures that have a table. */
const NODE_ARCH: Record<string, string> = { x64: 'x86_64' };

const built = new Map<string, SyscallTable>();

/** The running machine's architecture, spelled as uname -m does. */
export function hostArch(): string {
  return NODE_ARCH[process.arch] ?? process.arch;
}

/** The syscall table of `arch` (uname -m spelling; default: this machine's). */
export function syscallTable(arch: string = hostArch()): SyscallTable {
  const known = built.get(arch);
  if (known !== undefined) return known;
  const rows = Object.prototype.hasOwnProperty.call(TABLES, arch) ? TABLES[arch] : undefined;
  if (rows === undefined) {
    throw new UserError(
      `syscall tracing is not supported on ${arch} (no syscall table; supported: ${Object.keys(TABLES).join(', ')}): record without --syscalls/--syscall`,
    );
  }
  const table: SyscallTable = {
    arch,
    byNr: new Map(rows.map(([nr, name]) => [nr, name])),
    byName: new Map(rows.map(([nr, name]) => [name, nr])),
    events: new Map(Object.entries(EVENTS[arch] ?? {})),
  };
  built.set(arch, table);
  return table;
}
