// One test per iommufd and vfio-cdev rule (src/model/kernel/iommufd.ts, cdev.ts), named after the
// rule id. Expected values follow the kernel source (6.12 ioas.c, io_pagetable.c, device_cdev.c,
// vfio_main.c; 6.19 dma-buf import) and the lab (traces/lab/6.12-iommufd).
import { describe, expect, it } from 'vitest';
import type { HostEvent, IommufdOp } from '../../../src/trace/types.js';
import type { Step } from '../../../src/model/outcome.js';
import type { VfioPciKernelModel } from '../../../src/model/kernel/index.js';
import { BAR0_ADDR, cfgw, err, expectStep, model, run } from './helpers.js';

const V = 'linux-6.12';
const RAM = 0x200000000000n;
const iofd = (op: IommufdOp): HostEvent => ({ kind: 'iommufd', ...op }) as HostEvent;
const bind = (iommufd = 5, flags = 0, argsz = 16): HostEvent => ({ kind: 'ioctl', op: 'bind-iommufd', iommufd, flags, argsz, vfToken: '' });
const attach = (ptId: number, flags = 0, argsz = 12): HostEvent => ({ kind: 'ioctl', op: 'attach-iommufd-pt', ptId, flags, argsz });
const detach = (flags = 0, argsz = 8): HostEvent => ({ kind: 'ioctl', op: 'detach-iommufd-pt', flags, argsz });
const ioasMap = (userVa: bigint, length: bigint, iova = 0n, flags = 7, ioasId = 2): HostEvent =>
  iofd({ op: 'ioas-map', ioasId, flags, userVa, length, iova });
const mapFile = (fd: number, length = 0x20000n, iova = 0x10000000n, flags = 7, start = 0n): HostEvent =>
  iofd({ op: 'ioas-map-file', ioasId: 2, flags, fd, start, length, iova });
const unmap = (iova: bigint, length: bigint): HostEvent => iofd({ op: 'ioas-unmap', ioasId: 2, iova, length });
const u64 = (s: Step) => Buffer.from((s.outcome as { data: Uint8Array }).data).readBigUInt64LE(0);
const u32 = (s: Step) => Buffer.from((s.outcome as { data: Uint8Array }).data).readUInt32LE(0);

/** /dev/iommu (fd 5) and the cdev opened; not bound. */
function cdevOpened(version = V): VfioPciKernelModel {
  const m = model(version);
  run(m, { kind: 'iommufd-open' }, { observed: { ret: 5n } });
  run(m, { kind: 'cdev-open', index: 0 }, { observed: { ret: 6n } });
  return m;
}

/** Bound (device id 1), IOAS 2 allocated, BAR0 mmapped at BAR0_ADDR; attached to IOAS 2 (HWPT 3) when `attached`. */
function bound(version = V, attached = true): VfioPciKernelModel {
  const m = cdevOpened(version);
  run(m, bind());
  run(m, iofd({ op: 'ioas-alloc', flags: 0 }));
  run(m, cfgw(0x04, 0x0006));
  run(m, { kind: 'mmap', region: 0, offset: 0n, length: 0x20000n, prot: 3, addr: BAR0_ADDR });
  if (attached) run(m, attach(2));
  return m;
}

/** bound() on 6.19 with BAR0 exported as dma-buf fd 11. */
function withDmabuf(attached = true): VfioPciKernelModel {
  const m = bound('linux-6.19', attached);
  run(m, { kind: 'ioctl', op: 'dma-buf', flags: 0x1000b, regionIndex: 0, openFlags: 2, dmaBufFlags: 0, ranges: [{ offset: 0n, length: 0x20000n }] }, { observed: { ret: 11n } });
  return m;
}

