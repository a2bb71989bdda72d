// The size of an expansion ROM image as the PCI core computes it (pci_get_rom_size): follow the
// chain of images, each starting with the 0x55AA signature and pointing (offset 0x18) to its
// "PCIR" data structure, whose image length (0x10, in 512-byte units) leads to the next image until
// the last-image indicator (0x15 bit 7). vfio-pci reads the ROM BAR past that size as 0xff.

const u16 = (b: Uint8Array, at: number): number => (at + 2 <= b.length ? b[at]! | (b[at + 1]! << 8) : -1);
const u32 = (b: Uint8Array, at: number): number => (at + 4 <= b.length ? (u16(b, at) | (u16(b, at + 2) << 16)) >>> 0 : -1);

const PCIR = 0x52494350; // "PCIR" little-endian

/**
 * Bytes of `rom` the image chain fills, at most `barSize`; 0 when the first image has no valid
 * header (then pci_map_rom fails and there is nothing to read).
 */
export function romImageSize(rom: Uint8Array, barSize: number): number {
  let at = 0;
  for (;;) {
    if (u16(rom, at) !== 0xaa55) break;
    const pds = at + u16(rom, at + 0x18);
    if (u32(rom, pds) !== PCIR) break;
    const last = pds + 0x15 < rom.length && (rom[pds + 0x15]! & 0x80) !== 0;
    const length = u16(rom, pds + 0x10);
    at += length * 512;
    if (at >= barSize || length === 0 || last) break;
  }
  return Math.min(at, barSize);
}
