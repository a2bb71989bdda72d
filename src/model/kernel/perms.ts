// vfio-pci's config-space permission tables (vfio_pci_config.c: init_pci_cap_*_perm,
// vfio_config_init's pci_config_map) as per-byte classes plus virt/write bit masks.
// Read of a byte = (HW & ~virt) | (vconfig & virt); write = virt&write bits -> vconfig,
// ~virt&write bits -> HW, other bits dropped. Bytes in no exposed capability are raw pass-through.

import { ConfigImage } from '../pci/config-image.js';
import { capLength, type CapWalk, type Capability } from '../pci/caps.js';
import * as R from '../pci/regs.js';

export const enum ByteKind {
  Raw = 0, // unassigned: raw read/write to HW
  Header = 1,
  Pm = 2,
  Msi = 3,
  Msix = 4, // no perm table: direct read, writes dropped [S]
  Exp = 5,
  Af = 6,
  Direct = 7, // known std cap without writable fields: direct read, writes dropped
  VndrRaw = 8, // vendor-specific (std/ext) and DVSEC: direct read, raw write
  ExtErr = 9,
  ExtPwr = 10,
  ExtDirect = 11,
}

export interface PermMap {
  kind: Uint8Array;
  capStart: Uint16Array;
  virt: Uint8Array;
  write: Uint8Array;
  /** Capabilities vfio-pci exposes (hidden ones are unlinked from vconfig's chains). */
  exposed: Capability[];
  hidden: Capability[];
}

function setMask(arr: Uint8Array, off: number, len: number, v: number): void {
  for (let i = 0; i < len; i++) arr[off + i] = (v >>> (8 * i)) & 0xff;
}

export interface PermOptions {
  pmeVirtualized: boolean;
}

/** Build the permission map and unlink hidden capabilities in `vconfig` (vfio_cap_init / vfio_ecap_init). */
export function buildPerms(vconfig: ConfigImage, walk: CapWalk, opt: PermOptions): PermMap {
  const n = vconfig.size;
  const kind = new Uint8Array(n);
  const capStart = new Uint16Array(n);
  const virt = new Uint8Array(n);
  const write = new Uint8Array(n);
  const p = { kind, capStart, virt, write, exposed: [] as Capability[], hidden: [] as Capability[] };

  // Standard header (init_pci_cap_basic_perm) [S].
  for (let i = 0; i < R.PCI_STD_HEADER_SIZEOF; i++) kind[i] = ByteKind.Header;
  setMask(virt, R.PCI_VENDOR_ID, 4, 0xffffffff);
  setMask(virt, R.PCI_COMMAND, 2, R.PCI_COMMAND_INTX_DISABLE);
  setMask(write, R.PCI_COMMAND, 2, 0xffff);
  setMask(virt, R.PCI_STATUS, 2, R.PCI_STATUS_CAP_LIST);
  write[R.PCI_CACHE_LINE_SIZE] = 0xff;
  write[R.PCI_LATENCY_TIMER] = 0xff;
  write[R.PCI_BIST] = 0xff;
  for (let i = 0; i < 24; i++) virt[R.PCI_BASE_ADDRESS_0 + i] = 0xff;
  for (let i = 0; i < 24; i++) write[R.PCI_BASE_ADDRESS_0 + i] = 0xff;
  setMask(virt, R.PCI_ROM_ADDRESS, 4, 0xffffffff);
  setMask(write, R.PCI_ROM_ADDRESS, 4, 0xffffffff);
  virt[R.PCI_CAPABILITY_LIST] = 0xff;
  virt[R.PCI_INTERRUPT_LINE] = 0xff;
  write[R.PCI_INTERRUPT_LINE] = 0xff;
  virt[R.PCI_INTERRUPT_PIN] = 0xff;

  // Standard capabilities: unlink the ones vfio-pci cannot size (length 0) [S: vfio_cap_init].
  const std = walk.caps.filter((c) => c.space === 'std');
  let prevNextAt = R.PCI_CAPABILITY_LIST;
  for (const cap of std) {
    const len = Math.min(capLength(vconfig, cap), R.PCI_CFG_SPACE_SIZE - cap.offset);
    if (len <= 0) {
      p.hidden.push(cap);
      vconfig.setU8(prevNextAt, cap.next);
      continue;
    }
    p.exposed.push(cap);
    prevNextAt = cap.offset + 1;
    const k = stdKind(cap.id);
    for (let i = 0; i < len; i++) {
      kind[cap.offset + i] = k;
      capStart[cap.offset + i] = cap.offset;
    }
    virt[cap.offset] = 0xff; // id and next are served from vconfig
    virt[cap.offset + 1] = 0xff;
    stdPerms(p, cap, opt);
  }

  // Extended capabilities [S: vfio_ecap_init; M: the exact head handling].
  const ext = walk.caps.filter((c) => c.space === 'ext');
  let prevHdr = -1;
  for (const cap of ext) {
    const len = Math.min(capLength(vconfig, cap), n - cap.offset);
    const isHead = cap.offset === R.PCI_CFG_SPACE_SIZE;
    if (len <= 0 && !isHead) {
      p.hidden.push(cap);
      if (prevHdr >= 0) {
        const h = vconfig.u32(prevHdr);
        vconfig.setU32(prevHdr, ((h & 0x000fffff) | (cap.next << 20)) >>> 0);
      }
      continue;
    }
    p.exposed.push(cap);
    prevHdr = cap.offset;
    // A hidden head stays as an anchor: ID and version zeroed in vconfig, the next pointer kept
    // (vfio_ecap_init; CVE-2024-53214's description of it) [P].
    if (len <= 0) vconfig.setU32(cap.offset, (vconfig.u32(cap.offset) & 0xfff00000) >>> 0);
    const k = len <= 0 ? ByteKind.ExtDirect : extKind(cap.id);
    const span = len <= 0 ? 4 : len; // unknown head: header served read-only (fix ~6.13) [P]
    for (let i = 0; i < span; i++) {
      kind[cap.offset + i] = k;
      capStart[cap.offset + i] = cap.offset;
    }
    setMask(virt, cap.offset, 4, 0xffffffff);
    if (k === ByteKind.ExtPwr) write[cap.offset + 4] = 0xff; // DATA_SELECT
  }
  // A PCIe function with extended config space but no extended capability: vfio_ecap_init
  // anchors the (empty) list at 0x100 as a hidden capability and zeroes it in vconfig, so the
  // dword reads 0 and writes are dropped (not raw) [S; L QEMU nvme, traces/lab/<k>/nvme/edges].
  const pcie = walk.caps.some((c) => c.space === 'std' && c.id === R.PCI_CAP_ID_EXP);
  if (ext.length === 0 && pcie && n > R.PCI_CFG_SPACE_SIZE) {
    for (let i = 0; i < 4; i++) {
      kind[R.PCI_CFG_SPACE_SIZE + i] = ByteKind.ExtDirect;
      capStart[R.PCI_CFG_SPACE_SIZE + i] = R.PCI_CFG_SPACE_SIZE;
    }
    setMask(virt, R.PCI_CFG_SPACE_SIZE, 4, 0xffffffff);
    vconfig.setU32(R.PCI_CFG_SPACE_SIZE, 0);
  }
  return p;
}

