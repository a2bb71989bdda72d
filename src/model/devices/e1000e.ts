// A reusable test device shaped like QEMU's emulated e1000e (Intel 82574L, 8086:10d3), the device
// the lab binds to vfio-pci. Layout follows QEMU hw/net/e1000e.c: PM at 0xc8 (NoSoftRst-), MSI at
// 0xd0, PCIe v1 endpoint at 0xe0 (no FLR), MSI-X at 0xa0 (5 vectors, table BAR3+0, PBA BAR3+0x2000),
// AER at 0x100, DSN at 0x140. BAR addresses are fixed, plausible host assignments.

import type { BarInfo, DeviceQuirks, DeviceSnapshot } from '../../trace/types.js';
import { ConfigImage } from '../pci/config-image.js';

export const E1000E_BAR0 = 0xfea00000;
export const E1000E_BAR1 = 0xfea20000;
export const E1000E_BAR2_IO = 0xc000;
export const E1000E_BAR3 = 0xfea40000;
export const E1000E_ROM = 0xfea80000;

function e1000eConfig(): Uint8Array {
  const c = new ConfigImage(4096);
  c.setU16(0x00, 0x8086);
  c.setU16(0x02, 0x10d3);
  c.setU16(0x04, 0x0400); // as left by vfio_pci_core_disable: INTX_DISABLE, decode off
  c.setU16(0x06, 0x0010); // capabilities list
  c.setU32(0x08, 0x02000000); // class: ethernet controller, rev 0
  c.setU32(0x10, E1000E_BAR0); // mem32, non-prefetchable
  c.setU32(0x14, E1000E_BAR1);
  c.setU32(0x18, E1000E_BAR2_IO | 0x1);
  c.setU32(0x1c, E1000E_BAR3);
  c.setU16(0x2c, 0x8086);
  c.setU16(0x2e, 0x0000);
  c.setU32(0x30, E1000E_ROM); // ROM disabled (bit 0 clear)
  c.setU8(0x34, 0xc8);
  c.setU8(0x3c, 0x0b);
  c.setU8(0x3d, 0x01); // INTA
  // PM as QEMU's e1000e_add_pm_capability(PCI_PM_CAP_DSI): version 1.1 + DSI, no D1/D2, no PME
  // support; PMCSR D0 with NoSoftRst clear (NoSoftRst-, so vfio saves/restores around D3hot).
  c.setU8(0xc8, 0x01);
  c.setU8(0xc9, 0xd0);
  c.setU16(0xca, 0x0022);
  c.setU16(0xcc, 0x0000);
  // MSI: 64-bit, 1 vector, no per-vector masking.
  c.setU8(0xd0, 0x05);
  c.setU8(0xd1, 0xe0);
  c.setU16(0xd2, 0x0080);
  // PCIe v1 endpoint: DEVCAP without FLR.
  c.setU8(0xe0, 0x10);
  c.setU8(0xe1, 0xa0);
  c.setU16(0xe2, 0x0001);
  c.setU32(0xe4, 0x00008cc1);
  c.setU16(0xe8, 0x2810);
  // MSI-X: 5 vectors, table BAR3+0x0, PBA BAR3+0x2000.
  c.setU8(0xa0, 0x11);
  c.setU8(0xa1, 0x00);
  c.setU16(0xa2, 0x0004);
  c.setU32(0xa4, 0x00000003);
  c.setU32(0xa8, 0x00002003);
  // Extended: AER v2 -> DSN v1.
  c.setU32(0x100, (0x140 << 20) | (2 << 16) | 0x0001);
  c.setU32(0x140, (0 << 20) | (1 << 16) | 0x0003);
  c.setU32(0x144, 0x12345678);
  c.setU32(0x148, 0x00aabbcc);
  return c.bytes;
}

const E1000E_BARS: BarInfo[] = [
  { index: 0, size: 0x20000n, kind: 'mem', is64: false, prefetchable: false },
  { index: 1, size: 0x20000n, kind: 'mem', is64: false, prefetchable: false },
  { index: 2, size: 0x20n, kind: 'io', is64: false, prefetchable: false },
  { index: 3, size: 0x4000n, kind: 'mem', is64: false, prefetchable: false },
];

export type E1000eOverrides = Partial<Omit<DeviceSnapshot, 'quirks'>> & { quirks?: Partial<DeviceQuirks> };

/** A fresh e1000e-like snapshot; `overrides` replace top-level fields and merge into `quirks`. */
export function e1000eSnapshot(overrides: E1000eOverrides = {}): DeviceSnapshot {
  const { quirks, ...rest } = overrides;
  return {
    bdf: '0000:00:03.0',
    vendorId: 0x8086,
    deviceId: 0x10d3,
    config: e1000eConfig(),
    bars: E1000E_BARS.map((b) => ({ ...b })),
    romSize: 0x40000n,
    resetMethods: ['pm'],
    pageSize: 4096,
    vga: false,
    iommuGroup: 3,
    ...rest,
    quirks: {
      nonMappableBars: false,
      noCommandMemory: false,
      isVirtfn: false,
      resourceBusyBars: [],
      iomapFailBars: [],
      ...quirks,
    },
  };
}