describe('iommufd: /dev/iommu', () => {
  it('iommufd.open.ok', () => expectStep(run(model(V), { kind: 'iommufd-open' }, { observed: { ret: 5n } }), { kind: 'ok', ret: 5n }, 'iommufd.open.ok'));
  it('iommufd.open.no-iommufd-enoent', () => expectStep(run(model('linux-6.1'), { kind: 'iommufd-open' }), err('ENOENT'), 'iommufd.open.no-iommufd-enoent'));
  it('iommufd.ioctl.no-context-ebadf', () => expectStep(run(model(V), iofd({ op: 'ioas-alloc', flags: 0 })), err('EBADF'), 'iommufd.ioctl.no-context-ebadf'));
  it('iommufd.ioas-alloc.ok', () => {
    const m = cdevOpened();
    const s = run(m, iofd({ op: 'ioas-alloc', flags: 0 }));
    expectStep(s, { kind: 'ok', ret: 0n }, 'iommufd.ioas-alloc.ok');
    // ids are the lowest free from 1 [S xa_alloc ALLOC1]
    expect(u32(s)).toBe(1);
    expect(u32(run(m, iofd({ op: 'ioas-alloc', flags: 0 })))).toBe(2);
    run(m, iofd({ op: 'destroy', id: 1 }));
    expect(u32(run(m, iofd({ op: 'ioas-alloc', flags: 0 })))).toBe(1);
  });
  it('iommufd.ioas-alloc.flags-eopnotsupp', () => expectStep(run(cdevOpened(), iofd({ op: 'ioas-alloc', flags: 1 })), err('EOPNOTSUPP'), 'iommufd.ioas-alloc.flags-eopnotsupp'));
  it('iommufd.object.unknown-id-enoent', () => {
    const m = bound();
    expectStep(run(m, ioasMap(RAM, 0x1000n, 0n, 7, 9)), err('ENOENT'), 'iommufd.object.unknown-id-enoent');
    // a device id is no IOAS
    expectStep(run(m, ioasMap(RAM, 0x1000n, 0n, 7, 1)), err('ENOENT'), 'iommufd.object.unknown-id-enoent');
    expectStep(run(m, iofd({ op: 'destroy', id: 42 })), err('ENOENT'), 'iommufd.object.unknown-id-enoent');
  });
  it('iommufd.ioas-iova-ranges.ok', () => {
    // without a domain the whole space is one range; with one the MSI window splits it
    expectStep(run(bound(V, false), iofd({ op: 'ioas-iova-ranges', ioasId: 2, numIovas: 1 })), { kind: 'ok' }, 'iommufd.ioas-iova-ranges.ok');
    expectStep(run(bound(), iofd({ op: 'ioas-iova-ranges', ioasId: 2, numIovas: 2 })), { kind: 'ok' }, 'iommufd.ioas-iova-ranges.ok');
  });
  it('iommufd.ioas-iova-ranges.too-small-emsgsize', () =>
    expectStep(run(bound(), iofd({ op: 'ioas-iova-ranges', ioasId: 2, numIovas: 1 })), err('EMSGSIZE'), 'iommufd.ioas-iova-ranges.too-small-emsgsize'));
});

