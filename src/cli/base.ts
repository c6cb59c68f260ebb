// What every exectrace command shares: --debug, and the rule that a user's mistake is one
// line on stderr with a non-zero exit, never a stack trace (the stack only with --debug).

import {Command, Flags, Interfaces} from '@oclif/core';
import {UsageError} from '../util/errors';
import {type Progress, progressFor, type ProgressOptions} from './progress';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;

/** Exit statuses shared by the commands. */
export const EXIT = {ok: 0, error: 1, usage: 2, damaged: 3} as const;

export abstract class BaseCommand extends Command {
  static override baseFlags = {
    debug: Flags.boolean({description: 'show internal errors with their stack trace', helpGroup: 'GLOBAL'}),
  };

  protected debugMode(): boolean {
    return this.argv.includes('--debug') || process.env.EXECTRACE_DEBUG === '1';
  }

  /** The command's progress line (startProgress), erased before any other line goes to stderr. */
  private progressLine: Progress | null = null;

  /** Writes one line to stderr, prefixed with the program name. */
  protected warnLine(msg: string): void {
    this.progressLine?.clear();
    process.stderr.write(`exectrace: ${msg}\n`);
  }

  /**
   * startProgress makes the command's progress line (src/cli/progress.ts): on stderr when it
   * is a terminal, after a second of work. Its `update` is the library's onProgress; it is
   * erased when the command ends, and before each warnLine.
   */
  protected startProgress(o: Omit<ProgressOptions, 'label'> & {label?: string} = {}): Progress {
    const p = progressFor({label: o.label ?? this.id ?? 'exectrace', ...o});
    this.progressLine = p;
    return p;
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.progressLine?.end();
    return super.finally(err);
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}; code?: string}): Promise<void> {
    this.progressLine?.end();
    let exit = err.oclif?.exit ?? err.exitCode ?? EXIT.error;
    if (err.code === 'EEXIT' || (err.oclif && exit === 0)) throw err;
    if (err.code === 'EPIPE') process.exit(0);
    // oclif's parse errors (unknown flag, bad value, missing argument) span several lines
    // and end in "See more help": one line of ours, with where to look, and status 2.
    const parse = parseErrorLine(err);
    if (parse !== null) exit = EXIT.usage;
    if (this.debugMode()) process.stderr.write(`${err.stack ?? err.message}\n`);
    else {
      const cmd = [this.config.bin, this.id].filter(Boolean).join(' ');
      const msg = parse !== null ? `${parse} (see ${cmd} --help)` : firstLine(err.message);
      process.stderr.write(`exectrace ${this.id ?? ''}: ${msg}\n`.replace(/ :/, ':'));
    }
    process.exit(typeof exit === 'number' && exit > 0 ? exit : EXIT.error);
  }
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

const SEE_HELP = /\n?See more help with --help\s*$/;
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * One line for an error of oclif's argument parser, or null for any other error. The
 * parser wraps what a flag's parse() threw as `Parsing --pid \n\t<message>`; its own
 * integer parser says `Expected an integer but received: abc`.
 */
export function parseErrorLine(err: Error & {parse?: unknown; args?: {name?: string; description?: string}[]}): string | null {
  const msg = err.message.replace(ANSI, '');
  const wrapped = /^Parsing --([\w-]+) *\n\t([\s\S]*?)(?:\nSee more help with --help)?\s*$/.exec(msg);
  // A parse() of ours may name its flag itself (UsageError messages do): once is enough.
  if (wrapped) return `--${wrapped[1]}: ${valueReason(wrapped[2].trim().replace(`--${wrapped[1]}: `, ''))}`;
  if (err.parse === undefined) return null;
  const body = msg.replace(SEE_HELP, '');
  if (Array.isArray(err.args) && /^Missing \d+ required arg/.test(body)) {
    const names = err.args.map((a) => `${(a.name ?? '?').toUpperCase()}${a.description ? ` (${a.description})` : ''}`);
    return `missing argument${names.length === 1 ? '' : 's'} ${names.join(', ')}`;
  }
  const option = /^Expected --([\w-]+)=([\s\S]*) to be one of: (.*)$/.exec(body);
  if (option) return `--${option[1]}: expected one of ${option[3]}, got ${JSON.stringify(option[2])}`;
  const nonexistent = /^Nonexistent flags?: (.*)$/.exec(body);
  if (nonexistent) return `unknown flag ${nonexistent[1]}`;
  const unexpected = /^Unexpected arguments?: (.*)$/.exec(body);
  if (unexpected) return `unexpected argument ${unexpected[1]}`;
  const lines = body.split('\n').map((l) => l.trim()).filter((l) => l && !/^The following errors? occurred:$/.test(l));
  return lines.join('; ');
}

/** oclif's words for a value its integer parser refused, in ours: what was expected, and what came. */
function valueReason(s: string): string {
  let m = /^Expected an integer but received: ([\s\S]*)$/.exec(s);
  if (m) return `expected an integer, got ${JSON.stringify(m[1])}`;
  m = /^Expected an integer (greater|less) than or equal to (-?\d+) but received: ([\s\S]*)$/.exec(s);
  if (m) return `expected an integer ${m[1] === 'greater' ? 'of at least' : 'of at most'} ${m[2]}, got ${JSON.stringify(m[3])}`;
  return firstLine(s);
}

/** "30s", "5m", "1500ms", "2h" → milliseconds. */
export function parseDuration(s: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim());
  if (!m) throw new UsageError(`--${flag}: cannot read duration "${s}" (examples: 500ms, 30s, 5m, 1h)`);
  const mult = {ms: 1, s: 1000, m: 60000, h: 3600000}[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * mult);
}

/** "64M", "512K", "4096" → bytes. */
export function parseSize(s: string, flag: string): number {
  const m = /^(\d+)([KMG]i?B?)?$/i.exec(s.trim());
  if (!m) throw new UsageError(`--${flag}: cannot read size "${s}" (examples: 4096, 512K, 64M)`);
  const unit = (m[2] ?? '').charAt(0).toUpperCase();
  const mult = unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : unit === 'G' ? 1024 ** 3 : 1;
  return Number(m[1]) * mult;
}
