// Property: for any trace, pb -> text -> pb is byte-identical and canonical text -> pb -> text is
// the identity; decoding gives back the trace that was encoded (u64 values up to 2^64-1 intact).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeTrace, encodeTrace } from '../../src/trace/codec.js';
import { parseText } from '../../src/trace/text-parse.js';
import { printText } from '../../src/trace/text-print.js';
import { trace } from './arbitrary.js';

describe('trace codec round trips (property)', { timeout: 60_000 }, () => {
  it('decode(encode(t)) equals t', () => {
    fc.assert(
      fc.property(trace, (t) => {
        expect(decodeTrace(encodeTrace(t), 'p.pb')).toEqual(t);
      }),
      { numRuns: 200 },
    );
  });

  it('pb -> text -> pb is byte-identical', () => {
    fc.assert(
      fc.property(trace, (t) => {
        const pb = encodeTrace(t);
        const text = printText(decodeTrace(pb, 'p.pb'));
        expect(Buffer.from(encodeTrace(parseText(text, 'p.txt'))).equals(Buffer.from(pb))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('canonical text -> pb -> text is the identity', () => {
    fc.assert(
      fc.property(trace, (t) => {
        const canonical = printText(t);
        const again = printText(decodeTrace(encodeTrace(parseText(canonical, 'p.txt')), 'p.pb'));
        expect(again).toBe(canonical);
      }),
      { numRuns: 200 },
    );
  });
});
