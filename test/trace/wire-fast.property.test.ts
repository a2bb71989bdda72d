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
import { schema, type MessageInfo } from '../../src/trace/schema.js';
import { assignWithDefaultsGeneric, decodeGeneric, type DecodeContext, type Msg } from '../../src/trace/wire.js';
import { R, defaultsFiller, fastDecoder, rv, rvLoop } from '../../src/trace/wire-fast.js';
import { event, trace } from './arbitrary.js';
import { damage, edits, messageInfos, payloads, soup } from './wire-soup.js';

const packet = schema().packet;
const fast = fastDecoder(packet);
const infos = messageInfos(packet);

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
    fc.assert(
      fc.property(fc.nat(), edits, (which, ed) => agree(damage(Uint8Array.from(examplePackets[which % examplePackets.length]), ed))),
      { numRuns: 3000 },
    );
  });

  it('the unrolled varint reader equals the general loop on any bytes and any end', () => {
    // Bytes with the continuation bit mostly set, so every length from 1 to past 10 comes up.
    const byte = fc.oneof(fc.integer({ min: 0x80, max: 0xff }), fc.integer({ min: 0, max: 0xff }), fc.constantFrom(0, 1, 2, 0x7f));
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 14 }), fc.nat({ max: 3 }), fc.nat(), (bytes, at, cut) => {
        const buf = Uint8Array.from([0x55, 0x55, 0x55, ...bytes]);
        const pos = Math.min(at, buf.length);
        const end = pos + (cut % (buf.length - pos + 1));
        const a = rv(buf, pos, end);
        const fastR = { ...R };
        const b = rvLoop(buf, pos, end);
        expect(a).toBe(b);
        if (a >= 0) expect(fastR).toEqual({ ...R });
      }),
      { numRuns: 20000 },
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
