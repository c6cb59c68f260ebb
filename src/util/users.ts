// User names: for --uid, a number is a uid and a name is looked up in /etc/passwd, as id(1)
// would on this machine; the recorder stores its host's uid → name map in the file
// (formats/trace-format.md §10.17 `users`), so that stats --by user names the users the
// recording host had, not the analyst's.

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

/** USERS_MAX is the most users that go into a file's metadata (§10.17). */
export const USERS_MAX = 65536;

/**
 * passwdUsers returns the uid → name map of a passwd file (this host's /etc/passwd by
 * default), uids as decimal strings, as the recorder stores it in the metadata: the first
 * line of a uid wins, as getpwuid(3) gives it; at most USERS_MAX entries. An unreadable file
 * gives an empty map (a container without one): the names are then unknown, not wrong.
 */
export function passwdUsers(passwd = '/etc/passwd'): Record<string, string> {
  let text = '';
  try {
    text = fs.readFileSync(passwd, 'utf8');
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  let n = 0;
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || f[0] === '' || !/^\d+$/.test(f[2]) || Number(f[2]) > MAX_UID) continue;
    const uid = String(Number(f[2]));
    if (uid in out) continue;
    if (n++ >= USERS_MAX) break;
    out[uid] = f[0];
  }
  return out;
}

/**
 * recordedUsers returns the recording host's uid → name map a file's metadata holds (its
 * `users` key, formats/trace-format.md §10.17), or null in a file recorded without one.
 */
export function recordedUsers(meta: Readonly<Record<string, unknown>>): Record<string, string> | null {
  const u = meta.users;
  if (typeof u !== 'object' || u === null || Array.isArray(u)) return null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(u as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  return out;
}
