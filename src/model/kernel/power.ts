// Power-state changes of the function (vfio_pci_set_power_state + pci_set_power_state) and the
// NoSoftRst- soft reset they imply. Shared by PMCSR writes, VFIO_DEVICE_RESET, low power, close.

import type { Effect, PowerState } from '../outcome.js';
import * as R from '../pci/regs.js';
import { ConfigImage } from '../pci/config-image.js';
import type { Kctx } from './context.js';

const CODE: Record<PowerState, number> = { D0: 0, D1: 1, D2: 2, D3hot: 3, D3cold: 3 };
const ORDER: Record<PowerState, number> = { D0: 0, D1: 1, D2: 2, D3hot: 3, D3cold: 4 };

/**
 * The function takes a PMCSR write to `to`: D0 always; a low-power state only when it accepts it
 * (devices/traits.ts). D3cold is the platform's, not a PMCSR write.
 */
export function deviceAccepts(k: Kctx, to: PowerState): boolean {
  return to === 'D0' || to === 'D3cold' || k.hw.traits.accepts.has(to);
}

/**
 * Set the HW power state and the PMCSR state bits the device reports. A function that refuses the
 * state stays where it was: pci_set_low_power_state reads PMCSR back, current_state keeps the old
 * state, the kernel logs "Refused to change power state" and returns 0 [S drivers/pci/pci.c].
 */
export function setHwPower(k: Kctx, to: PowerState): Effect[] {
  const from = k.hw.power;
  if (from === to) return [];
  if (!deviceAccepts(k, to)) return [{ kind: 'power-refused', from, to }];
  k.hw.power = to;
  if (k.g.pm !== 0) {
    const at = k.g.pm + R.PCI_PM_CTRL;
    k.hw.config.setU16(at, (k.hw.config.u16(at) & ~R.PCI_PM_CTRL_STATE_MASK) | CODE[to]);
  }
  return [{ kind: 'power', from, to }];
}

/** Saved NoSoftRst- state (vdev->pm_save), kept outside VfioState's plain fields. */
const pmSave = new WeakMap<Kctx['st'], ConfigImage>();

/**
 * vfio_pci_set_power_state(): NoSoftRst- devices get their config saved on entry to D3hot and
 * restored on the way back to D0 (51ef3a004b1e, 5.3) [S]. D1/D2 only when PMC advertises them
 * (pci_set_power_state fails otherwise; the error is ignored by the PMCSR path) [M].
 */
export function vfioSetPowerState(k: Kctx, to: PowerState): Effect[] {
  const from = k.hw.power;
  if (from === to) return [];
  if (k.g.pm === 0) return [];
  const pmc = k.hw.config.u16(k.g.pm + R.PCI_PM_PMC);
  if ((to === 'D1' && !(pmc & 0x200)) || (to === 'D2' && !(pmc & 0x400))) return [];
  // pci_raw_set_power_state: from a low-power state only deeper states or D0 are reachable [S pci core].
  if (to !== 'D0' && ORDER[to] < ORDER[from]) return [];
  // The state is saved only when the function really went to D3hot (current_state >= D3hot) [S].
  if (k.g.needsPmRestore && to === 'D3hot' && from !== 'D3hot' && from !== 'D3cold' && deviceAccepts(k, to)) {
    pmSave.set(k.st, k.hw.config.clone());
    k.st.pmSaved = true;
  }
  const eff = setHwPower(k, to);
  if ((from === 'D3hot' || from === 'D3cold') && to === 'D0') eff.push(...powerUpFromD3(k, true));
  return eff;
}

/**
 * D3hot -> D0 of a NoSoftRst- function is an internal reset. With vfio's saved state the whole
 * config is written back; without it (PCI core alone) only the BARs are restored and COMMAND is 0,
 * so the device stops decoding behind vfio's back [M: pci_raw_set_power_state restores BARs only].
 */
export function powerUpFromD3(k: Kctx, vfioRestore: boolean): Effect[] {
  if (!k.g.needsPmRestore) return [];
  const saved = pmSave.get(k.st);
  if (vfioRestore && saved !== undefined) {
    const pmAt = k.g.pm + R.PCI_PM_CTRL;
    const pmcsr = k.hw.config.u16(pmAt);
    k.hw.config.bytes.set(saved.bytes);
    k.hw.config.setU16(pmAt, (saved.u16(pmAt) & ~R.PCI_PM_CTRL_STATE_MASK) | (pmcsr & R.PCI_PM_CTRL_STATE_MASK));
    pmSave.delete(k.st);
    k.st.pmSaved = false;
    return [];
  }
  // Internal reset without a full restore: COMMAND cleared (decode off); BARs put back by the core.
  k.hw.config.setU16(R.PCI_COMMAND, 0);
  return [{ kind: 'lost-state', what: 'command' }];
}

export function dropPmSave(k: Kctx): void {
  pmSave.delete(k.st);
  k.st.pmSaved = false;
}
