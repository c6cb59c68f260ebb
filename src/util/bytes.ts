// Byte strings from the kernel and /proc (argv, command lines, file names): UTF-8 mostly,
// not always, and never to be changed on the way through.

import {isUtf8} from 'node:buffer';

/** b split at every NUL byte (a trailing NUL gives a last empty piece; drop it first). */
export function splitNul(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (let i = b.indexOf(0); i >= 0; i = b.indexOf(0, from)) {
    out.push(b.subarray(from, i));
    from = i + 1;
  }
  out.push(b.subarray(from));
  return out;
}

/** A string where the bytes are UTF-8, else the bytes themselves (msgpack bin in the metadata). */
export function textOrBytes(b: Buffer): string | Uint8Array {
  return isUtf8(b) ? b.toString('utf8') : new Uint8Array(b);
}
