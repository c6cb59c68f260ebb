// Schemas for SIEMs: the event model mapped onto Elastic Common Schema (ECS) and onto the
// Open Cybersecurity Schema Framework (OCSF), for shippers and SIEMs that already speak
// them (decode --json --schema ecs|ocsf). One object in, one object out, nothing kept
// between events: a Parquet export or a live shipper can call mapEvent the same way.
//
// What maps where, and what does not, is in the README (Schemas for SIEMs); ecs.ts and
// ocsf.ts hold one mapping each. What neither standard has a field for goes under
// `exectrace` (ECS: a custom field set, as ECS asks custom fields to be named) or
// `unmapped` (OCSF's own place for it), so no recorded fact is dropped.

import type {TraceEvent} from '../api/events';
import {toEcs} from './ecs';
import {toOcsf} from './ocsf';

export {toEcs, ECS_VERSION} from './ecs';
export {toOcsf, OCSF_VERSION} from './ocsf';

/** SCHEMAS are the schemas decode --schema knows. */
export const SCHEMAS = ['ecs', 'ocsf'] as const;

/** Schema is a name decode --schema takes. */
export type Schema = (typeof SCHEMAS)[number];

/** SchemaContext is what a mapping needs of the recording beside the event (its metadata's host and writer). */
export interface SchemaContext {
  /** The recording host's name (host.hostname in the file). */
  hostname?: string;
  /** Its boot id. */
  bootId?: string;
  /** Its kernel release (uname -r) and architecture. */
  kernel?: string;
  arch?: string;
  /** The exectrace version that wrote the file. */
  version?: string;
}

/** schemaContextOf reads a SchemaContext from a trace file's metadata (host, writer version). */
export function schemaContextOf(meta: Readonly<Record<string, unknown>>): SchemaContext {
  const m = meta as {host?: {hostname?: unknown; boot_id?: unknown; kernel_release?: unknown; arch?: unknown}; exectrace?: unknown};
  const s = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return {hostname: s(m.host?.hostname), bootId: s(m.host?.boot_id), kernel: s(m.host?.kernel_release), arch: s(m.host?.arch), version: s(m.exectrace)};
}

/** mapEvent maps one event onto `schema` (toEcs or toOcsf). Pure: safe from any thread, allocates only its result. */
export function mapEvent(e: TraceEvent, schema: Schema, ctx: SchemaContext = {}): Record<string, unknown> {
  return schema === 'ecs' ? toEcs(e, ctx) : toOcsf(e, ctx);
}
