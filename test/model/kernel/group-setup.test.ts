// One test per group/container set-up rule (src/model/kernel/group-setup.ts), named after it.
// The model's device is the e1000e helper's: 0000:00:03.0 in IOMMU group 3.
import { describe, expect, it } from 'vitest';
import { VFIO_SETUP, type HostEvent } from '../../../src/trace/types.js';
import type { VfioPciKernelModel } from '../../../src/model/kernel/index.js';
import { cfgr, err, expectStep, model, ok, run } from './helpers.js';

const BDF = '0000:00:03.0';
const GROUP = 3;
const openContainer = (fd = 5): HostEvent => ({ kind: 'vfio-open', fd, container: true, group: 0 });
const openGroup = (fd = 6, group = GROUP): HostEvent => ({ kind: 'vfio-open', fd, container: false, group });
const closeFd = (fd: number): HostEvent => ({ kind: 'vfio-close', fd });
const cOp = (request: number, arg = 0, fd = 5): HostEvent => ({ kind: 'ioctl', op: 'container-op', fd, request, arg });
const gOp = (request: number, containerFd = 0, fd = 6): HostEvent => ({ kind: 'ioctl', op: 'group-op', fd, request, containerFd });
const getFd = (name = BDF, fd = 6): HostEvent => ({ kind: 'ioctl', op: 'get-device-fd', fd, name });
const setContainer = (c = 5, g = 6): HostEvent => gOp(VFIO_SETUP.GROUP_SET_CONTAINER, c, g);
const setIommu = (type = 3): HostEvent => cOp(VFIO_SETUP.SET_IOMMU, type);

/** Container fd 5 and group fd 6 opened; `steps` more set-up done: 1 = SET_CONTAINER, 2 = + SET_IOMMU. */
function setUp(version: string, steps: 0 | 1 | 2): VfioPciKernelModel {
  const m = model(version);
  run(m, openContainer());
  run(m, openGroup());
  if (steps >= 1) run(m, setContainer());
  if (steps >= 2) run(m, setIommu());
  return m;
}

describe('container', () => {
  it('container.open', () => {
    expectStep(run(model('linux-6.12'), openContainer(9)), { kind: 'ok', ret: 9n }, 'container.open');
  });
  it('container.api-version', () => {
    expectStep(run(setUp('linux-6.12', 0), cOp(VFIO_SETUP.GET_API_VERSION)), { kind: 'ok', ret: 0n }, 'container.api-version');
  });
  it('container.check-extension', () => {
    const m = setUp('linux-6.12', 0);
    expectStep(run(m, cOp(VFIO_SETUP.CHECK_EXTENSION, 3)), { kind: 'ok', ret: 1n }, 'container.check-extension');
    expectStep(run(m, cOp(VFIO_SETUP.CHECK_EXTENSION, 2)), { kind: 'ok', ret: 0n }, 'container.check-extension');
  });
  it('container.set-iommu', () => {
    const m = setUp('linux-6.12', 1);
    expectStep(run(m, setIommu(1)), { kind: 'ok', ret: 0n }, 'container.set-iommu');
  });
  it('container.set-iommu.no-group', () => {
    expectStep(run(setUp('linux-6.12', 0), setIommu()), err('EINVAL'), 'container.set-iommu.no-group');
  });
  it('container.set-iommu.already-set', () => {
    expectStep(run(setUp('linux-6.12', 2), setIommu()), err('EINVAL'), 'container.set-iommu.already-set');
  });
  it('container.set-iommu.no-driver', () => {
    // VFIO_SPAPR_TCE_IOMMU (2): no x86 driver takes it.
    expectStep(run(setUp('linux-6.12', 1), setIommu(2)), err('ENODEV'), 'container.set-iommu.no-driver');
  });
  it('container.set-iommu.type-not-modeled', () => {
    expectStep(run(setUp('linux-6.12', 1), setIommu(8)), { kind: 'unsupported' }, 'container.set-iommu.type-not-modeled');
  });
  it('container.set-iommu.implicit', () => {
    // A container fd the trace never showed opened (strace attached late): taken as set up.
    expectStep(run(model('linux-6.12'), setIommu()), { kind: 'ok', ret: 0n }, 'container.set-iommu.implicit');
  });
  it('container.ioctl.not-modeled', () => {
    expectStep(run(setUp('linux-6.12', 0), cOp(0x3b70)), { kind: 'unsupported' }, 'container.ioctl.not-modeled');
  });
  it('container.close', () => {
    const m = setUp('linux-6.12', 2);
    expectStep(run(m, closeFd(5)), { kind: 'ok', ret: 0n }, 'container.close');
    // The attached group still holds the container (and its IOMMU): the device opens.
    expectStep(run(m, getFd()), { kind: 'ok' }, 'core.open.enable');
  });
});

