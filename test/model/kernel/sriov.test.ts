// SR-IOV rules (src/model/kernel/sriov.ts and the VF parts of config.ts / context.ts): one test per
// rule id, on an e1000e-like snapshot turned into a PF (an SR-IOV block) or a VF (a VF block).
import { describe, expect, it } from 'vitest';
import type { HostEvent, SriovCap } from '../../../src/trace/types.js';
import { emptySriovCap } from '../../../src/trace/types.js';
import { e1000eSnapshot, type E1000eOverrides } from '../../../src/model/devices/e1000e.js';
import { VfioPciKernelModel } from '../../../src/model/kernel/index.js';
import { leValue } from '../../../src/model/pci/config-image.js';
import { cfgr, cfgw, err, expectStep, ok, run } from './helpers.js';

const TOKEN = '2b9e2d50-52a5-4a53-8a8a-3f29b0c1a001';
const OTHER = '2b9e2d50-52a5-4a53-8a8a-3f29b0c1a002';
const ZERO = '00000000-0000-0000-0000-000000000000';

function cap(c: Partial<SriovCap> = {}): SriovCap {
  return {
    ...emptySriovCap(),
    capOffset: 0x160,
    totalVfs: 7,
    firstVfOffset: 0x80,
    vfStride: 2,
    vfDeviceId: 0x10ca,
    vfBars: [
      { index: 0, size: 0x4000n, is64: true, prefetchable: true, base: 0xfe000000n },
      { index: 3, size: 0x4000n, is64: true, prefetchable: true, base: 0xfe100000n },
    ],
    driver: 'vfio-pci',
    enableSriov: true,
    ...c,
  };
}

/** A VF: its config reads 0xffff ids, BARs 0, a bogus INTx pin, no COMMAND.MEM. */
function vfSnapshot(pf: Partial<SriovCap> = {}, more: E1000eOverrides = {}) {
  const base = e1000eSnapshot();
  const c = new Uint8Array(base.config);
  c.set([0xff, 0xff, 0xff, 0xff], 0);
  for (let i = 0x10; i < 0x28; i++) c[i] = 0;
  c[0x3d] = 1;
  return e1000eSnapshot({
    bdf: '0000:01:10.2',
    deviceId: 0x10ca,
    config: c,
    bars: [
      { index: 0, size: 0x4000n, kind: 'mem', is64: true, prefetchable: true },
      { index: 3, size: 0x4000n, kind: 'mem', is64: true, prefetchable: true },
    ],
    romSize: 0n,
    resetMethods: ['flr'],
    sriovVf: { pfBdf: '0000:01:00.0', vfIndex: 1, pf: cap(pf) },
    ...more,
  });
}

/** A VF whose PF's user set the all-zero token (as the lab does). */
function vf(pf: Partial<SriovCap> = {}, version = 'linux-6.12'): VfioPciKernelModel {
  return new VfioPciKernelModel(vfSnapshot({ vfToken: ZERO, ...pf }), version);
}

function pf(c: Partial<SriovCap> = {}, version = 'linux-6.12'): VfioPciKernelModel {
  return new VfioPciKernelModel(e1000eSnapshot({ sriov: cap(c) }), version);
}

const read = (m: VfioPciKernelModel, off: number, len: number): bigint => {
  const s = run(m, cfgr(off, len));
  if (s.outcome.kind !== 'ok' || s.outcome.data === undefined) throw new Error(`read failed: ${s.rule}`);
  return leValue(s.outcome.data);
};

