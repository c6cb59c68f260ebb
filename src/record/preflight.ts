// Checks made before anything is loaded, so that a missing privilege or kernel feature is
// one clear line with the fix, not a libbpf error from halfway through.

import * as fs from 'node:fs';
import {execFileSync} from 'node:child_process';

export class UserError extends Error {}

const TRACEFS = '/sys/kernel/tracing';

/** The kernel BTF every CO-RE program needs. */
export function checkBtf(): void {
  if (!fs.existsSync('/sys/kernel/btf/vmlinux')) {
    throw new UserError('kernel BTF not found at /sys/kernel/btf/vmlinux: exectrace needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (5.8 or newer)');
  }
}

export function checkRoot(): void {
  if (typeof process.geteuid === 'function' && process.geteuid() !== 0) {
    throw new UserError('record needs root (CAP_BPF and CAP_PERFMON): run it with sudo');
  }
}

/**
 * Classic tracepoints (syscalls/sys_enter_execve …) are attached through tracefs ids, and
 * tracefs is not always mounted: mount it when it is missing.
 */
export function ensureTracefs(): string {
  if (fs.existsSync(`${TRACEFS}/events`)) return TRACEFS;
  if (fs.existsSync('/sys/kernel/debug/tracing/events')) return '/sys/kernel/debug/tracing';
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS], {stdio: ['ignore', 'ignore', 'pipe']});
  } catch (err) {
    const why = (err as {stderr?: Buffer}).stderr?.toString().trim() || (err as Error).message;
    throw new UserError(`tracefs is not mounted and mounting it failed (${why}): run 'mount -t tracefs nodev ${TRACEFS}' as root`);
  }
  if (!fs.existsSync(`${TRACEFS}/events`)) throw new UserError(`tracefs mounted at ${TRACEFS} but has no events/ directory`);
  return TRACEFS;
}
