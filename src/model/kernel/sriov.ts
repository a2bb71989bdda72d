// SR-IOV in vfio-pci (issue 15): the VF token every open is matched against, the PF's
// PCI_VF_TOKEN feature, sriov_numvfs on a vfio-pci PF, what a PF with VFs refuses, and the config
// space vfio-pci builds for a VF. Sources: drivers/vfio/pci/vfio_pci_core.c (vfio_pci_core_match,
// vfio_pci_validate_vf_token, vfio_pci_core_feature_token, vfio_pci_core_sriov_configure,
// vfio_pci_set_power_state), vfio_pci_config.c (vfio_config_init), drivers/pci/iov.c
// (sriov_numvfs_store). The VF token and VFIO_DEVICE_FEATURE came with 5.7, the oldest modeled
// release, so the token rules have no switch.

import { step, type Effect, type Step } from '../outcome.js';
import type { ConfigImage } from '../pci/config-image.js';
import * as R from '../pci/regs.js';
import type { Kctx } from './context.js';
import { vfioSetPowerState } from './power.js';

/**
 * The PF's token as vfio-pci compares it. "" in the trace: the random UUID vfio_pci_vf_init gave
 * the PF when vfio-pci bound it (uuid_gen) [S; L igb-vf sriov-vf on 6.1: the all-zero token is
 * refused until the PF's user sets one]: no token a user passes matches it.
 */
function matches(given: string, pfToken: string): boolean {
  return pfToken !== '' && given.toLowerCase() === pfToken.toLowerCase();
}

/** pdev->is_physfn: the function has an SR-IOV capability the PCI core set up. */
export function isPhysfn(k: Kctx): boolean {
  return k.dev.sriov !== undefined;
}

/**
 * vfio_pci_core_match -> vfio_pci_validate_vf_token, on every VFIO_GROUP_GET_DEVICE_FD whose name
 * matches (and the cdev bind with a token). A failed check fails that open; nothing is enabled.
 * Returns the failing step, or the rule of a passing check that did something (a PF's token set).
 */
export function checkVfToken(k: Kctx, token: string | undefined): { fail?: Step; rule?: string } {
  const vf = k.dev.sriovVf;
  if (isVf(k)) {
    // The PF is vfio-pci's only when vfio-pci created the VFs (vdev->sriov_pf_core_dev) [S].
    const pfVfio = vf !== undefined && vf.pf.driver === 'vfio-pci';
    if (!pfVfio) {
      if (token === undefined) return {};
      return { fail: step({ kind: 'errno', errno: 'EINVAL' }, 'open.vf-token.vf-pf-not-vfio-einval') };
    }
    if (token === undefined) return { fail: step({ kind: 'errno', errno: 'EACCES' }, 'open.vf-token.vf-needs-token') };
    if (!matches(token, vf.pf.vfToken)) return { fail: step({ kind: 'errno', errno: 'EACCES' }, 'open.vf-token.vf-wrong-token') };
    return { rule: 'open.vf-token.vf-match' };
  }
  if (isPhysfn(k)) {
    if (k.st.vfUsers > 0) {
      if (token === undefined) return { fail: step({ kind: 'errno', errno: 'EACCES' }, 'open.vf-token.pf-users-need-token') };
      if (!matches(token, k.st.vfToken)) return { fail: step({ kind: 'errno', errno: 'EACCES' }, 'open.vf-token.pf-wrong-token') };
      return { rule: 'open.vf-token.pf-match' };
    }
    if (token !== undefined) {
      // Without VF users, the PF's opener sets the token the VFs will need [S].
      k.st.vfToken = token.toLowerCase();
      return { rule: 'open.vf-token.pf-sets-token' };
    }
    return {};
  }
  if (token !== undefined) return { fail: step({ kind: 'errno', errno: 'EINVAL' }, 'open.vf-token.not-sriov-einval') };
  return {};
}

const FEATURE_GET = 0x10000;
const FEATURE_SET = 0x20000;
const FEATURE_PROBE = 0x40000;
const UUID_SIZE = 16;

