// INTx catalog bugs of the 2024 INTx/eventfd series (src/model/kernel/intrs.ts): one test per rule,
// named after it, on the last affected and the first fixed 6.6.y points.
import { describe, expect, it } from 'vitest';
import type { HostEvent } from '../../../src/trace/types.js';
import { findKernelVersion } from '../../../src/model/versions/kernel.js';
import { cfgw, expectStep, model, ok, run } from './helpers.js';

const intxOn = (fd: number): HostEvent => ({ kind: 'ioctl', op: 'set-irqs', flags: 0x24, index: 0, start: 0, count: 1, argsz: 24, fds: [fd] });
const loopback: HostEvent = { kind: 'ioctl', op: 'set-irqs', flags: 0x21, index: 0, start: 0, count: 1, argsz: 20, fds: [] };

function intxWithoutTrigger(version: string) {
  const m = model(version);
  run(m, { kind: 'open' });
  run(m, cfgw(0x04, 0x0006));
  run(m, intxOn(12));
  expectStep(run(m, intxOn(-1)), ok, 'intrs.set-irqs.intx-trigger-unset');
  return m;
}

describe('intx-null-trigger (18c198c96a81, CVE-2024-26812)', () => {
  it('is in 5.10.214/6.6.23 and fixed in 5.10.215/6.6.24 and mainline', () => {
    expect(['linux-5.10.214', 'linux-5.10.215', 'linux-6.6.23', 'linux-6.6.24', 'linux-6.12'].map((v) => findKernelVersion(v)!.switches.bugIntxNullTrigger)).toEqual([
      true, false, true, false, false,
    ]);
  });
  it('intrs.set-irqs.intx-trigger-unset', () => {
    const m = intxWithoutTrigger('linux-6.6.24');
    // INTx stays the IRQ type: a second enable of another type is refused, a disable works.
    expectStep(run(m, { kind: 'ioctl', op: 'set-irqs', flags: 0x24, index: 1, start: 0, count: 1, argsz: 24, fds: [] }), { kind: 'errno', errno: 'EINVAL' }, 'intrs.set-irqs.other-type-active');
  });
  it('intrs.set-irqs.intx-loopback-null-trigger-bug', () =>
    expectStep(run(intxWithoutTrigger('linux-6.6.23'), loopback), { kind: 'kernel-failure', failure: 'bug', where: 'eventfd_signal', consequence: 'thread-killed' }, 'intrs.set-irqs.intx-loopback-null-trigger-bug'));
  it('intrs.set-irqs.intx-loopback-no-trigger', () => expectStep(run(intxWithoutTrigger('linux-6.6.24'), loopback), ok, 'intrs.set-irqs.intx-loopback-no-trigger'));
  it('a loopback with the trigger set, or while INTx is virtually disabled, signals nothing bad', () => {
    const m = model('linux-6.6.23');
    run(m, { kind: 'open' });
    run(m, intxOn(12));
    expectStep(run(m, loopback), ok, 'intrs.set-irqs.loopback-trigger');
    run(m, intxOn(-1));
    run(m, cfgw(0x04, 0x0406)); // DisINTx: virq_disabled, vfio_send_intx_eventfd returns early
    expectStep(run(m, loopback), ok, 'intrs.set-irqs.loopback-trigger');
  });
  it('an unrecorded fd array is a real eventfd (the VMMs and the lab pass one)', () => {
    const m = model('linux-6.6.23');
    run(m, { kind: 'open' });
    expectStep(run(m, { ...intxOn(0), fds: [] } as HostEvent), ok, 'intrs.set-irqs.intx-enable');
    expectStep(run(m, loopback), ok, 'intrs.set-irqs.loopback-trigger');
  });
});
