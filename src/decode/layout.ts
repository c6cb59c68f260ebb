// The record-type descriptions a trace file carries (metadata `record_header` and
// `record_types`), validated before anything is generated from them: a hostile file must
// not be able to make the decoder read outside a record or inject code.

// The shapes are the ones src/btf produces at record time; here they are checked, because a
// file's metadata may come from anywhere.
import type {FieldKind, FieldLayout, RecordLayout} from '../btf/layout';
export type {FieldLayout, RecordLayout} from '../btf/layout';

export interface TailSegment {
  name: string;
  len_field: string;
  kind: 'string' | 'strings' | 'bytes';
}

export interface RecordType {
  id: number;
  event: string;
  struct: string;
  layout: RecordLayout;
  tail?: TailSegment[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.]{0,127}$/;
const MAX_RECORD = 16 * 1024 * 1024;
const MAX_FIELDS = 512;

function fail(where: string, what: string): never {
  throw new Error(`bad metadata: ${where}: ${what}`);
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

export function checkLayout(v: unknown, where: string): RecordLayout {
  if (typeof v !== 'object' || v === null) fail(where, 'layout is not a map');
  const l = v as Record<string, unknown>;
  if (typeof l.name !== 'string' || !NAME.test(l.name)) fail(where, 'layout name is not an identifier');
  if (!isInt(l.size, 1, MAX_RECORD)) fail(where, 'layout size out of range');
  if (!Array.isArray(l.fields) || l.fields.length > MAX_FIELDS) fail(where, 'layout fields is not a list');
  const fields: FieldLayout[] = [];
  for (const [i, f] of (l.fields as unknown[]).entries()) {
    const fw = `${where} field ${i}`;
    if (typeof f !== 'object' || f === null) fail(fw, 'not a map');
    const r = f as Record<string, unknown>;
    if (typeof r.name !== 'string' || !NAME.test(r.name)) fail(fw, 'name is not an identifier');
    if (!isInt(r.offset, 0, l.size as number)) fail(fw, `offset out of range`);
    if (!isInt(r.size, 0, (l.size as number) - (r.offset as number))) fail(fw, `${r.name} runs past the record`);
    if (typeof r.kind !== 'string') fail(fw, 'kind is not a string');
    if (r.count !== undefined && !isInt(r.count, 0, MAX_RECORD)) fail(fw, 'count out of range');
    if (r.elemSize !== undefined && !isInt(r.elemSize, 0, MAX_RECORD)) fail(fw, 'elemSize out of range');
    fields.push({
      // An unknown kind is kept: the reader generator falls back to raw bytes for it.
      name: r.name, offset: r.offset as number, size: r.size as number, kind: r.kind as FieldKind,
      count: r.count as number | undefined, elemSize: r.elemSize as number | undefined,
    });
  }
  let tail: {offset: number} | undefined;
  if (l.tail !== undefined && l.tail !== null) {
    const t = l.tail as Record<string, unknown>;
    if (!isInt(t.offset, 0, l.size as number)) fail(where, 'tail offset out of range');
    tail = {offset: t.offset as number};
  }
  return {name: l.name, size: l.size as number, fields, tail};
}

export function checkRecordTypes(v: unknown): RecordType[] {
  if (!Array.isArray(v) || v.length > 256) fail('record_types', 'not a list');
  const seen = new Set<number>();
  return v.map((x, i) => {
    const where = `record_types[${i}]`;
    if (typeof x !== 'object' || x === null) fail(where, 'not a map');
    const r = x as Record<string, unknown>;
    if (!isInt(r.id, 0, 65535)) fail(where, 'id out of range');
    if (seen.has(r.id as number)) fail(where, `duplicate id ${r.id}`);
    seen.add(r.id as number);
    if (typeof r.event !== 'string' || !NAME.test(r.event)) fail(where, 'event is not an identifier');
    const layout = checkLayout(r.layout, where);
    let tail: TailSegment[] | undefined;
    if (r.tail !== undefined && r.tail !== null) {
      if (!Array.isArray(r.tail) || r.tail.length > 16) fail(where, 'tail is not a list');
      if (!layout.tail) fail(where, 'tail segments on a layout without a tail');
      tail = (r.tail as unknown[]).map((s, j) => {
        const sg = s as Record<string, unknown>;
        const sw = `${where} tail ${j}`;
        if (typeof sg !== 'object' || sg === null) fail(sw, 'not a map');
        if (typeof sg.name !== 'string' || !NAME.test(sg.name)) fail(sw, 'name is not an identifier');
        const lf = layout.fields.find((f) => f.name === sg.len_field);
        if (!lf || (lf.kind !== 'uint' && lf.kind !== 'int') || lf.size > 4) fail(sw, `length field ${String(sg.len_field)} not found`);
        if (sg.kind !== 'string' && sg.kind !== 'strings' && sg.kind !== 'bytes') fail(sw, 'unknown kind');
        return {name: sg.name, len_field: sg.len_field as string, kind: sg.kind};
      });
    }
    return {id: r.id as number, event: r.event as string, struct: String(r.struct ?? ''), layout, tail};
  });
}

export function field(layout: RecordLayout, name: string): FieldLayout | undefined {
  return layout.fields.find((f) => f.name === name);
}
