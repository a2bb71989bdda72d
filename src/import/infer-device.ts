// A device snapshot from the capture itself, for reports with neither a sysfs copy nor an lspci
// dump: QEMU's realize-time lines give the BDF, IOMMU group, config size and BAR sizes
// (qemu-log.ts QemuDeviceSetup); the config bytes the VMM read through the device fd (strace's
// pread of config space; -s cuts long reads to a prefix) give the rest. What is not known stays
// out: the ROM size, reset methods (unless the bytes hold the capabilities), VF quirks.

import { emptyDeviceSnapshot, type BarInfo, type DeviceSnapshot, type TraceEvent } from '../trace/types.js';
import { resetMethodsFromConfig } from './lspci.js';
import type { QemuDeviceSetup } from './qemu-log.js';

const VFIO_REGION_INFO_FLAG_MMAP = 0x4;

/** Config bytes as the VMM first read them (a byte read twice keeps its first value). */
function configFromReads(events: Iterable<TraceEvent>, size: number): { config: Uint8Array; known: number } {
  const config = new Uint8Array(size);
  const seen = new Uint8Array(size);
  let known = 0;
  for (const e of events) {
    if (e.kind !== 'cfg-read' || e.observed?.data === undefined) continue;
    e.observed.data.forEach((b, i) => {
      const at = e.offset + i;
      if (at >= size || seen[at]) return;
      config[at] = b;
      seen[at] = 1;
      known++;
    });
  }
  return { config, known };
}

export function deviceFromCapture(setup: QemuDeviceSetup, events: Iterable<TraceEvent>): { device: DeviceSnapshot; inferred: string[] } | null {
  if (setup.bdf === '' && setup.bars.size === 0) return null;
  const dev = emptyDeviceSnapshot();
  const inferred: string[] = [];
  dev.bdf = setup.bdf;
  dev.iommuGroup = setup.iommuGroup;
  const size = setup.configSize === 4096 ? 4096 : 256;
  const { config, known } = configFromReads(events, size);
  if (known > 0) {
    dev.config = config;
    dev.vendorId = config[0]! | (config[1]! << 8);
    dev.deviceId = config[2]! | (config[3]! << 8);
    dev.resetMethods = resetMethodsFromConfig(config);
    inferred.push(`config: ${known} of ${size} bytes from the VMM's config reads (the rest reads as 0)`);
  }
  const bars: BarInfo[] = [];
  for (const [index, r] of [...setup.bars].sort((a, b) => a[0] - b[0])) {
    const lo = known > 0 ? config[0x10 + 4 * index]! : null;
    // The BAR register says I/O or memory; without it, a BAR QEMU cannot mmap and that is at most
    // 256 bytes is taken for I/O (memory BARs below a page are not mmap'd either: a guess, said so).
    const io = lo !== null && lo !== 0 ? (lo & 1) === 1 : (r.flags & VFIO_REGION_INFO_FLAG_MMAP) === 0 && r.size <= 256n;
    bars.push({ index, size: r.size, kind: io ? 'io' : 'mem', is64: !io && lo !== null && (lo & 0x6) === 0x4, prefetchable: !io && lo !== null && (lo & 0x8) !== 0 });
  }
  dev.bars = bars;
  inferred.unshift(`BDF ${dev.bdf}, IOMMU group ${dev.iommuGroup}, BARs ${bars.map((b) => `${b.index} ${b.kind} 0x${b.size.toString(16)}`).join(', ')} from QEMU's vfio_region_setup lines`);
  inferred.push('ROM size and reset methods beyond the config read are unknown');
  return { device: dev, inferred };
}