describe('group', () => {
  it('group.open', () => {
    expectStep(run(model('linux-6.12'), openGroup(6)), { kind: 'ok', ret: 6n }, 'group.open');
  });
  it('group.open.busy', () => {
    expectStep(run(setUp('linux-6.12', 0), openGroup(7)), err('EBUSY'), 'group.open.busy');
  });
  it('group.open.busy-held-by-device', () => {
    const m = setUp('linux-6.12', 2);
    run(m, getFd());
    run(m, closeFd(6));
    expectStep(run(m, openGroup(6)), err('EBUSY'), 'group.open.busy-held-by-device');
    // Once the device file goes, the group file is released with it and opens again.
    run(m, { kind: 'close' });
    expectStep(run(m, openGroup(6)), { kind: 'ok', ret: 6n }, 'group.open');
    // ... and its release took the container's last group: no IOMMU any more.
    expectStep(run(m, getFd()), err('EINVAL'), 'group.get-device-fd.no-iommu');
  });
  it('group.open.held-unknown', () => {
    const m = setUp('linux-5.14', 2);
    run(m, getFd());
    run(m, closeFd(6));
    expectStep(run(m, openGroup(6)), { kind: 'unsupported' }, 'group.open.held-unknown');
  });
  it('group.close.untracked', () => {
    expectStep(run(model('linux-6.12'), closeFd(6)), { kind: 'ok', ret: 0n }, 'group.close.untracked');
  });
  it('group.close.held-by-device', () => {
    const m = setUp('linux-6.12', 2);
    run(m, getFd());
    expectStep(run(m, closeFd(6)), { kind: 'ok', ret: 0n }, 'group.close.held-by-device');
    // The device keeps working: its group and container are still attached.
    expectStep(run(m, cfgr(0x00, 2)), ok, 'config.read');
  });
  it('group.close.held-unknown', () => {
    const m = setUp('linux-5.14', 2);
    run(m, getFd());
    expectStep(run(m, closeFd(6)), { kind: 'unsupported' }, 'group.close.held-unknown');
  });
  it('group.close.releases', () => {
    const m = setUp('linux-6.12', 2);
    expectStep(run(m, closeFd(6)), { kind: 'ok', ret: 0n }, 'group.close.releases');
    run(m, openGroup(6));
    // The container lost its only group and with it the IOMMU driver: SET_CONTAINER, then SET_IOMMU again.
    run(m, setContainer());
    expectStep(run(m, getFd()), err('EINVAL'), 'group.get-device-fd.no-iommu');
    expectStep(run(m, setIommu()), { kind: 'ok', ret: 0n }, 'container.set-iommu');
  });
  it('group.ioctl.implicit', () => {
    expectStep(run(model('linux-6.12'), gOp(VFIO_SETUP.GROUP_GET_STATUS)), { kind: 'ok', ret: 0n }, 'group.ioctl.implicit');
  });
  it('group.ioctl.not-modeled', () => {
    expectStep(run(setUp('linux-6.12', 0), gOp(0x3b6b)), { kind: 'unsupported' }, 'group.ioctl.not-modeled');
  });
  it('group.get-status', () => {
    expectStep(run(setUp('linux-6.12', 0), gOp(VFIO_SETUP.GROUP_GET_STATUS)), { kind: 'ok', ret: 0n }, 'group.get-status');
  });
  it('group.set-container', () => {
    expectStep(run(setUp('linux-6.12', 0), setContainer()), { kind: 'ok', ret: 0n }, 'group.set-container');
  });
  it('group.set-container.already-set', () => {
    expectStep(run(setUp('linux-6.12', 1), setContainer()), err('EINVAL'), 'group.set-container.already-set');
  });
  it('group.set-container.implicit-container', () => {
    const m = model('linux-6.12');
    run(m, openGroup());
    expectStep(run(m, setContainer(9)), { kind: 'ok', ret: 0n }, 'group.set-container.implicit-container');
    // The unseen container is taken as having its IOMMU driver.
    expectStep(run(m, getFd()), { kind: 'ok' }, 'core.open.enable');
  });
  it('group.set-container.not-container', () => {
    const m = model('linux-6.12');
    run(m, openGroup(6));
    run(m, openGroup(7, 4));
    expectStep(run(m, setContainer(7)), { kind: 'unsupported' }, 'group.set-container.not-container');
  });
  it('group.unset-container', () => {
    const m = setUp('linux-6.12', 2);
    expectStep(run(m, gOp(VFIO_SETUP.GROUP_UNSET_CONTAINER)), { kind: 'ok', ret: 0n }, 'group.unset-container');
    expectStep(run(m, getFd()), err('EINVAL'), 'group.get-device-fd.no-iommu');
  });
  it('group.unset-container.none', () => {
    expectStep(run(setUp('linux-6.12', 0), gOp(VFIO_SETUP.GROUP_UNSET_CONTAINER)), err('EINVAL'), 'group.unset-container.none');
  });
  it('group.unset-container.busy', () => {
    const m = setUp('linux-6.12', 2);
    run(m, getFd());
    expectStep(run(m, gOp(VFIO_SETUP.GROUP_UNSET_CONTAINER)), err('EBUSY'), 'group.unset-container.busy');
  });
});

