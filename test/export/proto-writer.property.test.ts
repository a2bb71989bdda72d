// ProtoWriter against protobufjs's reader: any sequence of varint, string and nested fields reads
// back as written.
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { ProtoWriter } from '../../src/export/proto-writer.js';

type Field = { f: number; k: 'u'; v: bigint } | { f: number; k: 's'; v: string } | { f: number; k: 'm'; v: bigint };
const field = fc.oneof(
  fc.record({ f: fc.integer({ min: 1, max: 1000 }), k: fc.constant('u' as const), v: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
  fc.record({ f: fc.integer({ min: 1, max: 1000 }), k: fc.constant('s' as const), v: fc.string({ unit: 'grapheme' }) }),
  fc.record({ f: fc.integer({ min: 1, max: 1000 }), k: fc.constant('m' as const), v: fc.bigInt({ min: 0n, max: 1n << 40n }) }),
);

describe('ProtoWriter', () => {
  it('reads back through protobufjs', () => {
    fc.assert(
      fc.property(fc.array(field, { maxLength: 20 }), (fields) => {
        const w = new ProtoWriter();
        for (const x of fields) {
          if (x.k === 'u') w.uint(x.f, x.v <= BigInt(Number.MAX_SAFE_INTEGER) && x.v % 2n === 0n ? Number(x.v) : x.v);
          else if (x.k === 's') w.string(x.f, x.v);
          else w.message(x.f, new ProtoWriter().uint(1, x.v));
        }
        const r = protobuf.Reader.create(w.finish());
        for (const x of fields) {
          const tag = r.uint32();
          expect(tag >>> 3).toBe(x.f);
          if (x.k === 'u') {
            expect(tag & 7).toBe(0);
            expect(BigInt(r.uint64().toString())).toBe(x.v);
          } else if (x.k === 's') {
            expect(tag & 7).toBe(2);
            expect(r.string()).toBe(x.v);
          } else {
            expect(tag & 7).toBe(2);
            const inner = protobuf.Reader.create(r.bytes());
            expect(inner.uint32()).toBe(8);
            expect(BigInt(inner.uint64().toString())).toBe(x.v);
          }
        }
        expect(r.pos).toBe(r.len);
      }),
    );
  });
  it('refuses negative and oversized varints', () => {
    expect(() => new ProtoWriter().uint(1, -1)).toThrow(RangeError);
    expect(() => new ProtoWriter().uint(1, 1n << 64n)).toThrow(RangeError);
  });
});
