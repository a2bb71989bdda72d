// Real QEMU runs (7.2 and 10.0, TCG) driving the real vfio-pci driver in the nested lab, each
// captured by tracer/vfio-trace with QEMU's -trace log (traces/qemu/<qemu>/<scenario>/): every one
// imports, merges strace with the QEMU log, and knows every QEMU event it meets.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importTrace } from '../../src/import/importer.js';
import { eventLines, repo } from './helpers.js';

const root = join(repo, 'traces/qemu');
const captures: string[] = existsSync(root)
  ? readdirSync(root).flatMap((v) =>
      readdirSync(join(root, v))
        .filter((s) => existsSync(join(root, v, s, 'info')) && existsSync(join(root, v, s, 'strace.log')))
        .map((s) => `${v}/${s}`),
    )
  : [];

describe('real QEMU captures (tracer output directories)', { timeout: 60_000 }, () => {
  it.runIf(existsSync(root))('exist', () => {
    expect(captures.length).toBeGreaterThan(0);
  });

  it.each(captures)('%s imports: host and guest events merged, no unknown QEMU event', (c) => {
    const { trace, report } = importTrace({ dir: join(root, c), tracerVersion: 't' });
    expect(trace.header.device.bdf).toMatch(/^0000:/);
    expect(trace.header.kernelRelease).not.toBe('');
    expect(trace.header.vmm.name).toBe('qemu');
    expect(trace.events[0]!.kind).toBe('open');
    expect(trace.events.some((e) => e.kind.startsWith('guest-'))).toBe(true);
    if (report.qemu) {
      expect([...report.qemu.unknown.keys()]).toEqual([]);
      expect(report.droppedForwards).toBeGreaterThan(0);
    }
    for (let i = 1; i < trace.events.length; i++) expect(trace.events[i]!.tsNs >= trace.events[i - 1]!.tsNs).toBe(true);
  });

  it.runIf(captures.includes('7.2/d3hot-read'))('7.2/d3hot-read: the guest touches BAR0 after D3hot; under TCG QEMU dies of SIGBUS', () => {
    const lines = eventLines(importTrace({ dir: join(root, '7.2/d3hot-read'), tracerVersion: 't' }).trace);
    expect(lines[lines.length - 1]).toMatch(/^mem-read bar0\+0x8 len=1 => signal=SIGBUS code=BUS_ADRERR addr=(ADDR|0x[0-9a-f]+) vmm-exit=signaled status=135 exit-signal=SIGBUS$/);
    expect(lines).toContain('guest-cfg-write 0xcc len=2 val=0x0003');
  });
});
