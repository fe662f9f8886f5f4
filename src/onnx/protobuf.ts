/**
 * A minimal protobuf *encoder* (wire format only), enough to write ONNX models.
 *
 * Why our own: the npm `onnx-proto` package is stale and unmaintained, and
 * protobufjs would need onnx.proto (or generated code) shipped and loaded at run
 * time. Vitals only ever *writes* a handful of ONNX messages, and the protobuf
 * wire format for those is small: varints, length-delimited bytes and fixed32
 * floats. Reading models is left to onnxruntime.
 *
 * Wire format reference: https://protobuf.dev/programming-guides/encoding/
 */

/** Protobuf wire types used here. */
export const WireType = {
  VARINT: 0,
  LENGTH_DELIMITED: 2,
  FIXED32: 5,
} as const;

const textEncoder = new TextEncoder();

/**
 * Appends protobuf-encoded fields to a growable byte buffer.
 * Nested messages are encoded into a child writer first, because the
 * length prefix must be known before the message bytes.
 */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;
  private readonly scratch = new DataView(new ArrayBuffer(4));

  get length(): number {
    return this.len;
  }

  /** The encoded bytes (a copy, so the writer can keep going). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  // --- raw primitives -------------------------------------------------------

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Raw bytes, no tag or length. */
  rawBytes(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /**
   * A base-128 varint. Negative numbers are written as 64-bit two's
   * complement (10 bytes), which is how protobuf encodes negative int32/int64.
   */
  varint(value: number | bigint): this {
    if (typeof value === 'bigint' || value < 0 || value > Number.MAX_SAFE_INTEGER) {
      return this.varint64(BigInt(value));
    }
    if (!Number.isInteger(value)) throw new RangeError(`varint must be an integer, got ${value}`);
    this.ensure(10);
    let v = value;
    // Division instead of bit shifts: JS bit ops truncate to 32 bits.
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
    return this;
  }

  private varint64(value: bigint): this {
    let v = BigInt.asUintN(64, value);
    this.ensure(10);
    while (v >= 0x80n) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
    return this;
  }

  /** A little-endian IEEE-754 float32 (rounds doubles to float32). */
  float32(value: number): this {
    this.scratch.setFloat32(0, value, true);
    this.ensure(4);
    for (let i = 0; i < 4; i++) this.buf[this.len++] = this.scratch.getUint8(i);
    return this;
  }

  tag(field: number, wireType: number): this {
    // (field << 3) | wireType, without 32-bit overflow for large field numbers.
    return this.varint(field * 8 + wireType);
  }

  // --- fields ---------------------------------------------------------------

  /** int32 / int64 / uint64 / enum / bool field. */
  int64Field(field: number, value: number | bigint): this {
    return this.tag(field, WireType.VARINT).varint(value);
  }

  floatField(field: number, value: number): this {
    return this.tag(field, WireType.FIXED32).float32(value);
  }

  bytesField(field: number, bytes: Uint8Array): this {
    return this.tag(field, WireType.LENGTH_DELIMITED).varint(bytes.length).rawBytes(bytes);
  }

  /** A `string` (or `bytes` holding UTF-8) field. */
  stringField(field: number, value: string): this {
    return this.bytesField(field, textEncoder.encode(value));
  }

  /** An embedded message, encoded by `write` into a child writer. */
  messageField(field: number, write: (w: ProtoWriter) => void): this {
    const child = new ProtoWriter();
    write(child);
    this.tag(field, WireType.LENGTH_DELIMITED).varint(child.len);
    this.ensure(child.len);
    this.buf.set(child.buf.subarray(0, child.len), this.len);
    this.len += child.len;
    return this;
  }

  /**
   * Repeated floats, packed (one length-delimited blob of fixed32 values), for
   * fields declared `[packed = true]` such as TensorProto.float_data.
   */
  packedFloats(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    this.tag(field, WireType.LENGTH_DELIMITED).varint(values.length * 4);
    // `!`: i < values.length (same in the three loops below).
    for (let i = 0; i < values.length; i++) this.float32(values[i]!);
    return this;
  }

  /** Repeated int64 (or int32/enum), packed as concatenated varints. */
  packedVarints(field: number, values: ArrayLike<number | bigint>): this {
    if (values.length === 0) return this;
    const body = new ProtoWriter();
    for (let i = 0; i < values.length; i++) body.varint(values[i]!);
    return this.bytesField(field, body.finish());
  }

  /** Repeated floats, unpacked: one fixed32 field per element (proto2 default). */
  repeatedFloats(field: number, values: ArrayLike<number>): this {
    for (let i = 0; i < values.length; i++) this.floatField(field, values[i]!);
    return this;
  }

  /** Repeated int64, unpacked: one varint field per element (proto2 default). */
  repeatedVarints(field: number, values: ArrayLike<number | bigint>): this {
    for (let i = 0; i < values.length; i++) this.int64Field(field, values[i]!);
    return this;
  }

  /** Repeated string/bytes: one length-delimited field per element (never packed). */
  repeatedStrings(field: number, values: readonly string[]): this {
    for (const v of values) this.stringField(field, v);
    return this;
  }
}

/** Exposed for tests: the varint encoding of one value. */
export function encodeVarint(value: number | bigint): Uint8Array {
  return new ProtoWriter().varint(value).finish();
}
