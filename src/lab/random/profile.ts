// What the random grammar needs to know about the device, derived from its config snapshot (the
// capability chain and the BARs) plus the lab's table of safe registers (src/lab/devices.ts).
import { findCap, walkCapabilities } from '../../model/pci/caps.js';
import { ConfigImage } from '../../model/pci/config-image.js';
import type { BarInfo, DeviceSnapshot } from '../../trace/types.js';
import { labDeviceById, type DeviceRegister } from '../devices.js';

export interface MsixLayout {
  cap: number;
  vectors: number;
  tableBar: number;
  tableOffset: number;
  pbaBar: number;
  pbaOffset: number;
}

export interface RandomProfile {
  device: DeviceSnapshot;
  /** PM capability offset (PMCSR at pm+4), or null without one. */
  pm: number | null;
  msi: number | null;
  msix: MsixLayout | null;
  /** Config space size as the snapshot shows it (256 for conventional PCI, 4096 for PCIe). */
  configSize: number;
  memBars: BarInfo[];
  stable: DeviceRegister[];
  scratch: DeviceRegister[];
}

const PCI_CAP_ID_PM = 0x01;
const PCI_CAP_ID_MSI = 0x05;
const PCI_CAP_ID_MSIX = 0x11;

export function profileOf(device: DeviceSnapshot): RandomProfile {
  const img = new ConfigImage(device.config);
  const walk = walkCapabilities(img);
  const pm = findCap(walk, 'std', PCI_CAP_ID_PM)?.offset ?? null;
  const msi = findCap(walk, 'std', PCI_CAP_ID_MSI)?.offset ?? null;
  const mx = findCap(walk, 'std', PCI_CAP_ID_MSIX);
  let msix: MsixLayout | null = null;
  if (mx !== undefined) {
    const table = img.u32(mx.offset + 4);
    const pba = img.u32(mx.offset + 8);
    msix = {
      cap: mx.offset,
      vectors: (img.u16(mx.offset + 2) & 0x7ff) + 1,
      tableBar: table & 7,
      tableOffset: table & ~7,
      pbaBar: pba & 7,
      pbaOffset: pba & ~7,
    };
  }
  const known = labDeviceById(device.vendorId, device.deviceId);
  const memBars = device.bars.filter((b) => b.kind === 'mem' && b.size > 0n);
  return {
    device,
    pm,
    msi,
    msix,
    configSize: device.config.length > 256 ? 4096 : 256,
    memBars,
    stable: known?.stable ?? [],
    scratch: known?.scratch ?? [],
  };
}
