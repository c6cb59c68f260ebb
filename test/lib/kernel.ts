// Gating for tests that need the kernel (root, BTF, BPF) or the built addon. Outside CI a
// missing capability skips the test with the reason printed; under CI=true it fails, so a
// CI run can never go green without having run them.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type {Test} from 'tap';

export const CI = process.env.CI === 'true';
export const ROOT = path.resolve(__dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'exectrace');

export function kernelMissing(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (typeof process.geteuid === 'function' && process.geteuid() !== 0) return 'not root (needs CAP_BPF and CAP_PERFMON)';
  if (!fs.existsSync('/sys/kernel/btf/vmlinux')) return 'no kernel BTF at /sys/kernel/btf/vmlinux';
  if (!fs.existsSync(path.join(ROOT, 'build', 'Release', 'exectrace_native.node'))) return 'native addon not built (make build)';
  if (!fs.existsSync(path.join(ROOT, 'dist', 'commands', 'record.js'))) return 'CLI not built (make build)';
  return undefined;
}

/** Runs fn as subtest `name` when the kernel is usable; otherwise skip (or fail under CI). */
export function kernelTest(t: Test, name: string, fn: (t: Test) => Promise<void> | void): void {
  const missing = kernelMissing();
  if (!missing) {
    t.test(name, fn);
  } else if (CI) {
    t.test(name, async (tt) => {
      tt.fail(`cannot run under CI=true: ${missing}`);
    });
  } else {
    t.test(name, {skip: `needs the kernel: ${missing}`}, async () => {});
  }
}