describe('iommufd: IOAS_MAP / MAP_FILE', () => {
  it('iommufd.ioas-map.ok', () => {
    const m = bound();
    const s = run(m, ioasMap(RAM, 0x100000n, 0x0n));
    expectStep(s, { kind: 'ok', ret: 0n }, 'iommufd.ioas-map.ok');
    expect(u64(s)).toBe(0n);
    // Without FIXED_IOVA the kernel picks the first hole above PAGE_SIZE aligned to the VA's and
    // the length's alignment: 0x100000 (the first MiB is taken) [S iopt_alloc_iova].
    expect(u64(run(m, ioasMap(RAM + 0x100000n, 0x100000n, 0n, 6)))).toBe(0x100000n);
  });
  it('iommufd.ioas-map.bad-flags-eopnotsupp', () => expectStep(run(bound(), ioasMap(RAM, 0x1000n, 0n, 0x8 | 7)), err('EOPNOTSUPP'), 'iommufd.ioas-map.bad-flags-eopnotsupp'));
  it('iommufd.ioas-map.overflow-eoverflow', () => {
    expectStep(run(bound(), ioasMap(RAM, 0x1000n, (1n << 64n) - 1n)), err('EOVERFLOW'), 'iommufd.ioas-map.overflow-eoverflow');
    expectStep(run(bound(), ioasMap(RAM, 0x2000n, 0xfffffffffffff000n)), err('EOVERFLOW'), 'iommufd.ioas-map.overflow-eoverflow');
    expectStep(run(bound(), ioasMap(RAM, 1n << 63n, 0n, 6)), err('EOVERFLOW'), 'iommufd.ioas-map.overflow-eoverflow');
  });
  it('iommufd.ioas-map.no-prot-einval', () => expectStep(run(bound(), ioasMap(RAM, 0x1000n, 0n, 1)), err('EINVAL'), 'iommufd.ioas-map.no-prot-einval'));
  it('iommufd.ioas-map.zero-length-einval', () => expectStep(run(bound(), ioasMap(RAM, 0n)), err('EINVAL'), 'iommufd.ioas-map.zero-length-einval'));
  it('iommufd.ioas-map.unaligned-einval', () => {
    expectStep(run(bound(), ioasMap(RAM, 0x800n)), err('EINVAL'), 'iommufd.ioas-map.unaligned-einval');
    expectStep(run(bound(), ioasMap(RAM, 0x1000n, 0x800n)), err('EINVAL'), 'iommufd.ioas-map.unaligned-einval');
    // without a domain the IOAS alignment is 1: byte lengths are fine [S iopt_init_table]
    expectStep(run(bound(V, false), ioasMap(RAM, 0x800n, 0x800n)), { kind: 'ok' }, 'iommufd.ioas-map.ok');
  });
  it('iommufd.ioas-map.reserved-iova-einval', () =>
    expectStep(run(bound(), ioasMap(RAM, 0x2000n, 0xfeeff000n)), err('EINVAL'), 'iommufd.ioas-map.reserved-iova-einval'));
  it('iommufd.ioas-map.iova-exists-eexist', () => {
    const m = bound();
    run(m, ioasMap(RAM, 0x4000n, 0x10000n));
    expectStep(run(m, ioasMap(RAM, 0x1000n, 0x12000n)), err('EEXIST'), 'iommufd.ioas-map.iova-exists-eexist');
  });
  it('iommufd.ioas-map.no-space-enospc', () => {
    // A memfd (no VA: the alignment is the length rounded up to a power of two, 2^63 here): the
    // first fits at 2^63, the second finds no 2^63-aligned hole.
    const m = bound('linux-6.19');
    const big = 0x7000000000000000n;
    expect(run(m, mapFile(7, big, 0n, 6)).outcome.kind).toBe('ok');
    expectStep(run(m, mapFile(7, big, 0n, 6)), err('ENOSPC'), 'iommufd.ioas-map.no-space-enospc');
  });
  it('iommufd.ioas-map.bar-va-efault', () => {
    // pin_user_pages refuses the VM_PFNMAP vma, whatever the memory enable [S check_vma_flags]
    const m = bound();
    expectStep(run(m, ioasMap(BAR0_ADDR, 0x20000n, 0xfebc0000n)), err('EFAULT'), 'iommufd.ioas-map.bar-va-efault');
    // a range that starts in ordinary memory and runs into the BAR too
    expectStep(run(m, ioasMap(BAR0_ADDR - 0x1000n, 0x2000n, 0x1000000n)), err('EFAULT'), 'iommufd.ioas-map.bar-va-efault');
  });
  it('iommufd.ioas-map.bar-va-not-pinned-without-domain', () => {
    const m = bound(V, false);
    expectStep(run(m, ioasMap(BAR0_ADDR, 0x20000n, 0xfebc0000n)), { kind: 'ok' }, 'iommufd.ioas-map.bar-va-not-pinned-without-domain');
    // ... and the attach that brings the domain pins it and fails
    expectStep(run(m, attach(2)), err('EFAULT'), 'cdev.attach.bar-area-efault');
  });
  it('iommufd.ioas-map-file.unknown-ioctl-enotty', () => expectStep(run(bound(), mapFile(7)), err('ENOTTY'), 'iommufd.ioas-map-file.unknown-ioctl-enotty'));
  it('iommufd.ioas-map-file.bad-fd-ebadf', () => expectStep(run(bound('linux-6.19'), mapFile(-1)), err('EBADF'), 'iommufd.ioas-map-file.bad-fd-ebadf'));
  it('iommufd.ioas-map-file.ok', () => expectStep(run(bound('linux-6.19'), mapFile(7)), { kind: 'ok', ret: 0n }, 'iommufd.ioas-map-file.ok'));
  it('iommufd.ioas-map-file.dmabuf-ok', () => {
    const m = withDmabuf();
    expectStep(run(m, mapFile(11)), { kind: 'ok', ret: 0n }, 'iommufd.ioas-map-file.dmabuf-ok');
    expect(m.k.st.dmabufs[0]).toMatchObject({ attached: true, mapped: true });
  });
  it('iommufd.ioas-map-file.dmabuf-ranges-eopnotsupp', () => {
    const m = bound('linux-6.19');
    const ranges = [{ offset: 0n, length: 0x1000n }, { offset: 0x2000n, length: 0x1000n }];
    run(m, { kind: 'ioctl', op: 'dma-buf', flags: 0x1000b, regionIndex: 0, openFlags: 2, dmaBufFlags: 0, ranges }, { observed: { ret: 11n } });
    expectStep(run(m, mapFile(11, 0x1000n)), err('EOPNOTSUPP'), 'iommufd.ioas-map-file.dmabuf-ranges-eopnotsupp');
  });
  it('iommufd.ioas-map-file.past-dmabuf-einval', () => expectStep(run(withDmabuf(), mapFile(11, 0x21000n)), err('EINVAL'), 'iommufd.ioas-map-file.past-dmabuf-einval'));
  it('iommufd.ioas-map-file.dmabuf-revoked-enodev', () => {
    const m = withDmabuf();
    expect(run(m, mapFile(11)).outcome.kind).toBe('ok');
    run(m, cfgw(0x04, 0x0000)); // MEM clear revokes; iommufd drops the IOMMU mapping for good
    const area = m.k.st.iommufd.contexts[0]!.objects.find((o) => o.type === 'ioas');
    expect(area).toMatchObject({ areas: [{ source: 'dmabuf', revoked: true }] });
    run(m, cfgw(0x04, 0x0006)); // vfio unrevokes; iommufd's area stays revoked
    expect(area).toMatchObject({ areas: [{ source: 'dmabuf', revoked: true }] });
    run(m, cfgw(0x04, 0x0000));
    expectStep(run(m, mapFile(11, 0x20000n, 0x20000000n)), err('ENODEV'), 'iommufd.ioas-map-file.dmabuf-revoked-enodev');
    // the revoked area still unmaps, in full
    expect(u64(run(m, unmap(0x10000000n, 0x20000n)))).toBe(0x20000n);
  });
  it('iommufd.ioas-map-file.dmabuf-not-importable', () => {
    const m = withDmabuf();
    m.k.v = { ...m.k.v, iommufdDmabufImport: false };
    expectStep(run(m, mapFile(11)), { kind: 'unsupported' }, 'iommufd.ioas-map-file.dmabuf-not-importable');
  });
});

