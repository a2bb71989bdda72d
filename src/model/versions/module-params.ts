// vfio-pci's module parameters per release, as DATA (like the switches in kernel.ts): which ones a
// release has, what each changes, whether a write to /sys/module/vfio_pci/parameters/ at run time
// takes effect, and the source. `vfio-replay versions` prints this table; the model reads the
// values from the trace header (src/model/kernel/host-config.ts).
//
// Evidence tags as in kernel.ts (S source, P patch/mail, M inferred).

import type { Evidence } from './kernel.js';
import type { VfioPciParam } from '../kernel/host-config.js';

export interface ModuleParamInfo {
  name: VfioPciParam;
  /** First modeled release that has it (every later release, its stable points and series too). */
  since: string;
  /** What setting it changes, as the user sees it. */
  effect: string;
  /** Model rules that read it ('' = recorded only). */
  rules: string;
  /** sysfs mode: 0644 params can be written at run time (see `liveWrite`), 0444 only at load. */
  mode: '0444' | '0644';
  source: { ref: string; evidence: Evidence };
}

export const VFIO_PCI_MODULE_PARAMS: readonly ModuleParamInfo[] = [
  {
    name: 'disable_idle_d3',
    since: 'linux-5.7',
    effect: 'an unused device (bound, not opened; after the last close) stays in D0: no idle D3hot (<5.19) / no runtime suspend (5.19+), so neither D3cold',
    rules: 'core.close.disable-no-idle-d3',
    mode: '0644',
    source: { ref: 'vfio_pci.c (5.10-era copy): vfio_pci_disable ends with `if (!disable_idle_d3) vfio_pci_set_power_state(D3hot)`; vfio_pci_core.c @0886196c: vfio_pci_core_enable skips pm_runtime_resume_and_get with it', evidence: 'S' },
  },
  {
    name: 'nointxmask',
    since: 'linux-5.7',
    effect: 'no PCI 2.3 INTx masking (vdev->pci_2_3 false): DisINTx is left as it is at enable, INTx needs an exclusive IRQ line',
    rules: 'core.open.enable-no-intx-masking',
    mode: '0644',
    source: { ref: 'vfio_pci_core_enable: `if (likely(!nointxmask)) ... vdev->pci_2_3 = pci_intx_mask_supported()`; DisINTx cleared only when pci_2_3', evidence: 'S' },
  },
  {
    name: 'disable_vga',
    since: 'linux-5.7',
    effect: 'no VGA region (index 8) for a VGA-class device (has_vga false): its REGION_INFO and rw are -EINVAL',
    rules: 'core.region-info.vga-disabled-einval, rdwr.vga.disabled-einval',
    mode: '0444',
    source: { ref: 'vfio_pci_core_enable: `if (!vfio_vga_disabled() && vfio_pci_is_vga(pdev)) vdev->has_vga = true` (CONFIG_VFIO_PCI_VGA)', evidence: 'S' },
  },
  {
    name: 'enable_sriov',
    since: 'linux-5.7',
    effect: 'vfio-pci accepts sriov_numvfs writes for a PF it drives (vfio_pci_sriov_configure); else -ENOENT',
    rules: '',
    mode: '0644',
    source: { ref: '"vfio/pci: Add sriov_configure support" (Alex Williamson, VF token series, 5.7)', evidence: 'P' },
  },
  {
    name: 'disable_denylist',
    since: 'linux-5.9',
    effect: 'Intel QAT C3XXX/C62X/DH895XCC PFs and VFs are bound anyway (else probe is refused: "exists in vfio-pci device denylist")',
    rules: 'core.open.denylisted',
    mode: '0444',
    source: { ref: '"vfio/pci: Add device denylist" (Giovanni Cabiddu, 2020); in the 5.10-era vfio_pci.c; first release 5.9 inferred', evidence: 'M' },
  },
];

/**
 * Whether a run-time write to /sys/module/vfio_pci/parameters/<0644 param> changes behavior: before
 * the vfio_pci_core split (5.15) vfio_pci.c read the variables where it used them; from 5.15
 * vfio_pci.c hands them to vfio_pci_core once at module init (vfio_pci_core_set_params), so a later
 * write changes only what sysfs shows.
 */
export const LIVE_WRITE = {
  until: 'linux-5.14',
  source: { ref: 'vfio_pci.c (5.10-era): params are the module\'s own statics read at use; vfio_pci_core.c @0886196c: nointxmask/disable_vga/disable_idle_d3 are vfio_pci_core statics set at init', evidence: 'S' as Evidence },
};