describe('VF token on open (vfio_pci_core_match / vfio_pci_validate_vf_token)', () => {
  it('open.vf-token.vf-needs-token', () => {
    expectStep(run(vf(), { kind: 'open' }), err('EACCES'), 'open.vf-token.vf-needs-token');
  });
  it('open.vf-token.vf-wrong-token', () => {
    expectStep(run(vf({ vfToken: TOKEN }), { kind: 'open', vfToken: OTHER }), err('EACCES'), 'open.vf-token.vf-wrong-token');
  });
  it('open.vf-token.vf-match', () => {
    // A freshly bound PF has a random token: nothing matches until its user sets one.
    expectStep(run(vf({ vfToken: '' }), { kind: 'open', vfToken: ZERO }), err('EACCES'), 'open.vf-token.vf-wrong-token');
    expectStep(run(vf({ vfToken: ZERO }), { kind: 'open', vfToken: ZERO }), ok, 'open.vf-token.vf-match');
    const m = vf({ vfToken: TOKEN });
    expectStep(run(m, { kind: 'open', vfToken: TOKEN.toUpperCase() }), ok, 'open.vf-token.vf-match');
    expect(m.view.isOpen).toBe(true);
  });
  it('open.vf-token.vf-pf-not-vfio-einval', () => {
    expectStep(run(vf({ driver: 'igb' }), { kind: 'open', vfToken: TOKEN }), err('EINVAL'), 'open.vf-token.vf-pf-not-vfio-einval');
    // Without a token, a VF of a PF with another driver opens as usual.
    expectStep(run(vf({ driver: 'igb' }), { kind: 'open' }), ok, 'core.open.enable');
  });
  it('open.vf-token.not-sriov-einval', () => {
    const m = new VfioPciKernelModel(e1000eSnapshot(), 'linux-6.12');
    expectStep(run(m, { kind: 'open', vfToken: TOKEN }), err('EINVAL'), 'open.vf-token.not-sriov-einval');
    expect(m.view.isOpen).toBe(false);
  });
  it('open.vf-token.pf-users-need-token', () => {
    expectStep(run(pf({ vfUsers: 1 }), { kind: 'open' }), err('EACCES'), 'open.vf-token.pf-users-need-token');
  });
  it('open.vf-token.pf-wrong-token', () => {
    expectStep(run(pf({ vfUsers: 1, vfToken: TOKEN }), { kind: 'open', vfToken: OTHER }), err('EACCES'), 'open.vf-token.pf-wrong-token');
  });
  it('open.vf-token.pf-match', () => {
    expectStep(run(pf({ vfUsers: 2, vfToken: TOKEN }), { kind: 'open', vfToken: TOKEN }), ok, 'open.vf-token.pf-match');
  });
  it('open.vf-token.pf-sets-token', () => {
    const m = pf();
    expectStep(run(m, { kind: 'open', vfToken: TOKEN }), ok, 'open.vf-token.pf-sets-token');
    expect(m.k.st.vfToken).toBe(TOKEN);
    // Every open is matched, also a second one of an open device.
    expectStep(run(m, { kind: 'open', vfToken: OTHER }), ok, 'open.vf-token.pf-sets-token');
    expect(m.k.st.vfToken).toBe(OTHER);
  });
});

/** /dev/iommu (fd 5) and the device's cdev opened, as a VMM with the iommufd backend does. */
function cdevOpened(m: VfioPciKernelModel): VfioPciKernelModel {
  run(m, { kind: 'iommufd-open' }, { observed: { ret: 5n } });
  run(m, { kind: 'cdev-open', index: 0 }, { observed: { ret: 6n } });
  return m;
}
const bind = (flags: number, vfToken = '', argsz = 24, iommufd = 5) => ({ kind: 'ioctl', op: 'bind-iommufd', iommufd, flags, argsz, vfToken }) as const;

