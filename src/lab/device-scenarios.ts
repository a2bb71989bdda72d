// The scenario set for a lab device other than the e1000e the hand-written scenarios
// (lab/scenarios/*.txt) were written for: the same questions (D-states, MSE and mappings, resets,
// reopen, edges of every region, info ioctls, MSI-X), asked at the registers this device has,
// built from its snapshot and the lab's table of its safe registers (src/lab/devices.ts).
// The first scenario, `probe`, is the trait probe whose outcomes say which traits the device has
// (src/lab/traits.ts reads them back).
import type { DeviceSnapshot, EventBody, Trace } from '../trace/types.js';
import { asTraceEvents, syntheticHeader } from './random/generate.js';
import { profileOf, type RandomProfile } from './random/profile.js';

const MAP = 0x7f0000000000n;

const cfgW = (offset: number, len: number, value: number): EventBody => {
  const data = new Uint8Array(len);
  for (let i = 0; i < len; i++) data[i] = (value >>> (8 * i)) & 0xff;
  return { kind: 'cfg-write', offset, data };
};

function mapLen(p: RandomProfile, bar: number): bigint {
  const size = p.device.bars.find((b) => b.index === bar)?.size ?? 0n;
  const page = BigInt(p.device.pageSize);
  return size < page ? page : size;
}

/** The register the scenarios read through mappings and preads: a stable one, else offset 0. */
function probeReg(p: RandomProfile): { bar: number; offset: bigint; len: number } | null {
  const s = p.stable[0];
  if (s) return { bar: s.bar, offset: BigInt(s.offset), len: s.len };
  const b = p.memBars[0];
  return b ? { bar: b.index, offset: 0n, len: 4 } : null;
}

/** Reads the probe register through the mapping and by pread. */
function access(p: RandomProfile): EventBody[] {
  const r = probeReg(p);
  if (!r) return [];
  return [
    { kind: 'mem-read', bar: r.bar, offset: r.offset, len: r.len },
    { kind: 'region-read', region: r.bar, offset: r.offset, len: r.len },
  ];
}

function traits(p: RandomProfile): EventBody[] {
  const ev: EventBody[] = [{ kind: 'open' }, { kind: 'cfg-read', offset: 0x04, len: 2 }, { kind: 'cfg-read', offset: 0x06, len: 2 }];
  const r = probeReg(p);
  if (r) ev.push({ kind: 'mmap', region: r.bar, offset: 0n, length: mapLen(p, r.bar), prot: 3, addr: MAP });
  if (p.pm !== null) {
    const at = p.pm + 4;
    ev.push({ kind: 'cfg-read', offset: p.pm, len: 4 }, { kind: 'cfg-read', offset: at, len: 2 });
    // Each D-state requested from D0, read back, with a BAR access in it, then D0 again.
    for (const d of [3, 1, 2]) ev.push(cfgW(at, 2, d), { kind: 'cfg-read', offset: at, len: 2 }, ...access(p), cfgW(at, 2, 0), { kind: 'cfg-read', offset: at, len: 2 }, ...access(p));
  } else {
    ev.push(...access(p));
  }
  // What a reset clears: a scratch register written, the reset, read back (by pread and mapping).
  const s = p.scratch[0];
  if (s) {
    ev.push({ kind: 'region-write', region: s.bar, offset: BigInt(s.offset), data: Uint8Array.from([0x50, 0x0a, 0x0a, 0x0a].slice(0, s.len)) });
    ev.push({ kind: 'region-read', region: s.bar, offset: BigInt(s.offset), len: s.len });
  }
  ev.push({ kind: 'ioctl', op: 'get-info', argsz: 16 }, { kind: 'ioctl', op: 'reset' });
  if (s) ev.push({ kind: 'region-read', region: s.bar, offset: BigInt(s.offset), len: s.len });
  ev.push({ kind: 'cfg-read', offset: 0x04, len: 2 });
  if (p.pm !== null) ev.push({ kind: 'cfg-read', offset: p.pm + 4, len: 2 });
  ev.push(...access(p));
  // Reopen: what the close (vfio-pci's own reset attempt) left.
  if (r) ev.push({ kind: 'munmap', addr: MAP, length: mapLen(p, r.bar) });
  ev.push({ kind: 'close' }, { kind: 'open' });
  if (s) ev.push({ kind: 'region-read', region: s.bar, offset: BigInt(s.offset), len: s.len });
  ev.push({ kind: 'cfg-read', offset: 0x04, len: 2 }, { kind: 'close' });
  return ev;
}

