// The checks record makes before loading anything, with their inputs injected (a kernel
// release, a BTF path, an euid, tracefs paths): each failure is one line that names the
// thing and the fix. Runs without root and without the kernel features it checks.

import t from 'tap';
import {MIN_KERNEL, checkBtf, checkKernel, checkRoot, ensureTracefs} from '../src/record/preflight';
import {UserError} from '../src/util/errors';

t.test('kernel too old: named, with the minimum and why', async (t) => {
  t.equal(`${MIN_KERNEL.major}.${MIN_KERNEL.minor}`, '5.19');
  t.throws(() => checkKernel('5.15.0-91-generic'), new UserError(
    'kernel 5.15.0-91-generic is too old: exectrace needs Linux 5.19 or newer (BPF ring-buffer dynptrs, bpf_loop): boot a newer kernel'));
  t.throws(() => checkKernel('4.19.0'), {message: /^kernel 4\.19\.0 is too old: /});
  t.throws(() => checkKernel('5.18.19'), {message: /^kernel 5\.18\.19 is too old: /});
  for (const ok of ['5.19.0', '5.19.17-1-lts', '6.1.0-13-amd64', '6.18.0', '10.0.0']) t.doesNotThrow(() => checkKernel(ok), ok);
  t.doesNotThrow(() => checkKernel('unparsable'), 'a release it cannot read is not refused');
});

t.test('no BTF', async (t) => {
  t.throws(() => checkBtf('/nonexistent/btf/vmlinux'), new UserError(
    'kernel BTF not found at /nonexistent/btf/vmlinux: exectrace needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (Linux 5.19 or newer)'));
});

t.test('not root', async (t) => {
  t.throws(() => checkRoot(1000), new UserError('record needs root (CAP_BPF and CAP_PERFMON): run it with sudo'));
  t.doesNotThrow(() => checkRoot(0));
});

t.test('tracefs unavailable', {skip: process.platform !== 'linux' && 'runs mount(8)'}, async (t) => {
  const root = '/nonexistent/exectrace-tracefs';
  t.throws(() => ensureTracefs(root, '/nonexistent/exectrace-legacy'),
    {message: new RegExp(`^tracefs is not mounted and mounting it failed \\(.+\\): run 'mount -t tracefs nodev ${root}' as root$`)});
});
