// record's command line: its own flags before the first `--`, the command after it as the
// bytes the kernel gave this process.

import * as fs from 'node:fs';
import {splitNul} from '../util/bytes';

/**
 * Splits record's arguments at the first `--`: before it, record's own flags (oclif parses
 * only those, so it can neither reorder nor take anything of the command's); after it, the
 * command, as the bytes the kernel gave this process (/proc/self/cmdline), so that an
 * argument that is not UTF-8 reaches the program unchanged.
 */
export function splitCommand(argv: string[], cmdline: Buffer | undefined = readCmdline()): {own: string[]; command: Buffer[]} {
  const at = argv.indexOf('--');
  if (at < 0) return {own: argv, command: []};
  const given = argv.slice(at + 1);
  // NUL-terminated: the last NUL ends the buffer.
  const parts = cmdline && cmdline.length ? splitNul(cmdline.subarray(0, cmdline.length - 1)) : [];
  const tail = parts.slice(parts.length - given.length);
  // argv is the tail of the process's own arguments; if the two disagree (something
  // rewrote the process title), the strings are all there is.
  const same = tail.length === given.length && tail.every((b, i) => b.toString('utf8') === given[i]);
  return {own: argv.slice(0, at), command: same ? tail : given.map((a) => Buffer.from(a))};
}

function readCmdline(): Buffer | undefined {
  try {
    return fs.readFileSync('/proc/self/cmdline');
  } catch {
    return undefined;
  }
}
