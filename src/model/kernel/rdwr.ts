// vfio_pci_rdwr.c: BAR/ROM/VGA pread/pwrite, the lazy BAR mapping (setup_barmap, <= 7.0) and
// VFIO_DEVICE_IOEVENTFD. Device register contents are unknowable: a read that reaches the device
// returns ok with ret = bytes and no data; only the synthesized MSI-X table bytes (0xff) are known.

import { step, type Effect, type Step } from '../outcome.js';
import { hazardReason, memoryEnabled, type Kctx } from './context.js';

export type BarmapResult = { ok: true } | { ok: false; errno: string; rule: string };

/** Request + iomap a BAR as the lazy (<= 7.0) or enable-time (7.1+) code does. */
function requestAndMap(k: Kctx, bar: number): { errno?: string } {
  if (k.dev.quirks.resourceBusyBars.includes(bar) || k.st.leakedRegions.has(bar)) return { errno: 'EBUSY' };
  if (k.dev.quirks.iomapFailBars.includes(bar)) {
    if (!k.v.iomapFailReleasesRegion) k.st.leakedRegions.add(bar); // region stays requested (v2..v4)
    return { errno: 'ENOMEM' };
  }
  return {};
}

/** vfio_pci_core_setup_barmap() (lazy) / vfio_pci_core_get_iomap() (enable-time) [S/P]. */
export function setupBarmap(k: Kctx, bar: number): BarmapResult {
  const bm = k.st.barmap[bar];
  if (k.v.barmapAt !== 'lazy') {
    if (bm?.state === 'error') return { ok: false, errno: bm.errno, rule: 'rdwr.barmap.enable-time-error' }; // errno = stored error [M]
    return { ok: true };
  }
  if (bm?.state === 'mapped') {
    // Two first users in flight at once: both saw barmap NULL and both requested the region; the
    // second pci_request_selected_regions() fails -EBUSY [P: fixed by mapping at enable].
    if (k.meta.overlap !== 0 && bm.overlap === k.meta.overlap && bm.tid !== k.meta.tid)
      return { ok: false, errno: 'EBUSY', rule: 'rdwr.barmap.concurrent-first-use-ebusy' };
    return { ok: true };
  }
  const r = requestAndMap(k, bar);
  if (r.errno !== undefined) return { ok: false, errno: r.errno, rule: r.errno === 'EBUSY' ? 'rdwr.barmap.request-ebusy' : 'rdwr.barmap.iomap-enomem' };
  k.st.barmap[bar] = { state: 'mapped', overlap: k.meta.overlap, tid: k.meta.tid };
  return { ok: true };
}

/** Enable-time mapping (barmap-at-enable / 7.1+): returns the errno that fails open (v1), if any. */
export function enableBarmaps(k: Kctx): string | undefined {
  for (const b of k.g.bars) {
    if (b.kind === 'none' || b.size === 0n) continue;
    const r = requestAndMap(k, b.index);
    if (r.errno !== undefined) {
      if (k.v.barmapAt === 'fail-open') return r.errno;
      k.st.barmap[b.index] = { state: 'error', errno: r.errno };
    } else k.st.barmap[b.index] = { state: 'mapped', overlap: 0, tid: 0 };
  }
  return undefined;
}

export function releaseBarmaps(k: Kctx): void {
  for (let i = 0; i < 6; i++) k.st.barmap[i] = { state: 'none' };
}

const VGA_WINDOWS: [bigint, bigint][] = [
  [0xa0000n, 0xc0000n],
  [0x3b0n, 0x3bcn],
  [0x3c0n, 0x3e0n],
];

export function regionRw(k: Kctx, region: number, offset: bigint, len: number, write: boolean): Step {
  if (len === 0) return step({ kind: 'ok', ret: 0n }, 'rdwr.zero-length');
  if (region >= 9) return step({ kind: 'errno', errno: 'EINVAL' }, 'rdwr.region.invalid-index');
  if (region === 8) return vgaRw(k, offset, len);
  if (region === 6) return romRead(k, offset, len, write);
  return barRw(k, region, offset, len, write);
}

