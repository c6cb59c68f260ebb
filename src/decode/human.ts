// One line per event for people: time, type, who, then what happened, with argv quoted
// the way a shell would need it so a line can be pasted back.

import {signalName} from '../util/errno';
import {formatDuration, WallClock} from '../util/time';
import {TraceEvent} from './events';

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument for a POSIX shell; control bytes use bash's $'…' form. */
export function shellQuote(s: string): string {
  if (s === '') return "''";
  if (SAFE.test(s)) return s;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(s)) {
    let q = "$'";
    for (const ch of s) {
      const c = ch.codePointAt(0) as number;
      if (ch === '\\' || ch === "'") q += '\\' + ch;
      else if (ch === '\n') q += '\\n';
      else if (ch === '\t') q += '\\t';
      else if (ch === '\r') q += '\\r';
      else if (c < 0x20 || c === 0x7f) q += '\\x' + c.toString(16).padStart(2, '0');
      else q += ch;
    }
    return q + "'";
  }
  return "'" + s.replace(/'/g, "'\\''") + "'";
}

export function commandLine(argv: readonly string[] | undefined): string {
  return argv ? argv.map(shellQuote).join(' ') : '';
}

function who(e: TraceEvent): string {
  return `[${e.pid} ppid=${e.ppid} uid=${e.uid} comm=${JSON.stringify(e.comm ?? '')}]`;
}

export function humanLine(e: TraceEvent, clock: WallClock): string {
  const t = typeof e.ts_ns === 'number' ? clock.timeOfDay(e.ts_ns) : '';
  const head = `${t} ${e.type.padEnd(11)}`;
  switch (e.type) {
    case 'process':
    case 'exec': {
      const argv = e.argv as string[] | undefined;
      // Kernel threads have no argv: show their name in brackets, as ps does.
      const cmd = argv && argv.length ? commandLine(argv) : `[${e.comm}]`;
      let s = `${head} ${who(e)} ${cmd}`;
      if (e.filename && (!argv || argv[0] !== e.filename)) s += `  (${e.filename})`;
      if (e.interp) s += `  interp=${e.interp}`;
      if (e.truncated) s += `  [truncated: argc=${e.argc}]`;
      return s;
    }
    case 'exec_failed':
      return `${head} ${who(e)} ${shellQuote(String(e.filename ?? ''))}: ${commandLine(e.argv as string[])} = ${e.errno}`;
    case 'fork':
      return `${head} ${who(e)} child of ${e.ppid}`;
    case 'exit': {
      const status = e.signal !== null && e.signal !== undefined
        ? `killed by ${signalName(e.signal as number)}${e.core_dumped ? ' (core dumped)' : ''}`
        : `exit_code=${e.exit_code}`;
      const ran = typeof e.running_time_ns === 'number' ? ` after ${formatDuration(e.running_time_ns)}` : '';
      const what = e.argv ? `  ${commandLine(e.argv as string[])}` : '';
      return `${head} ${who(e)} ${status}${ran}${what}`;
    }
    case 'lost':
      return `${head} cpu=${e.cpu} ${e.count} ${e.event} event(s) lost between ${e.window_start} and ${e.window_end}`;
    default:
      return `${head} ${JSON.stringify(e)}`;
  }
}
