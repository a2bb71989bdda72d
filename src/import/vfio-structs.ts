// VFIO ioctl argument bytes (as the tracer's ioctl-args capture copied them) -> trace events.
// Layouts are include/uapi/linux/vfio.h (reference kernel-vfio-pci.md §1.1), little-endian:
//
//   device fd
//     GET_INFO            0x3b6b  { argsz, flags, ... }                      -> get-info
//     GET_REGION_INFO     0x3b6c  { argsz, flags, index, ... }               -> get-region-info
//     GET_IRQ_INFO        0x3b6d  { argsz, flags, index, count }             -> get-irq-info
//     SET_IRQS            0x3b6e  { argsz, flags, index, start, count, data[] } -> set-irqs (+ fds[] for DATA_EVENTFD)
//     GET_PCI_HOT_RESET_INFO 0x3b70 { argsz, flags, count, devices[] }       -> get-hot-reset-info
//     PCI_HOT_RESET       0x3b71  { argsz, flags, count, s32 group_fds[] }   -> hot-reset
//     IOEVENTFD           0x3b74  { argsz, flags, u64 offset, u64 data, s32 fd } -> ioeventfd
//     FEATURE             0x3b75  { argsz, flags (GET 1<<16, SET 1<<17, PROBE 1<<18 | feature id) , data[] }
//        LOW_POWER_ENTRY 3 / _WITH_WAKEUP 4 { s32 wakeup_eventfd, reserved } / EXIT 5 -> low-power
//        DMA_BUF 11 { region_index, open_flags, flags, nr_ranges, { u64 offset, u64 length }[] } -> dma-buf
//        any other id, or either of those in a non-canonical shape (see feature())  -> feature (payload)
//   container fd (type1)
//     MAP_DMA             0x3b71  { argsz, flags, u64 vaddr, u64 iova, u64 size } -> map-dma
//     UNMAP_DMA           0x3b72  { argsz, flags, u64 iova, u64 size, ... }  -> unmap-dma
//
// A struct the capture holds only in part (argsz beyond the bytes copied, a fault in the middle)
// is not guessed at: the caller keeps the call as `raw` with the bytes it has.

import type { EventBody, IoctlOp, PowerRequest } from '../trace/types.js';

export const FEATURE_LOW_POWER_ENTRY = 3;
export const FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP = 4;
export const FEATURE_LOW_POWER_EXIT = 5;
export const FEATURE_DMA_BUF = 11;

const POWER: Record<number, PowerRequest> = {
  [FEATURE_LOW_POWER_ENTRY]: 'entry',
  [FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP]: 'entry-with-wakeup',
  [FEATURE_LOW_POWER_EXIT]: 'exit',
};

class Bytes {
  private readonly dv: DataView;
  constructor(readonly b: Uint8Array) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  has(end: number): boolean {
    return end <= this.b.length;
  }
  u32(at: number): number {
    return this.dv.getUint32(at, true);
  }
  s32(at: number): number {
    return this.dv.getInt32(at, true);
  }
  u64(at: number): bigint {
    return this.dv.getBigUint64(at, true);
  }
}

/** What the bytes say, or null when they are too few for the struct (the call stays raw). */
export function decodeDeviceIoctl(req: number, bytes: Uint8Array): EventBody | null {
  const b = new Bytes(bytes);
  if (!b.has(8)) return null;
  const argsz = b.u32(0);
  const op = ((): IoctlOp | null => {
    switch (req) {
      case 0x3b6b:
        return { op: 'get-info', argsz };
      case 0x3b6c:
        return b.has(12) ? { op: 'get-region-info', index: b.u32(8), argsz } : null;
      case 0x3b6d:
        return b.has(12) ? { op: 'get-irq-info', index: b.u32(8), argsz } : null;
      case 0x3b6e:
        return b.has(20) ? { op: 'set-irqs', flags: b.u32(4), index: b.u32(8), start: b.u32(12), count: b.u32(16), argsz, fds: eventfds(b, argsz) } : null;
      case 0x3b70:
        return { op: 'get-hot-reset-info', argsz };
      case 0x3b71: {
        if (!b.has(12)) return null;
        const count = b.u32(8);
        if (!b.has(12 + 4 * count)) return null;
        return { op: 'hot-reset', flags: b.u32(4), groupFds: Array.from({ length: count }, (_, i) => b.s32(12 + 4 * i)) };
      }
      case 0x3b74:
        return b.has(28) ? { op: 'ioeventfd', flags: b.u32(4), offset: b.u64(8), data: b.u64(16), fd: b.s32(24) } : null;
      case 0x3b75:
        return feature(b, argsz);
      default:
        return null;
    }
  })();
  return op ? { kind: 'ioctl', ...op } : null;
}