describe('iommufd: IOAS_UNMAP', () => {
  function mapped(): VfioPciKernelModel {
    const m = bound();
    run(m, ioasMap(RAM, 0x4000n, 0x10000n));
    run(m, ioasMap(RAM + 0x4000n, 0x4000n, 0x20000n));
    return m;
  }
  it('iommufd.ioas-unmap.ok', () => {
    const m = mapped();
    const s = run(m, unmap(0x0n, 0x100000n));
    expectStep(s, { kind: 'ok', ret: 0n }, 'iommufd.ioas-unmap.ok');
    expect(u64(s)).toBe(0x8000n);
  });
  it('iommufd.ioas-unmap.all', () => expect(u64(run(mapped(), unmap(0n, (1n << 64n) - 1n)))).toBe(0x8000n));
  it('iommufd.ioas-unmap.overflow-eoverflow', () => expectStep(run(mapped(), unmap(0x1000n, (1n << 64n) - 1n)), err('EOVERFLOW'), 'iommufd.ioas-unmap.overflow-eoverflow'));
  it('iommufd.ioas-unmap.zero-length-einval', () => expectStep(run(mapped(), unmap(0x10000n, 0n)), err('EINVAL'), 'iommufd.ioas-unmap.zero-length-einval'));
  it('iommufd.ioas-unmap.bisects-area-enoent', () => expectStep(run(mapped(), unmap(0x10000n, 0x1000n)), err('ENOENT'), 'iommufd.ioas-unmap.bisects-area-enoent'));
  it('iommufd.ioas-unmap.nothing-mapped-enoent', () => expectStep(run(mapped(), unmap(0x40000n, 0x1000n)), err('ENOENT'), 'iommufd.ioas-unmap.nothing-mapped-enoent'));
});

