// QEMU's `-device vfio-pci,x-msix-relocation=barN` (hw/vfio/pci.c vfio_pci_relocate_msix, QEMU
// 2.12+): the emulated MSI-X table and PBA leave the BAR the device has them in and go to BAR N,
// so a device whose table shares a page with its registers (QEMU's nvme: table at BAR0+0x2000)
// gets its register BAR direct-mapped without an emulated overlay. A free BAR N becomes a new
// 64-bit (when N+1 is free too) prefetchable BAR the size of the MSI-X structures rounded up to a
// power of two of whole host pages, table at 0; an implemented BAR N is doubled in size (at least
// twice the structures) and gets the table at its middle, the part above the device's own size
// being QEMU's. The PBA follows the table directly. The guest sees the new table BIR and offsets
// in the MSI-X capability (QEMU emulates all of it).
import type { BarInfo } from '../../trace/types.js';
import type { MsixDiscovery } from './openvmm-caps.js';

export type MsixRelocation =
  | { kind: 'none' }
  | { kind: 'moved'; msix: MsixDiscovery; bars: BarInfo[] }
  /** vfio_pci_relocate_msix's error_setg: realize fails, QEMU exits. */
  | { kind: 'refused'; why: string };

const GIB = 1n << 30n;

/** The option's value: barN -> N, auto -> 'auto', off/absent -> null (the last occurrence wins). */
export function relocationTarget(options: readonly string[]): number | 'auto' | null {
  let t: number | 'auto' | null = null;
  for (const o of options) {
    const eq = o.indexOf('=');
    if (eq < 0 || o.slice(0, eq) !== 'x-msix-relocation') continue;
    const v = o.slice(eq + 1).toLowerCase();
    const m = /^bar([0-5])$/.exec(v);
    t = m ? Number(m[1]) : v === 'auto' ? 'auto' : null;
  }
  return t;
}

function pow2ceil(n: bigint): bigint {
  let p = 1n;
  while (p < n) p <<= 1n;
  return p;
}

export function relocateMsix(options: readonly string[], msix: MsixDiscovery | null, bars: readonly BarInfo[], pageSize: number, deviceId: string): MsixRelocation {
  const target = relocationTarget(options);
  if (msix === null || target === null) return { kind: 'none' };
  // 'auto' is a lookup of devices reported to work, and the lookup is empty.
  if (target === 'auto') return { kind: 'refused', why: `No automatic MSI-X relocation available for device ${deviceId}` };
  const at = (i: number) => bars.find((b) => b.index === i && b.size > 0n);
  const bar = at(target);
  if (bar?.kind === 'io') return { kind: 'refused', why: `Invalid MSI-X relocation BAR ${target}, I/O port BAR` };
  if (!bar && target > 0 && at(target - 1)?.is64) return { kind: 'refused', why: `Invalid MSI-X relocation BAR ${target}, consumed by 64-bit BAR ${target - 1}` };
  if (bar && !bar.is64 && bar.size > GIB) return { kind: 'refused', why: `Invalid MSI-X relocation BAR ${target}, no space to extend 32-bit BAR` };
  const page = BigInt(pageSize > 0 ? pageSize : 4096);
  const entries = BigInt(msix.vectorCount);
  const raw = entries * 16n + ((entries + 63n) / 64n) * 8n;
  const sz = pow2ceil(((raw + page - 1n) / page) * page);
  let size: bigint;
  let tableOffset: bigint;
  let moved: BarInfo;
  if (!bar) {
    size = sz;
    tableOffset = 0n;
    moved = { index: target, size, kind: 'mem', is64: target < 5 && !at(target + 1), prefetchable: true };
  } else {
    size = bar.size * 2n > sz * 2n ? bar.size * 2n : sz * 2n;
    tableOffset = size / 2n;
    moved = { ...bar, size };
  }
  const t = Number(tableOffset);
  const pba = t + msix.vectorCount * 16;
  return {
    kind: 'moved',
    msix: { ...msix, tableBar: target, tableRange: [t, pba], pbaBar: target, pbaRange: [pba, pba + Math.ceil(msix.vectorCount / 64) * 8] },
    bars: [...bars.filter((b) => b.index !== target), moved].sort((a, b) => a.index - b.index),
  };
}
