// Which syscalls make, change or end descriptors, and how: plain data that the recorder
// (which ones to describe in the kernel, which ones to record implicitly with --syscall)
// and the decoder's descriptor model (src/fds/model.ts) share, so the two agree on what a
// recording holds. Names are those of the syscall table (x86_64), checked against this
// machine's tracefs by test/fds.test.ts.

/**
 * FdDescribe says which descriptor the kernel describes in an `et_fd` record after a
 * successful call (formats/trace-format.md §10.18): the return value, an argument
 * (by name), the two ints an argument points to, or the working directory.
 */
export type FdDescribe = {how: 'ret'} | {how: 'arg'; arg: string} | {how: 'pair'; arg: string} | {how: 'cwd'};

const RET: FdDescribe = {how: 'ret'};

/**
 * FD_DESCRIBED: the calls after which the kernel describes a descriptor. Those returning a
 * new one return nothing else when they succeed; calls whose return value is a descriptor
 * only for some arguments (fcntl F_DUPFD, bpf, seccomp, landlock_create_ruleset's version
 * query) are left to the decoder's model or not followed.
 */
export const FD_DESCRIBED: Readonly<Record<string, FdDescribe>> = {
  open: RET, openat: RET, openat2: RET, creat: RET, open_by_handle_at: RET, open_tree: RET, open_tree_attr: RET,
  dup: RET, dup2: RET, dup3: RET,
  socket: RET, accept: RET, accept4: RET,
  eventfd: RET, eventfd2: RET, epoll_create: RET, epoll_create1: RET, timerfd_create: RET,
  memfd_create: RET, memfd_secret: RET, signalfd: RET, signalfd4: RET, inotify_init: RET, inotify_init1: RET,
  fanotify_init: RET, pidfd_open: RET, pidfd_getfd: RET, userfaultfd: RET, perf_event_open: RET, mq_open: RET,
  io_uring_setup: RET, fsopen: RET, fsmount: RET, fspick: RET,
  // A socket's ends change: bind gives the local one, connect both (the kernel picks the local).
  connect: {how: 'arg', arg: 'fd'}, bind: {how: 'arg', arg: 'fd'},
  pipe: {how: 'pair', arg: 'fildes'}, pipe2: {how: 'pair', arg: 'fildes'}, socketpair: {how: 'pair', arg: 'usockvec'},
  chdir: {how: 'cwd'}, fchdir: {how: 'cwd'},
};

/**
 * FD_CHANGED: calls the model follows from their arguments alone: descriptors closed
 * (close, close_range), duplicated or marked (fcntl), a table or cwd no longer shared
 * (unshare).
 */
export const FD_CHANGED: ReadonlySet<string> = new Set(['close', 'close_range', 'fcntl', 'unshare', 'ioctl']);

/**
 * IMPLICIT_FDS: what `record --syscall NAME` records besides NAME when NAME has a
 * descriptor argument, so that the decoder can say what each descriptor is: every call
 * that makes, changes or ends one, and the cwd's (chdir, fchdir). Not ioctl: it changes a
 * descriptor (FIOCLEX) too rarely to record every one of them for it.
 */
export const IMPLICIT_FDS: readonly string[] = [...Object.keys(FD_DESCRIBED), ...[...FD_CHANGED].filter((n) => n !== 'ioctl')];

/** IMPLICIT_CWD: what `record --syscall NAME` records besides NAME when NAME has a path argument but no descriptor. */
export const IMPLICIT_CWD: readonly string[] = ['chdir', 'fchdir', 'unshare'];