describe('iommufd: HWPT_ALLOC, DESTROY', () => {
  it('iommufd.hwpt-alloc.ok', () => {
    const m = bound(V, false);
    const s = run(m, iofd({ op: 'hwpt-alloc', flags: 0, devId: 1, ptId: 2 }));
    expectStep(s, { kind: 'ok', ret: 0n }, 'iommufd.hwpt-alloc.ok');
    expect(u32(s)).toBe(3);
    // the IOAS has a domain now: a BAR VA is refused at MAP
    expectStep(run(m, ioasMap(BAR0_ADDR, 0x20000n, 0xfebc0000n)), err('EFAULT'), 'iommufd.ioas-map.bar-va-efault');
  });
  it('iommufd.hwpt-alloc.unknown-ioctl-enotty', () => {
    const m = bound(V, false);
    m.k.v = { ...m.k.v, iommufdHwptAlloc: false };
    expectStep(run(m, iofd({ op: 'hwpt-alloc', flags: 0, devId: 1, ptId: 2 })), err('ENOTTY'), 'iommufd.hwpt-alloc.unknown-ioctl-enotty');
  });
  it('iommufd.hwpt-alloc.nested-unsupported', () =>
    expectStep(run(bound(), iofd({ op: 'hwpt-alloc', flags: 0, devId: 1, ptId: 3 })), { kind: 'unsupported' }, 'iommufd.hwpt-alloc.nested-unsupported'));
  it('iommufd.hwpt-alloc.flags-unsupported', () =>
    expectStep(run(bound(), iofd({ op: 'hwpt-alloc', flags: 2, devId: 1, ptId: 2 })), { kind: 'unsupported' }, 'iommufd.hwpt-alloc.flags-unsupported'));
  it('iommufd.hwpt-alloc.bar-area-efault', () => {
    const m = bound(V, false);
    run(m, ioasMap(BAR0_ADDR, 0x20000n, 0xfebc0000n));
    expectStep(run(m, iofd({ op: 'hwpt-alloc', flags: 0, devId: 1, ptId: 2 })), err('EFAULT'), 'iommufd.hwpt-alloc.bar-area-efault');
  });
  it('iommufd.hwpt-alloc.reserved-overlaps-area-eaddrinuse', () => {
    const m = bound(V, false);
    run(m, ioasMap(RAM, 0x100000n, 0xfee00000n));
    expectStep(run(m, iofd({ op: 'hwpt-alloc', flags: 0, devId: 1, ptId: 2 })), err('EADDRINUSE'), 'iommufd.hwpt-alloc.reserved-overlaps-area-eaddrinuse');
  });
  it('iommufd.destroy.in-use-ebusy', () => {
    const m = bound();
    expectStep(run(m, iofd({ op: 'destroy', id: 2 })), err('EBUSY'), 'iommufd.destroy.in-use-ebusy'); // IOAS with a HWPT
    expectStep(run(m, iofd({ op: 'destroy', id: 3 })), err('EBUSY'), 'iommufd.destroy.in-use-ebusy'); // attached HWPT
    expectStep(run(m, iofd({ op: 'destroy', id: 1 })), err('EBUSY'), 'iommufd.destroy.in-use-ebusy'); // bound device
  });
  it('iommufd.destroy.ok', () => {
    const m = bound();
    run(m, detach());
    // the automatic HWPT went with the detach: the IOAS is free
    expectStep(run(m, iofd({ op: 'destroy', id: 2 })), { kind: 'ok' }, 'iommufd.destroy.ok');
  });
});

