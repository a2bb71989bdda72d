// VFIO ioctl argument bytes -> trace events (include/uapi/linux/vfio.h layouts, little-endian).
// The u64 words are those of the lab's real captures (traces/lab/6.1/*.ioctl-args) unless a test
// says it builds a case the lab did not record; `capture` pads them to the 128 bytes the tracer reads.
import { describe, expect, it } from 'vitest';
import {
  argBytes,
  decodeContainerIoctl,
  decodeDeviceIoctl,
  FEATURE_DMA_BUF,
  FEATURE_LOW_POWER_ENTRY,
  FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
  FEATURE_LOW_POWER_EXIT,
} from '../../src/import/vfio-structs.js';
import { capturedWords, leWords } from './helpers.js';

const le = leWords;
/** The 16 words the tracer records, the rest zero. */
const capture = capturedWords;
/** u32 fields, for structs built field by field. */
const u32s = (...v: number[]): Uint8Array => {
  const b = new Uint8Array(v.length * 4);
  const dv = new DataView(b.buffer);
  v.forEach((x, i) => dv.setUint32(i * 4, x >>> 0, true));
  return b;
};

const GET = 1 << 16;
const SET = 1 << 17;
const PROBE = 1 << 18;

describe('device ioctls', () => {
  it('GET_INFO 0x3b6b -> get-info with argsz', () => {
    expect(decodeDeviceIoctl(0x3b6b, capture(0x18n))).toEqual({ kind: 'ioctl', op: 'get-info', argsz: 24 });
    expect(decodeDeviceIoctl(0x3b6b, capture(0xfn))).toEqual({ kind: 'ioctl', op: 'get-info', argsz: 15 });
    expect(decodeDeviceIoctl(0x3b6b, u32s(0x18, 0))).toEqual({ kind: 'ioctl', op: 'get-info', argsz: 24 });
    expect(decodeDeviceIoctl(0x3b6b, u32s(0x18, 0).slice(0, 7))).toBeNull();
  });

  it('GET_REGION_INFO 0x3b6c -> get-region-info with index', () => {
    expect(decodeDeviceIoctl(0x3b6c, capture(0x20n, 0x2n))).toEqual({ kind: 'ioctl', op: 'get-region-info', index: 2, argsz: 32 });
    expect(decodeDeviceIoctl(0x3b6c, u32s(0x20, 0, 7))).toEqual({ kind: 'ioctl', op: 'get-region-info', index: 7, argsz: 32 });
    expect(decodeDeviceIoctl(0x3b6c, u32s(0x20, 0, 7).slice(0, 11))).toBeNull();
  });

  it('GET_IRQ_INFO 0x3b6d -> get-irq-info with index', () => {
    expect(decodeDeviceIoctl(0x3b6d, capture(0x10n, 0x2n))).toEqual({ kind: 'ioctl', op: 'get-irq-info', index: 2, argsz: 16 });
    expect(decodeDeviceIoctl(0x3b6d, capture(0xcn, 0x0n))).toEqual({ kind: 'ioctl', op: 'get-irq-info', index: 0, argsz: 12 });
    expect(decodeDeviceIoctl(0x3b6d, u32s(0x10, 0))).toBeNull();
  });

  it('SET_IRQS 0x3b6e -> set-irqs with flags, index, start, count and the DATA_EVENTFD array', () => {
    // DATA_EVENTFD | ACTION_TRIGGER on MSI, vectors 0..1, eventfds 8 and 9.
    expect(decodeDeviceIoctl(0x3b6e, capture(0x240000001cn, 0x2n, 0x800000002n, 0x9n))).toEqual({
      kind: 'ioctl',
      op: 'set-irqs',
      flags: 0x24,
      index: 2,
      start: 0,
      count: 2,
      argsz: 28,
      fds: [8, 9],
    });
    // -1 deconfigures a vector's trigger: kept as it is.
    expect(decodeDeviceIoctl(0x3b6e, u32s(28, 0x24, 2, 0, 2, 0xffffffff, 12))).toMatchObject({ fds: [-1, 12] });
    // More vectors than the 128 captured bytes hold (27 fds): the array is not guessed at.
    expect(decodeDeviceIoctl(0x3b6e, u32s(20 + 4 * 30, 0x24, 2, 0, 30, ...Array.from({ length: 27 }, (_, i) => 8 + i)))).toMatchObject({ count: 30, fds: [] });
    // argsz too short for `count` fds (the kernel refuses it): not recorded either.
    expect(decodeDeviceIoctl(0x3b6e, u32s(24, 0x24, 2, 0, 2, 8, 9))).toMatchObject({ fds: [] });
    // DATA_NONE | ACTION_TRIGGER on INTx, start 0 count 1.
    expect(decodeDeviceIoctl(0x3b6e, capture(0x2100000014n, 0x2n, 0x1n))).toEqual({ kind: 'ioctl', op: 'set-irqs', flags: 0x21, index: 2, start: 0, count: 1, argsz: 20, fds: [] });
    expect(decodeDeviceIoctl(0x3b6e, u32s(20, 0x21, 2, 3, 1))).toEqual({ kind: 'ioctl', op: 'set-irqs', flags: 0x21, index: 2, start: 3, count: 1, argsz: 20, fds: [] });
    expect(decodeDeviceIoctl(0x3b6e, u32s(20, 0x21, 2, 3, 1).slice(0, 19))).toBeNull();
  });

  it('GET_PCI_HOT_RESET_INFO 0x3b70 -> get-hot-reset-info with argsz', () => {
    expect(decodeDeviceIoctl(0x3b70, capture(0x14n))).toEqual({ kind: 'ioctl', op: 'get-hot-reset-info', argsz: 20 });
    expect(decodeDeviceIoctl(0x3b70, capture(0xbn))).toEqual({ kind: 'ioctl', op: 'get-hot-reset-info', argsz: 11 });
    expect(decodeDeviceIoctl(0x3b70, new Uint8Array(4))).toBeNull();
  });

  it('PCI_HOT_RESET 0x3b71 -> hot-reset with flags and the s32 group fds', () => {
    const hr = (flags: number, groupFds: number[]) => ({ kind: 'ioctl', op: 'hot-reset', flags, groupFds });
    expect(decodeDeviceIoctl(0x3b71, capture(0x10n, 0x600000001n))).toEqual(hr(0, [6]));
    expect(decodeDeviceIoctl(0x3b71, capture(0xcn, 0x600000000n))).toEqual(hr(0, []));
    expect(decodeDeviceIoctl(0x3b71, capture(0x100000010n, 0x600000001n))).toEqual(hr(1, [6]));
    expect(decodeDeviceIoctl(0x3b71, capture(0x14n, 0x600000002n, 0x6n))).toEqual(hr(0, [6, 6]));
    expect(decodeDeviceIoctl(0x3b71, capture(0x10n, 0xffffffff00000001n, 0x6n))).toEqual(hr(0, [-1]));
    // The group fds the count claims are not all there: too few bytes.
    expect(decodeDeviceIoctl(0x3b71, u32s(0x14, 0, 2, 6))).toBeNull();
    expect(decodeDeviceIoctl(0x3b71, u32s(0x14, 0, 0xffffffff, 6, 6))).toBeNull();
    expect(decodeDeviceIoctl(0x3b71, u32s(0x10, 0, 0).slice(0, 11))).toBeNull();
    expect(decodeDeviceIoctl(0x3b71, u32s(0x10, 0, 1, 6))).toEqual(hr(0, [6]));
  });

  it('IOEVENTFD 0x3b74 -> ioeventfd with flags, u64 offset, u64 data, s32 fd', () => {
    expect(decodeDeviceIoctl(0x3b74, capture(0x400000020n, 0x2800n, 0x1n, 0x1bn))).toEqual({
      kind: 'ioctl',
      op: 'ioeventfd',
      flags: 4,
      offset: 0x2800n,
      data: 1n,
      fd: 27,
    });
    // A lab-shaped case the lab did not record: an offset and data above 4 GiB, fd -1 (de-assign).
    const b = capture(0x800000020n, 0x1_0000_2800n, 0xdead_beef_cafe_f00dn, 0xffffffffn);
    expect(decodeDeviceIoctl(0x3b74, b)).toEqual({ kind: 'ioctl', op: 'ioeventfd', flags: 8, offset: 0x1_0000_2800n, data: 0xdead_beef_cafe_f00dn, fd: -1 });
    expect(decodeDeviceIoctl(0x3b74, b.slice(0, 28))).toEqual({ kind: 'ioctl', op: 'ioeventfd', flags: 8, offset: 0x1_0000_2800n, data: 0xdead_beef_cafe_f00dn, fd: -1 });
    expect(decodeDeviceIoctl(0x3b74, b.slice(0, 27))).toBeNull();
  });

  it('requests the decoder has no struct for (RESET, GET_DEVICE_FD, iommufd...) and fewer than 8 bytes -> null', () => {
    for (const req of [0x3b6f, 0x3b6a, 0x3b76, 0x3b7f, 0x3b64, 0]) expect(decodeDeviceIoctl(req, capture(0x18n))).toBeNull();
    for (const req of [0x3b6b, 0x3b70, 0x3b75]) {
      expect(decodeDeviceIoctl(req, new Uint8Array(0))).toBeNull();
      expect(decodeDeviceIoctl(req, capture(0x2000300000008n).slice(0, 7))).toBeNull();
    }
  });

  it('reads a struct that does not start its buffer (a subarray)', () => {
    const big = new Uint8Array(3 + 128);
    big.set(capture(0x10n, 0x600000001n), 3);
    expect(decodeDeviceIoctl(0x3b71, big.subarray(3))).toEqual({ kind: 'ioctl', op: 'hot-reset', flags: 0, groupFds: [6] });
    expect(argBytes(big.subarray(3))).toEqual(capture(0x10n, 0x600000001n).slice(0, 16));
  });
});

