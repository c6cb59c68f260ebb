// The FILE… arguments of decode and stats: several trace files, a glob the shell left
// unexpanded (quoted, or from a shell that does not expand), and `-` for standard input.
// A pattern is expanded here only in its last path component (`logs/*.bin`,
// `trace-2026-12-0?.bin`), the way a shell would, sorted by name; a name that exists as
// given is never treated as a pattern.

import * as fs from 'node:fs';
import * as path from 'node:path';
import {UsageError} from '../util/errors';
import {inputFile} from './stdin';

/** InputFiles are the files a command reads: the paths to open, and the names messages use (`-` for standard input). */
export interface InputFiles {
  paths: string[];
  names: string[];
}

const GLOB = /[*?[]/;

/**
 * inputFiles expands the FILE arguments (globs in their last component) and copies
 * standard input for `-` (at most once). Throws a UsageError naming a pattern that matches
 * nothing, or a `-` given twice.
 */
export async function inputFiles(args: readonly string[]): Promise<InputFiles> {
  const names = expandFiles(args);
  if (names.filter((n) => n === '-').length > 1) throw new UsageError('-: standard input can be read once: give - one time');
  const paths: string[] = [];
  for (const n of names) paths.push(await inputFile(n));
  return {paths, names};
}

/**
 * expandFiles gives each argument as it is, or, when it holds a pattern in its last
 * component and no file has that very name, the files the pattern matches, sorted by name
 * (expand). `-` stays itself.
 */
export function expandFiles(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (a !== '-' && GLOB.test(path.basename(a)) && !fs.existsSync(a)) out.push(...expand(a));
    else out.push(a);
  }
  return out;
}

/** expand gives the files matching a pattern in its last component, sorted; it throws a UsageError when none does. */
export function expand(pattern: string): string[] {
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  if (GLOB.test(dir)) throw new UsageError(`${pattern}: a pattern may only be in the file name, not in a directory (quote it, or let the shell expand it)`);
  const re = globRegExp(base);
  let entries: string[];
  try {
    entries = fs.readdirSync(dir === '' ? '.' : dir);
  } catch (err) {
    throw new UsageError(`${pattern}: cannot list ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const hits = entries.filter((e) => re.test(e) && (!e.startsWith('.') || base.startsWith('.'))).sort();
  if (hits.length === 0) throw new UsageError(`${pattern}: no file matches`);
  return hits.map((h) => (dir === '.' && !pattern.startsWith('./') ? h : path.join(dir, h)));
}

/** globRegExp turns a shell pattern (* ? [set] [!set]) into an anchored RegExp. */
export function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let set = glob.slice(i + 1, end);
      if (set.startsWith('!')) set = '^' + set.slice(1);
      re += '[' + set.replace(/\\/g, '\\\\') + ']';
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