describe('vfio cdev', () => {
  it('cdev.open.ok', () => {
    const m = model(V);
    expectStep(run(m, { kind: 'cdev-open', index: 0 }, { observed: { ret: 6n } }), { kind: 'ok', ret: 6n }, 'cdev.open.ok', []);
    expect(m.view.isOpen).toBe(false); // the device opens at BIND
  });
  it('cdev.open.no-cdev-enoent', () => expectStep(run(model('linux-6.1'), { kind: 'cdev-open', index: 0 }), err('ENOENT'), 'cdev.open.no-cdev-enoent'));
  it('cdev.access.before-bind-einval', () => {
    const m = cdevOpened();
    expectStep(run(m, { kind: 'ioctl', op: 'get-info', argsz: 16 }), err('EINVAL'), 'cdev.access.before-bind-einval');
    expectStep(run(m, attach(1)), err('EINVAL'), 'cdev.access.before-bind-einval');
    expectStep(run(m, { kind: 'cfg-read', offset: 0, len: 4 }), err('EINVAL'), 'cdev.access.before-bind-einval');
    expectStep(run(m, { kind: 'mmap', region: 0, offset: 0n, length: 0x1000n, prot: 3, addr: BAR0_ADDR }), err('EINVAL'), 'cdev.access.before-bind-einval');
  });
  it('cdev.bind.ok', () => {
    const m = cdevOpened();
    const s = run(m, bind());
    expectStep(s, { kind: 'ok', ret: 0n }, 'cdev.bind.ok');
    expect(u32(s)).toBe(1);
    expect(m.view.isOpen).toBe(true);
    expect(s.effects).toContainEqual({ kind: 'reset', method: 'pm' }); // vfio_pci_core_enable resets
    expect(run(m, { kind: 'ioctl', op: 'get-info', argsz: 16 }).outcome.kind).toBe('ok');
  });
  it('cdev.bind.bad-args-einval', () => {
    expectStep(run(cdevOpened(), bind(5, 1)), err('EINVAL'), 'cdev.bind.bad-args-einval');
    expectStep(run(cdevOpened(), bind(-1)), err('EINVAL'), 'cdev.bind.bad-args-einval');
    expectStep(run(cdevOpened(), bind(5, 0, 12)), err('EINVAL'), 'cdev.bind.bad-args-einval');
  });
  it('cdev.bind.bad-args-einval: BIND_FLAG_TOKEN by release', () => {
    // 6.12 knows no flag ([L] 6.12-iommufd cdev-order); 6.19 knows BIND_FLAG_TOKEN only.
    expectStep(run(cdevOpened(), bind(5, 1, 24)), err('EINVAL'), 'cdev.bind.bad-args-einval');
    expectStep(run(cdevOpened('linux-6.19'), bind(5, 2, 24)), err('EINVAL'), 'cdev.bind.bad-args-einval');
    expectStep(run(cdevOpened('linux-6.19'), bind(5, 0, 15)), err('EINVAL'), 'cdev.bind.bad-args-einval');
  });
  it('cdev.bind.twice-einval', () => {
    const m = cdevOpened();
    run(m, bind());
    expectStep(run(m, bind()), err('EINVAL'), 'cdev.bind.twice-einval');
  });
  it('cdev.bind.not-an-iommufd-ebadf', () => {
    const m = model(V);
    run(m, { kind: 'cdev-open', index: 0 });
    expectStep(run(m, bind(5)), err('EBADF'), 'cdev.bind.not-an-iommufd-ebadf');
  });
  it('cdev.bind.group-fd-einval', () => {
    const m = model(V);
    run(m, { kind: 'open' });
    expectStep(run(m, bind()), err('EINVAL'), 'cdev.bind.group-fd-einval');
  });
  it('cdev.bind.no-cdev-enotty', () => {
    const m = model('linux-6.1');
    run(m, { kind: 'open' });
    expectStep(run(m, bind()), err('ENOTTY'), 'cdev.bind.no-cdev-enotty');
  });
  it('cdev.attach.group-fd-enotty', () => {
    const m = model(V);
    run(m, { kind: 'open' });
    expectStep(run(m, attach(2)), err('ENOTTY'), 'cdev.attach.group-fd-enotty');
    expectStep(run(m, detach()), err('ENOTTY'), 'cdev.attach.group-fd-enotty');
  });
  it('cdev.attach.ioas-ok', () => {
    const m = bound(V, false);
    const s = run(m, attach(2));
    expectStep(s, { kind: 'ok', ret: 0n }, 'cdev.attach.ioas-ok');
    expect(u32(s)).toBe(3); // the automatic HWPT
    expect(u32(run(m, attach(2)))).toBe(3); // again: the same one
  });
  it('cdev.attach.hwpt-ok', () => {
    const m = bound(V, false);
    run(m, iofd({ op: 'hwpt-alloc', flags: 0, devId: 1, ptId: 2 }));
    const s = run(m, attach(3));
    expectStep(s, { kind: 'ok', ret: 0n }, 'cdev.attach.hwpt-ok');
    expect(u32(s)).toBe(3);
  });
  it('cdev.attach.bad-args-einval', () => {
    expectStep(run(bound(V, false), attach(2, 0x2)), err('EINVAL'), 'cdev.attach.bad-args-einval');
    expectStep(run(bound(V, false), attach(2, 0, 8)), err('EINVAL'), 'cdev.attach.bad-args-einval');
  });
  it('cdev.attach.pasid-unsupported', () => expectStep(run(bound(V, false), attach(2, 0x1, 16)), { kind: 'unsupported' }, 'cdev.attach.pasid-unsupported'));
  it('cdev.attach.unknown-pt-enoent', () => expectStep(run(bound(V, false), attach(9)), err('ENOENT'), 'cdev.attach.unknown-pt-enoent'));
  it('cdev.attach.not-a-page-table-einval', () => expectStep(run(bound(V, false), attach(1)), err('EINVAL'), 'cdev.attach.not-a-page-table-einval'));
  it('cdev.attach.bar-area-efault', () => {
    const m = bound(V, false);
    run(m, ioasMap(BAR0_ADDR, 0x1000n, 0x100000n));
    expectStep(run(m, attach(2)), err('EFAULT'), 'cdev.attach.bar-area-efault');
    // nothing was attached: the IOAS has no HWPT
    expect(m.k.st.iommufd.contexts[0]!.objects.some((o) => o.type === 'hwpt')).toBe(false);
  });
  it('cdev.attach.reserved-overlaps-area-eaddrinuse', () => {
    const m = bound(V, false);
    run(m, ioasMap(RAM, 0x1000n, 0xfee00000n));
    expectStep(run(m, attach(2)), err('EADDRINUSE'), 'cdev.attach.reserved-overlaps-area-eaddrinuse');
  });
  it('cdev.detach.ok', () => {
    const m = bound();
    expectStep(run(m, detach()), { kind: 'ok', ret: 0n }, 'cdev.detach.ok');
    expectStep(run(m, detach()), { kind: 'ok', ret: 0n }, 'cdev.detach.ok'); // not attached: no error
  });
  it('cdev.detach.bad-args-einval', () => expectStep(run(bound(), detach(0x2)), err('EINVAL'), 'cdev.detach.bad-args-einval'));
  it('cdev.detach.pasid-unsupported', () => expectStep(run(bound(), detach(0x1, 12)), { kind: 'unsupported' }, 'cdev.detach.pasid-unsupported'));
  it('cdev.close.unbound', () => {
    const m = cdevOpened();
    expectStep(run(m, { kind: 'close' }), { kind: 'ok', ret: 0n }, 'cdev.close.unbound', []);
    expect(m.k.st.iommufd.cdevFiles).toEqual([]);
  });
  it('a bound cdev closes the device and unbinds', () => {
    const m = bound();
    run(m, { kind: 'munmap', addr: BAR0_ADDR, length: 0x20000n });
    expectStep(run(m, { kind: 'close' }), { kind: 'ok', ret: 0n }, 'core.close.disable');
    expect(m.view.isOpen).toBe(false);
    // the device object and its automatic HWPT are gone: the IOAS can be destroyed
    expectStep(run(m, iofd({ op: 'destroy', id: 2 })), { kind: 'ok' }, 'iommufd.destroy.ok');
  });
  it('core.hot-reset.cdev-with-fds-einval', () => {
    const m = bound();
    expectStep(run(m, { kind: 'ioctl', op: 'hot-reset', flags: 0, groupFds: [7] }), err('EINVAL'), 'core.hot-reset.cdev-with-fds-einval');
    // count 0 is the cdev form: it gets to the bus-reset probe (the e1000e has none)
    expectStep(run(m, { kind: 'ioctl', op: 'hot-reset', flags: 0, groupFds: [] }), err('ENODEV'), 'core.hot-reset.no-bus-reset');
  });
  it('get-hot-reset-info through the cdev reports the iommufd device id', () => {
    const m = bound(V, true);
    const s = run(m, { kind: 'ioctl', op: 'get-hot-reset-info', argsz: 32 });
    if (s.outcome.kind === 'ok') {
      const d = Buffer.from(s.outcome.data!);
      expect(d.readUInt32LE(4)).toBe(3); // DEV_ID | DEV_ID_OWNED
      expect(d.readUInt32LE(12)).toBe(1);
    } else expect(s.outcome).toEqual(err('ENODEV'));
  });
});
