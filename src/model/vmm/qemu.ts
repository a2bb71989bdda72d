// QEMU vfio-pci (hw/vfio/pci.c vfio_pci_write_config + hw/pci/pci.c pci_default_write_config).
// Every guest config write is forwarded to the kernel first, whole and as written; then QEMU's
// emulated config is updated: BARs and COMMAND.MEM drive pci_update_mappings() (BAR memory regions
// in and out of the guest address space, hence KVM memslots), and from 10.0 on the emulated PMCSR
// does too (pci_pm_update validates the transition; BARs are unmapped while not in D0).

import type { PowerState } from '../outcome.js';
import { ConfigImage } from '../pci/config-image.js';
import { VmmBase, ok, pmCode, pmStateOf } from './base.js';
import type { BarMode, Decision, HostCalls, MsixLayout, MsixPart, MsixRoute } from './base.js';
import { relocateMsix, type MsixRelocation } from './qemu-msix-relocation.js';
import {
  MSIX_ENABLE,
  PCI_BAR0,
  PCI_COMMAND,
  PCI_COMMAND_MEMORY,
  PM_CAP_D1,
  PM_CAP_D2,
  PM_CTRL,
  PM_PMC,
  allOnes,
  coversByte,
  mergeInto,
  overlaps,
} from './guest-config.js';

export class QemuModel extends VmmBase {
  /** QEMU's emulated COMMAND register (the MEM bit decides whether BARs are mapped). */
  private command = 0;
  /** QEMU's emulated MSI-X Message Control. */
  private msixCtrl = 0;

  /**
   * x-no-mmap=on: vfio_region_mmap is skipped for every region (vbasedev->no_mmap), so no BAR is
   * mmapped, no memslot or p2p DMA map covers one, and every guest BAR access goes through
   * vfio_region_read/write as a pread/pwrite on the device fd. A failing pread (-EIO in D3hot or
   * with MEM off) gives the guest all-ones and a failing pwrite is dropped, both only reported:
   * QEMU does not die, where the mmapped BAR would have taken a SIGBUS (lab/vmm/FINDINGS.md).
   */
  protected override noBarMmap(): string | null {
    return qemuNoMmap(this.options) ? 'x-no-mmap=on: no BAR mmapped, every BAR access trapped [vmm.qemu.no-mmap-trapped]' : null;
  }

  /** x-msix-relocation=barN (qemu-msix-relocation.ts): the guest's BARs and MSI-X capability as QEMU builds them. */
  protected override msixRelocation(msix: MsixLayout | null): MsixRelocation {
    const id = `${this.device.vendorId.toString(16).padStart(4, '0')}:${this.device.deviceId.toString(16).padStart(4, '0')}`;
    return relocateMsix(this.options, msix, this.device.bars, this.device.pageSize, id);
  }

  /** vfio_msix_early_setup's relocation errors fail realize: QEMU prints them and exits 1. */
  protected override refuseDevice(): { why: string; rule: string } | null {
    return this.layoutRefused === null ? null : { why: this.layoutRefused, rule: 'vmm.qemu.msix-relocation-refused' };
  }

  protected override trappedRule(): string {
    return qemuNoMmap(this.options) ? 'vmm.qemu.no-mmap-trapped' : super.trappedRule();
  }

  protected configWrite(calls: HostCalls, offset: number, len: number, value: bigint): Decision {
    // vfio_pci_write_config: pwrite to the device first, always; a failure is only reported.
    const bar = overlaps(offset, len, PCI_BAR0, 24);
    const msixCtrl = this.msix !== null && overlaps(offset, len, this.msix.capOffset + 2, 2);
    if ((!bar || this.sw.forwardBarWrites) && (!msixCtrl || !this.sw.msixControlNotForwarded)) {
      if (!this.forwardCfgWrite(calls, offset, len, value)) calls.note('config write failed: error_report, emulation continues');
    }
    let rule = 'vmm.qemu.forward-first';

    if (bar) {
      this.bars.writeAccess(offset, len, value);
      if (this.updateMappings(calls)) rule = 'vmm.bar-placement';
    }
    if (coversByte(offset, len, PCI_COMMAND)) {
      this.command = mergeInto(this.command, PCI_COMMAND, 2, offset, len, value);
      const mse = (this.command & PCI_COMMAND_MEMORY) !== 0;
      if (mse !== this.mse) {
        this.mse = mse;
        calls.note(`mem ${mse ? 'on' : 'off'}`);
        this.updateMappings(calls);
        rule = mse ? 'vmm.qemu.mse-map' : 'vmm.qemu.mse-unmap';
      }
    }
    if (this.pmCap !== null && coversByte(offset, len, this.pmCap + PM_CTRL)) {
      rule = this.pmcsrWrite(calls, Number((value >> BigInt(8 * (this.pmCap + PM_CTRL - offset))) & 3n)) ?? rule;
    }
    if (this.msix && coversByte(offset, len, this.msix.capOffset + 3)) {
      this.msixCtrl = mergeInto(this.msixCtrl, this.msix.capOffset + 2, 2, offset, len, value);
      this.msixEdge(calls, (this.msixCtrl & MSIX_ENABLE) !== 0);
    }
    return ok(rule);
  }

