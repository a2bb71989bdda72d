// OpenVMM VfioAssignedPciDevice (vm/devices/pci/vfio_assigned_device/src/lib.rs), by PR:
// #3248 traps every BAR access; #3336 direct-maps BARs while COMMAND.MEM is set; #3609 also unmaps
// while the guest's PMCSR says non-D0 (leaving D0: unmap then forward; entering D0: forward, remap
// only if that worked); #3751 passes byte enables through, so only the bytes the guest wrote reach
// the device and a PMCSR write that misses PowerState is dropped.
//
// Before #3751 the device only sees whole dwords: `pci_cfg_write(offset, value: u32)`. A narrower
// guest write becomes read (through the device's own read path) + merge + dword write: the PCI bus
// in front of the device does it (vm/devices/pci/pci_bus GenericPciBus: "if the write is
// undersized, we must first read the existing value on alignment before combining").

import { applyPatch, discoverCapabilities, imageReader } from './openvmm-caps.js';
import type { DiscoveredCapabilities } from './openvmm-caps.js';
import { VmmBase, ok, pmStateOf } from './base.js';
import type { Decision, HostCalls } from './base.js';
import { PCI_BAR0, PCI_BAR_END, PCI_COMMAND, PCI_COMMAND_MEMORY, bitMask, byteEnables, extract } from './guest-config.js';
import type { KernelModel } from '../interfaces.js';
import type { Accelerator, DeviceSnapshot } from '../../trace/types.js';
import type { VmmVersion } from '../versions/vmm.js';

export class OpenVmmModel extends VmmBase {
  private readonly caps: DiscoveredCapabilities;

  constructor(kernel: KernelModel, device: DeviceSnapshot, version: VmmVersion, accel: Accelerator, options: readonly string[] = []) {
    super(kernel, device, version, accel, options);
    // One pass over both chains (PR #3609); earlier versions found the same MSI-X cap and patches
    // with three walks, which the model does not need to tell apart.
    this.caps = discoverCapabilities(imageReader(device.config));
  }

  /** from_device() bails on BAR layouts it cannot proxy; the VM then fails to start. */
  protected override refuseDevice(): { why: string; rule: string } | null {
    for (const b of this.device.bars) {
      if (b.size <= 0n) continue;
      if (b.kind === 'io') return { why: `bar${b.index}: PIO BARs are not supported`, rule: 'vmm.openvmm.pio-bar-unsupported' };
      if (b.is64 && b.index === 5) return { why: '64-bit BAR at index 5 is invalid', rule: 'vmm.openvmm.bar-layout-invalid' };
      if ((b.size & (b.size - 1n)) !== 0n) return { why: `bar${b.index}: BAR size is not a power of two`, rule: 'vmm.openvmm.bar-layout-invalid' };
    }
    return null;
  }

  private get pmCsrOffset(): number | null {
    return this.sw.pmcsr === 'openvmm-intercept' ? this.caps.pmCsrOffset : null;
  }

  private get msixCapOffset(): number | null {
    return this.caps.msix?.capOffset ?? null;
  }

  protected configWrite(calls: HostCalls, offset: number, len: number, value: bigint): Decision {
    const aligned = offset & ~3;
    if (this.sw.partialConfigWrite === 'dword-rmw' && len !== 4) {
      const cur = this.readDword(calls, aligned);
      const mask = bitMask(byteEnables(offset, len));
      const shifted = Number((value << BigInt(8 * (offset - aligned))) & 0xffff_ffffn);
      return this.cfgWriteDword(calls, aligned, ((cur & ~mask) | (shifted & mask)) >>> 0, 0xffff_ffff);
    }
    const mask = bitMask(byteEnables(offset, len));
    const dword = Number((value << BigInt(8 * (offset - aligned))) & 0xffff_ffffn);
    return this.cfgWriteDword(calls, aligned, dword >>> 0, mask);
  }

  /** `pci_cfg_write(offset, value)` with the bits in `mask` valid (all of them before #3751). */
  private cfgWriteDword(calls: HostCalls, offset: number, dword: number, mask: number): Decision {
    if (offset === PCI_COMMAND) {
      let rule = 'vmm.openvmm.forward';
      if (mask & PCI_COMMAND_MEMORY) {
        const mse = (dword & PCI_COMMAND_MEMORY) !== 0;
        if (mse !== this.mse) {
          // Unmap/remap first, then forward (update_bar_mappings before write_phys_config).
          this.mse = mse;
          calls.note(`mmio ${mse ? 'enabled' : 'disabled'}`);
          this.updateMappings(calls);
          rule = mse ? 'vmm.openvmm.mse-map' : 'vmm.openvmm.mse-unmap';
        }
      }
      this.writePhys(calls, offset, dword, mask);
      return ok(rule);
    }
    if (offset >= PCI_BAR0 && offset < PCI_BAR_END) {
      // Cached, masked, never written to hardware; re-placed at once when MMIO is on.
      const i = (offset - PCI_BAR0) >> 2;
      this.bars.set(i, ((this.bars.read(i) & ~mask) | (dword & mask)) >>> 0);
      if (this.sw.forwardBarWrites) this.writePhys(calls, offset, dword, mask);
      const moved = this.mse && this.updateMappings(calls);
      return ok(moved ? 'vmm.bar-placement' : 'vmm.openvmm.bar-cached');
    }
    if (offset === this.pmCsrOffset) return this.pmcsrWrite(calls, offset, dword, mask);
    if (offset === this.msixCapOffset) {
      // Emulated; VFIO owns the hardware enable bit (VFIO_DEVICE_SET_IRQS). Never forwarded.
      if (mask & 0x8000_0000) this.msixEdge(calls, (dword & 0x8000_0000) !== 0);
      if (!this.sw.msixControlNotForwarded) this.writePhys(calls, offset, dword, mask);
      return ok('vmm.openvmm.msix-emulated');
    }
    this.writePhys(calls, offset, dword, mask);
    return ok('vmm.openvmm.forward');
  }

