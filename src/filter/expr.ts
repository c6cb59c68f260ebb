// --where EXPR: a small predicate language over decoded events, parsed once and compiled
// into closures, then run on every event. The grammar (lowest precedence first):
//
//   expr    := and ('or' and)*
//   and     := unary ('and' unary)*
//   unary   := 'not' unary | '(' expr ')' | compare
//   compare := operand ( ('==' | '!=' | '<' | '<=' | '>' | '>=') operand
//                      | ('=~' | '!~') (regex | string)
//                      | 'not'? 'in' ( '(' literal (',' literal)* ')' | path ) )?
//   operand := bitand ('|' bitand)*                     args.flags & O_ACCMODE, a | b
//   bitand  := atom ('&' atom)*
//   atom    := path | literal | '(' operand ')'
//   path    := name ('.' name | '[' integer ']')*        args.filename, ns.pid, argv[0]
//   literal := "string" | number | true | false | null | CONSTANT
//                                                         numbers: -12, 0x1f, 1.5, 1e9
//   regex   := /pattern/flags                             flags from i, m, s, u
//
// A CONSTANT is a name in capitals that the decoder shows for argument values (O_CREAT,
// PROT_EXEC, AT_FDCWD, MAP_PRIVATE …, for the file's architecture): it is its number, and
// a field that holds the name as a string (a decoded value such as a socket family) equals
// it too. `&` and `|` work on integers, exactly at 64 bits, and bind tighter than the
// comparisons, so `args.flags & O_ACCMODE == O_WRONLY` tests the access mode (unlike C);
// a value that is not an integer gives null.
//
// `&&`, `||` and `!` are accepted for and, or, not. Values are compared as the event holds
// them: a missing field is null; numbers compare numerically (64-bit values exactly);
// strings compare as strings; a value of another type is never equal, nor ordered. An
// array of strings (argv) compared with, or matched against, a string stands for its
// elements joined by single spaces (`argv =~ /base64 -d/`); a captured buffer stands for
// its text. `x in path` tests membership in an array (or a substring of a string). An
// operand on its own is true when it is true, a non-zero number, or a non-empty string
// or array. A mistake is one line naming the column: `--where: expected a value at
// column 9: type == and`.

import {UsageError} from '../util/errors';
import {displayText, isRawText} from '../decode/text';
import {closeMatches} from '../util/suggest';

export class WhereError extends UsageError {}

type TokKind = 'name' | 'str' | 'num' | 'regex' | 'op' | '(' | ')' | ',' | '.' | '[' | ']' | 'end';

interface Tok {
  kind: TokKind;
  text: string;
  col: number;
  value?: unknown;
}

/** What a compiled expression needs to know about the file, to catch typos early. */
export interface WhereContext {
  /** Event types that can occur (for `type == "..."`). */
  types?: readonly string[];
  /** Syscall names of the file's table (for `syscall == "..."`); empty or absent: not checked. */
  syscalls?: ReadonlySet<string>;
  /**
   * The value of a constant (O_CREAT) for the file's architecture: undefined when unknown,
   * null when ambiguous. Without it, names in capitals are an error.
   */
  constant?: (name: string) => number | null | undefined;
  /** The constant names there are, for a did-you-mean. */
  constantNames?: () => readonly string[];
}

/** A CONSTANT of an expression: its number, and the name a decoded string value may hold instead. */
class Named {
  constructor(readonly name: string, readonly value: number) {}
}

export type Pred = (e: Record<string, unknown>) => boolean;

export interface CompiledWhere {
  test: Pred;
  source: string;
  /** Paths that were looked up and absent from every event they were looked up in (likely typos). */
  unseenPaths(): {path: string; col: number}[];
  /** Every path the expression reads ('args.filename'). */
  paths(): string[];
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'true', 'false', 'null']);
const MAX_DEPTH = 64;

// ---- lexer -----------------------------------------------------------------------------

