// The random campaign's grammar: op sequences over everything the lab runner can do, for one
// device. Each sequence starts with `open` on a device vfio-pci has just closed (the lab records
// the config space it finds there, so the replay starts from the same state) and then draws
// operations in any order: COMMAND, PMCSR, BAR, ROM and MSI-X control writes of every width,
// config reads, mmap/munmap, CPU loads and stores through live mappings, preads/pwrites on every
// region at and past its end, resets and hot resets, low-power entry/exit with and without
// wakeup, DMABUF export and close, close + reopen, info ioctls, SET_IRQS.
//
// Writes only ever reach the device through vfio-pci's config handling or the profile's scratch
// registers (src/lab/devices.ts): the campaign tests the kernel, not QEMU's device model.
import type { DeviceSnapshot, EventBody, Trace, TraceEvent, TraceHeader } from '../../trace/types.js';
import { profileOf, type RandomProfile } from './profile.js';
import { mixSeed, Rng } from './rng.js';

export interface SequenceSpec {
  seed: number;
  index: number;
}

/** The name a sequence carries through the lab (op script file, console markers, trace title). */
export function sequenceName(s: SequenceSpec): string {
  return `r${s.seed}-${s.index}`;
}

const MAP_BASE = 0x7f0000000000n;
const MAP_STRIDE = 0x1000000n; // 16 MiB per slot: larger than any lab BAR
const MAX_MAPS = 4;

interface Mapping {
  slot: number;
  region: number;
  offset: bigint;
  length: bigint;
  prot: number;
}

class Gen {
  readonly events: EventBody[] = [];
  readonly maps: (Mapping | null)[] = new Array<Mapping | null>(MAX_MAPS).fill(null);
  open = true;
  exports = 0;

  constructor(
    readonly r: Rng,
    readonly p: RandomProfile,
  ) {}

  push(e: EventBody): void {
    this.events.push(e);
  }

  get page(): bigint {
    return BigInt(this.p.device.pageSize);
  }

  barSize(i: number): bigint {
    return this.p.device.bars.find((b) => b.index === i)?.size ?? 0n;
  }

  regionSize(region: number): bigint {
    if (region === 7) return BigInt(this.p.configSize);
    if (region === 6) return this.p.device.romSize;
    return this.barSize(region);
  }

  // ---- config space -------------------------------------------------------------------------

  cfgWrite(offset: number, len: number, value: number): void {
    const data = new Uint8Array(len);
    for (let i = 0; i < len; i++) data[i] = (value >>> (8 * i)) & 0xff;
    this.push({ kind: 'cfg-write', offset, data });
  }

  command(): void {
    const r = this.r;
    const w = r.weighted([
      [5, 2],
      [2, 1],
      [1, 4],
    ] as const);
    if (w === 2) this.cfgWrite(0x04, 2, r.pick([0x0103, 0x0101, 0x0102, 0x0100, 0x0000, 0x0507, 0x0503, 0x0003, 0x0403, 0x0107]));
    else if (w === 1) {
      if (r.chance(0.75)) this.cfgWrite(0x04, 1, r.pick([0x03, 0x01, 0x02, 0x00, 0x07]));
      else this.cfgWrite(0x05, 1, r.pick([0x00, 0x04, 0x01]));
    } else this.cfgWrite(0x04, 4, (0x0010_0000 | r.pick([0x0103, 0x0101, 0x0102, 0x0000])) >>> 0);
  }

  pmcsr(): void {
    const r = this.r;
    if (this.p.pm === null) {
      // No PM capability: the same write lands on whatever is there (unassigned or another cap).
      this.cfgWrite(r.pick([0x44, 0x48, 0xcc, 0x54]), 2, r.pick([0x0000, 0x0003]));
      return;
    }
    const at = this.p.pm + 4;
    const state = r.weighted([
      [4, 3],
      [4, 0],
      [1, 1],
      [1, 2],
    ] as const);
    const extra = r.weighted([
      [6, 0],
      [1, 0x0100],
      [1, 0x8000],
    ] as const);
    if (r.chance(0.2)) this.cfgWrite(at, 1, state);
    else this.cfgWrite(at, 2, state | extra);
  }

