// fast-check generators for whole traces: every event kind and ioctl op, u64 values over the full
// 0..2^64-1 range, every optional observed field. Shared by the round-trip and mutation tests.
import fc from 'fast-check';
import { MAX_ACCESS_LEN } from '../../src/trace/limits.js';
import type { EventBody, Observed, Trace, TraceEvent, TraceHeader } from '../../src/trace/types.js';
import { FAILURE_CONSEQUENCES, KERNEL_FAILURE_KINDS } from '../../src/trace/types.js';

const U64_MAX = (1n << 64n) - 1n;
export const u64 = fc.oneof(fc.bigInt({ min: 0n, max: 0xffffn }), fc.bigInt({ min: 0n, max: U64_MAX }), fc.constant(U64_MAX));
const s64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const u32 = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffffffff }));
const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
// One CPU access: 1..MAX_ACCESS_LEN bytes (src/trace/limits.ts); both readers refuse other lengths.
const accessLen = fc.integer({ min: 1, max: MAX_ACCESS_LEN });
const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });
// Strings go through UTF-8 and the text twin's quoting: mix plain words, spaces, quotes, unicode.
const str = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 8 }), fc.constantFrom('-', '"', '#x', 'a b', ''));
const nonEmpty = str.filter((s) => s !== '');
const region = fc.integer({ min: 0, max: 12 });

