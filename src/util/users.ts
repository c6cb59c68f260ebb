// User names for --uid: a number is a uid; a name is looked up in /etc/passwd, as id(1)
// would on this machine (not the recording's: the file keeps uids, not names).

import * as fs from 'node:fs';
import {UsageError} from './errors';

const MAX_UID = 0xfffffffe; // (uid_t)-1 means "no uid"

/** A uid from a number or a user name; a one-line UsageError naming the flag otherwise. */
export function resolveUid(value: string, flag = 'uid', passwd = '/etc/passwd'): number {
  const s = value.trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n <= MAX_UID) return n;
    throw new UsageError(`--${flag}: ${s} is not a uid (at most ${MAX_UID})`);
  }
  let text = '';
  try {
    text = fs.readFileSync(passwd, 'utf8');
  } catch {
    // No passwd file (a container, another OS): only numbers can be given.
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === s && f.length >= 3 && /^\d+$/.test(f[2])) return Number(f[2]);
  }
  throw new UsageError(`--${flag}: no user ${JSON.stringify(value)} in ${passwd}: give a uid number or a user name`);
}
