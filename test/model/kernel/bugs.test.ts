// The kernel-bug catalog (src/model/versions/kernel-bugs.ts): its data, which versions carry each
// bug, and one test per model rule the catalog added, named after the rule id.
import { describe, expect, it } from 'vitest';
import { KERNEL_BUGS, BUG_SWITCHES } from '../../../src/model/versions/kernel-bugs.js';
import { findKernelVersion, KERNEL_VERSIONS } from '../../../src/model/versions/kernel.js';
import { isAncestorOrSelf } from '../../../src/model/versions/lineage.js';
import { renderOutcome } from '../../../src/model/outcome.js';
import { BAR0_ADDR, cfgw, expectStep, model, run } from './helpers.js';

const baseOf = (id: string) => findKernelVersion(id)?.base;
const has = (id: string, sw: (typeof BUG_SWITCHES)[number]) => findKernelVersion(id)!.switches[sw];

describe('kernel-bug catalog data', () => {
  it('every bug is a switch with a fix commit, a trigger, an outcome and sourced versions', () => {
    expect(KERNEL_BUGS.map((b) => b.switch).sort()).toEqual([...BUG_SWITCHES].sort());
    for (const b of KERNEL_BUGS) {
      expect(b.fixedBy.commit, b.slug).toMatch(/^[0-9a-f]{12}$/);
      expect(b.introducedIn.length, b.slug).toBeGreaterThan(0);
      expect(b.fixedIn.length, b.slug).toBeGreaterThan(0);
      for (const p of [...b.introducedIn, ...b.fixedIn]) expect(['S', 'P', 'M', 'L']).toContain(p.evidence);
      expect(b.trigger.length * b.outcome.length * b.report.length).toBeGreaterThan(0);
    }
  });

  it('a bug is in the versions that descend from its cause and not from its fix', () => {
    expect(['linux-5.7', 'linux-5.8', 'linux-5.10', 'linux-5.10.49', 'linux-5.10.50', 'linux-5.14'].map((v) => has(v, 'bugConcurrentVmaFault'))).toEqual([false, true, true, true, false, false]);
    expect(['linux-5.8', 'linux-5.8.2', 'linux-5.8.3', 'linux-5.9'].map((v) => has(v, 'bugRecursiveMemoryLock'))).toEqual([true, true, false, false]);
    expect(['linux-5.8.2', 'linux-5.8.3', 'linux-5.9', 'linux-5.9.8', 'linux-5.9.9', 'linux-5.10'].map((v) => has(v, 'bugIoeventfdSleepInAtomic'))).toEqual([false, true, true, true, false, false]);
    expect(['block-disabled-mmio@v1', 'block-disabled-mmio@v3', 'linux-5.8'].map((v) => has(v, 'bugVfMmioBlocking'))).toEqual([true, true, false]);
    expect(['block-disabled-mmio@v1', 'block-disabled-mmio@v2', 'linux-5.8'].map((v) => has(v, 'bugContendedFaultSigbus'))).toEqual([true, false, false]);
    expect(['linux-5.7', 'linux-5.8', 'linux-5.8.16', 'linux-5.8.17', 'linux-5.9', 'linux-5.10'].map((v) => has(v, 'bugNoCommandMemoryIgnored'))).toEqual([false, true, true, false, true, false]);
    // Mainline 6.9/6.10 are not modeled but order the releases around them. A branch can take the
    // cause, revert it and show it again: the nearest catalog point in a version's ancestry decides.
    expect(['linux-6.1', 'linux-6.1.90', 'linux-6.1.91', 'linux-6.1.94', 'linux-6.1.95', 'linux-6.1.191', 'linux-6.1.192'].map((v) => has(v, 'bugForkUntrackedPtes'))).toEqual([
      false, false, true, true, false, false, true,
    ]);
    expect(['linux-6.6', 'linux-6.6.30', 'linux-6.6.34', 'linux-6.6.35', 'linux-6.6.134', 'linux-6.12'].map((v) => has(v, 'bugForkUntrackedPtes'))).toEqual([
      false, true, true, false, false, false,
    ]);
    expect(['linux-5.7', 'linux-5.10', 'linux-5.10.19', 'linux-5.10.20', 'linux-5.14'].map((v) => has(v, 'bugType1PfnmapIgnoresProt'))).toEqual([true, true, true, false, false]);
    expect(['linux-6.6', 'linux-6.12', 'linux-6.12.9', 'linux-6.12.10', 'linux-6.12.28', 'linux-6.12.29', 'linux-6.19'].map((v) => has(v, 'bugHugeFaultUnalignedPfn'))).toEqual([
      false, true, true, false, false, false, false,
    ]);
    expect(['linux-6.6', 'linux-6.12', 'linux-6.12.9', 'linux-6.12.10', 'linux-6.12.28', 'linux-6.12.29', 'linux-6.19'].map((v) => has(v, 'bugHugeFaultAddressOrder'))).toEqual([
      false, true, true, true, true, false, false,
    ]);
    expect(['linux-5.7', 'linux-5.10.230', 'linux-5.10.231', 'linux-6.6.63', 'linux-6.6.64', 'linux-6.12', 'linux-6.12.1', 'linux-6.12.2', 'linux-6.19'].map((v) => has(v, 'bugFirstEcapPermsOob'))).toEqual([
      true, true, false, true, false, true, true, false, false,
    ]);
    expect(['linux-5.7', 'linux-5.10.214', 'linux-5.10.215', 'linux-5.15.153', 'linux-5.15.154', 'linux-6.1.84', 'linux-6.6.23', 'linux-6.6.24', 'linux-6.12'].map((v) => has(v, 'bugIntxMaskUnlocked'))).toEqual([
      true, true, false, true, false, false, true, false, false,
    ]);
  });

  it('each stable point carries the source of the bug switch it changes', () => {
    const p = findKernelVersion('linux-5.10.50')!;
    expect(p.axis).toBe('linux-5.10.y');
    expect(p.base).toBe('linux-5.10');
    expect(p.sources.bugConcurrentVmaFault?.ref).toContain('6a45ece4c9af');
    expect(p.title).toContain('fixes concurrent-vma-fault (6a45ece4c9af)');
    expect(findKernelVersion('linux-5.10.49')!.title).toContain('last point before');
    for (const v of KERNEL_VERSIONS) expect(v.id).not.toMatch(/^linux-\d+\.\d+\.0$/);
  });

  it('a point that names its own commit (a backport, a revert) is sourced with it', () => {
    expect(findKernelVersion('linux-6.1.91')!.sources.bugForkUntrackedPtes?.ref).toContain('0c42f7e039ab');
    expect(findKernelVersion('linux-6.6.35')!.title).toContain('fixes fork-untracked-ptes (dd782da47076)');
    expect(findKernelVersion('linux-6.1.95')!.title).toContain('fixes fork-untracked-ptes (commit unknown)');
  });
});