function lex(src: string, fail: (msg: string, col: number) => never): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i];
    const col = i + 1;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const prev = toks[toks.length - 1];
    if (c === '/' && prev && prev.kind === 'op' && (prev.text === '=~' || prev.text === '!~')) {
      const r = lexRegex(src, i, fail);
      toks.push({kind: 'regex', text: src.slice(i, r.end), col, value: r.re});
      i = r.end;
      continue;
    }
    if (c === '"') {
      const r = lexString(src, i, fail);
      toks.push({kind: 'str', text: src.slice(i, r.end), col, value: r.value});
      i = r.end;
      continue;
    }
    if (isDigit(c) || (c === '-' && i + 1 < n && (isDigit(src[i + 1]) || src[i + 1] === '.'))) {
      const r = lexNumber(src, i, fail);
      toks.push({kind: 'num', text: src.slice(i, r.end), col, value: r.value});
      i = r.end;
      continue;
    }
    if (isNameStart(c)) {
      let j = i + 1;
      while (j < n && isNameChar(src[j])) j++;
      toks.push({kind: 'name', text: src.slice(i, j), col});
      i = j;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '<=', '>=', '=~', '!~', '&&', '||'].includes(two)) {
      toks.push({kind: 'op', text: two, col});
      i += 2;
      continue;
    }
    if (c === '&' || c === '|') {
      toks.push({kind: 'op', text: c, col});
      i++;
      continue;
    }
    if (c === '<' || c === '>' || c === '!') {
      toks.push({kind: 'op', text: c, col});
      i++;
      continue;
    }
    if (c === '=') fail('use == to compare', col);
    if (c === '(' || c === ')' || c === ',' || c === '.' || c === '[' || c === ']') {
      toks.push({kind: c, text: c, col});
      i++;
      continue;
    }
    if (c === "'") fail('strings are written in double quotes', col);
    fail(`unexpected character ${JSON.stringify(c)}`, col);
  }
  toks.push({kind: 'end', text: '', col: n + 1});
  return toks;
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isNameStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isNameChar(c: string): boolean {
  return isNameStart(c) || isDigit(c);
}

function lexString(src: string, start: number, fail: (msg: string, col: number) => never): {value: string; end: number} {
  let out = '';
  let i = start + 1;
  while (i < src.length) {
    const c = src[i];
    if (c === '"') return {value: out, end: i + 1};
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const e = src[i + 1];
    const col = i + 1;
    switch (e) {
      case '"': case '\\': case '/': out += e; i += 2; break;
      case 'n': out += '\n'; i += 2; break;
      case 't': out += '\t'; i += 2; break;
      case 'r': out += '\r'; i += 2; break;
      case '0': out += '\0'; i += 2; break;
      case 'x': {
        const h = src.slice(i + 2, i + 4);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) fail('\\x needs two hex digits', col);
        out += String.fromCharCode(parseInt(h, 16));
        i += 4;
        break;
      }
      case 'u': {
        const m = /^\{([0-9a-fA-F]{1,6})\}|^([0-9a-fA-F]{4})/.exec(src.slice(i + 2));
        const cp = m ? parseInt(m[1] ?? m[2], 16) : NaN;
        if (!m || cp > 0x10ffff) fail('\\u needs four hex digits or {hex}', col);
        out += String.fromCodePoint(cp);
        i += 2 + m[0].length;
        break;
      }
      case undefined: fail('unterminated string', start + 1); break;
      default: fail(`unknown escape \\${e} in a string`, col);
    }
  }
  return fail('unterminated string', start + 1);
}

function lexNumber(src: string, start: number, fail: (msg: string, col: number) => never): {value: number | bigint; end: number} {
  const m = /^-?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(src.slice(start));
  const text = m ? m[0] : '';
  const end = start + text.length;
  if (!m || (end < src.length && isNameChar(src[end]))) {
    let j = end;
    while (j < src.length && isNameChar(src[j])) j++;
    fail(`bad number ${JSON.stringify(src.slice(start, Math.max(j, start + 1)))}`, start + 1);
  }
  const neg = text.startsWith('-');
  const body = neg ? text.slice(1) : text;
  if (/^0[xXoObB]/.test(body) || /^\d+$/.test(body)) {
    const b = BigInt(body);
    const v = neg ? -b : b;
    return {value: v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v, end};
  }
  const v = Number(text);
  if (!Number.isFinite(v)) fail(`bad number ${JSON.stringify(text)}`, start + 1);
  return {value: v, end};
}