  bar(): void {
    const r = this.r;
    const reg = r.pick([0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x30]);
    const orig = (this.p.device.config[reg] | (this.p.device.config[reg + 1] << 8) | (this.p.device.config[reg + 2] << 16) | (this.p.device.config[reg + 3] << 24)) >>> 0;
    const value = r.weighted([
      [4, 0xffffffff],
      [2, orig],
      [1, 0],
      [1, reg === 0x30 ? (orig | 1) >>> 0 : 0xfffff000],
    ] as const);
    const len = r.weighted([
      [6, 4],
      [1, 2],
      [1, 1],
    ] as const);
    const off = len === 4 ? reg : reg + r.pick(len === 2 ? [0, 2] : [0, 1, 2, 3]);
    this.cfgWrite(off, len, len === 4 ? value : (value >>> (8 * (off - reg))) & (len === 2 ? 0xffff : 0xff));
  }

  msixControl(): void {
    const r = this.r;
    const mx = this.p.msix;
    if (mx === null) {
      this.cfgRead();
      return;
    }
    if (r.chance(0.3)) this.cfgWrite(mx.cap + 3, 1, r.pick([0x80, 0x40, 0xc0, 0x00]));
    else this.cfgWrite(mx.cap + 2, 2, r.pick([0x8000, 0x4000, 0xc000, 0x0000]));
  }

  cfgRead(): void {
    const r = this.r;
    const p = this.p;
    const interesting = [0x00, 0x04, 0x06, 0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x30, 0x3c, 0x34];
    if (p.pm !== null) interesting.push(p.pm, p.pm + 4);
    if (p.msix !== null) interesting.push(p.msix.cap, p.msix.cap + 2);
    if (p.msi !== null) interesting.push(p.msi, p.msi + 2);
    const kind = r.weighted([
      [6, 'known'],
      [2, 'any'],
      [1, 'edge'],
    ] as const);
    if (kind === 'known') {
      const off = r.pick(interesting);
      this.push({ kind: 'cfg-read', offset: off, len: r.pick([2, 4, 4, 1]) });
    } else if (kind === 'any') {
      const len = r.pick([1, 2, 4]);
      this.push({ kind: 'cfg-read', offset: r.int(p.configSize / len) * len, len });
    } else {
      this.push({ kind: 'cfg-read', offset: r.pick([0xffc, 0xffe, 0x1000, 0xfc, 0x100]), len: r.pick([4, 8, 0]) });
    }
  }

  // ---- BARs -----------------------------------------------------------------------------------

  freeSlot(): number {
    return this.maps.findIndex((m) => m === null);
  }

  mmap(): void {
    const r = this.r;
    let slot = this.freeSlot();
    if (slot < 0) {
      this.munmap();
      slot = this.freeSlot();
    }
    const addr = MAP_BASE + BigInt(slot) * MAP_STRIDE;
    const good = this.p.memBars.length > 0 && r.chance(0.8);
    const region = good ? r.pick(this.p.memBars).index : r.pick([0, 1, 2, 3, 4, 5, 6, 7, 9]);
    const size = this.regionSize(region);
    const page = this.page;
    const whole = size >= page ? size : page;
    const kind = r.weighted([
      [6, 'whole'],
      [2, 'page'],
      [1, 'past'],
      [1, 'long'],
    ] as const);
    let offset = 0n;
    let length = whole;
    if (kind === 'page') {
      const pages = size > page ? size / page : 1n;
      offset = BigInt(r.int(Number(pages))) * page;
      length = page;
    } else if (kind === 'past') {
      offset = whole;
      length = page;
    } else if (kind === 'long') {
      length = whole + page;
    }
    const prot = r.chance(0.85) ? 3 : 1;
    this.push({ kind: 'mmap', region, offset, length, prot, addr });
    // Kept as live even if the real mmap fails: a later access then finds no mapping in the
    // runner (no result, not compared), and munmap of it is harmless.
    this.maps[slot] = { slot, region, offset, length, prot };
  }

