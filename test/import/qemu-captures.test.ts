// Real QEMU runs (7.2 and 10.0, TCG) driving the real vfio-pci driver in the nested lab, each
// captured by tracer/vfio-trace with QEMU's -trace log (traces/qemu/<qemu>/<scenario>/): every one
// imports, merges strace with the QEMU log, and knows every QEMU event it meets; with the tracer's
// ioctl argument capture, every VFIO ioctl QEMU made imports as itself (no `raw`).
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importTrace } from '../../src/import/importer.js';
import { replayFile } from '../../src/replay/run.js';
import { encodeTrace, loadTrace } from '../../src/trace/codec.js';
import { eventLines, repo } from './helpers.js';
import { isSetupEvent } from '../../src/trace/setup-requests.js';

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
    // QEMU sets up the container and group and maps guest RAM into the container (type1 MAP_DMA)
    // before it asks for the device fd: the first device event is the successful GET_DEVICE_FD.
    const first = trace.events.find((e) => e.kind !== 'map-dma' && e.kind !== 'unmap-dma' && !isSetupEvent(e))!;
    expect(first.kind === 'ioctl' && first.op === 'get-device-fd' && first.observed?.ret !== undefined).toBe(true);
    expect(trace.events.filter((e) => e.kind === 'vfio-open').length).toBeGreaterThanOrEqual(2);
    if (report.ioctlArgs) {
      // With the tracer's argument capture every VFIO ioctl imports as what it was.
      expect(report.ioctlArgs.paired).toBeGreaterThan(0);
      expect(trace.events.filter((e) => e.kind === 'ioctl' && e.op === 'raw').map((e) => e.kind === 'ioctl' && e.op === 'raw' && e.name)).toEqual([]);
      expect(trace.events.some((e) => e.kind === 'ioctl' && e.op === 'set-irqs')).toBe(true);
    }
    expect(trace.events.some((e) => e.kind.startsWith('guest-'))).toBe(true);
    if (report.qemu) {
      expect([...report.qemu.unknown.keys()]).toEqual([]);
      expect(report.droppedForwards).toBeGreaterThan(0);
    }
    for (let i = 1; i < trace.events.length; i++) expect(trace.events[i]!.tsNs >= trace.events[i - 1]!.tsNs).toBe(true);
  });

  // The merge drops strace's MAP_DMA/UNMAP_DMA of the BAR mappings because the QEMU model derives
  // them from the guest's COMMAND writes (QEMU's DMA listener). That is only sound if the model
  // derives exactly what QEMU did: the same iova ranges, in the same order (BAR0, BAR1, and BAR3
  // minus the MSI-X table page), and no others.
  const scratch = mkdtempSync(join(tmpdir(), 'qemu-captures-'));
  it.each(captures.filter((c) => existsSync(join(root, c, 'ioctl-args'))))('%s: the QEMU model maps and unmaps the BARs for DMA exactly as QEMU did', async (c) => {
    const dir = join(root, c);
    // The filed trace's header names the QEMU version (lab/vmm/collect.mjs, from meta.json).
    const { header } = await loadTrace(`${dir}.pb`);
    const merged = importTrace({ dir, header, tracerVersion: 't' }).trace;
    const hostOnly = importTrace({ strace: join(dir, 'strace.log'), ioctlArgs: join(dir, 'ioctl-args'), sysfs: dir, tracerVersion: 't' }).trace;
    const dma = (e: (typeof merged.events)[number]): string | null =>
      e.kind === 'map-dma' ? `map-dma iova=0x${e.iova.toString(16)} size=0x${e.size.toString(16)}` : e.kind === 'unmap-dma' ? `unmap-dma iova=0x${e.iova.toString(16)} size=0x${e.size.toString(16)}` : null;
    // What strace saw that the merge dropped: the host-only import's DMA calls minus the merged one's.
    const all = hostOnly.events.map(dma).filter((x): x is string => x !== null);
    const remaining = merged.events.map(dma).filter((x): x is string => x !== null);
    const dropped = hostOnly.events.filter((e) => dma(e) !== null);
    for (const r of remaining) dropped.splice(dropped.findIndex((e) => dma(e) === r), 1);
    // QEMU's INTx slow path (vfio_intx_interrupt: BAR mmaps disabled until the EOI, re-enabled by
    // a main-loop timer) unmaps and remaps the BARs from the main thread (the process's first,
    // which opens the container): not modeled, the trace has no interrupt event. SeaBIOS's NVMe
    // driver raises INTx, the e1000e sessions never do. With it the sequence (and what is mapped at
    // the end) depends on where the interrupts and the timer fell: every BAR section QEMU mapped,
    // the model maps too (a section the guest placed while QEMU's mmaps were off and that the timer
    // did not map before the session ended is the model's alone: 10.0/nvme-msix, BAR0 at 0xc0000000).
    const main = hostOnly.events[0]!.tid;
    const intx = dropped.filter((e) => e.tid === main).map((e) => dma(e)!);
    const droppedByMerge = dropped.map((e) => dma(e)!);
    const sections = (calls: string[]): string[] => [...new Set(calls.filter((x) => x.startsWith('map-dma')).map((x) => x.slice(8)))].sort();
    // What the model forwarded while replaying the merged trace.
    const pb = join(scratch, c.replace('/', '-') + '.pb');
    writeFileSync(pb, encodeTrace(merged));
    const forwarded: string[] = [];
    await replayFile(pb, {}, {
      event: (_l, _i, _e, step) => {
        for (const eff of step.effects) if (eff.kind === 'forward' && /^(un)?map-dma /.test(eff.what)) forwarded.push(eff.what.replace(/ =>.*$/, ''));
      },
    });
    // x-no-mmap=on: no BAR mapping, so nothing of the kind on either side.
    if (c.endsWith('.no-mmap')) expect(droppedByMerge).toEqual([]);
    else expect(droppedByMerge.length).toBeGreaterThan(0);
    if (intx.length === 0) expect(forwarded).toEqual(droppedByMerge);
    else {
      expect(c).toMatch(/nvme/);
      expect(intx.every((x) => sections(droppedByMerge).includes(x.replace(/^\S+ /, '')))).toBe(true);
      expect(sections(droppedByMerge).filter((x) => !sections(forwarded).includes(x))).toEqual([]);
      expect(sections(droppedByMerge).length).toBeGreaterThan(0);
    }
  });
  it.runIf(captures.includes('7.2/d3hot-read'))('7.2/d3hot-read: the guest touches BAR0 after D3hot; under TCG QEMU dies of SIGBUS', () => {
    const lines = eventLines(importTrace({ dir: join(root, '7.2/d3hot-read'), tracerVersion: 't' }).trace);
    // The fault lies in BAR0's mapping while the guest had BAR0 at 0xc0000000 (pci_update_mappings_add):
    // it is the guest's access that died, with the VMM's death observed on it (issue 20, item 4).
    expect(lines[lines.length - 1]).toBe('guest-mmio-read 0xc0000008 len=1 => vmm-exit=signaled status=135 exit-signal=SIGBUS');
    expect(lines).toContain('guest-cfg-write 0xcc len=2 val=0x0003');
  });
});
