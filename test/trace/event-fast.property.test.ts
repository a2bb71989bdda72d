// Property: the generated event decoders (src/trace/event-fast.ts) never change what a trace reads
// as. On any packet bytes (random valid events of every kind and op, their fields in any order,
// explicit defaults, field soups, damaged packets) the reader's combination "fast path, else the
// generic decoder + fromWire" gives exactly the old path's event (deep-equal, same key order at
// every level, same value types), header, unknown-field count or error message. And the fast path
// does take the ordinary event: every valid event without a recorded repeated field.
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeEventPacket, encodeTrace } from '../../src/trace/codec.js';
import { fromWire } from '../../src/trace/convert.js';
import { fastEventDecoder } from '../../src/trace/event-fast.js';
import { TraceReader, type TracePacket } from '../../src/trace/reader.js';
import { schema } from '../../src/trace/schema.js';
import type { Observed, TraceEvent } from '../../src/trace/types.js';
import { decodeMessage, type DecodeContext } from '../../src/trace/wire.js';
import { event, observed, trace } from './arbitrary.js';
import { damage, edits, payloads, soup, varint } from './wire-soup.js';

const packet = schema().packet;
const fast = fastEventDecoder(packet);

/**
 * A value with its key order and types made explicit, for comparing objects as the consumers see
 * them: toStrictEqual does not look at key order.
 */
function shape(v: unknown): unknown {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return { [v.constructor.name]: [...v] };
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === 'object') return Object.entries(v).map(([k, x]) => [k, shape(x)]);
  return v;
}

type Result = { ok: unknown; unknown: number } | { error: string };

