// cloud-hypervisor pci/src/vfio.rs (VfioCommon::write_config_register). BAR writes stay in the
// VMM's own copy ("We're not reprogramming VFIO device") and may move the BAR's KVM memslots
// (move_bar); MSI/MSI-X control writes toggle VFIO interrupts and are then written to the device;
// everything else, COMMAND and PMCSR included, goes to the device unchanged. BAR mmaps are KVM
// memslots from the moment a BAR has an address and are never removed for MSE or D-state, so a
// guest access after the kernel zapped them is the same fatal fault as OpenVMM before #3609.

import { VmmBase, ok } from './base.js';
import type { BarMode, Decision, HostCalls, MsixPart, MsixRoute } from './base.js';
import { MSIX_ENABLE, PCI_BAR0, PCI_COMMAND, PM_CTRL, allOnes, coversByte, mergeInto, overlaps } from './guest-config.js';

export class CloudHypervisorModel extends VmmBase {
  private msixCtrl = 0;

  protected configWrite(calls: HostCalls, offset: number, len: number, value: bigint): Decision {
    if (overlaps(offset, len, PCI_BAR0, 24)) {
      this.bars.writeAccess(offset, len, value);
      if (this.sw.forwardBarWrites) this.forwardCfgWrite(calls, offset, len, value);
      return ok(this.updateMappings(calls) ? 'vmm.ch.move-bar' : 'vmm.ch.bar-cached');
    }
    if (this.msix && coversByte(offset, len, this.msix.capOffset + 3)) {
      // Interrupts first (VFIO_DEVICE_SET_IRQS), then the write reaches the device.
      this.msixCtrl = mergeInto(this.msixCtrl, this.msix.capOffset + 2, 2, offset, len, value);
      this.msixEdge(calls, (this.msixCtrl & MSIX_ENABLE) !== 0);
      if (this.sw.msixControlNotForwarded) return ok('vmm.ch.forward');
    }
    this.forwardCfgWrite(calls, offset, len, value);
    if (coversByte(offset, len, PCI_COMMAND)) {
      this.mse = (mergeInto(this.mse ? 2 : 0, PCI_COMMAND, 2, offset, len, value) & 2) !== 0;
      return ok('vmm.ch.mse-forward-only');
    }
    if (this.pmCap !== null && coversByte(offset, len, this.pmCap + PM_CTRL)) return ok('vmm.ch.pm-forward-only');
    return ok('vmm.ch.forward');
  }

  /**
   * generate_sparse_areas() leaves the pages of the MSI-X table and PBA out of the mmap; read_bar /
   * write_bar emulate the table and pass everything else there (the PBA included) to region_read /
   * region_write.
   */
  protected override msixRoute(part: MsixPart, _mode: BarMode): MsixRoute {
    return part === 'table' ? 'emulated' : 'trapped';
  }

  protected configRead(calls: HostCalls, offset: number, len: number): Decision {
    const v = this.forwardCfgRead(calls, offset, len);
    if (v === null) return { outcome: { kind: 'all-ones', len }, rule: 'vmm.ch.cfg-read-failed' };
    return ok('vmm.ch.cfg-read', v & allOnes(len));
  }

  protected onDeviceReset(_calls: HostCalls): void {
    // cloud-hypervisor keeps its BAR memslots across a device reset.
  }
}
