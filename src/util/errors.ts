// The errors every part of exectrace may throw to say the user's input or system is at
// fault, not exectrace. They live here, below everything else, so that no part needs to
// import another part (say src/syscalls from src/record) just to throw one.

/**
 * A mistake in how a command was called (a flag value it cannot read, a syscall the file
 * does not know): the CLI reports it in one line with exit status 2, the status for bad
 * usage, rather than 1, the status for a failure.
 */
export class UsageError extends Error {
  /** Read by the commands' error handler (src/cli/base.ts). */
  readonly exitCode = 2;
}

/**
 * Something the user can fix that is not how the command was called: a missing privilege
 * or kernel feature, an output file that exists, a command not found. Exit status 1, or
 * the `exitCode` set on it (127 for a command not found, as a shell says it).
 */
export class UserError extends Error {}
