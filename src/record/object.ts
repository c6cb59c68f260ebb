// What a recording loads, worked out before anything is loaded: the BPF object, its record
// layouts (from its BTF), the syscall plan, and the .rodata image that carries the options
// and the filters into the kernel.

import * as fs from 'node:fs';
import {btfFromElf, recordLayouts, rodataImage, rodataDefaults, type Btf, type RodataValue} from '../btf';
import {buildSyscallPlan, type SyscallPlan} from '../syscalls';
import {exitHasGroupDead} from './preflight';
import {filterRodata, writeFilterLists, type Filters} from './filters';
import {STRUCTS, layoutsByStruct, type Layouts} from './types';

export interface ObjectOptions {
  object: string;
  maxArgs: number;
  maxArgBytes: number;
  /** Syscalls to record: names, 'all', or none (undefined: exec/fork/exit only). */
  syscalls?: string[] | 'all';
  bytes?: number;
  maxStr?: number;
  verbose?: boolean;
  /** The recorder hashes exec files: every exec record wakes the drain, which opens /proc/PID/exe at once. */
  hashExecs?: boolean;
  /** record --stats-only: the exec program counts execs in exec_counts and no program writes a record. */
  statsOnly?: boolean;
}

export interface PreparedObject {
  path: string;
  bytes: Buffer;
  btf: Btf;
  layouts: Layouts;
  plan: SyscallPlan | undefined;
  rodata: Buffer;
  /** Every .rodata value in force (the object's defaults, then ours): the metadata's options. */
  effective: Record<string, RodataValue>;
}

export function prepareObject(opts: ObjectOptions, filters: Filters, tracefs: string, log: (line: string) => void): PreparedObject {
  const bytes = fs.readFileSync(opts.object);
  const btf = btfFromElf(bytes);
  const layouts = layoutsByStruct(recordLayouts(btf, STRUCTS));
  let plan: SyscallPlan | undefined;
  if (opts.syscalls !== undefined) {
    plan = buildSyscallPlan({
      names: opts.syscalls === 'all' ? undefined : opts.syscalls,
      maxStr: opts.maxStr ?? 4096,
      maxBytes: opts.bytes ?? 64,
      comm: filters.comm,
      tracefs,
      kernelBtf: '/sys/kernel/btf/vmlinux',
      objectBtf: btf,
    });
    for (const w of plan.warnings) log(w);
    if (opts.verbose) for (const n of plan.notes) log(n);
  }
  const rodataValues: Record<string, number> = {
    max_args: opts.maxArgs,
    max_arg_bytes: opts.maxArgBytes,
    trace_syscalls: plan ? 1 : 0,
    max_str: opts.maxStr ?? 4096,
    max_bytes: opts.bytes ?? 64,
    self_tgid: process.pid,
    exit_group_dead: exitHasGroupDead(tracefs) ? 1 : 0,
    wake_exec: opts.hashExecs ? 1 : 0,
    stats_only: opts.statsOnly ? 1 : 0,
    ...filterRodata(filters),
  };
  const rodata = rodataImage(bytes, rodataValues);
  writeFilterLists(rodata, bytes, filters);
  return {path: opts.object, bytes, btf, layouts, plan, rodata, effective: {...rodataDefaults(bytes), ...rodataValues}};
}