function lexRegex(src: string, start: number, fail: (msg: string, col: number) => never): {re: RegExp; end: number} {
  let i = start + 1;
  let inClass = false;
  while (i < src.length) {
    const c = src[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '/' && !inClass) break;
    i++;
  }
  if (i >= src.length) fail('unterminated regex', start + 1);
  const body = src.slice(start + 1, i);
  let j = i + 1;
  while (j < src.length && /[a-z]/i.test(src[j])) j++;
  const flags = src.slice(i + 1, j);
  for (const f of flags) if (!'imsu'.includes(f)) fail(`regex flag ${JSON.stringify(f)} not allowed (use i, m, s, u)`, i + 2 + flags.indexOf(f));
  return {re: makeRegex(body, flags, start + 1, fail), end: j};
}

function makeRegex(body: string, flags: string, col: number, fail: (msg: string, col: number) => never): RegExp {
  try {
    return new RegExp(body, flags);
  } catch (e) {
    // "Invalid regular expression: /(/: Unterminated group" -> "Unterminated group"
    const why = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    return fail(`bad regex: ${why}`, col);
  }
}

// ---- values ----------------------------------------------------------------------------

const hasOwn = Object.prototype.hasOwnProperty;

function isNum(v: unknown): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** A captured buffer ({text} or {base64}, with len and truncated) as text. */
function bufferText(v: Record<string, unknown>): string | undefined {
  if (typeof v.text === 'string') return v.text;
  if (typeof v.base64 === 'string') return Buffer.from(v.base64, 'base64').toString('latin1');
  return undefined;
}

/**
 * The string a value stands for in string comparisons and regex matches, or undefined. A
 * string that is not UTF-8 (RawText) stands for its display form, invalid bytes as \xNN.
 */
function asText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    let s = '';
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      const t = typeof x === 'string' ? x : isRawText(x) ? displayText(x) : undefined;
      if (t === undefined) return undefined;
      s += i ? ' ' + t : t;
    }
    return s;
  }
  if (isRawText(v)) return displayText(v);
  if (typeof v === 'object' && v !== null) return bufferText(v as Record<string, unknown>);
  return undefined;
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (b instanceof Named) return a === b.name || equal(a, b.value);
  if (a instanceof Named) return b === a.name || equal(a.value, b);
  if (a === undefined || a === null) return b === undefined || b === null;
  if (isNum(a)) return isNum(b) && a == b; // eslint-disable-line eqeqeq -- number vs bigint, exact
  if (typeof b === 'string') return typeof a === 'object' && asText(a) === b;
  if (typeof a === 'string') return typeof b === 'object' && b !== null && asText(b) === a;
  return false;
}

function order(a: unknown, b: unknown): number {
  if (a instanceof Named) a = a.value;
  if (b instanceof Named) b = b.value;
  if (isNum(a) && isNum(b)) return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return NaN;
}