function stdKind(id: number): ByteKind {
  switch (id) {
    case R.PCI_CAP_ID_PM:
      return ByteKind.Pm;
    case R.PCI_CAP_ID_MSI:
      return ByteKind.Msi;
    case R.PCI_CAP_ID_MSIX:
      return ByteKind.Msix;
    case R.PCI_CAP_ID_EXP:
      return ByteKind.Exp;
    case R.PCI_CAP_ID_AF:
      return ByteKind.Af;
    case R.PCI_CAP_ID_VNDR:
      return ByteKind.VndrRaw;
    default:
      return ByteKind.Direct;
  }
}

function extKind(id: number): ByteKind {
  switch (id) {
    case R.PCI_EXT_CAP_ID_ERR:
      return ByteKind.ExtErr;
    case R.PCI_EXT_CAP_ID_PWR:
      return ByteKind.ExtPwr;
    case R.PCI_EXT_CAP_ID_VNDR:
    case R.PCI_EXT_CAP_ID_DVSEC:
      return ByteKind.VndrRaw;
    default:
      return ByteKind.ExtDirect;
  }
}

function stdPerms(p: PermMap, cap: Capability, opt: PermOptions): void {
  const o = cap.offset;
  switch (cap.id) {
    case R.PCI_CAP_ID_PM:
      // PMCSR: state bits neither virtualized nor writable (vfio performs the change) [S];
      // PME_Support / PME_En / PME_Status virtualized since 5.19 [S comment].
      // 5.19: PME_En/PME_Status virtualized and not writable [S init_pci_cap_pm_perm; L pmcsr-dstates #77-80].
      if (opt.pmeVirtualized) {
        setMask(p.virt, o + R.PCI_PM_PMC, 2, R.PCI_PM_CAP_PME_MASK);
        setMask(p.virt, o + R.PCI_PM_CTRL, 2, R.PCI_PM_CTRL_PME_ENABLE | R.PCI_PM_CTRL_PME_STATUS);
        setMask(p.write, o + R.PCI_PM_CTRL, 4, ~(R.PCI_PM_CTRL_STATE_MASK | R.PCI_PM_CTRL_PME_ENABLE | R.PCI_PM_CTRL_PME_STATUS) >>> 0);
      } else setMask(p.write, o + R.PCI_PM_CTRL, 4, ~R.PCI_PM_CTRL_STATE_MASK >>> 0);
      break;
    case R.PCI_CAP_ID_MSI:
      // Whole capability virtualized, flags/address/data all writable in vconfig; the flags are then
      // fixed up (ENABLE only while MSI is on, QSIZE <= msi_qmax) [S vfio_msi_cap_init/vfio_msi_config_write;
      // L cfg-perms #29: writing 0x0001 to the 64-bit MSI flags reads back 0x0000].
      for (let i = 2; i < 24 && o + i < p.virt.length; i++) p.virt[o + i] = 0xff;
      for (let i = 2; i < 14; i++) p.write[o + i] = 0xff;
      break;
    case R.PCI_CAP_ID_EXP:
      // DEVCTL writable except PHANTOM; BCR_FLR virtualized [S].
      setMask(p.write, o + R.PCI_EXP_DEVCTL, 2, 0xffff & ~R.PCI_EXP_DEVCTL_PHANTOM);
      setMask(p.virt, o + R.PCI_EXP_DEVCTL, 2, R.PCI_EXP_DEVCTL_BCR_FLR);
      break;
    case R.PCI_CAP_ID_AF:
      p.virt[o + R.PCI_AF_CTRL] = R.PCI_AF_CTRL_FLR;
      p.write[o + R.PCI_AF_CTRL] = R.PCI_AF_CTRL_FLR;
      break;
    case R.PCI_CAP_ID_VNDR:
      break;
    default:
      break;
  }
}