/** The 16 bytes of a UUID as its text (uuid_t byte order is the text order). */
function uuidText(b: Uint8Array): string {
  const h = Array.from(b.subarray(0, UUID_SIZE), (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * VFIO_DEVICE_FEATURE_PCI_VF_TOKEN (0): only a PF has a token (-ENOTTY otherwise); SET only (the
 * token of a previous user must not leak), 16 bytes, checked by vfio_check_feature [S].
 */
export function vfTokenFeature(k: Kctx, flags: number, payload: Uint8Array): Step {
  if (!isPhysfn(k)) return step({ kind: 'errno', errno: 'ENOTTY' }, 'sriov.feature.vf-token-not-pf');
  if (flags & FEATURE_GET) return step({ kind: 'errno', errno: 'EINVAL' }, 'sriov.feature.vf-token-get-einval');
  if (flags & FEATURE_PROBE) return step({ kind: 'ok', ret: 0n }, 'sriov.feature.vf-token-probe');
  if (!(flags & FEATURE_SET)) return step({ kind: 'errno', errno: 'EINVAL' }, 'sriov.feature.vf-token-get-einval');
  if (payload.length < UUID_SIZE) return step({ kind: 'errno', errno: 'EINVAL' }, 'sriov.feature.vf-token-short');
  k.st.vfToken = uuidText(payload);
  return step({ kind: 'ok', ret: 0n }, 'sriov.feature.vf-token-set');
}

/**
 * A write to the PF's sysfs sriov_numvfs [S drivers/pci/iov.c sriov_numvfs_store, then
 * vfio_pci_sriov_configure / vfio_pci_core_sriov_configure].
 */
export function sriovNumvfs(k: Kctx, n: number): Step {
  const cap = k.dev.sriov;
  if (cap === undefined) return step({ kind: 'errno', errno: 'ENOENT' }, 'sriov.numvfs.not-pf');
  if (n > cap.totalVfs) return step({ kind: 'errno', errno: 'ERANGE' }, 'sriov.numvfs.over-total');
  if (n === k.st.numVfs) return step({ kind: 'ok' }, 'sriov.numvfs.unchanged');
  if (cap.driver === '') return step({ kind: 'errno', errno: 'ENOENT' }, 'sriov.numvfs.no-driver');
  if (cap.driver !== 'vfio-pci') return step({ kind: 'unsupported', reason: `sriov_numvfs through the PF driver ${cap.driver} is not modeled (only vfio-pci's)` }, 'sriov.numvfs.other-driver');
  // vfio-pci registers sriov_configure always; it refuses without enable_sriov=1 [S vfio_pci.c].
  if (!cap.enableSriov) return step({ kind: 'errno', errno: 'ENOENT' }, 'sriov.numvfs.enable-sriov-off');
  if (n === 0) {
    k.st.numVfs = 0;
    return step({ kind: 'ok' }, 'sriov.numvfs.disable');
  }
  if (k.st.numVfs > 0) return step({ kind: 'errno', errno: 'EBUSY' }, 'sriov.numvfs.already-enabled');
  const eff: Effect[] = [];
  let rule = 'sriov.numvfs.enable';
  if (k.v.sriovPfPowerGuard && k.hw.power !== 'D0') {
    // The PF goes to D0 before pci_enable_sriov, under memory_lock; runtime PM stays held [P].
    if (k.st.runtimeSuspended) k.st.runtimeSuspended = false;
    eff.push(...vfioSetPowerState(k, 'D0'));
    rule = 'sriov.numvfs.enable-pf-to-d0';
  }
  k.st.numVfs = n;
  return step({ kind: 'ok' }, rule, eff);
}

/** vfio_pci_set_power_state refuses anything below D0 while the PF has VFs (-EBUSY, ignored by its callers). */
export function pfKeepsD0(k: Kctx): boolean {
  return k.v.sriovPfPowerGuard && k.st.numVfs > 0;
}

/**
 * vfio_config_init for a VF [S]: the vendor and device id come from pdev (the PF's vendor and the
 * VF Device ID of its SR-IOV capability; a VF's own registers read 0xffff) and INTERRUPT_PIN is 0
 * (SR-IOV: not implemented by VFs; vfio warns about a VF that reports one). COMMAND.MEM is set
 * in vconfig by the caller (exemptFromMse).
 */
export function vfVconfig(k: Kctx, vc: ConfigImage): void {
  if (!isVf(k)) return;
  const vf = k.dev.sriovVf;
  const device = vf !== undefined && vf.pf.vfDeviceId !== 0 ? vf.pf.vfDeviceId : k.dev.deviceId;
  vc.setU16(R.PCI_VENDOR_ID, k.dev.vendorId);
  vc.setU16(R.PCI_DEVICE_ID, device);
  vc.setU8(R.PCI_INTERRUPT_PIN, 0);
}

/** pdev->is_virtfn (the model sets the quirk for a snapshot with a VF block). */
export function isVf(k: Kctx): boolean {
  return k.dev.quirks.isVirtfn;
}
