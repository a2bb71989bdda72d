// Seed 002: the guest programs BAR0, enables memory decoding, then either puts the device in D3hot
// (PMCSR) or clears COMMAND.MEM, then reads BAR0 through MMIO. What that read does depends on the
// VMM version; the kernel model is the real one (linux-6.19), so the zap that makes a stale
// mapping fatal comes from the modeled vfio-pci, not from the test.
import { describe, expect, it } from 'vitest';
import { BAR0_GPA, PMCSR, cfgW, mmioR, rig, show } from './rig.js';
import type { Step } from '../../../src/model/outcome.js';

type Cell = {
  /** Outcome kind of the final guest MMIO read. */
  outcome: Step['outcome']['kind'];
  alive: boolean;
  /** Did the read reach the device (any host op issued for it)? */
  deviceAccess: boolean;
  rule: string;
  /** For unassigned reads: the value the guest sees. */
  value?: bigint;
};

function replay(versionId: string, disable: 'd3hot' | 'mse-clear', accel: 'kvm' | 'tcg' = 'kvm') {
  const r = rig(versionId, { accel, kernel: 'linux-6.19' });
  r.guest(cfgW(0x10, 4, BAR0_GPA)); // BAR0
  r.guest(cfgW(0x04, 2, 0x0006)); // MEM | MASTER
  const off = disable === 'd3hot' ? r.guest(cfgW(PMCSR, 2, 0x0003)) : r.guest(cfgW(0x04, 2, 0x0004));
  const read = r.guest(mmioR(BAR0_GPA + 8n, 4));
  return { r, off, read };
}

function check(versionId: string, disable: 'd3hot' | 'mse-clear', want: Cell) {
  const { r, read } = replay(versionId, disable);
  const got: Cell = {
    outcome: read.outcome.kind,
    alive: r.vmm.alive,
    deviceAccess: read.effects.some((e) => e.kind === 'forward'),
    rule: read.rule,
  };
  if (read.outcome.kind === 'unassigned') got.value = read.outcome.value;
  expect(got, show(read)).toEqual(want);
}

const dead: Cell = { outcome: 'vmm-exit', alive: false, deviceAccess: true, rule: 'vmm.direct-map-stale' };
const unassignedOnes: Cell = { outcome: 'unassigned', alive: true, deviceAccess: false, rule: 'vmm.unassigned', value: 0xffffffffn };
const unassignedZero: Cell = { outcome: 'unassigned', alive: true, deviceAccess: false, rule: 'vmm.unassigned', value: 0n };
const trappedAllOnes: Cell = { outcome: 'all-ones', alive: true, deviceAccess: true, rule: 'vmm.trapped.error-all-ones' };

describe('seed 002: guest D3hot, then guest MMIO read of BAR0 (linux-6.19, KVM)', () => {
  it('openvmm-3336: dead (stale direct map over the zapped mmap: the #3609 bug)', () => check('openvmm-3336', 'd3hot', dead));
  it('openvmm-3609: BAR unmapped, no device access, alive', () => check('openvmm-3609', 'd3hot', unassignedOnes));
  it('openvmm-3751: as 3609 (the word write covers PowerState)', () => check('openvmm-3751', 'd3hot', unassignedOnes));
  it('openvmm-3248: trapped, pread -EIO, all-ones', () => check('openvmm-3248', 'd3hot', trappedAllOnes));
  it('qemu-7.2: dead (no PM emulation, BARs stay mapped)', () => check('qemu-7.2', 'd3hot', dead));
  it('qemu-10.0: alive (BARs unmapped when not in D0)', () => check('qemu-10.0', 'd3hot', unassignedZero));
  it('cloud-hypervisor: dead (forwards PMCSR, never unmaps)', () => check('cloud-hypervisor', 'd3hot', dead));

  it('the D3hot write itself: 3609 unmaps before forwarding, 3336 only forwards', () => {
    const a = replay('openvmm-3609', 'd3hot').off.effects.map((e) => e.kind);
    expect(a.indexOf('guest-unmap')).toBeLessThan(a.lastIndexOf('forward'));
    expect(a).toContain('power');
    const b = replay('openvmm-3336', 'd3hot').off.effects.map((e) => e.kind);
    expect(b).not.toContain('guest-unmap');
    expect(b).toContain('power');
  });

  it('with BAR0 in use before D3hot, the kernel zaps it and 3336 still keeps it mapped', () => {
    for (const [v, unmapped] of [['openvmm-3336', false], ['openvmm-3609', true]] as const) {
      const r = rig(v);
      r.guest(cfgW(0x10, 4, BAR0_GPA));
      r.guest(cfgW(0x04, 2, 0x0006));
      expect(r.guest(mmioR(BAR0_GPA)).rule).toBe('vmm.direct-map'); // populates the PTEs
      const kinds = r.guest(cfgW(PMCSR, 2, 3)).effects.map((e) => e.kind);
      expect(kinds).toContain('zap');
      expect(kinds.includes('guest-unmap')).toBe(unmapped);
    }
  });

  it('under TCG the dead cells are a SIGBUS kill, status 135', () => {
    for (const v of ['openvmm-3336', 'qemu-7.2', 'cloud-hypervisor']) {
      const { r, read } = replay(v, 'd3hot', 'tcg');
      expect(read.outcome).toEqual({ kind: 'vmm-exit', how: 'killed-sigbus', status: 135 });
      expect(r.vmm.alive).toBe(false);
    }
  });

  it('under KVM the dead cells are KVM_RUN -EFAULT', () => {
    const { read } = replay('qemu-7.2', 'd3hot', 'kvm');
    expect(read.outcome).toMatchObject({ kind: 'vmm-exit', how: 'kvm-run-efault' });
  });
});

// The same scenario with COMMAND.MEM cleared instead of D3hot. Per the reference facts this table
// is NOT the D3hot table: every VMM except cloud-hypervisor has always unmapped on MSE clear
// (QEMU: pci_update_mappings, reference §2.2; OpenVMM: update_bar_mappings on mmio_enabled, §3.2,
// from #3248 on), so qemu-7.2 and openvmm-3336 survive, and openvmm-3248's BAR is no longer
// claimed (the read goes to the chipset's missing device, not to a pread).
describe('seed 002 with COMMAND.MEM cleared instead of D3hot (linux-6.19, KVM)', () => {
  it('openvmm-3336: alive, BAR unmapped (unmaps on MSE clear; only PM was missed)', () => check('openvmm-3336', 'mse-clear', unassignedOnes));
  it('openvmm-3609: BAR unmapped, no device access, alive', () => check('openvmm-3609', 'mse-clear', unassignedOnes));
  it('openvmm-3751: BAR unmapped, no device access, alive', () => check('openvmm-3751', 'mse-clear', unassignedOnes));
  it('openvmm-3248: BAR no longer trapped: unassigned all-ones, no device access', () => check('openvmm-3248', 'mse-clear', unassignedOnes));
  it('qemu-7.2: alive (QEMU always unmapped BARs on MEM=0)', () => check('qemu-7.2', 'mse-clear', unassignedZero));
  it('qemu-10.0: alive', () => check('qemu-10.0', 'mse-clear', unassignedZero));
  it('cloud-hypervisor: dead (forwards COMMAND, never unmaps)', () => check('cloud-hypervisor', 'mse-clear', dead));
});
