// A config-space image: little-endian accessors over a Uint8Array. Used for the device's hardware
// registers and for vfio-pci's virtual copy (vconfig); both are plain byte arrays in the kernel.

export class ConfigImage {
  readonly bytes: Uint8Array;

  constructor(sizeOrBytes: number | Uint8Array) {
    this.bytes = typeof sizeOrBytes === 'number' ? new Uint8Array(sizeOrBytes) : Uint8Array.from(sizeOrBytes);
  }

  get size(): number {
    return this.bytes.length;
  }

  clone(): ConfigImage {
    return new ConfigImage(this.bytes);
  }

  inRange(offset: number, len: number): boolean {
    return offset >= 0 && len >= 0 && offset + len <= this.bytes.length;
  }

  u8(off: number): number {
    return this.bytes[off] ?? 0;
  }

  u16(off: number): number {
    return this.u8(off) | (this.u8(off + 1) << 8);
  }

  u32(off: number): number {
    return (this.u16(off) | (this.u16(off + 2) << 16)) >>> 0;
  }

  /** Little-endian value of `len` (1..8) bytes. */
  read(off: number, len: number): bigint {
    let v = 0n;
    for (let i = len - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.u8(off + i));
    return v;
  }

  setU8(off: number, v: number): void {
    if (off >= 0 && off < this.bytes.length) this.bytes[off] = v & 0xff;
  }

  setU16(off: number, v: number): void {
    this.setU8(off, v);
    this.setU8(off + 1, v >>> 8);
  }

  setU32(off: number, v: number): void {
    this.setU16(off, v & 0xffff);
    this.setU16(off + 2, (v >>> 16) & 0xffff);
  }

  write(off: number, len: number, v: bigint): void {
    for (let i = 0; i < len; i++) this.setU8(off + i, Number((v >> BigInt(8 * i)) & 0xffn));
  }

  slice(off: number, len: number): Uint8Array {
    return this.bytes.slice(off, off + len);
  }
}

/** Little-endian bigint of a byte array (<= 8 bytes meaningful). */
export function leValue(data: Uint8Array): bigint {
  let v = 0n;
  for (let i = data.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[i] ?? 0);
  return v;
}

export function leBytes(v: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}
