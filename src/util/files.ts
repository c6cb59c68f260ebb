// Small file-system questions the offline commands ask. Offline-safe: node:fs only.

import * as fs from 'node:fs';

/** a and b name the same file (a hard link or another path to it): a copy must not overwrite its source. */
export function sameFile(a: string, b: string): boolean {
  try {
    const sa = fs.statSync(a);
    const sb = fs.statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/** sizeOrZero is a file's size, 0 when it cannot be read (the error comes when it is opened): for progress totals. */
export function sizeOrZero(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
