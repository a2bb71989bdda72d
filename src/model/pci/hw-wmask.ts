// Which config-space bits the physical function implements as writable. vfio-pci passes the
// non-virtualized writable bits of a user write to the hardware; what sticks there is the device's
// business. The model has no device, so it uses the spec's RW attributes as QEMU's emulated PCIe
// functions implement them (pci_init_wmask, pcie_cap_deverr_init, pm/msix caps) - the device the
// lab runs [L cfg-perms on 6.1/6.12/7.2: COMMAND 0xffff reads back 0x0507, LATENCY_TIMER and
// DEVCTL.RO (0x0010) stay 0, bytes 0x40.. outside capabilities keep what was written].
// Real devices may implement more (e.g. COMMAND.PARITY, DEVCTL relaxed ordering).

import { ConfigImage } from './config-image.js';
import { capLength, type CapWalk } from './caps.js';
import * as R from './regs.js';

export function hwWriteMask(img: ConfigImage, walk: CapWalk): Uint8Array {
  const m = new Uint8Array(img.size);
  const isPcie = walk.caps.some((c) => c.space === 'std' && c.id === R.PCI_CAP_ID_EXP);
  const set = (off: number, len: number, v: number): void => {
    for (let i = 0; i < len; i++) if (off + i < m.length) m[off + i] = (v >>> (8 * i)) & 0xff;
  };
  set(R.PCI_COMMAND, 2, R.PCI_COMMAND_IO | R.PCI_COMMAND_MEMORY | R.PCI_COMMAND_MASTER | 0x0100 /* SERR */ | R.PCI_COMMAND_INTX_DISABLE);
  m[R.PCI_CACHE_LINE_SIZE] = 0xff;
  if (!isPcie) m[R.PCI_LATENCY_TIMER] = 0xff; // hardwired 0 on PCI Express
  for (let i = R.PCI_BASE_ADDRESS_0; i < R.PCI_BASE_ADDRESS_5 + 4; i++) m[i] = 0xff; // only vfio's BAR restore writes them
  set(R.PCI_ROM_ADDRESS, 4, 0xffffffff);
  m[R.PCI_INTERRUPT_LINE] = 0xff;
  // Device-specific space (standard and extended): writable unless a capability claims it [L cfg-perms #25, #59].
  for (let i = R.PCI_STD_HEADER_SIZEOF; i < m.length; i++) m[i] = 0xff;
  for (const c of walk.caps) {
    if (c.space === 'ext') {
      const len = Math.max(capLength(img, c), 4);
      for (let i = 0; i < len && c.offset + i < m.length; i++) m[c.offset + i] = 0;
      continue;
    }
    const len = Math.max(capLength(img, c), 2);
    for (let i = 0; i < len && c.offset + i < R.PCI_CFG_SPACE_SIZE; i++) m[c.offset + i] = 0;
    switch (c.id) {
      case R.PCI_CAP_ID_PM:
        set(c.offset + R.PCI_PM_CTRL, 2, R.PCI_PM_CTRL_STATE_MASK | R.PCI_PM_CTRL_PME_ENABLE | 0x1e00 /* DATA_SEL */);
        break;
      case R.PCI_CAP_ID_EXP:
        set(c.offset + R.PCI_EXP_DEVCTL, 2, 0x000f | R.PCI_EXP_DEVCTL_BCR_FLR); // CERE|NFERE|FERE|URRE
        break;
      case R.PCI_CAP_ID_MSI:
        for (let i = 2; i < capLength(img, c); i++) m[c.offset + i] = 0xff;
        break;
      case R.PCI_CAP_ID_VNDR:
        for (let i = 3; i < capLength(img, c); i++) m[c.offset + i] = 0xff;
        break;
      case R.PCI_CAP_ID_MSIX:
        set(c.offset + R.PCI_MSIX_FLAGS, 2, R.PCI_MSIX_FLAGS_ENABLE | 0x4000 /* function mask */);
        break;
      default:
        break;
    }
  }
  return m;
}