  munmap(): void {
    const live = this.maps.filter((m): m is Mapping => m !== null);
    if (live.length === 0) return;
    const m = this.r.pick(live);
    this.push({ kind: 'munmap', addr: MAP_BASE + BigInt(m.slot) * MAP_STRIDE, length: m.length });
    this.maps[m.slot] = null;
  }

  /** A CPU access target inside a live mapping: a stable/scratch register, or the MSI-X table/PBA. */
  cpuTargets(write: boolean): { bar: number; offset: number; len: number; mask?: number }[] {
    const out: { bar: number; offset: number; len: number; mask?: number }[] = [];
    const regs = write ? this.p.scratch : [...this.p.stable, ...this.p.scratch];
    for (const g of regs) out.push({ bar: g.bar, offset: g.offset, len: g.len, mask: g.mask });
    const mx = this.p.msix;
    if (!write && mx !== null) {
      out.push({ bar: mx.tableBar, offset: mx.tableOffset + 12, len: 4 }); // vector 0 control
      out.push({ bar: mx.pbaBar, offset: mx.pbaOffset, len: 4 });
    }
    return out.filter((t) =>
      this.maps.some((m) => m !== null && m.region === t.bar && BigInt(t.offset) >= m.offset && BigInt(t.offset + t.len) <= m.offset + m.length),
    );
  }

  cpu(write: boolean): void {
    const r = this.r;
    const targets = this.cpuTargets(write);
    if (targets.length === 0) {
      this.mmap();
      return;
    }
    const t = r.pick(targets);
    if (write) {
      const v = (r.u32() & (t.mask ?? 0xffffffff)) >>> 0;
      this.push({ kind: 'mem-write', bar: t.bar, offset: BigInt(t.offset), len: t.len, value: BigInt(v) });
    } else {
      this.push({ kind: 'mem-read', bar: t.bar, offset: BigInt(t.offset), len: t.len });
    }
  }

  /** pread/pwrite on any region, at registers, at and past its end. */
  regionAccess(write: boolean): void {
    const r = this.r;
    const region = r.pick([0, 1, 2, 3, 4, 5, 6, 6, 8, 9, ...this.p.memBars.map((b) => b.index)]);
    const size = this.regionSize(region);
    const len = r.pick([4, 4, 2, 1, 8]);
    const reg = (write ? this.p.scratch : [...this.p.stable, ...this.p.scratch]).filter((g) => g.bar === region);
    const places: bigint[] = [0n, size, size + 0x1000n];
    if (size >= 4n) places.push(size - 4n, size - 2n);
    for (const g of reg) places.push(BigInt(g.offset), BigInt(g.offset));
    const mx = this.p.msix;
    if (mx !== null && mx.tableBar === region) places.push(BigInt(mx.tableOffset), BigInt(mx.tableOffset + 12));
    if (mx !== null && mx.pbaBar === region) places.push(BigInt(mx.pbaOffset));
    let offset = r.pick(places);
    if (!write) {
      this.push({ kind: 'region-read', region, offset, len });
      return;
    }
    // Writes: only where they cannot start anything in the device: the scratch registers, the
    // MSI-X table through pwrite (vfio-pci drops it), past the end, the ROM (read-only).
    const g = reg.find((x) => BigInt(x.offset) === offset);
    const safe = g !== undefined || offset >= size || region === 6 || region >= 8 || size === 0n ||
      (mx !== null && mx.tableBar === region && offset >= BigInt(mx.tableOffset) && offset + BigInt(len) <= BigInt(mx.tableOffset + mx.vectors * 16));
    if (!safe) offset = size;
    const n = g !== undefined ? g.len : len;
    const v = (r.u32() & (g?.mask ?? 0xffffffff)) >>> 0;
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = i < 4 ? (v >>> (8 * i)) & 0xff : 0;
    this.push({ kind: 'region-write', region, offset, data });
  }