describe('VF token on VFIO_DEVICE_BIND_IOMMUFD (vfio_df_check_token, 6.17+)', () => {
  it('cdev.bind.vf-token-unchecked', () => {
    // 6.12: the cdev path checks no token, so a VF the group path refuses binds (86624ba3b522 fixed it).
    const m = cdevOpened(vf({ vfToken: TOKEN }));
    expectStep(run(m, bind(0, '', 16)), ok, 'cdev.bind.vf-token-unchecked');
    expect(m.view.isOpen).toBe(true);
    expectStep(run(cdevOpened(pf({ vfUsers: 1, vfToken: TOKEN })), bind(0, '', 16)), ok, 'cdev.bind.vf-token-unchecked');
    // Where the group path needs nothing either, it is the plain bind.
    expectStep(run(cdevOpened(pf()), bind(0, '', 16)), ok, 'cdev.bind.ok');
  });
  it('cdev.bind: a VF without the flag is refused like a GET_DEVICE_FD without vf_token= (6.19)', () => {
    const m = cdevOpened(vf({ vfToken: TOKEN }, 'linux-6.19'));
    expectStep(run(m, bind(0, '', 16)), err('EACCES'), 'open.vf-token.vf-needs-token');
    expect(m.view.isOpen).toBe(false);
    expectStep(run(m, bind(1, OTHER)), err('EACCES'), 'open.vf-token.vf-wrong-token');
    expectStep(run(m, bind(1, TOKEN)), ok, 'open.vf-token.vf-match');
    expect(m.view.isOpen).toBe(true);
    // The token check comes after the twice test: a bound file is -EINVAL whatever it passes.
    expectStep(run(m, bind(1, OTHER)), err('EINVAL'), 'cdev.bind.twice-einval');
  });
  it('cdev.bind: the PF with VF users, and the PF\'s opener setting the token (6.19)', () => {
    expectStep(run(cdevOpened(pf({ vfUsers: 1, vfToken: TOKEN }, 'linux-6.19')), bind(0, '', 16)), err('EACCES'), 'open.vf-token.pf-users-need-token');
    expectStep(run(cdevOpened(pf({ vfUsers: 1, vfToken: TOKEN }, 'linux-6.19')), bind(1, TOKEN)), ok, 'open.vf-token.pf-match');
    const m = cdevOpened(pf({}, 'linux-6.19'));
    expectStep(run(m, bind(1, TOKEN)), ok, 'open.vf-token.pf-sets-token');
    expect(m.k.st.vfToken).toBe(TOKEN);
    // A token on a function that is neither PF nor VF: -EINVAL, as on the group path.
    const plain = cdevOpened(new VfioPciKernelModel(e1000eSnapshot(), 'linux-6.19'));
    expectStep(run(plain, bind(1, TOKEN)), err('EINVAL'), 'open.vf-token.not-sriov-einval');
    expectStep(run(plain, bind(0, '', 16)), ok, 'cdev.bind.ok');
  });
  it('cdev.bind: the token is checked before the iommufd fd (a PF\'s token is set even when BIND then fails -EBADF)', () => {
    const m = cdevOpened(pf({}, 'linux-6.19'));
    expectStep(run(m, bind(1, TOKEN, 24, 9)), err('EBADF'), 'cdev.bind.not-an-iommufd-ebadf');
    expect(m.k.st.vfToken).toBe(TOKEN);
  });
  it('cdev.bind.token-null-efault', () => {
    // argsz 16 stops before token_uuid_ptr: copy_struct_from_user zero-fills it, copy_from_user(NULL) faults.
    expectStep(run(cdevOpened(vf({ vfToken: TOKEN }, 'linux-6.19')), bind(1, TOKEN, 16)), err('EFAULT'), 'cdev.bind.token-null-efault');
  });
  it('cdev.bind.token-unrecorded-unsupported', () => {
    expectStep(run(cdevOpened(vf({ vfToken: TOKEN }, 'linux-6.19')), bind(1, '')), { kind: 'unsupported' }, 'cdev.bind.token-unrecorded-unsupported');
  });
});

const tokenBytes = (t: string) => Uint8Array.from(t.replace(/-/g, '').match(/../g)!.map((h) => parseInt(h, 16)));
const feature = (flags: number, payload: Uint8Array) => ({ kind: 'ioctl', op: 'feature', flags, feature: flags & 0xffff, payload }) as const;

