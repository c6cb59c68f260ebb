// The Thrift compact protocol, write side only, as much of it as Parquet's footer and page
// headers use: structs of i16/i32/i64, bool, binary and list fields. Parquet never needs
// maps, sets or doubles in those structs, so they are not here.
//
// A struct is written field by field in increasing id order; the encoder keeps the last id
// of each open struct, because a field header carries the delta from it when that fits in a
// nibble. The bytes go into one growable buffer, reused between messages.

/** CompactType is the compact protocol's type nibble. */
export const enum CompactType {
  True = 1,
  False = 2,
  Byte = 3,
  I16 = 4,
  I32 = 5,
  I64 = 6,
  Double = 7,
  Binary = 8,
  List = 9,
  Set = 10,
  Map = 11,
  Struct = 12,
}

/** ThriftWriter encodes one message at a time; bytes() is valid until the next reset(). */
export class ThriftWriter {
  private buf = Buffer.allocUnsafe(1024);
  private len = 0;
  private last = 0;
  private readonly stack: number[] = [];

  /** reset starts a new message. */
  reset(): this {
    this.len = 0;
    this.last = 0;
    this.stack.length = 0;
    return this;
  }

  /** bytes is the message so far: a view into the writer's buffer. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }

  /** An unsigned varint of a non-negative safe integer (no 32-bit truncation). */
  private varint(v: number): void {
    this.room(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  /** Zigzag of a safe integer: 0, -1, 1, -2 … → 0, 1, 2, 3 … */
  private zigzag(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  private header(id: number, type: CompactType): void {
    const delta = id - this.last;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.zigzag(id);
    }
    this.last = id;
  }

  /** i32 (also an enum) field. */
  i32(id: number, v: number): this {
    this.header(id, CompactType.I32);
    this.zigzag(v);
    return this;
  }

  /** i64 field: a safe integer (every size and offset a file can hold). */
  i64(id: number, v: number): this {
    this.header(id, CompactType.I64);
    this.zigzag(v);
    return this;
  }

  /** bool field: the value is the type nibble. */
  bool(id: number, v: boolean): this {
    this.header(id, v ? CompactType.True : CompactType.False);
    return this;
  }

  /** binary field (a string is written as its UTF-8 bytes). */
  binary(id: number, v: Uint8Array | string): this {
    this.header(id, CompactType.Binary);
    this.rawBinary(typeof v === 'string' ? Buffer.from(v, 'utf8') : v);
    return this;
  }

  private rawBinary(b: Uint8Array): void {
    this.varint(b.length);
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** beginStruct opens a struct field; fields follow, then endStruct(). */
  beginStruct(id: number): this {
    this.header(id, CompactType.Struct);
    this.stack.push(this.last);
    this.last = 0;
    return this;
  }

  /** endStruct writes the stop byte and returns to the enclosing struct. */
  endStruct(): this {
    this.byte(0);
    this.last = this.stack.pop() ?? 0;
    return this;
  }

  /** An empty struct field (Parquet's unions of marker structs: STRING, NANOS …). */
  emptyStruct(id: number): this {
    return this.beginStruct(id).endStruct();
  }

  private listHeader(id: number, n: number, elem: CompactType): void {
    this.header(id, CompactType.List);
    if (n < 15) this.byte((n << 4) | elem);
    else {
      this.byte(0xf0 | elem);
      this.varint(n);
    }
  }

  /** A list of i32 (enums: encodings). */
  listI32(id: number, values: readonly number[]): this {
    this.listHeader(id, values.length, CompactType.I32);
    for (const v of values) this.zigzag(v);
    return this;
  }

  /** A list of strings. */
  listString(id: number, values: readonly string[]): this {
    this.listHeader(id, values.length, CompactType.Binary);
    for (const v of values) this.rawBinary(Buffer.from(v, 'utf8'));
    return this;
  }

  /** A list of structs: `each` writes one element's fields (ids start afresh), the stop byte is added. */
  listStruct<T>(id: number, items: readonly T[], each: (w: this, item: T, i: number) => void): this {
    this.listHeader(id, items.length, CompactType.Struct);
    items.forEach((item, i) => {
      this.stack.push(this.last);
      this.last = 0;
      each(this, item, i);
      this.endStruct();
    });
    return this;
  }

  /** stop ends the top-level struct of the message. */
  stop(): this {
    this.byte(0);
    return this;
  }
}
