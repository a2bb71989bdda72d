// Guest config decoding shared by the VMM models: byte enables, merges, BAR sizing and placement.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  GuestBars,
  bitMask,
  byteEnables,
  coversByte,
  extract,
  mergeInto,
  withinDword,
} from '../../../src/model/vmm/guest-config.js';
import type { BarInfo } from '../../../src/trace/types.js';

const bar = (index: number, size: bigint, extra: Partial<BarInfo> = {}): BarInfo => ({
  index,
  size,
  kind: 'mem',
  is64: false,
  prefetchable: false,
  ...extra,
});

describe('vmm.cfg.partial-dword (byte enables and merges)', () => {
  it('a word write at PMCSR+0 enables bytes 0-1 of its dword', () => {
    expect(byteEnables(0xcc, 2)).toBe(0b0011);
    expect(bitMask(byteEnables(0xcd, 1))).toBe(0x0000ff00);
    expect(bitMask(byteEnables(0x04, 4))).toBe(0xffffffff);
  });

  it('accesses that cross a dword are not config cycles', () => {
    expect(withinDword(0x06, 4)).toBe(false);
    expect(withinDword(0x07, 2)).toBe(false);
    expect(withinDword(0x06, 2)).toBe(true);
    expect(withinDword(0x04, 0)).toBe(false);
  });

  it('merging keeps the bytes not written and ignores bytes outside the register', () => {
    // COMMAND is 2 bytes at 0x04; a dword write at 0x04 also carries STATUS, which must not leak in.
    expect(mergeInto(0x0400, 0x04, 2, 0x04, 4, 0xffff0006n)).toBe(0x0006);
    // A byte write to the high byte of COMMAND keeps the low byte.
    expect(mergeInto(0x0006, 0x04, 2, 0x05, 1, 0x04n)).toBe(0x0406);
    expect(coversByte(0x05, 1, 0x04)).toBe(false);
  });

  it('merge then extract is the identity on the written bytes (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.bigInt({ min: 0n, max: 0xffffffffn }), fc.integer({ min: 0, max: 0xffffffff }), (shift, len, value, old) => {
        fc.pre(shift + len <= 4);
        const v = value & ((1n << BigInt(8 * len)) - 1n);
        const merged = mergeInto(old >>> 0, 0x40, 4, 0x40 + shift, len, v);
        expect(extract(merged, 0x40, 0x40 + shift, len)).toBe(v);
        // Bytes outside the write are unchanged.
        const keep = ~bitMask(byteEnables(0x40 + shift, len)) >>> 0;
        expect((merged & keep) >>> 0).toBe((old & keep) >>> 0);
      }),
    );
  });
});

describe('vmm.bar-placement (guest BAR registers)', () => {
  it('sizing: all-ones reads back the size mask with the type bits, and is not a placement', () => {
    const b = new GuestBars([bar(0, 0x20000n)]);
    b.writeAccess(0x10, 4, 0xffffffffn);
    expect(b.read(0)).toBe(0xfffe0000);
    expect(b.placement(0)).toBeNull();
  });

  it('a programmed 32-bit BAR is placed at its address; address 0 is not placed', () => {
    const b = new GuestBars([bar(0, 0x20000n, { prefetchable: true })]);
    expect(b.placement(0)).toBeNull();
    b.writeAccess(0x10, 4, 0xfe000000n);
    expect(b.read(0)).toBe(0xfe000008);
    expect(b.placement(0)).toBe(0xfe000000n);
  });

  it('a 64-bit BAR takes its upper half from the next register', () => {
    const b = new GuestBars([bar(2, 0x100000n, { is64: true, prefetchable: true })]);
    b.writeAccess(0x18, 4, 0x00100000n);
    b.writeAccess(0x1c, 4, 0x80n);
    expect(b.placement(2)).toBe(0x80_0010_0000n);
    b.writeAccess(0x18, 4, 0xffffffffn);
    b.writeAccess(0x1c, 4, 0xffffffffn);
    expect(b.read(3)).toBe(0xffffffff);
    expect(b.placement(2)).toBeNull();
  });

  it('a partial write merges into the BAR (word writes to the high half)', () => {
    const b = new GuestBars([bar(0, 0x20000n)]);
    b.writeAccess(0x12, 2, 0xfe00n);
    expect(b.placement(0)).toBe(0xfe000000n);
  });

  it('reset puts back the type bits only', () => {
    const b = new GuestBars([bar(0, 0x1000n, { is64: true })]);
    b.writeAccess(0x10, 4, 0xfe000000n);
    b.reset();
    expect(b.read(0)).toBe(0x4);
    expect(b.placement(0)).toBeNull();
  });

  it('I/O BARs are never memory placements', () => {
    const b = new GuestBars([{ index: 2, size: 0x20n, kind: 'io', is64: false, prefetchable: false }]);
    b.writeAccess(0x18, 4, 0xc000n);
    expect(b.read(2)).toBe(0xc001);
    expect(b.placement(2)).toBeNull();
  });
});