function pmMse(p: RandomProfile): EventBody[] {
  const r = probeReg(p);
  const ev: EventBody[] = [{ kind: 'open' }];
  if (!r) return [...ev, { kind: 'close' }];
  const len = mapLen(p, r.bar);
  ev.push({ kind: 'mmap', region: r.bar, offset: 0n, length: len, prot: 3, addr: MAP }, ...access(p));
  // MSE off / on
  ev.push(cfgW(0x04, 2, 0x0101), ...access(p), cfgW(0x04, 2, 0x0103), ...access(p));
  ev.push(cfgW(0x04, 1, 0x01), ...access(p), cfgW(0x04, 1, 0x03), ...access(p));
  if (p.pm !== null) {
    const at = p.pm + 4;
    // D3hot and back; MSE off in D3hot; MSE on in D3hot; D3hot -> D0 with MSE off
    ev.push(cfgW(at, 2, 3), ...access(p), cfgW(at, 2, 0), ...access(p));
    ev.push(cfgW(0x04, 2, 0x0101), cfgW(at, 2, 3), cfgW(0x04, 2, 0x0103), cfgW(at, 2, 0), { kind: 'cfg-read', offset: 0x04, len: 2 }, ...access(p));
    ev.push(cfgW(at, 2, 3), cfgW(0x04, 2, 0x0101), cfgW(at, 2, 0), ...access(p), cfgW(0x04, 2, 0x0103), ...access(p));
    ev.push(cfgW(at, 1, 3), { kind: 'cfg-read', offset: at, len: 2 }, ...access(p), cfgW(at, 1, 0), ...access(p));
  }
  // low power
  ev.push({ kind: 'ioctl', op: 'low-power', request: 'entry', flags: 0x20003, wakeupFd: -1 }, ...access(p), { kind: 'mem-read', bar: r.bar, offset: r.offset, len: r.len });
  ev.push({ kind: 'ioctl', op: 'low-power', request: 'exit', flags: 0x20005, wakeupFd: -1 }, ...access(p));
  ev.push({ kind: 'ioctl', op: 'low-power', request: 'entry-with-wakeup', flags: 0x20004, wakeupFd: 9 }, { kind: 'mem-read', bar: r.bar, offset: r.offset, len: r.len });
  ev.push({ kind: 'region-read', region: r.bar, offset: r.offset, len: r.len }, { kind: 'mem-read', bar: r.bar, offset: r.offset, len: r.len });
  ev.push({ kind: 'ioctl', op: 'low-power', request: 'exit', flags: 0x20005, wakeupFd: -1 });
  if (p.pm !== null) {
    ev.push(cfgW(p.pm + 4, 2, 3), { kind: 'ioctl', op: 'low-power', request: 'entry', flags: 0x20003, wakeupFd: -1 });
    ev.push({ kind: 'ioctl', op: 'low-power', request: 'exit', flags: 0x20005, wakeupFd: -1 }, { kind: 'cfg-read', offset: p.pm + 4, len: 2 }, ...access(p));
  }
  ev.push({ kind: 'munmap', addr: MAP, length: len }, { kind: 'close' });
  return ev;
}

