// The real QEMU sessions of the nested lab (traces/qemu) bisect along the QEMU axis: the D3hot
// scenario captured under QEMU 7.2 (the VMM died: SIGBUS in the vCPU thread, exit 135) names
// qemu-10.0 as the version that stopped the VMM from dying. Those captures carry SET_IRQS calls
// whose arguments strace cannot show: unsupported in every version alike, so they must not make
// bisect skip both ends.
import { describe, expect, it } from 'vitest';
import { bisectTrace } from '../../src/bisect/index.js';
import { classify } from '../../src/bisect/predicate.js';
import type { EventResult, VersionRun } from '../../src/bisect/types.js';
import { loadTrace } from '../../src/trace/index.js';

const FILE = 'traces/qemu/7.2/d3hot-read.pb';

describe('bisect over the QEMU axis (real QEMU capture)', () => {
  it('the D3hot read stops killing QEMU at qemu-10.0', async () => {
    const trace = await loadTrace(FILE);
    const { report } = bisectTrace(trace, FILE, { vmmRange: 'qemu-7.2..qemu-10.0' });
    expect(report.versions).toEqual(['qemu-7.2', 'qemu-10.0']);
    expect(report.result).toMatchObject({ kind: 'changed', lastOld: 0, firstNew: 1, skipped: [] });
    expect(report.transition?.event?.before?.outcome).toBe('vmm-exit killed SIGBUS status=135');
    expect(report.transition?.event?.after?.outcome).not.toMatch(/^vmm-exit/);
  });

  it('the watched guest read: vmm-exit under qemu-7.2, no longer under qemu-10.0 (terms)', async () => {
    const trace = await loadTrace(FILE);
    const { report } = bisectTrace(trace, FILE, { vmmRange: 'qemu-7.2..qemu-10.0', event: lastGuestRead(trace), old: 'vmm-exit' });
    expect(report.result).toMatchObject({ kind: 'changed', firstNew: 1 });
  });
});

describe('classify: unsupported gaps', () => {
  const ev = (index: number, outcome: string, kind: EventResult['kind'], versionUnknown = false): EventResult => ({
    index,
    line: `#${index} ${outcome}`,
    what: 'host ioctl',
    kind,
    outcome,
    effects: [],
    rule: 'r',
    versionUnknown,
  });
  const run = (id: string, events: EventResult[]): VersionRun => ({ point: { id, kernel: id, vmm: null }, events });
  const spec = { kind: 'output', event: null } as const;

  it('a gap every version shares (raw SET_IRQS) does not skip: the rest still compares', () => {
    const gap = ev(0, 'unsupported raw ioctl VFIO_DEVICE_SET_IRQS is not modeled', 'unsupported');
    const ref = run('a', [gap, ev(1, 'ok', 'ok')]);
    expect(classify(ref, null, spec).verdict).toBe('old');
    expect(classify(run('b', [gap, ev(1, 'ok', 'ok')]), ref, spec).verdict).toBe('old');
    expect(classify(run('c', [gap, ev(1, '-EIO', 'errno')]), ref, spec).verdict).toBe('new');
  });

  it("a gap of this version's own (the version table says unknown) skips it, like git bisect's 125", () => {
    const ref = run('a', [ev(0, 'ok ret=0', 'ok'), ev(1, 'ok', 'ok')]);
    const unknown = ev(0, 'unsupported whether this kernel knows VFIO_DEVICE_FEATURE 12 is unknown', 'unsupported', true);
    expect(classify(run('b', [unknown, ev(1, 'ok', 'ok')]), ref, spec).verdict).toBe('skip');
  });
});

/** The index of the guest read that kills QEMU 7.2: the last guest MMIO read of the capture. */
function lastGuestRead(trace: Awaited<ReturnType<typeof loadTrace>>): number {
  for (let i = trace.events.length - 1; i >= 0; i--) if (trace.events[i].kind === 'guest-mmio-read') return i;
  throw new Error('no guest MMIO read in ' + FILE);
}
