// The filter flags `filter`, `decode` and `stats` share (src/filter says what they mean),
// and how they become the library's options (openTrace, filterTrace), which do the work.

import {Flags} from '@oclif/core';
import type {EventType, OpenTraceOptions} from '..';
import {EVENT_TYPES} from '../filter';
import type {Zone} from '../util/time';
import {resolveUid} from '../util/users';

const GROUP = 'FILTER';

export const filterFlags = {
  pid: Flags.integer({description: 'only events of this process (thread-group id; repeatable)', multiple: true, multipleNonGreedy: true, min: 0, helpGroup: GROUP}),
  comm: Flags.string({description: 'only events of tasks with this comm (repeatable)', multiple: true, multipleNonGreedy: true, helpGroup: GROUP}),
  type: Flags.string({description: 'only events of this type (repeatable)', multiple: true, multipleNonGreedy: true, options: [...EVENT_TYPES], helpGroup: GROUP}),
  syscall: Flags.string({description: 'only calls of this syscall (repeatable)', multiple: true, multipleNonGreedy: true, helpGroup: GROUP}),
  uid: Flags.custom<number>({
    // A name, as record --uid takes one: looked up in this machine's /etc/passwd.
    parse: async (input) => resolveUid(input),
  })({description: 'only events of this real user id, a number or a user name (repeatable)', multiple: true, multipleNonGreedy: true, helpGroup: GROUP}),
  since: Flags.string({
    description: 'only events at or after this time: RFC 3339, a time of day (10:42, 10:42:05.5: local time, UTC with --utc), or a duration from the start (+30s, 1m30s)',
    helpGroup: GROUP,
  }),
  until: Flags.string({description: 'only events before this time (same forms as --since)', helpGroup: GROUP}),
  tree: Flags.integer({
    description: 'only events of this process (the first to have the pid) and its descendants, by who forked whom, as `exectrace tree --pid` draws them',
    min: 0, helpGroup: GROUP,
  }),
  'tree-exec-id': Flags.string({
    description: 'only events of the process this exec id names (any image of it: one of several processes given one pid) and its descendants',
    helpGroup: GROUP,
  }),
  utc: Flags.boolean({
    description: 'times in UTC, not the local time zone (TZ): the times shown, and clock times given to --since/--until',
  }),
  where: Flags.string({
    description: 'only events for which EXPR holds, e.g. \'syscall == "openat" and ret < 0\', \'argv =~ /curl/\' (repeatable: all must hold)',
    multiple: true, multipleNonGreedy: true,
    helpGroup: GROUP,
  }),
};

/** The filter flags of a parsed command line (and --utc) as openTrace's options. */
export function traceOptions(flags: {
  pid?: number[]; comm?: string[]; type?: string[]; syscall?: string[]; uid?: number[];
  since?: string; until?: string; tree?: number; 'tree-exec-id'?: string; where?: string[]; utc?: boolean;
}): OpenTraceOptions {
  return {
    // --type is checked against EVENT_TYPES by its flag's options.
    pid: flags.pid, comm: flags.comm, type: flags.type as EventType[] | undefined, syscall: flags.syscall, uid: flags.uid,
    since: flags.since, until: flags.until, tree: flags.tree, treeExecId: flags['tree-exec-id'], where: flags.where, zone: zoneOf(flags),
  };
}

/** The zone a command shows times in, and reads clock times in. */
export function zoneOf(flags: {utc?: boolean}): Zone {
  return flags.utc ? 'utc' : 'local';
}