function vgaRw(k: Kctx, offset: bigint, len: number): Step {
  if (k.dev.vga && k.host.disableVga) return step({ kind: 'errno', errno: 'EINVAL' }, 'rdwr.vga.disabled-einval');
  if (!k.dev.vga || offset > 0xbffffn) return step({ kind: 'errno', errno: 'EINVAL' }, 'rdwr.vga.invalid');
  for (const [s, e] of VGA_WINDOWS) {
    if (offset >= s && offset < e) {
      const count = BigInt(len) > e - offset ? e - offset : BigInt(len);
      // No memory_enabled check: legacy VGA probing must not fault [S bc93b9ae comment].
      return step({ kind: 'ok', ret: count }, 'rdwr.vga.no-memory-check', [{ kind: 'device-access', what: `vga+0x${offset.toString(16)}` }]);
    }
  }
  return step({ kind: 'errno', errno: 'EINVAL' }, 'rdwr.vga.outside-windows');
}

function romRead(k: Kctx, offset: bigint, len: number, write: boolean): Step {
  if (write) return step({ kind: 'errno', errno: 'EINVAL' }, 'rdwr.rom.write-einval');
  if (k.g.romSize === 0n || k.g.romStart === 0n) return step({ kind: 'errno', errno: 'EINVAL' }, 'rdwr.rom.absent');
  if (offset >= k.g.romSize) return step({ kind: 'errno', errno: 'EINVAL' }, 'rdwr.rom.past-end');
  const count = BigInt(len) > k.g.romSize - offset ? k.g.romSize - offset : BigInt(len);
  // pci_map_rom() runs before any memory_enabled test (no memory_lock): it enables the ROM BAR and
  // reads the 0x55AA header from the device [S rdwr.c @0604aa87/@0b119045]. With COMMAND.MEM clear
  // nothing answers (QEMU reads 0, hardware all-ones), the header is invalid and the pread fails
  // -ENOMEM [L rom #11 on 6.1/6.12/7.2]. The probe itself touched a function not decoding memory.
  if (!hwMemoryEnabledBit(k))
    return step({ kind: 'errno', errno: 'ENOMEM' }, 'rdwr.rom.map-rom-fails-enomem', [
      { kind: 'platform-hazard', reason: 'ROM header probe with memory decode disabled' },
    ]);
  // Decoding enabled: the probe succeeds (QEMU's e1000e also answers in D3hot), then every data
  // access takes the test_mem (IORESOURCE_MEM) path: -EIO when !memory_enabled, e.g. in D3hot
  // since 5.19 [L rom #16, pmcsr-dstates #14 on 6.1/6.12/7.2].
  const eff: Effect[] = [];
  if (k.hw.power !== 'D0') eff.push({ kind: 'platform-hazard', reason: `ROM header probe with the device in ${k.hw.power}` });
  // The BAR past the image (pci_map_rom's size, the device's trait) is do_io_rw's excluded range:
  // reads fill 0xff with no memory_enabled test and no device access [S vfio_pci_bar_rw; L random
  // 1/66, traces/lab/found/6.1/rom-past-image-ff: rom+0x3fffe reads ff in D3hot, rom+0 -EIO].
  const image = k.hw.traits.romImage;
  const inImage = offset < image ? (offset + count > image ? image - offset : count) : 0n;
  const fill = new Uint8Array(Number(count - inImage)).fill(0xff);
  if (inImage === 0n) return { outcome: { kind: 'ok', ret: count, data: fill }, effects: eff, rule: 'rdwr.rom.past-image-ff' };
  const s = deviceAccess(k, 'rom', offset, inImage, true, 'rdwr.rom');
  if (s.outcome.kind !== 'ok' || fill.length === 0) return { ...s, effects: [...eff, ...s.effects] };
  // Straddling the image end: the device's bytes, then vfio's 0xff (only those are the model's).
  const data = new Uint8Array(Number(count));
  data.set(fill, Number(inImage));
  const own = new Uint8Array(Number(count));
  own.fill(0xff, Number(inImage));
  return { outcome: { kind: 'ok', ret: count, data, own }, effects: [...eff, ...s.effects], rule: 'rdwr.rom.past-image-ff' };
}