describe('DEVICE_FEATURE 0x3b75', () => {
  const lp = (request: string, flags: number, wakeupFd: number) => ({ kind: 'ioctl', op: 'low-power', request, flags, wakeupFd });
  /** The generic form: `flags` without the id, the id in `feature`. */
  const feat = (flags: number, feature: number, payload: Uint8Array) => ({ kind: 'ioctl', op: 'feature', flags, feature, payload });

  it('the feature ids', () => {
    expect([FEATURE_LOW_POWER_ENTRY, FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP, FEATURE_LOW_POWER_EXIT, FEATURE_DMA_BUF]).toEqual([3, 4, 5, 11]);
  });

  it('LOW_POWER_ENTRY 3 and EXIT 5 (argsz 8) -> low-power entry / exit, wakeupFd 0', () => {
    expect(decodeDeviceIoctl(0x3b75, capture(0x2000300000008n))).toEqual(lp('entry', SET | 3, 0));
    expect(decodeDeviceIoctl(0x3b75, capture(0x2000500000008n))).toEqual(lp('exit', SET | 5, 0));
    // The words past argsz are no fd.
    expect(decodeDeviceIoctl(0x3b75, capture(0x2000300000008n, 0xbn))).toEqual(lp('entry', SET | 3, 0));
    expect(decodeDeviceIoctl(0x3b75, capture(0x4000300000008n))).toEqual(lp('entry', PROBE | 3, 0));
    expect(decodeDeviceIoctl(0x3b75, capture(0x1000300000008n))).toEqual(lp('entry', GET | 3, 0));
    expect(decodeDeviceIoctl(0x3b75, capture(0x3000300000008n))).toEqual(lp('entry', GET | SET | 3, 0));
    expect(decodeDeviceIoctl(0x3b75, u32s(8, SET | 5))).toEqual(lp('exit', SET | 5, 0));
  });

  it('LOW_POWER_ENTRY_WITH_WAKEUP 4 (argsz 16) -> entry-with-wakeup, the s32 at offset 8', () => {
    expect(decodeDeviceIoctl(0x3b75, capture(0x2000400000010n, 0x8n))).toEqual(lp('entry-with-wakeup', SET | 4, 8));
    expect(decodeDeviceIoctl(0x3b75, capture(0x2000400000010n, 0xffffffffn))).toEqual(lp('entry-with-wakeup', SET | 4, -1));
    expect(decodeDeviceIoctl(0x3b75, u32s(16, SET | 4, 9, 0))).toEqual(lp('entry-with-wakeup', SET | 4, 9));
    expect(decodeDeviceIoctl(0x3b75, u32s(16, PROBE | 4, 9, 0))).toEqual(lp('entry-with-wakeup', PROBE | 4, 9));
  });

  it('low power in a non-canonical shape (another argsz, unknown flag bits) is a plain feature with its bytes', () => {
    // Real: WITH_WAKEUP with argsz 8 (no room for the fd), EXIT with argsz 12.
    expect(decodeDeviceIoctl(0x3b75, capture(0x2000400000008n))).toEqual(feat(SET, 4, new Uint8Array(0)));
    expect(decodeDeviceIoctl(0x3b75, capture(0x200050000000cn))).toEqual(feat(SET, 5, new Uint8Array(4)));
    expect(decodeDeviceIoctl(0x3b75, capture(0x200040000000cn, 0x8n))).toEqual(feat(SET, 4, u32s(8)));
    // Real: flags bit 19 (not GET/SET/PROBE: the kernel refuses it) -> feature; SET|PROBE is still canonical.
    expect(decodeDeviceIoctl(0x3b75, capture(0x8000300000008n))).toEqual(feat(0x80000, 3, new Uint8Array(0)));
    expect(decodeDeviceIoctl(0x3b75, capture(0x6000300000008n))).toEqual(lp('entry', SET | PROBE | 3, 0));
    expect(decodeDeviceIoctl(0x3b75, u32s(8, (1 << 24) | SET | 3))).toEqual(feat((1 << 24) | SET, 3, new Uint8Array(0)));
  });

  it('LOW_POWER_ENTRY_WITH_WAKEUP whose argsz covers the fd but whose bytes do not -> null (not guessed)', () => {
    expect(decodeDeviceIoctl(0x3b75, u32s(16, SET | 4))).toBeNull();
    expect(decodeDeviceIoctl(0x3b75, u32s(16, SET | 4, 8).slice(0, 11))).toBeNull();
  });

  it('DMA_BUF 11 with ranges -> dma-buf', () => {
    /** What the lab's runner asked for: GET of BAR0 with O_RDWR (open flags 2), dmabuf flags 0. */
    const bar0 = (ranges: { offset: bigint; length: bigint }[]) => ({ kind: 'ioctl', op: 'dma-buf', flags: GET | 11, regionIndex: 0, openFlags: 2, dmaBufFlags: 0, ranges });
    expect(decodeDeviceIoctl(0x3b75, capture(0x1000b00000028n, 0x200000000n, 0x100000000n, 0x0n, 0x1000n))).toEqual(bar0([{ offset: 0n, length: 0x1000n }]));
    expect(decodeDeviceIoctl(0x3b75, capture(0x1000b00000038n, 0x200000000n, 0x200000000n, 0x0n, 0x1000n, 0x2000n, 0x1000n))).toEqual(
      bar0([
        { offset: 0n, length: 0x1000n },
        { offset: 0x2000n, length: 0x1000n },
      ]),
    );
    // Real: no ranges (the kernel refuses it; the decoder says what was asked).
    expect(decodeDeviceIoctl(0x3b75, capture(0x1000b00000018n, 0x200000000n))).toEqual(bar0([]));
    // Built: region 2, O_RDWR|O_CLOEXEC, flags 5, one range above 4 GiB.
    const b = new Uint8Array(40);
    b.set(u32s(40, GET | 11, 2, 0x80002, 5, 1), 0);
    new DataView(b.buffer).setBigUint64(24, 0x1_0000_0000n, true);
    new DataView(b.buffer).setBigUint64(32, 0x20_0000n, true);
    expect(decodeDeviceIoctl(0x3b75, b)).toEqual({
      kind: 'ioctl',
      op: 'dma-buf',
      flags: GET | 11,
      regionIndex: 2,
      openFlags: 0x80002,
      dmaBufFlags: 5,
      ranges: [{ offset: 0x1_0000_0000n, length: 0x20_0000n }],
    });
    expect(decodeDeviceIoctl(0x3b75, b.slice(0, 39))).toBeNull(); // the range's length is cut
    expect(decodeDeviceIoctl(0x3b75, b.slice(0, 23))).toBeNull(); // nr_ranges is cut
  });

  it('DMA_BUF whose argsz is not the header plus nr_ranges ranges, or below the header (a PROBE), is a plain feature', () => {
    expect(decodeDeviceIoctl(0x3b75, capture(0x4000b00000008n))).toEqual(feat(PROBE, 11, new Uint8Array(0)));
    // nr_ranges 16 with argsz 40: the argsz's bytes, as they are.
    const b = capture(0x1000b00000028n, 0x200000000n, 0x1000000000n, 0n, 0x1000n);
    expect(decodeDeviceIoctl(0x3b75, b)).toEqual(feat(GET, 11, b.slice(8, 40)));
  });

  it('any other feature id -> feature with the payload bytes[8..argsz]', () => {
    expect(decodeDeviceIoctl(0x3b75, capture(0x2000a0000000cn))).toEqual(feat(SET, 10, new Uint8Array(4)));
    expect(decodeDeviceIoctl(0x3b75, capture(0x4000c00000008n))).toEqual(feat(PROBE, 12, new Uint8Array(0)));
    expect(decodeDeviceIoctl(0x3b75, capture(0x2000000000018n, 0x7766554433221100n, 0xffeeddccbbaa9988n))).toEqual(
      feat(SET, 0, Uint8Array.from([0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])),
    );
    // MIGRATION (1) GET with argsz 16.
    expect(decodeDeviceIoctl(0x3b75, capture(0x1000100000010n))).toEqual(feat(GET, 1, new Uint8Array(8)));
    // argsz below the header: the payload is empty, not negative.
    expect(decodeDeviceIoctl(0x3b75, u32s(4, SET | 10))).toEqual(feat(SET, 10, new Uint8Array(0)));
    // The top bit of flags stays a u32.
    expect(decodeDeviceIoctl(0x3b75, u32s(8, 0x8002000a))).toEqual(feat(0x80020000, 10, new Uint8Array(0)));
  });

  it('a feature whose argsz runs past the captured bytes -> null', () => {
    expect(decodeDeviceIoctl(0x3b75, capture(0x2000000000018n).slice(0, 16))).toBeNull();
    expect(decodeDeviceIoctl(0x3b75, capture(0x2000000000088n))).toBeNull(); // argsz 136 > 128 bytes
    expect(decodeDeviceIoctl(0x3b75, capture(0x20000ffffffffn))).toBeNull();
  });
});