function resetReopen(p: RandomProfile): EventBody[] {
  const r = probeReg(p);
  const ev: EventBody[] = [{ kind: 'open' }, { kind: 'ioctl', op: 'get-hot-reset-info', argsz: 20 }];
  const len = r ? mapLen(p, r.bar) : 0n;
  if (r) ev.push({ kind: 'mmap', region: r.bar, offset: 0n, length: len, prot: 3, addr: MAP }, ...access(p));
  ev.push({ kind: 'ioctl', op: 'reset' }, ...access(p), { kind: 'cfg-read', offset: 0x04, len: 2 });
  ev.push(cfgW(0x04, 2, 0x0101), { kind: 'ioctl', op: 'reset' }, ...access(p), cfgW(0x04, 2, 0x0103), ...access(p));
  if (p.pm !== null) ev.push(cfgW(p.pm + 4, 2, 3), { kind: 'ioctl', op: 'reset' }, { kind: 'cfg-read', offset: p.pm + 4, len: 2 }, ...access(p));
  ev.push({ kind: 'ioctl', op: 'hot-reset', flags: 0, groupFds: [5] }, ...access(p));
  if (p.msix !== null) {
    ev.push({ kind: 'ioctl', op: 'set-irqs', flags: 0x24, index: 2, start: 0, count: 2, argsz: 28, fds: [] }, { kind: 'cfg-read', offset: p.msix.cap + 2, len: 2 });
    ev.push({ kind: 'ioctl', op: 'reset' }, { kind: 'cfg-read', offset: p.msix.cap + 2, len: 2 }, { kind: 'ioctl', op: 'set-irqs', flags: 0x21, index: 2, start: 0, count: 0, argsz: 20, fds: [] });
  }
  if (p.msi !== null) ev.push({ kind: 'ioctl', op: 'set-irqs', flags: 0x24, index: 1, start: 0, count: 1, argsz: 24, fds: [] }, { kind: 'cfg-read', offset: p.msi + 2, len: 2 }, { kind: 'ioctl', op: 'set-irqs', flags: 0x21, index: 1, start: 0, count: 0, argsz: 20, fds: [] });
  ev.push({ kind: 'ioctl', op: 'set-irqs', flags: 0x24, index: 0, start: 0, count: 1, argsz: 24, fds: [] }, { kind: 'ioctl', op: 'set-irqs', flags: 0x21, index: 0, start: 0, count: 0, argsz: 20, fds: [] });
  // close in D3hot / with MSE off / in low power, reopen each time
  if (p.pm !== null) ev.push(cfgW(p.pm + 4, 2, 3), { kind: 'close' }, { kind: 'open' }, { kind: 'cfg-read', offset: p.pm + 4, len: 2 }, ...access(p));
  ev.push(cfgW(0x04, 2, 0x0101), { kind: 'close' }, { kind: 'open' }, { kind: 'cfg-read', offset: 0x04, len: 2 }, ...access(p));
  ev.push({ kind: 'ioctl', op: 'low-power', request: 'entry', flags: 0x20003, wakeupFd: -1 }, { kind: 'close' }, { kind: 'open' }, ...access(p));
  if (r) ev.push({ kind: 'munmap', addr: MAP, length: len });
  ev.push({ kind: 'close' });
  return ev;
}

function edges(p: RandomProfile): EventBody[] {
  const ev: EventBody[] = [{ kind: 'open' }, { kind: 'ioctl', op: 'get-info', argsz: 24 }];
  for (let i = 0; i <= 9; i++) ev.push({ kind: 'ioctl', op: 'get-region-info', index: i, argsz: 32 });
  for (let i = 0; i <= 5; i++) ev.push({ kind: 'ioctl', op: 'get-irq-info', index: i, argsz: 16 });
  const size = (region: number): bigint =>
    region === 7 ? BigInt(p.configSize) : region === 6 ? p.device.romSize : (p.device.bars.find((b) => b.index === region)?.size ?? 0n);
  for (const region of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) {
    const s = size(region);
    ev.push({ kind: 'region-read', region, offset: 0n, len: 4 });
    if (s >= 4n) ev.push({ kind: 'region-read', region, offset: s - 2n, len: 4 });
    ev.push({ kind: 'region-read', region, offset: s, len: 4 });
    ev.push({ kind: 'region-write', region, offset: s, data: Uint8Array.from([0, 0, 0, 0]) });
  }
  // Config space around the 256-byte boundary: a conventional device has nothing past it.
  ev.push({ kind: 'cfg-read', offset: 0xfc, len: 4 }, { kind: 'cfg-read', offset: 0xfe, len: 4 }, { kind: 'cfg-read', offset: 0x100, len: 4 });
  ev.push({ kind: 'cfg-read', offset: 0xffc, len: 4 }, { kind: 'cfg-read', offset: 0x1000, len: 4 });
  ev.push(cfgW(0x100, 4, 0xffffffff), { kind: 'cfg-read', offset: 0x100, len: 4 });
  // BAR sizing through the virtual BARs
  for (const reg of [0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x30]) ev.push(cfgW(reg, 4, 0xffffffff), { kind: 'cfg-read', offset: reg, len: 4 });
  ev.push({ kind: 'close' }, { kind: 'open' });
  for (const reg of [0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x30]) ev.push({ kind: 'cfg-read', offset: reg, len: 4 });
  // mmap of every region, whole and past the end
  for (const region of [0, 1, 2, 3, 4, 5, 6, 7]) {
    const s = size(region);
    const len = mapLen(p, region);
    ev.push({ kind: 'mmap', region, offset: 0n, length: len, prot: 3, addr: MAP + BigInt(region) * 0x1000000n });
    ev.push({ kind: 'munmap', addr: MAP + BigInt(region) * 0x1000000n, length: len });
    ev.push({ kind: 'mmap', region, offset: s < BigInt(p.device.pageSize) ? BigInt(p.device.pageSize) : s, length: BigInt(p.device.pageSize), prot: 3, addr: MAP + BigInt(region) * 0x1000000n });
    ev.push({ kind: 'munmap', addr: MAP + BigInt(region) * 0x1000000n, length: BigInt(p.device.pageSize) });
  }
  ev.push({ kind: 'close' });
  return ev;
}