describe('VFIO_DEVICE_FEATURE_PCI_VF_TOKEN', () => {
  it('sriov.feature.vf-token-set', () => {
    const m = pf();
    run(m, { kind: 'open' });
    expectStep(run(m, feature(0x20000, tokenBytes(TOKEN))), ok, 'sriov.feature.vf-token-set');
    expect(m.k.st.vfToken).toBe(TOKEN);
  });
  it('sriov.feature.vf-token-not-pf', () => {
    const m = vf();
    run(m, { kind: 'open', vfToken: ZERO });
    expectStep(run(m, feature(0x20000, tokenBytes(TOKEN))), err('ENOTTY'), 'sriov.feature.vf-token-not-pf');
  });
  it('sriov.feature.vf-token-get-einval', () => {
    const m = pf();
    run(m, { kind: 'open' });
    expectStep(run(m, feature(0x10000, new Uint8Array(16))), err('EINVAL'), 'sriov.feature.vf-token-get-einval');
    expectStep(run(m, feature(0, new Uint8Array(16))), err('EINVAL'), 'sriov.feature.vf-token-get-einval');
  });
  it('sriov.feature.vf-token-probe', () => {
    const m = pf();
    run(m, { kind: 'open' });
    expectStep(run(m, feature(0x60000, new Uint8Array(0))), ok, 'sriov.feature.vf-token-probe');
  });
  it('sriov.feature.vf-token-short', () => {
    const m = pf();
    run(m, { kind: 'open' });
    expectStep(run(m, feature(0x20000, new Uint8Array(15))), err('EINVAL'), 'sriov.feature.vf-token-short');
    expect(m.k.st.vfToken).toBe('');
  });
});

/** A write to the PF's sysfs sriov_numvfs (the `sysfs` event; Packet 52's old form decodes to it). */
const numvfs = (n: number | string): HostEvent => ({ kind: 'sysfs', path: 'sriov_numvfs', write: String(n) });

