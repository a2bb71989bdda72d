// A function reset as the PCI core performs it (pci_try_reset_function / __pci_reset_function_locked):
// pci_dev_save_and_disable() wakes the function to D0 (PCI core only: BARs restored, not COMMAND, on a
// NoSoftRst- soft reset), saves config, resets, restores the saved config. So the hardware ends up
// with the registers it had when saved, in D0.

import type { Effect } from '../outcome.js';
import type { Kctx } from './context.js';
import { powerUpFromD3, setHwPower } from './power.js';

export function functionReset(k: Kctx, method: string): Effect[] {
  const eff: Effect[] = [];
  if (k.hw.power !== 'D0') {
    const from = k.hw.power;
    eff.push(...setHwPower(k, 'D0'));
    if (from === 'D3hot' || from === 'D3cold') eff.push(...powerUpFromD3(k, false));
  }
  eff.push({ kind: 'reset', method });
  return eff;
}

/** The first method in sysfs reset_method order the model can perform; undefined = no function reset. */
export function resetMethod(k: Kctx): string | undefined {
  return k.dev.resetMethods.find((m) => m === 'flr' || m === 'af_flr' || m === 'pm' || m === 'bus' || m === 'device_specific' || m === 'cxl_bus');
}
