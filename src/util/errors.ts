// The error a command throws for a mistake in how it was called (a flag value it cannot
// read, a syscall the file does not know): the CLI reports it in one line with exit
// status 2, the status for bad usage, rather than 1, the status for a failure.

export class UsageError extends Error {
  /** Read by the commands' error handler (src/cli/base.ts). */
  readonly exitCode = 2;
}
