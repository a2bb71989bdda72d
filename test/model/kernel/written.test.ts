// The registers a trace wrote (HwFunction.written, src/model/kernel/written.ts) are kept as numbers
// for speed; these properties hold them to the readable forms they replaced (`bar0+0x2800/4` keys,
// hex values, a "before the reset" flag per entry), which the explorer's state key still shows.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { HostEvent, Observed, TraceEvent } from '../../../src/trace/types.js';
import { bytesValue, isZero, keyText, regKey, storeValue, valueHex, writtenAsText } from '../../../src/model/kernel/written.js';
import { stateOfHw } from '../../../src/model/kernel/state.js';
import { meta, openMapped, run } from './helpers.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const leHex = (v: bigint, len: number): string => {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return hex(b);
};

const offsets = fc.oneof(fc.bigInt({ min: 0n, max: 0xffffn }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom(0xffff_ffffn, 0x1_0000_0000n));
const lens = fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 0x3000 }), fc.constantFrom(0x1fff, 0x2000));

describe('written registers: numbers stand for the readable forms', () => {
  it('a key reads back as bar<N>+0x<offset>/<len> (so two keys are equal exactly when those are)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 15 }), offsets, lens, (bar, offset, len) => {
        expect(keyText(regKey(bar, offset, len))).toBe(`bar${bar}+0x${offset.toString(16)}/${len}`);
      }),
      { numRuns: 2000 },
    );
  }, 60_000);
  it('bytes and stores read back as their hex, zero exactly when every byte is', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), fc.integer({ min: 0, max: 14 }), (b, len) => {
        const v = bytesValue(b, len);
        expect(valueHex(v)).toBe(hex(b.subarray(0, len)));
        expect(isZero(v)).toBe(/^0*$/.test(hex(b.subarray(0, len))));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }), fc.integer({ min: 0, max: 8 }), (value, len) => {
        const v = storeValue(value, len);
        expect(valueHex(v)).toBe(leHex(value, len));
        expect(isZero(v)).toBe(/^0*$/.test(leHex(value, len)));
      }),
      { numRuns: 2000 },
    );
  }, 60_000);
  it('equal values exactly when the hex strings are equal (a store against the bytes read back)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 0xffffn }), fc.integer({ min: 0, max: 8 }), fc.uint8Array({ maxLength: 8, max: 3 }), (value, len, b) => {
        expect(storeValue(value, len) === bytesValue(b, len)).toBe(leHex(value, len) === hex(b.subarray(0, len)));
      }),
      { numRuns: 2000 },
    );
  }, 60_000);
});

/** What learn.ts did before the numbers: string keys, hex values, a flag set on every entry at each reset. */
class ReferenceRegisters {
  written: Record<string, { value: string; beforeReset: boolean }> = {};
  resetClears = true;
  see(ev: HostEvent, obs: Observed): string | null {
    const w = this.written;
    const ok = (obs.errno === undefined || obs.errno === '') && obs.signal === undefined;
    if (ev.kind === 'ioctl' && ev.op === 'reset' && obs.ret === 0n) {
      for (const key of Object.keys(w)) w[key]!.beforeReset = true;
      return null;
    }
    let key: string;
    let seen: string;
    if (ev.kind === 'region-write' && ev.region < 6 && ok) {
      w[`bar${ev.region}+0x${ev.offset.toString(16)}/${ev.data.length}`] = { value: hex(ev.data), beforeReset: false };
      return null;
    } else if (ev.kind === 'mem-write' && ok) {
      w[`bar${ev.bar}+0x${ev.offset.toString(16)}/${ev.len}`] = { value: leHex(ev.value, ev.len), beforeReset: false };
      return null;
    } else if (ev.kind === 'region-read' && ev.region < 6 && ok && obs.data !== undefined) {
      key = `bar${ev.region}+0x${ev.offset.toString(16)}/${ev.len}`;
      seen = hex(obs.data.subarray(0, ev.len));
    } else if (ev.kind === 'mem-read' && ok && obs.data !== undefined) {
      key = `bar${ev.bar}+0x${ev.offset.toString(16)}/${ev.len}`;
      seen = hex(obs.data.subarray(0, ev.len));
    } else return null;
    const was = w[key];
    if (was === undefined || !was.beforeReset || seen !== was.value || /^0*$/.test(was.value) || !this.resetClears) return null;
    this.resetClears = false;
    return `the reset clears nothing (${key.split('/')[0]} reads back ${seen}, written before the reset), adopted`;
  }
}

