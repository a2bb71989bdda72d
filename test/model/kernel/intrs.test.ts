// One test per vfio_pci_intrs.c rule (GET_IRQ_INFO, SET_IRQS validation and dispatch), named after the rule id.
import { describe, expect, it } from 'vitest';
import type { HostEvent } from '../../../src/trace/types.js';
import { err, expectStep, model, run, withConfig } from './helpers.js';

const NONE = 0x1, BOOL = 0x2, EVENTFD = 0x4, MASK = 0x8, UNMASK = 0x10, TRIGGER = 0x20;
const INTX = 0, MSI = 1, MSIX = 2, ERR = 3, REQ = 4;

function opened(dev = {}) {
  const m = model('linux-7.2', dev);
  run(m, { kind: 'open' });
  return m;
}
const info = (index: number, argsz = 16): HostEvent => ({ kind: 'ioctl', op: 'get-irq-info', index, argsz });
const set = (flags: number, index: number, start: number, count: number, argsz?: number): HostEvent => ({
  kind: 'ioctl',
  op: 'set-irqs',
  flags,
  index,
  start,
  count,
  argsz: argsz ?? 20 + count * (flags & EVENTFD ? 4 : flags & BOOL ? 1 : 0),
  fds: [],
});
const count = (s: { outcome: unknown }) => {
  const d = (s.outcome as { data: Uint8Array }).data;
  return [d[4]! | (d[5]! << 8), d[12]!];
};

describe('GET_IRQ_INFO', () => {
  it('intrs.irq-info.ok', () => {
    const m = opened();
    expectStep(run(m, info(MSIX)), { kind: 'ok', ret: 0n }, 'intrs.irq-info.ok');
    // 7.2 has dynamic MSI-X: the MSI-X index is not NORESIZE [L info-edges #26].
    expect([INTX, MSI, MSIX, ERR, REQ].map((i) => count(run(m, info(i))))).toEqual([
      [0x7, 1],
      [0x9, 1],
      [0x1, 5],
      [0x9, 1],
      [0x9, 1],
    ]);
  });

  it('intrs.irq-info.ok: MSI-X is NORESIZE only without dynamic MSI-X (6.1 yes, 6.12 no) [L info-edges #26]', () => {
    const msixFlags = (v: string): number => {
      const m = model(v);
      run(m, { kind: 'open' });
      return count(run(m, info(MSIX)))[0]!;
    };
    expect([msixFlags('linux-6.1'), msixFlags('linux-6.12')]).toEqual([0x9, 0x1]);
  });
  it('intrs.irq-info.ok: a function without MSI-X keeps NORESIZE on MSI-X info under dynamic MSI-X (7.2)', () => {
    const m = opened(withConfig((c) => c.setU8(0xe1, 0x00))); // PCIe cap's next: MSI-X off the chain
    expect(count(run(m, info(MSIX)))).toEqual([0x9, 0]);
  });
  it('intrs.irq-info.einval', () => {
    expectStep(run(opened(), info(5)), err('EINVAL'), 'intrs.irq-info.einval');
    expectStep(run(opened(), info(0, 8)), err('EINVAL'), 'intrs.irq-info.einval');
  });
  it('intrs.irq-info.err-not-pcie', () => {
    const m = opened(withConfig((c) => c.setU8(0xd1, 0xa0))); // MSI -> MSI-X: the PCIe cap is off the chain
    expectStep(run(m, info(ERR)), err('EINVAL'), 'intrs.irq-info.err-not-pcie');
  });
});

