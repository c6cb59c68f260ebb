// Argument names and C types of syscalls, from the kernel's own description of its
// syscall tracepoints: <tracefs>/events/syscalls/sys_enter_<name>/format. The fields after
// `__syscall_nr` are the arguments, in order. Every field there is stored as a long (size 8,
// signed:0 whatever the C type), so the field's size and signedness say nothing about the
// argument: the C type does (see ctypes.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors';

export interface FormatField {
  name: string;
  /** The C type as the format file spells it, e.g. 'const char *', 'umode_t', 'struct stat *'. */
  type: string;
  /** Of the tracepoint's field (not of the C type). */
  offset: number;
  size: number;
  signed: boolean;
}

export interface EventFormat {
  /** The event's name, e.g. 'sys_enter_openat'. */
  name: string;
  /** The fields after __syscall_nr: the syscall's arguments, in order. */
  args: FormatField[];
}

const FIELD = /^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(-?\d+);/;
const DECL = /^(.*?)\s*\b([A-Za-z_][A-Za-z0-9_]*)\s*(\[\d*\])?$/;

/** Parses one format file. `where` names it in errors (a path). */
export function parseEventFormat(text: string, where: string): EventFormat {
  let name: string | undefined;
  const fields: FormatField[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.startsWith('name:')) name = line.slice(5).trim();
    if (!/^\s*field:/.test(line)) return;
    const m = FIELD.exec(line);
    const d = m && DECL.exec(m[1].trim());
    if (!m || !d || d[1] === '') throw new Error(`parse format ${where}: line ${i + 1}: cannot read field '${line.trim().slice(0, 80)}'`);
    fields.push({
      name: d[2],
      type: `${d[1]}${d[3] ?? ''}`.trim(),
      offset: Number(m[2]),
      size: Number(m[3]),
      signed: m[4] !== '0',
    });
  });
  if (name === undefined) throw new Error(`parse format ${where}: no 'name:' line`);
  const nr = fields.findIndex((f) => f.name === '__syscall_nr');
  if (nr < 0) throw new Error(`parse format ${where}: no __syscall_nr field (not a syscall tracepoint)`);
  return { name, args: fields.slice(nr + 1) };
}

/** The tracepoint a syscall's arguments are described by; `events` maps the names that differ. */
export function enterEventName(syscall: string, events: ReadonlyMap<string, string>): string {
  return `sys_enter_${events.get(syscall) ?? syscall}`;
}

/**
 * Reads the entry formats of the named syscalls from tracefs. A syscall without a
 * tracepoint (not built into this kernel, or no SYSCALL_DEFINE of its own) is returned in
 * `missing`; any other failure to read is an error.
 */
export function readEventFormats(
  tracefs: string,
  syscalls: readonly string[],
  events: ReadonlyMap<string, string>,
): { formats: Map<string, EventFormat>; missing: string[] } {
  const dir = path.join(tracefs, 'events', 'syscalls');
  if (!fs.existsSync(dir)) {
    throw new UserError(`no syscall tracepoints in ${dir}: the kernel needs CONFIG_FTRACE_SYSCALLS=y for --syscalls`);
  }
  const formats = new Map<string, EventFormat>();
  const missing: string[] = [];
  for (const syscall of syscalls) {
    const file = path.join(dir, enterEventName(syscall, events), 'format');
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        missing.push(syscall);
        continue;
      }
      const fix = code === 'EACCES' || code === 'EPERM' ? ': run as root' : '';
      throw new UserError(`cannot read ${file} (${code ?? (e as Error).message})${fix}`);
    }
    formats.set(syscall, parseEventFormat(text, file));
  }
  return { formats, missing };
}
