import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConfigImage, leBytes, leValue } from '../../../src/model/pci/config-image.js';
import { capLength, findCap, walkCapabilities } from '../../../src/model/pci/caps.js';
import { e1000eSnapshot } from '../../../src/model/devices/e1000e.js';

function e1000e(): ConfigImage {
  return new ConfigImage(e1000eSnapshot().config);
}

describe('ConfigImage', () => {
  it('reads and writes little-endian fields', () => {
    const c = new ConfigImage(256);
    c.setU32(0x10, 0xfea00000);
    expect(c.u32(0x10)).toBe(0xfea00000);
    expect(c.u16(0x12)).toBe(0xfea0);
    c.write(0x20, 3, 0x123456n);
    expect(c.read(0x20, 3)).toBe(0x123456n);
    expect(c.inRange(250, 6)).toBe(true);
    expect(c.inRange(250, 7)).toBe(false);
  });

  it('leBytes/leValue round-trip (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
        expect(leValue(leBytes(v, 8))).toBe(v);
      }),
    );
  });
});

describe('walkCapabilities', () => {
  it('walks the e1000e standard and extended chains in order', () => {
    const w = walkCapabilities(e1000e());
    expect(w.caps.map((c) => `${c.space}:${c.id.toString(16)}@${c.offset.toString(16)}`)).toEqual([
      'std:1@c8',
      'std:5@d0',
      'std:10@e0',
      'std:11@a0',
      'ext:1@100',
      'ext:3@140',
    ]);
    expect(w.problems).toEqual([]);
    expect(findCap(w, 'ext', 3)?.version).toBe(1);
  });

  it('stops at a standard cycle and reports it', () => {
    const c = e1000e();
    c.setU8(0xa1, 0xc8); // MSI-X -> PM again
    const w = walkCapabilities(c);
    expect(w.caps.filter((x) => x.space === 'std')).toHaveLength(4);
    expect(w.problems).toContainEqual({ space: 'std', at: 0xa1, kind: 'cycle', pointer: 0xc8 });
  });

  it('masks reserved low pointer bits and reports them', () => {
    const c = e1000e();
    c.setU8(0x34, 0xcb); // 0xc8 | 3
    const w = walkCapabilities(c);
    expect(w.caps[0]?.offset).toBe(0xc8);
    expect(w.problems).toContainEqual({ space: 'std', at: 0x34, kind: 'reserved-bits', pointer: 0xcb });
  });

  it('stops at a next pointer into the header', () => {
    const c = e1000e();
    c.setU8(0xd1, 0x20);
    const w = walkCapabilities(c);
    expect(w.caps.filter((x) => x.space === 'std').map((x) => x.offset)).toEqual([0xc8, 0xd0]);
    expect(w.problems).toContainEqual({ space: 'std', at: 0xd1, kind: 'bad-pointer', pointer: 0x20 });
  });

  it('ignores the standard chain without STATUS.CAP_LIST', () => {
    const c = e1000e();
    c.setU16(0x06, 0);
    expect(walkCapabilities(c).caps.filter((x) => x.space === 'std')).toEqual([]);
  });

  it('stops at an extended cycle and at an extended pointer below 0x100', () => {
    const c = e1000e();
    c.setU32(0x140, (0x100 << 20) | (1 << 16) | 3);
    let w = walkCapabilities(c);
    expect(w.caps.filter((x) => x.space === 'ext')).toHaveLength(2);
    expect(w.problems.some((p) => p.space === 'ext' && p.kind === 'cycle')).toBe(true);
    c.setU32(0x140, (0x40 << 20) | (1 << 16) | 3);
    w = walkCapabilities(c);
    expect(w.problems).toContainEqual({ space: 'ext', at: 0x140, kind: 'bad-pointer', pointer: 0x40 });
  });

  it('has no extended chain in a 256-byte image', () => {
    const c = new ConfigImage(e1000eSnapshot().config.subarray(0, 256));
    expect(walkCapabilities(c).caps.every((x) => x.space === 'std')).toBe(true);
  });

  it('terminates and never throws on arbitrary config bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4096, maxLength: 4096 }), (bytes) => {
        const w = walkCapabilities(new ConfigImage(bytes));
        expect(w.caps.length).toBeLessThanOrEqual(48 + 480);
        const seen = new Set(w.caps.map((c) => `${c.space}${c.offset}`));
        expect(seen.size).toBe(w.caps.length);
      }),
      { numRuns: 200 },
    );
  });

  it('sizes capabilities the way vfio-pci does', () => {
    const c = e1000e();
    const w = walkCapabilities(c);
    const len = (space: 'std' | 'ext', id: number): number => capLength(c, findCap(w, space, id)!);
    expect(len('std', 0x01)).toBe(8);
    expect(len('std', 0x05)).toBe(14); // 64-bit MSI, no mask bits
    expect(len('std', 0x10)).toBe(20); // PCIe v1 endpoint
    expect(len('std', 0x11)).toBe(12);
    expect(len('ext', 0x03)).toBe(12);
  });
});
