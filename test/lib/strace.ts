// strace -c's table, as the tests that compare call counts with strace read it.

import * as fs from 'node:fs';

/** strace -c table → {syscall: [calls, errors]} */
export function straceCounts(file: string): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(\d*)\s*(\w+)$/.exec(line);
    if (m && m[3] !== 'total') out[m[3]] = [Number(m[1]), Number(m[2] || 0)];
  }
  return out;
}
