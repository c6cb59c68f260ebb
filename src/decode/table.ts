// decode --format csv|tsv, and --fields: events as rows of the fields a user names (dotted
// paths into the event model, as --where reads them: `args.filename`, `argv[0]`, `ns.pid`),
// for a spreadsheet, `sort | uniq -c` or a database's COPY. CSV is RFC 4180 (a header row,
// CRLF line ends, a cell quoted when it holds a comma, a quote, CR or LF, or edge spaces);
// TSV has no quoting, so a tab, CR, LF or backslash in a value is written \t, \r, \n, \\.
//
// A cell is the value as decode --json has it, made flat: strings as they are (bytes that
// are not UTF-8 as \xNN, as human lines show them), numbers exact, true/false, a missing
// field or null empty, a list of strings (argv) as the command line human lines show (each
// argument quoted for a shell, so it can be split back), anything else compact JSON.

import type {Output} from '../util/output';
import {UsageError} from '../util/errors';
import {toJson} from '../util/json';
import {displayText, isRawText} from './text';
import {commandLine} from './human';
import type {TraceEvent} from './events';
import type {SyscallParts, SyscallSink} from './syscalls';

/** The table formats decode writes. */
export type TableFormat = 'csv' | 'tsv';

/** The columns of a table when --fields is not given: what most questions start from. */
export const DEFAULT_FIELDS = [
  'time', 'type', 'pid', 'ppid', 'uid', 'comm', 'exec_id', 'filename', 'argv', 'exit_code', 'signal', 'syscall', 'ret', 'errno',
];

/** One field: its text as given, and its parts (names and array indexes). */
export interface FieldPath {
  text: string;
  parts: (string | number)[];
}

const PART = /^([a-z_][a-z0-9_]*)((?:\[\d{1,9}\])*)$/i;

/** The --fields list (comma-separated, repeatable) as paths; one-line UsageError for one that is not a path. */
export function parseFields(specs: readonly string[]): FieldPath[] {
  const out: FieldPath[] = [];
  for (const spec of specs) {
    for (const raw of spec.split(',')) {
      const text = raw.trim();
      if (text === '') continue;
      const parts: (string | number)[] = [];
      for (const seg of text.split('.')) {
        const m = PART.exec(seg);
        if (!m) throw new UsageError(`--fields: ${JSON.stringify(text)} is not a field path (examples: pid, args.filename, argv[0])`);
        parts.push(m[1]);
        for (const idx of m[2].match(/\d+/g) ?? []) parts.push(Number(idx));
      }
      out.push({text, parts});
    }
  }
  if (out.length === 0) throw new UsageError('--fields: give at least one field (examples: pid, args.filename, argv[0])');
  return out;
}

const hasOwn = Object.prototype.hasOwnProperty;

/** The value at a path of an event; undefined when any step is missing (own keys only). */
export function fieldValue(e: Readonly<Record<string, unknown>>, parts: readonly (string | number)[]): unknown {
  let v: unknown = e;
  for (const k of parts) {
    if (typeof v !== 'object' || v === null) return undefined;
    if (typeof k === 'number') {
      if (!Array.isArray(v)) return undefined;
      v = v[k];
    } else {
      if (Array.isArray(v) || !hasOwn.call(v, k)) return undefined;
      v = (v as Record<string, unknown>)[k];
    }
  }
  return v;
}

/** The text of one cell (see the top of this file). */
export function cellText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (isRawText(v)) return displayText(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || isRawText(x))) return commandLine(v);
  if (typeof v === 'object') {
    // A captured buffer: its text, or its bytes as \xNN.
    const b = v as {text?: unknown; base64?: unknown; len?: unknown};
    if (typeof b.len === 'number' && typeof b.text === 'string') return b.text;
    if (typeof b.len === 'number' && typeof b.base64 === 'string') return displayText({base64: b.base64});
  }
  return toJson(v);
}

function csvCell(s: string): string {
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function tsvCell(s: string): string {
  return /[\t\r\n\\]/.test(s) ? s.replace(/[\t\r\n\\]/g, (c) => (c === '\t' ? '\\t' : c === '\r' ? '\\r' : c === '\n' ? '\\n' : '\\\\')) : s;
}

/**
 * Writes events as table rows, a header first. Syscall events are declined as parts (a row
 * reads any field of the event), so the decoder builds each one: slower than decode's
 * JSON, which writes syscalls from their parts.
 */
export class TableEventWriter implements SyscallSink {
  private readonly cell: (s: string) => string;
  private readonly sep: string;
  /** Before the line's LF: CR for CSV's CRLF. */
  private readonly cr: string;

  constructor(private readonly out: Output, format: TableFormat, private readonly fields: readonly FieldPath[]) {
    this.cell = format === 'csv' ? csvCell : tsvCell;
    this.sep = format === 'csv' ? ',' : '\t';
    this.cr = format === 'csv' ? '\r' : '';
    this.row(fields.map((f) => f.text));
  }

  syscall(_p: SyscallParts): boolean {
    return false;
  }

  /** One event as one row. */
  readonly event = (e: TraceEvent): void => {
    this.row(this.fields.map((f) => cellText(fieldValue(e, f.parts))));
  };

  private row(cells: string[]): void {
    this.out.line(cells.map(this.cell).join(this.sep) + this.cr);
  }
}

/** decode --json --fields: each event as JSON with only the fields named, nested as in the event. */
export class FieldsJsonWriter implements SyscallSink {
  constructor(private readonly out: Output, private readonly fields: readonly FieldPath[]) {}

  syscall(_p: SyscallParts): boolean {
    return false;
  }

  readonly event = (e: TraceEvent): void => {
    const o: Record<string, unknown> = {};
    for (const f of this.fields) {
      const v = fieldValue(e, f.parts);
      if (v === undefined) continue;
      put(o, f.parts, v);
    }
    this.out.line(toJson(o));
  };
}

/** Sets a value at a path in a fresh object (an index makes the array it indexes, holes null). */
function put(o: Record<string, unknown>, parts: readonly (string | number)[], v: unknown): void {
  let cur: Record<string | number, unknown> = o;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i];
    const nextIsIndex = typeof parts[i + 1] === 'number';
    let child = cur[k];
    if (typeof child !== 'object' || child === null) cur[k] = child = nextIsIndex ? [] : {};
    cur = child as Record<string | number, unknown>;
  }
  cur[parts[parts.length - 1]] = v;
  // Holes in an array read as null in JSON: the path names an element, not its neighbours.
  for (const x of Object.values(o)) if (Array.isArray(x)) for (let i = 0; i < x.length; i++) if (!(i in x)) x[i] = null;
}
