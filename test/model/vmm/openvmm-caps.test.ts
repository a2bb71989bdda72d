// The cases OpenVMM PR #3609 lists for discover_capabilities, against the model function.
import { describe, expect, it } from 'vitest';
import { discoverCapabilities, imageReader, applyPatch, MAX_CAPS } from '../../../src/model/vmm/openvmm-caps.js';

/** A zeroed config space with dword writes, like the PR's MockConfigSpace. */
function space(size: number) {
  const bytes = new Uint8Array(size);
  return {
    bytes,
    w32(off: number, v: number) {
      new DataView(bytes.buffer).setUint32(off, v >>> 0, true);
    },
  };
}
const capHeader = (id: number, next: number) => id | (next << 8);
const extCapHeader = (id: number, ver: number, next: number) => (id | (ver << 16) | (next << 20)) >>> 0;

describe('openvmm.caps (one-pass discovery, PR #3609)', () => {
  it('discover_pm_cap_single: PM at 0x40 gives PMCSR 0x44', () => {
    const c = space(256);
    c.w32(0x34, 0x40);
    c.w32(0x40, capHeader(0x01, 0));
    const caps = discoverCapabilities(imageReader(c.bytes));
    expect(caps.pmCsrOffset).toBe(0x44);
    expect(caps.msix).toBeNull();
  });

  it('discover_pm_cap_chained: vendor cap then PM at 0x60', () => {
    const c = space(256);
    c.w32(0x34, 0x50);
    c.w32(0x50, capHeader(0x09, 0x60));
    c.w32(0x60, capHeader(0x01, 0));
    expect(discoverCapabilities(imageReader(c.bytes)).pmCsrOffset).toBe(0x64);
  });

  it('discover_no_capabilities: nothing found, multi-function patch still present', () => {
    const caps = discoverCapabilities(imageReader(space(256).bytes));
    expect(caps.pmCsrOffset).toBeNull();
    expect(caps.msix).toBeNull();
    expect(caps.configPatches.has(0x0c)).toBe(true);
    // The multi-function bit (header type bit 7) reads as 0 through the patch.
    expect(applyPatch(caps.configPatches, 0x0c, 0x0080_0010)).toBe(0x10);
  });

  it('discover_msix_cap: 3 vectors, table and PBA in BAR2', () => {
    const c = space(256);
    c.w32(0x34, 0x40);
    c.w32(0x40, capHeader(0x11, 0) | (0x0002 << 16));
    c.w32(0x44, 0x1000 | 2);
    c.w32(0x48, 0x2000 | 2);
    const m = discoverCapabilities(imageReader(c.bytes)).msix;
    expect(m).not.toBeNull();
    expect(m!.vectorCount).toBe(3);
    expect(m!.capOffset).toBe(0x40);
    expect(m!.tableBar).toBe(2);
    expect(m!.tableRange).toEqual([0x1000, 0x1000 + 3 * 16]);
    expect(m!.pbaBar).toBe(2);
    expect(m!.pbaRange).toEqual([0x2000, 0x2008]);
  });

  it('discover_pm_and_msix: both on one chain', () => {
    const c = space(256);
    c.w32(0x34, 0x40);
    c.w32(0x40, capHeader(0x01, 0x60));
    c.w32(0x60, capHeader(0x11, 0));
    c.w32(0x64, 0);
    c.w32(0x68, 0x1000);
    const caps = discoverCapabilities(imageReader(c.bytes));
    expect(caps.pmCsrOffset).toBe(0x44);
    expect(caps.msix!.vectorCount).toBe(1);
    expect(caps.msix!.tableBar).toBe(0);
  });

  it('extended_caps_sriov_filtered: SR-IOV ID is zeroed for the guest', () => {
    const c = space(0x200);
    c.w32(0x100, extCapHeader(0x10, 1, 0));
    const caps = discoverCapabilities(imageReader(c.bytes));
    expect(caps.configPatches.get(0x100)).toEqual({ mask: 0xffff, value: 0 });
    expect(applyPatch(caps.configPatches, 0x100, extCapHeader(0x10, 1, 0x140))).toBe(extCapHeader(0, 1, 0x140));
  });

  it('extended_caps_ari_and_rebar_filtered: both on a chain', () => {
    const c = space(0x300);
    c.w32(0x100, extCapHeader(0x0e, 1, 0x200));
    c.w32(0x200, extCapHeader(0x15, 1, 0));
    const caps = discoverCapabilities(imageReader(c.bytes));
    expect(caps.configPatches.has(0x100)).toBe(true);
    expect(caps.configPatches.has(0x200)).toBe(true);
  });

  it('other extended caps (AER 0x01) are not filtered', () => {
    const c = space(0x200);
    c.w32(0x100, extCapHeader(0x01, 1, 0));
    expect(discoverCapabilities(imageReader(c.bytes)).configPatches.size).toBe(1);
  });

  it('malformed_cap_chain_cycle_terminates: a self-loop stops at the cap limit', () => {
    const c = space(256);
    c.w32(0x34, 0x40);
    c.w32(0x40, capHeader(0x09, 0x40));
    let reads = 0;
    const base = imageReader(c.bytes);
    const caps = discoverCapabilities((o) => {
      reads++;
      return base(o);
    });
    expect(caps.pmCsrOffset).toBeNull();
    expect(caps.log.some((l) => l.includes(`exceeded ${MAX_CAPS}`))).toBe(true);
    expect(reads).toBeLessThan(MAX_CAPS + 10);
  });

  it('a cycle that passes a PM cap still finds it once', () => {
    const c = space(256);
    c.w32(0x34, 0x40);
    c.w32(0x40, capHeader(0x01, 0x50));
    c.w32(0x50, capHeader(0x09, 0x40));
    expect(discoverCapabilities(imageReader(c.bytes)).pmCsrOffset).toBe(0x44);
  });

  it('extended_cap_malformed_next_pointer: next below 0x100 aborts the walk', () => {
    const c = space(0x200);
    c.w32(0x100, extCapHeader(0xff, 1, 0x50));
    const caps = discoverCapabilities(imageReader(c.bytes));
    expect(caps.configPatches.has(0x50)).toBe(false);
    expect(caps.log.some((l) => l.includes('malformed extended capability next pointer 0x50'))).toBe(true);
  });

  it('extended_cap_unaligned_next_pointer: 0x103 aborts the walk', () => {
    const c = space(0x300);
    c.w32(0x100, extCapHeader(0xff, 1, 0x103));
    const caps = discoverCapabilities(imageReader(c.bytes));
    expect(caps.configPatches.size).toBe(1); // only the multi-function patch
    expect(caps.log.some((l) => l.includes('0x103'))).toBe(true);
  });

  it('an unaligned pointer hides a filtered cap behind it', () => {
    const c = space(0x300);
    c.w32(0x100, extCapHeader(0xff, 1, 0x202));
    c.w32(0x200, extCapHeader(0x10, 1, 0));
    expect(discoverCapabilities(imageReader(c.bytes)).configPatches.has(0x200)).toBe(false);
  });

  it('cap_ptr_reserved_bits_masked: 0x43 is read as 0x40', () => {
    const c = space(256);
    c.w32(0x34, 0x43);
    c.w32(0x40, capHeader(0x01, 0));
    expect(discoverCapabilities(imageReader(c.bytes)).pmCsrOffset).toBe(0x44);
  });

  it('next pointer reserved bits are masked too', () => {
    const c = space(256);
    c.w32(0x34, 0x40);
    c.w32(0x40, capHeader(0x09, 0x53));
    c.w32(0x50, capHeader(0x01, 0));
    expect(discoverCapabilities(imageReader(c.bytes)).pmCsrOffset).toBe(0x54);
  });

  it('a 256-byte config space skips the extended walk (read at 0x100 fails)', () => {
    const caps = discoverCapabilities(imageReader(space(256).bytes));
    expect(caps.configPatches.size).toBe(1);
  });

  it('a read error mid-chain ends the walk without aborting discovery', () => {
    const c = space(256);
    c.w32(0x34, 0x40);
    c.w32(0x40, capHeader(0x01, 0xfc)); // 0xfc + 4 > 256: unreadable
    const caps = discoverCapabilities(imageReader(c.bytes));
    expect(caps.pmCsrOffset).toBe(0x44);
  });
});