const ioctl: fc.Arbitrary<EventBody> = fc.oneof(
  fc.record({ kind: fc.constant('ioctl' as const), op: fc.constant('get-info' as const), argsz: u32 }),
  fc.record({ kind: fc.constant('ioctl' as const), op: fc.constant('get-region-info' as const), index: u32, argsz: u32 }),
  fc.record({ kind: fc.constant('ioctl' as const), op: fc.constant('get-irq-info' as const), index: u32, argsz: u32 }),
  fc.record({ kind: fc.constant('ioctl' as const), op: fc.constant('set-irqs' as const), flags: u32, index: u32, start: u32, count: u32, argsz: u32, fds: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('ioctl' as const), op: fc.constant('reset' as const) }),
  fc.record({ kind: fc.constant('ioctl' as const), op: fc.constant('get-hot-reset-info' as const), argsz: u32 }),
  fc.record({ kind: fc.constant('ioctl' as const), op: fc.constant('hot-reset' as const), flags: u32, groupFds: fc.array(i32, { maxLength: 3 }) }),
  fc.record({ kind: fc.constant('ioctl' as const), op: fc.constant('ioeventfd' as const), flags: u32, offset: u64, data: u64, fd: i32 }),
  fc.record({ kind: fc.constant('ioctl' as const), op: fc.constant('feature' as const), flags: u32, feature: u32, payload: bytes(12) }),
  fc.record({
    kind: fc.constant('ioctl' as const),
    op: fc.constant('low-power' as const),
    request: fc.constantFrom('entry' as const, 'entry-with-wakeup' as const, 'exit' as const),
    flags: u32,
    wakeupFd: i32,
  }),
  fc.record({
    kind: fc.constant('ioctl' as const),
    op: fc.constant('dma-buf' as const),
    flags: u32,
    regionIndex: u32,
    openFlags: u32,
    dmaBufFlags: u32,
    ranges: fc.array(fc.record({ offset: u64, length: u64 }), { maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('ioctl' as const), op: fc.constant('raw' as const), fdKind: str, request: u32, name: str, arg: bytes(12) }),
  // set-up ioctls: the named requests and any other number
  fc.record({ kind: fc.constant('ioctl' as const), op: fc.constant('container-op' as const), fd: i32, request: fc.oneof(fc.constantFrom(0x3b64, 0x3b65, 0x3b66), u32), arg: u32 }),
  fc.record({ kind: fc.constant('ioctl' as const), op: fc.constant('group-op' as const), fd: i32, request: fc.oneof(fc.constantFrom(0x3b67, 0x3b68, 0x3b69), u32), containerFd: i32 }),
  fc.record({ kind: fc.constant('ioctl' as const), op: fc.constant('get-device-fd' as const), fd: i32, name: str }),
  fc.record({ kind: fc.constant('ioctl' as const), op: fc.constant('bind-iommufd' as const), iommufd: i32, flags: u32, argsz: u32, vfToken: str }),
  fc.record({ kind: fc.constant('ioctl' as const), op: fc.constant('attach-iommufd-pt' as const), ptId: u32, flags: u32, argsz: u32 }),
  fc.record({ kind: fc.constant('ioctl' as const), op: fc.constant('detach-iommufd-pt' as const), flags: u32, argsz: u32 }),
);

/** The /dev/iommu ioctls (docs/iommufd.md). */
const iommufd: fc.Arbitrary<EventBody> = fc.oneof(
  fc.record({ kind: fc.constant('iommufd' as const), op: fc.constant('ioas-alloc' as const), flags: u32 }),
  fc.record({ kind: fc.constant('iommufd' as const), op: fc.constant('ioas-map' as const), ioasId: u32, flags: u32, userVa: u64, length: u64, iova: u64 }),
  fc.record({ kind: fc.constant('iommufd' as const), op: fc.constant('ioas-map-file' as const), ioasId: u32, flags: u32, fd: i32, start: u64, length: u64, iova: u64 }),
  fc.record({ kind: fc.constant('iommufd' as const), op: fc.constant('ioas-unmap' as const), ioasId: u32, iova: u64, length: u64 }),
  fc.record({ kind: fc.constant('iommufd' as const), op: fc.constant('ioas-iova-ranges' as const), ioasId: u32, numIovas: u32 }),
  fc.record({ kind: fc.constant('iommufd' as const), op: fc.constant('hwpt-alloc' as const), flags: u32, devId: u32, ptId: u32 }),
  fc.record({ kind: fc.constant('iommufd' as const), op: fc.constant('destroy' as const), id: u32 }),
);

/** A PF's SR-IOV capability as the text twin can carry it (num-vfs <= total-vfs, VF BARs by index). */
const sriovCap = fc
  .record({
    capOffset: fc.constantFrom(0, 0x160),
    totalVfs: fc.integer({ min: 0, max: 0xffff }),
    numVfs: fc.integer({ min: 0, max: 0xffff }),
    firstVfOffset: fc.constantFrom(0, 0x80),
    vfStride: fc.constantFrom(0, 1, 2),
    vfDeviceId: fc.integer({ min: 0, max: 0xffff }),
    vfBars: fc.uniqueArray(fc.record({ index: fc.integer({ min: 0, max: 5 }), size: u64, is64: fc.boolean(), prefetchable: fc.boolean(), base: u64 }), { selector: (b) => b.index, maxLength: 3 }),
    driver: fc.constantFrom('', 'vfio-pci', 'igb', 'a b'),
    vfToken: fc.oneof(fc.constant(''), fc.uuid()),
    vfUsers: fc.integer({ min: 0, max: 8 }),
    enableSriov: fc.boolean(),
  })
  .map((c) => ({ ...c, numVfs: Math.min(c.numVfs, c.totalVfs), vfBars: [...c.vfBars].sort((a, b) => a.index - b.index) }));

export const sriovBlocks = fc.oneof(
  fc.constant({}),
  sriovCap.map((sriov) => ({ sriov })),
  fc.record({ pfBdf: str, vfIndex: fc.integer({ min: 0, max: 0xffff }), pf: sriovCap }).map((v) => ({ sriovVf: { ...v, vfIndex: v.pf.totalVfs > 0 ? v.vfIndex % v.pf.totalVfs : v.vfIndex } })),
);

export const body: fc.Arbitrary<EventBody> = fc.oneof(
  fc.constant({ kind: 'open' as const }),
  fc.record({ kind: fc.constant('open' as const), vfToken: fc.uuid() }),
  fc.constant({ kind: 'close' as const }),
  fc.record({ kind: fc.constant('cfg-read' as const), offset: u32, len: u32 }),
  fc.record({ kind: fc.constant('cfg-write' as const), offset: u32, data: bytes(20) }),
  fc.record({ kind: fc.constant('region-read' as const), region, offset: u64, len: u32 }),
  fc.record({ kind: fc.constant('region-write' as const), region, offset: u64, data: bytes(20) }),
  fc.record({ kind: fc.constant('mmap' as const), region, offset: u64, length: u64, prot: u32, addr: u64 }),
  fc.record({ kind: fc.constant('munmap' as const), addr: u64, length: u64 }),
  fc.record({ kind: fc.constant('mem-read' as const), bar: region, offset: u64, len: accessLen }),
  fc.record({ kind: fc.constant('mem-write' as const), bar: region, offset: u64, len: accessLen, value: u64 }),
  ioctl,
  fc.record({
    kind: fc.constant('dmabuf' as const),
    dmabuf: u32,
    op: fc.constantFrom('attach' as const, 'map' as const, 'unmap' as const, 'detach' as const, 'mmap' as const, 'close' as const),
  }),
  fc.record({ kind: fc.constant('map-dma' as const), vaddr: u64, iova: u64, size: u64, flags: u32 }),
  fc.record({ kind: fc.constant('unmap-dma' as const), iova: u64, size: u64, flags: u32 }),
  fc.record({ kind: fc.constant('memslot' as const), slot: u32, flags: u32, gpa: u64, size: u64, uaddr: u64 }),
  fc.record({ kind: fc.constant('kvm-run' as const), vcpu: u32 }),
  fc.record({ kind: fc.constant('fork' as const), child: fc.integer({ min: 1, max: 0xffffffff }) }),
  fc.constant({ kind: 'process-exit' as const }),
  fc.record({ kind: fc.constant('vfio-open' as const), fd: i32, container: fc.boolean(), group: u32 }),
  fc.record({ kind: fc.constant('vfio-close' as const), fd: i32 }),
  // preads/pwrites whose user buffer lies in a BAR mapping
  fc.record({ kind: fc.constant('cfg-read' as const), offset: u32, len: u32, bufBar: fc.integer({ min: 0, max: 5 }), bufOffset: u64 }),
  fc.record({ kind: fc.constant('cfg-write' as const), offset: u32, data: bytes(20), bufBar: fc.integer({ min: 0, max: 5 }), bufOffset: u64 }),
  fc.record({ kind: fc.constant('region-read' as const), region, offset: u64, len: u32, bufBar: fc.integer({ min: 0, max: 5 }), bufOffset: u64 }),
  fc.record({ kind: fc.constant('region-write' as const), region, offset: u64, data: bytes(20), bufBar: fc.integer({ min: 0, max: 5 }), bufOffset: u64 }),
  fc.record({ kind: fc.constant('eventfd-signal' as const), fd: i32 }),
  fc.record({ kind: fc.constant('device-irq' as const), index: u32, vector: u32 }),
  fc.record({ kind: fc.constant('cdev-open' as const), index: u32 }),
  fc.constant({ kind: 'iommufd-open' as const }),
  iommufd,
  fc.record({ kind: fc.constant('guest-cfg-read' as const), offset: u32, len: accessLen }),
  fc.record({ kind: fc.constant('guest-cfg-write' as const), offset: u32, len: accessLen, value: u64 }),
  fc.record({ kind: fc.constant('guest-mmio-read' as const), gpa: u64, len: accessLen }),
  fc.record({ kind: fc.constant('guest-mmio-write' as const), gpa: u64, len: accessLen, value: u64 }),
);

export const observed: fc.Arbitrary<Observed> = fc.record(
  {
    ret: s64,
    errno: nonEmpty,
    data: bytes(10),
    signal: fc.record({ signal: str, code: str, addr: fc.option(u64, { nil: null }) }),
    vmmExit: fc.record({
      how: fc.constantFrom('exited' as const, 'signaled' as const, 'kvm-run-error' as const),
      status: i32,
      signal: str,
      errno: str,
    }),
    powerState: nonEmpty,
    blocked: fc.constant(true as const),
    kernelLog: nonEmpty,
    signaled: fc.array(fc.constantFrom('intx', 'msi:0', 'msix:3', 'err', 'req'), { maxLength: 3 }),
    kernelFailure: fc.record({
      kind: fc.constantFrom(...KERNEL_FAILURE_KINDS),
      where: str,
      consequence: fc.constantFrom('', ...FAILURE_CONSEQUENCES),
    }),
  },
  { requiredKeys: [] },
);

export const event: fc.Arbitrary<TraceEvent> = fc
  .record({
    seq: u64,
    tsNs: u64,
    tid: u32,
    overlap: u32,
    pid: fc.option(fc.integer({ min: 1, max: 0xffffffff }), { nil: undefined, freq: 4 }),
    observed: fc.option(observed, { nil: undefined }),
    body,
  })
  .map(({ body: b, observed: o, pid, ...meta }) => {
    const e = { ...meta, ...b } as TraceEvent;
    if (pid !== undefined) e.pid = pid;
    if (o !== undefined) e.observed = o;
    return e;
  });

export const header: fc.Arbitrary<TraceHeader> = fc.record({
  formatVersion: fc.constant(1),
  source: fc.constantFrom('unknown' as const, 'strace' as const, 'qemu-log' as const, 'lab' as const, 'hand-written' as const, 'synthetic' as const),
  kernelRelease: str,
  vmm: fc.record({ name: str, version: str, accel: fc.constantFrom('unknown' as const, 'kvm' as const, 'tcg' as const, 'mshv' as const), options: fc.array(fc.oneof(str, fc.constantFrom('x-no-mmap=on', 'romfile=/a,b', '=')), { maxLength: 3 }) }),
  tracerVersion: str,
  title: str,
  device: fc.record({
    bdf: str,
    vendorId: fc.integer({ min: 0, max: 0xffff }),
    deviceId: fc.integer({ min: 0, max: 0xffff }),
    config: fc.oneof(bytes(40), fc.uint8Array({ minLength: 256, maxLength: 256 })),
    bars: fc.array(
      fc.record({ index: fc.integer({ min: 0, max: 5 }), size: u64, kind: fc.constantFrom('mem' as const, 'io' as const), is64: fc.boolean(), prefetchable: fc.boolean() }),
      { maxLength: 6 },
    ),
    romSize: u64,
    quirks: fc.record({
      nonMappableBars: fc.boolean(),
      noCommandMemory: fc.boolean(),
      isVirtfn: fc.boolean(),
      resourceBusyBars: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
      iomapFailBars: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
    }),
    resetMethods: fc.array(nonEmpty, { maxLength: 3 }),
    pageSize: fc.constantFrom(0, 4096, 16384, 65536, 1 << 20),
    vga: fc.boolean(),
    iommuGroup: i32,
    // Absent, or with at least one trait set (all-default traits are canonically absent).
    traits: fc.option(
      fc
        .record({
          dStates: fc.subarray(['D0', 'D1', 'D2', 'D3hot']),
          pmRefuses: fc.subarray(['D1', 'D2', 'D3hot']),
          resetClears: fc.constantFrom('', 'yes', 'no'),
          noSoftReset: fc.constantFrom('', 'yes', 'no'),
          configSize: fc.constantFrom(0, 256, 4096),
          flr: fc.constantFrom('', 'yes', 'no'),
          busReset: fc.constantFrom('', 'yes', 'no'),
          source: fc.constant('lab-probe'),
          romImage: fc.constantFrom(0, 0x3d000, 0x12600),
        })
        .map((t) => t),
      { nil: undefined },
    ),
  }, { requiredKeys: ['bdf', 'vendorId', 'deviceId', 'config', 'bars', 'romSize', 'quirks', 'resetMethods', 'pageSize', 'vga', 'iommuGroup'] }),
  sriov: sriovBlocks,
}).map(({ sriov, ...h }) => ({ ...h, device: { ...h.device, ...sriov } }));

export const trace: fc.Arbitrary<Trace> = fc
  .record({ header, events: fc.array(event, { maxLength: 25 }), more: fc.array(fc.record({ at: fc.nat(), header }), { maxLength: 2 }) })
  .map(({ header: h, events, more }) => {
    const t: Trace = { header: h, events };
    if (more.length > 0) {
      t.moreHeaders = more.map((m) => ({ before: events.length === 0 ? 0 : m.at % (events.length + 1), header: m.header })).sort((a, b) => a.before - b.before);
    }
    return t;
  });
