// From raw records to the event model of PRODUCT.md: the generated readers give the
// fields; this adds what needs state or meaning — wall-clock time, errno and signal names,
// the argv limit in force when recording, the cgroup path, and the last known image of a
// process when it exits.

import {errnoName} from '../util/errno';
import {WallClock} from '../util/time';
import {checkLayout, checkRecordTypes, RecordLayout, RecordType} from './layout';
import {compileType, CompiledType, RawEvent} from './records';

export type TraceEvent = RawEvent & {time: string};

/** The parts of a file's metadata the decoder relies on (see formats/trace-format.md). */
export interface DecodeMeta {
  record_header: RecordLayout;
  record_types: RecordType[];
  clock: {start: {boot_ns: number | bigint; realtime_ns: number | bigint}};
  options?: {max_args?: number};
  flags?: {truncated?: number};
  cgroups?: Record<string, string>;
  processes?: SnapshotProcess[];
}

export interface SnapshotProcess {
  pid: number;
  ppid: number;
  comm: string;
  filename?: string | null;
  argv?: string[];
  start_time_ns?: number;
  [k: string]: unknown;
}

export interface DecodeCounts {
  records: number;
  decoded: number;
  unknownType: number;
  malformed: number;
}

interface Known {
  filename?: string | null;
  argv?: string[];
}

const EVENT_ORDER = ['type', 'time', 'ts_ns', 'pid', 'tid', 'ppid', 'uid', 'gid', 'comm'];

export class Decoder {
  readonly types = new Map<number, CompiledType>();
  readonly eventNames: string[] = [];
  readonly clock: WallClock;
  readonly counts: DecodeCounts = {records: 0, decoded: 0, unknownType: 0, malformed: 0};
  private readonly typeField: {offset: number; size: number};
  private readonly sizeField: {offset: number; size: number} | undefined;
  private readonly maxArgs: number;
  private readonly cgroups: Map<number, string>;
  private readonly known = new Map<number, Known>();
  private readonly enums = new Map<string, Map<string, Record<string, string>>>();
  private readonly snapshotBootNs: number;

  constructor(private readonly meta: DecodeMeta) {
    const header = checkLayout(meta.record_header, 'record_header');
    const tf = header.fields.find((f) => f.name === 'type');
    if (!tf || (tf.size !== 2 && tf.size !== 4 && tf.size !== 1)) throw new Error('bad metadata: record_header has no type field');
    this.typeField = tf;
    this.sizeField = header.fields.find((f) => f.name === 'size');
    const truncatedBit = Number(meta.flags?.truncated ?? 0) >>> 0;
    for (const rt of checkRecordTypes(meta.record_types)) {
      this.types.set(rt.id, compileType(rt, header, truncatedBit));
      this.eventNames[rt.id] = rt.event;
      const en = (meta.record_types.find((r) => r.id === rt.id) as unknown as {enums?: unknown}).enums;
      if (en && typeof en === 'object') this.enums.set(rt.event, new Map(Object.entries(en as Record<string, Record<string, string>>)));
    }
    if (!meta.clock || !meta.clock.start) throw new Error('bad metadata: no clock');
    this.clock = new WallClock(meta.clock.start);
    this.snapshotBootNs = Number(meta.clock.start.boot_ns);
    const ma = meta.options?.max_args;
    this.maxArgs = typeof ma === 'number' && ma > 0 ? ma : Infinity;
    this.cgroups = new Map(Object.entries(meta.cgroups ?? {}).map(([k, v]) => [Number(k), String(v)]));
    for (const p of meta.processes ?? []) this.known.set(p.pid, {filename: p.filename, argv: p.argv});
  }

  /** The processes alive when recording started, as `process` events. */
  processEvents(): TraceEvent[] {
    const out: TraceEvent[] = [];
    for (const p of this.meta.processes ?? []) {
      const e: Record<string, unknown> = {type: 'process', time: this.clock.rfc3339(this.snapshotBootNs), ts_ns: this.snapshotBootNs};
      for (const [k, v] of Object.entries(p)) if (k !== 'start_time_ns') e[k] = v;
      if (typeof p.start_time_ns === 'number') e.start_time = this.clock.rfc3339(p.start_time_ns);
      out.push(e as TraceEvent);
    }
    return out;
  }

  /** The type id of a record, read through the header layout. */
  typeOf(b: Buffer, o: number): number {
    const f = this.typeField;
    return f.size === 2 ? b.readUInt16LE(o + f.offset) : f.size === 4 ? b.readUInt32LE(o + f.offset) : b.readUInt8(o + f.offset);
  }

  /**
   * Decodes one record of n bytes at b[o]; returns null (and counts why) for a record of an
   * unknown type or one too short for its layout.
   */
  decode(b: Buffer, o: number, n: number): TraceEvent | null {
    this.counts.records++;
    if (n < this.typeField.offset + this.typeField.size) {
      this.counts.malformed++;
      return null;
    }
    const t = this.types.get(this.typeOf(b, o));
    if (!t) {
      this.counts.unknownType++;
      return null;
    }
    if (n < t.minSize) {
      this.counts.malformed++;
      return null;
    }
    const e = t.read(b, o, n) as TraceEvent;
    this.finish(e);
    this.counts.decoded++;
    return e;
  }

  private finish(e: TraceEvent): void {
    e.time = this.clock.rfc3339(e.ts_ns);
    const cg = e.cgroup_id;
    if (typeof cg === 'number' && this.cgroups.has(cg)) e.cgroup = this.cgroups.get(cg);
    const en = this.enums.get(e.type);
    if (en) for (const [k, names] of en) if (e[k] !== undefined && names[String(e[k])]) e[k] = names[String(e[k])];
    switch (e.type) {
      case 'exec': {
        const argv = e.argv as string[] | undefined;
        if (argv && argv.length > this.maxArgs) {
          argv.length = this.maxArgs;
          e.truncated = true;
        }
        if (argv && typeof e.argc === 'number' && argv.length < e.argc) e.truncated = true;
        if (e.interp === e.filename) delete e.interp;
        this.known.set(e.pid as number, {filename: e.filename as string, argv});
        break;
      }
      case 'exec_failed': {
        if (typeof e.error_code === 'number') e.errno = errnoName(e.error_code);
        break;
      }
      case 'fork': {
        const parent = this.known.get(e.ppid as number);
        if (parent) this.known.set(e.pid as number, parent);
        break;
      }
      case 'exit': {
        const c = Number(e.exit_code) >>> 0;
        const sig = c & 0x7f;
        e.exit_code = (c >> 8) & 0xff;
        e.signal = sig === 0 ? null : sig;
        e.core_dumped = (c & 0x80) !== 0;
        const k = this.known.get(e.pid as number);
        if (k) {
          if (k.filename != null) e.filename = k.filename;
          if (k.argv) e.argv = k.argv;
        }
        this.known.delete(e.pid as number);
        break;
      }
      case 'lost': {
        const name = this.eventNames[e.event_type as number];
        e.event = name ?? `type${e.event_type}`;
        delete e.event_type;
        delete e.pid;
        delete e.tid;
        if (typeof e.window_start_ns === 'number') e.window_start = this.clock.rfc3339(e.window_start_ns);
        if (typeof e.window_end_ns === 'number') e.window_end = this.clock.rfc3339(e.window_end_ns);
        break;
      }
    }
  }
}

/** Puts the common keys first, in the event model's order, for readable JSON. */
export function ordered(e: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of EVENT_ORDER) if (k in e) out[k] = e[k];
  for (const k of Object.keys(e)) if (!(k in out)) out[k] = e[k];
  return out;
}