describe('GET_DEVICE_FD', () => {
  it('group.get-device-fd', () => {
    // Passing the set-up checks is the device's open: the open's own rule and effects.
    const m = setUp('linux-6.12', 2);
    expectStep(run(m, getFd(BDF)), ok, 'core.open.enable');
    expect(m.view.isOpen).toBe(true);
    // A VF token in the name goes to the open's token check (sriov.ts): this function is no VF or PF.
    expectStep(run(setUp('linux-6.12', 2), getFd(`${BDF} vf_token=00000000-0000-0000-0000-000000000000`)), err('EINVAL'), 'open.vf-token.not-sriov-einval');
  });
  it('group.get-device-fd.implicit-setup', () => {
    // No set-up events (the trace starts later): the group fd is taken as ready, as `open` is.
    const m = model('linux-6.12');
    expectStep(run(m, getFd()), ok, 'core.open.enable');
    expect(m.view.isOpen).toBe(true);
  });
  it('group.get-device-fd.no-iommu', () => {
    const m = setUp('linux-6.12', 0);
    expectStep(run(m, getFd()), err('EINVAL'), 'group.get-device-fd.no-iommu');
    run(m, setContainer());
    expectStep(run(m, getFd()), err('EINVAL'), 'group.get-device-fd.no-iommu');
    // Nothing was opened: the next successful GET_DEVICE_FD is the first open.
    expect(m.view.isOpen).toBe(false);
    run(m, setIommu());
    expectStep(run(m, getFd()), ok, 'core.open.enable');
  });
  it('group.get-device-fd.name-unknown', () => {
    // strace alone shows the name as a pointer: where the name decides, nothing is predicted, and
    // nothing is opened (the importer names a call that returned the device fd after the device).
    const m = setUp('linux-6.12', 2);
    expectStep(run(m, getFd('')), { kind: 'unsupported' }, 'group.get-device-fd.name-unknown');
    expect(m.view.isOpen).toBe(false);
    // 6.x looks the name up before the container check: the EINVAL depends on the name too.
    expectStep(run(setUp('linux-6.1', 0), getFd('')), { kind: 'unsupported' }, 'group.get-device-fd.name-unknown');
    // 5.x checks the container first: EINVAL whatever the name.
    expectStep(run(setUp('linux-5.14', 0), getFd('')), err('EINVAL'), 'group.get-device-fd.no-iommu');
    expectStep(run(setUp('linux-6.12', 2), getFd(BDF)), ok, 'core.open.enable');
  });
  it('group.get-device-fd.no-such-device', () => {
    expectStep(run(setUp('linux-6.12', 2), getFd('vfio-device')), err('ENODEV'), 'group.get-device-fd.no-such-device');
    // The traced device opened through another group: it is not in that one.
    const m = model('linux-6.12');
    run(m, openContainer());
    run(m, openGroup(6, 4));
    run(m, setContainer());
    run(m, setIommu());
    expectStep(run(m, getFd()), err('ENODEV'), 'group.get-device-fd.no-such-device');
    // Both checks fail: 6.x looks the name up first (ENODEV), 5.x checks the container first (EINVAL).
    expectStep(run(setUp('linux-6.1', 0), getFd('x')), err('ENODEV'), 'group.get-device-fd.no-such-device');
    expectStep(run(setUp('linux-5.14', 0), getFd('x')), err('EINVAL'), 'group.get-device-fd.no-iommu');
  });
  it('group.get-device-fd.other-device', () => {
    expectStep(run(setUp('linux-6.12', 2), getFd('0000:00:04.0')), { kind: 'unsupported' }, 'group.get-device-fd.other-device');
  });
  it('group.get-device-fd.order-unknown', () => {
    expectStep(run(setUp('linux-5.19', 0), getFd('x')), { kind: 'unsupported' }, 'group.get-device-fd.order-unknown');
  });
  it('core.ioctl.setup-not-device', async () => {
    // The device-ioctl dispatcher never gets a set-up op (index.ts routes them); if it did, it says so.
    const { ioctl } = await import('../../../src/model/kernel/core.js');
    const m = model('linux-6.12');
    const s = ioctl(m.k, { op: 'get-device-fd', fd: 6, name: BDF }, { seq: 0n, tsNs: 0n, tid: 0, overlap: 0 });
    expectStep(s, { kind: 'unsupported' }, 'core.ioctl.setup-not-device');
  });
});