export const DEVICE_SCENARIOS = ['probe', 'pm-mse', 'reset-reopen', 'edges'] as const;

/** The device scenario set as traces whose header carries `device` (the lab replaces it). */
export function deviceScenarios(device: DeviceSnapshot, name: string): { name: string; trace: Trace }[] {
  const p = profileOf(device);
  const build: Record<string, () => EventBody[]> = {
    probe: () => traits(p),
    'pm-mse': () => pmMse(p),
    'reset-reopen': () => resetReopen(p),
    edges: () => edges(p),
  };
  // SR-IOV: a PF gets the token / sriov_numvfs scenario, a VF the token and config-space one.
  if (device.sriov !== undefined) build['sriov-pf'] = () => sriovPf(p);
  if (sharesMsixBar(p)) build['msix-layout'] = () => msixLayout(p);
  const token = vfOpenToken(device);
  // Its first open goes without a token: vfio-pci refuses it when the PF is vfio-pci's.
  if (device.sriovVf !== undefined) build['sriov-vf'] = () => [{ kind: 'open' }, { kind: 'cfg-read', offset: 0, len: 4 }, ...withToken(sriovVf(p), token)];
  return Object.keys(build).map((s) => {
    const ev = s === 'sriov-vf' ? build[s]!() : withToken(build[s]!(), token);
    return { name: s, trace: { header: syntheticHeader(device, `lab ${name} ${s}`), events: asTraceEvents(ev) } };
  });
}

/** The MSI-X table lives in a BAR that also holds device registers (nvme's BAR0), not a BAR of its own. */
function sharesMsixBar(p: RandomProfile): boolean {
  const m = p.msix;
  if (m === null) return false;
  const size = p.device.bars.find((b) => b.index === m.tableBar)?.size ?? 0n;
  return m.tableOffset > 0 && size > 0n;
}

/**
 * Issue 15 item 4, a BAR that holds registers and the MSI-X table: what GET_REGION_INFO reports
 * for it with room for its capability chain (MSIX_MAPPABLE, or sparse areas around the table on
 * a kernel without it), a mapping of the whole BAR (allowed since 4.16), and CPU and pread/pwrite
 * accesses below the table, in its first vector, at the PBA and past them.
 */
function msixLayout(p: RandomProfile): EventBody[] {
  const m = p.msix!;
  const bar = m.tableBar;
  const len = mapLen(p, bar);
  const table = BigInt(m.tableOffset);
  const pba = m.pbaBar === bar ? BigInt(m.pbaOffset) : null;
  const ev: EventBody[] = [{ kind: 'open' }, { kind: 'ioctl', op: 'get-region-info', index: bar, argsz: 32 }, { kind: 'ioctl', op: 'get-region-info', index: bar, argsz: 128 }];
  ev.push({ kind: 'mmap', region: bar, offset: 0n, length: len, prot: 3, addr: MAP }, cfgW(0x04, 2, 0x0106));
  const at = (off: bigint): EventBody[] => [
    { kind: 'mem-read', bar, offset: off, len: 4 },
    { kind: 'region-read', region: bar, offset: off, len: 4 },
  ];
  ev.push(...at(0n), ...at(table), ...at(table + 0xcn));
  // A pwrite into the table is dropped by vfio-pci; through the mapping it reaches the device.
  ev.push({ kind: 'region-write', region: bar, offset: table + 0x8n, data: Uint8Array.from([0x11, 0x22, 0x33, 0x44]) }, ...at(table + 0x8n));
  if (pba !== null) ev.push(...at(pba));
  ev.push({ kind: 'ioctl', op: 'ioeventfd', flags: 4, offset: (BigInt(bar) << 40n) + table, data: 1n, fd: 9 });
  ev.push({ kind: 'munmap', addr: MAP, length: len }, { kind: 'close' });
  return ev;
}

const ZERO_TOKEN = '00000000-0000-0000-0000-000000000000';
const TOKEN_A = '6c1e2f4a-1b2c-4d3e-8f90-a1b2c3d4e5f6';
const TOKEN_B = '0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b';

/** The token a VF's opens need: its PF's when the PF is vfio-pci's (the lab sets the all-zero one). */
function vfOpenToken(device: DeviceSnapshot): string | undefined {
  const pf = device.sriovVf?.pf;
  if (pf === undefined || pf.driver !== 'vfio-pci') return undefined;
  return pf.vfToken === '' ? ZERO_TOKEN : pf.vfToken;
}