describe('version lineage', () => {
  it('orders mainline, keeps stable points on their branch and series on their base', () => {
    expect(isAncestorOrSelf('linux-5.8', 'linux-5.10.49', baseOf)).toBe(true);
    expect(isAncestorOrSelf('linux-5.10.50', 'linux-5.14', baseOf)).toBe(false);
    expect(isAncestorOrSelf('linux-5.10.50', 'linux-5.10.51', baseOf)).toBe(true);
    expect(isAncestorOrSelf('linux-5.9.9', 'linux-5.10.50', baseOf)).toBe(false);
    expect(isAncestorOrSelf('linux-5.7', 'block-disabled-mmio@v2', baseOf)).toBe(true);
    expect(isAncestorOrSelf('block-disabled-mmio@v1', 'block-disabled-mmio@v2', baseOf)).toBe(true);
    expect(isAncestorOrSelf('linux-5.8', 'block-disabled-mmio@v3', baseOf)).toBe(false);
    expect(isAncestorOrSelf('banana', 'linux-5.8', baseOf)).toBe(false);
  });
});

describe('kernel failure outcomes', () => {
  it('render with what the user sees', () => {
    expect(renderOutcome({ kind: 'kernel-failure', failure: 'bug', where: 'remap_pfn_range', consequence: 'thread-killed' })).toBe('kernel BUG at remap_pfn_range -> thread killed');
    expect(renderOutcome({ kind: 'kernel-failure', failure: 'warn', where: 'f', consequence: 'continues' })).toBe('WARN at f');
    expect(renderOutcome({ kind: 'kernel-failure', failure: 'lockdep', where: 'recursive memory_lock', consequence: 'continues' })).toBe('lockdep: recursive memory_lock');
    expect(renderOutcome({ kind: 'kernel-failure', failure: 'deadlock', where: 'memory_lock', consequence: 'vmm-hung' })).toBe('deadlock memory_lock -> vmm hung');
    expect(renderOutcome({ kind: 'kernel-failure', failure: 'hang', where: '', consequence: 'host-down' })).toBe('hang -> host down');
    expect(renderOutcome({ kind: 'may', outcomes: [{ kind: 'signal', signal: 'SIGBUS', code: 'BUS_ADRERR' }, { kind: 'ok' }] })).toBe('may: SIGBUS BUS_ADRERR | ok');
  });
});

