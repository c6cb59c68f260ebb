// `decode -`, `stats -` …: a trace read from standard input (a pipe, `ssh host cat t.bin`).
// The reader needs a file it can seek in — it checks the footer, and goes back for the
// metadata copy — so the stream is copied into a private temporary file first (mode 0600 in
// a 0700 directory: a trace can hold secrets), which is removed when the command ends.
// Memory stays flat: the copy goes through one buffer. Output starts once the input ended.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {UsageError, UserError} from '../util/errors';

/** The file a command reads for its FILE argument: itself, or standard input copied when it is `-`. */
export async function inputFile(file: string): Promise<string> {
  if (file !== '-') return file;
  if (process.stdin.isTTY) throw new UsageError('-: standard input is a terminal: pipe a trace file in (exectrace decode - < t.bin)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-stdin-'));
  const copy = path.join(dir, 'stdin.bin');
  process.on('exit', () => fs.rmSync(dir, {recursive: true, force: true}));
  const fd = fs.openSync(copy, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(0, buf, 0, buf.length, null);
      } catch (err) {
        // A non-blocking pipe with nothing yet: wait for it.
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        if ((err as NodeJS.ErrnoException).code === 'EOF') break;
        throw new UsageError(`-: cannot read standard input: ${(err as Error).message}`);
      }
      if (n === 0) break;
      let at = 0;
      while (at < n) at += fs.writeSync(fd, buf, at, n - at);
    }
  } finally {
    fs.closeSync(fd);
  }
  if (fs.statSync(copy).size === 0) throw new UserError('-: standard input was empty: pipe a trace file in (exectrace decode - < t.bin)');
  return copy;
}
