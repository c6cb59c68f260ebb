// Progress on stderr for long work (decode into a file or a pipe, filter -o, recover,
// verify; export and query can use it too): one line, redrawn in place with \r, that says
// how many bytes of the input and how many records are done, the rate and the time left,
// and is erased when the work ends, so what stays on the terminal is what it was before.
//
// It guarantees silence where a line would be noise or damage: nothing at all unless stderr
// is a terminal, nothing with quiet, and nothing for work that ends within the first
// second (the threshold). Decoding is one synchronous loop, so no timer could fire while it
// runs: the work calls update() (after each chunk) and the line is redrawn from there, at
// most every REDRAW_MS. Writes go straight to fd 2, synchronously, between chunks.

import * as fs from 'node:fs';
import * as tty from 'node:tty';
import type {ProgressPoint} from '../format';

export type {ProgressFn, ProgressPoint} from '../format';

/** ProgressOptions say where the line goes and when it shows. */
export interface ProgressOptions {
  /** The word that starts the line: `decode`, `verify` … */
  label: string;
  /** Never show (a command's --quiet). */
  quiet?: boolean;
  /** Show only when this holds too (decode: stdout is not a terminal). */
  when?: boolean;
  /** The terminal's file descriptor (default 2, stderr); tests give another. */
  fd?: number;
  /** Milliseconds of work before the line first shows (default 1000; EXECTRACE_PROGRESS_AFTER_MS overrides it). */
  afterMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

const REDRAW_MS = 200;

/**
 * Progress is one progress line on a terminal. Make one with progressFor() before the
 * work starts; pass its `update` as the library's onProgress; call clear() before writing
 * any other line to stderr, and end() when the work is done (or failed). Single-threaded:
 * every method runs on the main thread, between chunks.
 */
export class Progress {
  /** Whether this line can ever show (stderr a terminal, not quiet, `when`). */
  readonly enabled: boolean;
  private readonly fd: number;
  private readonly afterMs: number;
  private readonly now: () => number;
  private readonly started: number;
  private lastDraw = -Infinity;
  private shown = false;
  /** The stage being drawn, and when it started (its time left counts from then). */
  private stage: string | undefined;
  private stageStarted: number;

  constructor(private readonly o: ProgressOptions, isTerminal: boolean) {
    this.fd = o.fd ?? 2;
    this.now = o.now ?? (() => performance.now());
    this.started = this.now();
    this.stageStarted = this.started;
    this.afterMs = thresholdMs(o.afterMs);
    this.enabled = isTerminal && !o.quiet && o.when !== false;
  }

  /** update redraws the line with `p` if the work has run past the threshold and the last redraw is REDRAW_MS old. */
  readonly update = (p: ProgressPoint): void => {
    if (!this.enabled) return;
    const t = this.now();
    if (p.stage !== this.stage) {
      this.stage = p.stage;
      this.stageStarted = t;
    }
    const ran = t - this.started;
    if (ran < this.afterMs || t - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = t;
    this.shown = true;
    this.write(`\r${progressLine(this.o.label, p, ran, t - this.stageStarted)}\x1b[K`);
  };

  /** clear erases the line (if shown) so that another line can be written to stderr; the next update draws it again. */
  clear(): void {
    if (!this.shown) return;
    this.shown = false;
    this.lastDraw = -Infinity;
    this.write('\r\x1b[K');
  }

  /** end erases the line for good: the work is over. */
  end(): void {
    this.clear();
  }

  private write(s: string): void {
    try {
      fs.writeSync(this.fd, s);
    } catch {
      // A terminal that went away: progress is not worth failing the work for.
    }
  }
}

/**
 * progressFor makes the progress line of a command: shown on stderr only when stderr is a
 * terminal (and `when` holds, and not `quiet`).
 */
export function progressFor(o: ProgressOptions): Progress {
  const fd = o.fd ?? 2;
  return new Progress(o, tty.isatty(fd));
}

/** The threshold in ms: the option, else EXECTRACE_PROGRESS_AFTER_MS (a test hook), else 1000. */
function thresholdMs(given: number | undefined): number {
  const env = process.env.EXECTRACE_PROGRESS_AFTER_MS;
  if (env !== undefined && /^\d+$/.test(env)) return Number(env);
  return given ?? 1000;
}

/**
 * progressLine is the text of the line: `exectrace decode: 12.0 MiB of 40.0 MiB (30%),
 * 1,234,567 records, 2.1M records/s, 8s left`; with a stage, `exectrace recover: copying
 * 12.0 MiB of …` and the time left of that stage. `stageMs` is how long the stage has run
 * (the whole work's `elapsedMs` without one).
 */
export function progressLine(label: string, p: ProgressPoint, elapsedMs: number, stageMs = elapsedMs): string {
  const pct = p.total > 0 ? Math.min(100, Math.floor((100 * p.bytes) / p.total)) : 0;
  const secs = elapsedMs / 1000;
  const rate = secs > 0 ? p.records / secs : 0;
  const byteRate = stageMs > 0 ? p.bytes / (stageMs / 1000) : 0;
  const left = byteRate > 0 && p.total > p.bytes ? (p.total - p.bytes) / byteRate : 0;
  // A stage younger than half a second has no rate to go by yet.
  const eta = stageMs >= 500 ? `, ${clock(left)} left` : '';
  return `exectrace ${label}: ${p.stage ? `${p.stage} ` : ''}${mib(p.bytes)} of ${mib(p.total)} (${pct}%), ` +
    `${p.records.toLocaleString('en-US')} records, ${shortCount(rate)} records/s${eta}`;
}

function mib(n: number): string {
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function shortCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

function clock(s: number): string {
  const t = Math.ceil(s);
  if (t < 60) return `${t}s`;
  return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
}
