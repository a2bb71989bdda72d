// Keys and values of HwFunction.written (the registers a trace wrote, for learning reset-clears=no
// in learn.ts). Every BAR write and read of a replay looks them up, and a long trace writes tens of
// thousands of registers, so the common case is a number: building a `bar0+0x2800/4` string and a
// hex string per access (and hashing them in a map of that size) was a fifth of a replay's time.
// Unusual accesses (an offset past 4 GiB, a pwrite of 8 KiB or more, a value wider than 6 bytes)
// keep the readable string forms. `writtenAsText` gives the readable form of every entry.

/** A register: `bar`, byte `offset` in it and access length. */
export type RegKey = number | string;

/**
 * A register's bytes: a number (the little-endian value plus `count * 2^48`, so `00` and `0000`
 * stay apart as their hex strings did) for up to 6 bytes, else the hex string.
 */
export type RegValue = number | string;

const LEN_SPAN = 0x2000;
const BAR_SPAN = 8;
const VALUE_SPAN = 2 ** 48;

export function regKey(bar: number, offset: bigint, len: number): RegKey {
  if (bar < BAR_SPAN && offset < 0x1_0000_0000n && len < LEN_SPAN) return (Number(offset) * LEN_SPAN + len) * BAR_SPAN + bar;
  return `bar${bar}+0x${offset.toString(16)}/${len}`;
}

/** The readable form of a key: `bar0+0x2800/4`. */
export function keyText(key: RegKey): string {
  if (typeof key === 'string') return key;
  const bar = key % BAR_SPAN;
  const rest = (key - bar) / BAR_SPAN;
  const len = rest % LEN_SPAN;
  return `bar${bar}+0x${((rest - len) / LEN_SPAN).toString(16)}/${len}`;
}

/** The first `len` bytes of `b` (fewer when `b` is shorter, as `subarray` gives). */
export function bytesValue(b: Uint8Array, len: number): RegValue {
  const n = Math.min(len, b.length);
  if (n > 6) return Buffer.from(b.buffer, b.byteOffset, n).toString('hex');
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[i]!;
  return v + n * VALUE_SPAN;
}

/** A CPU store of `len` bytes: the low `len` bytes of `value`, little-endian. */
export function storeValue(value: bigint, len: number): RegValue {
  if (len <= 6) return Number(BigInt.asUintN(8 * len, value)) + len * VALUE_SPAN;
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return Buffer.from(b).toString('hex');
}

/** All bytes zero (what a reset leaves anyway: proves nothing). */
export function isZero(v: RegValue): boolean {
  return typeof v === 'number' ? v % VALUE_SPAN === 0 : /^0*$/.test(v);
}

/** The hex string of the bytes, first byte first. */
export function valueHex(v: RegValue): string {
  if (typeof v === 'string') return v;
  const n = Math.floor(v / VALUE_SPAN);
  let rest = v % VALUE_SPAN;
  let out = '';
  for (let i = 0; i < n; i++) {
    out += (rest % 256).toString(16).padStart(2, '0');
    rest = Math.floor(rest / 256);
  }
  return out;
}

/** The entries in insertion order with readable keys and hex values. */
export function writtenAsText(written: ReadonlyMap<RegKey, { value: RegValue; resets: number }>, resets: number): Record<string, { value: string; beforeReset: boolean }> {
  const out: Record<string, { value: string; beforeReset: boolean }> = {};
  for (const [key, w] of written) out[keyText(key)] = { value: valueHex(w.value), beforeReset: w.resets < resets };
  return out;
}
