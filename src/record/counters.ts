// The kernel's per-CPU counters (sent, lost, filtered per record type, and per syscall),
// read on the flush interval: a lost counter that grew since the last read becomes a
// `lost` record at that point in the stream, with the window it was lost in, so the file
// says what is missing and when. The counters come through a read function, not the
// addon, so this runs without a kernel (test/record-chunks.test.ts).

import type {RecordLayout} from '../btf';

/** Per-key sums over the CPUs of one counter map (`counters` by record type, `sys_counters` by syscall). */
export interface CounterSums {
  sent: number[];
  lost: number[];
  filtered: number[];
}

export interface FieldPos {
  offset: number;
  size: number;
}

export function pos(l: RecordLayout, name: string): FieldPos {
  const f = l.fields.find((x) => x.name === name);
  if (!f) throw new Error(`bpf object: ${l.name} has no field ${name}`);
  return {offset: f.offset, size: f.size};
}

export function writeUint(b: Buffer, at: FieldPos, v: number | bigint): void {
  switch (at.size) {
    case 2: b.writeUInt16LE(Number(v), at.offset); break;
    case 4: b.writeUInt32LE(Number(v), at.offset); break;
    case 8: b.writeBigUInt64LE(BigInt(v), at.offset); break;
    default: throw new Error(`write field: unsupported size ${at.size}`);
  }
}

export interface LossOptions {
  /** struct et_counter and struct et_lost, from the object's BTF. */
  counter: RecordLayout;
  lost: RecordLayout;
  lostType: number;
  /** The type id of sys_exit records: a syscall's losses are reported on it, with its number. */
  sysExitType: number;
  nrCpus: number;
  /** The raw values of a per-CPU counter map, as NativeTracer.counters returns them. */
  read: (map: string) => Buffer;
  /** Boot-clock ns now. */
  now: () => number;
  /** Where the window of the first losses starts: the recording's start. */
  startNs: number;
  /** Takes each lost record made, as one frame. */
  emit: (frame: Buffer) => void;
}

export class LossCounter {
  private readonly prev = new Map<string, Float64Array>();
  private prevPollNs: number;
  private readonly sentAt: FieldPos;
  private readonly lostAt: FieldPos;
  private readonly filteredAt: FieldPos | null;
  private readonly stride: number;

  constructor(private readonly o: LossOptions) {
    this.prevPollNs = o.startNs;
    this.sentAt = pos(o.counter, 'sent');
    this.lostAt = pos(o.counter, 'lost');
    this.filteredAt = o.counter.fields.some((f) => f.name === 'filtered') ? pos(o.counter, 'filtered') : null;
    this.stride = Math.ceil(o.counter.size / 8) * 8; // the kernel rounds per-CPU values to 8 bytes
  }

  /** Reads `counters` (and `sys_counters` when syscalls are recorded); returns the sums (the trailer's totals at the end). */
  poll(syscalls: boolean): {types: CounterSums; sys: CounterSums | null} {
    const now = this.o.now();
    const types = this.pollMap('counters', now, (k) => [k, 0]);
    const sys = syscalls ? this.pollMap('sys_counters', now, (k) => [this.o.sysExitType, k]) : null;
    this.prevPollNs = now;
    return {types, sys};
  }

  /**
   * Reads one per-CPU counter map and emits a `lost` record (event type and syscall from
   * `lostOf(key)`) for every per-CPU lost counter that grew since the last poll.
   */
  private pollMap(map: string, now: number, lostOf: (key: number) => [number, number]): CounterSums {
    const {nrCpus} = this.o;
    const stride = this.stride;
    const raw = this.o.read(map);
    const keys = raw.length / (nrCpus * stride);
    const sums: CounterSums = {sent: new Array(keys).fill(0), lost: new Array(keys).fill(0), filtered: new Array(keys).fill(0)};
    let prev = this.prev.get(map);
    if (!prev || prev.length !== keys * nrCpus) this.prev.set(map, (prev = new Float64Array(keys * nrCpus)));
    for (let k = 0; k < keys; k++) {
      for (let c = 0; c < nrCpus; c++) {
        const o = (k * nrCpus + c) * stride;
        const l = Number(raw.readBigUInt64LE(o + this.lostAt.offset));
        sums.sent[k] += Number(raw.readBigUInt64LE(o + this.sentAt.offset));
        sums.lost[k] += l;
        if (this.filteredAt) sums.filtered[k] += Number(raw.readBigUInt64LE(o + this.filteredAt.offset));
        const delta = l - prev[k * nrCpus + c];
        if (delta > 0) {
          prev[k * nrCpus + c] = l;
          const [eventType, nr] = lostOf(k);
          this.o.emit(this.lostFrame(c, eventType, nr, delta, now));
        }
      }
    }
    return sums;
  }

  private lostFrame(cpu: number, eventType: number, nr: number, count: number, now: number): Buffer {
    const lostL = this.o.lost;
    const frame = Buffer.alloc(4 + lostL.size);
    frame.writeUInt32LE(lostL.size, 0);
    const rec = frame.subarray(4);
    writeUint(rec, pos(lostL, 'hdr.type'), this.o.lostType);
    writeUint(rec, pos(lostL, 'hdr.size'), lostL.size);
    writeUint(rec, pos(lostL, 'hdr.ts_ns'), BigInt(now));
    writeUint(rec, pos(lostL, 'hdr.cpu'), cpu);
    writeUint(rec, pos(lostL, 'event_type'), eventType);
    if (lostL.fields.some((f) => f.name === 'nr')) writeUint(rec, pos(lostL, 'nr'), nr);
    writeUint(rec, pos(lostL, 'count'), BigInt(count));
    writeUint(rec, pos(lostL, 'window_start_ns'), BigInt(this.prevPollNs));
    writeUint(rec, pos(lostL, 'window_end_ns'), BigInt(now));
    return frame;
  }
}