describe('sriov_numvfs on the PF', () => {
  it('sriov.numvfs.enable', () => {
    const m = pf();
    expectStep(run(m, numvfs(2)), ok, 'sriov.numvfs.enable');
    expect(m.k.st.numVfs).toBe(2);
  });
  it('sriov.numvfs.already-enabled', () => {
    const m = pf({ numVfs: 2 });
    expectStep(run(m, numvfs(3)), err('EBUSY'), 'sriov.numvfs.already-enabled');
  });
  it('sriov.numvfs.unchanged', () => {
    expectStep(run(pf({ numVfs: 2 }), numvfs(2)), ok, 'sriov.numvfs.unchanged');
  });
  it('sriov.numvfs.disable', () => {
    const m = pf({ numVfs: 2 });
    expectStep(run(m, numvfs(0)), ok, 'sriov.numvfs.disable');
    expect(m.k.st.numVfs).toBe(0);
  });
  it('sriov.numvfs.over-total', () => {
    expectStep(run(pf(), numvfs(8)), err('ERANGE'), 'sriov.numvfs.over-total');
  });
  it('sysfs.sriov-numvfs.read', () => {
    expectStep(run(pf({ numVfs: 2 }), { kind: 'sysfs', path: 'sriov_numvfs' }), { kind: 'ok', text: '2' }, 'sysfs.sriov-numvfs.read');
  });
  it('sysfs.sriov-numvfs.invalid-einval', () => {
    expectStep(run(pf(), numvfs('two')), err('EINVAL'), 'sysfs.sriov-numvfs.invalid-einval');
    expectStep(run(pf(), numvfs('-1')), err('EINVAL'), 'sysfs.sriov-numvfs.invalid-einval');
  });
  it('sysfs.sriov-numvfs.too-big-erange', () => {
    expectStep(run(pf(), numvfs('65536')), err('ERANGE'), 'sysfs.sriov-numvfs.too-big-erange');
  });
  it('kstrtou16 base 0: hex, octal and a trailing newline are numbers', () => {
    const m = pf();
    expectStep(run(m, numvfs('0x2\n')), ok, 'sriov.numvfs.enable');
    expect(m.k.st.numVfs).toBe(2);
    expectStep(run(m, numvfs('0')), ok, 'sriov.numvfs.disable');
    expectStep(run(m, numvfs('03')), ok, 'sriov.numvfs.enable');
    expect(m.k.st.numVfs).toBe(3);
  });
  it('sriov.numvfs.not-pf', () => {
    const m = new VfioPciKernelModel(e1000eSnapshot(), 'linux-6.12');
    expectStep(run(m, numvfs(1)), err('ENOENT'), 'sriov.numvfs.not-pf');
    expectStep(run(m, { kind: 'sysfs', path: 'sriov_numvfs' }), err('ENOENT'), 'sriov.numvfs.not-pf'); // no such file to read either
  });
  it('sriov.numvfs.no-driver', () => {
    expectStep(run(pf({ driver: '' }), numvfs(1)), err('ENOENT'), 'sriov.numvfs.no-driver');
  });
  it('sriov.numvfs.other-driver', () => {
    expect(run(pf({ driver: 'igb' }), numvfs(1)).rule).toBe('sriov.numvfs.other-driver');
  });
  it('sriov.numvfs.enable-sriov-off', () => {
    expectStep(run(pf({ enableSriov: false }), numvfs(1)), err('ENOENT'), 'sriov.numvfs.enable-sriov-off');
  });
  it('sriov.numvfs.enable-pf-to-d0', () => {
    const m = pf();
    run(m, { kind: 'open' });
    run(m, cfgw(0xc8 + 4, 0x0003)); // e1000e PM cap at 0xc8: PMCSR -> D3hot
    expect(m.view.powerState).toBe('D3hot');
    expectStep(run(m, numvfs(1)), ok, 'sriov.numvfs.enable-pf-to-d0');
    expect(m.view.powerState).toBe('D0');
    // Before 5.19 the PF stays where the user put it.
    const old = pf({}, 'linux-5.14');
    run(old, { kind: 'open' });
    run(old, cfgw(0xc8 + 4, 0x0003));
    expectStep(run(old, numvfs(1)), ok, 'sriov.numvfs.enable');
    expect(old.view.powerState).toBe('D3hot');
  });
  it('sriov.pf.low-power-busy', () => {
    const m = pf({ numVfs: 1 });
    run(m, { kind: 'open' });
    expectStep(run(m, cfgw(0xc8 + 4, 0x0003)), ok, 'sriov.pf.low-power-busy');
    expect(m.view.powerState).toBe('D0');
    // Without VFs the same write reaches D3hot.
    const n = pf();
    run(n, { kind: 'open' });
    expect(run(n, cfgw(0xc8 + 4, 0x0003)).rule).toBe('config.pm.d3hot-zaps');
  });
});

describe('config space of a VF (vfio_config_init, vfio_bar_fixup)', () => {
  it('config.vf.ids-and-pin-virtualized', () => {
    const m = vf();
    run(m, { kind: 'open', vfToken: ZERO });
    const s = run(m, cfgr(0, 4));
    expect(s.rule).toBe('config.vf.ids-and-pin-virtualized');
    expect(read(m, 0, 4)).toBe(0x10ca8086n);
    expect(read(m, 0x3d, 1)).toBe(0n);
  });
  it('config.vf.command-mem-emulated', () => {
    const m = vf();
    run(m, { kind: 'open', vfToken: ZERO });
    const s = run(m, cfgr(4, 2));
    expect(s.rule).toBe('config.vf.command-mem-emulated');
    expect(read(m, 4, 2) & 0x2n).toBe(0x2n); // set in vconfig at open although the VF has no MEM bit
    run(m, cfgw(4, 0x0000));
    expect(read(m, 4, 2) & 0x2n).toBe(0n); // the user's write is what reads back
    expect(m.view.memoryEnabled).toBe(true); // memory stays enabled: nothing blocks VF MMIO
  });
  it('config.vf.bar-from-pf-sriov', () => {
    const m = vf();
    run(m, { kind: 'open', vfToken: ZERO });
    const s = run(m, cfgr(0x10, 4));
    expect(s.rule).toBe('config.vf.bar-from-pf-sriov');
    // The VF's registers read 0; vfio-pci sizes from the VF resource (PF VF BAR 0 + 1 * 0x4000).
    expect(read(m, 0x10, 4)).toBe(0xcn); // 64-bit prefetchable, address bits from the (zero) register
    run(m, cfgw(0x10, 0xffffffff, 4));
    expect(read(m, 0x10, 4)).toBe(0xffffc00cn);
    expect(m.k.g.bars[0]!.start).toBe(0xfe004000n);
    expect(m.k.st.barMmapSupported[0]).toBe(true);
  });
});

