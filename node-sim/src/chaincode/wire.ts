/**
 * A minimal protobuf wire-format writer and reader for the few Fabric messages on the
 * chaincode hot path. The generated google-protobuf classes build an object per field and
 * copy every byte array; this codec writes into one growing buffer and reads byte fields
 * as views, which matters at thousands of chaincode messages per second.
 *
 * Encoding is canonical (minimal varints, proto3 defaults omitted), as Go's proto.Marshal
 * produces it.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LDELIM = 2;
const WIRE_FIXED32 = 5;

export class WireError extends Error {
  readonly code = 'PROTOBUF_INVALID';
  constructor(message: string) {
    super(`PROTOBUF_INVALID: ${message}`);
    this.name = 'WireError';
  }
}

function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  if (v < 0x800000000) return 5;
  let n = 5;
  let rest = Math.floor(v / 0x800000000);
  while (rest > 0) {
    n++;
    rest = Math.floor(rest / 0x80);
  }
  return n;
}

export class Writer {
  private buf: Buffer;
  private pos = 0;
  private readonly starts: number[] = [];

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  private ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Non-negative integer up to 2^53 as a varint. */
  varint(v: number): this {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (v >= 0x80) {
      buf[pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[pos++] = v;
    this.pos = pos;
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  /** uint32/uint64/enum/bool field; omitted when 0 (proto3 default). */
  uintField(field: number, v: number): this {
    if (v === 0) return this;
    return this.tag(field, WIRE_VARINT).varint(v);
  }

  /** int32 field; negatives take ten bytes, as in every protobuf implementation. */
  int32Field(field: number, v: number): this {
    if (v === 0) return this;
    this.tag(field, WIRE_VARINT);
    if (v > 0) return this.varint(v);
    this.ensure(10);
    let lo = v >>> 0;
    for (let i = 0; i < 4; i++) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    // bits 28..31 of the low word, then all-ones high word (sign extension).
    this.buf[this.pos++] = (lo & 0x0f) | 0x70 | 0x80;
    for (let i = 0; i < 4; i++) this.buf[this.pos++] = 0xff;
    this.buf[this.pos++] = 0x01;
    return this;
  }

  boolField(field: number, v: boolean): this {
    return v ? this.tag(field, WIRE_VARINT).varint(1) : this;
  }

  /** Bytes field; omitted when empty unless `always` (e.g. a present empty sub-message). */
  bytesField(field: number, v: Uint8Array, always = false): this {
    if (v.length === 0 && !always) return this;
    this.tag(field, WIRE_LDELIM).varint(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
    return this;
  }

  stringField(field: number, s: string): this {
    if (s.length === 0) return this;
    const len = Buffer.byteLength(s, 'utf8');
    this.tag(field, WIRE_LDELIM).varint(len);
    this.ensure(len);
    this.buf.write(s, this.pos, len, 'utf8');
    this.pos += len;
    return this;
  }

  /** Starts a length-delimited sub-message; close it with `end()`. */
  begin(field: number): this {
    this.tag(field, WIRE_LDELIM);
    this.starts.push(this.pos);
    return this;
  }

  /** Ends the innermost sub-message, writing its length before its bytes. */
  end(): this {
    const start = this.starts.pop();
    if (start === undefined) throw new Error('Writer.end() without begin()');
    const len = this.pos - start;
    const size = varintSize(len);
    this.ensure(size);
    this.buf.copyWithin(start + size, start, this.pos);
    let pos = start;
    let v = len;
    while (v >= 0x80) {
      this.buf[pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[pos] = v;
    this.pos += size;
    return this;
  }

  /** The encoded bytes (a copy, so the writer's buffer can be large and short-lived). */
  finish(): Buffer {
    if (this.starts.length > 0) throw new Error('Writer.finish() with an open sub-message');
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

export class Reader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    this.end = end;
  }

  more(): boolean {
    return this.pos < this.end;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      const b = this.buf[this.pos++] as number;
      if (i < 8) result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 0x80;
    }
    throw new WireError('varint longer than 10 bytes');
  }

  /** int32 field value: a negative int32 arrives as a ten-byte varint. */
  int32(): number {
    let lo = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      const b = this.buf[this.pos++] as number;
      if (i < 5) lo |= (b & 0x7f) << (7 * i);
      if (b < 0x80) return lo | 0;
    }
    throw new WireError('varint longer than 10 bytes');
  }

  /** Returns the next field's tag as field * 8 + wireType. */
  tag(): number {
    return this.varint();
  }

  private ldelimRange(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw new WireError('length-delimited field runs past the end');
    this.pos = end;
    return [start, end];
  }

  /** A view into the message's buffer, not a copy. */
  bytes(): Buffer {
    const [start, end] = this.ldelimRange();
    return this.buf.subarray(start, end);
  }

  string(): string {
    const [start, end] = this.ldelimRange();
    return this.buf.toString('utf8', start, end);
  }

  /** A reader over the next length-delimited field. */
  sub(): Reader {
    const [start, end] = this.ldelimRange();
    return new Reader(this.buf, start, end);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.pos += 8;
        break;
      case WIRE_LDELIM:
        this.ldelimRange();
        return;
      case WIRE_FIXED32:
        this.pos += 4;
        break;
      default:
        throw new WireError(`unsupported wire type ${String(wireType)}`);
    }
    if (this.pos > this.end) throw new WireError('fixed-width field runs past the end');
  }
}
