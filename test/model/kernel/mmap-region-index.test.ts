// Catalog bug mmap-region-index-oob (909290786ea3): mmap of a region index past the device-specific
// regions; one test per rule, named after the rule.
import { describe, expect, it } from 'vitest';
import type { HostEvent } from '../../../src/trace/types.js';
import { findKernelVersion } from '../../../src/model/versions/kernel.js';
import { err, expectStep, model, run } from './helpers.js';

const mmapIndex = (region: number): HostEvent => ({ kind: 'mmap', region, offset: 0n, length: 0x1000n, prot: 3, addr: 0x7f4a00000000n });
function opened(version: string) {
  const m = model(version);
  run(m, { kind: 'open' });
  return m;
}

describe('mmap-region-index-oob', () => {
  it('is in 5.10 .. 5.10.31, fixed in 5.10.32 and 5.12+', () => {
    expect(['linux-5.7', 'linux-5.10', 'linux-5.10.31', 'linux-5.10.32', 'linux-5.14'].map((v) => findKernelVersion(v)!.switches.bugMmapRegionIndexUnchecked)).toEqual([
      true, true, true, false, false,
    ]);
  });
  it('mmap.extra-region-index-oob-bug', () =>
    expectStep(run(opened('linux-5.10.31'), mmapIndex(11)), { kind: 'kernel-failure', failure: 'bug', where: 'vfio_pci_mmap', consequence: 'thread-killed' }, 'mmap.extra-region-index-oob-bug'));
  it('entry 0 of a NULL region array, and every index on fixed versions, is -EINVAL (mmap.invalid-index)', () => {
    expectStep(run(opened('linux-5.10.31'), mmapIndex(9)), err('EINVAL'), 'mmap.invalid-index');
    expectStep(run(opened('linux-5.10.32'), mmapIndex(11)), err('EINVAL'), 'mmap.invalid-index');
  });
});
