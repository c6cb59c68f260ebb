// JSON text for decoded events: like JSON.stringify, but 64-bit integers that do not
// fit a double (bigint) are written as exact decimal numbers, never as strings.

export function toJson(value: unknown): string {
  // The native serializer is many times faster; it refuses a bigint (rare: a u64 above
  // 2^53), and then the exact writer below takes over. Buffers never reach here as values
  // (decode turns captured bytes into text/base64 objects), so both give the same text.
  try {
    return JSON.stringify(value);
  } catch {
    return write(value, 0);
  }
}

const MAX_DEPTH = 64;

function write(v: unknown, depth: number): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return 'null';
    case 'object': {
      if (v === null) return 'null';
      if (depth > MAX_DEPTH) throw new Error('to json: value nested too deeply');
      if (Array.isArray(v)) {
        let s = '[';
        for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + write(v[i], depth + 1);
        return s + ']';
      }
      if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('base64'));
      let s = '{';
      let first = true;
      for (const k of Object.keys(v as object)) {
        const x = (v as Record<string, unknown>)[k];
        if (x === undefined) continue;
        s += (first ? '' : ',') + JSON.stringify(k) + ':' + write(x, depth + 1);
        first = false;
      }
      return s + '}';
    }
    default:
      return 'null';
  }
}