// Few offsets and byte values, and reads mostly as long as the bytes they return, so writes,
// read-backs and resets meet often.
const off = fc.constantFrom(0x2800n, 0x2800n, 0x1_0000_0010n);
const data = fc.constantFrom(...[[1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7, 8], [1]].map((b) => Uint8Array.from(b)));
const ok = fc.constantFrom(true, true, true, false);
const failed = fc.constantFrom<Observed>({ errno: 'EIO' }, { signal: 'SIGBUS' });
const longer = fc.constantFrom(0, 0, 0, 0, 0, 1);
type Access = { ev: HostEvent; ok: boolean; data?: Uint8Array };
const access: fc.Arbitrary<Access> = fc.oneof(
  fc.record({ region: fc.constantFrom(0, 0, 0, 2), offset: off, data, ok }).map(({ region, offset, data, ok }) => ({ ev: { kind: 'region-write', region, offset, data }, ok })),
  fc.record({ offset: off, data, ok }).map(({ offset, data, ok }) => ({
    ev: { kind: 'mem-write', bar: 0, offset, len: data.length, value: data.reduceRight((v, b) => (v << 8n) | BigInt(b), 0n) },
    ok,
  })),
  fc.record({ region: fc.constantFrom(0, 0, 0, 2), offset: off, data, ok, longer }).map(({ region, offset, data, ok, longer }) => ({
    ev: { kind: 'region-read', region, offset, len: data.length + longer },
    ok,
    data,
  })),
  fc.record({ offset: off, data, ok, longer }).map(({ offset, data, ok, longer }) => ({ ev: { kind: 'mem-read', bar: 0, offset, len: data.length + longer }, ok, data })),
  ok.map((ok) => ({ ev: { kind: 'ioctl', op: 'reset' }, ok })),
);

describe('device.reset.clears-nothing-from-read-back: the numbers learn exactly what the strings did', () => {
  it('same notes, same trait, same readable state after any sequence of writes, reads and resets', () => {
    let notes = 0;
    fc.assert(
      fc.property(fc.array(access, { maxLength: 30 }), fc.array(failed, { minLength: 1, maxLength: 1 }), (seq, [bad]) => {
        const m = openMapped('linux-6.12');
        const ref = new ReferenceRegisters();
        for (const a of seq) {
          const ev = a.ev;
          const obs: Observed = !a.ok ? bad! : ev.kind === 'ioctl' ? { ret: 0n } : a.data !== undefined ? { data: a.data } : { ret: 4n };
          const s = run(m, ev);
          const note = m.observe({ ...meta(), ...ev, observed: obs } as TraceEvent, obs, s);
          const want = ref.see(ev, obs);
          // Only the register rule speaks on these events with this device (no config, no power samples).
          expect(note).toBe(want);
          if (note !== null) notes++;
          expect(m.k.hw.traits.resetClears).toBe(ref.resetClears);
        }
        expect(writtenAsText(m.k.hw.written, m.k.hw.resets)).toEqual(ref.written);
        expect(JSON.stringify(Object.keys(writtenAsText(m.k.hw.written, m.k.hw.resets)))).toBe(JSON.stringify(Object.keys(ref.written)));
        expect((stateOfHw(m.k.hw) as { written: unknown }).written).toEqual(ref.written);
      }),
      { numRuns: 500 },
    );
    // The sequences do reach the rule (else the comparison above proves nothing): ~10-20 notes
    // per 500 runs whatever the seed.
    expect(notes).toBeGreaterThan(0);
  }, 120_000);
});
