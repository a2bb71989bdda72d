// pci_get_rom_size over a PCIR image chain (src/model/pci/rom.ts): the image size vfio-pci's
// 0xff fill starts at (device trait rom-image).
import { describe, expect, it } from 'vitest';
import { romImageSize } from '../../../src/model/pci/rom.js';

/** A ROM of `images` (length in 512-byte units each), the last one flagged, in `size` bytes. */
function rom(size: number, images: number[], flagLast = true): Uint8Array {
  const b = new Uint8Array(size);
  let at = 0;
  images.forEach((units, i) => {
    b[at] = 0x55;
    b[at + 1] = 0xaa;
    const pds = at + 0x40;
    b[at + 0x18] = 0x40;
    b.set([0x50, 0x43, 0x49, 0x52], pds); // "PCIR"
    b[pds + 0x10] = units & 0xff;
    b[pds + 0x11] = units >> 8;
    if (flagLast && i === images.length - 1) b[pds + 0x15] = 0x80;
    at += units * 512;
  });
  return b;
}

describe('romImageSize', () => {
  it('sums the image chain up to the last-image flag (QEMU efi-e1000e.rom: 0x12600 + 0x2aa00)', () => {
    expect(romImageSize(rom(0x40000, [0x93, 0x155]), 0x40000)).toBe(0x3d000);
  });
  it('stops at a missing signature, never past the BAR', () => {
    expect(romImageSize(rom(0x40000, [0x93, 0x155], false), 0x40000)).toBe(0x3d000); // next header invalid
    expect(romImageSize(rom(0x1000, [0x10]), 0x1000)).toBe(0x1000);
    expect(romImageSize(new Uint8Array(0x1000), 0x1000)).toBe(0);
  });
});