/** HW COMMAND.MEM (or a function without it), regardless of power state. */
function hwMemoryEnabledBit(k: Kctx): boolean {
  if (k.dev.quirks.noCommandMemory || k.dev.quirks.isVirtfn) return true;
  return (k.hw.config.u16(0x04) & 0x2) !== 0;
}

function barRw(k: Kctx, bar: number, offset: bigint, len: number, write: boolean): Step {
  const b = k.g.bars[bar];
  if (b === undefined || b.kind === 'none' || b.size === 0n || b.start === 0n)
    return step({ kind: 'errno', errno: 'EINVAL' }, 'rdwr.bar.unassigned');
  if (offset >= b.size) return step({ kind: 'errno', errno: 'EINVAL' }, 'rdwr.bar.past-end-einval');
  const count = BigInt(len) > b.size - offset ? b.size - offset : BigInt(len);
  const bm = setupBarmap(k, bar);
  if (!bm.ok) return step({ kind: 'errno', errno: bm.errno }, bm.rule);
  // MSI-X table bytes are synthesized: reads 0xff, writes dropped, no memory check [S].
  if (bar === k.g.msixBar) {
    const xs = k.g.msixOffset;
    const xe = k.g.msixOffset + k.g.msixSize;
    const inside = offset >= xs && offset + count <= xe;
    if (inside) {
      const data = write ? undefined : new Uint8Array(Number(count)).fill(0xff);
      return step({ kind: 'ok', ret: count, ...(data ? { data } : {}) }, write ? 'rdwr.bar.msix-table-write-dropped' : 'rdwr.bar.msix-table-reads-ff');
    }
  }
  const short = count < BigInt(len);
  if (b.kind === 'io') {
    // I/O-port BARs: test_mem false, no COMMAND.IO or power check [S].
    return step({ kind: 'ok', ret: count }, short ? 'rdwr.bar.short-at-end' : 'rdwr.bar.io-no-check', [{ kind: 'device-access', what: `bar${bar}+0x${offset.toString(16)}` }]);
  }
  const s = deviceAccess(k, `bar${bar}`, offset, count, true, 'rdwr.bar');
  if (s.outcome.kind === 'ok' && short) return { ...s, rule: 'rdwr.bar.short-at-end' };
  return s;
}

function deviceAccess(k: Kctx, what: string, offset: bigint, count: bigint, testMem: boolean, area: string): Step {
  if (testMem && k.v.blockDisabledMmio && !memoryEnabled(k))
    return step({ kind: 'errno', errno: 'EIO' }, `${area}.memory-disabled-eio`);
  const eff: Effect[] = [{ kind: 'device-access', what: `${what}+0x${offset.toString(16)}` }];
  const hz = testMem ? hazardReason(k) : undefined;
  if (hz !== undefined) return step({ kind: 'hazard', reason: hz }, `${area}.reaches-disabled-device`, eff);
  return step({ kind: 'ok', ret: count }, `${area}.ok`, eff);
}

// ----- ioeventfd -------------------------------------------------------------------------------

const OFFSET_SHIFT = 40n;