  // ---- ioctls -------------------------------------------------------------------------------

  lowPower(): void {
    const r = this.r;
    const which = r.weighted([
      [3, 'entry'],
      [3, 'entry-with-wakeup'],
      [4, 'exit'],
      [1, 'odd'],
    ] as const);
    if (which === 'entry') this.push({ kind: 'ioctl', op: 'low-power', request: 'entry', flags: 0x20003, wakeupFd: -1 });
    else if (which === 'entry-with-wakeup')
      this.push({ kind: 'ioctl', op: 'low-power', request: 'entry-with-wakeup', flags: 0x20004, wakeupFd: r.chance(0.9) ? 9 : -1 });
    else if (which === 'exit') this.push({ kind: 'ioctl', op: 'low-power', request: 'exit', flags: 0x20005, wakeupFd: -1 });
    else this.push({ kind: 'ioctl', op: 'low-power', request: 'entry', flags: r.pick([0x10003, 0x40003, 0x30003, 0x3]), wakeupFd: -1 });
  }

  info(): void {
    const r = this.r;
    const which = r.int(3);
    if (which === 0) this.push({ kind: 'ioctl', op: 'get-info', argsz: r.pick([16, 24, 15]) });
    else if (which === 1) this.push({ kind: 'ioctl', op: 'get-region-info', index: r.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), argsz: r.pick([32, 32, 40, 48, 31]) });
    else this.push({ kind: 'ioctl', op: 'get-irq-info', index: r.pick([0, 1, 2, 3, 4, 5]), argsz: r.pick([16, 16, 15]) });
  }

  irqs(): void {
    const r = this.r;
    const which = r.weighted([
      [3, 'msix-on'],
      [3, 'msix-off'],
      [1, 'msi-on'],
      [1, 'msi-off'],
      [1, 'intx-on'],
      [1, 'intx-off'],
    ] as const);
    const count = r.range(1, 2);
    if (which === 'msix-on') this.push({ kind: 'ioctl', op: 'set-irqs', flags: 0x24, index: 2, start: 0, count, argsz: 20 + 4 * count, fds: [] });
    else if (which === 'msix-off') this.push({ kind: 'ioctl', op: 'set-irqs', flags: 0x21, index: 2, start: 0, count: 0, argsz: 20, fds: [] });
    else if (which === 'msi-on') this.push({ kind: 'ioctl', op: 'set-irqs', flags: 0x24, index: 1, start: 0, count: 1, argsz: 24, fds: [] });
    else if (which === 'msi-off') this.push({ kind: 'ioctl', op: 'set-irqs', flags: 0x21, index: 1, start: 0, count: 0, argsz: 20, fds: [] });
    else if (which === 'intx-on') this.push({ kind: 'ioctl', op: 'set-irqs', flags: 0x24, index: 0, start: 0, count: 1, argsz: 24, fds: [] });
    else this.push({ kind: 'ioctl', op: 'set-irqs', flags: 0x21, index: 0, start: 0, count: 0, argsz: 20, fds: [] });
  }

  dmabuf(): void {
    const r = this.r;
    if (this.exports > 0 && r.chance(0.3)) {
      this.push({ kind: 'dmabuf', dmabuf: r.int(this.exports), op: 'close' });
      return;
    }
    const bar = this.p.memBars.length > 0 && r.chance(0.8) ? r.pick(this.p.memBars) : undefined;
    const region = bar?.index ?? r.pick([2, 4, 6, 7]);
    const size = this.regionSize(region);
    const length = r.weighted([
      [4, this.page],
      [2, size > 0n ? size : this.page],
      [1, 0x800n],
      [1, size + this.page],
    ] as const);
    const flags = r.weighted([
      [6, 0x1000b],
      [1, 0x4000b],
      [1, 0x2000b],
    ] as const);
    this.push({ kind: 'ioctl', op: 'dma-buf', flags, regionIndex: region, openFlags: 0x2, dmaBufFlags: 0, ranges: [{ offset: 0n, length }] });
    if (flags === 0x1000b) this.exports++;
  }

  reopen(): void {
    this.push({ kind: 'close' });
    this.push({ kind: 'open' });
  }

  step(): void {
    const r = this.r;
    const op = r.weighted([
      [10, 'command'],
      [8, 'pmcsr'],
      [4, 'bar'],
      [3, 'msix-control'],
      [10, 'cfg-read'],
      [6, 'mmap'],
      [3, 'munmap'],
      [12, 'cpu-read'],
      [4, 'cpu-write'],
      [8, 'pread'],
      [3, 'pwrite'],
      [3, 'reset'],
      [1, 'hot-reset'],
      [6, 'low-power'],
      [3, 'info'],
      [2, 'irqs'],
      [2, 'dmabuf'],
      [2, 'reopen'],
    ] as const);
    switch (op) {
      case 'command':
        return this.command();
      case 'pmcsr':
        return this.pmcsr();
      case 'bar':
        return this.bar();
      case 'msix-control':
        return this.msixControl();
      case 'cfg-read':
        return this.cfgRead();
      case 'mmap':
        return this.mmap();
      case 'munmap':
        return this.munmap();
      case 'cpu-read':
        return this.cpu(false);
      case 'cpu-write':
        return this.cpu(true);
      case 'pread':
        return this.regionAccess(false);
      case 'pwrite':
        return this.regionAccess(true);
      case 'reset':
        return this.push({ kind: 'ioctl', op: 'reset' });
      case 'hot-reset':
        if (r.chance(0.5)) return this.push({ kind: 'ioctl', op: 'get-hot-reset-info', argsz: r.pick([12, 20]) });
        return this.push({ kind: 'ioctl', op: 'hot-reset', flags: 0, groupFds: [5] });
      case 'low-power':
        return this.lowPower();
      case 'info':
        return this.info();
      case 'irqs':
        return this.irqs();
      case 'dmabuf':
        return this.dmabuf();
      case 'reopen':
        return this.reopen();
    }
  }
}

