// Strings from the kernel (argv, filenames, string syscall arguments) are bytes; most are
// UTF-8, some are not (a file named in Latin-1, a deliberately hostile argv). Decoding those
// as UTF-8 would put U+FFFD in place of the bytes and lose them. So a string that is not
// valid UTF-8 is kept as its exact bytes, `{base64: "..."}` in place of the string (the event
// model, formats/trace-format.md), and shown to people with each invalid byte as \xNN.

import {isUtf8} from 'node:buffer';

/** A string whose bytes are not valid UTF-8: its exact bytes. */
export interface RawText {
  base64: string;
}

export type Text = string | RawText;

/** The bytes b[start, end) as a string when they are UTF-8, else as RawText. */
export function decodeText(b: Buffer, start: number, end: number): Text {
  // Nearly every string is ASCII: a byte loop settles it without a view.
  let i = start;
  while (i < end && b[i] < 0x80) i++;
  if (i === end) return b.toString('latin1', start, end);
  const bytes = b.subarray(start, end);
  if (isUtf8(bytes)) return bytes.toString('utf8');
  return {base64: bytes.toString('base64')};
}

/** Whether v is a RawText: an object whose only key is `base64` (a captured buffer also has len). */
export function isRawText(v: unknown): v is RawText {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  if (typeof o.base64 !== 'string') return false;
  for (const k in o) if (k !== 'base64') return false;
  return true;
}

/** The length of the valid UTF-8 sequence at b[i], or 0 when the byte there starts none. */
function sequenceAt(b: Buffer, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c === 0xe0) lo = 0xa0; // overlong
    if (c === 0xed) hi = 0x9f; // UTF-16 surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c === 0xf0) lo = 0x90; // overlong
    if (c === 0xf4) hi = 0x8f; // past U+10FFFF
  } else return 0;
  if (i + n > b.length) return 0;
  if (b[i + 1] < lo || b[i + 1] > hi) return 0;
  for (let k = 2; k < n; k++) if (b[i + k] < 0x80 || b[i + k] > 0xbf) return 0;
  return n;
}

/**
 * Walks a text as pieces: each valid character (as a string) or invalid byte (as a
 * number). A plain string is all characters.
 */
export function forEachPiece(v: Text, piece: (ch: string | number) => void): void {
  if (typeof v === 'string') {
    for (const ch of v) piece(ch);
    return;
  }
  const b = Buffer.from(v.base64, 'base64');
  for (let i = 0; i < b.length;) {
    const n = sequenceAt(b, i);
    if (n === 0) {
      piece(b[i]);
      i++;
    } else {
      piece(b.toString('utf8', i, i + n));
      i += n;
    }
  }
}

const hex = (c: number) => '\\x' + c.toString(16).padStart(2, '0');

/**
 * A text for display: a string as it is; the valid characters of a RawText as they are and
 * its invalid bytes as \xNN. Also what --where compares and matches such a string as.
 */
export function displayText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (!isRawText(v)) return String(v);
  let s = '';
  forEachPiece(v, (p) => (s += typeof p === 'number' ? hex(p) : p));
  return s;
}

/** Whether two texts are the same bytes. */
export function sameText(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return isRawText(a) && isRawText(b) && a.base64 === b.base64;
}
