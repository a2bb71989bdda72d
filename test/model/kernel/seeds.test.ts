// The seed scenarios run over their series' versions: the version-by-version outcome tables.
import { describe, expect, it } from 'vitest';
import type { EventMeta, HostEvent } from '../../../src/trace/types.js';
import { KERNEL_SERIES } from '../../../src/model/versions.js';
import { renderEffect, renderOutcome } from '../../../src/model/outcome.js';
import type { E1000eOverrides } from '../../../src/model/devices/e1000e.js';
import { BAR0_ADDR, cfgw, model, run } from './helpers.js';

type Ev = [HostEvent, Partial<EventMeta>?];

/** Outcome (and effects) of every event of `events` under `version`. */
function table(version: string, events: Ev[], dev: E1000eOverrides = {}, withEffects = false): string[] {
  const m = model(version, dev);
  return events.map(([e, mm]) => {
    const s = run(m, e, mm ?? {});
    const eff = s.effects.map(renderEffect).join(' ');
    return withEffects && eff ? `${renderOutcome(s.outcome)} ${eff}` : renderOutcome(s.outcome);
  });
}

const open: Ev = [{ kind: 'open' }];
const mse = (on: boolean, mm: Partial<EventMeta> = {}): Ev => [cfgw(0x04, on ? 0x0006 : 0x0004), mm];
const mmap0: Ev = [{ kind: 'mmap', region: 0, offset: 0n, length: 0x20000n, prot: 3, addr: BAR0_ADDR }];
const load = (mm: Partial<EventMeta> = {}): Ev => [{ kind: 'mem-read', bar: 0, offset: 0x8n, len: 4 }, mm];
const pread = (bar: number, mm: Partial<EventMeta> = {}): Ev => [{ kind: 'region-read', region: bar, offset: 0n, len: 4 }, mm];

describe('seed 000: VFIO_DEVICE_RESET from D3hot with live mappings (bar-zap-cleanup)', () => {
  const events: Ev[] = [open, mse(true), mmap0, load(), [cfgw(0xcc, 0x0003)], load(), [{ kind: 'ioctl', op: 'reset' }], load(), pread(0)];
  it('gives the same outcomes and effects in v2 and v3 (zap is a no-op once D3hot zapped)', () => {
    const versions = KERNEL_SERIES['bar-zap-cleanup']!;
    const rows = Object.fromEntries(versions.map((v) => [v, table(v, events, {}, true)]));
    const expected = [
      'ok ret=0 reset(pm)',
      'ok ret=2',
      `ok ret=${BAR0_ADDR}`,
      'ok populate(bar0) device(bar0+0x8)',
      'ok ret=2 zap(bar0) power(D0->D3hot)',
      'SIGBUS BUS_ADRERR',
      'ok ret=0 power(D3hot->D0) reset(pm)',
      'ok populate(bar0) device(bar0+0x8)',
      'ok ret=4 device(bar0+0x0)',
    ];
    expect(rows).toEqual({ 'linux-7.1': expected, 'bar-zap-cleanup@v2': expected, 'bar-zap-cleanup@v3': expected });
  });
});

describe('seed 001: DMABUF export of a non_mappable_bars BAR (dmabuf-unmappable-bars)', () => {
  const events: Ev[] = [
    open,
    mse(true),
    [{ kind: 'ioctl', op: 'get-region-info', index: 0, argsz: 32 }],
    mmap0,
    [{ kind: 'ioctl', op: 'dma-buf', flags: 0x1000b, regionIndex: 0, openFlags: 2, dmaBufFlags: 0, ranges: [{ offset: 0n, length: 0x1000n }] }, { observed: { ret: 9n } }],
  ];
  it('exports an fd before the fix and -EINVAL in v1 and v2', () => {
    const rows = Object.fromEntries(KERNEL_SERIES['dmabuf-unmappable-bars']!.map((v) => [v, table(v, events, { quirks: { nonMappableBars: true } })]));
    // The region info of BAR0: 32 bytes, shown as its first 8, the rest's length and a digest.
    const info = 'ok ret=0 data=2000000003000000+24#c6d316a4';
    expect(rows).toEqual({
      'linux-7.0': ['ok ret=0', 'ok ret=2', info, '-EINVAL', 'ok ret=9'],
      'dmabuf-unmappable-bars@v1': ['ok ret=0', 'ok ret=2', info, '-EINVAL', '-EINVAL'],
      'dmabuf-unmappable-bars@v2': ['ok ret=0', 'ok ret=2', info, '-EINVAL', '-EINVAL'],
    });
  });
});

