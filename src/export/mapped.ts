// The tables of `exectrace export --schema ecs|ocsf` (formats/parquet-schema.md, "Mapped
// tables"): each event mapped as `decode --schema` maps it (src/schema), one row each, the
// whole mapped document as JSON text in `document`, and beside it, as typed columns named
// by the standard's own dotted field names, the fields a query over many hosts filters and
// groups by first. A field the document lacks is null in its column.

import type {TraceEvent} from '../api/events';
import type {ColumnData, Field, ParquetWriter} from '../parquet';
import {mapEvent, type Schema, type SchemaContext} from '../schema';
import {toJson} from '../util/json';
import {TimeParser} from './rows';

type Kind = 'string' | 'int32' | 'int64' | 'timestamp' | 'ms' | 'list';

/** One typed column: its name (the standard's dotted field name) and how its value is written. */
interface Column {
  name: string;
  kind: Kind;
}

const COLUMNS: Record<Schema, readonly Column[]> = {
  ecs: [
    {name: '@timestamp', kind: 'timestamp'}, {name: 'host.name', kind: 'string'},
    {name: 'event.kind', kind: 'string'}, {name: 'event.category', kind: 'list'}, {name: 'event.type', kind: 'list'},
    {name: 'event.action', kind: 'string'}, {name: 'event.outcome', kind: 'string'},
    {name: 'process.entity_id', kind: 'string'}, {name: 'process.pid', kind: 'int64'}, {name: 'process.name', kind: 'string'},
    {name: 'process.executable', kind: 'string'}, {name: 'process.command_line', kind: 'string'},
    {name: 'process.parent.entity_id', kind: 'string'}, {name: 'process.parent.pid', kind: 'int64'},
    {name: 'process.hash.sha256', kind: 'string'}, {name: 'user.id', kind: 'string'}, {name: 'container.id', kind: 'string'},
  ],
  ocsf: [
    {name: 'time', kind: 'ms'}, {name: 'device.hostname', kind: 'string'},
    {name: 'class_uid', kind: 'int32'}, {name: 'category_uid', kind: 'int32'}, {name: 'activity_id', kind: 'int32'},
    {name: 'type_uid', kind: 'int64'}, {name: 'status_id', kind: 'int32'},
    {name: 'process.uid', kind: 'string'}, {name: 'process.pid', kind: 'int64'}, {name: 'process.name', kind: 'string'},
    {name: 'process.file.path', kind: 'string'}, {name: 'process.cmd_line', kind: 'string'},
    {name: 'actor.process.uid', kind: 'string'}, {name: 'actor.process.pid', kind: 'int64'}, {name: 'actor.user.uid', kind: 'string'},
  ],
};

/** MAPPED_FIELDS are the columns of the mapped table of each schema, in file order: the typed ones, then `document`. */
export const MAPPED_FIELDS: Readonly<Record<Schema, readonly Field[]>> = {
  ecs: fieldsOf(COLUMNS.ecs),
  ocsf: fieldsOf(COLUMNS.ocsf),
};

function fieldsOf(cols: readonly Column[]): Field[] {
  const out: Field[] = cols.map((c): Field => {
    switch (c.kind) {
      case 'list': return {name: c.name, list: 'string'};
      case 'timestamp': return {name: c.name, type: 'timestamp'};
      case 'ms': return {name: c.name, type: 'int64'};
      default: return {name: c.name, type: c.kind};
    }
  });
  out.push({name: 'document', type: 'string', required: true});
  return out;
}

/** The value at a dotted path of a mapped document (`process.parent.pid`), or undefined. */
function at(doc: Record<string, unknown>, dotted: string): unknown {
  // '@timestamp' and top-level names first: a name is never split where the document has it whole.
  if (dotted in doc) return doc[dotted];
  let v: unknown = doc;
  for (const part of dotted.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** MappedRows writes events, mapped onto one schema, as rows of its table. */
export class MappedRows {
  private readonly cols: readonly Column[];
  private readonly time = new TimeParser();

  constructor(private readonly w: ParquetWriter, private readonly schema: Schema, private readonly ctx: SchemaContext) {
    this.cols = COLUMNS[schema];
  }

  /** add writes one event's row. */
  add(e: TraceEvent): void {
    const doc = mapEvent(e, this.schema, this.ctx);
    for (let i = 0; i < this.cols.length; i++) {
      const c = this.cols[i];
      const v = at(doc, c.name);
      if (c.kind === 'list') {
        this.w.strings(i, Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : null);
        continue;
      }
      put(this.w.col(i), c.kind, v, this.time);
    }
    this.w.col(this.cols.length).str(toJson(doc));
    this.w.endRow();
  }
}

function put(c: ColumnData, kind: Kind, v: unknown, time: TimeParser): void {
  if (v === undefined || v === null) return c.null();
  switch (kind) {
    case 'string':
      return c.str(typeof v === 'string' ? v : String(v));
    case 'int32':
      return typeof v === 'number' && Number.isInteger(v) ? c.int32(v) : c.null();
    case 'int64':
    case 'ms':
      return (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint' ? c.int64(v) : c.null();
    case 'timestamp':
      return time.put(c, v);
  }
}