const BAR0 = 0n;
const ioevtAdd = { kind: 'ioctl', op: 'ioeventfd', flags: 4, offset: BAR0 + 0x100n, data: 1n, fd: 23 } as const;

function withIoeventfd(version: string, mse = true) {
  const m = model(version);
  run(m, { kind: 'open' });
  run(m, cfgw(0x04, mse ? 0x0006 : 0x0004));
  run(m, ioevtAdd);
  return m;
}

describe('ioeventfd signal rules', () => {
  it('ioeventfd.signal-write', () =>
    expectStep(run(withIoeventfd('linux-6.12'), { kind: 'eventfd-signal', fd: 23 }), { kind: 'ok' }, 'ioeventfd.signal-write', [{ kind: 'device-access', what: 'bar0+0x100' }]));
  it('ioeventfd.signal-unregistered', () => expectStep(run(withIoeventfd('linux-6.12'), { kind: 'eventfd-signal', fd: 7 }), { kind: 'ok' }, 'ioeventfd.signal-unregistered'));
  it('ioeventfd.signal-memory-disabled-dropped', () =>
    expectStep(run(withIoeventfd('linux-5.9', false), { kind: 'eventfd-signal', fd: 23 }), { kind: 'ok' }, 'ioeventfd.signal-memory-disabled-dropped'));
  it('ioeventfd.signal-reaches-disabled-device', () => {
    // 5.8 took memory_lock for pread/pwrite but did not test it in the ioeventfd handler (bc93b9ae0151 added it).
    const s = run(withIoeventfd('linux-5.8', false), { kind: 'eventfd-signal', fd: 23 });
    expect(s.rule).toBe('ioeventfd.signal-reaches-disabled-device');
    expect(s.outcome.kind).toBe('hazard');
  });
  it('ioeventfd.signal-contended-sleeps-in-atomic', () => {
    for (const [v, rule] of [
      ['linux-5.9', 'ioeventfd.signal-contended-sleeps-in-atomic'],
      ['linux-5.10', 'ioeventfd.signal-write'],
    ] as const) {
      const m = withIoeventfd(v);
      m.k.race = { memoryLockWriter: true };
      expect(run(m, { kind: 'eventfd-signal', fd: 23 }).rule, v).toBe(rule);
    }
  });
});

