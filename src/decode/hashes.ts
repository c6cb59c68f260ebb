// An exec's `sha256` (or `sha256_error`): the recorder writes an et_hash record just before
// each exec record it hashed (formats/trace-format.md §10.16). The decoder keeps the latest
// one per pid until that pid's exec comes, and checks that it names that very exec (the
// process's start and exec count), so a hash record can never be given to another exec.

import type {RecordLayout, RecordType} from './layout';
import {helpers} from './records';

interface Pending {
  start: number | bigint;
  seq: number | bigint;
  status: number;
  /** Hex digest when status is 0. */
  sha256: string | null;
}

interface At {
  offset: number;
  size: number;
}

export class ExecHashes {
  /** The type id of hash records. */
  readonly id: number;
  private readonly pid: At;
  private readonly start: At;
  private readonly seq: At;
  private readonly status: At;
  private readonly sha: At;
  private readonly names: Record<string, string>;
  private readonly pending = new Map<number, Pending>();

  /**
   * `rt`: the `hash` record type of the file; `header`: et_header's layout; `names`: its
   * `enums.status` (value → name). `recorded`: the file's options say the recorder hashed
   * (options.hash), so an exec without a hash record says `missing`.
   */
  constructor(rt: RecordType, header: RecordLayout, names: unknown, private readonly recorded: boolean) {
    const at = (l: RecordLayout, name: string, sizes: number[]): At => {
      const f = l.fields.find((x) => x.name === name);
      if (!f || !sizes.includes(f.size)) throw new Error(`bad metadata: ${l.name} has no usable ${name}`);
      return {offset: f.offset, size: f.size};
    };
    this.id = rt.id;
    this.pid = at(header, 'pid', [4]);
    this.start = at(rt.layout, 'start_ns', [8]);
    this.seq = at(rt.layout, 'exec_seq', [8]);
    this.status = at(rt.layout, 'status', [4]);
    this.sha = at(rt.layout, 'sha256', [32]);
    this.names = {};
    if (typeof names === 'object' && names !== null) {
      for (const [k, v] of Object.entries(names)) if (typeof v === 'string') this.names[k] = v;
    }
  }

  /** The fixed size a hash record needs. */
  get minSize(): number {
    return Math.max(...[this.pid, this.start, this.seq, this.status, this.sha].map((a) => a.offset + a.size));
  }

  /** A hash record of n bytes at b[o] (n >= minSize): kept for its pid's next exec. */
  take(b: Buffer, o: number): void {
    const status = b.readUInt32LE(o + this.status.offset);
    this.pending.set(b.readUInt32LE(o + this.pid.offset), {
      start: helpers.u64(b, o + this.start.offset),
      seq: helpers.u64(b, o + this.seq.offset),
      status,
      sha256: status === 0 ? b.toString('hex', o + this.sha.offset, o + this.sha.offset + 32) : null,
    });
  }

  /** Gives exec event e (its process's start and exec count) its digest or why it has none. */
  stamp(e: Record<string, unknown>, start: number | bigint, seq: number | bigint): void {
    const pid = e.pid as number;
    const h = this.pending.get(pid);
    if (h) this.pending.delete(pid);
    if (h && h.start === start && h.seq === seq) {
      if (h.sha256 !== null) e.sha256 = h.sha256;
      else e.sha256_error = this.names[String(h.status)] ?? `status ${h.status}`;
    } else if (this.recorded) {
      e.sha256_error = 'missing';
    }
  }
}
