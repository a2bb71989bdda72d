// Device traits: what the function does that the PCI spec leaves to it (issue 21). The header may
// say (DeviceSnapshot.traits, filled by the lab's probe or the importer from dmesg); whatever it
// does not say comes from the config snapshot and the spec. The kernel model reads the resolved
// form, and learns more from observations (kernel/learn.ts): these are hardware-owned state.

import type { DeviceSnapshot } from '../../trace/types.js';
import type { PowerState } from '../outcome.js';
import { findCap, walkCapabilities } from '../pci/caps.js';
import { ConfigImage } from '../pci/config-image.js';
import * as R from '../pci/regs.js';

/** PMC bits advertising D1 / D2 support. */
const PMC_D1 = 0x200;
const PMC_D2 = 0x400;

export interface HwTraits {
  /** Low-power states a PMCSR write actually reaches; a write to another one leaves the state as it was. */
  accepts: Set<PowerState>;
  /** A function reset clears the device's registers (spec: yes). */
  resetClears: boolean;
  /** PMCSR NoSoftRst: D3hot -> D0 keeps the function's state. */
  noSoftReset: boolean;
  /** Config space size in bytes. */
  cfgSize: 256 | 4096;
  /** The function has a function-level reset (PCIe DEVCAP or AF); undefined = as the capabilities say. */
  flr: boolean | undefined;
  /** A secondary bus reset reaches the function. */
  busReset: boolean;
  /**
   * Where the expansion ROM image ends in the ROM BAR (pci_get_rom_size over its PCIR chain);
   * vfio-pci reads 0xff past it. The whole BAR when nothing says otherwise.
   */
  romImage: bigint;
}

const LOW: PowerState[] = ['D1', 'D2', 'D3hot'];

function tri(v: string | undefined, dflt: boolean): boolean {
  return v === 'yes' ? true : v === 'no' ? false : dflt;
}

/** The traits of `dev`: the header's where it has them, else the snapshot's and the spec's. */
export function resolveTraits(dev: DeviceSnapshot): HwTraits {
  const t = dev.traits;
  const size = dev.config.length >= 4096 ? 4096 : 256;
  const img = new ConfigImage(size);
  img.bytes.set(dev.config.subarray(0, size));
  const pm = findCap(walkCapabilities(img), 'std', R.PCI_CAP_ID_PM)?.offset ?? 0;
  const pmc = pm !== 0 ? img.u16(pm + R.PCI_PM_PMC) : 0;
  const pmcsr = pm !== 0 ? img.u16(pm + R.PCI_PM_CTRL) : 0;
  // Spec default: a function with a PM capability reaches D3hot, and D1/D2 when PMC says so.
  let accepts = new Set<PowerState>(pm === 0 ? [] : (['D3hot'] as PowerState[]).concat(pmc & PMC_D1 ? ['D1'] : [], pmc & PMC_D2 ? ['D2'] : []));
  if (t !== undefined && t.dStates.length > 0) accepts = new Set(LOW.filter((s) => t.dStates.includes(s)));
  for (const s of t?.pmRefuses ?? []) accepts.delete(s as PowerState);
  return {
    accepts,
    resetClears: tri(t?.resetClears, true),
    noSoftReset: tri(t?.noSoftReset, (pmcsr & R.PCI_PM_CTRL_NO_SOFT_RESET) !== 0),
    cfgSize: t !== undefined && (t.configSize === 256 || t.configSize === 4096) ? t.configSize : size,
    flr: t === undefined || t.flr === '' ? undefined : t.flr === 'yes',
    busReset: tri(t?.busReset, dev.resetMethods.includes('bus')),
    romImage: t !== undefined && t.romImage > 0 && BigInt(t.romImage) < dev.romSize ? BigInt(t.romImage) : dev.romSize,
  };
}
