// The VMM versions table is data: ids, order for bisect, and the switches that tell versions apart.
import { describe, expect, it } from 'vitest';
import { VMM_ORDER, VMM_VERSIONS, findVmmVersion, vmmVersionIds } from '../../../src/model/versions/vmm.js';

describe('vmm versions table', () => {
  it('has every version of the brief, each with a source', () => {
    expect(vmmVersionIds()).toEqual([
      'qemu-7.2',
      'qemu-10.0',
      'openvmm-3248',
      'openvmm-3336',
      'openvmm-3609',
      'openvmm-3751',
      'cloud-hypervisor',
    ]);
    for (const v of VMM_VERSIONS) expect(v.source.length).toBeGreaterThan(10);
  });

  it('bisect order lists exist per family and name known versions only', () => {
    expect(VMM_ORDER.qemu).toEqual(['qemu-7.2', 'qemu-10.0']);
    expect(VMM_ORDER.openvmm).toEqual(['openvmm-3248', 'openvmm-3336', 'openvmm-3609', 'openvmm-3751']);
    for (const id of [...VMM_ORDER.qemu, ...VMM_ORDER.openvmm]) expect(findVmmVersion(id)).toBeDefined();
  });

  it('adjacent versions differ in at least one switch (otherwise bisect cannot tell them apart)', () => {
    for (const order of Object.values(VMM_ORDER)) {
      for (let i = 1; i < order.length; i++) {
        const a = findVmmVersion(order[i - 1])!.switches;
        const b = findVmmVersion(order[i])!.switches;
        expect(JSON.stringify(a)).not.toBe(JSON.stringify(b));
      }
    }
  });

  it('the switches that define the #3609 bug and its fix', () => {
    expect(findVmmVersion('openvmm-3248')!.switches.directMapBars).toBe(false);
    expect(findVmmVersion('openvmm-3336')!.switches).toMatchObject({ directMapBars: true, unmapWhenNotD0: false });
    expect(findVmmVersion('openvmm-3609')!.switches).toMatchObject({ unmapWhenNotD0: true, pmcsr: 'openvmm-intercept' });
    expect(findVmmVersion('openvmm-3751')!.switches).toMatchObject({ partialConfigWrite: 'byte-enables', dropPmcsrWithoutStateBits: true });
    expect(findVmmVersion('qemu-7.2')!.switches.unmapWhenNotD0).toBe(false);
    expect(findVmmVersion('qemu-10.0')!.switches).toMatchObject({ unmapWhenNotD0: true, rejectBadPmTransitions: true, forceD0BeforeReset: true });
    expect(findVmmVersion('cloud-hypervisor')!.switches).toMatchObject({ unmapOnMseClear: false, unmapWhenNotD0: false });
  });
});

describe('createVmmModel', () => {
  it('rejects an unknown version id with a UserError naming the known ones', async () => {
    const { createVmmModel } = await import('../../../src/model/vmm/index.js');
    const { createKernelModel } = await import('../../../src/model/kernel/index.js');
    const { UserError } = await import('../../../src/errors.js');
    const { memOnlyE1000e } = await import('./rig.js');
    const d = memOnlyE1000e();
    const k = createKernelModel(d, 'linux-6.19');
    expect(() => createVmmModel(k, d, 'qemu-9.9', 'kvm')).toThrow(UserError);
    expect(() => createVmmModel(k, d, 'qemu-9.9', 'kvm')).toThrow(/known: qemu-7.2, qemu-10.0/);
  });
});