describe('SET_IRQS', () => {
  it('intrs.set-irqs.bad-header', () => {
    expectStep(run(opened(), set(TRIGGER | NONE, MSIX, 0, 1, 12)), err('EINVAL'), 'intrs.set-irqs.bad-header');
    expectStep(run(opened(), set(0x40 | TRIGGER | NONE, MSIX, 0, 1)), err('EINVAL'), 'intrs.set-irqs.bad-header');
  });
  it('intrs.set-irqs.out-of-range', () => {
    expectStep(run(opened(), set(TRIGGER | EVENTFD, MSIX, 4, 2)), err('EINVAL'), 'intrs.set-irqs.out-of-range');
    // INTx count is 0 when INT_PIN is 0: any INTx SET_IRQS is -EINVAL
    expectStep(run(opened(withConfig((c) => c.setU8(0x3d, 0))), set(TRIGGER | EVENTFD, INTX, 0, 1)), err('EINVAL'), 'intrs.set-irqs.out-of-range');
  });
  it('intrs.set-irqs.bad-data-type', () => expectStep(run(opened(), set(TRIGGER | NONE | BOOL, MSIX, 0, 1)), err('EINVAL'), 'intrs.set-irqs.bad-data-type'));
  it('intrs.set-irqs.short-data', () => expectStep(run(opened(), set(TRIGGER | EVENTFD, MSIX, 0, 2, 24)), err('EINVAL'), 'intrs.set-irqs.short-data'));
  it('intrs.set-irqs.msi-mask-enotty', () => expectStep(run(opened(), set(MASK | NONE, MSIX, 0, 1)), err('ENOTTY'), 'intrs.set-irqs.msi-mask-enotty'));
  it('intrs.set-irqs.msi-enable-forces-mse', () => {
    const m = opened();
    expectStep(run(m, set(TRIGGER | EVENTFD, MSIX, 0, 2)), { kind: 'ok', ret: 0n }, 'intrs.set-irqs.msi-enable-forces-mse', [{ kind: 'device-access', what: 'msix-enable' }]);
  });
  it('intrs.set-irqs.msi-enable-not-d0', () => {
    // Found by the random lab campaign (traces/lab/found/*/msi-enable-not-d0): in D3hot by a user
    // PMCSR write, MSI and MSI-X enable fail -EINVAL and nothing is enabled; back in D0 they work.
    for (const index of [MSI, MSIX]) {
      const m = opened();
      run(m, { kind: 'cfg-write', offset: 0xcc, data: Uint8Array.from([3, 0]) });
      expectStep(run(m, set(TRIGGER | EVENTFD, index, 0, 1)), err('EINVAL'), 'intrs.set-irqs.msi-enable-not-d0');
      expectStep(run(m, set(TRIGGER | NONE, index, 0, 0)), err('EINVAL'), 'intrs.set-irqs.trigger-inactive');
      run(m, { kind: 'cfg-write', offset: 0xcc, data: Uint8Array.from([0, 0]) });
      expectStep(run(m, set(TRIGGER | EVENTFD, index, 0, 1)), { kind: 'ok', ret: 0n }, 'intrs.set-irqs.msi-enable-forces-mse', [{ kind: 'device-access', what: `${index === MSI ? 'msi' : 'msix'}-enable` }]);
    }
  });
  it('intrs.set-irqs.msi-set-eventfds', () => {
    const m = opened();
    run(m, set(TRIGGER | EVENTFD, MSIX, 0, 2));
    expectStep(run(m, set(TRIGGER | EVENTFD, MSIX, 1, 1)), { kind: 'ok' }, 'intrs.set-irqs.msi-set-eventfds');
  });
  it('intrs.set-irqs.msi-set-block-past-enabled', () => {
    // Found by the random lab campaign on 6.1 (traces/lab/found/6.1/msix-set-block-past-vectors):
    // before dynamic MSI-X (6.5) vfio_msi_set_block() refuses vectors past those enabled, for
    // eventfds and for the DATA_NONE loopback alike; MSI refuses them on every release.
    function enabled(version: string, index: number) {
      // MSI with 4 vectors (MMC = 2): room past the one enabled.
      const m = model(version, withConfig((c) => c.setU16(0xd2, c.u16(0xd2) | 0x4)));
      run(m, { kind: 'open' });
      run(m, set(TRIGGER | EVENTFD, index, 0, 1));
      return m;
    }
    expectStep(run(enabled('linux-6.1', MSIX), set(TRIGGER | EVENTFD, MSIX, 0, 2)), err('EINVAL'), 'intrs.set-irqs.msi-set-block-past-enabled');
    expectStep(run(enabled('linux-6.1', MSIX), set(TRIGGER | NONE, MSIX, 1, 1)), err('EINVAL'), 'intrs.set-irqs.msi-set-block-past-enabled');
    expectStep(run(enabled('linux-6.1', MSIX), set(TRIGGER | EVENTFD, MSIX, 0, 1)), { kind: 'ok' }, 'intrs.set-irqs.msi-set-eventfds');
    expectStep(run(enabled('linux-7.2', MSI), set(TRIGGER | EVENTFD, MSI, 0, 2)), err('EINVAL'), 'intrs.set-irqs.msi-set-block-past-enabled');
    expectStep(run(enabled('linux-6.6', MSIX), set(TRIGGER | NONE, MSIX, 1, 1)), { kind: 'ok' }, 'intrs.set-irqs.loopback-trigger');
  });
  it('intrs.set-irqs.msix-dynamic-grow', () => {
    // 6.5+ (modeled from 6.6): vfio_msi_alloc_irq() allocates the missing MSI-X vector; it stays allocated after.
    for (const v of ['linux-6.6', 'linux-6.12', 'linux-7.2']) {
      const m = model(v);
      run(m, { kind: 'open' });
      run(m, set(TRIGGER | EVENTFD, MSIX, 0, 1));
      expectStep(run(m, set(TRIGGER | EVENTFD, MSIX, 0, 3)), { kind: 'ok' }, 'intrs.set-irqs.msix-dynamic-grow');
      expectStep(run(m, set(TRIGGER | EVENTFD, MSIX, 2, 1)), { kind: 'ok' }, 'intrs.set-irqs.msi-set-eventfds');
    }
  });
  it('intrs.set-irqs.msi-disable', () => {
    const m = opened();
    run(m, set(TRIGGER | EVENTFD, MSIX, 0, 2));
    expectStep(run(m, set(TRIGGER | NONE, MSIX, 0, 0)), { kind: 'ok' }, 'intrs.set-irqs.msi-disable');
  });
  it('intrs.set-irqs.other-type-active', () => {
    const m = opened();
    run(m, set(TRIGGER | EVENTFD, MSIX, 0, 2));
    expectStep(run(m, set(TRIGGER | EVENTFD, MSI, 0, 1)), err('EINVAL'), 'intrs.set-irqs.other-type-active');
  });
  it('intrs.set-irqs.trigger-inactive', () => expectStep(run(opened(), set(TRIGGER | NONE, MSIX, 0, 1)), err('EINVAL'), 'intrs.set-irqs.trigger-inactive'));
  it('intrs.set-irqs.loopback-trigger', () => {
    const m = opened();
    run(m, set(TRIGGER | EVENTFD, MSIX, 0, 2));
    expectStep(run(m, set(TRIGGER | NONE, MSIX, 1, 1)), { kind: 'ok', ret: 0n }, 'intrs.set-irqs.loopback-trigger');
  });
  it('intrs.set-irqs.intx-enable', () => expectStep(run(opened(), set(TRIGGER | EVENTFD, INTX, 0, 1)), { kind: 'ok' }, 'intrs.set-irqs.intx-enable'));
  it('intrs.set-irqs.intx-disable', () => {
    const m = opened();
    run(m, set(TRIGGER | EVENTFD, INTX, 0, 1));
    expectStep(run(m, set(TRIGGER | NONE, INTX, 0, 0)), { kind: 'ok' }, 'intrs.set-irqs.intx-disable');
  });
  it('intrs.set-irqs.intx-einval', () => {
    const m = opened();
    run(m, set(TRIGGER | EVENTFD, MSIX, 0, 1));
    expectStep(run(m, set(TRIGGER | EVENTFD, INTX, 0, 1)), err('EINVAL'), 'intrs.set-irqs.intx-einval');
    expectStep(run(opened(), set(MASK | NONE, INTX, 0, 1)), err('EINVAL'), 'intrs.set-irqs.intx-einval');
  });
  it('intrs.set-irqs.intx-mask', () => {
    const m = opened();
    run(m, set(TRIGGER | EVENTFD, INTX, 0, 1));
    expectStep(run(m, set(MASK | NONE, INTX, 0, 1)), { kind: 'ok' }, 'intrs.set-irqs.intx-mask');
  });
  it('intrs.set-irqs.intx-unmask', () => {
    const m = opened();
    run(m, set(TRIGGER | EVENTFD, INTX, 0, 1));
    expectStep(run(m, set(UNMASK | NONE, INTX, 0, 1)), { kind: 'ok' }, 'intrs.set-irqs.intx-unmask');
  });
  it('intrs.set-irqs.bad-action', () => {
    expectStep(run(opened(), set(NONE, INTX, 0, 1)), err('ENOTTY'), 'intrs.set-irqs.bad-action');
    expectStep(run(opened(), set(MASK | NONE, REQ, 0, 1)), err('ENOTTY'), 'intrs.set-irqs.bad-action');
  });
  it('intrs.set-irqs.err-trigger', () => expectStep(run(opened(), set(TRIGGER | EVENTFD, ERR, 0, 1)), { kind: 'ok' }, 'intrs.set-irqs.err-trigger'));
  it('intrs.set-irqs.req-trigger', () => expectStep(run(opened(), set(TRIGGER | EVENTFD, REQ, 0, 1)), { kind: 'ok' }, 'intrs.set-irqs.req-trigger'));
  it('intrs.set-irqs.err-req-einval', () => expectStep(run(opened(), set(TRIGGER | BOOL, REQ, 0, 0)), err('EINVAL'), 'intrs.set-irqs.err-req-einval'));
});