export function ioeventfd(k: Kctx, flags: number, offset: bigint, data: bigint, fd: number): Step {
  const sizeBits = flags & 0xf;
  if (flags & ~0xf || ![1, 2, 4, 8].includes(sizeBits) || fd < -1) return step({ kind: 'errno', errno: 'EINVAL' }, 'ioeventfd.bad-args');
  const size = sizeBits; // _8=1 byte, _16=2, _32=4, _64=8 bytes: flag value equals byte count
  const bar = Number(offset >> OFFSET_SHIFT);
  const pos = offset & ((1n << OFFSET_SHIFT) - 1n);
  if (bar > 5) return step({ kind: 'errno', errno: 'EINVAL' }, 'ioeventfd.not-a-bar');
  const b = k.g.bars[bar];
  if (b === undefined || pos + BigInt(size) > b.size) return step({ kind: 'errno', errno: 'EINVAL' }, 'ioeventfd.past-bar-end');
  if (bar === k.g.msixBar && pos + BigInt(size) > k.g.msixOffset && pos < k.g.msixOffset + k.g.msixSize)
    return step({ kind: 'errno', errno: 'EINVAL' }, 'ioeventfd.msix-table');
  // size 8: rejected unconditionally in the 6.13+ copy @0b119045; older x86_64 has iowrite64 [S].
  if (size === 8 && k.v.rw8Byte) return step({ kind: 'errno', errno: 'EINVAL' }, 'ioeventfd.size8-rejected');
  const bm = setupBarmap(k, bar);
  if (!bm.ok) return step({ kind: 'errno', errno: bm.errno }, bm.rule);
  const i = k.st.ioeventfds.findIndex((e) => e.bar === bar && e.offset === pos && e.data === data && e.size === size);
  if (i >= 0) {
    if (fd === -1) {
      k.st.ioeventfds.splice(i, 1);
      return step({ kind: 'ok', ret: 0n }, 'ioeventfd.removed');
    }
    return step({ kind: 'errno', errno: 'EEXIST' }, 'ioeventfd.exists');
  }
  if (fd === -1) return step({ kind: 'errno', errno: 'ENODEV' }, 'ioeventfd.remove-missing');
  if (k.st.ioeventfds.length >= 1000) return step({ kind: 'errno', errno: 'ENOSPC' }, 'ioeventfd.too-many');
  k.st.ioeventfds.push({ bar, offset: pos, data, size, fd });
  return step({ kind: 'ok', ret: 0n }, 'ioeventfd.added');
}

/**
 * An eventfd the user registered with VFIO_DEVICE_IOEVENTFD fires: vfio_pci_ioeventfd_handler
 * writes the registered data to the BAR. From 5.9 (bc93b9ae0151) the write is dropped while memory
 * is disabled; before, it reaches the device whatever its decode state [P: commit message].
 * Under memory_lock contention (a writer holds it: only the interleaving explorer knows) the
 * handler, which runs with interrupts off, slept in down_read between bc93b9ae0151 and
 * 38565c93c8a1 (catalog bug ioeventfd-sleep-in-atomic); since, it defers to a thread.
 */
export function ioeventfdSignal(k: Kctx, fd: number): Step {
  const ev = k.st.ioeventfds.find((e) => e.fd === fd);
  if (ev === undefined) return step({ kind: 'ok' }, 'ioeventfd.signal-unregistered');
  const what = `bar${ev.bar}+0x${ev.offset.toString(16)}`;
  const eff: Effect[] = [{ kind: 'device-access', what }];
  if (k.race?.memoryLockWriter === true) {
    if (k.v.bugIoeventfdSleepInAtomic)
      return step(
        { kind: 'kernel-failure', failure: 'warn', where: 'vfio_pci_ioeventfd_handler (sleeping function called from invalid context)', consequence: 'continues' },
        'ioeventfd.signal-contended-sleeps-in-atomic',
      );
  }
  const tested = k.v.blockDisabledMmio && !k.v.bugRecursiveMemoryLock;
  if (tested && !memoryEnabled(k)) return step({ kind: 'ok' }, 'ioeventfd.signal-memory-disabled-dropped');
  const hz = hazardReason(k);
  if (hz !== undefined) return step({ kind: 'hazard', reason: hz }, 'ioeventfd.signal-reaches-disabled-device', eff);
  return step({ kind: 'ok' }, 'ioeventfd.signal-write', eff);
}
