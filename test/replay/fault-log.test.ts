// The BAR fault handler's dynamic-debug lines against the model's predicted calls
// (src/replay/fault-log.ts). The lines are real ones from the lab (traces/lab/6.12/ivshmem-plain).
import { describe, expect, it } from 'vitest';
import { FaultLogJudge, handlerCalls } from '../../src/replay/fault-log.js';

const DEV = 'vfio-pci 0000:00:03.0: ';
const PUD_FALLBACK = `${DEV}vfio_pci_mmap_huge_fault(,order = 18) BAR 2 page offset 0xffffffffffe00: 0x800`;
const PMD_MAP = `${DEV}vfio_pci_mmap_huge_fault(,order = 9) BAR 2 page offset 0x0: 0x100`;

describe('handlerCalls', () => {
  it('one call per handler line, in order; other kernel lines are not calls', () => {
    expect(handlerCalls(`${PUD_FALLBACK}\n${PMD_MAP}`)).toEqual(['order=18:0x800', 'order=9:0x100']);
    expect(handlerCalls('vfio-pci 0000:00:03.0: Refused to change power state from D0 to D3hot')).toBeNull();
    expect(handlerCalls(undefined)).toBeNull();
    expect(handlerCalls('')).toBeNull();
    expect(handlerCalls('vfio_pci_mmap_huge_fault: 4 callbacks suppressed')).toEqual(['suppressed']);
  });
});

describe('FaultLogJudge', () => {
  it('agreeing calls pass; a different level or result is a divergence naming both', () => {
    const j = new FaultLogJudge();
    expect(j.judge(['order=18:0x800', 'order=9:0x100'], `${PUD_FALLBACK}\n${PMD_MAP}`)).toBeNull();
    expect(j.judge(['order=18:0x100'], PMD_MAP)).toBe('klog huge_fault order=9:0x100 (model order=18:0x100)');
  });

  it('before the trace showed any line, an event without lines proves nothing; after, it means no call', () => {
    const j = new FaultLogJudge();
    expect(j.judge(['order=0:0x100'], undefined)).toBeNull();
    expect(j.judge(['order=9:0x100'], PMD_MAP)).toBeNull();
    expect(j.judge([], undefined)).toBeNull(); // no fault on either side
    expect(j.judge(['order=0:0x100'], undefined)).toBe('klog huge_fault none (model order=0:0x100)');
    expect(j.judge([], PMD_MAP)).toBe('klog huge_fault order=9:0x100 (model none)'); // the kernel faulted, the model had the entry present
  });

  it('no prediction (no huge_fault in the model, no VMA address): nothing to compare', () => {
    const j = new FaultLogJudge();
    expect(j.judge(undefined, PMD_MAP)).toBeNull();
  });

  it('lines the ratelimit swallowed make the capture incomplete', () => {
    expect(new FaultLogJudge().judge(['order=9:0x100'], `vfio_pci_mmap_huge_fault: 2 callbacks suppressed\n${PMD_MAP}`)).toMatch(/suppressed by the ratelimit/);
  });
});
