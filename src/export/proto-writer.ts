// A protobuf writer for the two wire types the Perfetto export needs: varints (uint32/uint64/bool/
// enum) and length-delimited fields (strings, bytes, nested messages). Perfetto's schema is not
// ours, so it is not in proto/ and protobufjs's reflection would buy nothing but start-up time:
// the export writes the few fields it uses by number (src/export/perfetto-fields.ts).

const utf8 = new TextEncoder();

export class ProtoWriter {
  private buf = new Uint8Array(64);
  private len = 0;

  get length(): number {
    return this.len;
  }

  /** A varint field (uint32, uint64, enum, bool). Negative values are refused: no field we write is signed. */
  uint(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.rawVarint(v);
    return this;
  }

  bool(field: number, v: boolean): this {
    return this.uint(field, v ? 1 : 0);
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.rawVarint(b.length);
    this.put(b);
    return this;
  }

  /** A nested message: its bytes, length-prefixed. */
  message(field: number, m: ProtoWriter): this {
    this.tag(field, 2);
    this.rawVarint(m.len);
    this.put(m.buf.subarray(0, m.len));
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  private tag(field: number, wireType: 0 | 2): void {
    this.rawVarint(field * 8 + wireType);
  }

  private rawVarint(v: number | bigint): void {
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint out of range: ${v}`);
      if (v < 0x80000000) {
        this.room(5);
        while (v >= 0x80) {
          this.buf[this.len++] = (v & 0x7f) | 0x80;
          v >>>= 7;
        }
        this.buf[this.len++] = v;
        return;
      }
      v = BigInt(v);
    }
    if (v < 0n || v >= 1n << 64n) throw new RangeError(`varint out of range: ${v}`);
    this.room(10);
    while (v >= 0x80n) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
  }

  private put(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}