describe('hidden-first-ecap', () => {
  // An unknown extended capability (ID 0x40) at 0x100, DSN at 0x140.
  function ecapModel(version: string) {
    const img = new Uint8Array(4096);
    img.set(e1000eSnapshot().config.subarray(0, 256));
    img.set([0x40, 0x00, 0x01, 0x14], 0x100);
    img.set([0x03, 0x00, 0x01, 0x00, 0x56, 0x34, 0x12, 0xff], 0x140);
    return model(version, { config: img });
  }
  it('config.ecap.hidden-head-perms-oob-warn', () => {
    const m = ecapModel('linux-6.12.1');
    run(m, { kind: 'open' });
    expectStep(run(m, { kind: 'cfg-read', offset: 0x100, len: 4 }), { kind: 'kernel-failure', failure: 'warn', where: 'vfio_pci_config_rw', consequence: 'continues' }, 'config.ecap.hidden-head-perms-oob-warn');
    // The next capability is read as usual.
    expect(renderOutcome(run(m, { kind: 'cfg-read', offset: 0x140, len: 4 }).outcome)).toBe('ok ret=4 data=03000100');
  });
  it('the fixed versions read the anchor: ID and version zeroed, the next pointer kept', () => {
    const m = ecapModel('linux-6.12.2');
    run(m, { kind: 'open' });
    expect(renderOutcome(run(m, { kind: 'cfg-read', offset: 0x100, len: 4 }).outcome)).toBe('ok ret=4 data=00000014');
  });
});

describe('type1-pfnmap-prot', () => {
  it('type1.map-dma.write-through-readonly-pte', () => {
    for (const [v, want] of [
      ['linux-5.10.19', 'ok ret=0 [type1.map-dma.write-through-readonly-pte]'],
      ['linux-5.10.20', '-EFAULT [type1.map-dma.write-readonly-efault]'],
    ] as const) {
      const m = model(v);
      run(m, { kind: 'open' });
      run(m, cfgw(0x04, 0x0406));
      run(m, { kind: 'mmap', region: 0, offset: 0n, length: 0x20000n, prot: 1, addr: BAR0_ADDR });
      run(m, { kind: 'mem-read', bar: 0, offset: 0x8n, len: 4 });
      const s = run(m, { kind: 'map-dma', vaddr: BAR0_ADDR, iova: 0x100000n, size: 0x20000n, flags: 3 });
      expect(`${renderOutcome(s.outcome)} [${s.rule}]`, v).toBe(want);
    }
  });
  it('pages not yet present are refused on every version (the write fault fails)', () => {
    const m = model('linux-5.10.19');
    run(m, { kind: 'open' });
    run(m, cfgw(0x04, 0x0406));
    run(m, { kind: 'mmap', region: 0, offset: 0n, length: 0x20000n, prot: 1, addr: BAR0_ADDR });
    expect(run(m, { kind: 'map-dma', vaddr: BAR0_ADDR, iova: 0x100000n, size: 0x20000n, flags: 3 }).rule).toBe('type1.map-dma.write-readonly-efault');
  });
});

describe('vf-mmio-blocking', () => {
  it('a VF is faulted before COMMAND.MEM is set only where the bug is', () => {
    for (const [v, want] of [
      ['block-disabled-mmio@v3', 'SIGBUS BUS_ADRERR'],
      ['linux-5.8', 'ok'],
    ] as const) {
      const m = model(v, { quirks: { isVirtfn: true } });
      run(m, { kind: 'open' });
      run(m, { kind: 'mmap', region: 0, offset: 0n, length: 0x20000n, prot: 3, addr: BAR0_ADDR });
      expect(renderOutcome(run(m, { kind: 'mem-read', bar: 0, offset: 0x8n, len: 4 }).outcome), v).toBe(want);
    }
  });
});

// ----- rules reached through the interleaving explorer (race phases) and the user buffer -----
import { RaceStepper } from '../../../src/replay/race/stepper.js';
import { Replayer } from '../../../src/replay/engine.js';
import { e1000eSnapshot } from '../../../src/model/devices/e1000e.js';
import { emptyDeviceSnapshot, type TraceEvent, type TraceHeader } from '../../../src/trace/types.js';

