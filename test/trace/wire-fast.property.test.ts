// Property: the generated fast decoder (src/trace/wire-fast.ts) never disagrees with the generic
// wire walk. On any packet bytes, well-formed or damaged, it either gives up (null) or returns
// exactly what the generic decoder returns, and it never gives an answer where the generic one
// throws or counts an unknown field. And it does take the ordinary case: every event packet of a
// well-formed trace decodes on the fast path.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeEventPacket, encodeTrace } from '../../src/trace/codec.js';
import { framePrefix } from '../../src/trace/reader.js';
import { schema, type MessageInfo } from '../../src/trace/schema.js';
import { assignWithDefaultsGeneric, decodeGeneric, type DecodeContext, type Msg } from '../../src/trace/wire.js';
import { defaultsFiller, fastDecoder } from '../../src/trace/wire-fast.js';
import { event, trace } from './arbitrary.js';

const packet = schema().packet;
const fast = fastDecoder(packet);

/** The Packet payloads of a framed trace. */
function payloads(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const [len, hdr] = framePrefix(bytes, pos, bytes.length, 'x.pb', pos, true)!;
    out.push(bytes.subarray(pos + hdr, pos + hdr + len));
    pos += hdr + len;
  }
  return out;
}

type Generic = { ok: Msg; unknown: number } | { error: string };

function generic(b: Uint8Array, info: MessageInfo = packet): Generic {
  const ctx: DecodeContext = { file: 'x.pb', base: 0, unknown: new Map() };
  try {
    const m = decodeGeneric(info, b, 0, b.length, ctx, true);
    return { ok: m, unknown: ctx.unknown.size };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

function agree(b: Uint8Array, info: MessageInfo = packet): void {
  const f = fastDecoder(info)(b, 0, b.length);
  if (f === null) return;
  const g = generic(b, info);
  expect(g).toEqual({ ok: f, unknown: 0 });
}

const dir = join(import.meta.dirname, '../../traces/examples');
const examplePackets = readdirSync(dir)
  .filter((f) => f.endsWith('.pb'))
  .flatMap((f) => payloads(new Uint8Array(readFileSync(join(dir, f)))));

/**
 * "Field soup": random sequences of fields of a message, mostly known fields with the expected
 * wire type, with values across every range boundary (u32/i32/bool/enum overflows), duplicates,
 * wrong wire types, unknown field numbers, invalid UTF-8, nested soups for message fields.
 */
const varintValue = fc.oneof(
  fc.constantFrom(0n, 1n, 2n, 3n, 5n, 0x7fn, 0x80n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n, 0xffffffff80000000n),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
);
const payloadBytes = fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.constantFrom(Uint8Array.of(0xc3, 0x28), Uint8Array.of(0xef, 0xbb, 0xbf, 0x41), Uint8Array.of(0xe2, 0x82, 0xac)));

function soup(info: MessageInfo, depth: number): fc.Arbitrary<Uint8Array> {
  // A message without fields (open, close, reset) can only hold unknown ones.
  if (info.ordered.length === 0) return fc.constantFrom(new Uint8Array(0), Uint8Array.of(0x08, 0x01));
  const entry = fc.record({ field: fc.nat(), odd: fc.nat({ max: 19 }), v: varintValue, bytes: payloadBytes });
  return fc.array(entry, { maxLength: 8 }).chain((entries) =>
    fc.tuple(...entries.map((e) => {
      const f = info.ordered[e.field % info.ordered.length];
      if (f.kind === 'msg' && depth < 3 && e.odd > 1) return soup(f.msg!, depth + 1).map((b) => ({ e, f, nested: b as Uint8Array | null }));
      return fc.constant({ e, f, nested: null as Uint8Array | null });
    })).map((parts) => {
      const out: number[] = [];
      for (const { e, f, nested } of parts) {
        const want = f.kind === 'string' || f.kind === 'bytes' || f.kind === 'msg' ? 2 : 0;
        const id = e.odd === 0 ? 1000 + (e.field % 5) : f.id; // an unknown field now and then
        const wire = e.odd === 1 ? e.field % 6 : want; // a wrong wire type now and then
        out.push(...varint(BigInt(((id << 3) | wire) >>> 0)));
        if (wire === 0) {
          // Now and then a varint longer than 10 bytes, or whose 10th byte overflows 64 bits.
          if (e.odd === 2) out.push(...(e.field % 2 === 0 ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01] : [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02]));
          else out.push(...varint(e.v));
        } else if (wire === 1) out.push(0, 0, 0, 0, 0, 0, 0, 0);
        else if (wire === 5) out.push(0, 0, 0, 0);
        else if (wire === 2) {
          const b = nested ?? e.bytes;
          out.push(...varint(BigInt(b.length)), ...b);
        }
      }
      return Uint8Array.from(out);
    }),
  );
}