describe('a VF on its PF\'s bus: hot reset', () => {
  // The VF is alone in no bus: its reset_method has no "bus", but vfio probes the PF's bus.
  const opened = () => {
    const m = vf({ numVfs: 1 });
    run(m, { kind: 'open', vfToken: ZERO });
    return m;
  };
  it('core.hot-reset-info.vf-siblings-unknown', () => {
    const m = opened();
    // PF + 1 VF: 12 + 2 * 8 bytes are needed.
    expectStep(run(m, { kind: 'ioctl', op: 'get-hot-reset-info', argsz: 20 }), err('ENOSPC'), 'core.hot-reset-info.enospc');
    expect(run(m, { kind: 'ioctl', op: 'get-hot-reset-info', argsz: 28 }).rule).toBe('core.hot-reset-info.vf-siblings-unknown');
    // On the root bus there is no bridge to reset.
    const root = new VfioPciKernelModel(vfSnapshot({ vfToken: ZERO }, { bdf: '0000:00:10.0' }), 'linux-6.12');
    run(root, { kind: 'open', vfToken: ZERO });
    expectStep(run(root, { kind: 'ioctl', op: 'get-hot-reset-info', argsz: 28 }), err('ENODEV'), 'core.hot-reset-info.no-bus-reset');
  });
  it('core.hot-reset.vf-set-groups-missing-einval', () => {
    expectStep(run(opened(), { kind: 'ioctl', op: 'hot-reset', flags: 0, groupFds: [5] }), err('EINVAL'), 'core.hot-reset.vf-set-groups-missing-einval');
  });
  it('core.hot-reset.vf-siblings-unknown', () => {
    expect(run(opened(), { kind: 'ioctl', op: 'hot-reset', flags: 0, groupFds: [5, 6] }).rule).toBe('core.hot-reset.vf-siblings-unknown');
  });
  it('an ARI or SR-IOV extended capability stays in the chain (pci_ext_cap_length)', () => {
    const m = opened();
    // AER at 0x100 points at ARI at 0x150 (the igb VF's layout): the next pointer reads through.
    const big = new Uint8Array(vfSnapshot().config);
    expect(big.length).toBe(4096);
    big.set([0x01, 0x00, 0x01, 0x15], 0x100);
    big.set([0x0e, 0x00, 0x01, 0x00], 0x150);
    const n = new VfioPciKernelModel(vfSnapshot({ vfToken: ZERO }, { config: big }), 'linux-6.12');
    run(n, { kind: 'open', vfToken: ZERO });
    expect(read(n, 0x100, 4)).toBe(0x15010001n);
    expect(read(n, 0x150, 4)).toBe(0x0001000en);
    expect(m.view.isOpen).toBe(true);
  });
});

describe('SR-IOV version switch', () => {
  it('sriovPfPowerGuard starts with 5.19 and carries its source', async () => {
    const { findKernelVersion } = await import('../../../src/model/versions/kernel.js');
    expect(findKernelVersion('linux-5.14')!.switches.sriovPfPowerGuard).toBe(false);
    expect(findKernelVersion('linux-5.19')!.switches.sriovPfPowerGuard).toBe(true);
    expect(findKernelVersion('linux-7.2')!.switches.sriovPfPowerGuard).toBe(true);
    expect(findKernelVersion('linux-5.19')!.sources.sriovPfPowerGuard?.ref).toContain('Change the PF power state to D0 before enabling VFs');
  });
});