function header(): TraceHeader {
  void emptyDeviceSnapshot;
  return { formatVersion: 1, source: 'hand-written', kernelRelease: '', vmm: { name: '', version: '', accel: 'unknown', options: [] }, tracerVersion: '', device: e1000eSnapshot(), title: 't' };
}
let seqNo = 0n;
function ev(body: object, m: Partial<TraceEvent> = {}): TraceEvent {
  seqNo++;
  return { seq: seqNo, tsNs: 0n, tid: 1, overlap: 0, ...body, ...m } as TraceEvent;
}
/** Replays events (race groups explored) and returns the rendered outcome + rule of each. */
function replay(version: string, events: TraceEvent[], interleaving: number | null = null): string[] {
  const r = new Replayer(header(), { kernel: version, vmm: null });
  const st = new RaceStepper(r, interleaving, 't');
  const out: string[] = [];
  events.forEach((e, i) => out.push(...st.push(i, e).map((x) => `${renderOutcome(x.step.outcome)} [${x.step.rule}]`)));
  out.push(...st.end().map((x) => `${renderOutcome(x.step.outcome)} [${x.step.rule}]`));
  return out;
}
const setup = [ev({ kind: 'open' }), ev({ kind: 'cfg-write', offset: 4, data: new Uint8Array([6, 0]) }), ev({ kind: 'mmap', region: 0, offset: 0n, length: 0x20000n, prot: 3, addr: BAR0_ADDR })];
const twoFaults = [ev({ kind: 'mem-read', bar: 0, offset: 0x8n, len: 4 }, { tid: 11, overlap: 1 }), ev({ kind: 'mem-read', bar: 0, offset: 0x1008n, len: 4 }, { tid: 12, overlap: 1 })];

