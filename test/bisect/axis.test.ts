import { describe, expect, it } from 'vitest';
import { chooseAxis, shortId } from '../../src/bisect/axis.js';
import { modelCatalog } from '../../src/bisect/catalog.js';
import { UserError } from '../../src/errors.js';

const cat = modelCatalog();
const ids = (sel: Parameters<typeof chooseAxis>[1]) => chooseAxis(cat, sel).ids;

describe('chooseAxis over the model version tables', () => {
  it('--kernel-range enters a stable branch like a series, and cannot leave it', () => {
    expect(ids({ kernelRange: 'linux-5.8..linux-5.10.50' })).toEqual(['linux-5.8', 'linux-5.9', 'linux-5.10', 'linux-5.10.3', 'linux-5.10.4', 'linux-5.10.19', 'linux-5.10.20', 'linux-5.10.31', 'linux-5.10.32', 'linux-5.10.49', 'linux-5.10.50']);
    expect(ids({ kernelRange: 'linux-5.9.8..linux-5.9.9' })).toEqual(['linux-5.9.8', 'linux-5.9.9']);
    expect(ids({ series: 'linux-5.8.y' })).toEqual(['linux-5.8', 'linux-5.8.2', 'linux-5.8.3', 'linux-5.8.16', 'linux-5.8.17']);
    expect(() => ids({ kernelRange: 'linux-5.10.50..linux-5.14' })).toThrow(/cannot leave/);
  });

  it('--series: the base release, then every version', () => {
    expect(chooseAxis(cat, { series: 'barmap-at-enable' })).toEqual({
      axis: 'kernel',
      ids: ['linux-7.0', 'barmap-at-enable@v1', 'barmap-at-enable@v2', 'barmap-at-enable@v3', 'barmap-at-enable@v4', 'barmap-at-enable@v5'],
      label: 'series barmap-at-enable (base linux-7.0)',
    });
    expect(ids({ series: 'dmabuf-unmappable-bars' })).toEqual(['linux-7.0', 'dmabuf-unmappable-bars@v1', 'dmabuf-unmappable-bars@v2']);
  });

  it('--kernel-range between releases follows release order', () => {
    expect(ids({ kernelRange: 'linux-5.7..linux-7.2' })).toEqual([
      'linux-5.7',
      'linux-5.8',
      'linux-5.9',
      'linux-5.10',
      'linux-5.14',
      'linux-5.15',
      'linux-5.19',
      'linux-6.1',
      'linux-6.6',
      'linux-6.12',
      'linux-6.19',
      'linux-7.0',
      'linux-7.0.11',
      'linux-7.1',
      'linux-7.2',
    ]);
  });

  it('--kernel-range into a series walks to its base, then along the series', () => {
    expect(ids({ kernelRange: 'linux-5.7..block-disabled-mmio@v3' })).toEqual([
      'linux-5.7',
      'block-disabled-mmio@v1',
      'block-disabled-mmio@v2',
      'block-disabled-mmio@v3',
    ]);
    expect(ids({ kernelRange: 'linux-6.19..barmap-at-enable@v2' })).toEqual(['linux-6.19', 'linux-7.0', 'barmap-at-enable@v1', 'barmap-at-enable@v2']);
    expect(ids({ kernelRange: 'barmap-at-enable@v2..barmap-at-enable@v4' })).toEqual([
      'barmap-at-enable@v2',
      'barmap-at-enable@v3',
      'barmap-at-enable@v4',
    ]);
  });

  it('--kernel-range with --series splices the series in after its base', () => {
    expect(ids({ kernelRange: 'linux-5.7..linux-5.8', series: 'block-disabled-mmio' })).toEqual([
      'linux-5.7',
      'block-disabled-mmio@v1',
      'block-disabled-mmio@v2',
      'block-disabled-mmio@v3',
      'linux-5.8',
    ]);
  });

  it('refuses ranges that leave a series, run backwards, or miss the series base', () => {
    expect(() => ids({ kernelRange: 'barmap-at-enable@v2..linux-7.2' })).toThrow(/cannot leave patch series 'barmap-at-enable'/);
    expect(() => ids({ kernelRange: 'linux-7.2..linux-5.7' })).toThrow(/comes after/);
    expect(() => ids({ kernelRange: 'linux-7.1..barmap-at-enable@v2' })).toThrow(/based on linux-7.0, which comes before/);
    expect(() => ids({ kernelRange: 'linux-6.1..linux-6.19', series: 'barmap-at-enable' })).toThrow(/base linux-7.0 is not in the range/);
    expect(() => ids({ kernelRange: 'linux-5.7' })).toThrow(/expected FROM..TO/);
    expect(() => ids({ kernelRange: 'linux-5.7..linux-9.9' })).toThrow(UserError);
  });

  it('--versions keeps the given order, expands @vN, infers the axis', () => {
    expect(chooseAxis(cat, { versions: 'linux-7.0,barmap-at-enable@v1,@v2,@v5' })).toMatchObject({
      axis: 'kernel',
      ids: ['linux-7.0', 'barmap-at-enable@v1', 'barmap-at-enable@v2', 'barmap-at-enable@v5'],
    });
    expect(chooseAxis(cat, { versions: 'openvmm-3336,qemu-10.0' })).toMatchObject({ axis: 'vmm', ids: ['openvmm-3336', 'qemu-10.0'] });
    expect(() => ids({ versions: 'linux-7.0,qemu-10.0' })).toThrow(/mixes kernel and VMM/);
    expect(() => ids({ versions: 'linux-7.0,@v2' })).toThrow(/needs a series version before it/);
    expect(() => ids({ versions: 'linux-7.0,linux-7.0' })).toThrow(/listed twice/);
    expect(() => ids({ versions: 'linux-4.4' })).toThrow(/unknown version 'linux-4.4'/);
  });

  it('the VMM axis: a range inside one family, or a whole family', () => {
    expect(chooseAxis(cat, { vmmRange: 'qemu-7.2..qemu-10.0' })).toMatchObject({ axis: 'vmm', ids: ['qemu-7.2', 'qemu-10.0'] });
    expect(ids({ vmmFamily: 'openvmm' })).toEqual(['openvmm-3248', 'openvmm-3336', 'openvmm-3609', 'openvmm-3751']);
    expect(ids({ vmmRange: 'openvmm-3336..openvmm-3751' })).toEqual(['openvmm-3336', 'openvmm-3609', 'openvmm-3751']);
    expect(ids({ vmmFamily: 'cloud-hypervisor' })).toEqual(['cloud-hypervisor']);
    expect(() => ids({ vmmRange: 'qemu-7.2..openvmm-3609' })).toThrow(/different VMMs/);
    expect(() => ids({ vmmFamily: 'xen' })).toThrow(/unknown VMM family 'xen'/);
  });

  it('exactly one list', () => {
    expect(() => ids({})).toThrow(/say which versions to bisect/);
    expect(() => ids({ series: 'barmap-at-enable', vmmFamily: 'qemu' })).toThrow(/one list/);
    expect(() => ids({ versions: 'linux-7.0', kernelRange: 'linux-5.7..linux-5.8' })).toThrow(/one list/);
  });
});

describe('shortId', () => {
  it('abbreviates a series version after another of the same series', () => {
    expect(shortId('barmap-at-enable@v3', 'barmap-at-enable@v2')).toBe('@v3');
    expect(shortId('barmap-at-enable@v1', 'linux-7.0')).toBe('barmap-at-enable@v1');
    expect(shortId('linux-7.1', 'linux-7.0')).toBe('linux-7.1');
  });
});
