// How a recording ends: what asks it to stop (the command's exit, --duration, a signal,
// the caller's AbortSignal, a write error), and the stop sequence that keeps everything
// in the file — the command stopped first so that its exit is recorded, then detach, the
// last drain, the calls still in progress, the counters, and the trailer.

import * as os from 'node:os';
import type {TraceWriter} from '../format';
import type {SyscallPlan} from '../syscalls';
import type {ChildStatus} from './native';
import type {CounterSums, LossCounter} from './counters';
import type {ChunkWriter} from './chunks';
import type {HashStats} from './hasher';
import type {Drain} from './drain';
import {RECORD_TYPES} from './types';
import {ET_HASH, ET_LOST} from '../abi';

export interface TypeTotals {
  sent: number;
  lost: number;
  recorded: number;
  /** Records a record-time filter kept out of the ring buffer. */
  filtered: number;
}

export type ChildExit = {code: number | null; signal: string | null; core?: boolean};

function signalName(n: number): string {
  return Object.entries(os.constants.signals).find(([, v]) => v === n)?.[0] ?? `signal ${n}`;
}

export function statusOf(st: ChildStatus): ChildExit {
  return st.signal !== null ? {code: null, signal: signalName(st.signal), core: st.core} : {code: st.code, signal: null};
}

/**
 * Stops the command when record ends first (--duration, a signal, a write error), so that
 * its exit is in the file: SIGTERM, then SIGKILL `killAfterMs` later, and waits for it. After
 * a SIGINT the command most likely had one too (the terminal signals the whole foreground
 * group): it gets `killAfterMs` to end on its own first. A second signal to record kills it
 * at once. Returns the last signal sent, if any.
 */
export async function stopCommand(pid: number, done: Promise<void>, afterSigint: boolean, killAfterMs: number,
  onHurry: (f: () => void) => void): Promise<'SIGTERM' | 'SIGKILL' | undefined> {
  let ended = false;
  void done.then(() => (ended = true));
  let hurried = false;
  let cut: () => void = () => {};
  onHurry(() => {
    hurried = true;
    cut();
  });
  const within = async (ms: number): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((r) => {
      cut = r;
      timer = setTimeout(r, ms);
    })]);
    clearTimeout(timer);
  };
  const send = (sig: 'SIGTERM' | 'SIGKILL'): void => {
    try {
      process.kill(pid, sig);
    } catch {
      // gone meanwhile: wait() has or will have its status
    }
  };
  let sent: 'SIGTERM' | 'SIGKILL' | undefined;
  if (afterSigint && !hurried) await within(killAfterMs);
  if (!ended && !hurried) {
    send((sent = 'SIGTERM'));
    await within(killAfterMs);
  }
  if (!ended) {
    send((sent = 'SIGKILL'));
    await done;
  }
  return sent;
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * The reasons to stop, the first of which wins and becomes the end reason: SIGINT,
 * SIGTERM and SIGHUP (while installed), the caller's AbortSignal, --duration, and any
 * stop(reason) of the recorder's own.
 */
export class StopControl {
  /** The end reason, once asked to stop. */
  reason: string | undefined;
  /** The signal that asked, when one did first. */
  bySignal: NodeJS.Signals | undefined;
  /** Resolves once asked to stop. */
  readonly stopped: Promise<void>;
  private wake: () => void = () => {};
  // A second signal while the command is being stopped: kill it now.
  private hurry: () => void = () => {};
  private durationTimer: NodeJS.Timeout | undefined;
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    if (this.reason) this.hurry();
    else this.bySignal = sig;
    this.stop(`signal ${sig}`);
  };
  private readonly onAbort = (): void => this.stop(String(this.signal?.reason ?? 'stopped by the caller'));

  constructor(private readonly signal?: AbortSignal) {
    this.stopped = new Promise<void>((resolve) => (this.wake = resolve));
    signal?.addEventListener('abort', this.onAbort);
  }

  stop(reason: string): void {
    if (this.reason) return;
    this.reason = reason;
    this.wake();
  }

  /** Starts listening for the signals (and stops at once if the caller's signal was aborted already). */
  listen(): void {
    for (const s of SIGNALS) process.on(s, this.onSignal);
    if (this.signal?.aborted) this.onAbort();
  }

  /** --duration: counted from when the recording is set up and the file begun. */
  stopAfter(ms: number): void {
    this.durationTimer = setTimeout(() => this.stop('duration reached'), ms);
  }

  /** Where stopCommand learns how to stop the command at once. */
  onHurry(f: () => void): void {
    this.hurry = f;
  }

  /** Stops listening: a signal after this is the process's own business again. */
  close(): void {
    if (this.durationTimer) clearTimeout(this.durationTimer);
    for (const s of SIGNALS) process.off(s, this.onSignal);
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}

/** The kernel's counters at the end, after the last drain. */
export interface EndCounters {
  types: CounterSums;
  sys: CounterSums | null;
}

/** What the stop sequence stops and drains. */
export interface StopParts {
  control: StopControl;
  /** The command record runs, if it was started; `ended` once its status is known. */
  command?: {pid: number; done: Promise<void>; ended: () => boolean; killAfterMs: number};
  chunks: ChunkWriter;
  drain: Pick<Drain, 'finish' | 'inflightCalls' | 'followOverflow' | 'close'>;
  losses: Pick<LossCounter, 'poll'>;
  syscalls: boolean;
  follow: boolean;
  /** Runs once nothing can ask to stop any more, before the detach (record: give up an output never begun). */
  stopped?: () => void;
}

