// Checks made before anything is loaded, so that a missing privilege or kernel feature is
// one clear line with the fix, not a libbpf error from halfway through.

import * as fs from 'node:fs';
import * as os from 'node:os';
import {execFileSync} from 'node:child_process';
import {UserError} from '../util/errors';


const TRACEFS = '/sys/kernel/tracing';
const LEGACY_TRACEFS = '/sys/kernel/debug/tracing';
const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

/**
 * The oldest kernel with everything bpf/exectrace.bpf.c uses: ring-buffer dynptrs
 * (bpf_ringbuf_reserve_dynptr, bpf_dynptr_write: 5.19), bpf_loop (5.17), tp_btf and
 * bpf_get_current_task_btf (5.11).
 */
export const MIN_KERNEL = {major: 5, minor: 19} as const;

/** Refuses a kernel older than MIN_KERNEL, by its `uname -r` (an unparsable release is let through). */
export function checkKernel(release: string = os.release()): void {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major < MIN_KERNEL.major || (major === MIN_KERNEL.major && minor < MIN_KERNEL.minor)) {
    throw new UserError(`kernel ${release} is too old: exectrace needs Linux ${MIN_KERNEL.major}.${MIN_KERNEL.minor} or newer ` +
      '(BPF ring-buffer dynptrs, bpf_loop): boot a newer kernel');
  }
}

/** The kernel BTF every CO-RE program needs. */
export function checkBtf(file: string = VMLINUX_BTF): void {
  if (!fs.existsSync(file)) {
    throw new UserError(`kernel BTF not found at ${file}: exectrace needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (Linux ${MIN_KERNEL.major}.${MIN_KERNEL.minor} or newer)`);
  }
}

export function checkRoot(euid: number | undefined = process.geteuid?.()): void {
  if (euid !== undefined && euid !== 0) {
    throw new UserError('record needs root (CAP_BPF and CAP_PERFMON): run it with sudo');
  }
}

/**
 * Classic tracepoints (syscalls/sys_enter_execve …) are attached through tracefs ids, and
 * tracefs is not always mounted: mount it when it is missing.
 */
export function ensureTracefs(root: string = TRACEFS, legacy: string = LEGACY_TRACEFS): string {
  if (fs.existsSync(`${root}/events`)) return root;
  if (fs.existsSync(`${legacy}/events`)) return legacy;
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', root], {stdio: ['ignore', 'ignore', 'pipe']});
  } catch (err) {
    const why = (err as {stderr?: Buffer}).stderr?.toString().trim().split('\n')[0] || (err as Error).message.split('\n')[0];
    throw new UserError(`tracefs is not mounted and mounting it failed (${why}): run 'mount -t tracefs nodev ${root}' as root`);
  }
  if (!fs.existsSync(`${root}/events`)) throw new UserError(`tracefs mounted at ${root} but has no events/ directory`);
  return root;
}

/**
 * Whether sched_process_exit says which thread is the process's last (its group_dead
 * argument, added in Linux 6.16): the exit record is written by that thread. Without it
 * the program counts live threads itself.
 */
export function exitHasGroupDead(tracefs: string): boolean {
  try {
    return /\bgroup_dead;/.test(fs.readFileSync(`${tracefs}/events/sched/sched_process_exit/format`, 'utf8'));
  } catch {
    return false;
  }
}