function truthy(v: unknown): boolean {
  if (v instanceof Named) return v.value !== 0;
  if (v === undefined || v === null || v === false || v === 0 || v === 0n || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

function contains(hay: unknown, needle: unknown): boolean {
  if (Array.isArray(hay)) {
    for (const x of hay) if (equal(x, needle)) return true;
    return false;
  }
  if (typeof hay === 'string' && typeof needle === 'string') return hay.includes(needle);
  return false;
}

/** Names in capitals are constants, never fields (event fields are lower case). */
const CONSTANT = /^[A-Z][A-Z0-9_]*$/;

/** An integer value as a bigint (a constant's number included); null for anything else. */
function intOf(v: unknown): bigint | null {
  if (v instanceof Named) v = v.value;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return null;
}

// ---- parser and compiler ---------------------------------------------------------------

type Getter = (e: Record<string, unknown>) => unknown;

interface Operand {
  get: Getter;
  /** A literal's value (get returns it). */
  literal?: {value: unknown};
  /** A path's dotted text ('args.filename'). */
  path?: string;
  col: number;
}

interface PathNote {
  path: string;
  col: number;
  /** Looked up at least once; found at least once. */
  tested: boolean;
  seen: boolean;
}

/**
 * Parses and compiles one --where expression. Throws WhereError with the one-line message
 * `--where: <what> at column N: <expression>`.
 */
export function compileWhere(src: string, ctx: WhereContext = {}): CompiledWhere {
  const fail = (msg: string, col: number): never => {
    throw new WhereError(`--where: ${msg} at column ${col}: ${src.replace(/[\r\n\t]/g, ' ')}`);
  };
  const toks = lex(src, fail);
  let pos = 0;
  let depth = 0;
  const notes: PathNote[] = [];
  const peek = (): Tok => toks[pos];
  const isWord = (t: Tok, w: string): boolean => t.kind === 'name' && t.text === w;
  const describe = (t: Tok): string => (t.kind === 'end' ? 'the end' : JSON.stringify(t.text));

  const expr = (): Pred => {
    if (++depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`, peek().col);
    let p = and();
    while (isWord(peek(), 'or') || (peek().kind === 'op' && peek().text === '||')) {
      pos++;
      const a = p;
      const b = and();
      p = (e) => a(e) || b(e);
    }
    depth--;
    return p;
  };

  const and = (): Pred => {
    let p = unary();
    while (isWord(peek(), 'and') || (peek().kind === 'op' && peek().text === '&&')) {
      pos++;
      const a = p;
      const b = unary();
      p = (e) => a(e) && b(e);
    }
    return p;
  };

  const unary = (): Pred => {
    const t = peek();
    if (isWord(t, 'not') || (t.kind === 'op' && t.text === '!')) {
      pos++;
      if (++depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`, t.col);
      const a = unary();
      depth--;
      return (e) => !a(e);
    }
    return compare();
  };

  const compare = (): Pred => {
    const t = peek();
    if (t.kind === '(' && !operandFollows()) {
      // A group of conditions, unless a comparison or a bitwise operator follows its ")":
      // then it is a value, `(args.flags & O_ACCMODE) == O_WRONLY`.
      pos++;
      const inner = expr();
      expectKind(')', 'expected ")"');
      return inner;
    }
    const left = operand();
    const op = peek();
    if (op.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(op.text)) {
      pos++;
      const right = operand();
      checkKnown(left, right);
      checkKnown(right, left);
      return comparison(op.text, left, right);
    }
    if (op.kind === 'op' && (op.text === '=~' || op.text === '!~')) {
      pos++;
      const r = peek();
      let re: RegExp;
      if (r.kind === 'regex') re = r.value as RegExp;
      else if (r.kind === 'str') re = makeRegex(r.value as string, '', r.col, fail);
      else return fail(`expected a /regex/ after ${op.text}, found ${describe(r)}`, r.col);
      pos++;
      const get = left.get;
      const neg = op.text === '!~';
      const m: Pred = (e) => {
        const s = asText(get(e));
        if (s === undefined) {
          const v = get(e);
          return isNum(v) ? re.test(String(v)) : false;
        }
        return re.test(s);
      };
      return neg ? (e) => !m(e) : m;
    }
    let neg = false;
    if (isWord(op, 'not') && isWord(toks[pos + 1], 'in')) {
      neg = true;
      pos++;
    }
    if (isWord(peek(), 'in')) {
      pos++;
      const m = membership(left);
      return neg ? (e) => !m(e) : m;
    }
    if (neg) fail('expected "in" after "not"', peek().col);
    if (op.kind !== 'end' && op.kind !== ')' && !isWord(op, 'and') && !isWord(op, 'or') && !(op.kind === 'op' && (op.text === '&&' || op.text === '||'))) {
      fail(`expected an operator (== != < <= > >= =~ in), "and", "or" or the end, found ${describe(op)}`, op.col);
    }
    const get = left.get;
    return (e) => truthy(get(e));
  };

  const membership = (left: Operand): Pred => {
    const t = peek();
    const get = left.get;
    if (t.kind === '(') {
      pos++;
      const values: Operand[] = [];
      for (;;) {
        const v = peek();
        const o = literal();
        if (!o) fail(`expected a value in the list, found ${describe(v)}`, v.col);
        values.push(o as Operand);
        checkKnown(left, o as Operand);
        if (peek().kind === ',') {
          pos++;
          continue;
        }
        expectKind(')', 'expected "," or ")" in the list');
        break;
      }
      const list = values.map((v) => (v.literal as {value: unknown}).value);
      const strings = list.every((v) => typeof v === 'string') ? new Set(list as string[]) : null;
      if (strings) {
        return (e) => {
          const x = get(e);
          if (typeof x === 'string') return strings.has(x);
          const s = asText(x);
          return s !== undefined && strings.has(s);
        };
      }
      return (e) => {
        const x = get(e);
        for (const v of list) if (equal(x, v)) return true;
        return false;
      };
    }
    if (t.kind === 'name' && !KEYWORDS.has(t.text)) {
      const hay = path().get;
      return (e) => contains(hay(e), get(e));
    }
    return fail(`expected "(" and a list of values, or a field, after "in", found ${describe(t)}`, t.col);
  };

  const comparison = (op: string, l: Operand, r: Operand): Pred => {
    const a = l.get;
    const b = r.get;
    // The common shape, field == "literal string", without the generic dispatch.
    if ((op === '==' || op === '!=') && r.literal && typeof r.literal.value === 'string' && l.path) {
      const s = r.literal.value;
      const eq: Pred = (e) => {
        const v = a(e);
        return v === s || (typeof v === 'object' && v !== null && asText(v) === s);
      };
      return op === '==' ? eq : (e) => !eq(e);
    }
    switch (op) {
      case '==': return (e) => equal(a(e), b(e));
      case '!=': return (e) => !equal(a(e), b(e));
      case '<': return (e) => order(a(e), b(e)) < 0;
      case '<=': return (e) => order(a(e), b(e)) <= 0;
      case '>': return (e) => order(a(e), b(e)) > 0;
      default: return (e) => order(a(e), b(e)) >= 0;
    }
  };

  /** operand := bitand ('|' bitand)*, bitand := atom ('&' atom)*: C's precedence between the two. */
  const operand = (): Operand => {
    let left = bitAnd();
    while (peek().kind === 'op' && peek().text === '|') {
      pos++;
      left = bitwise('|', left, bitAnd());
    }
    return left;
  };

  const bitAnd = (): Operand => {
    let left = atom();
    while (peek().kind === 'op' && peek().text === '&') {
      pos++;
      left = bitwise('&', left, atom());
    }
    return left;
  };

  /** Whether the "(" at pos closes on a ")" that an operator of values follows. */
  const operandFollows = (): boolean => {
    let d = 0;
    for (let k = pos; k < toks.length; k++) {
      const x = toks[k];
      if (x.kind === '(') d++;
      else if (x.kind === ')' && --d === 0) {
        const next = toks[k + 1];
        return (next.kind === 'op' && ['==', '!=', '<', '<=', '>', '>=', '=~', '!~', '&', '|'].includes(next.text)) ||
          isWord(next, 'in') || (isWord(next, 'not') && isWord(toks[k + 2], 'in'));
      }
    }
    return false;
  };

  const atom = (): Operand => {
    const t = peek();
    if (t.kind === '(') {
      pos++;
      if (++depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`, t.col);
      const inner = operand();
      depth--;
      expectKind(')', 'expected ")" after a value');
      return inner;
    }
    const lit = literal();
    if (lit) return lit;
    if (t.kind === 'name') {
      if (KEYWORDS.has(t.text)) fail(`expected a value, found the keyword "${t.text}"`, t.col);
      return path();
    }
    if (t.kind === 'regex') fail('a /regex/ goes after =~ or !~', t.col);
    return fail(t.kind === 'end' ? 'expected a value' : `expected a value, found ${describe(t)}`, t.col);
  };

  const literal = (): Operand | null => {
    const t = peek();
    let value: unknown;
    if (t.kind === 'str' || t.kind === 'num') value = t.value;
    else if (isWord(t, 'true')) value = true;
    else if (isWord(t, 'false')) value = false;
    else if (isWord(t, 'null')) value = null;
    else if (t.kind === 'name' && CONSTANT.test(t.text)) value = constant(t);
    else return null;
    pos++;
    return {get: () => value, literal: {value}, col: t.col};
  };

  const constant = (t: Tok): Named => {
    const v = ctx.constant?.(t.text);
    if (v === null) fail(`${t.text} has two values here: give the number`, t.col);
    if (v === undefined) {
      // Matched in lower case, as closeMatches compares.
      const near = closeMatches(t.text, (ctx.constantNames?.() ?? []).map((n) => n.toLowerCase()), 1)[0]?.toUpperCase();
      fail(`unknown constant ${t.text}${near ? ` (did you mean ${near}?)` : ''}`, t.col);
    }
    return new Named(t.text, v as number);
  };

  /** a & b, a | b over integers, exactly (as 64-bit two's complement); null for anything else. */
  const bitwise = (op: '&' | '|', l: Operand, r: Operand): Operand => {
    const a = l.get;
    const b = r.get;
    const get: Getter = (e) => {
      const x = intOf(a(e));
      const y = intOf(b(e));
      if (x === null || y === null) return null;
      const z = BigInt.asIntN(64, op === '&' ? x & y : x | y);
      // Values past 2^53 stay bigints, as the decoder gives them.
      return z >= BigInt(Number.MIN_SAFE_INTEGER) && z <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(z) : BigInt.asUintN(64, z);
    };
    // Both sides literal: the value is known now (O_WRONLY | O_CREAT).
    if (l.literal && r.literal) {
      const value = get({});
      return {get: () => value, literal: {value}, col: l.col};
    }
    return {get, col: l.col};
  };

  const path = (): Operand => {
    const first = peek();
    pos++;
    const parts: (string | number)[] = [first.text];
    let text = first.text;
    for (;;) {
      const t = peek();
      if (t.kind === '.') {
        const name = toks[pos + 1];
        if (name.kind !== 'name') fail(`expected a field name after ".", found ${describe(name)}`, name.col);
        parts.push(name.text);
        text += '.' + name.text;
        pos += 2;
        continue;
      }
      if (t.kind === '[') {
        const idx = toks[pos + 1];
        if (idx.kind !== 'num' || typeof idx.value !== 'number' || !Number.isInteger(idx.value) || idx.value < 0) {
          fail('expected an index (0, 1, ...) in [ ]', idx.col);
        }
        if (toks[pos + 2].kind !== ']') fail('expected "]"', toks[pos + 2].col);
        parts.push(idx.value as number);
        text += `[${idx.value}]`;
        pos += 3;
        continue;
      }
      break;
    }
    const note: PathNote = {path: text, col: first.col, tested: false, seen: false};
    notes.push(note);
    return {get: getter(parts, note), path: text, col: first.col};
  };

  const expectKind = (kind: TokKind, msg: string): void => {
    const t = peek();
    if (t.kind !== kind) fail(`${msg}, found ${describe(t)}`, t.col);
    pos++;
  };

  /** `type == "exce"`, `syscall in ("opnat")`: a name no event can have is a typo. */
  const checkKnown = (field: Operand, value: Operand): void => {
    const v = value.literal?.value;
    if (typeof v !== 'string' || !field.path) return;
    if (field.path === 'type' && ctx.types && !ctx.types.includes(v)) {
      fail(`no event has type ${JSON.stringify(v)} (types: ${ctx.types.join(', ')})`, value.col);
    }
    if (field.path === 'syscall' && ctx.syscalls && ctx.syscalls.size && !ctx.syscalls.has(v)) {
      fail(`${JSON.stringify(v)} is not a syscall this file knows`, value.col);
    }
  };

  if (peek().kind === 'end') fail('expected an expression', 1);
  const test = expr();
  const rest = peek();
  if (rest.kind !== 'end') {
    fail(rest.kind === ')' ? 'unbalanced ")"' : `expected "and", "or" or the end, found ${describe(rest)}`, rest.col);
  }
  return {
    test,
    source: src,
    unseenPaths: () => notes.filter((n) => n.tested && !n.seen).map((n) => ({path: n.path, col: n.col})),
    paths: () => notes.map((n) => n.path),
  };
}

/** A reader for one path; own properties only, so `constructor` or `__proto__` read as missing. */
function getter(parts: (string | number)[], note: PathNote): Getter {
  if (parts.length === 1) {
    const k = parts[0] as string;
    return (e) => {
      note.tested = true;
      if (!hasOwn.call(e, k)) return undefined;
      const v = e[k];
      if (v !== undefined) note.seen = true;
      return v;
    };
  }
  return (e) => {
    note.tested = true;
    let v: unknown = e;
    for (const k of parts) {
      if (typeof v !== 'object' || v === null) return undefined;
      if (typeof k === 'number') {
        if (!Array.isArray(v)) return undefined;
        v = v[k];
      } else {
        if (!hasOwn.call(v, k)) return undefined;
        v = (v as Record<string, unknown>)[k];
      }
    }
    if (v !== undefined) note.seen = true;
    return v;
  };
}
