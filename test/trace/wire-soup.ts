// Wire-level generators shared by the fast-decoder property tests (wire-fast, event-fast): the
// packets of a framed trace, "field soups" of any message type, damaged packets.
import fc from 'fast-check';
import { framePrefix } from '../../src/trace/reader.js';
import type { MessageInfo } from '../../src/trace/schema.js';

/** The Packet payloads of a framed trace. */
export function payloads(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const [len, hdr] = framePrefix(bytes, pos, bytes.length, 'x.pb', pos, true)!;
    out.push(bytes.subarray(pos + hdr, pos + hdr + len));
    pos += hdr + len;
  }
  return out;
}

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

export function soup(info: MessageInfo, depth: number): fc.Arbitrary<Uint8Array> {
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

export function varint(v: bigint): number[] {
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
export function messageInfos(packet: MessageInfo): MessageInfo[] {
  const all = new Map<string, MessageInfo>();
  const visit = (m: MessageInfo): void => {
    if (all.has(m.name)) return;
    all.set(m.name, m);
    for (const f of m.ordered) if (f.msg) visit(f.msg);
  };
  visit(packet);
  return [...all.values()];
}


/** Byte edits of a packet: flips, insertions, deletions, a cut. */
export const edits = fc.array(fc.record({ at: fc.nat(), op: fc.constantFrom('xor', 'insert', 'delete', 'cut'), byte: fc.integer({ min: 0, max: 255 }) }), {
  minLength: 1,
  maxLength: 3,
});

/** `b` with the edits applied (in place where the length stays). */
export function damage(b: Uint8Array, ed: { at: number; op: string; byte: number }[]): Uint8Array {
  for (const e of ed) {
    const at = b.length === 0 ? 0 : e.at % b.length;
    if (e.op === 'xor') b[at] ^= e.byte === 0 ? 1 : e.byte;
    else if (e.op === 'insert') b = Uint8Array.from([...b.subarray(0, at), e.byte, ...b.subarray(at)]);
    else if (e.op === 'delete') b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1)]);
    else b = b.slice(0, at);
  }
  return b;
}