/** VFIO_IRQ_SET_DATA_EVENTFD: SET_IRQS' data[] is `count` s32 eventfds (-1 deconfigures a vector). */
const IRQ_SET_DATA_EVENTFD = 1 << 2;
const SET_IRQS_MINSZ = 20;

/**
 * SET_IRQS' eventfd array, when the capture holds all of it: DATA_EVENTFD, and the struct (argsz)
 * and the copied bytes both reach past `count` fds. Otherwise [] (not recorded): a partial array
 * (more vectors than the tracer's 128 bytes hold, 27) is not guessed at; the model then predicts
 * no eventfd signal from it.
 */
function eventfds(b: Bytes, argsz: number): number[] {
  if ((b.u32(4) & IRQ_SET_DATA_EVENTFD) === 0) return [];
  const count = b.u32(16);
  const end = SET_IRQS_MINSZ + 4 * count;
  if (count === 0 || argsz < end || !b.has(end)) return [];
  return Array.from({ length: count }, (_, i) => b.s32(SET_IRQS_MINSZ + 4 * i));
}

/** GET, SET and PROBE: a flags word with any other bit set is refused before the feature is looked at. */
const FEATURE_OPS = 0x70000;
const ARGSZ_LOW_POWER = 8;
const ARGSZ_LOW_POWER_WAKEUP = 16; // + struct vfio_device_low_power_entry_with_wakeup { s32 fd; u32 reserved }

/**
 * The trace has a dedicated op for low power and for DMABUF export, and `feature` for the rest.
 * A dedicated op stands for the canonical struct (argsz exactly the header plus its payload, flags
 * only GET/SET/PROBE plus the id: what a VMM sends, and what the lab runner sends for it); any
 * other shape is a `feature` with its bytes as they were, so nothing the kernel saw is lost.
 */
function feature(b: Bytes, argsz: number): IoctlOp | null {
  const flags = b.u32(4);
  const id = flags & 0xffff;
  const plainFlags = (flags & ~0xffff & ~FEATURE_OPS) === 0;
  const request = POWER[id];
  if (request !== undefined && plainFlags) {
    if (request !== 'entry-with-wakeup' && argsz === ARGSZ_LOW_POWER) return { op: 'low-power', request, flags, wakeupFd: 0 };
    if (request === 'entry-with-wakeup' && argsz === ARGSZ_LOW_POWER_WAKEUP && b.has(12)) return { op: 'low-power', request, flags, wakeupFd: b.s32(8) };
  }
  if (id === FEATURE_DMA_BUF && plainFlags && argsz >= 24 && b.has(24)) {
    const nr = b.u32(20);
    if (argsz === 24 + 16 * nr) {
      if (!b.has(argsz)) return null;
      const ranges = Array.from({ length: nr }, (_, i) => ({ offset: b.u64(24 + 16 * i), length: b.u64(32 + 16 * i) }));
      return { op: 'dma-buf', flags, regionIndex: b.u32(8), openFlags: b.u32(12), dmaBufFlags: b.u32(16), ranges };
    }
  }
  const end = Math.max(8, argsz);
  if (!b.has(end)) return null;
  // The text form keeps the id in `feature`; `flags` carries the rest of the word.
  return { op: 'feature', flags: (flags & ~0xffff) >>> 0, feature: id, payload: b.b.slice(8, end) };
}

/** type1 MAP_DMA / UNMAP_DMA on the container fd, or null (another request, or too few bytes). */
export function decodeContainerIoctl(req: number, bytes: Uint8Array): EventBody | null {
  const b = new Bytes(bytes);
  if (req === 0x3b71 && b.has(32)) return { kind: 'map-dma', flags: b.u32(4), vaddr: b.u64(8), iova: b.u64(16), size: b.u64(24) };
  if (req === 0x3b72 && b.has(24)) return { kind: 'unmap-dma', flags: b.u32(4), iova: b.u64(8), size: b.u64(16) };
  return null;
}

/** The argument bytes the struct's own argsz claims (all of them when it claims more, or is no struct). */
export function argBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 4) return bytes;
  const argsz = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  return argsz >= 4 && argsz <= bytes.length ? bytes.slice(0, argsz) : bytes;
}