describe('container ioctls (type1)', () => {
  it('MAP_DMA 0x3b71 -> map-dma', () => {
    expect(decodeContainerIoctl(0x3b71, capture(0x300000020n, 0x7f0000000000n, 0x100000n, 0x20000n))).toEqual({
      kind: 'map-dma',
      flags: 3,
      vaddr: 0x7f0000000000n,
      iova: 0x100000n,
      size: 0x20000n,
    });
    expect(decodeContainerIoctl(0x3b71, le(0x300000020n, 1n, 2n, 3n))).toEqual({ kind: 'map-dma', flags: 3, vaddr: 1n, iova: 2n, size: 3n });
    expect(decodeContainerIoctl(0x3b71, le(0x300000020n, 1n, 2n, 3n).slice(0, 31))).toBeNull();
  });

  it('UNMAP_DMA 0x3b72 -> unmap-dma', () => {
    expect(decodeContainerIoctl(0x3b72, capture(0x18n, 0x100000n, 0x20000n))).toEqual({ kind: 'unmap-dma', flags: 0, iova: 0x100000n, size: 0x20000n });
    expect(decodeContainerIoctl(0x3b72, le(0x100000018n, 0xffff_ffff_ffff_f000n, 0x1000n))).toEqual({ kind: 'unmap-dma', flags: 1, iova: 0xffff_ffff_ffff_f000n, size: 0x1000n });
    expect(decodeContainerIoctl(0x3b72, le(0x18n, 1n, 2n).slice(0, 23))).toBeNull();
  });

  it('other container requests (SET_IOMMU, CHECK_EXTENSION, the device numbers) -> null', () => {
    for (const req of [0x3b66, 0x3b65, 0x3b70, 0x3b6b, 0x3b75]) expect(decodeContainerIoctl(req, capture(0x300000020n, 1n, 2n, 3n))).toBeNull();
  });

  it('the same number on a device fd is PCI_HOT_RESET, not MAP_DMA', () => {
    const b = capture(0x10n, 0x600000001n);
    expect(decodeDeviceIoctl(0x3b71, b)).toMatchObject({ op: 'hot-reset' });
    expect(decodeContainerIoctl(0x3b71, b)).toMatchObject({ kind: 'map-dma', flags: 0, vaddr: 0x600000001n });
  });
});

describe('argBytes', () => {
  it('trims the capture to the struct’s argsz', () => {
    const b = capture(0x2000400000010n, 0x8n, 0x1234n);
    expect(argBytes(b)).toEqual(le(0x2000400000010n, 0x8n));
    expect(argBytes(capture(0x1cn, 0x2n, 0x800000002n, 0x9n))).toEqual(capture(0x1cn, 0x2n, 0x800000002n, 0x9n).slice(0, 28));
    expect(argBytes(capture(0x80n, 0x1n))).toEqual(capture(0x80n, 0x1n));
    expect(argBytes(u32s(4, 7))).toEqual(u32s(4));
  });

  it('keeps everything when argsz claims more than was captured, or is not a size', () => {
    expect(argBytes(capture(0x88n))).toEqual(capture(0x88n));
    expect(argBytes(capture(0n, 5n))).toEqual(capture(0n, 5n)); // SET_IOMMU's argument is a number
    expect(argBytes(capture(3n))).toEqual(capture(3n));
    expect(argBytes(Uint8Array.from([8, 0, 0]))).toEqual(Uint8Array.from([8, 0, 0]));
    expect(argBytes(new Uint8Array(0))).toEqual(new Uint8Array(0));
  });
});
