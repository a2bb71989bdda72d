// sysfs files of the function, its driver and the PCI bus, as a user (a management tool, `echo`)
// reads and writes them while vfio-pci has the device (proto Sysfs, text `sysfs FILE [write=V]`).
// Sources: drivers/pci/pci-sysfs.c (power_state, d3cold_allowed, reset, remove, rescan,
// driver_override), drivers/base/power/sysfs.c (power/control, power/runtime_status),
// drivers/base/bus.c (bind, unbind, drivers_probe), vfio core (unregister waits for the last
// close). Evidence per rule; `L` = lab-checked (docs/power-pages-processes.md).

import { step, type Effect, type Step } from '../outcome.js';
import type { Kctx } from './context.js';
import { functionReset, resetMethod } from './reset.js';
import { enterIdle, leaveIdle, runtimeStatus } from './runtime-pm.js';
import { setHwPower } from './power.js';
import { sriovNumvfs } from './sriov.js';

const BUS = '/sys/bus/pci/';
const text = (t: string, rule: string, eff: Effect[] = []): Step => step({ kind: 'ok', text: t }, rule, eff);
const wrote = (rule: string, eff: Effect[] = []): Step => step({ kind: 'ok' }, rule, eff);
const fail = (errno: string, rule: string, eff: Effect[] = []): Step => step({ kind: 'errno', errno }, rule, eff);

/** A read or write of `path`; `value` absent = a read. */
export function sysfsOp(k: Kctx, path: string, value: string | undefined): Step {
  if (path.startsWith(BUS)) return busOp(k, path.slice(BUS.length), value);
  // A removed function has no directory [S: device_del removes its sysfs files].
  if (k.st.bound === 'removed') return fail('ENOENT', 'sysfs.device-removed-enoent');
  switch (path) {
    case 'power_state':
      // power_state_show prints pdev->current_state without resuming the function [S].
      if (value !== undefined) return fail('EACCES', 'sysfs.read-only-file');
      return text(k.hw.power, 'sysfs.power-state.read');
    case 'power/runtime_status':
      if (value !== undefined) return fail('EACCES', 'sysfs.read-only-file');
      return text(runtimeStatus(k), 'sysfs.runtime-status.read');
    case 'power/control':
      return value === undefined ? text(k.st.rpmControl, 'sysfs.power-control.read') : powerControl(k, value);
    case 'd3cold_allowed':
      return value === undefined ? text(k.st.d3coldAllowed ? '1' : '0', 'sysfs.d3cold-allowed.read') : d3coldAllowed(k, value);
    case 'reset':
      return value === undefined ? fail('EACCES', 'sysfs.write-only-file') : reset(k, value);
    case 'driver_override':
      if (value === undefined) return text(k.st.driverOverride === '' ? '(null)' : k.st.driverOverride, 'sysfs.driver-override.read');
      // A newline-terminated or empty write clears it; it matters at the next probe only [S].
      k.st.driverOverride = value.trim();
      return wrote('sysfs.driver-override.write');
    case 'driver/unbind':
      return value === undefined ? fail('EACCES', 'sysfs.write-only-file') : unbind(k);
    case 'remove':
      if (value === undefined) return fail('EACCES', 'sysfs.write-only-file');
      return remove(k, value);
    case 'sriov_numvfs':
      return sriovNumvfsFile(k, value);
    default:
      return step({ kind: 'unsupported', reason: `sysfs file ${path} is not modeled` }, 'sysfs.unmodeled-file');
  }
}

/**
 * The PF's sriov_numvfs: only an SR-IOV PF has the file; a read shows num_VFs, a write is parsed
 * by kstrtou16 (base 0: "0x8" works, a trailing newline too) before the PF driver's sriov_configure
 * sees it (the rules of sriov.ts) [S drivers/pci/iov.c sriov_numvfs_show/_store].
 */
