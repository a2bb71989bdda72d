import { describe, expect, it } from 'vitest';
import { ConfigImage } from '../../../src/model/pci/config-image.js';
import { walkCapabilities } from '../../../src/model/pci/caps.js';
import { hwWriteMask } from '../../../src/model/pci/hw-wmask.js';
import { e1000eSnapshot } from '../../../src/model/devices/e1000e.js';

describe('hwWriteMask (the function\'s own writable bits, as QEMU\'s e1000e implements them)', () => {
  const img = new ConfigImage(e1000eSnapshot().config);
  const m = hwWriteMask(img, walkCapabilities(img));
  const u16 = (at: number) => (m[at] ?? 0) | ((m[at + 1] ?? 0) << 8);
  it('COMMAND: IO, MEM, MASTER, SERR, INTX_DISABLE', () => expect(u16(0x04)).toBe(0x0507));
  it('latency timer hardwired on PCI Express', () => expect(m[0x0d]).toBe(0));
  it('device-specific bytes outside capabilities are writable, capability bytes only where defined', () => {
    expect(m[0x40]).toBe(0xff);
    expect(m[0x200]).toBe(0xff);
    expect(u16(0xca)).toBe(0); // PMC
    expect(u16(0xcc)).toBe(0x1f03); // PMCSR: state, PME_En, Data_Select
    expect(u16(0xe8)).toBe(0x800f); // DEVCTL error reporting enables (+ FLR, virtualized by vfio)
    expect(m[0x144]).toBe(0); // DSN
  });
  it('a conventional PCI function keeps its latency timer', () => {
    const pci = new ConfigImage(img.bytes);
    pci.setU8(0xd1, 0xa0); // unlink the PCIe capability
    expect(hwWriteMask(pci, walkCapabilities(pci))[0x0d]).toBe(0xff);
  });
});
