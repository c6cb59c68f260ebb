// File arguments that name several files: a pattern the shell did not expand (it was quoted,
// or given from a script), matched here as a shell would — `*`, `?` and `[...]` in the last
// part of the path only, in name order, hidden files only when the pattern starts with `.`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import {UsageError} from '../util/errors';

const MAGIC = /[*?[]/;

/** The regular expression of one glob name part. */
function nameRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * expandFiles returns each argument as it is, or, when it holds a pattern and no file has that very name, the
 * files it matches, sorted by name. A pattern that matches nothing is a usage error.
 */
export function expandFiles(args: string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (a === '-' || !MAGIC.test(path.basename(a)) || fs.existsSync(a)) {
      out.push(a);
      continue;
    }
    const dir = path.dirname(a);
    if (MAGIC.test(dir)) throw new UsageError(`${a}: a pattern only in the file name is matched here (not in ${dir})`);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch (err) {
      throw new UsageError(`${a}: cannot read directory ${dir}: ${(err as Error).message}`);
    }
    const re = nameRegExp(path.basename(a));
    const hidden = path.basename(a).startsWith('.');
    const hits = names.filter((n) => re.test(n) && (hidden || !n.startsWith('.'))).sort();
    if (hits.length === 0) throw new UsageError(`${a}: no file matches`);
    for (const n of hits) out.push(dir === '.' && !a.startsWith('./') ? n : path.join(dir, n));
  }
  return out;
}
