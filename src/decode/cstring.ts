// Strings and bytes in C syntax, as strace shows them: printable characters as they are,
// the rest escaped (\n, \", octal), and of a string that is not UTF-8 (a RawText, text.ts)
// the bytes that are not as \xNN. Shared by syscall lines (human.ts) and socket addresses
// (sockaddr.ts).

import {forEachPiece, type RawText, type Text} from './text';

const hexByte = (c: number) => '\\x' + c.toString(16).padStart(2, '0');

const OCTAL_DIGIT = /[0-7]/;

function escapeChar(c: number, next: string | undefined): string {
  switch (c) {
    case 0x22: return '\\"';
    case 0x5c: return '\\\\';
    case 0x0a: return '\\n';
    case 0x09: return '\\t';
    case 0x0d: return '\\r';
    case 0x0b: return '\\v';
    case 0x0c: return '\\f';
  }
  // The short octal form unless a digit follows, as strace does: "\0" but "\0001".
  return next !== undefined && OCTAL_DIGIT.test(next) ? '\\' + c.toString(8).padStart(3, '0') : '\\' + c.toString(8);
}

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\x00-\x1f\x7f"\\]/;

/**
 * A string in C syntax: printable characters as they are, the rest escaped; of a RawText
 * (text.ts), the bytes that are not UTF-8 as \xNN.
 */
export function cString(s: Text): string {
  if (typeof s !== 'string') return rawCString(s);
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let q = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x22 || c === 0x5c) q += escapeChar(c, s[i + 1]);
    else q += s[i];
  }
  return q + '"';
}

function rawCString(s: RawText): string {
  const pieces: (string | number)[] = [];
  forEachPiece(s, (p) => pieces.push(p));
  let q = '"';
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i];
    if (typeof p === 'number') {
      q += hexByte(p);
      continue;
    }
    const c = p.charCodeAt(0);
    const next = pieces[i + 1];
    if (c < 0x20 || c === 0x7f || c === 0x22 || c === 0x5c) q += escapeChar(c, typeof next === 'string' ? next : undefined);
    else q += p;
  }
  return q + '"';
}

/** Bytes in C syntax: printable ASCII as is, every other byte escaped. */
export function cBytes(b: Buffer): string {
  let q = '"';
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c < 0x20 || c >= 0x7f || c === 0x22 || c === 0x5c) q += escapeChar(c, i + 1 < b.length ? String.fromCharCode(b[i + 1]) : undefined);
    else q += String.fromCharCode(c);
  }
  return q + '"';
}
