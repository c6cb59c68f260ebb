// Which syscall arguments are descriptors, which are paths, and which directory a path is
// relative to, decided from each argument's name and C type as the file's `syscalls`
// metadata gives them (the kernel's tracepoint format files), plus a short table of
// exceptions. The rule and the exceptions are checked against this machine's tracefs by
// test/fds.test.ts, as src/syscalls/classify.ts's OVERRIDES are.
//
// Rules, for an argument of syscall S:
//   - a descriptor: an integer (not a pointer) named `fd`, or ending in `fd`, `fd_in`,
//     `fd_out`, `fdin`, `fdout` (dfd, epfd, pidfd, oldfd, to_dfd ...), or `fildes`;
//   - a directory descriptor: one of those named dfd, olddfd, newdfd or *_dfd (openat's dfd,
//     renameat's olddfd, move_mount's to_dfd);
//   - a path: a captured string named filename, pathname, path, oldname, newname, and the
//     like (PATH_NAMES); relative to the directory descriptor just before it, else to the cwd.

import type {ArgInfo} from '../syscalls/meta';

const FD_NAME = /fd(_?in|_?out)?$/;
/** dfd, olddfd, newdfd, from_dfd, to_dfd (not oldfd, which ends in the same letters). */
const DIRFD_NAME = /^(dfd|olddfd|newdfd|\w+_dfd)$/;

/** Path arguments, by name. */
const PATH_NAMES = new Set([
  'filename', 'pathname', 'path', 'oldname', 'newname', 'dir_name', 'new_root', 'put_old', 'specialfile', 'library',
  'from_pathname', 'to_pathname', 'special',
]);

/**
 * FD_ARG_EXCEPTIONS: arguments the rule takes for descriptors that are not: close_range's
 * bounds (strace -yy does not annotate them either).
 */
export const FD_ARG_EXCEPTIONS: Readonly<Record<string, readonly string[]>> = {
  close_range: ['fd', 'max_fd'],
};

/** DIRFD_EXCEPTIONS: directory descriptors not named *dfd: execveat's fd. */
export const DIRFD_EXCEPTIONS: Readonly<Record<string, readonly string[]>> = {
  execveat: ['fd'],
};

/**
 * PATH_EXCEPTIONS: arguments named like paths that are not resolved: a symlink's target is
 * stored as given (relative to the link, not to the cwd); name_to_handle_at's `name` is a
 * path although the name does not say so.
 */
export const PATH_EXCEPTIONS: Readonly<Record<string, {not?: readonly string[]; also?: readonly string[]}>> = {
  symlink: {not: ['oldname']},
  symlinkat: {not: ['oldname']},
  name_to_handle_at: {also: ['name']},
};

const has = (t: Readonly<Record<string, readonly string[]>>, s: string, a: string): boolean =>
  Object.prototype.hasOwnProperty.call(t, s) && (t[s] as readonly string[]).includes(a);

/** isFdArg says whether argument `a` of syscall `syscall` holds a descriptor. */
export function isFdArg(syscall: string, a: Pick<ArgInfo, 'name' | 'type' | 'kind'>): boolean {
  if (a.kind !== 'value' || a.type.includes('*')) return false;
  if (!FD_NAME.test(a.name) && a.name !== 'fildes') return false;
  return !has(FD_ARG_EXCEPTIONS, syscall, a.name);
}

/** isDirFdArg says whether a descriptor argument is a directory that paths are relative to. */
export function isDirFdArg(syscall: string, a: Pick<ArgInfo, 'name'>): boolean {
  return DIRFD_NAME.test(a.name) || has(DIRFD_EXCEPTIONS, syscall, a.name);
}

/** isPathArg says whether argument `a` is a path the process names (a captured string). */
export function isPathArg(syscall: string, a: Pick<ArgInfo, 'name' | 'kind'>): boolean {
  if (a.kind !== 'str') return false;
  const ex = Object.prototype.hasOwnProperty.call(PATH_EXCEPTIONS, syscall) ? PATH_EXCEPTIONS[syscall] : undefined;
  if (ex?.not?.includes(a.name)) return false;
  return PATH_NAMES.has(a.name) || ex?.also?.includes(a.name) === true;
}

/** FdArg is one descriptor argument of a syscall, as the decoder resolves it. */
export interface FdArg {
  name: string;
  index: number;
  /** A directory descriptor: AT_FDCWD (-100) names the cwd. */
  dir: boolean;
  /** dup2 and dup3's newfd need not be open: absent from the table, it is not annotated. */
  mayBeClosed: boolean;
}

/** PathArg is one path argument, and the directory descriptor it is relative to (-1: the cwd). */
export interface PathArg {
  name: string;
  index: number;
  dirIndex: number;
}

/** fdArgsOf gives the descriptor arguments of a syscall, in argument order. */
export function fdArgsOf(syscall: string, args: readonly Pick<ArgInfo, 'name' | 'type' | 'kind'>[]): FdArg[] {
  const out: FdArg[] = [];
  args.forEach((a, index) => {
    if (!isFdArg(syscall, a)) return;
    out.push({name: a.name, index, dir: isDirFdArg(syscall, a), mayBeClosed: (syscall === 'dup2' || syscall === 'dup3') && a.name === 'newfd'});
  });
  return out;
}

/** pathArgsOf gives the path arguments of a syscall, each with the directory descriptor before it, if any. */
export function pathArgsOf(syscall: string, args: readonly Pick<ArgInfo, 'name' | 'type' | 'kind'>[]): PathArg[] {
  const out: PathArg[] = [];
  args.forEach((a, index) => {
    if (!isPathArg(syscall, a)) return;
    const before = index > 0 ? args[index - 1] : undefined;
    const dir = before !== undefined && isFdArg(syscall, before) && isDirFdArg(syscall, before) ? index - 1 : -1;
    out.push({name: a.name, index, dirIndex: dir});
  });
  return out;
}