/** Every plain open of a scenario carries `token` (the sriov-vf scenario's own token opens stay). */
function withToken(ev: EventBody[], token: string | undefined): EventBody[] {
  if (token === undefined) return ev;
  return ev.map((e) => (e.kind === 'open' && e.vfToken === undefined ? { kind: 'open', vfToken: token } : e));
}

const uuidBytes = (t: string): Uint8Array => Uint8Array.from(t.replace(/-/g, '').match(/../g)!.map((h) => parseInt(h, 16)));
const vfTokenFeature = (flags: number, payload: Uint8Array): EventBody => ({ kind: 'ioctl', op: 'feature', flags, feature: flags & 0xffff, payload });

/** A write to the PF's sysfs sriov_numvfs. */
const numvfs = (n: number): EventBody => ({ kind: 'sysfs', path: 'sriov_numvfs', write: String(n) });

/** The PF: its VF token (open, PCI_VF_TOKEN), sriov_numvfs, and D3hot with and without VFs. */
function sriovPf(p: RandomProfile): EventBody[] {
  const r = probeReg(p);
  const ev: EventBody[] = [{ kind: 'open', vfToken: TOKEN_A }];
  ev.push(vfTokenFeature(0x10000, new Uint8Array(16)), vfTokenFeature(0x60000, new Uint8Array(0)), vfTokenFeature(0x20000, new Uint8Array(8)), vfTokenFeature(0x20000, uuidBytes(TOKEN_B)));
  const len = r ? mapLen(p, r.bar) : 0n;
  if (r) ev.push({ kind: 'mmap', region: r.bar, offset: 0n, length: len, prot: 3, addr: MAP }, cfgW(0x04, 2, 0x0106), ...access(p));
  const pm = p.pm;
  const d3 = (): EventBody[] => (pm === null ? [] : [cfgW(pm + 4, 2, 3), { kind: 'cfg-read', offset: pm + 4, len: 2 }, ...access(p), cfgW(pm + 4, 2, 0), { kind: 'cfg-read', offset: pm + 4, len: 2 }, ...access(p)]);
  ev.push(...d3()); // no VFs: D3hot is reached
  ev.push(numvfs(1), ...d3()); // with a VF: the PF stays in D0
  ev.push(numvfs(2), numvfs(1), numvfs(0), ...d3());
  // Enabling VFs while the PF sits in D3hot: it is moved to D0 first (5.19+).
  if (pm !== null) ev.push(cfgW(pm + 4, 2, 3), numvfs(1), { kind: 'cfg-read', offset: pm + 4, len: 2 }, ...access(p), numvfs(0));
  if (r) ev.push({ kind: 'munmap', addr: MAP, length: len });
  ev.push({ kind: 'close' }, { kind: 'open' }, { kind: 'close' });
  return ev;
}

/** The VF: the token check on open, what vfio-pci makes up in its config space, MEM it lacks. */
function sriovVf(p: RandomProfile): EventBody[] {
  const r = probeReg(p);
  const ev: EventBody[] = [{ kind: 'open', vfToken: TOKEN_B }];
  // A wrong token is refused too; the plain open below gets the PF's token (withToken).
  ev.push({ kind: 'cfg-read', offset: 0, len: 4 });
  ev.push({ kind: 'open' }, { kind: 'cfg-read', offset: 0x00, len: 4 }, { kind: 'cfg-read', offset: 0x3c, len: 4 }, { kind: 'cfg-read', offset: 0x04, len: 2 });
  const len = r ? mapLen(p, r.bar) : 0n;
  if (r) ev.push({ kind: 'mmap', region: r.bar, offset: 0n, length: len, prot: 3, addr: MAP }, ...access(p));
  // COMMAND.MEM is emulated: clearing it neither zaps nor blocks (the VF has no such bit).
  ev.push(cfgW(0x04, 2, 0x0000), { kind: 'cfg-read', offset: 0x04, len: 2 }, ...access(p), cfgW(0x04, 2, 0x0006), { kind: 'cfg-read', offset: 0x04, len: 2 }, ...access(p));
  for (const reg of [0x10, 0x14, 0x1c, 0x20]) ev.push({ kind: 'cfg-read', offset: reg, len: 4 }, cfgW(reg, 4, 0xffffffff), { kind: 'cfg-read', offset: reg, len: 4 });
  ev.push(vfTokenFeature(0x20000, uuidBytes(TOKEN_A)), { kind: 'ioctl', op: 'reset' }, { kind: 'cfg-read', offset: 0x04, len: 2 }, ...access(p));
  if (r) ev.push({ kind: 'munmap', addr: MAP, length: len });
  ev.push({ kind: 'close' });
  return ev;
}