function sriovNumvfsFile(k: Kctx, value: string | undefined): Step {
  if (k.dev.sriov === undefined) return fail('ENOENT', 'sriov.numvfs.not-pf'); // no such file
  if (value === undefined) return text(String(k.st.numVfs), 'sysfs.sriov-numvfs.read');
  const n = kstrtou16(value);
  if (typeof n === 'string') return fail(n, n === 'ERANGE' ? 'sysfs.sriov-numvfs.too-big-erange' : 'sysfs.sriov-numvfs.invalid-einval');
  return sriovNumvfs(k, n);
}

/** kstrtou16(s, 0): the number, or the errno (EINVAL not a number, ERANGE above 0xffff). */
function kstrtou16(s: string): number | 'EINVAL' | 'ERANGE' {
  const m = /^\+?(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)\n?$/i.exec(s);
  if (m === null) return 'EINVAL';
  const v = m[1].length > 1 && m[1][0] === '0' && !/^0x/i.test(m[1]) ? parseInt(m[1], 8) : Number(m[1]);
  return v > 0xffff ? 'ERANGE' : v;
}

function busOp(k: Kctx, file: string, value: string | undefined): Step {
  if (value === undefined) return fail('EACCES', 'sysfs.write-only-file');
  switch (file) {
    case 'drivers/vfio-pci/unbind':
      if (k.st.bound !== 'vfio-pci') return fail('ENODEV', 'sysfs.unbind.not-bound');
      return unbind(k);
    case 'drivers/vfio-pci/bind':
      return bind(k, 'sysfs.bind');
    case 'drivers_probe':
      // bus_rescan_devices_helper: a bound device is left alone and the write succeeds [S].
      if (k.st.bound === 'vfio-pci') return wrote('sysfs.drivers-probe.already-bound');
      if (k.st.bound === 'removed') return fail('ENODEV', 'sysfs.drivers-probe.no-device');
      if (k.st.driverOverride !== 'vfio-pci') return wrote('sysfs.drivers-probe.no-match');
      return bind(k, 'sysfs.drivers-probe');
    case 'rescan': {
      // A removed function comes back as a new pci_dev: no driver_override, D0, runtime PM
      // forbidden (power/control on), d3cold_allowed 1; no driver binds it (none matches) [S probe, M no match].
      if (k.st.bound !== 'removed') return wrote('sysfs.rescan.nothing-new');
      k.st.bound = 'none';
      k.st.driverOverride = '';
      k.st.rpmControl = 'on';
      k.st.d3coldAllowed = true;
      k.hw.lost = false;
      return wrote('sysfs.rescan.readds-unbound', setHwPower(k, 'D0'));
    }
    default:
      return step({ kind: 'unsupported', reason: `sysfs file ${BUS}${file} is not modeled` }, 'sysfs.unmodeled-file');
  }
}

/**
 * power/control: "on" = pm_runtime_forbid (resumes the function and keeps it active), "auto" =
 * pm_runtime_allow (the unused function suspends again); anything else -EINVAL [S
 * drivers/base/power/sysfs.c]. Before 5.19 vfio-pci does not use runtime PM: the value changes,
 * the power state does not [M].
 */
function powerControl(k: Kctx, value: string): Step {
  const v = value.trim();
  if (v !== 'on' && v !== 'auto') return fail('EINVAL', 'sysfs.power-control.invalid-einval');
  k.st.rpmControl = v;
  if (k.v.idleD3 !== 'runtime-pm') return wrote('sysfs.power-control.no-runtime-pm');
  if (v === 'on') {
    const eff = leaveIdle(k);
    return wrote(eff.length > 0 ? 'sysfs.power-control.on-resumes' : 'sysfs.power-control.on', eff);
  }
  const eff = enterIdle(k);
  return wrote(eff.length > 0 ? 'sysfs.power-control.auto-suspends' : 'sysfs.power-control.auto', eff);
}

/**
 * d3cold_allowed_store: kstrtoul or -EINVAL, then pm_runtime_resume() so the next suspend picks
 * the new target; the unused function then suspends again [S pci-sysfs.c; M the re-suspend].
 */