describe('race rules', () => {
  it('fault.remap-over-present-ptes-bug', () => {
    const out = replay('linux-5.10', [...setup, ...twoFaults]);
    expect(out[3]).toBe('may: kernel BUG at remap_pfn_range -> thread killed | ok [fault.remap-over-present-ptes-bug|fault.populate,mem.pte-present]');
    expect(replay('linux-5.10', [...setup, ...twoFaults], 0)[4]).toBe('ok [mem.pte-present]');
  });
  it('fault.vma-already-mapped', () => {
    const out = replay('linux-5.10.50', [...setup, ...twoFaults]);
    expect(out[3]).toBe('ok [fault.populate,fault.vma-already-mapped,mem.pte-present]');
    expect(out[4]).toBe('ok [fault.populate,fault.vma-already-mapped,mem.pte-present]');
  });
  it('race.deadlock', () => {
    const buf = ev({ kind: 'region-read', region: 0, offset: 0x8n, len: 4, bufBar: 0, bufOffset: 0x1000n }, { tid: 11, overlap: 2 });
    const writer = ev({ kind: 'cfg-write', offset: 4, data: new Uint8Array([2, 0]) }, { tid: 12, overlap: 2 });
    const out = replay('linux-5.8', [...setup, buf, writer]);
    expect(out[3]).toContain('deadlock memory_lock -> vmm hung');
    expect(out[3]).toContain('lockdep: possible recursive locking detected');
    expect(out[4]).toContain('deadlock memory_lock -> vmm hung');
    expect(replay('linux-5.9', [...setup, buf, writer])[3]).not.toContain('deadlock');
  });
  it('race.thread-deadlocked-before', () => {
    const buf = ev({ kind: 'region-read', region: 0, offset: 0x8n, len: 4, bufBar: 0, bufOffset: 0x1000n }, { tid: 11, overlap: 3 });
    const writer = ev({ kind: 'cfg-write', offset: 4, data: new Uint8Array([2, 0]) }, { tid: 12, overlap: 3 });
    const after = ev({ kind: 'cfg-read', offset: 0, len: 2 }, { tid: 12, overlap: 3 });
    expect(replay('linux-5.8', [...setup, buf, writer, after])[5]).toContain('blocked');
  });
  it('rdwr.user-buf.recursive-memory-lock', () => {
    const buf = ev({ kind: 'region-read', region: 0, offset: 0x8n, len: 4, bufBar: 0, bufOffset: 0x1000n });
    expect(replay('linux-5.8', [...setup, buf])[3]).toBe(
      'lockdep: possible recursive locking detected (memory_lock, vfio_pci_mmap_fault <- vfio_pci_bar_rw) [rdwr.user-buf.recursive-memory-lock]',
    );
    expect(replay('linux-5.9', [...setup, buf])[3]).toBe('ok ret=4 [rdwr.bar.ok]');
  });
  it('config.command.disintx-freed-intx-ctx-bug', () => {
    const intx = [ev({ kind: 'cfg-write', offset: 4, data: new Uint8Array([6, 0]) }), ev({ kind: 'ioctl', op: 'set-irqs', flags: 0x24, index: 0, start: 0, count: 1, argsz: 24, fds: [] })];
    const disintx = ev({ kind: 'cfg-write', offset: 4, data: new Uint8Array([6, 4]) }, { tid: 11, overlap: 4 });
    const teardown = ev({ kind: 'ioctl', op: 'set-irqs', flags: 0x21, index: 0, start: 0, count: 0, argsz: 20, fds: [] }, { tid: 12, overlap: 4 });
    const group = [ev({ kind: 'open' }), ...intx, disintx, teardown];
    expect(replay('linux-6.6.23', group)[3]).toBe('may: kernel BUG at vfio_pci_intx_mask -> thread killed | ok ret=2 [config.command.disintx-freed-intx-ctx-bug|config.command.mse-set]');
    // The BUG is interleaving 1: the write, then the teardown between is_intx() and the mask.
    expect(replay('linux-6.6.23', group, 1)[3]).toBe('kernel BUG at vfio_pci_intx_mask -> thread killed [config.command.disintx-freed-intx-ctx-bug]');
    expect(replay('linux-6.6.24', group)[3]).toBe('ok ret=2 [config.command.mse-set]');
  });
  it('igate is a lock point: the fixed INTx mask path runs with SET_IRQS excluded (one interleaving fewer)', () => {
    const group = (o: number) => [
      ev({ kind: 'open' }),
      ev({ kind: 'cfg-write', offset: 4, data: new Uint8Array([6, 0]) }),
      ev({ kind: 'ioctl', op: 'set-irqs', flags: 0x24, index: 0, start: 0, count: 1, argsz: 24, fds: [] }),
      ev({ kind: 'cfg-write', offset: 4, data: new Uint8Array([6, 4]) }, { tid: 11, overlap: o }),
      ev({ kind: 'ioctl', op: 'set-irqs', flags: 0x21, index: 0, start: 0, count: 0, argsz: 20, fds: [] }, { tid: 12, overlap: o }),
    ];
    const count = (v: string): number => {
      const r = new Replayer(header(), { kernel: v, vmm: null });
      const st = new RaceStepper(r, null, 't');
      group(5).forEach((e, i) => st.push(i, e));
      st.end();
      return st.stats.explored;
    };
    expect([count('linux-6.6.23'), count('linux-6.6.24')]).toEqual([3, 2]);
  });
  it('the dma-buf revoke is a lock point of its own: an importer map races a zap', () => {
    const exp = [
      ev({ kind: 'open' }),
      ev({ kind: 'cfg-write', offset: 4, data: new Uint8Array([6, 0]) }),
      ev({ kind: 'ioctl', op: 'dma-buf', regionIndex: 0, ranges: [{ offset: 0n, length: 0x1000n }], openFlags: 2, dmaBufFlags: 0, flags: 0x1000b }),
      ev({ kind: 'dmabuf', dmabuf: 0, op: 'attach' }),
    ];
    const map = ev({ kind: 'dmabuf', dmabuf: 0, op: 'map' }, { tid: 11, overlap: 6 });
    const zap = ev({ kind: 'cfg-write', offset: 4, data: new Uint8Array([0, 0]) }, { tid: 12, overlap: 6 });
    const out = replay('linux-6.19', [...exp, map, zap]);
    expect(out[4]).toBe('may: -ENODEV | ok ret=0 [dmabuf.map.revoked-enodev|dmabuf.map.ok]');
  });
  it('--interleaving K beyond the explored ones is a user error naming the event', () => {
    expect(() => replay('linux-5.10', [...setup, ...twoFaults], 99)).toThrow(/interleaving 99: the race group at event #3/);
  });
});