  private pmcsrWrite(calls: HostCalls, offset: number, dword: number, mask: number): Decision {
    if (this.sw.dropPmcsrWithoutStateBits && (mask & 0x3) === 0) {
      calls.note('pmcsr write without PowerState bits dropped');
      return { outcome: { kind: 'dropped' }, rule: 'vmm.openvmm.pmcsr-partial-dropped' };
    }
    const next = pmStateOf(dword & 3);
    const old = this.pm;
    if (next === 'D0') {
      // Entering D0: forward first so the kernel's faults are resolvable before remapping.
      if (!this.writePhys(calls, offset, dword, mask)) {
        calls.note('pmcsr D0 write failed: BARs left unmapped');
        return ok('vmm.openvmm.pm-d0-write-failed');
      }
    }
    this.pm = next;
    if (old !== next) calls.note(`pm ${old}->${next}`);
    this.updateMappings(calls);
    if (next !== 'D0') {
      // Leaving D0 (D1/D2 too): unmap first, then forward.
      this.writePhys(calls, offset, dword, mask);
      return ok('vmm.openvmm.pm-unmap-bars');
    }
    return ok(old === 'D0' ? 'vmm.openvmm.forward' : 'vmm.openvmm.pm-remap-after-write');
  }

  /** write_phys_config: the enabled bytes (all four before #3751). */
  private writePhys(calls: HostCalls, offset: number, dword: number, mask: number): boolean {
    let first = 0;
    while (first < 4 && !((mask >>> (8 * first)) & 0xff)) first++;
    let last = 3;
    while (last > first && !((mask >>> (8 * last)) & 0xff)) last--;
    if (first > 3) return true;
    const len = last - first + 1;
    return this.forwardCfgWrite(calls, offset + first, len, extract(dword, offset, offset + first, len));
  }

  /** The device's own read path for a whole dword (BAR cache, MSI-X merge, patched hardware). */
  private readDword(calls: HostCalls, aligned: number): number {
    if (aligned >= PCI_BAR0 && aligned < PCI_BAR_END) return this.bars.dword((aligned - PCI_BAR0) >> 2);
    const hw = this.forwardCfgRead(calls, aligned, 4);
    if (hw === null) return 0xffff_ffff; // read_phys_config failure: !0
    let v = Number(hw) >>> 0;
    if (aligned === this.msixCapOffset) v = ((v & 0xffff) | ((v & 0x3fff_0000) | (this.msixEnabled ? 0x8000_0000 : 0))) >>> 0;
    return applyPatch(this.caps.configPatches, aligned, v);
  }

  protected configRead(calls: HostCalls, offset: number, len: number): Decision {
    const aligned = offset & ~3;
    if (this.sw.partialConfigWrite !== 'byte-enables' || len === 4 || aligned === this.msixCapOffset) {
      const d = this.readDword(calls, aligned);
      return ok('vmm.openvmm.cfg-read', extract(d, aligned, offset, len));
    }
    // Byte-enabled read: only the bytes asked for reach the device; patches still apply.
    const hw = this.forwardCfgRead(calls, offset, len);
    if (hw === null) return { outcome: { kind: 'all-ones', len }, rule: 'vmm.openvmm.cfg-read-failed' };
    const placed = Number((hw << BigInt(8 * (offset - aligned))) & 0xffff_ffffn) >>> 0;
    return ok('vmm.openvmm.cfg-read', extract(applyPatch(this.caps.configPatches, aligned, placed), aligned, offset, len));
  }

  protected onDeviceReset(calls: HostCalls): void {
    // ChangeDeviceState::reset: MSI-X off, MMIO off + update_bar_mappings, BARs to defaults, then
    // VFIO_DEVICE_RESET; in_d0 = true afterwards.
    this.msixEdge(calls, false);
    this.mse = false;
    this.updateMappings(calls);
    this.bars.reset();
    if (this.pm !== 'D0') calls.note(`pm ${this.pm}->D0 (reset)`);
    this.pm = 'D0';
  }
}
