// The host configuration the kernel model depends on besides the device and the release: vfio-pci's
// module parameters and the kernel command line (TraceHeader.moduleParams / kernelCmdline). Pure.
//
// Where a parameter comes from: the header's module-params (what /sys/module/vfio_pci/parameters/
// showed), else a `vfio_pci.X=` / `vfio-pci.X=` word of the command line (modprobe and built-in
// modules both read those), else the default (off). Unrecorded = default.

/** vfio-pci's parameters that change what the user sees (drivers/vfio/pci/vfio_pci.c). */
export interface HostConfig {
  /** Unused devices stay in D0: no idle D3hot at probe / after the last close, no runtime suspend. */
  disableIdleD3: boolean;
  /** No PCI 2.3 INTx masking (vdev->pci_2_3 false): DisINTx is not cleared at enable. */
  nointxmask: boolean;
  /** The VGA region (index 8) is not exposed even for a VGA-class device. */
  disableVga: boolean;
  /** Denylisted devices (Intel QAT PFs/VFs) are bound anyway. */
  disableDenylist: boolean;
  /** The PF driver accepts sriov_numvfs writes (vfio_pci_sriov_configure). */
  enableSriov: boolean;
  /** `pcie_port_pm=off`: ports never leave D0, so nothing below them reaches D3cold. */
  portPmOff: boolean;
  /**
   * `mem_encrypt=on`: AMD SME encrypts memory by default; a user mapping of MMIO must be made
   * decrypted (io_remap_pfn_range's pgprot_decrypted). Unrecorded = off (a kernel built with SME
   * active by default and no such word is not seen).
   */
  memEncrypt: boolean;
  /** Where each set parameter came from (`module-params`, `kernel-cmdline`), for `versions`/docs. */
  from: Partial<Record<VfioPciParam, 'module-params' | 'kernel-cmdline'>>;
}

export const VFIO_PCI_PARAMS = ['disable_idle_d3', 'nointxmask', 'disable_vga', 'disable_denylist', 'enable_sriov'] as const;
export type VfioPciParam = (typeof VFIO_PCI_PARAMS)[number];

const FIELD: Record<VfioPciParam, 'disableIdleD3' | 'nointxmask' | 'disableVga' | 'disableDenylist' | 'enableSriov'> = {
  disable_idle_d3: 'disableIdleD3',
  nointxmask: 'nointxmask',
  disable_vga: 'disableVga',
  disable_denylist: 'disableDenylist',
  enable_sriov: 'enableSriov',
};

export const DEFAULT_HOST_CONFIG: HostConfig = {
  disableIdleD3: false,
  nointxmask: false,
  disableVga: false,
  disableDenylist: false,
  enableSriov: false,
  portPmOff: false,
  memEncrypt: false,
  from: {},
};

/** A kernel bool parameter's value as sysfs prints it (Y/N) or a user writes it (1/0, y/n, on/off). */
export function parseBoolParam(v: string): boolean | undefined {
  const s = v.trim().toLowerCase();
  if (s === 'y' || s === '1' || s === 'yes' || s === 'on' || s === 'true' || s === '') return true;
  if (s === 'n' || s === '0' || s === 'no' || s === 'off' || s === 'false') return false;
  return undefined;
}

/** `vfio_pci.disable_idle_d3=Y` / `vfio-pci.disable_idle_d3` -> [param, value]; undefined if not vfio-pci's. */
function vfioPciWord(word: string): [VfioPciParam, string] | undefined {
  const m = /^vfio[_-]pci\.([a-z0-9_]+)(?:=(.*))?$/.exec(word);
  if (m === null) return undefined;
  const name = m[1] as VfioPciParam;
  if (!(VFIO_PCI_PARAMS as readonly string[]).includes(name)) return undefined;
  return [name, m[2] ?? ''];
}

export interface HostLists {
  moduleParams?: readonly string[];
  kernelCmdline?: readonly string[];
}

export function resolveHostConfig(h: HostLists | undefined): HostConfig {
  const c: HostConfig = { ...DEFAULT_HOST_CONFIG, from: {} };
  if (h === undefined) return c;
  // The command line first, so what sysfs showed (the value in force) wins.
  for (const [list, src] of [
    [h.kernelCmdline ?? [], 'kernel-cmdline'],
    [h.moduleParams ?? [], 'module-params'],
  ] as const) {
    for (const w of list) {
      const p = vfioPciWord(w);
      if (p === undefined) continue;
      const b = parseBoolParam(p[1]);
      if (b === undefined) continue;
      c[FIELD[p[0]]] = b;
      c.from[p[0]] = src;
    }
  }
  c.portPmOff = (h.kernelCmdline ?? []).includes('pcie_port_pm=off');
  c.memEncrypt = (h.kernelCmdline ?? []).includes('mem_encrypt=on');
  return c;
}

/**
 * The command-line words that change vfio-pci or the devices it gets, as a user reads them (the
 * model reads only `vfio_pci.*`, `pcie_port_pm=off` and `mem_encrypt=on`); `versions` lists them.
 */
export const CMDLINE_ITEMS: readonly { word: string; effect: string; modeled: boolean }[] = [
  { word: 'vfio_pci.<param>= / vfio-pci.<param>=', effect: 'sets a vfio-pci module parameter (modprobe and built-in both read it)', modeled: true },
  { word: 'pcie_port_pm=off', effect: 'PCIe ports stay in D0: no device below them reaches D3cold', modeled: true },
  { word: 'mem_encrypt=on', effect: 'AMD SME: BAR mappings must be made decrypted (catalog bug sme-encrypted-bar-pte before 7b06a56d468b)', modeled: true },
  { word: 'iommu=pt', effect: 'host DMA passthrough; vfio type1 still translates for assigned groups', modeled: false },
  { word: 'intel_iommu=on|off, amd_iommu=', effect: 'no IOMMU = no IOMMU group = no vfio group (VFIO_GROUP_GET_DEVICE_FD fails)', modeled: false },
  { word: 'pcie_aspm=off', effect: 'link power states off (latency, not vfio behavior)', modeled: false },
  { word: 'pci=realloc, pci=nommconf, pci=noaer', effect: 'BAR placement / config size 256 (no ECAM) / AER off: seen through the snapshot', modeled: false },
  { word: 'vfio_iommu_type1.allow_unsafe_interrupts=1', effect: 'group attach without interrupt remapping', modeled: false },
];
