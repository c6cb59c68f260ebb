// Descriptors: what each descriptor of each process refers to, followed offline through a
// trace, so that a call's descriptor and path arguments can be named (`fd_paths`, `paths`
// of syscall events) as strace -yy names them. calls.ts says which syscalls make, change or
// end descriptors (shared with the recorder, which describes them in the kernel and records
// them implicitly), args.ts which arguments are descriptors and paths, target.ts how a
// kernel description is named, model.ts the tables (formats/trace-format.md §10.18).
// Offline-safe: decode only.

export {FD_CHANGED, FD_DESCRIBED, type FdDescribe, IMPLICIT_CWD, IMPLICIT_FDS} from './calls';
export {DIRFD_EXCEPTIONS, FD_ARG_EXCEPTIONS, type FdArg, fdArgsOf, isDirFdArg, isFdArg, isPathArg, PATH_EXCEPTIONS, type PathArg, pathArgsOf} from './args';
export {FD_FLAG_DEFAULTS, type FdDesc, type FdFlagBits, inetText, type SockAddr, socketText, sockAddrText, targetText} from './target';
export {FdModel, MAX_FDS, MAX_PROCESSES, MAX_SOCKETS, MAX_TABLE_FDS, OpenFile, resolvePath, type SnapshotFd} from './model';
