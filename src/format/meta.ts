// The msgpack documents of META and TRLR, with the limits a reader enforces.
//
// Before anything is decoded, a shape scan walks the bytes once without
// allocating: it checks every length against the bytes that remain, the
// nesting depth, the number of containers and values, that map keys are
// strings and that no extension types appear. Only a document that passes is
// handed to @msgpack/msgpack, so a hostile file cannot make the decoder
// allocate more than a bounded multiple of its (bounded) size, nor build an
// object deep enough to break a recursive consumer later.
//
// Integers: msgpack carries up to 64 bits. Decoded integers are JS numbers
// when they fit in 2^53 and bigints otherwise (nanosecond clocks do not fit).

import {Decoder, Encoder} from '@msgpack/msgpack';
import type {ReaderLimits} from './constants';

export type MetaValue = null | boolean | number | bigint | string | Uint8Array | MetaValue[] | {[key: string]: MetaValue};
export type MetaMap = {[key: string]: MetaValue};

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/** Encodes a document as a writer must: plain data, depth and size within what readers accept. */
export function encodeDocument(doc: object, limits: ReaderLimits): Buffer {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('document must be a map');
  try {
    // The encoder's own depth limit only stops cycles; the scan below applies the readers' limits exactly.
    const bytes = new Encoder({useBigInt64: true, ignoreUndefined: true, maxDepth: limits.maxDepth + 8}).encode(doc);
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    scanDocument(buf, limits); // what we write, readers must accept
    return buf;
  } catch (e) {
    throw new Error(`cannot encode: ${(e as Error).message}`);
  }
}

/** Decodes a META/TRLR document; throws Error with a one-line reason. */
export function decodeDocument(buf: Buffer, limits: ReaderLimits): MetaMap {
  scanDocument(buf, limits);
  let v: unknown;
  try {
    v = new Decoder({
      useBigInt64: true,
      maxStrLength: limits.maxStrLength,
      maxBinLength: limits.maxBinLength,
      maxArrayLength: limits.maxValues,
      maxMapLength: limits.maxValues,
      maxExtLength: 0,
      mapKeyConverter: (k: unknown) => {
        if (typeof k !== 'string') throw new Error('map key is not a string');
        return k;
      },
    }).decode(buf);
  } catch (e) {
    throw new Error(`msgpack: ${(e as Error).message}`);
  }
  return normalize(v) as MetaMap;
}

/** bigint -> number where exact; depth is already bounded by the scan, so recursion is safe. */
function normalize(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = normalize(v[i]);
    return v;
  }
  if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = normalize(o[k]);
  }
  return v;
}

/**
 * Walks one msgpack document (a map) and throws if it breaks a limit or is
 * not exactly one well-formed value. Iterative: a hostile depth cannot
 * overflow the stack before the depth limit trips.
 */
export function scanDocument(buf: Buffer, limits: ReaderLimits): void {
  const n = buf.length;
  // Per open container: values still to read, and whether it is a map (keys at even positions).
  const left: number[] = [];
  const isMap: boolean[] = [];
  let containers = 0;
  let values = 0;
  let pos = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at byte ${pos}`);
  };
  if (n === 0) fail('empty document');
  if (!isMapByte(buf[0])) fail('document is not a map');

  do {
    if (pos >= n) fail('document ends early');
    const depth = left.length;
    if (depth > 0 && isMap[depth - 1] && left[depth - 1] % 2 === 0 && !isStrByte(buf[pos])) fail('map key is not a string');
    if (++values > limits.maxValues) fail(`more than ${limits.maxValues} values`);
    const b = buf[pos];
    let count = -1; // >= 0: a container with this many values follows
    let map = false;
    let skip = 0; // payload bytes after the type/length bytes
    let head = 1;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) {
      // fixint, nil, bool
    } else if (b <= 0x8f) {
      count = (b & 0x0f) * 2;
      map = true;
    } else if (b <= 0x9f) {
      count = b & 0x0f;
    } else if (b <= 0xbf) {
      skip = b & 0x1f;
    } else {
      const need = (k: number): void => {
        if (pos + 1 + k > n) fail('document ends early');
      };
      switch (b) {
        case 0xc4: need(1); skip = buf[pos + 1]; head = 2; break; // bin 8
        case 0xc5: need(2); skip = buf.readUInt16BE(pos + 1); head = 3; break;
        case 0xc6: need(4); skip = buf.readUInt32BE(pos + 1); head = 5; break;
        case 0xca: skip = 4; break; // float32
        case 0xcb: skip = 8; break; // float64
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xce: case 0xd2: skip = 4; break;
        case 0xcf: case 0xd3: skip = 8; break;
        case 0xd9: need(1); skip = buf[pos + 1]; head = 2; break; // str 8
        case 0xda: need(2); skip = buf.readUInt16BE(pos + 1); head = 3; break;
        case 0xdb: need(4); skip = buf.readUInt32BE(pos + 1); head = 5; break;
        case 0xdc: need(2); count = buf.readUInt16BE(pos + 1); head = 3; break; // array 16
        case 0xdd: need(4); count = buf.readUInt32BE(pos + 1); head = 5; break;
        case 0xde: need(2); count = buf.readUInt16BE(pos + 1) * 2; head = 3; map = true; break; // map 16
        case 0xdf: need(4); count = buf.readUInt32BE(pos + 1) * 2; head = 5; map = true; break;
        case 0xc1: fail('invalid msgpack byte 0xc1'); break;
        default: fail(`msgpack extension type 0x${b.toString(16)} (not allowed in metadata)`);
      }
      if (b === 0xc4 || b === 0xc5 || b === 0xc6) {
        if (skip > limits.maxBinLength) fail(`bin of ${skip} bytes above the limit of ${limits.maxBinLength}`);
      } else if (b === 0xd9 || b === 0xda || b === 0xdb) {
        if (skip > limits.maxStrLength) fail(`string of ${skip} bytes above the limit of ${limits.maxStrLength}`);
      }
    }
    if (count >= 0) {
      if (++containers > limits.maxContainers) fail(`more than ${limits.maxContainers} maps and arrays`);
      if (depth + 1 > limits.maxDepth) fail(`nesting deeper than ${limits.maxDepth}`);
      // Every value takes at least one byte: a count the remaining bytes cannot hold is a lie.
      if (count > n - pos - head) fail(`container of ${count} values in ${n - pos - head} bytes`);
      pos += head;
      if (depth > 0) left[depth - 1]--;
      if (count > 0) {
        left.push(count);
        isMap.push(map);
      }
    } else {
      if (pos + head + skip > n) fail('document ends early');
      pos += head + skip;
      if (depth > 0) left[depth - 1]--;
    }
    while (left.length > 0 && left[left.length - 1] === 0) {
      left.pop();
      isMap.pop();
    }
  } while (left.length > 0);
  if (pos !== n) fail(`${n - pos} bytes after the end of the document`);
}

function isMapByte(b: number): boolean {
  return (b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf;
}

function isStrByte(b: number): boolean {
  return (b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb;
}