export interface Stopped {
  /** The signal the command was stopped with, when record stopped first. */
  childStopped: 'SIGTERM' | 'SIGKILL' | undefined;
  end: EndCounters;
  followOverflow: number;
}

/**
 * The stop sequence, once asked to stop: the command first, while the drain still runs,
 * since its end belongs in the file; then no more timers or signals; detach and the last
 * drain; the calls still in progress; the counters, read last so that every record they
 * count as sent is in the file or lost. The object is freed whatever fails. The chunk
 * still pending is left for the caller's last flush.
 */
export async function stopSequence(p: StopParts): Promise<Stopped> {
  let childStopped: Stopped['childStopped'];
  const c = p.command;
  if (c && !c.ended()) {
    childStopped = await stopCommand(c.pid, c.done, p.control.bySignal === 'SIGINT', c.killAfterMs, (f) => p.control.onHurry(f));
  }
  p.chunks.stopInterval();
  p.control.close();
  p.stopped?.();
  try {
    await p.drain.finish();
    if (p.syscalls) for (const f of p.drain.inflightCalls()) p.chunks.frames(f, true);
    const end = p.losses.poll(p.syscalls);
    return {childStopped, end, followOverflow: p.follow ? p.drain.followOverflow() : 0};
  } finally {
    p.drain.close();
  }
}

/**
 * countersSince returns what the counters grew by since `base` (a file of a series counts from its start, where
 * the file before it ended); `base` undefined: since the recording began.
 */
export function countersSince(end: EndCounters, base: EndCounters | undefined): EndCounters {
  if (!base) return end;
  const minus = (a: CounterSums, b: CounterSums | null): CounterSums => ({
    sent: a.sent.map((v, i) => v - (b?.sent[i] ?? 0)),
    lost: a.lost.map((v, i) => v - (b?.lost[i] ?? 0)),
    filtered: a.filtered.map((v, i) => v - (b?.filtered[i] ?? 0)),
  });
  return {types: minus(end.types, base.types), sys: end.sys ? minus(end.sys, base.sys) : null};
}

/** recordedSince returns the records taken per type id since `base` (the same rule as countersSince). */
export function recordedSince(now: Map<number, number>, base: Map<number, number> | undefined): Map<number, number> {
  if (!base) return now;
  const out = new Map<number, number>();
  for (const [id, n] of now) if (n - (base.get(id) ?? 0)) out.set(id, n - (base.get(id) ?? 0));
  return out;
}

/** Sent, lost, recorded and filtered per record type: `lost` records are the recorder's, so they were sent as recorded. */
export function typeTotals(recorded: Map<number, number>, end: EndCounters | undefined): Record<string, TypeTotals> {
  const totals: Record<string, TypeTotals> = {};
  for (const t of RECORD_TYPES) {
    if (t.id === ET_HASH) continue; // not an event: the trailer's `hashes` counts them
    const c = end?.types;
    totals[t.event] = {
      sent: t.id === ET_LOST ? recorded.get(t.id) ?? 0 : c?.sent[t.id] ?? 0,
      lost: t.id === ET_LOST ? 0 : c?.lost[t.id] ?? 0,
      recorded: recorded.get(t.id) ?? 0,
      filtered: t.id === ET_LOST ? 0 : c?.filtered[t.id] ?? 0,
    };
  }
  return totals;
}

/** Per syscall: sys_exit records sent and lost, and calls a filter left out (syscalls that had none of them left out). */
export function syscallTotals(plan: SyscallPlan, sc: CounterSums): Record<string, {sent: number; lost: number; filtered: number}> {
  const totalsSys: Record<string, {sent: number; lost: number; filtered: number}> = {};
  for (let nr = 0; nr < sc.sent.length; nr++) {
    if (!sc.sent[nr] && !sc.lost[nr] && !sc.filtered[nr]) continue;
    const name = plan.meta.table[String(nr)] ?? `syscall_${nr}`;
    totalsSys[name] = {sent: sc.sent[nr], lost: sc.lost[nr], filtered: sc.filtered[nr]};
  }
  return totalsSys;
}

/** The trailer's fields (formats/trace-format.md). */
export interface Trailer {
  clock_end: unknown;
  chunks: number;
  records: number;
  totals: Record<string, TypeTotals>;
  totals_sys?: Record<string, {sent: number; lost: number; filtered: number}>;
  inflight_calls?: number;
  end_reason: string;
  follow_overflow?: number;
  /** What the recorder hashed (formats/trace-format.md §10.16). */
  hashes?: HashStats;
  unknown_types: number[];
  /** In a file of a series (formats/trace-format.md §11): its place, and the file the recording went on in. */
  series?: {id: string; seq: number; next: string | null};
}

/**
 * Closes the file with its trailer. A write error met earlier, or one now, throws: the
 * writer then cuts off the block it could not finish, so the file ends at its last
 * complete chunk, without a trailer.
 */
export function writeTrailer(writer: TraceWriter, writeError: Error | undefined, trailer: Trailer): void {
  if (writeError) throw writeError;
  writer.close(trailer);
}
