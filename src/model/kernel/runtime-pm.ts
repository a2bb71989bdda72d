// The unused device's idle power state: what vfio-pci and runtime PM do with a function that is
// bound to vfio-pci but not opened (after probe, after the last close), and what d3cold_allowed,
// power/control, disable_idle_d3, pcie_port_pm=off and the platform's D3cold change.
//
// Two mechanisms by release (switch idleD3):
// - set-power-state (<5.19): vfio_pci_disable()/probe end with vfio_pci_set_power_state(D3hot)
//   unless disable_idle_d3 [S vfio_pci.c 5.10-era]. Runtime PM is not involved: the PCI core keeps
//   power/control "on", runtime_status "active" even in D3hot [M]. Never D3cold.
// - runtime-pm (5.19+): probe calls pm_runtime_allow (power/control "auto") and, unless
//   disable_idle_d3, drops its usage count; close drops the open's; at zero the PCI core
//   runtime-suspends the function: D3cold when the platform can cut its power and d3cold_allowed
//   is 1 (and the port above may leave D0: not `pcie_port_pm=off`), else D3hot [S vfio_pci_core.c
//   @0886196c: enable takes pm_runtime_resume_and_get unless disable_idle_d3; pci-driver.c
//   runtime suspend + pci_target_state; D3cold choice M: no platform here has _PR3].
//
// D3cold is source-only: QEMU's emulated functions have no power resource, so the lab sees D3hot.

import type { Effect, PowerState } from '../outcome.js';
import type { Kctx } from './context.js';
import { setHwPower, vfioSetPowerState } from './power.js';

/** Whether the bound, unopened function would be idle-suspended now (usage count 0, allowed). */
export function idleAllowed(k: Kctx): boolean {
  if (k.st.bound !== 'vfio-pci' || k.st.open || k.host.disableIdleD3) return false;
  if (k.v.idleD3 === 'runtime-pm') return k.st.rpmControl === 'auto';
  return true;
}

/** The state idle suspend puts the function in. */
export function idleTarget(k: Kctx): PowerState {
  if (k.g.pm === 0) return 'D0'; // no PM capability: pci_set_power_state has nothing to do [S]
  const d3cold = k.dev.quirks.d3cold ?? '';
  if (k.v.idleD3 === 'runtime-pm' && d3cold !== '' && d3cold !== 'no' && k.st.d3coldAllowed && !k.host.portPmOff) return 'D3cold';
  return 'D3hot';
}

/** Suspend the unused function if nothing holds it up; the effects (none when it stays). */
export function enterIdle(k: Kctx): Effect[] {
  if (!idleAllowed(k) || k.st.idle) return [];
  const to = idleTarget(k);
  if (to === 'D0') return [];
  k.st.idle = true;
  // D3hot: through vfio_pci_set_power_state (pm_save for NoSoftRst-) before 5.19, the PCI core's
  // runtime suspend after (which saved the state itself); both restore it on the way up [S].
  const eff = vfioSetPowerState(k, 'D3hot');
  if (to === 'D3cold') eff.push(...setHwPower(k, 'D3cold'));
  return eff;
}

/**
 * Resume the idle function (open, a sysfs file that resumes it, unbind): back to D0. From D3cold
 * on a platform whose power-up fails (`d3cold=no-wake`) the function stays inaccessible: the PCI
 * core logs "Unable to change power state from D3cold to D0, device inaccessible" and keeps
 * current_state D3cold; runtime resume still returns 0 (vfio's callback cannot fail) [S pci.c
 * pci_power_up; M that nothing above turns it into an error].
 */
export function leaveIdle(k: Kctx): Effect[] {
  if (!k.st.idle) return [];
  k.st.idle = false;
  if (k.hw.power === 'D3cold' && k.dev.quirks.d3cold === 'no-wake') {
    k.hw.lost = true;
    return [{ kind: 'lost-state', what: 'device (D3cold power-up failed: config reads all ones)' }];
  }
  if (k.hw.power === 'D3cold') {
    // Power came back: the function was reset by the power cycle; the PCI core restores the
    // config it saved at suspend (BARs, COMMAND) [S pci_pm_runtime_resume].
    const eff = setHwPower(k, 'D0');
    return [...eff, { kind: 'reset', method: 'd3cold' }];
  }
  // From D3hot: vfio's pm_save (taken when it suspended the function) or the PCI core's runtime
  // resume restores the config [S]; the model keeps the registers it has.
  return k.st.pmSaved ? vfioSetPowerState(k, 'D0') : setHwPower(k, 'D0');
}

/** power/runtime_status as sysfs shows it. */
export function runtimeStatus(k: Kctx): string {
  if (k.st.bound === 'vfio-pci' && k.v.idleD3 === 'runtime-pm' && (k.st.idle || k.st.runtimeSuspended)) return 'suspended';
  return 'active';
}
