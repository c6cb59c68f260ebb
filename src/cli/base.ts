// What every exectrace command shares: --debug, and the rule that a user's mistake is one
// line on stderr with a non-zero exit, never a stack trace (the stack only with --debug).

import {Command, Flags, Interfaces} from '@oclif/core';

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

  /** Writes one line to stderr, prefixed with the program name. */
  protected warnLine(msg: string): void {
    process.stderr.write(`exectrace: ${msg}\n`);
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}; code?: string}): Promise<void> {
    // oclif's own parse errors (unknown flag, missing argument) already read as one line.
    const exit = err.oclif?.exit ?? err.exitCode ?? EXIT.error;
    if (err.code === 'EEXIT' || (err.oclif && exit === 0)) throw err;
    if (err.code === 'EPIPE') process.exit(0);
    if (this.debugMode()) process.stderr.write(`${err.stack ?? err.message}\n`);
    else process.stderr.write(`exectrace ${this.id ?? ''}: ${firstLine(err.message)}\n`.replace(/ :/, ':'));
    process.exit(typeof exit === 'number' && exit > 0 ? exit : EXIT.error);
  }
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

/** "30s", "5m", "1500ms", "2h" → milliseconds. */
export function parseDuration(s: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim());
  if (!m) throw new Error(`--${flag}: cannot read duration "${s}" (examples: 500ms, 30s, 5m, 1h)`);
  const mult = {ms: 1, s: 1000, m: 60000, h: 3600000}[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * mult);
}

/** "64M", "512K", "4096" → bytes. */
export function parseSize(s: string, flag: string): number {
  const m = /^(\d+)([KMG]i?B?)?$/i.exec(s.trim());
  if (!m) throw new Error(`--${flag}: cannot read size "${s}" (examples: 4096, 512K, 64M)`);
  const unit = (m[2] ?? '').charAt(0).toUpperCase();
  const mult = unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : unit === 'G' ? 1024 ** 3 : 1;
  return Number(m[1]) * mult;
}