/** The old path: the generic decoder (fast Msg decoders included, as before) and fromWire. */
function oldPath(b: Uint8Array): Result {
  const ctx: DecodeContext = { file: 'x.pb', base: 0, event: 0, unknown: new Map(), unknownTotal: 0 };
  try {
    const d = fromWire(decodeMessage(packet, b, 0, b.length, ctx), ctx, 0, 0);
    return { ok: d, unknown: ctx.unknownTotal! };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** What the reader does now: the fast path, else the old one. */
function newPath(b: Uint8Array): Result {
  const e = fast(b, 0, b.length);
  return e !== null ? { ok: e, unknown: 0 } : oldPath(b);
}

function same(b: Uint8Array): void {
  const want = oldPath(b);
  const got = newPath(b);
  expect(got).toStrictEqual(want);
  if ('ok' in got && 'ok' in want) expect(shape(got.ok)).toEqual(shape(want.ok));
}

/** Events with a recorded repeated field (SET_IRQS fds, hot-reset group fds, dma-buf ranges) take the old path. */
function hasRepeated(e: TraceEvent): boolean {
  const r = e as unknown as Record<string, unknown>;
  return ['fds', 'groupFds', 'ranges'].some((k) => Array.isArray(r[k]) && (r[k] as unknown[]).length > 0);
}

/** The shared generator has no `text` (a sysfs read's answer): added here, present or absent. */
const observedWithText: fc.Arbitrary<Observed> = fc
  .tuple(observed, fc.option(fc.oneof(fc.string({ maxLength: 8 }), fc.constant('')), { nil: undefined }))
  .map(([o, text]) => (text === undefined ? o : { ...o, text }));

const events: fc.Arbitrary<TraceEvent> = fc
  .tuple(event, fc.option(observedWithText, { nil: undefined }), fc.constantFrom(0, 1, 0xffffffff), fc.boolean())
  .map(([e, o, overlap, replaceObserved]) => {
    const out = { ...e, overlap: e.overlap === 0 ? overlap : e.overlap };
    if (replaceObserved && o !== undefined) out.observed = o;
    return out;
  });

/** The top-level fields of a Packet payload, as byte ranges. */
function fields(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  const varintAt = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const x = b[pos++];
      v += (x & 0x7f) * mul;
      mul *= 128;
      if ((x & 0x80) === 0) return v;
    }
  };
  while (pos < b.length) {
    const start = pos;
    const wire = varintAt() & 7;
    if (wire === 0) varintAt();
    else {
      const len = varintAt(); // (not `pos += varintAt()`: that adds to pos as it was before the length)
      pos += len;
    }
    out.push(b.subarray(start, pos));
  }
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

/** Explicitly encoded defaults a canonical writer omits: tid 0, overlap 0, pid 0, seq 0. */
const explicitDefaults = [
  Uint8Array.of(3 << 3, 0),
  Uint8Array.of(4 << 3, 0),
  Uint8Array.of(...varint(BigInt(35 << 3)), 0),
  Uint8Array.of(1 << 3, 0),
];

const dir = join(import.meta.dirname, '../../traces/examples');
const exampleFiles = readdirSync(dir).filter((f) => f.endsWith('.pb'));
const examplePackets = exampleFiles.flatMap((f) => payloads(new Uint8Array(readFileSync(join(dir, f)))));

const tmp = mkdtempSync(join(tmpdir(), 'vfio-event-fast-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Everything a whole-file read gives: the packets, the stats, or the error message. */
function readAll(path: string, fastEvents: boolean): unknown {
  const r = new TraceReader(path, { fastEvents });
  const packets: TracePacket[] = [];
  try {
    for (const p of r.packetsSync()) packets.push(p);
  } catch (err) {
    return { error: (err as Error).message, packets: shape(packets), stats: r.stats };
  }
  return { packets: shape(packets), stats: r.stats };
}

describe('event fast path (property)', { timeout: 120_000 }, () => {
  it('builds every valid event as the old path does (deep-equal, same key order)', () => {
    fc.assert(
      fc.property(events, (e) => {
        const b = payloads(encodeEventPacket(e))[0];
        if (!hasRepeated(e)) expect(fast(b, 0, b.length)).not.toBeNull();
        same(b);
      }),
      { numRuns: 3000 },
    );
  });

  it('the same with the fields in any order and defaults written out', () => {
    const cases = events.chain((e) => {
      const parts = fields(payloads(encodeEventPacket(e))[0]);
      return fc.tuple(fc.constant(e), fc.shuffledSubarray(parts, { minLength: parts.length }), fc.subarray(explicitDefaults));
    });
    fc.assert(
      fc.property(cases, ([e, parts, extra]) => {
        // Explicit defaults only where the event has no value of its own (no duplicate fields).
        const have = new Set(parts.map((p) => p[0]));
        const b = concat([...parts, ...extra.filter((x) => !have.has(x[0]))]);
        if (!hasRepeated(e) && extra.every((x) => !have.has(x[0]))) expect(fast(b, 0, b.length)).not.toBeNull();
        same(b);
      }),
      { numRuns: 2000 },
    );
  });

  it('on damaged valid events and damaged example packets: same event or same error', () => {
    const src = fc.oneof(
      events.map((e) => payloads(encodeEventPacket(e))[0]),
      fc.nat({ max: examplePackets.length - 1 }).map((i) => examplePackets[i]),
    );
    fc.assert(fc.property(src, edits, (b, ed) => same(damage(Uint8Array.from(b), ed))), { numRuns: 5000 });
  });

  it('on Packet field soups (duplicates, wrong wire types, unknown fields, overflows): same result', () => {
    fc.assert(fc.property(soup(packet, 0), (b) => same(b)), { numRuns: 5000 });
  });

  it('takes every event packet of the example traces, and agrees on every packet', () => {
    let taken = 0;
    for (const b of examplePackets) {
      same(b);
      if (fast(b, 0, b.length) !== null) taken++;
    }
    // The headers (one per file, more in a few) and the events with recorded repeated fields go the old way.
    expect(taken).toBeGreaterThan(examplePackets.length * 0.8);
  });

  it('whole files, intact and damaged: the reader gives the same packets, stats and errors with and without the fast path', () => {
    const files = fc.oneof(
      trace.map((t) => encodeTrace(t)),
      fc.nat({ max: exampleFiles.length - 1 }).map((i) => new Uint8Array(readFileSync(join(dir, exampleFiles[i])))),
    );
    let n = 0;
    fc.assert(
      fc.property(files, fc.option(edits, { nil: undefined }), (bytes, ed) => {
        const path = join(tmp, `t${n++}.pb`);
        writeFileSync(path, ed === undefined ? bytes : damage(Uint8Array.from(bytes), ed));
        expect(readAll(path, true)).toStrictEqual(readAll(path, false));
      }),
      { numRuns: 300 },
    );
  });
});