function varint(v: bigint): number[] {
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

/** Every message type reachable from Packet. */
const infos = ((): MessageInfo[] => {
  const all = new Map<string, MessageInfo>();
  const visit = (m: MessageInfo): void => {
    if (all.has(m.name)) return;
    all.set(m.name, m);
    for (const f of m.ordered) if (f.msg) visit(f.msg);
  };
  visit(packet);
  return [...all.values()];
})();

describe('fast wire decoder (property)', { timeout: 60_000 }, () => {
  it('decodes every event packet of well-formed traces, equal to the generic walk', () => {
    fc.assert(
      fc.property(event, (e) => {
        const b = payloads(encodeEventPacket(e))[0];
        const f = fast(b, 0, b.length);
        // Events with repeated fields (hot-reset fds, dma-buf ranges, recorded SET_IRQS fds) are left to the generic walk.
        const repeated = e.kind === 'ioctl' && (e.op === 'hot-reset' || e.op === 'dma-buf' || (e.op === 'set-irqs' && e.fds.length > 0));
        if (!repeated) expect(f).not.toBeNull();
        agree(b);
      }),
      { numRuns: 1000 },
    );
  });

  it('on damaged packets it gives up or agrees with the generic walk', () => {
    const damage = fc.record({
      which: fc.nat(),
      edits: fc.array(fc.record({ at: fc.nat(), op: fc.constantFrom('xor', 'insert', 'delete', 'cut'), byte: fc.integer({ min: 0, max: 255 }) }), {
        minLength: 1,
        maxLength: 3,
      }),
    });
    fc.assert(
      fc.property(damage, ({ which, edits }) => {
        let b = Uint8Array.from(examplePackets[which % examplePackets.length]);
        for (const e of edits) {
          const at = b.length === 0 ? 0 : e.at % b.length;
          if (e.op === 'xor') b[at] ^= e.byte === 0 ? 1 : e.byte;
          else if (e.op === 'insert') b = Uint8Array.from([...b.subarray(0, at), e.byte, ...b.subarray(at)]);
          else if (e.op === 'delete') b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1)]);
          else b = b.slice(0, at);
        }
        agree(b);
      }),
      { numRuns: 3000 },
    );
  });

  it('on field soups of every message type it gives up or agrees with the generic walk', () => {
    const cases = fc.nat({ max: infos.length - 1 }).chain((i) => soup(infos[i], 0).map((b) => ({ info: infos[i], b })));
    fc.assert(fc.property(cases, ({ info, b }) => agree(b, info)), { numRuns: 4000 });
  });

  it('agrees on every packet of random whole traces (headers take the generic walk)', () => {
    fc.assert(
      fc.property(trace, (t) => {
        for (const b of payloads(encodeTrace(t))) agree(b);
      }),
      { numRuns: 100 },
    );
  });

  it('the generated defaults fillers equal the generic loop, with the same key order', () => {
    const withFiller = infos.filter((i) => defaultsFiller(i) !== null);
    expect(withFiller.length).toBeGreaterThan(10);
    const cases = fc.nat({ max: withFiller.length - 1 }).chain((i) => soup(withFiller[i], 0).map((b) => ({ info: withFiller[i], b })));
    fc.assert(
      fc.property(cases, ({ info, b }) => {
        const ctx: DecodeContext = { file: 'x.pb', base: 0, unknown: new Map() };
        let m: Msg;
        try {
          m = decodeGeneric(info, b, 0, b.length, ctx, true);
        } catch {
          return;
        }
        const a = defaultsFiller(info)!(m, { kind: 'k' });
        const g = assignWithDefaultsGeneric(info, m, { kind: 'k' });
        expect(a).toEqual(g);
        expect(Object.keys(a)).toEqual(Object.keys(g));
      }),
      { numRuns: 2000 },
    );
  });
});
