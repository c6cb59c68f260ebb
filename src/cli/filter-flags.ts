// The filter flags `filter`, `decode` and `stats` share (src/filter says what they mean),
// and the printing of the events they keep that `decode` and `filter --json` share.

import {Flags} from '@oclif/core';
import {openTrace, printEvents, type OpenedTrace} from '../decode';
import {compileFilter, EVENT_TYPES, explainEmpty, recordingEnd, summarize, type EventFilter, type FilterSpec} from '../filter';
import type {Problem} from '../format';
import {Output} from '../util/output';
import {HumanTime, type Zone} from '../util/time';
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
  tree: Flags.integer({description: 'only events of this process and its descendants (followed through forks)', min: 0, helpGroup: GROUP}),
  utc: Flags.boolean({
    description: 'times in UTC, not the local time zone (TZ): the times shown, and clock times given to --since/--until',
  }),
  where: Flags.string({
    description: 'only events for which EXPR holds, e.g. \'syscall == "openat" and ret < 0\', \'argv =~ /curl/\' (repeatable: all must hold)',
    multiple: true, multipleNonGreedy: true,
    helpGroup: GROUP,
  }),
};

/** The filter flags of a parsed command line. */
export function filterSpec(flags: {
  pid?: number[]; comm?: string[]; type?: string[]; syscall?: string[]; uid?: number[];
  since?: string; until?: string; tree?: number; where?: string[];
}): FilterSpec {
  return {
    pid: flags.pid, comm: flags.comm, type: flags.type, syscall: flags.syscall, uid: flags.uid,
    since: flags.since, until: flags.until, tree: flags.tree, where: flags.where,
  };
}

/** The zone a command shows times in, and reads clock times in. */
export function zoneOf(flags: {utc?: boolean}): Zone {
  return flags.utc ? 'utc' : 'local';
}

/** Human times for a recording: its zone, and the date when it spans days (start from the metadata, end from the trailer). */
export function humanTimes(t: OpenedTrace, file: string, zone: Zone): HumanTime {
  const start = (t.reader.meta as {clock?: {start?: {boot_ns?: number | bigint}}}).clock?.start?.boot_ns;
  return HumanTime.forRecording(t.decoder.clock, zone, start ?? null, recordingEnd(file));
}

/**
 * The events of `file` that `spec` keeps, printed to stdout (NDJSON or human lines), then
 * the filter's warnings, and why nothing matched when nothing did. Returns the trace,
 * closed, for the command's own report (reader.complete, decoder.counts).
 */
export async function printMatching(file: string, spec: FilterSpec, o: {json: boolean; processes: boolean; zone: Zone},
  onProblem: (p: Problem) => void, warn: (line: string) => void): Promise<OpenedTrace> {
  const t = openTrace(file, onProblem);
  const out = new Output();
  let warnings: string[];
  let empty: EventFilter | null = null;
  try {
    const filter = compileFilter(spec, {path: file, decoder: t.decoder, zone: o.zone, meta: t.reader.meta as never});
    const times = o.json ? undefined : humanTimes(t, file, o.zone);
    // Lost markers pass every filter: they do not count as a match.
    let matched = 0;
    const test = (e: Record<string, unknown>) => {
      const ok = filter.test(e);
      if (ok && e.type !== 'lost') matched++;
      return ok;
    };
    printEvents(t, {processes: o.processes, json: o.json, test: filter.active ? test : null, testReadsTime: filter.reads('time'), times}, out);
    warnings = filter.warnings();
    if (filter.active && matched === 0) empty = filter;
  } finally {
    t.reader.close();
  }
  await out.end();
  for (const w of warnings) warn(w);
  if (empty) for (const w of explainEmpty(empty, summarize(file, o.processes), o.zone)) warn(w);
  return t;
}