  /** The PowerState bits of a guest PMCSR write, after the write went to the kernel. */
  private pmcsrWrite(calls: HostCalls, bits: number): string | null {
    if (this.sw.pmcsr !== 'qemu-pm-emulation') {
      // Before 10.0 PowerState is not writable in QEMU's emulated config: nothing changes here.
      calls.note(`pm write ${pmStateOf(bits)} forwarded only: BARs stay mapped`);
      return 'vmm.qemu.no-pm-emulation';
    }
    const old = this.pm;
    const next = pmStateOf(bits);
    if (next === old) return null;
    if (this.sw.rejectBadPmTransitions && this.badTransition(old, next)) {
      calls.note(`pm ${old}->${next} rejected`);
      return 'vmm.qemu.pm-bad-transition';
    }
    this.pm = next;
    calls.note(`pm ${old}->${next}`);
    if ((old === 'D0') !== (next === 'D0')) this.updateMappings(calls);
    if (old === 'D0') return 'vmm.qemu.pm-unmap-bars';
    if (next === 'D0') return 'vmm.qemu.pm-remap-bars';
    return 'vmm.qemu.pm-transition';
  }

  /** pci_pm_update(): D1/D2 only if PMC advertises them; from a non-D0 state only deeper or to D0. */
  private badTransition(old: PowerState, next: PowerState): boolean {
    const pmc = this.pmCap === null ? 0 : new ConfigImage(this.device.config).u16(this.pmCap + PM_PMC);
    if (next === 'D1' && !(pmc & PM_CAP_D1)) return true;
    if (next === 'D2' && !(pmc & PM_CAP_D2)) return true;
    return old !== 'D0' && next !== 'D0' && pmCode(next) < pmCode(old);
  }

  /**
   * vfio-pci reports MSIX_MAPPABLE (Linux >= 4.16), so QEMU mmaps the whole BAR and overlays only
   * the table with its emulation (vfio_pci_fixup_msix_region returns early). KVM memslots are
   * page-granular, so the rest of the table's page is served by QEMU itself through the RAM-device
   * region: a load/store on its own mmap. The PBA region is disabled at setup, so the PBA reads the
   * device like the rest of the BAR.
   */
  protected override msixRoute(part: MsixPart, mode: BarMode): MsixRoute {
    if (part === 'table') return 'emulated';
    if (part === 'table-page') return mode === 'direct' ? 'userspace' : 'trapped';
    return 'bar';
  }

  protected configRead(calls: HostCalls, offset: number, len: number): Decision {
    const v = this.forwardCfgRead(calls, offset, len);
    // vfio_pci_read_config reports the failure and returns -1.
    if (v === null) return { outcome: { kind: 'all-ones', len }, rule: 'vmm.qemu.cfg-read-failed' };
    if (this.msixRelocated && this.msix && overlaps(offset, len, this.msix.capOffset + 4, 8)) {
      return ok('vmm.qemu.msix-relocated-cap', this.relocatedCap(offset, len, v) & allOnes(len));
    }
    return ok('vmm.qemu.cfg-read', v & allOnes(len));
  }

  /**
   * QEMU emulates all of the MSI-X capability (vfio_pci_realize): with relocation the guest reads
   * the table and PBA offset/BIR registers msix_init wrote, not the device's.
   */
  private relocatedCap(offset: number, len: number, v: bigint): bigint {
    const m = this.msix!;
    const regs = [
      [m.capOffset + 4, m.tableRange[0] | m.tableBar],
      [m.capOffset + 8, m.pbaRange[0] | m.pbaBar],
    ] as const;
    let out = v;
    for (let i = 0; i < len; i++) {
      for (const [reg, val] of regs) {
        const b = offset + i - reg;
        if (b < 0 || b > 3) continue;
        const sh = BigInt(8 * i);
        out = (out & ~(0xffn << sh)) | (BigInt((val >>> (8 * b)) & 0xff) << sh);
      }
    }
    return out;
  }

  protected onDeviceReset(calls: HostCalls): void {
    // vfio_pci_pre_reset (10.0): put the device back in D0 before resetting it.
    if (this.sw.forceD0BeforeReset && this.pmCap !== null && this.kernel.view.powerState !== 'D0') {
      calls.note('pre-reset: PMCSR D0 [vmm.qemu.pre-reset-d0]');
      this.forwardCfgWrite(calls, this.pmCap + PM_CTRL, 2, BigInt(this.peekPmcsr() & ~3));
    }
    this.msixEdge(calls, false);
    this.msixCtrl = 0;
    // pci_do_device_reset: COMMAND cleared, BARs back to their type bits, PowerState D0.
    this.command = 0;
    this.mse = false;
    this.bars.reset();
    this.pm = 'D0';
    this.updateMappings(calls);
  }
}

/**
 * Whether QEMU's vfio-pci options turn x-no-mmap on. QEMU's bool properties take on/yes/true/y and
 * off/no/false/n; a bare `x-no-mmap` is on; the last occurrence wins.
 */
export function qemuNoMmap(options: readonly string[]): boolean {
  let on = false;
  for (const o of options) {
    const eq = o.indexOf('=');
    const key = eq < 0 ? o : o.slice(0, eq);
    if (key !== 'x-no-mmap') continue;
    const v = eq < 0 ? 'on' : o.slice(eq + 1).toLowerCase();
    if (['on', 'yes', 'true', 'y'].includes(v)) on = true;
    else if (['off', 'no', 'false', 'n'].includes(v)) on = false;
  }
  return on;
}