export interface GenerateOptions {
  /** Operations after the opening `open` (drawn from [min, max]). */
  minOps?: number;
  maxOps?: number;
}

/** The events of sequence (seed, index) for this device: pure, the same on every call. */
export function generateEvents(device: DeviceSnapshot, spec: SequenceSpec, opts: GenerateOptions = {}): EventBody[] {
  const r = new Rng(mixSeed(spec.seed, spec.index));
  const g = new Gen(r, profileOf(device));
  g.push({ kind: 'open' });
  const n = r.range(opts.minOps ?? 6, opts.maxOps ?? 30);
  while (g.events.length < n + 1) g.step();
  return g.events;
}

/** Events with their bookkeeping fields (sequence numbers in order, no timing, one thread). */
export function asTraceEvents(bodies: readonly EventBody[]): TraceEvent[] {
  return bodies.map((b, i) => ({ ...b, seq: BigInt(i), tsNs: 0n, tid: 0, overlap: 0 }) as TraceEvent);
}

/** The header of a generated trace: the lab replaces it with the real kernel's and snapshot. */
export function syntheticHeader(device: DeviceSnapshot, title: string): TraceHeader {
  return {
    formatVersion: 1,
    source: 'synthetic',
    kernelRelease: '',
    vmm: { name: '', version: '', accel: 'unknown', options: [] },
    tracerVersion: '',
    device,
    title,
  };
}

/** Sequence (seed, index) as a trace whose header carries the device the grammar was drawn for. */
export function generateSequence(device: DeviceSnapshot, spec: SequenceSpec, opts: GenerateOptions = {}): Trace {
  return { header: syntheticHeader(device, `lab random ${sequenceName(spec)}`), events: asTraceEvents(generateEvents(device, spec, opts)) };
}
