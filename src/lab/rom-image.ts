// The lab's ROM image size for a device: QEMU loads its `romfile` into the ROM BAR (rounded up to a
// power of two), and the kernel reads the image size from the file's PCIR chain. The lab reads the
// same file on the host, so the trace header can say where vfio-pci starts filling 0xff.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { romImageSize } from '../model/pci/rom.js';
import type { LabDevice } from './devices.js';

/** Where Debian's QEMU finds option ROMs (ipxe-qemu, then QEMU's own data directory). */
const ROM_DIRS = ['/usr/lib/ipxe/qemu', '/usr/share/qemu'];

/** The image size of `dev`'s ROM in a BAR of `barSize` bytes; 0 when unknown (no file here, or no ROM). */
export function labRomImage(dev: LabDevice, barSize: bigint, dirs: readonly string[] = ROM_DIRS): number {
  if (dev.romfile === undefined || barSize === 0n) return 0;
  for (const d of dirs) {
    const f = join(d, dev.romfile);
    if (existsSync(f)) return romImageSize(readFileSync(f), Number(barSize));
  }
  return 0;
}
