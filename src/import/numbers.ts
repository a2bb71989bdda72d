// The one place the importers check that a number read from a log fits the trace field it goes
// to. A pid of 2^32, a result of 2^63, a length of -1 are malformed lines, not values to wrap or
// to hand to the encoder (which would throw a RangeError far from the line that caused it).

import { SyntaxProblem } from './strace-text.js';

export type NumberRange = 'u16' | 'u32' | 'u64' | 's64' | 'off_t';

const LIMITS: Record<NumberRange, [bigint, bigint, string]> = {
  u16: [0n, 0xffffn, 'an unsigned 16-bit value'],
  u32: [0n, 0xffff_ffffn, 'an unsigned 32-bit value'],
  u64: [0n, (1n << 64n) - 1n, 'an unsigned 64-bit value'],
  s64: [-(1n << 63n), (1n << 63n) - 1n, 'a signed 64-bit value'],
  // A file offset: strace prints loff_t signed, so a region-encoded VFIO offset with bit 63 set
  // shows negative; both spellings of the same 64 bits are accepted.
  off_t: [-(1n << 63n), (1n << 64n) - 1n, 'a 64-bit file offset'],
};

/** `v` when it lies in `range`, else a SyntaxProblem at `column` naming `what`. */
export function checked(v: bigint, range: NumberRange, what: string, column = 0): bigint {
  const [lo, hi, name] = LIMITS[range];
  if (v < lo || v > hi) throw new SyntaxProblem(`${what} ${v} is out of range (${name})`, column);
  return v;
}

/** `checked` for fields the trace holds as a JS number (u16/u32). */
export function checkedNumber(v: bigint, range: 'u16' | 'u32', what: string, column = 0): number {
  return Number(checked(v, range, what, column));
}
