// Each seed's version list bisects to the version its mailing-list thread names as the change,
// through the real kernel model (no stand-ins): the Done-when of the bisect issue.
import { describe, expect, it } from 'vitest';
import { bisectTrace } from '../../src/bisect/index.js';
import { reportText } from '../../src/bisect/render.js';
import { loadTrace } from '../../src/trace/index.js';

const SEEDS = 'traces/seeds';
const seed = async (path: string) => ({ trace: await loadTrace(`${SEEDS}/${path}`), file: `${SEEDS}/${path}` });

describe('seed bisections', () => {
  it('seed 001 (DMABUF export of a non_mappable_bars BAR): dmabuf-unmappable-bars -> v1', async () => {
    const { trace, file } = await seed('001-dmabuf-unmappable-bar/dmabuf-unmappable-bar.txt');
    const { report } = bisectTrace(trace, file, { series: 'dmabuf-unmappable-bars' });
    expect(report.versions).toEqual(['linux-7.0', 'dmabuf-unmappable-bars@v1', 'dmabuf-unmappable-bars@v2']);
    expect(report.result).toMatchObject({ kind: 'changed', firstNew: 1 });
    const t = report.transition!;
    expect(t.event?.index).toBe(4); // the export itself
    expect(t.event?.before?.outcome).toMatch(/^ok/);
    expect(t.event?.after?.outcome).toBe('-EINVAL');
    expect(t.switches.map((s) => s.name)).toContain('dmabufRefusesUnmappable');
  });

  it('seed 001: v1 and v2 refuse with the same outcome by different rules (no change between them)', async () => {
    const { trace, file } = await seed('001-dmabuf-unmappable-bar/dmabuf-unmappable-bar.txt');
    const { report } = bisectTrace(trace, file, { versions: 'dmabuf-unmappable-bars@v1,@v2' });
    expect(report.result.kind).toBe('no-change');
  });

  it('seed 003 (export of an unreserved BAR): barmap-at-enable -> v2, the version that added the DMABUF resource check', async () => {
    const { trace, file } = await seed('003-barmap-at-enable/export-unreserved-bar.txt');
    const exportAt = trace.events.findIndex((e) => e.kind === 'ioctl' && e.op === 'dma-buf');
    // "When did exporting this BAR start failing -ENODEV?" (v1 fails open, so the export gets -EBADF there: not yet -ENODEV).
    const { report } = bisectTrace(trace, file, { series: 'barmap-at-enable', event: exportAt, new: 'ENODEV' });
    expect(report.result).toMatchObject({ kind: 'changed', firstNew: report.versions.indexOf('barmap-at-enable@v2') });
    expect(report.transition?.event?.after?.outcome).toBe('-ENODEV');
    expect(report.transition?.switches.map((s) => s.name)).toContain('dmabufChecksBarResource');
    // With both terms, v1 (neither ok nor -ENODEV) is skipped: the change is in {v1, v2}, and bisect says so.
    const both = bisectTrace(trace, file, { series: 'barmap-at-enable', event: exportAt, old: 'ok', new: 'ENODEV' }).report;
    expect(both.result).toMatchObject({ kind: 'ambiguous', candidates: [1, 2], skipped: [1] });
  });

  it('seed 003 (resource-busy BAR): v1 fails open and v2 undoes it; the ends agree, --all shows the flip-flop', async () => {
    const { trace, file } = await seed('003-barmap-at-enable/resource-busy-bar.txt');
    const halving = bisectTrace(trace, file, { series: 'barmap-at-enable' });
    expect(halving.report.result).toMatchObject({ kind: 'no-change', lo: 0, hi: 5 });
    expect(halving.report.replays).toBe(2);
    expect(reportText(halving.report, halving.context, false)).toContain('--all shows changes that revert in between');
    const all = bisectTrace(trace, file, { series: 'barmap-at-enable', all: true }).report;
    expect(all.result).toMatchObject({ kind: 'changed', firstNew: 1 });
    expect(all.transition?.event?.index).toBe(0);
    expect(all.transition?.event?.after?.outcome).toBe('-EBUSY');
    expect(all.table?.groups.map((g) => [g.from, g.to])).toEqual([
      ['linux-7.0', 'linux-7.0'],
      ['barmap-at-enable@v1', 'barmap-at-enable@v1'],
      ['barmap-at-enable@v2', 'barmap-at-enable@v5'],
    ]);
  });

  it('seed 004 (MSE cleared with live mappings): linux-5.7..linux-5.8 plus block-disabled-mmio -> v1', async () => {
    const { trace, file } = await seed('004-mse-live-mappings/mse-live-mappings.txt');
    const { report } = bisectTrace(trace, file, { kernelRange: 'linux-5.7..linux-5.8', series: 'block-disabled-mmio', vmm: 'none' });
    expect(report.versions).toEqual(['linux-5.7', 'block-disabled-mmio@v1', 'block-disabled-mmio@v2', 'block-disabled-mmio@v3', 'linux-5.8']);
    expect(report.result).toMatchObject({ kind: 'changed', lastOld: 0, firstNew: 1 });
    expect(report.transition?.switches.map((s) => s.name)).toContain('blockDisabledMmio');
  });

  it('seed 004 --all: before 5.8 the racing fault may reach the disabled device; from v1 on it may SIGBUS', async () => {
    const { trace, file } = await seed('004-mse-live-mappings/mse-live-mappings.txt');
    const { report, context } = bisectTrace(trace, file, { kernelRange: 'linux-5.7..linux-5.8', series: 'block-disabled-mmio', vmm: 'none', all: true });
    expect(report.replays).toBe(5);
    // v1 (SIGBUS on contention) and v2 (waits) give the racing fault the same set of outcomes over
    // all interleavings: they differ only in which interleaving SIGBUSes (the rules show it).
    expect(report.table?.groups.map((g) => [g.from, g.to])).toEqual([
      ['linux-5.7', 'linux-5.7'],
      ['block-disabled-mmio@v1', 'linux-5.8'],
    ]);
    const racing = trace.events.findIndex((e) => e.overlap !== 0 && e.kind === 'mem-read');
    expect(racing).toBeGreaterThan(0);
    const outcomes = report.table!.groups.map((g) => g.events.find((e) => e.index === racing)?.outcome);
    expect(outcomes[0]).toBe('may: HAZARD memory decode disabled (COMMAND.MEM=0) | ok');
    expect(outcomes[1]).toBe('may: SIGBUS BUS_ADRERR | ok');
    expect(reportText(report, context, false)).toContain('block-disabled-mmio@v1..linux-5.8');
  });

  it('seed 000 (reset from D3hot): no change across bar-zap-cleanup v2..v3', async () => {
    const { trace, file } = await seed('000-reset-from-d3hot/reset-from-d3hot.txt');
    const { report, context } = bisectTrace(trace, file, { kernelRange: 'bar-zap-cleanup@v2..bar-zap-cleanup@v3' });
    expect(report.result).toEqual({ kind: 'no-change', lo: 0, hi: 1, skipped: [] });
    expect(report.replays).toBe(2);
    // The reset's rule differs (zap-then-d0 vs d0-then-zap) but nothing a user can see does.
    expect(report.lineOnlyDifference?.index).toBe(6);
    const exact = bisectTrace(trace, file, { kernelRange: 'bar-zap-cleanup@v2..bar-zap-cleanup@v3', exact: true }).report;
    expect(exact.result).toMatchObject({ kind: 'changed', firstNew: 1 });
    expect(exact.transition?.rule).toEqual({ before: 'core.reset.zap-then-d0', after: 'core.reset.d0-then-zap' });
    expect(reportText(report, context, false)).toContain('no change: bar-zap-cleanup@v2 and bar-zap-cleanup@v3 agree');
  });
});