function d3coldAllowed(k: Kctx, value: string): Step {
  const v = value.trim();
  if (!/^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i.test(v)) return fail('EINVAL', 'sysfs.d3cold-allowed.invalid-einval');
  k.st.d3coldAllowed = Number(v) !== 0;
  const eff = [...leaveIdle(k), ...enterIdle(k)];
  return wrote('sysfs.d3cold-allowed.write', eff);
}

/**
 * reset_store: "1" or -EINVAL; resumes the function (pm_runtime_get_sync), pci_reset_function:
 * D0, save, reset, restore the config it saved [S pci-sysfs.c, pci.c]. vfio-pci is not told
 * (its pci_error_handlers have no reset_prepare/reset_done): vconfig, memory_enabled and the
 * user's BAR mappings stay as they were, so the VMM keeps reaching a function whose internal
 * registers were reset behind its back [S vfio_pci_core_err_handlers; L reset-open].
 */
function reset(k: Kctx, value: string): Step {
  if (value.trim() !== '1') return fail('EINVAL', 'sysfs.reset.invalid-einval');
  const method = resetMethod(k);
  // Without a reset method the file does not exist [S pci_dev_reset_attr_is_visible].
  if (method === undefined) return fail('ENOENT', 'sysfs.reset.no-reset-method');
  if (k.hw.lost) {
    // The function does not answer: the reset's wait gives up ("not ready 65535ms after FLR;
    // giving up" / "after bus reset") and the write fails [M errno].
    return fail('ENOTTY', 'sysfs.reset.device-lost-not-ready');
  }
  const eff = [...leaveIdle(k), ...functionReset(k, method)];
  // pm_runtime_put: the unused function suspends again.
  eff.push(...enterIdle(k));
  return wrote(k.st.open ? 'sysfs.reset.behind-vfio' : 'sysfs.reset.unopened', eff);
}

/**
 * Unbinding vfio-pci (driver/unbind, drivers/vfio-pci/unbind, or remove) while the device is
 * open: vfio_unregister_group_dev waits for the last close, asking the user through the request
 * eventfd ("Relaying device request to user"); the write does not return until the VMM closes
 * the device [S vfio core; source-only: the lab's single-threaded runner cannot wait].
 */
function unbind(k: Kctx): Step {
  if (k.st.bound !== 'vfio-pci') return fail('ENODEV', 'sysfs.unbind.not-bound');
  if (k.st.open) return step({ kind: 'blocked' }, 'sysfs.unbind.waits-for-close');
  // The PCI core resumes the function for remove; vfio-pci's unregister forbids runtime PM
  // again: the unbound function is in D0, power/control on [S pci_device_remove, vfio_pci_core_unregister_device].
  const eff = leaveIdle(k);
  k.st.bound = 'none';
  k.st.rpmControl = 'on';
  k.st.groupPredatesRebind = true;
  return wrote('sysfs.unbind.releases', eff);
}

function bind(k: Kctx, rule: string): Step {
  if (k.st.bound === 'removed') return fail('ENODEV', `${rule}.no-device`);
  if (k.st.bound === 'vfio-pci') return fail('EBUSY', `${rule}.already-bound`);
  // driver_match_device: driver_override names another driver -> no match [S].
  if (k.st.driverOverride !== '' && k.st.driverOverride !== 'vfio-pci') return fail('ENODEV', `${rule}.override-mismatch`);
  k.st.bound = 'vfio-pci';
  // Probe: runtime PM allowed again (5.19+), the unused function goes idle unless disable_idle_d3.
  if (k.v.idleD3 === 'runtime-pm') k.st.rpmControl = 'auto';
  const eff = enterIdle(k);
  return wrote(`${rule}.probes`, eff);
}

function remove(k: Kctx, value: string): Step {
  if (value.trim() === '0') return wrote('sysfs.remove.zero-ignored');
  if (k.st.bound === 'vfio-pci' && k.st.open) return step({ kind: 'blocked' }, 'sysfs.remove.waits-for-close');
  const eff = leaveIdle(k);
  k.st.bound = 'removed';
  k.st.groupPredatesRebind = true;
  return wrote('sysfs.remove.removes', eff);
}