describe('seed 003: resources and the barmap race (barmap-at-enable)', () => {
  // BAR1's resource is held by someone else; BAR3's iomap fails; two threads use BAR0 first at once;
  // then close and reopen (a region leaked by a failed iomap stays busy).
  const exportBar1: Ev = [{ kind: 'ioctl', op: 'dma-buf', flags: 0x1000b, regionIndex: 1, openFlags: 2, dmaBufFlags: 0, ranges: [{ offset: 0n, length: 0x1000n }] }, { observed: { ret: 11n } }];
  const events: Ev[] = [
    open,
    mse(true),
    pread(1),
    exportBar1,
    pread(0, { tid: 1, overlap: 1 }),
    [{ kind: 'mmap', region: 0, offset: 0n, length: 0x20000n, prot: 3, addr: BAR0_ADDR }, { tid: 2, overlap: 1 }],
    pread(3),
    [{ kind: 'munmap', addr: BAR0_ADDR, length: 0x20000n }],
    [{ kind: 'close' }],
    open,
    pread(3),
  ];
  const dev = { quirks: { resourceBusyBars: [1], iomapFailBars: [3] } };
  it('has the version-by-version table', () => {
    const rows = Object.fromEntries(KERNEL_SERIES['barmap-at-enable']!.map((v) => [v, table(v, events, dev)]));
    const mmapOk = `ok ret=${BAR0_ADDR}`;
    const enable = ['ok ret=0', 'ok ret=2'];
    expect(rows).toEqual({
      // lazy barmap: busy BAR -EBUSY on use, export of the unreserved BAR succeeds (CVE-2026-64042),
      // the second concurrent first user gets -EBUSY, a failed iomap is retried (region released).
      'linux-7.0': [...enable, '-EBUSY', 'ok ret=11', 'ok ret=4', '-EBUSY', '-ENOMEM', 'ok ret=0', 'ok ret=0', 'ok ret=0', '-ENOMEM'],
      // v1: any BAR failure fails open; everything after is on a closed fd.
      'barmap-at-enable@v1': ['-EBUSY', '-EBADF', '-EBADF', '-EBADF', '-EBADF', '-EBADF', '-EBADF', 'ok ret=0', '-EBADF', '-EBUSY', '-EBADF'],
      'barmap-at-enable@v2': [...enable, '-EBUSY', '-ENODEV', 'ok ret=4', mmapOk, '-ENOMEM', 'ok ret=0', 'ok ret=0', 'ok ret=0', '-EBUSY'],
      'barmap-at-enable@v3': [...enable, '-EBUSY', '-ENODEV', 'ok ret=4', mmapOk, '-ENOMEM', 'ok ret=0', 'ok ret=0', 'ok ret=0', '-EBUSY'],
      'barmap-at-enable@v4': [...enable, '-EBUSY', '-ENODEV', 'ok ret=4', mmapOk, '-ENOMEM', 'ok ret=0', 'ok ret=0', 'ok ret=0', '-EBUSY'],
      // v5 releases the region when iomap fails: after reopen the error is -ENOMEM again.
      'barmap-at-enable@v5': [...enable, '-EBUSY', '-ENODEV', 'ok ret=4', mmapOk, '-ENOMEM', 'ok ret=0', 'ok ret=0', 'ok ret=0', '-ENOMEM'],
    });
  });
});

describe('seed 004: MSE cleared with live mappings (linux-5.7 vs 5.8+, block-disabled-mmio)', () => {
  const events: Ev[] = [
    open,
    mse(true),
    mmap0,
    load(),
    mse(false),
    load(),
    pread(0),
    mse(true),
    load(),
    // race: a fault in flight while another thread clears MEM (memory_lock writer)
    mse(false, { tid: 1, overlap: 7 }),
    load({ tid: 2, overlap: 7 }),
  ];
  const hazard = 'HAZARD memory decode disabled (COMMAND.MEM=0)';
  const blocking = ['ok ret=0', 'ok ret=2', `ok ret=${BAR0_ADDR}`, 'ok', 'ok ret=2', 'SIGBUS BUS_ADRERR', '-EIO', 'ok ret=2', 'ok'];
  it('has the version-by-version table', () => {
    const versions = [...KERNEL_SERIES['block-disabled-mmio']!, 'linux-5.8', 'linux-6.12', 'linux-7.2'];
    const rows = Object.fromEntries(versions.map((v) => [v, table(v, events)]));
    expect(rows).toEqual({
      'linux-5.7': ['ok ret=0', 'ok ret=2', `ok ret=${BAR0_ADDR}`, 'ok', 'ok ret=2', hazard, hazard, 'ok ret=2', 'ok', 'ok ret=2', hazard],
      'block-disabled-mmio@v1': [...blocking, 'ok ret=2', 'SIGBUS BUS_ADRERR'],
      'block-disabled-mmio@v2': [...blocking, 'ok ret=2', 'blocked'],
      'block-disabled-mmio@v3': [...blocking, 'ok ret=2', 'blocked'],
      'linux-5.8': [...blocking, 'ok ret=2', 'blocked'],
      'linux-6.12': [...blocking, 'ok ret=2', 'blocked'],
      'linux-7.2': [...blocking, 'ok ret=2', 'blocked'],
    });
  });

  it('refaults after re-enable: the load after MEM is set again populates anew', () => {
    expect(table('linux-5.8', events.slice(0, 9), {}, true)[8]).toBe('ok populate(bar0) device(bar0+0x8)');
    expect(table('linux-5.7', events.slice(0, 9), {}, true)[8]).toBe('ok device(bar0+0x8)');
  });
});
